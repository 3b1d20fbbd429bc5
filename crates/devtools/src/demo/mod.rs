//! `chargemesh-dev demo`: a consortium of four made-up members on this machine. Each member runs a
//! node with its own data directory and validator of the shared ledger, a site at a real Shenzhen
//! station location with two simulated chargers, and three drivers. Drivers of each member charge
//! at the other members' chargers through their own member's API; the chargers replay real charging
//! sessions (Perth & Kinross, time-compressed); CDRs are anchored and checked, drivers charged, and
//! clearing periods (a minute each) close with the net transfers. What happens is printed in plain
//! words. Ctrl-C stops everything cleanly; running the demo again resumes from its data directory.

mod fleet;
mod narrator;

use crate::local_consortium::{self, Addresses, Api, Clearing};
use chargemesh_node::Node;
use narrator::Narrator;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct DemoOptions {
    /// Where the members' data directories are kept (and found again to resume).
    pub dir: PathBuf,
    /// The shared data folder (`sessions/perth`, `stations`); none for the copy built in.
    pub data: Option<PathBuf>,
    /// Member n's API listens on this port + n - 1, its chargers' gateway 100 above, its ledger 200 above.
    pub base_port: u16,
    /// How much faster than real time the replayed sessions run.
    pub speed: u32,
}

const PASSWORD: &str = "chargemesh-demo";
const MEMBERS: usize = 4;
const CHARGERS: usize = 2;
const DRIVERS: usize = 3;
/// How often a driver somewhere starts a charge.
const START_EVERY: Duration = Duration::from_secs(3);

/// A member as the demo drives it.
pub(crate) struct Member {
    pub party: String,
    pub api: Api,
    pub stations: Vec<String>,
    /// The member's drivers by username, each logged in to the driver API.
    pub drivers: Vec<(String, Api)>,
}

pub async fn run(options: DemoOptions) -> Result<(), String> {
    // Listening from the start: a Ctrl-C at any moment stops the demo cleanly once it is running.
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
    let replay = fleet::Replay::read(options.data.as_deref(), options.speed)?;
    let places = shenzhen_stations(options.data.as_deref())?;
    let resumed = options.dir.join("cn-m01").exists();
    let parties = chargemesh_chain::files::numbered_members(MEMBERS)?;
    let base = options.base_port;
    let addresses = |i: usize| {
        let port = |offset: u16| base.checked_add(offset + i as u16).ok_or("--base-port is too high");
        Ok(Addresses {
            api: ([127, 0, 0, 1], port(0)?).into(),
            gateway: ([127, 0, 0, 1], port(100)?).into(),
            p2p: ([127, 0, 0, 1], port(200)?).into(),
        })
    };
    let clearing = Clearing { period_ms: 60_000, dispute_window_ms: 30_000 };
    // Each member's tariff founds the ledger, so that it prices charges that began before it started.
    let tariffs = parties.iter().map(|party| founding_tariff(party)).collect::<Result<_, _>>()?;
    let configs = local_consortium::configs(&options.dir, &parties, addresses, (clearing, tariffs), PASSWORD)?;
    if resumed {
        println!("Resuming the demo consortium in {}.", options.dir.display());
    } else {
        println!(
            "Creating a consortium of {MEMBERS} members in {} (one genesis, a validator each).",
            options.dir.display()
        );
    }
    println!("{}", replay.describe());
    println!("Sites at real Shenzhen station locations (UrbanEV dataset, CC0; GCJ-02 coordinates).");

    let mut nodes = Vec::new();
    for config in &configs {
        let node = Node::start(config).await.map_err(|e| {
            format!("{}'s node: {e} (use --base-port to move the demo's ports)", config.ledger.party_id)
        })?;
        let drivers = driver_names(&config.ledger.party_id).join(", ");
        let at = node.api_addr;
        println!(
            "  {} — console http://{at}/ (admin / {PASSWORD}), driver app http://{at}/app/ ({drivers} / {PASSWORD}, \
             or sign up with any mobile number: its code is printed here), API http://{at}/api/v1",
            config.ledger.party_id
        );
        nodes.push(node);
    }
    let result = drive(&nodes, &configs, &parties, &places, replay, interrupt).await;
    println!("Stopping the members' nodes…");
    for node in nodes {
        node.stop().await;
    }
    match result {
        Ok(()) => {
            println!("Stopped. Everything is kept in {}: run the demo again to resume.", options.dir.display());
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Provisions the members, connects the chargers and lets drivers charge until Ctrl-C.
async fn drive(
    nodes: &[Node],
    configs: &[chargemesh_node::config::Config],
    parties: &[String],
    places: &[(f64, f64)],
    replay: fleet::Replay,
    mut interrupt: tokio::signal::unix::Signal,
) -> Result<(), String> {
    let mut members = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let api = Api::login(node, PASSWORD).await?;
        let member = provision(node, api, &parties[i], i, places[i % places.len()]).await?;
        members.push(member);
    }
    let replay = std::sync::Arc::new(replay);
    let mut chargers = fleet::start(nodes, configs, &members, replay.clone()).await?;
    println!("Waiting for the ledger to register every charger and tariff, and the members to exchange locations…");
    wait_until_federated(&members).await?;
    println!("Ready. Drivers start charging at other members' chargers; Ctrl-C stops the demo.\n");
    let mut narrator = Narrator::new(members.len());
    narrator.remember_clearing(&members[0]).await;
    let mut turn = 0usize;
    let mut start_tick = tokio::time::interval(START_EVERY);
    let mut watch_tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = interrupt.recv() => break,
            _ = start_tick.tick() => {
                narrator.start_one(&members, turn).await;
                turn += 1;
            }
            _ = watch_tick.tick() => narrator.watch(&members).await,
        }
    }
    chargers.abort_all();
    Ok(())
}

