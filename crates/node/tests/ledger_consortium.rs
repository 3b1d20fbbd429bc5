//! Four `chargemesh node` processes on loopback form a consortium from one genesis made by
//! `chargemesh ledger genesis --members 4`: transactions submitted at one member's node are
//! finalized by all four; one node is killed with SIGKILL and the other three go on; restarted, it
//! catches up to the same state root; then a fifth member is admitted by governance, its node
//! catches up from the genesis and votes in the next epoch. Each node reports its part through
//! `/ledger/status`.

mod common;

use chargemesh_ledger::{Action, Genesis, MemberKey, Transaction};
use common::charger_identity;
use common::process::{free_port, login, spawn_node_with, wait_until_up};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Child;

const MEMBERS: usize = 4;

struct Member {
    party: String,
    data_dir: PathBuf,
    api: String,
    api_port: u16,
    gateway_port: u16,
    settings: Vec<(&'static str, String)>,
    process: Option<Child>,
    token: String,
}

impl Member {
    async fn start(&mut self, client: &reqwest::Client) {
        let process = spawn_node_with(&self.data_dir, "", self.api_port, self.gateway_port, &self.settings);
        self.process = Some(process);
        wait_until_up(client, &self.api).await;
        self.token = login(client, &self.api).await;
    }

    async fn kill(&mut self) {
        let mut process = self.process.take().unwrap();
        process.start_kill().unwrap();
        process.wait().await.unwrap();
    }

    async fn get(&self, client: &reqwest::Client, path: &str) -> Value {
        let response = client.get(format!("{}{path}", self.api)).bearer_auth(&self.token).send().await.unwrap();
        response.json().await.unwrap()
    }

    async fn post(&self, client: &reqwest::Client, path: &str, body: &Value) {
        let response =
            client.post(format!("{}{path}", self.api)).bearer_auth(&self.token).json(body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 202, "{path}: {}", response.text().await.unwrap());
    }

    /// Waits until `done` holds for what `path` answers; fails the test after a minute.
    async fn wait_for(&self, client: &reqwest::Client, path: &str, done: impl Fn(&Value) -> bool) {
        let mut last = Value::Null;
        for _ in 0..600 {
            last = self.get(client, path).await;
            if done(&last) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} {path} did not come to pass: {last}", self.party);
    }

