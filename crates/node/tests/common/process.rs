//! A node run as its own process (the `chargemesh` binary), to be killed with SIGKILL and restarted.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

pub const PASSWORD: &str = "crash-test-password";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The node's process; `database_url` empty means SQLite in `data_dir`.
pub fn spawn_node(data_dir: &Path, database_url: &str, api_port: u16, gateway_port: u16) -> Child {
    spawn_node_with(data_dir, database_url, api_port, gateway_port, &[])
}

/// [`spawn_node`] with more settings (`CHARGEMESH_…` variables), which take precedence.
pub fn spawn_node_with(
    data_dir: &Path,
    database_url: &str,
    api_port: u16,
    gateway_port: u16,
    settings: &[(&str, String)],
) -> Child {
    // What the node logs goes to a file beside its data, for a failing test to be read.
    std::fs::create_dir_all(data_dir).unwrap();
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("node.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_chargemesh"))
        .arg("node")
        .env("CHARGEMESH_DATA_DIR", data_dir)
        .env("CHARGEMESH_DATABASE_URL", database_url)
        .env("CHARGEMESH_API__LISTEN", format!("127.0.0.1:{api_port}"))
        .env("CHARGEMESH_GATEWAY__LISTEN", format!("127.0.0.1:{gateway_port}"))
        .env("CHARGEMESH_LEDGER__P2P_LISTEN", "127.0.0.1:0")
        .env("CHARGEMESH_API__ADMIN_PASSWORD", PASSWORD)
        .env("CHARGEMESH_LOG__FILTER", "error")
        .envs(settings.iter().map(|(name, value)| (*name, value)))
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the chargemesh binary starts")
}

pub async fn wait_until_up(client: &reqwest::Client, api: &str) {
    for _ in 0..200 {
        if client.get(format!("{api}/../../health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the node did not come up");
}

pub async fn login(client: &reqwest::Client, api: &str) -> String {
    let response: Value = client
        .post(format!("{api}/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["token"].as_str().unwrap().to_owned()
}
