//! The node feeds the ledger by itself: it publishes its tariffs, registers its commissioned
//! chargers (installed, calibrated, decommissioned), anchors the charges of other members' drivers
//! at the price the ledger recomputes — and its own drivers' when configured — and records what the
//! drivers' members owe. A restart submits nothing twice.

// Amounts in fen are written yuan_fen (213_45 is ¥213.45).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use chargemesh_chain::consensus::SimplexCertificates;
use chargemesh_core::pseudonym::token_commitment;
use common::{TestNode, guangdong_draft, test_config, two_member_consortium};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const EVSE: &str = "CN*M01*EFEED-1";

async fn put(node: &TestNode, path: &str, body: Value) -> (StatusCode, Value) {
    node.request(Method::PUT, path, &node.token(), Some(body)).await
}

/// Polls `path` until `done` holds for its body (10 s at most).
async fn eventually(node: &TestNode, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let (status, body) = node.request(Method::GET, path, &node.token(), None).await;
        if status == StatusCode::OK && done(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let feed = node.get("/ledger/feed").await;
    panic!("{what}: GET {path} never showed it; the feed says {feed}");
}

fn commissioning(max_power_watts: u64, expires_at: &str) -> Value {
    json!({
        "max_power_watts": max_power_watts,
        "connectors": ["gbt_dc"],
        "metering_certificate": "CPA-2025-0001",
        "calibration_certificate": "CAL-2026-17",
        "calibration_expires_at": expires_at,
    })
}

/// A session from `start_ms` (Unix milliseconds) for one second, charging 500 Wh.
async fn charge(cp: &mut chargemesh_sim::ChargePoint, token: &str, meter_wh: i64, start_ms: i64) -> i64 {
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap();
    let tx = cp.start_transaction(1, token, meter_wh, at(start_ms)).await.unwrap();
    cp.stop_transaction(tx, meter_wh + 500, at(start_ms + 1_000), "EVDisconnected").await.unwrap();
    tx
}

#[tokio::test]
async fn the_node_feeds_its_tariffs_chargers_and_roaming_charges_to_the_ledger() {
    feed(test_config("ledger-feed"), false).await;
}

#[tokio::test]
async fn the_node_feeds_the_ledger_on_postgres_with_its_own_drivers_charges_too() {
    let url = common::postgres_database("ledger_feed").await;
    let mut config = test_config("ledger-feed-pg");
    config.database_url = url.clone();
    feed(config, true).await;
    common::drop_postgres_database(&url).await;
}

async fn feed(mut config: chargemesh_node::config::Config, anchor_own: bool) {
    config.ledger.feed_interval_ms = 100;
    config.ledger.anchor_own_cdrs = anchor_own;
    let genesis = two_member_consortium(&config);
    let node = TestNode::start_with(config.clone()).await;
    let operator = node.provision("Feed Charging", &["FEED-1", "FEED-2"], &["OWN-CARD"]).await;

    // A roaming driver's token names the member the driver belongs to, which must be another
    // member with drivers.
    for (party, problem) in [("CN-M01", "own member"), ("CN-ZZZ", "not a member")] {
        let (status, body) = put(&node, "/tokens/ROAM-1", json!({"operator_id": operator, "emsp_party": party})).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")),
            "{problem}: {body}"
        );
    }
    let (status, body) = put(&node, "/tokens/ROAM-1", json!({"operator_id": operator, "emsp_party": "CN-M02"})).await;
    assert_eq!((status, body["emsp_party"].as_str()), (StatusCode::OK, Some("CN-M02")), "{body}");

    let (status, created) =
        node.post("/tariffs", guangdong_draft(operator, "gd-tou", "2025-01-01T00:00:00+08:00", "0.6")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let site = node.get("/sites").await[0]["id"].as_i64().unwrap();
    let (status, _) = put(&node, &format!("/sites/{site}/tariff"), json!({"tariff_id": "gd-tou"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Commissioning: bad records are refused and change nothing; the identity is fixed once saved.
    let next_year = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365)).to_string();
    let path = "/chargers/FEED-1/commissioning";
    for (body, problem) in [
        (commissioning(0, &next_year), "no power"),
        (commissioning(120_000, "2020-01-01T00:00:00Z"), "calibration lapsed"),
        (
            json!({"max_power_watts": 1, "connectors": [], "metering_certificate": "M", "calibration_certificate": "C", "calibration_expires_at": next_year}),
            "no connector",
        ),
        (
            json!({"max_power_watts": 1, "connectors": ["bogus"], "metering_certificate": "M", "calibration_certificate": "C", "calibration_expires_at": next_year}),
            "unknown connector",
        ),
    ] {
        let (status, body) = put(&node, path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}: {body}");
    }
    let (status, _) = node.request(Method::GET, path, &node.token(), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was saved");
    let (status, record) = put(&node, path, commissioning(120_000, &next_year)).await;
    assert_eq!((status, record["evse_id"].as_str()), (StatusCode::OK, Some(EVSE)), "{record}");
    let (status, body) = put(&node, path, commissioning(60_000, &next_year)).await;
    assert_eq!(status, StatusCode::CONFLICT, "the identity is fixed: {body}");

    // A commissioned charger that never booted waits, and the feed says why.
    let (status, _) = put(&node, "/chargers/FEED-2/commissioning", commissioning(60_000, &next_year)).await;
    assert_eq!(status, StatusCode::OK);
    let feed =
        eventually(&node, "/ledger/feed", "the obstacle", |f| !f["problems"]["charger CN*M01*EFEED-2"].is_null()).await;
    assert_eq!(feed["problems"]["charger CN*M01*EFEED-2"]["code"], "charger_not_booted");

    // FEED-1 booted: registered, installed and calibrated on the ledger; the tariff is published.
    let mut cp = node.charger("FEED-1").await;
    cp.boot().await.unwrap();
    let charger = eventually(&node, &format!("/ledger/chargers/{EVSE}"), "the charger", |c| {
        c["status"] == "active" && !c["calibration"].is_null()
    })
    .await;
    assert_eq!(
        (charger["owner"].as_str(), charger["identity"]["manufacturer"].as_str()),
        (Some("CN-M01"), Some("chargemesh"))
    );
    assert_eq!(charger["identity"]["serial_number"], "FEED-1");
    let commissioned = node.get(path).await;
    assert_eq!(commissioned["ledger"]["status"], "active", "{commissioned}");
    let tariffs = node.get("/ledger/tariffs").await;
    let published = tariffs.as_array().unwrap().iter().find(|t| t["tariff_id"] == "gd-tou").expect("published");
    assert_eq!(published["owner"], "CN-M01");
    let version = &published["versions"][0];
    assert_eq!(version["tariff"]["owner"], "CN-M01");
    // Valid on the node since 2025, it applies on the ledger from its publication on.
    let effective = version["effective_from"].as_i64().unwrap();
    assert_eq!(effective, version["published_at"].as_i64().unwrap());

    // A roaming driver's charge and one of the operator's own drivers, after the publication.
    let start = effective.max(jiff::Timestamp::now().as_millisecond() - 5_000) + 1;
    let roaming = charge(&mut cp, "ROAM-1", 1_000, start).await;
    let own = charge(&mut cp, "OWN-CARD", 1_500, start + 2_000).await;
    tokio::time::sleep(Duration::from_millis((start + 3_000 - jiff::Timestamp::now().as_millisecond()).max(0) as u64))
        .await;

    let cdr_path = format!("/ledger/cdrs/CN-M01/{roaming}");
    let anchored = eventually(&node, &cdr_path, "the roaming charge", |_| true).await;
    let session = node.get(&format!("/sessions/{roaming}")).await;
    let total = session["cost"]["totals"]["incl_tax"].as_i64().unwrap();
    assert!(total > 0, "{session}");
    let entry = &anchored["entry"];
    assert_eq!((entry["anchor"]["emsp"].as_str(), entry["anchor"]["evse_id"].as_str()), (Some("CN-M02"), Some(EVSE)));
    assert_eq!(entry["anchor"]["claimed"]["incl_tax"], total, "the ledger recomputed the node's price");
    let commitment = hex::encode(token_commitment("ROAM-1", &roaming.to_string()));
    assert_eq!(entry["anchor"]["token_commitment"], commitment.as_str());
    assert!(!anchored.to_string().contains("ROAM-1"), "the token itself is not on the ledger");
    let obligations = node.get("/ledger/obligations").await;
    assert_eq!(
        obligations,
        json!([{"period": 0, "currency": "CNY", "debtor": "CN-M02", "creditor": "CN-M01", "amount": total}])
    );

    // The driver's receipt says where the ledger holds the charge; the proof checks offline.
    let receipt =
        eventually(&node, &format!("/sessions/{roaming}/receipt"), "the receipt", |r| !r["ledger"].is_null()).await;
    assert_eq!(receipt["ledger"]["proof"], format!("/api/v1{cdr_path}"));
    assert_eq!(receipt["ledger"]["cdr_hash"], entry["anchor"]["cdr_hash"]);
    let response =
        node.client.get(node.api(&format!("/sessions/{roaming}/cdr"))).bearer_auth(node.token()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cdr = response.bytes().await.unwrap().to_vec();
    let proof: chargemesh_ledger::proof::CdrProof = serde_json::from_value(anchored["proof"].clone()).unwrap();
    let checked =
        chargemesh_ledger::proof::check(&proof, &genesis, Some(&cdr), &SimplexCertificates).expect("the proof holds");
    assert_eq!(checked.cdr_id, roaming.to_string());
    let mut altered = cdr.clone();
    altered[10] ^= 1;
    assert!(
        chargemesh_ledger::proof::check(&proof, &genesis, Some(&altered), &SimplexCertificates).is_err(),
        "an altered CDR is caught"
    );

    let own_path = format!("/ledger/cdrs/CN-M01/{own}");
    if anchor_own {
        let own_entry = eventually(&node, &own_path, "the own driver's charge", |_| true).await;
        assert_eq!(own_entry["entry"]["anchor"]["emsp"], "CN-M01");
        assert_ne!(
            own_entry["entry"]["anchor"]["token_commitment"],
            hex::encode(token_commitment("OWN-CARD", &own.to_string())).as_str(),
            "own drivers appear under a pseudonym"
        );
        assert_eq!(node.get("/ledger/obligations").await.as_array().unwrap().len(), 1, "own drivers owe nothing");
    }
    let settled = eventually(&node, "/ledger/feed", "a quiet feed", |f| f["waiting"] == json!({})).await;
    assert_eq!(settled["problems"].as_object().unwrap().keys().collect::<Vec<_>>(), ["charger CN*M01*EFEED-2"]);
    if !anchor_own {
        let (status, _) = node.request(Method::GET, &own_path, &node.token(), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "own drivers' charges stay off the ledger by default");
    }

    // Restarted, the node finds everything on the ledger and submits nothing again.
    let height = node.get("/ledger").await["height"].as_u64().unwrap();
    let data_dir = config.data_dir.clone();
    let mut node = node;
    node.node.take().unwrap().stop().await;
    let node = TestNode::start_with(config).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let summary = node.get("/ledger").await;
    assert_eq!(
        (summary["height"].as_u64(), summary["mempool"].as_u64()),
        (Some(height), Some(0)),
        "nothing resubmitted"
    );

    // Decommissioned for good: the ledger records it.
    let (status, body) = node.request(Method::DELETE, path, &node.token(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually(&node, &format!("/ledger/chargers/{EVSE}"), "the decommissioning", |c| c["status"] == "decommissioned")
        .await;
    let (status, _) = node.request(Method::DELETE, path, &node.token(), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    node.stop().await;
    let _ = std::fs::remove_dir_all(data_dir);
}
