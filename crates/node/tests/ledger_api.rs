//! The node runs the ledger: transactions submitted through the API are finalized by its validator
//! and shown by the explorer; bad transactions are refused with their reason and change nothing.

mod common;

use chargemesh_ledger::genesis::Genesis;
use chargemesh_ledger::transaction::LifecycleEvent;
use chargemesh_ledger::{Action, Transaction};
use common::{TestNode, charger_identity, member_key as key, test_config, two_member_consortium};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

fn signed(genesis: &Genesis, sender: &str, signer: &str, nonce: u64, action: Action) -> String {
    let tx = Transaction { chain: genesis.hash(), sender: sender.into(), nonce, action }.sign(&key(signer));
    hex::encode(tx.encode())
}

async fn submit(node: &TestNode, transaction: &str) -> (StatusCode, Value) {
    node.post("/ledger/transactions", json!({ "transaction": transaction })).await
}

async fn refused(node: &TestNode, transaction: &str, code: &str) {
    let (status, body) = submit(node, transaction).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(code)), "{body}");
}

#[tokio::test]
async fn transactions_are_finalized_and_explored_and_bad_ones_are_refused_with_their_reason() {
    let config = test_config("ledger-api");
    let genesis = two_member_consortium(&config);
    let node = TestNode::start_with(config).await;

    let summary = node.get("/ledger").await;
    assert_eq!((summary["party_id"].as_str(), summary["height"].as_u64()), (Some("CN-M01"), Some(0)));
    assert_eq!(summary["validators"], json!(["CN-M01"]));
    assert_eq!(summary["chain"].as_str(), Some(hex::encode(genesis.hash()).as_str()));

    let register =
        signed(&genesis, "CN-M01", "CN-M01", 1, Action::RegisterCharger(charger_identity("CN*M01*E1", "SN-1")));
    let (status, queued) = submit(&node, &register).await;
    assert_eq!((status, queued["status"].as_str()), (StatusCode::ACCEPTED, Some("queued")), "{queued}");
    let (_, again) = submit(&node, &register).await;
    assert_eq!(again["status"], "already_queued");
    let id = queued["id"].as_str().unwrap().to_owned();

    let mut finalized = Value::Null;
    for _ in 0..100 {
        let (status, body) =
            node.request(reqwest::Method::GET, &format!("/ledger/transactions/{id}"), &node.token, None).await;
        if status == StatusCode::OK {
            finalized = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let height = finalized["height"].as_u64().expect("the transaction is finalized within 10 s");
    let block = node.get(&format!("/ledger/blocks/{height}")).await;
    assert_eq!(block["transactions"][0]["id"].as_str(), Some(id.as_str()));
    assert!(!block["certificate"].as_str().unwrap().is_empty(), "the block carries its certificate");
    assert_eq!(node.get("/ledger/blocks").await[0]["header"]["height"].as_u64(), Some(height));
    let registered = node.get("/ledger/chargers/CN*M01*E1").await;
    assert_eq!(
        (registered["owner"].as_str(), registered["status"].as_str()),
        (Some("CN-M01"), Some("registered")),
        "{registered}"
    );
    assert_eq!(node.get("/ledger/members").await.as_array().unwrap().len(), 2);

    // Bad input, each refused with its reason; the chain and the mempool stay as they were.
    let before = node.get("/ledger").await;
    let (status, body) = submit(&node, "not hex").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")));
    refused(&node, "00ff00ff", "malformed_transaction").await;
    refused(&node, &"ab".repeat(64 * 1024 + 1), "transaction_too_large").await;
    refused(&node, &register, "bad_nonce").await;
    let forged =
        signed(&genesis, "CN-M01", "CN-M02", 2, Action::RegisterCharger(charger_identity("CN*M01*E2", "SN-1")));
    refused(&node, &forged, "bad_signature").await;
    let installed = Action::ChargerLifecycle { evse_id: "CN*M01*E1".into(), event: LifecycleEvent::Installed };
    refused(&node, &signed(&genesis, "CN-M02", "CN-M02", 1, installed), "not_owner").await;
    let other_chain = Transaction {
        chain: [9; 32],
        sender: "CN-M01".into(),
        nonce: 2,
        action: Action::RegisterCharger(charger_identity("X", "SN-1")),
    };
    refused(&node, &hex::encode(other_chain.sign(&key("CN-M01")).encode()), "wrong_chain").await;
    let after = node.get("/ledger").await;
    assert_eq!((after["state_root"].clone(), after["mempool"].clone()), (before["state_root"].clone(), json!(0)));
    node.stop().await;
}

/// Waits until what GET `path` answers satisfies `done`; fails the test after 10 s.
async fn wait_for(node: &TestNode, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let body = node.get(path).await;
        if done(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("GET {path} never satisfied the test: {}", node.get(path).await);
}

#[tokio::test]
async fn members_propose_and_vote_from_the_console_and_bad_proposals_are_refused() {
    let config = test_config("ledger-governance");
    let genesis = two_member_consortium(&config);
    let node = TestNode::start_with(config).await;
    let governance = node.get("/ledger/governance").await;
    assert_eq!(
        (&governance["epoch"], &governance["validators"], &governance["active_members"], &governance["proposals"]),
        (&json!(0), &json!(["CN-M01"]), &json!(2), &json!([])),
    );

    // This member (CN-M01) proposes through its console, which signs with its member key.
    let parameters =
        json!({ "dispute_window_ms": 86_400_000, "max_block_transactions": 5_000, "max_timestamp_drift_ms": 10_000 });
    let (status, body) = node.post("/ledger/governance/proposals", json!({ "set_parameters": parameters })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let open = wait_for(&node, "/ledger/governance", |g| g["proposals"].as_array().is_some_and(|p| p.len() == 1)).await;
    assert_eq!(open["proposals"][0]["votes"], json!({ "CN-M01": true }), "{open}");
    assert_eq!(open["proposals"][0]["action"]["set_parameters"]["max_block_transactions"], 5_000);

    // Bad proposals and votes: refused with the ledger's reason; nothing queued.
    let before = node.get("/ledger").await;
    let refusals = [
        ("/ledger/governance/proposals", json!({ "remove_member": { "party_id": "CN-ZZZ" } }), "unknown_member"),
        ("/ledger/governance/proposals", json!({ "remove_member": { "party_id": "CN-M01" } }), "governance"),
        ("/ledger/governance/proposals", json!({ "crown_member": { "party_id": "CN-M01" } }), "invalid_request"),
        ("/ledger/governance/proposals/9/votes", json!({ "approve": true }), "unknown_proposal"),
        ("/ledger/governance/proposals/1/votes", json!({ "approve": true }), "already_voted"),
        ("/ledger/governance/proposals/1/votes", json!({ "approve": "yes" }), "invalid_request"),
    ];
    for (path, body, code) in refusals {
        let (status, answer) = node.post(path, body.clone()).await;
        assert!(status.is_client_error() && answer["code"] == code, "{path} {body}: {status} {answer}");
    }
    let after = node.get("/ledger").await;
    assert_eq!((after["state_root"].clone(), after["mempool"].clone()), (before["state_root"].clone(), json!(0)));

    // The other member's vote (signed at its own node, here submitted as a transaction) passes it.
    let vote = signed(&genesis, "CN-M02", "CN-M02", 1, Action::Vote { proposal: 1, approve: true });
    assert_eq!(submit(&node, &vote).await.0, StatusCode::ACCEPTED);
    wait_for(&node, "/ledger/governance", |g| g["proposals"] == json!([])).await;
    node.stop().await;
}
