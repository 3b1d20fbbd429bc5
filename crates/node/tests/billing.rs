//! Tariffs through the API and sessions priced end to end through the simulator: the price fixed at
//! the start, the live cost rising while charging, the priced CDR at the stop.

// Amounts in fen are written yuan_fen (213_45 is ¥213.45).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{TestNode, at, guangdong_draft};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A live subscription to a session's cost.
async fn subscribe(node: &TestNode, session: i64) -> yawc::WebSocket<tokio::net::TcpStream> {
    let url: url::Url = format!("ws://{}/api/v1/sessions/{session}/live", node.node().api_addr).parse().unwrap();
    let tcp = tokio::net::TcpStream::connect(node.node().api_addr).await.unwrap();
    let request = yawc::HttpRequest::builder().header("Authorization", format!("Bearer {}", node.token()));
    yawc::WebSocket::handshake_with_request(url, tcp, yawc::Options::default(), request).await.unwrap()
}

/// The next update pushed on a live subscription.
async fn next_update(live: &mut yawc::WebSocket<tokio::net::TcpStream>) -> Value {
    use futures::StreamExt;
    let frame =
        tokio::time::timeout(std::time::Duration::from_secs(5), live.next()).await.expect("an update").expect("open");
    serde_json::from_slice(frame.payload()).unwrap()
}

