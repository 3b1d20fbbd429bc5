//! The ledger under its consensus engine: one validator (a quorum of one) on Commonware's
//! deterministic runtime and simulated network finalizes what is submitted, in nonce order, each
//! block with a certificate that verifies; a restart (consensus' own journal lost) resumes from the
//! chain store. And the chain the adapter drives, on its own: propose, verify, finalize.

mod common;

use chargemesh_chain::chain::{Chain, Verdict};
use chargemesh_chain::consensus;
use chargemesh_chain::mempool::{Admitted, MempoolError};
use chargemesh_ledger::transaction::{Action, LifecycleEvent};
use chargemesh_ledger::{Rejection, SignedTransaction, Transaction};
use common::sim::{Consortium, fast_link};
use common::*;
use commonware_runtime::{Runner as _, deterministic};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

/// Before the tariff's validity (a tariff is published ahead of its start)…
const COMMISSIONING: i64 = GENESIS_TIME + HOUR / 2;
/// …and after the sessions it prices.
const NOW: i64 = GENESIS_TIME + 10 * HOUR;

fn consortium() -> chargemesh_ledger::Genesis {
    genesis(vec![record("CN-AAA", true, true, true), record("CN-BBB", true, true, false)])
}

/// Member A's next transactions, signed with its next nonces: a charger's commissioning and its
/// tariff when `commission`, then anchors of CDRs `cdrs`.
fn transactions(chain: &Chain, commission: bool, cdrs: std::ops::Range<usize>) -> Vec<SignedTransaction> {
    let evse = "CN*AAA*E1*1".to_owned();
    let v1 = tariff("CN-AAA", 1, GENESIS_TIME + HOUR);
    let calibrated = LifecycleEvent::Calibrated { certificate: "CAL-1".into(), expires_at: GENESIS_TIME + 365 * DAY };
    let mut actions = Vec::new();
    if commission {
        actions.push(Action::RegisterCharger(identity(&evse)));
        actions.push(Action::ChargerLifecycle { evse_id: evse.clone(), event: LifecycleEvent::Installed });
        actions.push(Action::ChargerLifecycle { evse_id: evse, event: calibrated });
        actions.push(publish(&v1));
    }
    for i in cdrs {
        actions.push(Action::AnchorCdr(anchor(&format!("CDR-{i}"), "CN-BBB", GENESIS_TIME + 2 * HOUR, &v1)));
    }
    let chain_id = chain.state().chain();
    let first = chain.state().member("CN-AAA").unwrap().nonce + 1;
    actions
        .into_iter()
        .zip(first..)
        .map(|(action, nonce)| {
            Transaction { chain: chain_id, sender: "CN-AAA".into(), nonce, action }.sign(&key("CN-AAA"))
        })
        .collect()
}

/// Runs member A's validator, alone, on the chain store `path` in a deterministic runtime
/// starting at `now`, submits `submit` to it, and waits until the mempool is empty (or the
/// runtime's time limit fails the test).
fn run_validator(path: &Path, now: i64, submit: impl FnOnce(&mut Chain) + Send + 'static) {
    let dir = path.parent().unwrap().to_owned();
    let config = deterministic::Config::new()
        .with_seed(now as u64)
        .with_start_time(UNIX_EPOCH + Duration::from_millis(now as u64))
        .with_timeout(Some(Duration::from_secs(120)));
    deterministic::Runner::new(config).start(|context| async move {
        let keys = BTreeMap::from([("CN-AAA".to_owned(), key("CN-AAA"))]);
        let mut consortium = Consortium::new(&context, consortium(), keys, dir, fast_link()).await;
        consortium.start("CN-AAA").await;
        submit(&mut consortium.nodes["CN-AAA"].chain.lock().unwrap());
        consortium.wait_for(&["CN-AAA"], Duration::from_secs(60), |chain| chain.mempool().is_empty()).await;
        consortium.stop().await;
    });
}

