//! Pay after charging end to end: a hold at the start, the exact capture at the stop with the rest
//! released, refunds with reasons, refundable wallets, declined holds, retries that take effect once,
//! and books that reconcile.

// Amounts in fen are written yuan_fen (96_60 is ¥96.60).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{TestNode, at};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Guangdong prices: 09:30–10:00 flat (0.60 + 0.80 service), 10:00–11:00 peak (1.02 + 0.80).
/// The hold is the price of 60 kWh in the hour from the start: 30 kWh flat and 30 kWh peak, ¥96.60.
const HOLD: i64 = 42_00 + 54_60;

async fn setup(node: &TestNode) -> i64 {
    let operator = node.provision("Paying Charging", &["PAY-1"], &["CARD-OK", "CARD-NO", "WALLET-1"]).await;
    let mut draft = serde_json::to_value(chargemesh_sim::datasets::guangdong_tou()).unwrap();
    let time_of_use = json!({"sharp": draft["sharp"], "peak": draft["peak"], "flat": draft["flat"], "valley": draft["valley"], "schedules": draft["schedules"]});
    draft = json!({"operator_id": operator, "id": "gd", "currency": "CNY", "tax": {"rate": "13", "included": true},
        "valid_from": "2025-01-01T00:00:00Z", "time_of_use": time_of_use});
    let (status, body) = node.post("/tariffs", draft).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) =
        node.request(Method::PUT, "/chargers/PAY-1/tariff", &node.token(), Some(json!({"tariff_id": "gd"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for (card, method) in [("CARD-OK", "sandbox:visa-4242"), ("CARD-NO", "sandbox:declined"), ("WALLET-1", "wallet")] {
        let token = json!({"operator_id": operator, "payment_method": method});
        let (status, body) = node.request(Method::PUT, &format!("/tokens/{card}"), &node.token(), Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = node
        .request(Method::PUT, &format!("/operators/{operator}/wallets"), &node.token(), Some(json!({"enabled": true})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    operator
}

/// The session's payment once it reached `state`.
async fn payment_in(node: &TestNode, session: i64, state: &str) -> Value {
    for _ in 0..100 {
        let (status, payment) =
            node.request(Method::GET, &format!("/sessions/{session}/payment"), &node.token(), None).await;
        if status == StatusCode::OK && payment["payment"]["state"] == state {
            return payment;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the payment of session {session} never reached {state}");
}

async fn reconciled(node: &TestNode) {
    let books = node.get("/payments/reconciliation").await;
    assert_eq!(books["problems"], json!([]), "the books do not reconcile");
}

#[tokio::test]
async fn a_card_is_held_captured_exactly_released_and_refunded_once() {
    let node = TestNode::start("pay-card").await;
    setup(&node).await;
    let mut cp = node.charger("PAY-1").await;
    cp.boot().await.unwrap();
    let tx = cp.start_transaction(1, "CARD-OK", 0, at("2026-08-05T01:30:00Z")).await.unwrap();
    let held = payment_in(&node, tx, "held").await;
    assert_eq!(held["payment"]["hold_amount"], HOLD);
    cp.meter_values(1, tx, 15_000, 30_000, at("2026-08-05T01:45:00Z")).await.unwrap();
    cp.stop_transaction(tx, 30_000, at("2026-08-05T02:00:00Z"), "EVDisconnected").await.unwrap();

    let captured = payment_in(&node, tx, "captured").await;
    assert_eq!(captured["payment"]["captured"], 42_00, "30 kWh flat: the exact price, the rest of the hold released");
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(captured["payment"]["captured"], session["cost"]["totals"]["incl_tax"]);
    assert_eq!(captured["movements"][0]["to_account"], format!("revenue:{}", captured["payment"]["operator_id"]));

    let refund = json!({"amount": 10_00, "reason": "charger cable was damaged", "idempotency_key": "r-1"});
    for _ in 0..2 {
        let (status, body) = node.post(&format!("/sessions/{tx}/refunds"), refund.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["state"], "done");
    }
    let too_much = json!({"amount": 40_00, "reason": "goodwill", "idempotency_key": "r-2"});
    let (status, body) = node.post(&format!("/sessions/{tx}/refunds"), too_much).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")), "{body}");
    let paid = node.get(&format!("/sessions/{tx}/payment")).await;
    assert_eq!(paid["payment"]["refunded"], 10_00, "a retried refund refunds once");
    assert_eq!(paid["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(paid["refunds"][0]["reason"], "charger cable was damaged");

    // The worker sweeping again changes nothing: the capture is not taken twice.
    node.node().operations.settle_payments().await.unwrap();
    assert_eq!(node.get(&format!("/sessions/{tx}/payment")).await["payment"]["captured"], 42_00);
    reconciled(&node).await;
    node.stop().await;
}

#[tokio::test]
async fn a_declined_hold_stops_the_session() {
    let node = TestNode::start("pay-declined").await;
    setup(&node).await;
    let mut cp = node.charger("PAY-1").await;
    cp.boot().await.unwrap();
    let tx = cp.start_transaction(1, "CARD-NO", 0, at("2026-08-05T01:30:00Z")).await.unwrap();
    let declined = payment_in(&node, tx, "declined").await;
    assert!(declined["payment"]["failure"].as_str().unwrap().contains("declined"));
    // The charger is asked to stop; the simulator answers while it waits for its next reply.
    for _ in 0..50 {
        cp.heartbeat().await.unwrap();
        if cp.commands_received.iter().any(|(action, _)| action == "RemoteStopTransaction") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stop =
        cp.commands_received.iter().find(|(action, _)| action == "RemoteStopTransaction").expect("a remote stop");
    assert_eq!(stop.1["transactionId"], tx);
    reconciled(&node).await;
    node.stop().await;
}

#[tokio::test]
async fn a_wallet_pays_after_charging_and_is_refundable_at_any_time() {
    wallet_flow(TestNode::start("pay-wallet").await).await;
}

#[tokio::test]
async fn a_wallet_pays_after_charging_on_postgres() {
    let url = common::postgres_database("pay_wallet").await;
    let mut config = common::test_config("pay-wallet-pg");
    config.database_url = url.clone();
    wallet_flow(TestNode::start_with(config).await).await;
    common::drop_postgres_database(&url).await;
}

async fn wallet_flow(node: TestNode) {
    setup(&node).await;
    let top_up = json!({"amount": 300_00, "method": "sandbox:visa-4242", "idempotency_key": "t-1"});
    for _ in 0..2 {
        let (status, wallet) = node.post("/tokens/WALLET-1/wallet/top-ups", top_up.clone()).await;
        assert_eq!(status, StatusCode::OK, "{wallet}");
        assert_eq!(wallet["balance"], 300_00, "a retried top-up adds once");
    }
    let mut cp = node.charger("PAY-1").await;
    cp.boot().await.unwrap();
    let tx = cp.start_transaction(1, "WALLET-1", 0, at("2026-08-05T01:30:00Z")).await.unwrap();
    payment_in(&node, tx, "held").await;
    let wallet = node.get("/tokens/WALLET-1/wallet").await;
    assert_eq!((wallet["balance"].as_i64(), wallet["held"].as_i64()), (Some(300_00 - HOLD), Some(HOLD)));
    cp.stop_transaction(tx, 30_000, at("2026-08-05T02:00:00Z"), "EVDisconnected").await.unwrap();
    payment_in(&node, tx, "captured").await;
    let wallet = node.get("/tokens/WALLET-1/wallet").await;
    assert_eq!((wallet["balance"].as_i64(), wallet["held"].as_i64()), (Some(300_00 - 42_00), Some(0)));

    let (status, body) = node
        .post(
            &format!("/sessions/{tx}/refunds"),
            json!({"amount": 2_00, "reason": "slow charging", "idempotency_key": "w-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        node.get("/tokens/WALLET-1/wallet").await["balance"],
        300_00 - 42_00 + 2_00,
        "a wallet payment is refunded to the wallet"
    );

    let too_much = json!({"amount": 1_000_00, "method": "sandbox:visa-4242", "idempotency_key": "x-1"});
    let (status, body) = node.post("/tokens/WALLET-1/wallet/withdrawals", too_much).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let declined = json!({"amount": 100_00, "method": "sandbox:declined", "idempotency_key": "x-3"});
    let (status, body) = node.post("/tokens/WALLET-1/wallet/withdrawals", declined).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_declined")), "{body}");
    assert_eq!(
        node.get("/tokens/WALLET-1/wallet").await["balance"],
        260_00,
        "a declined payout leaves the balance as it was"
    );
    let everything = json!({"amount": 260_00, "method": "sandbox:visa-4242", "idempotency_key": "x-2"});
    let (status, wallet) = node.post("/tokens/WALLET-1/wallet/withdrawals", everything).await;
    assert_eq!(status, StatusCode::OK, "{wallet}");
    assert_eq!(wallet["balance"], 0, "the whole balance went back");
    let kinds: Vec<&str> =
        wallet["movements"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "wallet_top_up",
            "wallet_hold",
            "wallet_release",
            "refund",
            "wallet_withdrawal",
            "wallet_withdrawal_declined",
            "wallet_withdrawal"
        ]
    );
    reconciled(&node).await;
    node.stop().await;
}

#[tokio::test]
async fn a_session_re_priced_after_its_capture_is_charged_the_difference_and_refunds_go_back_the_way_they_came() {
    let node = TestNode::start("pay-reprice").await;
    setup(&node).await;
    let mut cp = node.charger("PAY-1").await;
    cp.boot().await.unwrap();
    let tx = cp.start_transaction(1, "CARD-OK", 0, at("2026-08-05T01:30:00Z")).await.unwrap();
    payment_in(&node, tx, "held").await;
    cp.meter_values(1, tx, 15_000, 30_000, at("2026-08-05T01:45:00Z")).await.unwrap();
    // The charger reboots: the node closes the session at its last reading and captures 15 kWh flat.
    cp.boot().await.unwrap();
    let first = payment_in(&node, tx, "captured").await;
    assert_eq!(first["payment"]["captured"], 21_00, "{first}");
    // Its stop arrives afterwards with the real end: 30 kWh, so 21.00 more is charged.
    cp.stop_transaction(tx, 30_000, at("2026-08-05T02:00:00Z"), "EVDisconnected").await.unwrap();
    let mut adjusted = Value::Null;
    for _ in 0..100 {
        adjusted = payment_in(&node, tx, "captured").await;
        if adjusted["payment"]["adjustments"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(adjusted["payment"]["captured"], 42_00, "{adjusted}");
    assert_eq!(adjusted["payment"]["settled_total"], 42_00, "{adjusted}");
    assert_eq!(node.get(&format!("/sessions/{tx}")).await["cost"]["totals"]["incl_tax"], 42_00);
    let references: Vec<&Value> =
        adjusted["movements"].as_array().unwrap().iter().map(|m| &m["provider_reference"]).collect();
    assert_eq!(references.len(), 2, "{adjusted}");
    assert_ne!(references[0], references[1], "the difference is a charge of its own");

    // A full refund goes back through the hold's capture and through the later charge.
    let everything = json!({"amount": 42_00, "reason": "charger fault", "idempotency_key": "all"});
    let (status, refund) = node.post(&format!("/sessions/{tx}/refunds"), everything).await;
    assert_eq!((status, refund["state"].as_str()), (StatusCode::CREATED, Some("done")), "{refund}");
    let paid = node.get(&format!("/sessions/{tx}/payment")).await;
    let back: Vec<(&Value, &Value)> = paid["movements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "refund")
        .map(|m| (&m["provider_reference"], &m["amount"]))
        .collect();
    assert_eq!(back, [(references[0], &json!(21_00)), (references[1], &json!(21_00))]);

    // Re-priced lower later (a corrected reading): the difference would go back, but everything was
    // already refunded, so nothing more moves.
    lower_the_price(&node, tx, 30_00).await;
    node.node().operations.settle_payments().await.unwrap();
    let after = node.get(&format!("/sessions/{tx}/payment")).await;
    assert_eq!(
        (after["payment"]["settled_total"].as_i64(), after["payment"]["refunded"].as_i64()),
        (Some(30_00), Some(42_00))
    );
    assert_eq!(after["refunds"].as_array().unwrap().len(), 1, "{after}");
    reconciled(&node).await;
    node.stop().await;
}

/// Saves a corrected, cheaper CDR for the session, as a re-pricing would.
async fn lower_the_price(node: &TestNode, session: i64, total: i64) {
    node.database()
        .await
        .write(move |tx| {
            Box::pin(async move {
                let body = chargemesh_store::tariffs::cdr(&mut *tx, session).await?.unwrap();
                chargemesh_store::tariffs::save_cdr(tx, session, "CNY", total, &body, jiff::Timestamp::now()).await
            })
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cheaper_re_pricing_refunds_the_difference_once() {
    let node = TestNode::start("pay-cheaper").await;
    setup(&node).await;
    let mut cp = node.charger("PAY-1").await;
    cp.boot().await.unwrap();
    let tx = cp.start_transaction(1, "CARD-OK", 0, at("2026-08-05T01:30:00Z")).await.unwrap();
    payment_in(&node, tx, "held").await;
    cp.stop_transaction(tx, 30_000, at("2026-08-05T02:00:00Z"), "EVDisconnected").await.unwrap();
    payment_in(&node, tx, "captured").await;
    lower_the_price(&node, tx, 40_00).await;
    for _ in 0..3 {
        node.node().operations.settle_payments().await.unwrap();
    }
    let paid = node.get(&format!("/sessions/{tx}/payment")).await;
    assert_eq!((paid["payment"]["captured"].as_i64(), paid["payment"]["refunded"].as_i64()), (Some(42_00), Some(2_00)));
    assert_eq!(paid["refunds"].as_array().unwrap().len(), 1, "{paid}");
    assert!(paid["refunds"][0]["reason"].as_str().unwrap().starts_with("re-priced"), "{paid}");
    reconciled(&node).await;
    node.stop().await;
}

#[tokio::test]
async fn a_top_up_the_node_died_during_is_finished_by_the_worker_once() {
    let node = TestNode::start("pay-top-up-crash").await;
    setup(&node).await;
    // The node recorded the top-up and died before the provider answered.
    node.database()
        .await
        .write(|tx| {
            Box::pin(async move {
                let new = chargemesh_store::payments::NewWalletOperation {
                    request_key: "top-up-WALLET-1-t-9",
                    kind: chargemesh_store::payments::WalletOperationKind::TopUp,
                    id_token: "WALLET-1",
                    method: "sandbox:visa-4242",
                    amount: 50_00,
                    currency: "CNY",
                };
                chargemesh_store::payments::create_wallet_operation(tx, &new, jiff::Timestamp::now()).await
            })
        })
        .await
        .unwrap();
    for _ in 0..2 {
        node.node().operations.settle_payments().await.unwrap();
    }
    assert_eq!(node.get("/tokens/WALLET-1/wallet").await["balance"], 50_00);
    // The driver's app retries the same request: answered from what was done, nothing added.
    let retry = json!({"amount": 50_00, "method": "sandbox:visa-4242", "idempotency_key": "t-9"});
    let (status, wallet) = node.post("/tokens/WALLET-1/wallet/top-ups", retry).await;
    assert_eq!((status, wallet["balance"].as_i64()), (StatusCode::OK, Some(50_00)), "{wallet}");
    let different = json!({"amount": 60_00, "method": "sandbox:visa-4242", "idempotency_key": "t-9"});
    let (status, body) = node.post("/tokens/WALLET-1/wallet/top-ups", different).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    reconciled(&node).await;
    node.stop().await;
}
