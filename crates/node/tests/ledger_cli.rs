//! `chargemesh keys` and `chargemesh ledger genesis`: key files only their owner reads, never
//! overwritten; a genesis with a key per founding member; clear errors.

mod common;

use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::tariff::Tariff;
use chargemesh_ledger::transaction::{AnchoredPeriod, CdrAnchor, ClaimedAmounts, LifecycleEvent};
use chargemesh_ledger::{Action, Genesis, Transaction, hash_parts};
use common::{TestNode, charger_identity, test_config};
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn chargemesh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chargemesh")).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

#[test]
fn a_key_file_is_private_and_never_overwritten() {
    let dir = common::scratch_dir("ledger-cli-keys");
    let file = dir.join("member.key");
    let path = file.to_str().unwrap();
    let created = chargemesh(&["keys", "new", path]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let public = text(&created.stdout);
    assert_eq!(public.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(text(&chargemesh(&["keys", "public", path]).stdout), public);
    let again = chargemesh(&["keys", "new", path]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("never overwritten"), "{}", text(&again.stderr));
    assert_eq!(text(&chargemesh(&["keys", "public", path]).stdout), public, "the key is unchanged");
    std::fs::write(dir.join("bad.key"), "not a key").unwrap();
    let bad = chargemesh(&["keys", "public", dir.join("bad.key").to_str().unwrap()]);
    assert!(text(&bad.stderr).contains("not a chargemesh key file"), "{}", text(&bad.stderr));
}

#[test]
fn a_genesis_names_every_founding_member_with_its_key() {
    let dir = common::scratch_dir("ledger-cli-genesis");
    let out = dir.join("consortium");
    let out_arg = out.to_str().unwrap();
    let made =
        chargemesh(&["ledger", "genesis", "--members", "4", "--start", "2026-01-01T00:00:00Z", "--out", out_arg]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let genesis = Genesis::from_json(&std::fs::read_to_string(out.join("genesis.json")).unwrap()).unwrap();
    assert_eq!(genesis.members.len(), 4);
    for member in &genesis.members {
        let key = out.join("keys").join(format!("{}.key", member.party_id));
        let public = text(&chargemesh(&["keys", "public", key.to_str().unwrap()]).stdout);
        assert_eq!(public, member.public_key.to_string());
        assert!(member.validator && member.roles.cpo && member.roles.emsp);
    }
    assert!(text(&made.stdout).contains(&hex::encode(genesis.hash())));

    let twice = chargemesh(&["ledger", "genesis", "--members", "4", "--out", out_arg]);
    assert!(!twice.status.success());
    let bad = chargemesh(&["ledger", "genesis", "--member", "acme", "--out", dir.join("other").to_str().unwrap()]);
    assert!(text(&bad.stderr).contains("not like CN-NGR"), "{}", text(&bad.stderr));
    let none = chargemesh(&["ledger", "genesis", "--out", dir.join("none").to_str().unwrap()]);
    assert!(text(&none.stderr).contains("--member"), "{}", text(&none.stderr));
}

const EVSE: &str = "CN*M01*E1";

/// 1.20 per kWh from `valid_from`.
fn tariff(valid_from: jiff::Timestamp) -> Tariff {
    serde_json::from_value(json!({
        "id": "std", "version": 1, "owner": "CN-M01", "currency": "CNY",
        "tax": {"rate": "13", "included": true}, "valid_from": valid_from.to_string(),
        "elements": [{"components": [{"kind": "energy", "price": "1.2"}]}]
    }))
    .unwrap()
}

/// The CDR's id, its anchor, and the full off-chain CDR it anchors (as the node keeps it).
fn anchored_cdr(tariff: &Tariff, start: jiff::Timestamp) -> (CdrAnchor, Vec<u8>) {
    let periods = vec![ChargingPeriod {
        start,
        end: start + jiff::SignedDuration::from_secs(1),
        energy: chargemesh_core::Energy::from_mwh(15_000),
    }];
    let priced = price(tariff, &jiff::tz::TimeZone::get("Asia/Shanghai").unwrap(), &periods).unwrap();
    let cdr =
        serde_json::to_vec(&json!({"id": "CDR-1", "evse_id": EVSE, "total": ClaimedAmounts::of(&priced).incl_tax}))
            .unwrap();
    let anchor = CdrAnchor {
        cdr_id: "CDR-1".into(),
        evse_id: EVSE.into(),
        emsp: "CN-M01".into(),
        token_commitment: hash_parts("test-commitment", &[b"CDR-1"]),
        periods: periods.iter().map(AnchoredPeriod::from).collect(),
        tariff_id: tariff.id.clone(),
        tariff_version: tariff.version,
        claimed: ClaimedAmounts::of(&priced),
        cdr_hash: chargemesh_ledger::proof::cdr_hash(&cdr),
    };
    (anchor, cdr)
}

/// Runs a node until its chain holds a commissioned charger, a tariff and an anchored CDR; returns
/// the anchoring transaction's block height and the off-chain CDR.
async fn run_node_with_a_cdr(node: &TestNode) -> (u64, Vec<u8>) {
    let dir = node.config.ledger_dir();
    let genesis = Genesis::from_json(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap();
    let key = chargemesh_chain::files::read_key(&dir.join("keys/CN-M01.key")).unwrap();
    let valid_from = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let tariff = tariff(valid_from);
    let calibrated = LifecycleEvent::Calibrated {
        certificate: "CAL-1".into(),
        expires_at: jiff::Timestamp::now().as_millisecond() + 86_400_000,
    };
    let (anchor, cdr) = anchored_cdr(&tariff, valid_from);
    let actions = vec![
        Action::RegisterCharger(charger_identity(EVSE, "SERIAL-UNIQUE-1")),
        Action::ChargerLifecycle { evse_id: EVSE.into(), event: LifecycleEvent::Installed },
        Action::ChargerLifecycle { evse_id: EVSE.into(), event: calibrated },
        Action::PublishTariff { tariff_json: serde_json::to_string(&tariff).unwrap() },
    ];
    let sign = |nonce, action| {
        let tx = Transaction { chain: genesis.hash(), sender: "CN-M01".into(), nonce, action }.sign(&key);
        json!({"transaction": hex::encode(tx.encode())})
    };
    for (action, nonce) in actions.into_iter().zip(1..) {
        let (status, body) = node.post("/ledger/transactions", sign(nonce, action)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    // The session ends a second after the tariff takes effect; it is anchored after it ended.
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let (status, body) = node.post("/ledger/transactions", sign(5, Action::AnchorCdr(anchor))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    for _ in 0..100 {
        let (status, body) = node.request(reqwest::Method::GET, "/ledger/cdrs/CN-M01/CDR-1", &node.token, None).await;
        if status == StatusCode::OK {
            assert_eq!(body["proof"]["header"]["height"], body["entry"]["height"], "{body}");
            return (body["entry"]["height"].as_u64().unwrap(), cdr);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the CDR was not anchored within 10 s");
}

#[tokio::test]
async fn a_node_chain_verifies_and_proves_a_cdr_offline_and_tampering_is_named() {
    let node = TestNode::start_with(test_config("ledger-cli-verify")).await;
    let dir = node.config.ledger_dir();
    let (height, cdr) = run_node_with_a_cdr(&node).await;
    let data_dir = node.config.data_dir.clone();
    let mut node = node;
    // Stopped, so that the CLI can open the chain store.
    node.node.take().unwrap().stop().await;
    let (genesis, chain) = (dir.join("genesis.json"), dir.join("chain.redb"));
    let arg = |p: &Path| p.to_str().unwrap().to_owned();
    let verify = || chargemesh(&["ledger", "verify", "--genesis", &arg(&genesis), "--chain", &arg(&chain)]);
    let good = verify();
    assert!(good.status.success(), "{}", text(&good.stderr));
    assert!(text(&good.stdout).contains("and 5 transactions"), "{}", text(&good.stdout));

    // The proof, written by the CLI and checked offline with the genesis alone.
    let proof = data_dir.join("cdr-1.proof.json");
    let cdr_file = data_dir.join("cdr-1.json");
    std::fs::write(&cdr_file, &cdr).unwrap();
    let written = chargemesh(&[
        "ledger",
        "proof",
        "CDR-1",
        "--cpo",
        "CN-M01",
        "--genesis",
        &arg(&genesis),
        "--chain",
        &arg(&chain),
        "--out",
        &arg(&proof),
    ]);
    assert!(written.status.success(), "{}", text(&written.stderr));
    let check = |proof: &Path, cdr: &Path| {
        chargemesh(&["ledger", "check-proof", &arg(proof), "--genesis", &arg(&genesis), "--cdr", &arg(cdr)])
    };
    let checked = check(&proof, &cdr_file);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(text(&checked.stdout).contains(&format!("CDR-1 at {EVSE}")), "{}", text(&checked.stdout));
    assert!(text(&checked.stdout).contains(&format!("block {height}")), "{}", text(&checked.stdout));
    // The same CDR as `curl -o`, `jq -r` or an editor writes it, ending in a newline: still the one.
    let with_newline = data_dir.join("cdr-1-newline.json");
    std::fs::write(&with_newline, [cdr.as_slice(), b"\n"].concat()).unwrap();
    let checked = check(&proof, &with_newline);
    assert!(checked.status.success(), "{}", text(&checked.stderr));

    // One byte of the off-chain CDR changed: it is not the one anchored.
    let mut altered = cdr.clone();
    altered[10] ^= 0x01;
    let altered_file = data_dir.join("cdr-1-altered.json");
    std::fs::write(&altered_file, altered).unwrap();
    let refused = check(&proof, &altered_file);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("differs from the one anchored"), "{}", text(&refused.stderr));

    // One digit of the proof's transaction changed: it is no longer in the block.
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let mut tx = json["transaction"].as_str().unwrap().to_owned();
    let last = tx.pop().unwrap();
    tx.push(if last == '0' { '1' } else { '0' });
    json["transaction"] = tx.into();
    let forged = data_dir.join("forged.proof.json");
    std::fs::write(&forged, json.to_string()).unwrap();
    let refused = check(&forged, &cdr_file);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("not in the block"), "{}", text(&refused.stderr));

    // One byte of the charger's block flipped on disk: verify names the block.
    let mut bytes = std::fs::read(&chain).unwrap();
    let needle = b"SERIAL-UNIQUE-1";
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("the block is on disk");
    bytes[at + 7] ^= 0x01;
    std::fs::write(&chain, bytes).unwrap();
    let bad = verify();
    assert!(!bad.status.success());
    let message = text(&bad.stderr);
    assert!(message.contains("verification failed: block "), "{message}");
    node.stop().await;
}
