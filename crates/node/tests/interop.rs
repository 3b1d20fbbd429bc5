//! Interoperability with a charge point implementation nobody on this project wrote: the Python
//! `ocpp` package's v16 ChargePoint (see tests/interop/). `scripts/test` prepares its environment.

mod common;

use common::TestNode;
use std::path::PathBuf;

fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("CHARGEMESH_INTEROP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run `scripts/test` (it creates the Python environment with tests/interop/requirements.txt), \
         or set CHARGEMESH_INTEROP_PYTHON to a Python that has them",
        python.display()
    );
    python
}

#[tokio::test]
async fn python_ocpp_charge_point_runs_a_session() {
    let python = python();
    let node = TestNode::start("interop").await;
    node.provision("Interop Co", &["PY-CP-1"], &["PYCARD"]).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/ocpp16_charge_point.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(node.charger_url())
        .arg("PY-CP-1")
        .arg("PYCARD")
        .output()
        .await
        .expect("python runs");
    assert!(
        output.status.success(),
        "the Python charge point failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["interval"], 300);
    let session = node.get(&format!("/sessions/{}", report["transaction_id"])).await;
    assert_eq!(session["state"], "completed");
    assert_eq!(session["station_id"], "PY-CP-1");
    assert_eq!(session["energy_mwh"], 2_000_000, "12 kWh stop − 10 kWh start");
    assert_eq!(session["stop_reason"], "EVDisconnected");
    let registers: Vec<i64> =
        session["meter_values"].as_array().unwrap().iter().filter_map(|v| v["register_mwh"].as_i64()).collect();
    assert_eq!(registers, vec![10_500_000, 11_250_000]);
    let charger = node.get("/chargers/PY-CP-1").await;
    assert_eq!(charger["vendor"], "PyVendor");
    assert_eq!(charger["connectors"][0]["status"], "Charging");
    node.stop().await;
}
