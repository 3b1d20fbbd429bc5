//! `chargemesh keys` and `chargemesh ledger genesis`: key files only their owner reads, never
//! overwritten; a genesis with a key per founding member; clear errors.

mod common;

use chargemesh_ledger::Genesis;
use std::process::{Command, Output};

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

/// A chain of three blocks of charger registrations by the first member of a one-member genesis.
fn write_chain(genesis_path: &std::path::Path, key_path: &std::path::Path, chain: &std::path::Path) {
    use chargemesh_ledger::block::{self, Header};
    use chargemesh_ledger::chain_store::ChainStore;
    use chargemesh_ledger::transaction::{Action, ChargerIdentity, ConnectorType};
    use chargemesh_ledger::{State, Transaction};
    let genesis = Genesis::from_json(&std::fs::read_to_string(genesis_path).unwrap()).unwrap();
    let key = chargemesh_node::ledger_files::read_key(key_path).unwrap();
    let store = ChainStore::open(chain).unwrap();
    let mut state = State::from_genesis(&genesis).unwrap();
    let mut parent = Header::genesis(&mut state, genesis.timestamp_ms);
    let mut nonce = 0;
    for height in 1..=3u64 {
        let transactions: Vec<_> = (0..5)
            .map(|i| {
                nonce += 1;
                let identity = ChargerIdentity {
                    evse_id: format!("CN*M01*H{height}X{i}"),
                    manufacturer: "Acme".into(),
                    model: "DC".into(),
                    serial_number: format!("SERIAL-{height}-{i}-UNIQUE"),
                    max_power_watts: 60_000,
                    connectors: vec![ConnectorType::GbtDc],
                    metering_certificate: "CPA-1".into(),
                    time_zone: "Asia/Shanghai".into(),
                };
                Transaction {
                    chain: state.chain(),
                    sender: "CN-M01".into(),
                    nonce,
                    action: Action::RegisterCharger(identity),
                }
                .sign(&key)
            })
            .collect();
        let built = block::build(&state, &parent, "CN-M01", genesis.timestamp_ms + height as i64 * 1000, transactions);
        assert!(built.rejected.is_empty());
        store.append(&built.block, b"certificate").unwrap();
        state = built.state;
        parent = built.block.header;
    }
}

#[test]
fn verify_replays_a_chain_and_names_the_block_that_was_tampered_with() {
    let dir = common::scratch_dir("ledger-cli-verify");
    let out = dir.join("consortium");
    let made = chargemesh(&["ledger", "genesis", "--members", "1", "--out", out.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let (genesis, chain) = (out.join("genesis.json"), dir.join("chain.redb"));
    write_chain(&genesis, &out.join("keys/CN-M01.key"), &chain);
    let verify = || {
        chargemesh(&["ledger", "verify", "--genesis", genesis.to_str().unwrap(), "--chain", chain.to_str().unwrap()])
    };
    let good = verify();
    assert!(good.status.success(), "{}", text(&good.stderr));
    assert!(text(&good.stdout).contains("verified 3 blocks and 15 transactions"), "{}", text(&good.stdout));

    // One byte of block 2 flipped on disk.
    let mut bytes = std::fs::read(&chain).unwrap();
    let needle = b"SERIAL-2-3-UNIQUE";
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("block 2 is on disk");
    bytes[at + 7] ^= 0x01;
    std::fs::write(&chain, bytes).unwrap();
    let bad = verify();
    assert!(!bad.status.success());
    let message = text(&bad.stderr);
    assert!(message.contains("block 2"), "{message}");
}
