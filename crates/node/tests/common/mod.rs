//! A node started in-process on free loopback ports with its own data directory, and an API client.

#![allow(dead_code)]

pub mod process;

use chargemesh_node::config::Config;
use chargemesh_node::{Listeners, Node};
use chargemesh_sim::{ChargePoint, Connection};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const ADMIN_PASSWORD: &str = "test-admin-password-1";

pub struct TestNode {
    pub node: Option<Node>,
    pub config: Config,
    pub client: reqwest::Client,
    pub token: String,
}

/// A fresh, empty directory under the system's temporary directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "chargemesh-test-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn test_config(name: &str) -> Config {
    let mut config = Config { data_dir: scratch_dir(name), ..Config::default() };
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.gateway.listen = "127.0.0.1:0".parse().unwrap();
    config.ledger.p2p_listen = "127.0.0.1:0".parse().unwrap();
    config.api.admin_password = ADMIN_PASSWORD.into();
    config.log.filter = "warn".into();
    config
}

impl TestNode {
    pub async fn start(name: &str) -> TestNode {
        Self::start_with(test_config(name)).await
    }

    /// Starts a node of `config`, on the listeners bound for it when its consortium was made, if any.
    pub async fn start_with(config: Config) -> TestNode {
        chargemesh_node::telemetry::init_logs(&config.log);
        let reserved = RESERVED.lock().unwrap().remove(&config.api.listen);
        let node = match reserved {
            Some([gateway, api]) => {
                let listeners = Listeners { gateway: tokio_listener(gateway), api: tokio_listener(api) };
                Node::start_on(&config, listeners).await
            }
            None => Node::start(&config).await,
        };
        let node = node.expect("node starts");
        let client = reqwest::Client::new();
        let mut test = TestNode { node: Some(node), config, client, token: String::new() };
        test.token = test.login("admin", ADMIN_PASSWORD).await;
        test
    }

    pub fn node(&self) -> &Node {
        self.node.as_ref().expect("node running")
    }

    /// The node's database through connections of the test's own, for what a test sets up behind
    /// the node's back (a crash's leftovers, a re-pricing).
    pub async fn database(&self) -> chargemesh_store::Store {
        chargemesh_store::Store::open(&self.config.database_url(), 1).await.expect("the node's database opens")
    }

    pub fn charger_url(&self) -> String {
        self.node().charger_url(&self.config)
    }

    pub fn connection(&self) -> Connection {
        Connection::new(self.charger_url())
    }

    pub async fn charger(&self, station: &str) -> ChargePoint {
        ChargePoint::connect(station, self.connection()).await.expect("charger connects")
    }

