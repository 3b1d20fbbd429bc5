//! Sessions driven end to end through the simulator: the gateway, operations and store together.

mod common;

use common::{TestNode, at, eventually};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_full_session_is_recorded_with_its_energy() {
    full_session(TestNode::start("full-session").await).await;
}

#[tokio::test]
async fn a_full_session_is_recorded_with_its_energy_on_postgres() {
    let url = common::postgres_database("full_session").await;
    let mut config = common::test_config("full-session-pg");
    config.database_url = url.clone();
    full_session(TestNode::start_with(config).await).await;
    common::drop_postgres_database(&url).await;
}

async fn full_session(node: TestNode) {
    node.provision("Shenzhen Volt", &["CP-1"], &["CARD-1"]).await;
    let mut cp = node.charger("CP-1").await;
    let boot = cp.boot().await.unwrap();
    assert_eq!(boot["status"], "Accepted");
    assert_eq!(boot["interval"], 300);
    cp.heartbeat().await.unwrap();
    cp.status(1, "Preparing").await.unwrap();
    assert_eq!(cp.authorize("CARD-1").await.unwrap(), "Accepted");
    assert_eq!(cp.authorize("STRANGER").await.unwrap(), "Invalid");
    let tx = cp.start_transaction(1, "CARD-1", 10_000, at("2026-03-01T08:00:00Z")).await.unwrap();
    cp.meter_values(1, tx, 12_500, 30_000, at("2026-03-01T08:05:00Z")).await.unwrap();
    // A reading in kWh is normalized like one in Wh.
    cp.call(
        "MeterValues",
        json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": "2026-03-01T08:10:00Z",
            "sampledValue": [{"value": "15.25", "unit": "kWh", "measurand": "Energy.Active.Import.Register"}]}]}),
    )
    .await
    .unwrap();
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(session["state"], "active");
    assert_eq!(session["energy_mwh"], 5_250_000, "live energy while charging");
    cp.stop_transaction(tx, 17_000, at("2026-03-01T08:12:00Z"), "EVDisconnected").await.unwrap();

    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(session["state"], "completed");
    assert_eq!(session["stopped_by"], "charger");
    assert_eq!(session["stop_reason"], "EVDisconnected");
    assert_eq!(session["meter_start_mwh"], 10_000_000);
    assert_eq!(session["meter_stop_mwh"], 17_000_000);
    assert_eq!(session["energy_mwh"], 7_000_000);
    assert_eq!(session["started_at"], "2026-03-01T08:00:00Z");
    let registers: Vec<i64> =
        session["meter_values"].as_array().unwrap().iter().filter_map(|v| v["register_mwh"].as_i64()).collect();
    assert_eq!(registers, vec![12_500_000, 15_250_000]);
    let charger = node.get("/chargers/CP-1").await;
    assert_eq!(charger["connected"], true);
    assert_eq!(charger["vendor"], "chargemesh");
    assert_eq!(charger["connectors"][0]["status"], "Preparing");
    node.stop().await;
}

