//! `chargemesh-dev bench gateway`: how many idle chargers one node holds and at what memory, and how many
//! MeterValues per second it acknowledges at what latency, against a bare WebSocket echo server as the
//! ceiling, all on this machine. Prints a report for BENCHMARKS.md.

mod consortium;
mod ledger;
mod pricing;
mod roaming;

pub use consortium::{ConsortiumBench, run as consortium};
pub use ledger::run as ledger;
pub use pricing::run as pricing;
pub use roaming::run as roaming;

use axum::Router;
use axum::routing::get;
use chargemesh_core::charger::Registration;
use chargemesh_operations::passwords;
use chargemesh_sim::load::{Latencies, LoadConnection, source_address};
use chargemesh_store::chargers::{self, NewCharger};
use chargemesh_store::tokens::{self, Token};
use chargemesh_store::{Conn, Store, StoreError, operators};
use futures::{SinkExt, StreamExt};
use jiff::Timestamp;
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;
use yawc::{Frame, IncomingUpgrade, OpCode, Options};

#[derive(Debug, Clone)]
pub struct GatewayBench {
    /// Idle connections to open (capped by the open-file limit).
    pub idle: usize,
    /// Connections that send MeterValues in the throughput phase.
    pub active: usize,
    /// MeterValues per second offered in total.
    pub rate: u64,
    pub duration: Duration,
    /// The node's database: empty for SQLite in the bench's data directory, or a PostgreSQL URL of a
    /// database the bench may fill (it should be empty).
    pub database_url: String,
}

pub async fn gateway(bench: GatewayBench) -> Result<String, String> {
    let fd_limit = open_file_limit();
    let idle = bench.idle.min(fd_limit.saturating_sub(600));
    let active = bench.active.min(idle);
    let mut report = String::new();
    report.push_str(&format!("machine: {}\n", machine()));
    report.push_str(&format!("open-file limit: {fd_limit} (idle connections capped at {idle})\n"));

    let dir = std::env::temp_dir().join(format!("chargemesh-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database_url = match bench.database_url.as_str() {
        "" => format!("sqlite://{}?mode=rwc", dir.join("chargemesh.db").display()),
        url => url.to_owned(),
    };
    // The host part only: a PostgreSQL URL may carry a password.
    let database = if database_url.starts_with("sqlite") {
        "SQLite"
    } else {
        database_url.split('@').next_back().unwrap_or_default()
    };
    report.push_str(&format!("database: {database}\n"));
    provision(&database_url, idle).await?;
    let (api, gateway) = (free_port()?, free_port()?);
    let mut node = spawn(&["node"], &dir, &database_url, api, gateway)?;
    wait_for_port(gateway).await?;
    let pid = node.id().ok_or("node exited")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = resident_kib(pid)?;
    let server: SocketAddr = ([127, 0, 0, 1], gateway).into();

    let started = Instant::now();
    let mut connections = open_connections(server, idle, |i| format!("/ocpp/{}", station(i))).await?;
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let loaded = resident_kib(pid)?;
    let per_connection = (loaded.saturating_sub(baseline)) as f64 * 1024.0 / connections.len() as f64;
    report.push_str(&format!(
        "idle: {} connections opened in {connect_secs:.1} s; node resident memory at rest (no charger connected) {:.1} MiB, with them {:.1} MiB, {:.1} KiB per connection ({:.2} GiB per 100,000)\n",
        connections.len(),
        baseline as f64 / 1024.0,
        loaded as f64 / 1024.0,
        per_connection / 1024.0,
        per_connection * 100_000.0 / (1024.0 * 1024.0 * 1024.0),
    ));

    connections.truncate(active);
    let mut starting = Vec::with_capacity(active);
    for (i, mut connection) in connections.into_iter().enumerate() {
        starting.push(tokio::spawn(async move {
            let start = json!([2, format!("s{i}"), "StartTransaction",
                {"connectorId": 1, "idTag": card(i), "meterStart": 0, "timestamp": Timestamp::now().to_string()}]);
            let (_, answer) = connection.round_trip(start.to_string()).await?;
            let answer: serde_json::Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
            let transaction = answer[2]["transactionId"].as_i64().ok_or(format!("no transaction id in {answer}"))?;
            Ok::<_, String>((connection, Some(transaction)))
        }));
    }
    let mut connections = Vec::with_capacity(active);
    for started in starting {
        connections.push(started.await.map_err(|e| e.to_string())??);
    }
    let (latencies, achieved) = drive(connections, bench.rate, bench.duration).await;
    report.push_str(&line("node", active, bench.rate, achieved, latencies));
    let _ = node.kill().await;

    let echo_port = free_port()?;
    let mut echo =
        spawn(&["bench", "echo", "--listen", &format!("127.0.0.1:{echo_port}")], &dir, &database_url, api, gateway)?;
    wait_for_port(echo_port).await?;
    let echo_server: SocketAddr = ([127, 0, 0, 1], echo_port).into();
    let connections = open_connections(echo_server, active, |i| format!("/ocpp/{}", station(i))).await?;
    let connections = connections.into_iter().map(|c| (c, None)).collect::<Vec<_>>();
    let (latencies, achieved) = drive(connections, bench.rate, bench.duration).await;
    report.push_str(&line("bare echo server", active, bench.rate, achieved, latencies));
    let _ = echo.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

fn line(what: &str, active: usize, offered: u64, achieved: f64, mut latencies: Latencies) -> String {
    format!(
        "{what}: {active} chargers, {offered} MeterValues/s offered, {achieved:.0}/s acknowledged, p50 {:.2} ms, p99 {:.2} ms ({} messages)\n",
        latencies.percentile_ms(50.0),
        latencies.percentile_ms(99.0),
        latencies.count()
    )
}

fn station(i: usize) -> String {
    format!("BENCH-{i:06}")
}

fn card(i: usize) -> String {
    format!("B{i:06}")
}

/// Registers `count` chargers and cards straight in the store, before the node starts.
async fn provision(database_url: &str, count: usize) -> Result<(), String> {
    let store = Store::open(database_url, 1).await.map_err(|e| e.to_string())?;
    let now = Timestamp::now();
    store.write(move |tx| Box::pin(provision_fleet(tx, count, now))).await.map_err(|e| e.to_string())?;
    store.close().await;
    Ok(())
}

async fn provision_fleet(tx: &mut Conn, count: usize, now: Timestamp) -> Result<(), StoreError> {
    let operator = operators::create_operator(&mut *tx, "Bench", now).await?;
    for i in 0..count {
        let new = NewCharger {
            station_id: station(i),
            operator_id: Some(operator.id),
            site_id: None,
            registration: Registration::Accepted,
            auth_key_hash: None,
        };
        chargers::create_charger(&mut *tx, &new, now).await?;
        let token = Token {
            id_token: card(i),
            operator_id: operator.id,
            kind: "card".into(),
            status: chargemesh_core::authorization::TokenStatus::Active,
            expires_at: None,
            parent_id_token: None,
            label: None,
            payment_method: None,
            emsp_party: None,
            driver_id: None,
            created_at: now,
        };
        tokens::upsert_token(&mut *tx, &token).await?;
    }
    Ok(())
}

async fn open_connections(
    server: SocketAddr,
    count: usize,
    path: impl Fn(usize) -> String,
) -> Result<Vec<LoadConnection>, String> {
    let gate = Arc::new(Semaphore::new(256));
    // Each run starts at its own loopback address: the previous run's ports wait in TIME_WAIT.
    let first = (std::process::id() as usize % 200) * 25_000;
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let (gate, path) = (gate.clone(), path(i));
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.expect("open");
            LoadConnection::open(server, &path, source_address(first + i)).await
        }));
    }
    let mut connections = Vec::with_capacity(count);
    for task in tasks {
        connections.push(task.await.map_err(|e| e.to_string())??);
    }
    Ok(connections)
}