    pub fn api(&self, path: &str) -> String {
        format!("http://{}/api/v1{path}", self.node().api_addr)
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.api("/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "login of {username}");
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method.clone(), self.api(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_declared(method.as_str(), path, status);
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// The node administrator's bearer token.
    pub fn token(&self) -> String {
        self.token.clone()
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.request(reqwest::Method::GET, path, &self.token.clone(), None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, &self.token.clone(), Some(body)).await
    }

    /// Registers an operator with a site, chargers and cards through the API; returns the operator id.
    pub async fn provision(&self, operator: &str, stations: &[&str], cards: &[&str]) -> i64 {
        let (status, created) = self.post("/operators", json!({"name": operator})).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let operator_id = created["id"].as_i64().unwrap();
        let (status, site) = self
            .post(
                "/sites",
                json!({"operator_id": operator_id, "name": format!("{operator} site"), "time_zone": "Asia/Shanghai"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{site}");
        for station in stations {
            let (status, body) = self
                .post("/chargers", json!({"station_id": station, "operator_id": operator_id, "site_id": site["id"]}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        for card in cards {
            let (status, body) = self
                .request(
                    reqwest::Method::PUT,
                    &format!("/tokens/{card}"),
                    &self.token.clone(),
                    Some(json!({"operator_id": operator_id})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        operator_id
    }

    /// A driver account of `operator_id` created by the administrator, paying with the sandbox's
    /// card, logged in: its app token and the driver's bearer token.
    pub async fn driver(&self, operator_id: i64, username: &str) -> (String, String) {
        let account = json!({"username": username, "password": DRIVER_PASSWORD, "operator_id": operator_id,
            "payment_method": "sandbox:visa-4242"});
        let (status, created) = self.post("/drivers", account).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let login = json!({"username": username, "password": DRIVER_PASSWORD});
        let response = self.client.post(self.api("/driver/login")).json(&login).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "driver login of {username}");
        let token = response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        (created["tokens"][0]["id_token"].as_str().unwrap().to_owned(), token)
    }

    /// Sessions of a station, oldest first.
    pub async fn sessions_of(&self, station: &str) -> Vec<Value> {
        let mut sessions =
            self.get(&format!("/sessions?station_id={station}&limit=500")).await.as_array().unwrap().clone();
        sessions.reverse();
        sessions
    }

    pub async fn stop(mut self) {
        if let Some(node) = self.node.take() {
            node.stop().await;
        }
        let _ = std::fs::remove_dir_all(&self.config.data_dir);
    }
}

/// Fails the test if the OpenAPI document does not declare `status` for the operation `path`
/// (under `/api/v1`, with its query) matched: every request the tests make compares what the node
/// answers with what it says it answers.
pub fn assert_declared(method: &str, path: &str, status: StatusCode) {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let document = DOCUMENT.get_or_init(|| serde_json::from_str(&chargemesh_api::openapi_json()).unwrap());
    let path = path.split('?').next().unwrap_or(path);
    let full = format!("/api/v1{path}");
    let segments: Vec<&str> = full.split('/').collect();
    let matches = |template: &str| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
    };
    let paths = document["paths"].as_object().unwrap();
    // The literal path wins over a template (`/tariffs/validate` over `/tariffs/{id}`).
    let operation = paths
        .get(&full)
        .and_then(|item| item.get(method.to_lowercase()))
        .or_else(|| paths.iter().filter(|(t, _)| matches(t)).find_map(|(_, item)| item.get(method.to_lowercase())));
    let Some(operation) = operation else { return };
    let declared = operation["responses"].as_object().unwrap();
    assert!(
        declared.contains_key(status.as_str()),
        "{method} {full} answered {status}, which its OpenAPI operation does not declare (it declares {:?})",
        declared.keys().collect::<Vec<_>>()
    );
}

/// The password of the drivers [`TestNode::driver`] makes.
pub const DRIVER_PASSWORD: &str = "driver password 1";

pub fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

/// A new, empty PostgreSQL database on the server named by CHARGEMESH_TEST_POSTGRES_URL (by default
/// the local one); returns its URL. The test drops it with [`drop_postgres_database`].
pub async fn postgres_database(name: &str) -> String {
    let database = format!("chargemesh_{name}_{}", std::process::id());
    admin_sql(&format!("DROP DATABASE IF EXISTS {database}")).await;
    admin_sql(&format!("CREATE DATABASE {database}")).await;
    let admin_url = postgres_admin_url();
    let (base, _) = admin_url.rsplit_once('/').expect("the URL names a database");
    format!("{base}/{database}")
}

pub async fn drop_postgres_database(url: &str) {
    let (_, database) = url.rsplit_once('/').unwrap();
    admin_sql(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
}

fn postgres_admin_url() -> String {
    std::env::var("CHARGEMESH_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn admin_sql(statement: &str) {
    use sqlx::Connection;
    let url = postgres_admin_url();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {url} is needed ({e}); set CHARGEMESH_TEST_POSTGRES_URL to a server you can create databases on")
    });
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut conn).await.unwrap();
}

/// A charger's identity for the ledger: `evse_id` with serial number `serial`.
pub fn charger_identity(evse_id: &str, serial: &str) -> chargemesh_ledger::transaction::ChargerIdentity {
    chargemesh_ledger::transaction::ChargerIdentity {
        evse_id: evse_id.into(),
        manufacturer: "Acme Power".into(),
        model: "DC-120".into(),
        serial_number: serial.into(),
        max_power_watts: 120_000,
        connectors: vec![chargemesh_ledger::transaction::ConnectorType::GbtDc],
        metering_certificate: "CPA-2025-0001".into(),
        time_zone: "Asia/Shanghai".into(),
    }
}

/// A test member's key, the same in every run.
pub fn member_key(party: &str) -> chargemesh_ledger::MemberKey {
    chargemesh_ledger::MemberKey::from_seed(chargemesh_ledger::hash_parts("ledger-api-test", &[party.as_bytes()]))
}

/// A consortium of CN-M01 (the node under test, the only validator) and CN-M02 (another operator,
/// with drivers), written where the node configured by `config` looks for it, with CN-M01's key.
pub fn two_member_consortium(config: &Config) -> chargemesh_ledger::Genesis {
    use chargemesh_ledger::transaction::{MemberRecord, Roles};
    let record = |party: &str, validator| MemberRecord {
        party_id: party.into(),
        public_key: member_key(party).public_key(),
        roles: Roles { cpo: true, emsp: true },
        endpoint: format!("https://{}.example/ocpi", party.to_lowercase()),
        validator,
        p2p_endpoint: String::new(),
    };
    let genesis = chargemesh_ledger::Genesis {
        chain_name: "ledger-api-test".into(),
        timestamp_ms: jiff::Timestamp::now().as_millisecond() - 3_600_000,
        clearing_period_ms: 86_400_000,
        parameters: chargemesh_ledger::state::Parameters::default(),
        members: vec![record("CN-M01", true), record("CN-M02", false)],
        tariffs: Vec::new(),
    };
    let dir = config.ledger_dir();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(dir.join("genesis.json"), serde_json::to_string(&genesis).unwrap()).unwrap();
    std::fs::write(dir.join("keys/CN-M01.key"), hex::encode(member_key("CN-M01").seed())).unwrap();
    genesis
}

/// A loopback port free now, below the ephemeral range (32768 and up on Linux), so that no outgoing
/// connection takes it before the node binds it; each test process starts at its own place.
pub fn free_port() -> u16 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // 11000–20999; the demo's test takes its ports above.
    let start = 11_000 + (std::process::id() % 200) as u64 * 50;
    loop {
        let port = (start + NEXT.fetch_add(1, Ordering::Relaxed) % 10_000) as u16;
        let port = if port >= 21_000 { port - 10_000 } else { port };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The gateway and API listeners bound for a consortium's nodes before their genesis named them, by
/// API address, until each node starts on them: no other process can take those ports in between.
static RESERVED: Mutex<BTreeMap<SocketAddr, [std::net::TcpListener; 2]>> = Mutex::new(BTreeMap::new());

/// The node of `config` is down before it ever started: its ports, bound for it, are closed and
/// refuse connections (the node binds its addresses itself when it starts later).
pub fn down_until_started(config: &Config) {
    RESERVED.lock().unwrap().remove(&config.api.listen);
}

fn bound_loopback() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port")
}

fn tokio_listener(listener: std::net::TcpListener) -> tokio::net::TcpListener {
    listener.set_nonblocking(true).unwrap();
    tokio::net::TcpListener::from_std(listener).unwrap()
}

/// Configurations for nodes of members CN-M01, CN-M02, … (CN-M01 the only validator) that know
/// each other from one genesis: each member's OCPI endpoint is its node's API address, bound now
/// (as is its charger gateway's; its ledger's p2p address is picked free, as Commonware binds it
/// itself); daily clearing, disputes within a week.
pub fn federated_consortium(names: &[&str]) -> Vec<Config> {
    let week = chargemesh_ledger::state::Parameters::default().dispute_window_ms;
    let an_hour_ago = jiff::Timestamp::now().as_millisecond() - 3_600_000;
    consortium_configs(names, an_hour_ago, 86_400_000, week)
}

/// [`federated_consortium`] with one-minute clearing periods (the shortest), the current one ending
/// `period_ends_in` from now, and disputes within `dispute_window_ms` of an anchor.
pub fn federated_consortium_clearing(names: &[&str], period_ends_in: Duration, dispute_window_ms: i64) -> Vec<Config> {
    const MINUTE: i64 = 60_000;
    let ends = jiff::Timestamp::now().as_millisecond() + period_ends_in.as_millis() as i64;
    consortium_configs(names, ends - 61 * MINUTE, MINUTE, dispute_window_ms)
}

fn consortium_configs(names: &[&str], genesis_ms: i64, period_ms: i64, dispute_window_ms: i64) -> Vec<Config> {
    use chargemesh_ledger::transaction::{MemberRecord, Roles};
    let mut configs: Vec<Config> = names.iter().map(|name| test_config(name)).collect();
    let mut members = Vec::new();
    for (i, config) in configs.iter_mut().enumerate() {
        let party = format!("CN-M{:02}", i + 1);
        let (gateway, api) = (bound_loopback(), bound_loopback());
        // Both kept in the configuration, so that a restarted node is where its chargers reconnect.
        config.api.listen = api.local_addr().unwrap();
        config.gateway.listen = gateway.local_addr().unwrap();
        let port = config.api.listen.port();
        RESERVED.lock().unwrap().insert(config.api.listen, [gateway, api]);
        config.ledger.p2p_listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        config.ledger.party_id = party.clone();
        config.ledger.feed_interval_ms = 500;
        members.push(MemberRecord {
            party_id: party.clone(),
            public_key: member_key(&party).public_key(),
            roles: Roles { cpo: true, emsp: true },
            endpoint: format!("http://127.0.0.1:{port}/ocpi"),
            validator: i == 0,
            p2p_endpoint: config.ledger.p2p_listen.to_string(),
        });
    }
    let genesis = chargemesh_ledger::Genesis {
        chain_name: "federation-test".into(),
        timestamp_ms: genesis_ms,
        clearing_period_ms: period_ms,
        parameters: chargemesh_ledger::state::Parameters { dispute_window_ms, ..Default::default() },
        members,
        tariffs: Vec::new(),
    };
    for config in &configs {
        let dir = config.ledger_dir();
        std::fs::create_dir_all(dir.join("keys")).unwrap();
        std::fs::write(dir.join("genesis.json"), serde_json::to_string(&genesis).unwrap()).unwrap();
        let party = &config.ledger.party_id;
        std::fs::write(dir.join(format!("keys/{party}.key")), hex::encode(member_key(party).seed())).unwrap();
    }
    configs
}

/// Guangdong's time-of-use shape (the fixture of `chargemesh_sim::datasets::guangdong_tou`) as a
/// tariff draft for the API.
pub fn guangdong_draft(operator: i64, id: &str, valid_from: &str, flat_electricity: &str) -> Value {
    let preset: Value = serde_json::to_value(chargemesh_sim::datasets::guangdong_tou()).unwrap();
    let mut time_of_use = preset.clone();
    for field in ["id", "version", "owner", "currency", "tax", "valid_from"] {
        time_of_use.as_object_mut().unwrap().remove(field);
    }
    time_of_use["flat"]["electricity"] = json!(flat_electricity);
    json!({"operator_id": operator, "id": id, "currency": "CNY", "tax": {"rate": "13", "included": true}, "valid_from": valid_from, "time_of_use": time_of_use})
}

/// Waits until `condition` holds, looking every 50 ms; fails the test naming `what` after 30 s.
pub async fn eventually<F, Fut>(what: &str, condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
