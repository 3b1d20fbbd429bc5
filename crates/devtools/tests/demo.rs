//! `chargemesh-dev demo` as a user runs it: four members' nodes come up, a driver of one member is
//! charged for a charge at another's charger after the ledger's check, Ctrl-C stops everything
//! cleanly, and running it again resumes the same consortium.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A base port whose twelve demo ports (API, gateway and ledger of four members) are free now.
fn free_base_port() -> u16 {
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    (0..200)
        .map(|n| 21_000 + (std::process::id() % 80) as u16 * 100 + n * 300 % 20_000)
        .find(|base| (0..4).all(|i| [0, 100, 200].iter().all(|offset| free(base + offset + i))))
        .expect("a free range of ports")
}

/// The demo's output, line by line, and the process.
fn start_demo(dir: &std::path::Path, base_port: u16) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chargemesh-dev"))
        .args(["demo", "--base-port", &base_port.to_string(), "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, received)
}

/// Reads lines until one contains `wanted`; all lines read, or a failure naming them.
fn wait_for(lines: &mpsc::Receiver<String>, wanted: &str, limit: Duration, seen: &mut Vec<String>) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            let found = line.contains(wanted);
            seen.push(line);
            if found {
                return;
            }
        }
    }
    panic!("the demo never said {wanted:?} within {limit:?}; it said:\n{}", seen.join("\n"));
}

/// Ctrl-C, and the demo's clean exit.
fn interrupt(mut child: Child, lines: &mpsc::Receiver<String>, seen: &mut Vec<String>) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    wait_for(lines, "run the demo again to resume", Duration::from_secs(60), seen);
    assert!(child.wait().unwrap().success(), "{}", seen.join("\n"));
}

#[test]
fn the_demo_settles_a_roaming_charge_stops_on_ctrl_c_and_resumes() {
    let dir = std::env::temp_dir().join(format!("chargemesh-test-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base_port = free_base_port();
    let mut seen = Vec::new();

    let (demo, lines) = start_demo(&dir, base_port);
    wait_for(&lines, "Creating a consortium of 4 members", Duration::from_secs(30), &mut seen);
    wait_for(
        &lines,
        &format!("CN-M04 — console http://127.0.0.1:{}/ (admin", base_port + 3),
        Duration::from_secs(60),
        &mut seen,
    );
    wait_for(&lines, "starts at CN-", Duration::from_secs(120), &mut seen);
    wait_for(&lines, "charged its driver", Duration::from_secs(120), &mut seen);
    // Real sessions' energies, not what fits since the ledger started: the first is many kWh.
    let done = seen.iter().find(|line| line.contains(" done: ")).expect("a charge done before its driver was charged");
    let kwh: f64 = done.split(" done: ").nth(1).and_then(|rest| rest.split(' ').next()?.parse().ok()).unwrap();
    assert!(kwh >= 2.0, "{done}");
    interrupt(demo, &lines, &mut seen);

    let (demo, lines) = start_demo(&dir, base_port);
    wait_for(&lines, "Resuming the demo consortium", Duration::from_secs(30), &mut seen);
    wait_for(&lines, "Ready.", Duration::from_secs(120), &mut seen);
    interrupt(demo, &lines, &mut seen);
    let _ = std::fs::remove_dir_all(&dir);
}
