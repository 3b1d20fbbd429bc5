//! A consortium of made-up members on this machine, for the demo and the benchmarks: each member's
//! node configuration (its own data directory, loopback addresses) with one genesis and each
//! member's key in its ledger directory; and a client of a node's API logged in as its
//! administrator.

use chargemesh_ledger::transaction::{MemberRecord, Roles};
use chargemesh_ledger::{Genesis, MemberKey};
use chargemesh_node::Node;
use chargemesh_node::config::Config;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;

/// Where a member's node listens: its API, its charger gateway and its ledger's p2p network.
pub struct Addresses {
    pub api: SocketAddr,
    pub gateway: SocketAddr,
    pub p2p: SocketAddr,
}

/// The shape of the consortium's clearing.
pub struct Clearing {
    pub period_ms: i64,
    pub dispute_window_ms: i64,
}

/// Node configurations for `members` (all CPOs, eMSPs and validators) under `dir`, each listening
/// where `addresses` says, with administrator password `password`, and `tariffs` (JSON) founding
/// the ledger. The genesis and keys are written on the first call; later calls (a restart) find them
/// and write nothing.
pub fn configs(
    dir: &Path,
    members: &[String],
    addresses: impl Fn(usize) -> Result<Addresses, String>,
    (clearing, tariffs): (Clearing, Vec<String>),
    password: &str,
) -> Result<Vec<Config>, String> {
    let mut configs = Vec::new();
    for (i, party) in members.iter().enumerate() {
        let at = addresses(i)?;
        let mut config = Config { data_dir: dir.join(party.to_lowercase()), ..Config::default() };
        config.api.listen = at.api;
        config.gateway.listen = at.gateway;
        config.ledger.p2p_listen = at.p2p;
        config.ledger.party_id = party.clone();
        config.ledger.feed_interval_ms = 1_000;
        config.api.admin_password = password.into();
        config.log.filter = "warn".into();
        configs.push(config);
    }
    if configs.iter().all(|c| c.ledger_dir().join("genesis.json").exists()) {
        return Ok(configs);
    }
    let keys: Vec<MemberKey> = members.iter().map(|_| MemberKey::from_seed(rand::random())).collect();
    let records = configs
        .iter()
        .zip(&keys)
        .map(|(config, key)| MemberRecord {
            party_id: config.ledger.party_id.clone(),
            public_key: key.public_key(),
            roles: Roles { cpo: true, emsp: true },
            endpoint: format!("http://{}/ocpi", config.api.listen),
            validator: true,
            p2p_endpoint: config.ledger.p2p_listen.to_string(),
        })
        .collect();
    let genesis = Genesis {
        chain_name: "chargemesh-local".into(),
        timestamp_ms: jiff::Timestamp::now().as_millisecond() - 60_000,
        clearing_period_ms: clearing.period_ms,
        parameters: chargemesh_ledger::state::Parameters {
            dispute_window_ms: clearing.dispute_window_ms,
            ..Default::default()
        },
        members: records,
        tariffs,
    };
    genesis.check()?;
    let text = serde_json::to_string_pretty(&genesis).expect("a genesis serializes");
    for (config, key) in configs.iter().zip(&keys) {
        let ledger = config.ledger_dir();
        std::fs::create_dir_all(ledger.join("keys")).map_err(|e| format!("{}: {e}", ledger.display()))?;
        std::fs::write(ledger.join("genesis.json"), &text).map_err(|e| e.to_string())?;
        chargemesh_chain::files::write_secret(
            &ledger.join(format!("keys/{}.key", config.ledger.party_id)),
            &key.seed(),
        )?;
    }
    Ok(configs)
}

/// A loopback address on a port the system picks.
pub fn free_address() -> Result<SocketAddr, String> {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())
}

/// A client of a node's API, logged in as its administrator or as one of its drivers.
pub struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// Logged in to the operator API as the administrator.
    pub async fn login(node: &Node, password: &str) -> Result<Api, String> {
        Self::login_at(node, "/auth/login", "admin", password).await
    }

    /// Logged in to the driver API as driver `username`.
    pub async fn driver_login(node: &Node, username: &str, password: &str) -> Result<Api, String> {
        Self::login_at(node, "/driver/login", username, password).await
    }

    async fn login_at(node: &Node, path: &str, username: &str, password: &str) -> Result<Api, String> {
        let client = reqwest::Client::new();
        let base = format!("http://{}/api/v1", node.api_addr);
        let mut api = Api { client, base, token: String::new() };
        let login = json!({"username": username, "password": password});
        let (_, body) = api.call(reqwest::Method::POST, path, login).await?;
        api.token = body["token"].as_str().ok_or("the login gave no token")?.to_owned();
        Ok(api)
    }

    /// Calls the API; an answer of 400 or more is an error naming the request and the answer.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Result<(u16, Value), String> {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(&self.token);
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        if status >= 400 {
            return Err(format!("{method} {path}: {status} {body}"));
        }
        Ok((status, body))
    }

    pub async fn get(&self, path: &str) -> Result<Value, String> {
        Ok(self.call(reqwest::Method::GET, path, Value::Null).await?.1)
    }
}
