//! Nothing personal fits in a transaction, and bad input is refused without panicking.

mod common;

use chargemesh_ledger::transaction::{Action, DisputeReason, GovernanceAction, LifecycleEvent};
use chargemesh_ledger::{SignedTransaction, Transaction};
use common::*;
use proptest::prelude::*;
use serde_json::Value;

/// One of each action; the exhaustive match in `variant` makes a new action fail to compile here
/// until it has a sample.
fn samples() -> Vec<Action> {
    let v1 = tariff("CN-AAA", 1, GENESIS_TIME + HOUR);
    vec![
        Action::Propose(GovernanceAction::AdmitMember(record("CN-DDD", true, false, false))),
        Action::Propose(GovernanceAction::RotateKey { party_id: "CN-AAA".into(), public_key: key("x").public_key() }),
        Action::Propose(GovernanceAction::SetParameters(Default::default())),
        Action::Vote { proposal: 1, approve: true },
        Action::RegisterCharger(identity("CN*AAA*E1*1")),
        Action::ChargerLifecycle {
            evse_id: "CN*AAA*E1*1".into(),
            event: LifecycleEvent::Calibrated { certificate: "CAL-1".into(), expires_at: 1 },
        },
        Action::ChargerLifecycle {
            evse_id: "CN*AAA*E1*1".into(),
            event: LifecycleEvent::Relocated { time_zone: "Asia/Shanghai".into() },
        },
        publish(&v1),
        Action::AnchorCdr(anchor("CDR-1", "CN-BBB", GENESIS_TIME + 2 * HOUR, &v1)),
        Action::DisputeCdr { cpo: "CN-AAA".into(), cdr_id: "CDR-1".into(), reason: DisputeReason::Other },
        Action::ResolveCdr { cpo: "CN-AAA".into(), cdr_id: "CDR-1".into(), agreed_incl_tax: 1 },
        Action::CloseClearing { period: 0 },
        Action::ConfirmPaid { period: 0, transfer: 0 },
        Action::ConfirmReceived { period: 0, transfer: 0 },
    ]
}

fn variant(action: &Action) -> usize {
    match action {
        Action::Propose(_) => 0,
        Action::Vote { .. } => 1,
        Action::RegisterCharger(_) => 2,
        Action::ChargerLifecycle { .. } => 3,
        Action::PublishTariff { .. } => 4,
        Action::AnchorCdr(_) => 5,
        Action::DisputeCdr { .. } => 6,
        Action::ResolveCdr { .. } => 7,
        Action::CloseClearing { .. } => 8,
        Action::ConfirmPaid { .. } => 9,
        Action::ConfirmReceived { .. } => 10,
    }
}

/// Every text field a transaction has, by name. Each describes a member, equipment, a tariff or
/// money; a field for a person's name, contact, card, account, vehicle or position has no place.
const TEXT_FIELDS: [&str; 24] = [
    "sender",
    "party_id",
    "endpoint",
    "p2p_endpoint",
    "evse_id",
    "manufacturer",
    "model",
    "serial_number",
    "connectors",
    "metering_certificate",
    "time_zone",
    "certificate",
    "tariff_json",
    "cdr_id",
    "emsp",
    "tariff_id",
    "currency",
    "cpo",
    "reason",
    "public_key",
    "chain",
    "signature",
    "token_commitment",
    "cdr_hash",
];
const PERSONAL: [&str; 14] = [
    "name",
    "phone",
    "mail",
    "card",
    "uid",
    "account",
    "vin",
    "plate",
    "latitude",
    "longitude",
    "address",
    "driver",
    "contract",
    "id_token",
];

fn text_fields(value: &Value, field: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| text_fields(v, k, found)),
        Value::Array(items) => items.iter().for_each(|v| text_fields(v, field, found)),
        Value::String(_) => found.push(field.to_owned()),
        _ => {}
    }
}

#[test]
fn no_transaction_has_room_for_personal_data() {
    let samples = samples();
    let mut covered: Vec<usize> = samples.iter().map(variant).collect();
    covered.dedup();
    assert_eq!(covered, (0..11).collect::<Vec<_>>(), "a sample of every action");
    for action in samples {
        let tx = Transaction { chain: [0; 32], sender: "CN-AAA".into(), nonce: 1, action }.sign(&key("CN-AAA"));
        let json = serde_json::to_value(&tx).unwrap();
        let mut fields = Vec::new();
        text_fields(&json, "", &mut fields);
        for field in fields {
            assert!(TEXT_FIELDS.contains(&field.as_str()), "{field}: a text field not known to be impersonal");
            let lower = field.to_lowercase();
            assert!(!PERSONAL.iter().any(|p| lower.contains(p)), "{field} could hold personal data");
        }
        // The driver appears only as a commitment: 32 bytes of hash, no text.
        if let Some(commitment) = json.pointer("/transaction/action/anchor_cdr/token_commitment") {
            assert_eq!(commitment.as_str().unwrap().len(), 64);
        }
    }
}

#[test]
fn oversized_and_malformed_transactions_are_refused() {
    let ledger = Ledger::three_members();
    let tx = ledger.signed("CN-AAA", Action::CloseClearing { period: 0 });
    let bytes = tx.encode();
    assert_eq!(SignedTransaction::decode(&bytes).unwrap(), tx);
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(SignedTransaction::decode(&trailing).is_err(), "trailing bytes");
    assert!(SignedTransaction::decode(&bytes[..bytes.len() - 1]).is_err(), "truncated");
    let huge = Action::PublishTariff { tariff_json: "x".repeat(70_000) };
    let huge = ledger.signed("CN-AAA", huge).encode();
    assert!(SignedTransaction::decode(&huge).unwrap_err().to_string().contains("more than"));
}

proptest! {
    /// Arbitrary bytes decode to an error or to a transaction whose encoding is exactly those bytes
    /// (one encoding per value), and applying one never panics.
    #[test]
    fn decoding_is_strict_and_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(tx) = SignedTransaction::decode(&bytes) {
            prop_assert_eq!(tx.encode(), bytes);
            let mut ledger = Ledger::three_members();
            let context = chargemesh_ledger::state::Context { height: 2, timestamp: GENESIS_TIME, transaction: tx.id() };
            let _ = ledger.state.apply(&tx, context);
        }
    }

    #[test]
    fn mutated_transactions_are_refused_or_canonical(position in 0usize..200, bit in 0u8..8) {
        let ledger = Ledger::three_members();
        let mut bytes = ledger.signed("CN-AAA", Action::RegisterCharger(identity("CN*AAA*E1*1"))).encode();
        let position = position % bytes.len();
        bytes[position] ^= 1 << bit;
        if let Ok(tx) = SignedTransaction::decode(&bytes) {
            prop_assert_eq!(tx.encode(), bytes);
            let mut state = ledger.state.clone();
            let context = chargemesh_ledger::state::Context { height: 2, timestamp: GENESIS_TIME, transaction: tx.id() };
            // A changed transaction no longer carries the member's signature.
            prop_assert!(state.apply(&tx, context).is_err());
        }
    }
}