    async fn submit(&self, client: &reqwest::Client, transaction: &str) {
        let response = client
            .post(format!("{}/ledger/transactions", self.api))
            .bearer_auth(&self.token)
            .json(&json!({ "transaction": transaction }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202, "{}", response.text().await.unwrap());
    }
}

/// A base port with `count` free ports from it.
fn free_ports(count: u16) -> u16 {
    loop {
        let base = free_port();
        let free = (0..count)
            .all(|i| base.checked_add(i).is_some_and(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()));
        if free {
            return base;
        }
    }
}

/// `party`'s charger registrations with nonces `nonces`, in canonical bytes (hex).
fn registrations(
    genesis: &Genesis,
    party: &str,
    key: &MemberKey,
    nonces: std::ops::RangeInclusive<u64>,
) -> Vec<String> {
    nonces
        .map(|nonce| {
            let code = party.trim_start_matches("CN-");
            let identity = charger_identity(&format!("CN*{code}*C{nonce}"), &format!("SN-{code}-{nonce}"));
            let tx = Transaction {
                chain: genesis.hash(),
                sender: party.into(),
                nonce,
                action: Action::RegisterCharger(identity),
            };
            hex::encode(tx.sign(key).encode())
        })
        .collect()
}

/// Waits until every member in `members` has finalized `chargers` chargers and they all have the
/// same head and state root; returns that root.
async fn wait_agreed(client: &reqwest::Client, members: &[&Member], chargers: usize) -> String {
    let mut seen = Vec::new();
    for _ in 0..600 {
        seen.clear();
        for member in members {
            let summary = member.get(client, "/ledger").await;
            let count = member.get(client, "/ledger/chargers").await.as_array().map_or(0, Vec::len);
            seen.push((summary["head_hash"].clone(), summary["state_root"].clone(), count));
        }
        if seen.iter().all(|s| s.2 == chargers && s.0 == seen[0].0 && s.1 == seen[0].1) {
            return seen[0].1.as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the members did not agree on {chargers} chargers: {seen:?}");
}

// Each node's log is kept in <scratch>/<party>/node.log.
#[tokio::test]
async fn member_processes_run_one_chain_through_a_kill_a_restart_and_a_new_validator() {
    let root = common::scratch_dir("ledger-consortium");
    let consortium = root.join("consortium");
    let base = free_ports(MEMBERS as u16);
    let created = std::process::Command::new(env!("CARGO_BIN_EXE_chargemesh"))
        .args(["ledger", "genesis", "--members", "4", "--p2p-base-port", &base.to_string(), "--out"])
        .arg(&consortium)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let genesis_path = consortium.join("genesis.json");
    let genesis = Genesis::from_json(&std::fs::read_to_string(&genesis_path).unwrap()).unwrap();

    let client = reqwest::Client::new();
    let mut members = Vec::new();
    for (n, record) in genesis.members.iter().enumerate() {
        let party = record.party_id.clone();
        assert_eq!(record.p2p_endpoint, format!("127.0.0.1:{}", base + n as u16));
        let key_path = consortium.join("keys").join(format!("{party}.key"));
        let (api_port, gateway_port) = (free_port(), free_port());
        members.push(Member {
            data_dir: root.join(&party),
            api: format!("http://127.0.0.1:{api_port}/api/v1"),
            api_port,
            gateway_port,
            settings: vec![
                ("CHARGEMESH_LEDGER__PARTY_ID", party.clone()),
                ("CHARGEMESH_LEDGER__GENESIS", genesis_path.display().to_string()),
                ("CHARGEMESH_LEDGER__KEY", key_path.display().to_string()),
                ("CHARGEMESH_LEDGER__P2P_LISTEN", record.p2p_endpoint.clone()),
                ("CHARGEMESH_LOG__FILTER", "warn,chargemesh_ledger=debug,commonware_p2p=debug".into()),
            ],
            party,
            process: None,
            token: String::new(),
        });
    }
    for member in &mut members {
        member.start(&client).await;
    }
    let keys: Vec<MemberKey> = members
        .iter()
        .map(|m| chargemesh_chain::files::read_key(&consortium.join("keys").join(format!("{}.key", m.party))).unwrap())
        .collect();

    // Each member's transactions are submitted at the next member's node, which forwards them.
    for (n, member) in members.iter().enumerate() {
        for tx in registrations(&genesis, &member.party, &keys[n], 1..=3) {
            members[(n + 1) % MEMBERS].submit(&client, &tx).await;
        }
    }
    let everyone: Vec<&Member> = members.iter().collect();
    wait_agreed(&client, &everyone, 3 * MEMBERS).await;
    let status = members[0].get(&client, "/ledger/status").await;
    assert_eq!(status["role"], "validator", "{status}");
    assert_eq!(status["validators"].as_array().unwrap().len(), MEMBERS, "{status}");

    // One node is killed: three of four are a quorum, and the chain goes on.
    members[3].kill().await;
    for (n, member) in members.iter().enumerate().take(3) {
        for tx in registrations(&genesis, &member.party, &keys[n], 4..=5) {
            members[(n + 1) % 3].submit(&client, &tx).await;
        }
    }
    let up: Vec<&Member> = members[..3].iter().collect();
    let root_while_down = wait_agreed(&client, &up, 3 * MEMBERS + 6).await;

    // Restarted, it catches up from its peers to the same state root.
    members[3].start(&client).await;
    let everyone: Vec<&Member> = members.iter().collect();
    assert_eq!(wait_agreed(&client, &everyone, 3 * MEMBERS + 6).await, root_while_down);
    // And it votes again: its own transactions are finalized by all.
    for tx in registrations(&genesis, &members[3].party, &keys[3], 4..=5) {
        members[3].submit(&client, &tx).await;
    }
    wait_agreed(&client, &everyone, 3 * MEMBERS + 8).await;
    // Which validators it has heard from is counted over a recent window, so it may take a few
    // rounds after the restart to hear from enough of them.
    let mut status = serde_json::Value::Null;
    for _ in 0..100 {
        status = members[3].get(&client, "/ledger/status").await;
        if status["catching_up"] == false && status["validators_heard"].as_array().is_some_and(|heard| heard.len() >= 3)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["catching_up"], false, "{status}");
    assert!(status["validators_heard"].as_array().unwrap().len() >= 3, "{status}");

    // A fifth member is admitted as a validator by governance: proposed and approved by three of
    // the four (more than two thirds), through their consoles.
    let newcomer_key_path = consortium.join("keys").join("CN-M05.key");
    let newcomer_key = chargemesh_chain::files::create_key(&newcomer_key_path).unwrap();
    let newcomer_p2p = format!("127.0.0.1:{}", free_ports(1));
    let admit = json!({ "admit_member": {
        "party_id": "CN-M05",
        "public_key": hex::encode(newcomer_key.public_key().0),
        "roles": { "cpo": true, "emsp": true },
        "endpoint": "https://cn-m05.members.invalid/ocpi",
        "validator": true,
        "p2p_endpoint": newcomer_p2p,
    }});
    members[0].post(&client, "/ledger/governance/proposals", &admit).await;
    for member in &members[1..3] {
        let proposed = |g: &Value| g["proposals"].as_array().is_some_and(|p| !p.is_empty());
        member.wait_for(&client, "/ledger/governance", proposed).await;
        member.post(&client, "/ledger/governance/proposals/1/votes", &json!({ "approve": true })).await;
    }
    for member in &members {
        member.wait_for(&client, "/ledger/governance", |g| g["epoch"] == 1).await;
    }
    let governance = members[3].get(&client, "/ledger/governance").await;
    assert_eq!(governance["validators"].as_array().unwrap().len(), MEMBERS + 1, "{governance}");

    // Its node starts from the genesis, catches up from the others and votes from epoch 1 on.
    let (api_port, gateway_port) = (free_port(), free_port());
    let mut newcomer = Member {
        party: "CN-M05".into(),
        data_dir: root.join("CN-M05"),
        api: format!("http://127.0.0.1:{api_port}/api/v1"),
        api_port,
        gateway_port,
        settings: members[0].settings.clone(),
        process: None,
        token: String::new(),
    };
    for (name, value) in &mut newcomer.settings {
        match *name {
            "CHARGEMESH_LEDGER__PARTY_ID" => *value = "CN-M05".into(),
            "CHARGEMESH_LEDGER__KEY" => *value = newcomer_key_path.display().to_string(),
            "CHARGEMESH_LEDGER__P2P_LISTEN" => *value = newcomer_p2p.clone(),
            _ => {}
        }
    }
    newcomer.start(&client).await;
    members.push(newcomer);
    let everyone: Vec<&Member> = members.iter().collect();
    wait_agreed(&client, &everyone, 3 * MEMBERS + 8).await;
    for tx in registrations(&genesis, "CN-M05", &newcomer_key, 1..=2) {
        members[4].submit(&client, &tx).await;
    }
    wait_agreed(&client, &everyone, 3 * MEMBERS + 10).await;
    let status = members[4].get(&client, "/ledger/status").await;
    assert_eq!((&status["epoch"], &status["role"]), (&json!(1), &json!("validator")), "{status}");
    let heard = |s: &Value| s["validators_heard"].as_array().is_some_and(|v| v.iter().any(|p| p == "CN-M05"));
    members[0].wait_for(&client, "/ledger/status", heard).await;

    for member in &mut members {
        member.kill().await;
    }
    verify(&genesis_path, &members[4].data_dir);
    let _ = std::fs::remove_dir_all(&root);
}

/// `chargemesh ledger verify` accepts the restarted node's chain, every certificate included.
fn verify(genesis: &Path, data_dir: &Path) {
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_chargemesh"))
        .args(["ledger", "verify", "--genesis"])
        .arg(genesis)
        .arg("--chain")
        .arg(data_dir.join("ledger/chain.redb"))
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
}