#[tokio::test]
async fn a_hundred_chargers_charge_at_once() {
    let node = TestNode::start("hundred").await;
    let stations: Vec<String> = (0..100).map(|i| format!("MASS-{i:03}")).collect();
    let cards: Vec<String> = (0..100).map(|i| format!("MASS-CARD-{i:03}")).collect();
    let station_refs: Vec<&str> = stations.iter().map(String::as_str).collect();
    let card_refs: Vec<&str> = cards.iter().map(String::as_str).collect();
    node.provision("Mass Charging", &station_refs, &card_refs).await;
    let mut tasks = Vec::new();
    for (station, card) in stations.iter().cloned().zip(cards.iter().cloned()) {
        let connection = node.connection();
        tasks.push(tokio::spawn(async move {
            let mut cp = chargemesh_sim::ChargePoint::connect(&station, connection).await.unwrap();
            cp.boot().await.unwrap();
            let tx = cp.start_transaction(1, &card, 0, at("2026-03-02T10:00:00Z")).await.unwrap();
            for minute in 1..=3 {
                let when = at("2026-03-02T10:00:00Z") + jiff::SignedDuration::from_mins(minute);
                cp.meter_values(1, tx, minute * 500, 30_000, when).await.unwrap();
            }
            cp.stop_transaction(tx, 2_000, at("2026-03-02T10:04:00Z"), "Local").await.unwrap();
            tx
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100, "every charger got its own transaction");
    let completed = node.get("/sessions?state=completed&limit=500").await;
    let completed = completed.as_array().unwrap();
    assert_eq!(completed.len(), 100);
    assert!(completed.iter().all(|s| s["energy_mwh"] == 2_000_000));
    node.stop().await;
}

#[tokio::test]
async fn queued_offline_messages_make_one_complete_session() {
    let node = TestNode::start("offline").await;
    node.provision("Offline Co", &["OFF-1"], &["OFF-CARD"]).await;
    let mut cp = node.charger("OFF-1").await;
    cp.boot().await.unwrap();
    cp.go_offline();
    // While offline the charger keeps charging and queues its transaction messages.
    let local = cp.start_transaction(1, "OFF-CARD", 50_000, at("2026-03-03T21:00:00Z")).await.unwrap();
    assert!(local < 0, "offline, the charger has no transaction id yet");
    cp.meter_values(1, local, 52_000, 11_000, at("2026-03-03T21:10:00Z")).await.unwrap();
    cp.meter_values(1, local, 54_000, 11_000, at("2026-03-03T21:20:00Z")).await.unwrap();
    cp.stop_transaction(local, 55_500, at("2026-03-03T21:28:00Z"), "Local").await.unwrap();
    assert_eq!(cp.queued_messages(), 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    cp.come_back().await.unwrap();
    assert_eq!(cp.queued_messages(), 0);

    let sessions = node.sessions_of("OFF-1").await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let session = &sessions[0];
    assert_eq!(session["state"], "completed");
    assert_eq!(session["started_at"], "2026-03-03T21:00:00Z", "original timestamps are kept");
    assert_eq!(session["stopped_at"], "2026-03-03T21:28:00Z");
    assert_eq!(session["energy_mwh"], 5_500_000);
    node.stop().await;
}

#[tokio::test]
async fn repeated_starts_and_stops_count_once() {
    let node = TestNode::start("duplicates").await;
    node.provision("Dup Co", &["DUP-1"], &["DUP-CARD"]).await;
    let mut cp = node.charger("DUP-1").await;
    cp.boot().await.unwrap();
    let start = json!({"connectorId": 1, "idTag": "DUP-CARD", "meterStart": 1000, "timestamp": "2026-03-04T09:00:00Z"});
    let first = cp.call_with_id("start-1", "StartTransaction", start.clone()).await.unwrap();
    // The same message again, and the same start under a new message id (a retry after reconnect).
    let again = cp.call_with_id("start-1", "StartTransaction", start.clone()).await.unwrap();
    let other_id = cp.call_with_id("start-2", "StartTransaction", start).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(first["transactionId"], other_id["transactionId"]);
    let tx = first["transactionId"].as_i64().unwrap();

    let stop = json!({"transactionId": tx, "meterStop": 4000, "timestamp": "2026-03-04T09:30:00Z", "reason": "Local"});
    cp.call_with_id("stop-1", "StopTransaction", stop.clone()).await.unwrap();
    cp.call_with_id("stop-1", "StopTransaction", stop.clone()).await.unwrap();
    // A second stop with another id and other numbers must not replace the first.
    let late = json!({"transactionId": tx, "meterStop": 9000, "timestamp": "2026-03-04T10:30:00Z", "reason": "Other"});
    cp.call_with_id("stop-2", "StopTransaction", late).await.unwrap();

    let sessions = node.sessions_of("DUP-1").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["energy_mwh"], 3_000_000);
    assert_eq!(sessions[0]["stopped_at"], "2026-03-04T09:30:00Z");
    node.stop().await;
}

#[tokio::test]
async fn a_reboot_closes_the_orphaned_transaction_with_a_reason() {
    let node = TestNode::start("reboot").await;
    node.provision("Reboot Co", &["RB-1"], &["RB-CARD"]).await;
    let mut cp = node.charger("RB-1").await;
    cp.boot().await.unwrap();
    let tx = cp.start_transaction(1, "RB-CARD", 2_000, at("2026-03-05T12:00:00Z")).await.unwrap();
    cp.meter_values(1, tx, 3_000, 7_000, at("2026-03-05T12:10:00Z")).await.unwrap();
    cp.meter_values(1, tx, 3_700, 7_000, at("2026-03-05T12:16:00Z")).await.unwrap();
    // Power cut: the charger comes back with a BootNotification and never sends the stop.
    cp.go_offline();
    let mut cp = node.charger("RB-1").await;
    cp.boot().await.unwrap();

    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(session["state"], "completed");
    assert_eq!(session["stop_reason"], "Reboot");
    assert_eq!(session["stopped_by"], "node");
    assert_eq!(session["meter_stop_mwh"], 3_700_000, "closed at the last reading");
    assert_eq!(session["stopped_at"], "2026-03-05T12:16:00Z");
    assert_eq!(session["energy_mwh"], 1_700_000);

    // If the charger still delivers its stop later, the charger's own record wins.
    cp.stop_transaction(tx, 3_900, at("2026-03-05T12:18:00Z"), "PowerLoss").await.unwrap();
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(session["stopped_by"], "charger");
    assert_eq!(session["stop_reason"], "PowerLoss");
    assert_eq!(session["energy_mwh"], 1_900_000);
    node.stop().await;
}

#[tokio::test]
async fn a_new_connection_replaces_the_old_one_at_once() {
    let node = TestNode::start("replace").await;
    node.provision("Ghost Co", &["GH-1"], &["GH-CARD"]).await;
    let mut old = node.charger("GH-1").await;
    old.boot().await.unwrap();
    let mut new = node.charger("GH-1").await;
    new.heartbeat().await.unwrap();
    // The old socket was closed by the node.
    assert!(old.heartbeat().await.is_err());
    assert_eq!(node.get("/chargers/GH-1").await["connected"], true);
    new.heartbeat().await.unwrap();
    node.stop().await;
}

#[tokio::test]
async fn zero_readings_from_an_offline_charger_are_not_billed() {
    let node = TestNode::start("zero-begin").await;
    node.provision("Trap Co", &["TRAP-1", "TRAP-2"], &["TRAP-CARD", "TRAP-CARD-2"]).await;
    let mut cp = node.charger("TRAP-1").await;
    cp.boot().await.unwrap();
    // The start is right, but the stop carries a Transaction.Begin reading of 0.
    let tx = cp.start_transaction(1, "TRAP-CARD", 910_000, at("2026-03-06T07:00:00Z")).await.unwrap();
    let stop = json!({"transactionId": tx, "meterStop": 910_083, "timestamp": "2026-03-06T07:10:00Z", "reason": "Local",
    "transactionData": [
        {"timestamp": "2026-03-06T07:00:00Z", "sampledValue": [{"value": "0", "context": "Transaction.Begin"}]},
        {"timestamp": "2026-03-06T07:10:00Z", "sampledValue": [{"value": "910083", "context": "Transaction.End"}]}
    ]});
    cp.call("StopTransaction", stop).await.unwrap();
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(session["energy_mwh"], 83_000);
    assert_eq!(session["meter_values"].as_array().unwrap().len(), 2, "both readings are kept verbatim");

    // The start itself is 0 while the register stands at 910 kWh: the zero is not believed.
    let mut cp = node.charger("TRAP-2").await;
    cp.boot().await.unwrap();
    let tx = cp.start_transaction(1, "TRAP-CARD-2", 0, at("2026-03-06T08:00:00Z")).await.unwrap();
    cp.meter_values(1, tx, 910_000, 7_000, at("2026-03-06T08:01:00Z")).await.unwrap();
    cp.stop_transaction(tx, 910_083, at("2026-03-06T08:10:00Z"), "Local").await.unwrap();
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(session["energy_mwh"], 83_000);
    assert_eq!(session["energy_flags"], "zero_start_ignored");
    node.stop().await;
}

#[tokio::test]
async fn a_charger_that_stops_answering_pings_is_disconnected() {
    let mut config = common::test_config("ping");
    config.gateway.ping_interval_secs = 1;
    let node = TestNode::start_with(config).await;
    node.provision("Ping Co", &["PING-1", "PING-2"], &[]).await;
    let mut silent = node.charger("PING-1").await;
    silent.boot().await.unwrap();
    let mut lively = node.charger("PING-2").await;
    lively.boot().await.unwrap();
    // The lively charger reads (and so answers pings); the silent one reads nothing at all.
    lively.serve_for(Duration::from_millis(3_500)).await.unwrap();
    assert_eq!(node.get("/chargers/PING-1").await["connected"], false);
    assert_eq!(node.get("/chargers/PING-2").await["connected"], true);
    drop(silent);
    node.stop().await;
}

#[tokio::test]
async fn a_misbehaving_fleet_still_completes_its_sessions() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let node = TestNode::start("fleet").await;
    node.provision("Fleet Co", &["FL-1", "FL-2", "FL-3"], &["FL-CARD-1", "FL-CARD-2", "FL-CARD-3"]).await;
    let fleet = chargemesh_sim::FleetConfig {
        connection: node.connection(),
        stations: vec!["FL-1".into(), "FL-2".into(), "FL-3".into()],
        cards: vec!["FL-CARD-1".into(), "FL-CARD-2".into(), "FL-CARD-3".into()],
        sample_interval: Duration::from_millis(20),
        samples_per_session: 4,
        // Very short samples: a 350 kW charger still moves its register by whole watt-hours.
        power_watts: 350_000,
        misbehave_every: Some(2),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(chargemesh_sim::run_fleet(fleet, stop.clone()));
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let report = running.await.unwrap();
    assert!(report.sessions_completed.load(Ordering::Relaxed) >= 3, "{report:?}");
    assert_eq!(report.errors.load(Ordering::Relaxed), 0, "bad input must not break a charger's sessions");
    let completed = node.get("/sessions?state=completed&limit=500").await;
    assert!(completed.as_array().unwrap().iter().all(|s| s["energy_mwh"].as_i64().unwrap() > 0));
    // The bad input was sent, and answered in OCPP's terms.
    let metrics = node.client.get(format!("http://{}/metrics", node.node().api_addr)).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    for code in ["FormationViolation", "NotImplemented"] {
        assert!(
            metrics.contains(&format!("chargemesh_ocpp_errors_total{{code=\"{code}\"}}")),
            "{code} missing:\n{metrics}"
        );
    }
    node.stop().await;
}

/// A simulated charger of `station` charging with `cards` (none: started by the node) until `stop`.
fn fleet_of(node: &TestNode, station: &str, cards: &[&str]) -> chargemesh_sim::FleetConfig {
    chargemesh_sim::FleetConfig {
        connection: node.connection(),
        stations: vec![station.into()],
        cards: cards.iter().map(|c| (*c).to_owned()).collect(),
        sample_interval: Duration::from_millis(50),
        samples_per_session: 100_000,
        power_watts: 50_000,
        misbehave_every: None,
    }
}

/// A simulated charger stops when the node asks it to (RemoteStopTransaction), as a real one does,
/// and charges again with the next tap.
#[tokio::test]
async fn a_fleet_charger_stops_when_asked_and_charges_again() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let node = TestNode::start("fleet-remote-stop").await;
    node.provision("Fleet Co", &["RS-1"], &["RS-CARD-1"]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(chargemesh_sim::run_fleet(fleet_of(&node, "RS-1", &["RS-CARD-1"]), stop.clone()));
    eventually("the fleet's first session", || async {
        node.sessions_of("RS-1").await.first().is_some_and(|s| s["state"] == "active")
    })
    .await;
    let first = node.sessions_of("RS-1").await[0]["id"].as_i64().unwrap();
    let (status, answer) =
        node.post("/chargers/RS-1/commands", json!({"command": "remote_stop", "transaction_id": first})).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
    eventually("the session stopped remotely and the next one started", || async {
        let sessions = node.sessions_of("RS-1").await;
        let stopped =
            sessions.iter().any(|s| s["id"] == first && s["state"] == "completed" && s["stop_reason"] == "Remote");
        stopped && sessions.iter().any(|s| s["id"] != first && s["state"] == "active")
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    running.await.unwrap();
    node.stop().await;
}

/// A simulated charger without a card waits for the node to start it, and charges with the id the
/// node sent (as for a driver starting from the app).
#[tokio::test]
async fn a_fleet_charger_without_cards_starts_when_the_node_asks() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let node = TestNode::start("fleet-remote-start").await;
    node.provision("Fleet Co", &["RM-1"], &["RM-CARD-1"]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(chargemesh_sim::run_fleet(fleet_of(&node, "RM-1", &[]), stop.clone()));
    eventually("the charger connected", || async { node.get("/chargers/RM-1").await["connected"] == true }).await;
    assert!(node.sessions_of("RM-1").await.is_empty(), "nobody started it");
    let (status, answer) = node
        .post("/chargers/RM-1/commands", json!({"command": "remote_start", "connector": 1, "id_token": "RM-CARD-1"}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
    eventually("the session of the card the node sent", || async {
        node.sessions_of("RM-1").await.iter().any(|s| s["id_token"] == "RM-CARD-1" && s["state"] == "active")
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    running.await.unwrap();
    node.stop().await;
}
