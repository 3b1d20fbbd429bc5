//! The mempool: each transaction once, judged on the state it will meet, offered in nonce order with
//! senders taking turns; a transaction a builder rejects goes, with the same sender's later ones.

mod common;

use chargemesh_chain::mempool::{Admitted, Mempool, MempoolError};
use chargemesh_ledger::block::CheckedSignatures;
use chargemesh_ledger::state::Context;
use chargemesh_ledger::state::Parameters;
use chargemesh_ledger::transaction::{Action, GovernanceAction};
use chargemesh_ledger::{Rejection, SignedTransaction, Transaction};
use common::*;

fn register(ledger: &Ledger, party: &str, nonce: u64, evse: &str) -> SignedTransaction {
    let action = Action::RegisterCharger(identity(evse));
    Transaction { chain: ledger.state.chain(), sender: party.into(), nonce, action }.sign(&key(party))
}

fn context() -> Context {
    Context { height: 1, timestamp: GENESIS_TIME + HOUR, transaction: [0; 32] }
}

#[test]
fn transactions_queue_in_nonce_order_and_senders_take_turns() {
    let ledger = Ledger::three_members();
    let mut pool = Mempool::default();
    let a: Vec<_> = (1..=3).map(|n| register(&ledger, "CN-AAA", n, &format!("CN*AAA*E{n}"))).collect();
    let b: Vec<_> = (1..=2).map(|n| register(&ledger, "CN-BBB", n, &format!("CN*BBB*E{n}"))).collect();
    for tx in a.iter().chain(&b) {
        assert_eq!(pool.admit(tx.clone(), &ledger.state, context()), Ok(Admitted::Queued));
    }
    assert_eq!(pool.admit(a[0].clone(), &ledger.state, context()), Ok(Admitted::AlreadyQueued));
    assert_eq!(pool.len(), 5);
    assert_eq!(pool.next_nonce(&ledger.state, "CN-AAA"), 4, "after its queued ones");
    assert_eq!(pool.next_nonce(&ledger.state, "CN-CCC"), 1, "nothing queued, nothing sent");
    let order: Vec<(String, u64)> = pool
        .candidates(&ledger.state, usize::MAX)
        .iter()
        .map(|tx| (tx.transaction.sender.clone(), tx.transaction.nonce))
        .collect();
    let expected = [("CN-AAA", 1), ("CN-BBB", 1), ("CN-AAA", 2), ("CN-BBB", 2), ("CN-AAA", 3)];
    assert_eq!(order, expected.map(|(s, n)| (s.to_owned(), n)));
    assert_eq!(pool.candidates(&ledger.state, 3).len(), 3, "no more than a block takes");
    assert!(pool.has_candidates(&ledger.state));

    // A nonce gap, a replayed nonce taken by another transaction, and a rule the state refuses.
    let gap = register(&ledger, "CN-AAA", 9, "CN*AAA*E9");
    assert!(matches!(
        pool.admit(gap, &ledger.state, context()),
        Err(MempoolError::Rejected(Rejection::BadNonce { .. }))
    ));
    let other = register(&ledger, "CN-AAA", 2, "CN*AAA*X");
    assert!(matches!(pool.admit(other, &ledger.state, context()), Err(MempoolError::NonceTaken { nonce: 2, .. })));
    let duplicate = register(&ledger, "CN-AAA", 4, "CN*AAA*E1");
    assert!(matches!(
        pool.admit(duplicate, &ledger.state, context()),
        Err(MempoolError::Rejected(Rejection::ChargerExists(_)))
    ));
    let taken_by_another = register(&ledger, "CN-BBB", 3, "CN*AAA*E3");
    assert!(
        matches!(
            pool.admit(taken_by_another, &ledger.state, context()),
            Err(MempoolError::Rejected(Rejection::ChargerExists(_)))
        ),
        "judged on every sender's queued transactions"
    );
    assert_eq!(pool.len(), 5, "nothing refused was queued");

    // A builder rejected A's second: it goes, and so does A's third, which was judged on it.
    pool.prune(&ledger.state, &[a[1].id()]);
    assert_eq!(pool.len(), 3);
    assert!(pool.contains(&a[0].id()) && !pool.contains(&a[2].id()));
    // A state in which B used its first nonce: B's first leaves the pool.
    let mut later = ledger.state.clone();
    later.apply(&b[0], Context { transaction: b[0].id(), ..context() }).unwrap();
    pool.prune(&later, &[]);
    assert!(!pool.contains(&b[0].id()) && pool.contains(&b[1].id()));
    assert_eq!(pool.next_nonce(&later, "CN-BBB"), 3);
}

