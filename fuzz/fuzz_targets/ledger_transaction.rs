//! Whatever a member or a peer sends as a ledger transaction: decoding gives an error or a value
//! whose encoding is exactly the input, and the state machine answers it without panicking.

#![no_main]

use chargemesh_ledger::state::{Context, Parameters, State};
use chargemesh_ledger::transaction::{MemberRecord, Roles};
use chargemesh_ledger::{Genesis, MemberKey, SignedTransaction};
use libfuzzer_sys::fuzz_target;

fn state() -> State {
    let member = MemberRecord {
        party_id: "CN-AAA".into(),
        public_key: MemberKey::from_seed([1; 32]).public_key(),
        roles: Roles { cpo: true, emsp: true },
        endpoint: "https://aaa.example/ocpi".into(),
        validator: true,
        p2p_endpoint: "127.0.0.1:7000".into(),
    };
    let genesis = Genesis {
        chain_name: "fuzz".into(),
        timestamp_ms: 0,
        clearing_period_ms: 86_400_000,
        parameters: Parameters::default(),
        members: vec![member],
        tariffs: Vec::new(),
    };
    State::from_genesis(&genesis).expect("a valid genesis")
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = SignedTransaction::decode(data) {
        assert_eq!(tx.encode(), data, "one encoding per value");
        let mut state = state();
        let _ = state.apply_verified(&tx, Context { height: 1, timestamp: 0, transaction: tx.id() });
    }
});
