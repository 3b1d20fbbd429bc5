//! `chargemesh-dev bench roaming`: a cross-member start, timed from the driver's request at member A's
//! node to the RemoteStartTransaction reaching member B's charger, one start after another. Both
//! members' nodes run in this process on loopback, each with its own data directory and its part
//! of one two-member ledger; B's charger is simulated. Prints a report for BENCHMARKS.md.

use crate::local_consortium::{self, Addresses, Api, Clearing, free_address};
use chargemesh_node::Node;
use chargemesh_node::config::Config;
use chargemesh_sim::load::Latencies;
use chargemesh_sim::{ChargePoint, Connection};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-roaming-admin";
const MEMBERS: [&str; 2] = ["CN-M01", "CN-M02"];
/// How long one start may take before the run is abandoned.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(starts: usize) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("chargemesh-bench-roaming-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let members: Vec<String> = MEMBERS.iter().map(|m| (*m).to_owned()).collect();
    let addresses = |_| Ok(Addresses { api: free_address()?, gateway: free_address()?, p2p: free_address()? });
    let clearing = Clearing { period_ms: 86_400_000, dispute_window_ms: 86_400_000 };
    let configs = local_consortium::configs(&dir, &members, addresses, (clearing, Vec::new()), PASSWORD)?;
    let emsp = Node::start(&configs[0]).await.map_err(|e| format!("member A's node: {e}"))?;
    let cpo = Node::start(&configs[1]).await.map_err(|e| format!("member B's node: {e}"))?;
    let result = measure(&emsp, &cpo, &configs[1], starts).await;
    cpo.stop().await;
    emsp.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    let (to_charger, answered) = result?;
    Ok(report(starts, to_charger, answered))
}

fn report(starts: usize, mut to_charger: Latencies, mut answered: Latencies) -> String {
    let mut report = format!("machine: {}\n", super::machine());
    report.push_str(&format!(
        "{starts} starts, one after another, a driver at member A's driver API to member B's charger (loopback)\n"
    ));
    for (what, latencies) in
        [("request at A -> RemoteStart at B's charger", &mut to_charger), ("request at A -> A's answer", &mut answered)]
    {
        report.push_str(&format!(
            "{what}: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
            latencies.percentile_ms(50.0),
            latencies.percentile_ms(90.0),
            latencies.percentile_ms(99.0),
            latencies.percentile_ms(100.0),
        ));
    }
    report
}

/// Provisions a driver at A and a commissioned charger at B, connects it, waits until A knows its
/// location, and times `starts` starts.
async fn measure(
    emsp: &Node,
    cpo: &Node,
    cpo_config: &Config,
    starts: usize,
) -> Result<(Latencies, Latencies), String> {
    use reqwest::Method;
    let (a, b) = (Api::login(emsp, PASSWORD).await?, Api::login(cpo, PASSWORD).await?);
    let (_, driver_co) = a.call(Method::POST, "/operators", json!({"name": "Driver Mobility"})).await?;
    let account = json!({"username": "bench-driver", "password": PASSWORD, "operator_id": driver_co["id"]});
    a.call(Method::POST, "/drivers", account).await?;
    let driver = Api::driver_login(emsp, "bench-driver", PASSWORD).await?;
    let (_, charger_co) = b.call(Method::POST, "/operators", json!({"name": "Charger Co"})).await?;
    let site = json!({"operator_id": charger_co["id"], "name": "Bench site", "time_zone": "Asia/Shanghai",
        "latitude": 22.55, "longitude": 114.1, "city": "Shenzhen"});
    let (_, site) = b.call(Method::POST, "/sites", site).await?;
    let charger = json!({"station_id": "BENCH-1", "operator_id": charger_co["id"], "site_id": site["id"]});
    b.call(Method::POST, "/chargers", charger).await?;
    let next_year = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365)).to_string();
    let commissioning = json!({"max_power_watts": 60_000, "connectors": ["gbt_dc"], "metering_certificate": "CPA-1",
        "calibration_certificate": "CAL-1", "calibration_expires_at": next_year});
    b.call(Method::PUT, "/chargers/BENCH-1/commissioning", commissioning).await?;
    let connection = Connection::new(cpo.charger_url(cpo_config));
    let mut charger = ChargePoint::connect("BENCH-1", connection).await.map_err(|e| e.to_string())?;
    charger.boot().await.map_err(|e| e.to_string())?;
    charger.status(1, "Available").await.map_err(|e| e.to_string())?;

    let deadline = Instant::now() + Duration::from_secs(60);
    let location_id = loop {
        let (_, locations) = a.call(Method::GET, "/roaming/locations?cpo=CN-M02", Value::Null).await?;
        if let Some(id) = locations[0]["id"].as_str().filter(|_| locations[0]["evses"][0]["status"] == "AVAILABLE") {
            break id.to_owned();
        }
        if Instant::now() > deadline {
            return Err("member A never received member B's location".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The charger answers every command and notes when each RemoteStart arrives.
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let serving = tokio::spawn(async move {
        while let Ok(Some(_)) = charger.serve_until("RemoteStartTransaction", START_TIMEOUT).await {
            if arrived.send(Instant::now()).is_err() {
                break;
            }
        }
    });
    let request = json!({"operator": "CN-M02", "location_id": location_id, "evse_uid": "BENCH-1"});
    let (mut to_charger, mut answered) = (Latencies::default(), Latencies::default());
    for n in 0..starts {
        let sent = Instant::now();
        let (_, start) = driver.call(Method::POST, "/driver/charges", request.clone()).await?;
        answered.record(sent.elapsed());
        if start["state"] != "accepted" {
            return Err(format!("start {n} was not accepted: {start}"));
        }
        let at = tokio::time::timeout(START_TIMEOUT, arrivals.recv()).await;
        let at = at.ok().flatten().ok_or_else(|| format!("start {n}: the RemoteStart never reached the charger"))?;
        to_charger.record(at.duration_since(sent));
    }
    serving.abort();
    Ok((to_charger, answered))
}
