//! Crash safety of the ledger: the node is killed with SIGKILL while its validator finalizes and
//! commits blocks, restarted on the same data, and the chain opens to the state root its last block
//! names; every transaction finalized before the kill is still there, none is applied twice, and the
//! ones lost from the (memory-only) mempool are submitted again and finalized once.

mod common;

use chargemesh_ledger::{Action, Genesis, MemberKey, Transaction};
use common::charger_identity;
use common::process::{free_port, login, spawn_node, wait_until_up};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const TRANSACTIONS: u64 = 60;

fn registration(genesis: &Genesis, key: &MemberKey, nonce: u64) -> (String, String) {
    let identity = charger_identity(&format!("CN*M01*C{nonce}"), &format!("SN-{nonce}"));
    let action = Action::RegisterCharger(identity);
    let tx = Transaction { chain: genesis.hash(), sender: "CN-M01".into(), nonce, action }.sign(key);
    (hex::encode(tx.id()), hex::encode(tx.encode()))
}

async fn submit(client: &reqwest::Client, api: &str, token: &str, transaction: &str) -> (u16, Value) {
    let response = client
        .post(format!("{api}/ledger/transactions"))
        .bearer_auth(token)
        .json(&json!({ "transaction": transaction }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(client: &reqwest::Client, api: &str, token: &str, path: &str) -> (u16, Value) {
    let response = client.get(format!("{api}{path}")).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

fn ledger_files(data_dir: &Path) -> (Genesis, MemberKey) {
    let dir = data_dir.join("ledger");
    let genesis = Genesis::from_json(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap();
    (genesis, chargemesh_chain::files::read_key(&dir.join("keys/CN-M01.key")).unwrap())
}

#[tokio::test]
async fn a_validator_killed_while_committing_loses_and_doubles_nothing() {
    let data_dir = common::scratch_dir("ledger-crash");
    let client = reqwest::Client::new();
    let (api_port, gateway_port) = (free_port(), free_port());
    let api = format!("http://127.0.0.1:{api_port}/api/v1");
    let mut node = spawn_node(&data_dir, "", api_port, gateway_port);
    wait_until_up(&client, &api).await;
    let token = login(&client, &api).await;
    let (genesis, key) = ledger_files(&data_dir);
    let transactions: Vec<(String, String)> = (1..=TRANSACTIONS).map(|n| registration(&genesis, &key, n)).collect();

    // Submit in a steady stream and kill the node in the middle of it, twice.
    let mut next = 0;
    let mut finalized_before_kill = Vec::new();
    for kill in [TRANSACTIONS / 3, 2 * TRANSACTIONS / 3] {
        while (next as u64) < kill {
            let (status, body) = submit(&client, &api, &token, &transactions[next].1).await;
            assert_eq!(status, 202, "{body}");
            next += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for (id, _) in &transactions[..next] {
            if get(&client, &api, &token, &format!("/ledger/transactions/{id}")).await.0 == 200 {
                finalized_before_kill.push(id.clone());
            }
        }
        node.start_kill().unwrap();
        node.wait().await.unwrap();
        node = spawn_node(&data_dir, "", api_port, gateway_port);
        wait_until_up(&client, &api).await;
        // What the mempool held is gone: submit again from the first the chain has not taken.
        let token = login(&client, &api).await;
        let used = get(&client, &api, &token, "/ledger/members").await.1[0]["nonce"].as_u64().unwrap() as usize;
        next = used;
    }
    let token = login(&client, &api).await;
    while next < transactions.len() {
        let (status, body) = submit(&client, &api, &token, &transactions[next].1).await;
        assert_eq!(status, 202, "{body}");
        next += 1;
    }
    let mut summary = Value::Null;
    for _ in 0..200 {
        summary = get(&client, &api, &token, "/ledger/members").await.1;
        if summary[0]["nonce"].as_u64() == Some(TRANSACTIONS) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(summary[0]["nonce"].as_u64(), Some(TRANSACTIONS), "every transaction is finalized: {summary}");
    let chargers = get(&client, &api, &token, "/ledger/chargers").await.1;
    assert_eq!(chargers.as_array().unwrap().len() as u64, TRANSACTIONS, "each applied exactly once");
    for id in &finalized_before_kill {
        assert_eq!(get(&client, &api, &token, &format!("/ledger/transactions/{id}")).await.0, 200, "{id} was lost");
    }
    // Resubmitting what is on the chain changes nothing.
    let (status, body) = submit(&client, &api, &token, &transactions[0].1).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_nonce")), "{body}");

    // And the chain, with every certificate, verifies from the genesis.
    node.start_kill().unwrap();
    node.wait().await.unwrap();
    let ledger = data_dir.join("ledger");
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_chargemesh"))
        .args(["ledger", "verify", "--genesis"])
        .arg(ledger.join("genesis.json"))
        .arg("--chain")
        .arg(ledger.join("chain.redb"))
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    let _ = std::fs::remove_dir_all(&data_dir);
}