#[test]
fn a_single_validator_finalizes_what_is_submitted_and_resumes_after_a_restart() {
    let path = scratch("consensus-single").with_file_name("CN-AAA.redb");
    let before = Chain::open(&path, consortium()).unwrap();
    let commissioning = transactions(&before, true, 0..0);
    let first = commissioning[0].clone();
    drop(before);
    run_validator(&path, COMMISSIONING, move |chain| {
        for tx in commissioning {
            let bytes = tx.encode();
            assert_eq!(chain.submit(&bytes, COMMISSIONING).unwrap().1, Admitted::Queued);
            // The same transaction again is deduplicated.
            assert_eq!(chain.submit(&bytes, COMMISSIONING).unwrap().1, Admitted::AlreadyQueued);
        }
    });
    let chain = Chain::open(&path, consortium()).unwrap();
    let (height, root) = (chain.head().height, chain.state().clone().root());
    assert!(height >= 1);
    assert_eq!(chain.state().tariff_versions("CN-AAA", "std").len(), 1);
    check_certificates(&chain);

    // A restart: consensus' journal is gone (a new runtime), the chain store holds what was final.
    let anchors = transactions(&chain, false, 0..3);
    drop(chain);
    run_validator(&path, NOW, move |chain| {
        // What was finalized before the restart is not applied twice: its nonce is used.
        let refused = chain.submit(&first.encode(), NOW).unwrap_err();
        assert!(matches!(refused, MempoolError::Rejected(Rejection::BadNonce { .. })), "{refused}");
        // Malformed bytes are refused with their reason and change nothing.
        assert!(matches!(chain.submit(&[0xff; 10], NOW), Err(MempoolError::Malformed(_))));
        for tx in anchors {
            chain.submit(&tx.encode(), NOW).unwrap();
        }
    });
    let chain = Chain::open(&path, consortium()).unwrap();
    assert!(chain.head().height > height, "the chain went on after the restart");
    assert_ne!(chain.state().clone().root(), root);
    assert!((0..3).all(|i| chain.state().cdr("CN-AAA", &format!("CDR-{i}")).is_some()));
    check_certificates(&chain);
    // Opening replays every block to the state root its header names; a second opening agrees.
    let final_root = chain.state().clone().root();
    drop(chain);
    assert_eq!(Chain::open(&path, consortium()).unwrap().state().clone().root(), final_root);
}

/// Every stored block carries a certificate signed by the validators that finalizes it or, for a
/// block finalized together with a later one, that later block.
fn check_certificates(chain: &Chain) {
    let store = chain.store();
    let mut check = consensus::CertificateCheck::default();
    store
        .replay_checking(chain.genesis(), |state, block, _| {
            check.block(state, block, store.certificate(block.header.height).unwrap().as_deref())
        })
        .unwrap();
    check.finish().unwrap();
}

#[test]
fn the_chain_proposes_verifies_and_finalizes_idempotently() {
    let path = scratch("chain-driven");
    let mut chain = Chain::open(&path, consortium()).unwrap();
    let genesis = chain.genesis_hash();
    for tx in transactions(&chain, true, 0..0) {
        chain.submit(&tx.encode(), COMMISSIONING).unwrap();
    }
    let commissioned = chain.propose(genesis, 0, "CN-AAA", COMMISSIONING).unwrap();
    assert_eq!(chain.verify(genesis, commissioned, 0, COMMISSIONING).unwrap(), Verdict::Valid);
    // The proposal names its parent: verifying it on another is refused.
    assert!(matches!(chain.verify(commissioned, commissioned, 0, COMMISSIONING).unwrap(), Verdict::Invalid(_)));
    assert_eq!(chain.verify(genesis, [7; 32], 0, COMMISSIONING).unwrap(), Verdict::Unknown);
    assert_eq!(chain.finalize(commissioned, b"certificate").unwrap().len(), 1);
    assert!(chain.mempool().is_empty(), "what was finalized left the mempool");

    // Two blocks, the second built on the first before it is final.
    let [first_anchor, second_anchor]: [SignedTransaction; 2] = transactions(&chain, false, 0..2).try_into().unwrap();
    chain.submit(&first_anchor.encode(), NOW).unwrap();
    let first = chain.propose(commissioned, 0, "CN-AAA", NOW).unwrap();
    chain.submit(&second_anchor.encode(), NOW).unwrap();
    let second = chain.propose(first, 0, "CN-AAA", NOW + 1_000).unwrap();

    // A restart before finalization: the proposals were kept on disk.
    drop(chain);
    let mut chain = Chain::open(&path, consortium()).unwrap();
    assert_eq!(chain.head().height, 1);
    // Finalizing the second finalizes the first with it; finalizing either again changes nothing.
    let committed = chain.finalize(second, b"certificate").unwrap();
    assert_eq!(committed.iter().map(|b| b.header.height).collect::<Vec<_>>(), [2, 3]);
    assert!(chain.finalize(second, b"certificate").unwrap().is_empty());
    assert!(chain.finalize(first, b"certificate").unwrap().is_empty());
    assert!(chain.state().cdr("CN-AAA", "CDR-1").is_some());
    assert_eq!(chain.store().block(2).unwrap().unwrap().hash(), first);

    // A block whose clock runs ahead of the verifier's by more than the parameters allow is refused.
    let [late]: [SignedTransaction; 1] = transactions(&chain, false, 2..3).try_into().unwrap();
    chain.submit(&late.encode(), NOW).unwrap();
    let ahead = chain.propose(second, 0, "CN-AAA", NOW + 10 * HOUR).unwrap();
    assert!(
        matches!(chain.verify(second, ahead, 0, NOW).unwrap(), Verdict::Invalid(reason) if reason.contains("ahead"))
    );
}