/// Each connection sends MeterValues (of its transaction, if it has one) at its share of `rate` for
/// `duration`, one at a time.
async fn drive(connections: Vec<(LoadConnection, Option<i64>)>, rate: u64, duration: Duration) -> (Latencies, f64) {
    let per_connection = rate as f64 / connections.len() as f64;
    let interval = Duration::from_secs_f64(1.0 / per_connection.max(0.001));
    let deadline = tokio::time::Instant::now() + duration;
    let mut tasks = Vec::new();
    for (i, (mut connection, transaction)) in connections.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            // Spread the connections' sending instants over one interval.
            let offset = interval.mul_f64((i % 1000) as f64 / 1000.0);
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n: u64 = 0;
            loop {
                ticks.tick().await;
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
                n += 1;
                let mut payload = json!({"connectorId": 1, "meterValue": [{"timestamp": Timestamp::now().to_string(),
                    "sampledValue": [{"value": (n * 10).to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]});
                if let Some(transaction) = transaction {
                    payload["transactionId"] = json!(transaction);
                }
                let text = json!([2, format!("m{n}"), "MeterValues", payload]).to_string();
                match connection.round_trip(text).await {
                    Ok((latency, _)) => latencies.record(latency),
                    Err(_) => break,
                }
            }
            latencies
        }));
    }
    let mut all = Latencies::default();
    for task in tasks {
        if let Ok(latencies) = task.await {
            all.merge(latencies);
        }
    }
    let achieved = all.count() as f64 / duration.as_secs_f64();
    (all, achieved)
}