async fn site_of(node: &TestNode, operator_id: i64) -> i64 {
    let sites = node.get("/sites").await;
    sites.as_array().unwrap().iter().find(|s| s["operator_id"] == operator_id).unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_session_is_priced_live_and_at_the_stop_under_the_version_in_force_at_its_start() {
    priced_session(TestNode::start("billing").await).await;
}

#[tokio::test]
async fn a_session_is_priced_on_postgres() {
    let url = common::postgres_database("billing").await;
    let mut config = common::test_config("billing-pg");
    config.database_url = url.clone();
    priced_session(TestNode::start_with(config).await).await;
    common::drop_postgres_database(&url).await;
}

async fn priced_session(node: TestNode) {
    let operator = node.provision("Pearl River Charging", &["GD-1"], &["GD-CARD"]).await;
    let (status, created) =
        node.post("/tariffs", guangdong_draft(operator, "gd-tou", "2025-01-01T00:00:00+08:00", "0.6")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["tariff"]["version"], 1);
    // Version 2 takes effect later: sessions that started before keep version 1.
    let (status, v2) = node
        .post("/tariffs/gd-tou/versions", guangdong_draft(operator, "gd-tou", "2027-01-01T00:00:00+08:00", "0.7"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["tariff"]["version"], 2);
    let site = site_of(&node, operator).await;
    let (status, body) = node
        .request(
            reqwest::Method::PUT,
            &format!("/sites/{site}/tariff"),
            &node.token(),
            Some(json!({"tariff_id": "gd-tou"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let mut cp = node.charger("GD-1").await;
    cp.boot().await.unwrap();
    // Tuesday 5 August 2026, 09:30 in Shanghai: flat until 10:00, peak until 11:00, then sharp (summer).
    let tx = cp.start_transaction(1, "GD-CARD", 0, at("2026-08-05T01:30:00Z")).await.unwrap();
    let mut live = subscribe(&node, tx).await;
    assert_eq!(next_update(&mut live).await["cost"]["totals"]["incl_tax"], 0, "nothing charged yet");
    cp.meter_values(1, tx, 30_000, 30_000, at("2026-08-05T02:00:00Z")).await.unwrap();
    let update = next_update(&mut live).await;
    assert_eq!(
        (update["energy_mwh"].as_i64(), update["cost"]["totals"]["incl_tax"].as_i64()),
        (Some(30_000_000), Some(42_00))
    );
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!((session["tariff_id"].as_str(), session["tariff_version"].as_i64()), (Some("gd-tou"), Some(1)));
    assert_eq!(session["time_zone"], "Asia/Shanghai");
    assert_eq!(session["cost"]["totals"]["incl_tax"], 42_00, "30 kWh flat at 0.60 + 0.80: {}", session["cost"]);
    cp.meter_values(1, tx, 90_000, 30_000, at("2026-08-05T03:00:00Z")).await.unwrap();
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(session["cost"]["totals"]["incl_tax"], 42_00 + 109_20, "the live cost rises while charging");
    assert_eq!(next_update(&mut live).await["cost"]["totals"]["incl_tax"], 42_00 + 109_20, "pushed live as well");
    cp.stop_transaction(tx, 120_000, at("2026-08-05T03:30:00Z"), "EVDisconnected").await.unwrap();
    let last = next_update(&mut live).await;
    assert_eq!(
        (last["state"].as_str(), last["cost"]["totals"]["incl_tax"].as_i64()),
        (Some("completed"), Some(213_45))
    );

    let session = node.get(&format!("/sessions/{tx}")).await;
    let cdr = &session["cost"];
    assert_eq!(cdr["tariff_id"], "gd-tou");
    assert_eq!(cdr["tariff_version"], 1);
    assert_eq!(cdr["totals"]["energy"], 117_45);
    assert_eq!(cdr["totals"]["service_fee"], 96_00);
    assert_eq!(cdr["totals"]["incl_tax"], 213_45);
    let labels: Vec<&str> = cdr["lines"].as_array().unwrap().iter().map(|l| l["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["flat", "flat", "peak", "peak", "sharp", "sharp"]);

    let receipt = node.get(&format!("/sessions/{tx}/receipt")).await;
    assert_eq!(receipt["totals"]["total"], "213.45");
    assert_eq!(receipt["totals"]["electricity"], "117.45");
    assert_eq!((receipt["tariff_id"].as_str(), receipt["tariff_version"].as_i64()), (Some("gd-tou"), Some(1)));
    assert_eq!(receipt["started"], "2026-08-05 09:30:00");
    assert_eq!(receipt["energy_kwh"], "120.000");
    let lines = receipt["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 6);
    assert_eq!(
        (lines[0]["period"].as_str(), lines[0]["quantity"].as_str(), lines[0]["amount_incl_tax"].as_str()),
        (Some("09:30–10:00"), Some("30.000 kWh"), Some("18.00"))
    );
    for (lang, words) in
        [("zh", ["电费", "服务费", "合计", "版本 1"]), ("en", ["Electricity", "Service fee", "Total", "version 1"])]
    {
        let (status, page) = node
            .request(reqwest::Method::GET, &format!("/sessions/{tx}/receipt.html?lang={lang}"), &node.token(), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let page = page.as_str().unwrap();
        for word in words.iter().chain(&["213.45", "gd-tou", "11:00–11:30", "38.25"]) {
            assert!(page.contains(word), "{lang} receipt lacks {word:?}: {page}");
        }
    }

    // The same charge after version 2 took effect: 0.10 more per kWh while flat, 30 kWh, ¥3.00.
    let tx2 = cp.start_transaction(1, "GD-CARD", 120_000, at("2027-08-03T01:30:00Z")).await.unwrap();
    cp.meter_values(1, tx2, 150_000, 30_000, at("2027-08-03T02:00:00Z")).await.unwrap();
    cp.meter_values(1, tx2, 210_000, 30_000, at("2027-08-03T03:00:00Z")).await.unwrap();
    let (status, running) =
        node.request(reqwest::Method::GET, &format!("/sessions/{tx2}/receipt"), &node.token(), None).await;
    assert_eq!((status, running["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{running}");
    cp.stop_transaction(tx2, 240_000, at("2027-08-03T03:30:00Z"), "EVDisconnected").await.unwrap();
    let second = node.get(&format!("/sessions/{tx2}")).await;
    assert_eq!(second["tariff_version"], 2);
    assert_eq!(second["cost"]["totals"]["incl_tax"], 213_45 + 3_00);
    node.stop().await;
}

#[tokio::test]
async fn bad_tariffs_are_refused_by_field_and_nothing_is_saved() {
    let node = TestNode::start("bad-tariffs").await;
    let operator = node.provision("Careful Charging", &[], &[]).await;

    let mut overlapping = guangdong_draft(operator, "bad-1", "2025-01-01T00:00:00Z", "0.6");
    overlapping["time_of_use"]["schedules"][1]["slots"][1]["start"] = json!("07:00");
    let (status, error) = node.post("/tariffs", overlapping).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["code"], "invalid_tariff");
    assert_eq!(error["details"][0]["field"], "time_of_use.schedules[1].slots[1].start", "{error}");

    let negative = json!({"operator_id": operator, "id": "bad-2", "currency": "CNY", "tax": {"rate": "13", "included": true},
        "elements": [{"components": [{"kind": "energy", "price": "-0.5"}]}]});
    let (status, error) = node.post("/tariffs", negative).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["field"], "elements[0].components[0].price", "{error}");

    let gap = json!({"operator_id": operator, "id": "bad-3", "currency": "CNY", "tax": {"rate": "13", "included": true},
        "elements": [{"components": [{"kind": "energy", "price": "1"}], "restrictions": {"start_time": "08:00", "end_time": "22:00"}}]});
    let (status, error) = node.post("/tariffs", gap).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["message"].as_str().unwrap().contains("energy has no price"), "{error}");

    let unknown_currency = json!({"operator_id": operator, "id": "bad-4", "currency": "XYZ", "tax": {"rate": "0", "included": true},
        "elements": [{"components": [{"kind": "energy", "price": "1"}]}]});
    let (status, error) = node.post("/tariffs", unknown_currency).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["message"].as_str().unwrap().contains("currency"), "{error}");

    let (status, _) =
        node.post("/tariffs/validate", guangdong_draft(operator, "good", "2025-01-01T00:00:00Z", "0.6")).await;
    assert_eq!(status, StatusCode::OK);
    let listed = node.get("/tariffs").await;
    assert_eq!(listed.as_array().unwrap().len(), 0, "nothing was saved: {listed}");
    node.stop().await;
}

#[tokio::test]
async fn tariffs_are_previewed_and_projected_onto_wire_formats() {
    let node = TestNode::start("tariff-projections").await;
    let operator = node.provision("Projected Charging", &[], &[]).await;
    let (status, created) =
        node.post("/tariffs", guangdong_draft(operator, "gd", "2025-01-01T00:00:00+08:00", "0.6")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    let (status, preview) = node
        .post(
            "/tariffs/gd/preview",
            json!({"periods": [{"start": "2025-08-05T01:30:00Z", "end": "2025-08-05T03:30:00Z", "energy": 120_000_000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["totals"]["incl_tax"], 213_45);

    let ykc = node.get("/tariffs/gd/versions/1/projection?format=ykc&date=2025-08-05&model_number=7").await;
    assert_eq!(ykc["model_number"], 7);
    assert_eq!(ykc["prices"][0], json!([127_500, 80_000]));
    let tcec = node.get("/tariffs/gd/versions/1/projection?format=tcec&date=2025-10-14").await;
    assert_eq!(tcec["SumPeriod"], 6);
    let (status, refused) =
        node.request(reqwest::Method::GET, "/tariffs/gd/versions/1/projection?format=ocpi", &node.token(), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["code"], "not_expressible");
    assert!(refused["details"][0]["field"].as_str().unwrap().starts_with("elements["), "{refused}");
    node.stop().await;
}
