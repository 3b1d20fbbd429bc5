//! Crash safety: the node process is killed with SIGKILL while chargers run sessions, restarted on the
//! same data, and every session completes exactly once, is priced and is paid exactly once (held,
//! captured, the books reconciled), on SQLite and on PostgreSQL.

mod common;

use chargemesh_sim::{ChargePoint, Connection};
use common::process::{free_port, login, spawn_node, wait_until_up};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::time::Duration;

const CHARGERS: usize = 5;
const SESSIONS: i64 = 3;
const SAMPLES: i64 = 6;

/// Reconnects the charger, delivering its queue, until it is back online.
async fn deliver(cp: &mut ChargePoint) {
    for _ in 0..600 {
        if cp.is_online() {
            return;
        }
        if cp.come_back().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never got back online", cp.station_id);
}

/// Connects and boots, retrying as a real charger does when the node dies in between.
async fn connect_and_boot(station: &str, connection: Connection) -> ChargePoint {
    for _ in 0..600 {
        if let Ok(mut cp) = ChargePoint::connect(station, connection.clone()).await {
            cp.answer_timeout = Duration::from_secs(2);
            for _ in 0..600 {
                if cp.is_online() && cp.boot().await.is_ok() {
                    return cp;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = cp.come_back().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{station} never booted");
}

/// Runs the charger's sessions; returns how often it found itself cut off by a crash.
async fn run_charger(connection: Connection, index: usize) -> usize {
    let station = format!("CRASH-{index}");
    let card = format!("CRASH-CARD-{index}");
    let mut cp = connect_and_boot(&station, connection).await;
    let base: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let mut meter = 100_000;
    let mut cut_off = 0;
    for session in 0..SESSIONS {
        let start = base + SignedDuration::from_hours(session);
        deliver(&mut cp).await;
        let tx = cp.start_transaction(1, &card, meter, start).await.unwrap();
        for sample in 1..=SAMPLES {
            tokio::time::sleep(Duration::from_millis(40)).await;
            meter += 100;
            let at = start + SignedDuration::from_mins(sample);
            // Offline the charger keeps charging and queues what it would have sent.
            cp.meter_values(1, tx, meter, 6_000, at).await.unwrap();
            if !cp.is_online() {
                cut_off += 1;
                let _ = cp.come_back().await;
            }
        }
        cp.stop_transaction(tx, meter, start + SignedDuration::from_mins(SAMPLES + 1), "Local").await.unwrap();
    }
    deliver(&mut cp).await;
    assert_eq!(cp.queued_messages(), 0);
    cut_off
}

/// The session's payment once captured (the worker sweeps every few seconds after a restart).
async fn captured_payment(client: &reqwest::Client, api: &str, token: &str, session: i64) -> Value {
    for _ in 0..300 {
        let response = client.get(format!("{api}/sessions/{session}/payment")).bearer_auth(token).send().await.unwrap();
        if response.status().is_success() {
            let payment: Value = response.json().await.unwrap();
            if payment["payment"]["state"] == "captured" {
                return payment;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the payment of session {session} was never captured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_node_loses_and_doubles_nothing() {
    kill_and_check("sqlite", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_node_loses_and_doubles_nothing_on_postgres() {
    let url = common::postgres_database("crash").await;
    kill_and_check("postgres", &url).await;
    common::drop_postgres_database(&url).await;
}

async fn kill_and_check(name: &str, database_url: &str) {
    let data_dir = std::env::temp_dir().join(format!("chargemesh-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let (api_port, gateway_port) = (free_port(), free_port());
    let api = format!("http://127.0.0.1:{api_port}/api/v1");
    let client = reqwest::Client::new();
    let mut node = spawn_node(&data_dir, database_url, api_port, gateway_port);
    wait_until_up(&client, &api).await;

    let token = login(&client, &api).await;
    let post = |path: &str, body: Value| client.post(format!("{api}{path}")).bearer_auth(&token).json(&body).send();
    let operator: Value = post("/operators", json!({"name": "Crash Co"})).await.unwrap().json().await.unwrap();
    // 1.00 electricity + 0.50 service per kWh, all day.
    let tariff = json!({"operator_id": operator["id"], "id": "crash-flat", "currency": "CNY", "tax": {"rate": "13", "included": true},
        "valid_from": "2026-01-01T00:00:00Z",
        "elements": [{"components": [{"kind": "energy", "price": "1"}, {"kind": "service_fee", "price": "0.5"}]}]});
    assert_eq!(post("/tariffs", tariff).await.unwrap().status(), 201);
    for i in 0..CHARGERS {
        let status = post("/chargers", json!({"station_id": format!("CRASH-{i}"), "operator_id": operator["id"]}))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201);
        let assigned = client
            .put(format!("{api}/chargers/CRASH-{i}/tariff"))
            .bearer_auth(&token)
            .json(&json!({"tariff_id": "crash-flat"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(assigned, 204);
        let status = client
            .put(format!("{api}/tokens/CRASH-CARD-{i}"))
            .bearer_auth(&token)
            .json(&json!({"operator_id": operator["id"], "payment_method": "sandbox:visa-4242"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }

    let connection = Connection::new(format!("ws://127.0.0.1:{gateway_port}/ocpp"));
    let chargers: Vec<_> = (0..CHARGERS).map(|i| tokio::spawn(run_charger(connection.clone(), i))).collect();
    for kill in 0..2 {
        tokio::time::sleep(Duration::from_millis(350 + 200 * kill)).await;
        node.start_kill().unwrap();
        node.wait().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        node = spawn_node(&data_dir, database_url, api_port, gateway_port);
        wait_until_up(&client, &api).await;
    }
    let mut cut_off = 0;
    for charger in chargers {
        cut_off += tokio::time::timeout(Duration::from_secs(60), charger).await.expect("chargers finish").unwrap();
    }
    assert!(cut_off > 0, "the kills must hit chargers in the middle of their sessions");

    let token = login(&client, &api).await;
    for i in 0..CHARGERS {
        let sessions: Value = client
            .get(format!("{api}/sessions?station_id=CRASH-{i}&limit=100"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sessions = sessions.as_array().unwrap();
        assert_eq!(sessions.len(), SESSIONS as usize, "charger {i}: {sessions:#?}");
        for session in sessions {
            assert_eq!(session["state"], "completed", "{session}");
            assert_eq!(session["stopped_by"], "charger", "{session}");
            assert_eq!(session["energy_mwh"], SAMPLES * 100_000, "{session}");
            // 0.6 kWh at 1.50: 90 fen, captured once however often the node died.
            let payment = captured_payment(&client, &api, &token, session["id"].as_i64().unwrap()).await;
            assert_eq!(payment["payment"]["captured"], 90, "{payment}");
            assert_eq!(payment["movements"].as_array().unwrap().len(), 1, "{payment}");
        }
    }
    let books: Value = client
        .get(format!("{api}/payments/reconciliation"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(books["problems"], json!([]));
    node.start_kill().unwrap();
    let _ = node.wait().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
