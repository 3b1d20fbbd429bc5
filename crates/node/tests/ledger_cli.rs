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