#[test]
fn a_block_that_changes_the_validators_is_the_last_of_its_epoch() {
    use chargemesh_chain::chain::ChainError;
    use chargemesh_ledger::transaction::GovernanceAction;
    let path = scratch("chain-epochs");
    let mut chain = Chain::open(&path, consortium()).unwrap();
    let chain_id = chain.state().chain();
    let signed = |sender: &str, nonce: u64, action: Action| {
        Transaction { chain: chain_id, sender: sender.into(), nonce, action }.sign(&key(sender)).encode()
    };
    let promote = GovernanceAction::SetValidator { party_id: "CN-BBB".into(), validator: true };
    chain.submit(&signed("CN-AAA", 1, Action::Propose(promote)), NOW).unwrap();
    chain.submit(&signed("CN-BBB", 1, Action::Vote { proposal: 1, approve: true }), NOW).unwrap();
    let last = chain.propose(chain.genesis_hash(), 0, "CN-AAA", NOW).unwrap();

    // Epoch 0's validators build nothing on it, and refuse what one of them built on it anyway.
    let [anchor]: [SignedTransaction; 1] = transactions(&chain, true, 0..0)[..1].to_vec().try_into().unwrap();
    let anchor = Transaction { nonce: 2, ..anchor.transaction }.sign(&key("CN-AAA"));
    chain.submit(&anchor.encode(), NOW).unwrap();
    assert!(matches!(chain.propose(last, 0, "CN-AAA", NOW), Err(ChainError::EpochOver { .. })));
    assert!(matches!(chain.has_candidates(&last, 0), Err(ChainError::EpochOver { .. })));
    let next = chain.propose(last, 1, "CN-BBB", NOW).unwrap();
    assert!(matches!(chain.verify(last, next, 0, NOW).unwrap(), Verdict::Invalid(reason) if reason.contains("epoch")));
    assert_eq!(chain.verify(last, next, 1, NOW).unwrap(), Verdict::Valid);

    chain.finalize(next, b"certificate").unwrap();
    assert_eq!(chain.state().epoch(), 1);
    assert_eq!(chain.state().validators().count(), 2);
}

/// A member's part is read from the registry (for the node's start line, before consensus runs):
/// a validator's key votes, any other member's follows.
#[test]
fn a_members_role_is_its_registry_entrys() {
    let state = chargemesh_ledger::state::State::from_genesis(&consortium()).unwrap();
    assert_eq!(consensus::role(&state, &key("CN-AAA")), consensus::status::Role::Validator);
    assert_eq!(consensus::role(&state, &key("CN-BBB")), consensus::status::Role::Observer);
    assert_eq!(consensus::role(&state, &key("CN-ZZZ")), consensus::status::Role::Observer);
}