/// A WebSocket server that echoes every text message: what the machine can do without a node.
pub async fn echo_server(listen: SocketAddr) -> Result<(), String> {
    let router = Router::new().route(
        "/{*path}",
        get(|upgrade: IncomingUpgrade| async move {
            let options = Options::default().with_read_buffer_capacity(1024).with_write_buffer_capacity(1024);
            let (response, socket) = upgrade.upgrade(options).expect("valid upgrade");
            let mut response = response.map(axum::body::Body::new);
            response.headers_mut().insert("sec-websocket-protocol", axum::http::HeaderValue::from_static("ocpp1.6"));
            tokio::spawn(async move {
                let Ok(mut socket) = socket.await else { return };
                while let Some(frame) = socket.next().await {
                    if frame.opcode() == OpCode::Text && socket.send(Frame::text(frame.into_payload())).await.is_err() {
                        break;
                    }
                }
            });
            response
        }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| e.to_string())?;
    axum::serve(listener, router).await.map_err(|e| e.to_string())
}

fn spawn(args: &[&str], dir: &Path, database_url: &str, api: u16, gateway: u16) -> Result<Child, String> {
    let exe: PathBuf = std::env::current_exe().map_err(|e| e.to_string())?;
    Command::new(exe)
        .args(args)
        .env("CHARGEMESH_DATA_DIR", dir)
        .env("CHARGEMESH_DATABASE_URL", database_url)
        .env("CHARGEMESH_API__LISTEN", format!("127.0.0.1:{api}"))
        .env("CHARGEMESH_GATEWAY__LISTEN", format!("127.0.0.1:{gateway}"))
        .env("CHARGEMESH_API__ADMIN_PASSWORD", passwords::random_secret(""))
        .env("CHARGEMESH_LOG__FILTER", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())
}

async fn wait_for_port(port: u16) -> Result<(), String> {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("nothing listens on port {port}"))
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn resident_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".into())
}

fn open_file_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(1024)
}

pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0)))
        .unwrap_or(0);
    format!("{cores} × {cpu}, {:.0} GiB memory", memory as f64 / 1024.0 / 1024.0)
}

/// `chargemesh-dev bench writer`: the write path alone, without network or load generator: how many
/// MeterValues per second operations records durably, with `chargers` chargers sending at once.
pub async fn writer(chargers: usize, messages_per_charger: u32, database_url: String) -> Result<String, String> {
    use chargemesh_core::charger::{
        ChargerEvent, ChargerReply, MeterReport, MeterSample, TransactionRef, TransactionStart,
    };
    use chargemesh_core::{Energy, IdToken, StationId};
    use chargemesh_gateway::{IncomingMessage, Registry};
    use chargemesh_node::config::Config;
    use chargemesh_operations::{Operations, Settings};

    let dir = std::env::temp_dir().join(format!("chargemesh-bench-writer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database_url = match database_url.as_str() {
        "" => format!("sqlite://{}?mode=rwc", dir.join("chargemesh.db").display()),
        url => url.to_owned(),
    };
    provision(&database_url, chargers).await?;
    let store = Store::open(&database_url, 8).await.map_err(|e| e.to_string())?;
    let config = Config::default();
    let settings = Settings::new(&config.gateway, &config.payments);
    let provider = Arc::new(chargemesh_operations::payments::SandboxProvider::new(store.clone()));
    let operations = Operations::new(store, settings, Arc::new(Registry::default()), provider);
    let message = |id: String, action: &str| IncomingMessage {
        payload_digest: id.clone(),
        message_id: id,
        action: action.to_owned(),
    };
    let mut transactions = Vec::with_capacity(chargers);
    for i in 0..chargers {
        let station = StationId::parse(&station(i)).map_err(|e| e.to_string())?;
        let start = TransactionStart {
            connector: 1,
            id_token: IdToken::parse(&card(i)).map_err(|e| e.to_string())?,
            meter_start: Energy::ZERO,
            at: Timestamp::now(),
            reservation_id: None,
        };
        let reply = operations
            .handle_charger_event(
                station.clone(),
                message(format!("s{i}"), "StartTransaction"),
                ChargerEvent::TransactionStarted(start),
            )
            .await
            .map_err(|e| e.to_string())?;
        let ChargerReply::TransactionStarted { transaction_id, .. } = reply else {
            return Err(format!("unexpected reply {reply:?}"));
        };
        transactions.push((station, transaction_id));
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(chargers);
    for (station, transaction) in transactions {
        let operations = operations.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            for n in 1..=messages_per_charger {
                let sample = MeterSample {
                    at: Timestamp::now(),
                    measurand: "Energy.Active.Import.Register".into(),
                    context: "Sample.Periodic".into(),
                    phase: None,
                    location: "Outlet".into(),
                    unit: "Wh".into(),
                    value: (n * 10).to_string(),
                    signed: false,
                };
                let report = MeterReport {
                    connector: 1,
                    transaction: Some(TransactionRef::Node(transaction)),
                    samples: vec![sample],
                };
                let sent = Instant::now();
                operations
                    .handle_charger_event(
                        station.clone(),
                        message(format!("m{n}"), "MeterValues"),
                        ChargerEvent::MeterValues(report),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                latencies.record(sent.elapsed());
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Latencies::default();
    for task in tasks {
        all.merge(task.await.map_err(|e| e.to_string())??);
    }
    let rate = all.count() as f64 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(format!(
        "machine: {}\nwriter: {chargers} chargers × {messages_per_charger} MeterValues, {rate:.0}/s recorded, p50 {:.2} ms, p99 {:.2} ms\n",
        machine(),
        all.percentile_ms(50.0),
        all.percentile_ms(99.0)
    ))
}