/// Gives member `i` its operator, site, chargers (commissioned), tariff and drivers — once: a
/// resumed demo finds them.
async fn provision(
    node: &Node,
    api: Api,
    party: &str,
    i: usize,
    (longitude, latitude): (f64, f64),
) -> Result<Member, String> {
    let short = party.trim_start_matches("CN-");
    let stations: Vec<String> = (1..=CHARGERS).map(|n| format!("{short}-CP{n}")).collect();
    let operators = api.get("/operators").await?;
    let operator = match operators.as_array().and_then(|o| o.first()) {
        Some(existing) => existing["id"].clone(),
        None => {
            let operator = create_site(&api, party, i, &stations, (longitude, latitude)).await?;
            println!("  {party}: site in Shenzhen with chargers {}, Guangdong time-of-use tariff", stations.join(", "));
            operator
        }
    };
    let existing = api.get("/drivers").await?;
    let mut drivers = Vec::new();
    for username in driver_names(party) {
        if !existing.as_array().into_iter().flatten().any(|d| d["username"] == username.as_str()) {
            let account = json!({"username": username, "password": PASSWORD, "operator_id": operator,
                "payment_method": "sandbox:visa-4242"});
            api.call(Method::POST, "/drivers", account).await?;
        }
        let driver = Api::driver_login(node, &username, PASSWORD).await?;
        drivers.push((username, driver));
    }
    Ok(Member { party: party.to_owned(), api, stations, drivers })
}

/// The usernames of member `party`'s demo drivers.
fn driver_names(party: &str) -> Vec<String> {
    let short = party.trim_start_matches("CN-").to_lowercase();
    (1..=DRIVERS).map(|n| format!("{short}-driver-{n}")).collect()
}