#[test]
fn malformed_and_oversized_bytes_are_refused() {
    let ledger = Ledger::three_members();
    let mut pool = Mempool::default();
    let malformed = pool.admit_bytes(&[1, 2, 3], &ledger.state, context());
    assert!(matches!(malformed, Err(MempoolError::Malformed(_))));
    let oversized = pool.admit_bytes(&vec![0; 64 * 1024 + 1], &ledger.state, context());
    assert_eq!(oversized, Err(MempoolError::TooLarge));
    assert_eq!(oversized.unwrap_err().code(), "transaction_too_large");
    assert!(pool.is_empty());
}

#[test]
fn a_forwarded_batch_is_checked_at_once_and_one_bad_signature_refuses_only_itself() {
    let ledger = Ledger::three_members();
    let mut pool = Mempool::default();
    let good: Vec<_> = (1..=3).map(|n| register(&ledger, "CN-AAA", n, &format!("CN*AAA*E{n}"))).collect();
    // Signed by B's key in A's name.
    let action = Action::RegisterCharger(identity("CN*AAA*E4"));
    let forged =
        Transaction { chain: ledger.state.chain(), sender: "CN-AAA".into(), nonce: 4, action }.sign(&key("CN-BBB"));
    let mut batch: Vec<Vec<u8>> = good.iter().map(SignedTransaction::encode).collect();
    batch.push(forged.encode());
    batch.push(vec![7; 3]);
    let results = pool.admit_batch(&batch, &ledger.state, context());
    assert!(results[..3].iter().all(|r| matches!(r, Ok((_, Admitted::Queued)))), "{results:?}");
    assert!(matches!(results[3], Err(MempoolError::Rejected(Rejection::BadSignature))));
    assert!(matches!(results[4], Err(MempoolError::Malformed(_))));
    assert_eq!(pool.len(), 3);

    // What was checked is remembered with the key it was checked against, and only with it.
    let a_key = ledger.state.member("CN-AAA").unwrap().record.public_key;
    let b_key = ledger.state.member("CN-BBB").unwrap().record.public_key;
    assert!(pool.checked(&good[0].id(), &a_key));
    assert!(!pool.checked(&good[0].id(), &b_key), "a key rotated since is not trusted");
    assert!(!pool.checked(&forged.id(), &a_key) && !pool.checked(&forged.id(), &b_key));
}

/// A block can take away what a queued transaction needed (here another member registered the same
/// charger first): after the block the queued one goes, with its sender's later ones, even on a node
/// that builds no blocks, so that its sender resubmits instead of waiting on it forever.
#[test]
fn transactions_a_block_made_stale_are_dropped_after_it() {
    let mut ledger = Ledger::three_members();
    let mut pool = Mempool::default();
    let b1 = register(&ledger, "CN-BBB", 1, "CN*XXX*E1");
    let b2 = register(&ledger, "CN-BBB", 2, "CN*BBB*E2");
    let proposal = Action::Propose(GovernanceAction::SetParameters(Parameters::default()));
    let c1 = Transaction { chain: ledger.state.chain(), sender: "CN-CCC".into(), nonce: 1, action: proposal }
        .sign(&key("CN-CCC"));
    for tx in [&b1, &b2, &c1] {
        assert_eq!(pool.admit(tx.clone(), &ledger.state, context()), Ok(Admitted::Queued));
    }
    pool.drop_stale(&ledger.state, context());
    assert_eq!(pool.len(), 3, "nothing is stale yet");

    ledger.send("CN-AAA", Action::RegisterCharger(identity("CN*XXX*E1"))).unwrap();
    pool.drop_stale(&ledger.state, Context { height: 2, ..context() });
    assert!(!pool.contains(&b1.id()) && !pool.contains(&b2.id()), "B's stale registration and its later one");
    assert!(pool.contains(&c1.id()), "C's is untouched");
}