async fn create_site(
    api: &Api,
    party: &str,
    i: usize,
    stations: &[String],
    (longitude, latitude): (f64, f64),
) -> Result<Value, String> {
    let (_, operator) = api.call(Method::POST, "/operators", json!({"name": format!("{party} Charging")})).await?;
    // New drivers may sign up in the app with their phone number as this operator's.
    api.call(Method::PUT, &format!("/operators/{}/driver-signup", operator["id"]), json!({"open": true})).await?;
    let site = json!({"operator_id": operator["id"], "name": format!("{party} Shenzhen hub {}", i + 1),
        "time_zone": "Asia/Shanghai", "latitude": latitude, "longitude": longitude, "city": "Shenzhen"});
    let (_, site) = api.call(Method::POST, "/sites", site).await?;
    let tariff = tariff_draft(&operator["id"]);
    api.call(Method::POST, "/tariffs", tariff).await?;
    let site_id = site["id"].as_i64().unwrap_or(0);
    api.call(Method::PUT, &format!("/sites/{site_id}/tariff"), json!({"tariff_id": "gd-tou"})).await?;
    let next_year = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365)).to_string();
    for station in stations {
        let charger = json!({"station_id": station, "operator_id": operator["id"], "site_id": site_id});
        api.call(Method::POST, "/chargers", charger).await?;
        let commissioning = json!({"max_power_watts": 60_000, "connectors": ["gbt_dc"], "metering_certificate": "CPA-DEMO",
            "calibration_certificate": "CAL-DEMO", "calibration_expires_at": next_year});
        api.call(Method::PUT, &format!("/chargers/{station}/commissioning"), commissioning).await?;
    }
    Ok(operator["id"].clone())
}

/// Until every member's chargers and tariff are on the ledger and every member knows the others'
/// locations.
async fn wait_until_federated(members: &[Member]) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut ready = true;
        for member in members {
            let chargers = member.api.get("/ledger/chargers").await?;
            let active = chargers.as_array().map_or(0, |c| c.iter().filter(|c| c["status"] == "active").count());
            let tariffs = member.api.get("/ledger/tariffs").await?;
            let locations = member.api.get("/roaming/locations").await?;
            ready &= active == MEMBERS * CHARGERS
                && tariffs.as_array().is_some_and(|t| t.len() == MEMBERS)
                && locations.as_array().is_some_and(|l| l.len() == MEMBERS - 1);
        }
        if ready {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err("the members did not federate within two minutes (see the nodes' ledger status)".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Rows of the Shenzhen stations file (in `data`, or the copy built in): (longitude, latitude).
fn shenzhen_stations(data: Option<&Path>) -> Result<Vec<(f64, f64)>, String> {
    let path = data.map(|data| data.join("stations/shenzhen_urbanev_stations.csv"));
    let text = match &path {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e} (give the shared data folder with --data)", path.display()))?,
        None => chargemesh_sim::datasets::SHENZHEN_STATIONS_CSV.to_owned(),
    };
    let places: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',').skip(1);
            Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
        })
        .step_by(97)
        .take(MEMBERS)
        .collect();
    if places.is_empty() {
        let name = path.map_or_else(|| "the built-in stations".to_owned(), |p| p.display().to_string());
        return Err(format!("{name}: no station locations"));
    }
    Ok(places)
}

/// Member `party`'s tariff on the ledger from its genesis (JSON): what [`tariff_draft`] makes of it
/// in the member's node, owned by the member.
fn founding_tariff(party: &str) -> Result<String, String> {
    let preset =
        chargemesh_core::tariff::TouPreset { owner: party.to_owned(), ..chargemesh_sim::datasets::guangdong_tou() };
    let tariff = preset.build().map_err(|e| format!("the demo's tariff: {e}"))?;
    Ok(serde_json::to_string(&tariff).expect("a tariff serializes"))
}

/// Guangdong's time-of-use shape (sharp, peak, flat, valley electricity plus a service fee), VAT
/// included, as a tariff draft for the API.
fn tariff_draft(operator: &Value) -> Value {
    let mut time_of_use = serde_json::to_value(chargemesh_sim::datasets::guangdong_tou()).unwrap_or_default();
    if let Some(fields) = time_of_use.as_object_mut() {
        for field in ["id", "version", "owner", "currency", "tax", "valid_from"] {
            fields.remove(field);
        }
    }
    json!({"operator_id": operator, "id": "gd-tou", "currency": "CNY", "tax": {"rate": "13", "included": true},
        "valid_from": "2025-01-01T00:00:00+08:00", "time_of_use": time_of_use})
}
