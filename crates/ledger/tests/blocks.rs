//! Blocks: building and checking are the same execution; the same chain applied again, on a second
//! state from genesis, gives the same state roots; a flipped byte anywhere is found and named; an
//! inclusion proof ties a transaction to its block.

mod common;

use chargemesh_ledger::block::{self, BlockError, Header};
use chargemesh_ledger::merkle;
use chargemesh_ledger::transaction::{Action, LifecycleEvent};
use chargemesh_ledger::{Block, SignedTransaction, State, Transaction};
use common::*;

/// A chain of three blocks from a consortium's genesis: a charger's life, a tariff, two CDRs.
fn chain() -> (State, Header, Vec<Block>) {
    let genesis = genesis(vec![record("CN-AAA", true, true, true), record("CN-BBB", true, true, false)]);
    let mut state = State::from_genesis(&genesis).unwrap();
    let genesis_header = Header::genesis(&mut state, GENESIS_TIME);
    let start = state.clone();
    let chain_id = state.chain();
    let tx = |party: &str, nonce: u64, action: Action| -> SignedTransaction {
        Transaction { chain: chain_id, sender: party.into(), nonce, action }.sign(&key(party))
    };
    let evse = "CN*AAA*E1*1".to_owned();
    let v1 = tariff("CN-AAA", 1, GENESIS_TIME + HOUR);
    let batches = vec![
        vec![
            tx("CN-AAA", 1, Action::RegisterCharger(identity(&evse))),
            tx("CN-AAA", 2, Action::ChargerLifecycle { evse_id: evse.clone(), event: LifecycleEvent::Installed }),
            tx(
                "CN-AAA",
                3,
                Action::ChargerLifecycle {
                    evse_id: evse.clone(),
                    event: LifecycleEvent::Calibrated {
                        certificate: "CAL-1".into(),
                        expires_at: GENESIS_TIME + 365 * DAY,
                    },
                },
            ),
        ],
        vec![tx("CN-AAA", 4, publish(&v1))],
        vec![
            tx("CN-AAA", 5, Action::AnchorCdr(anchor("CDR-1", "CN-BBB", GENESIS_TIME + 2 * HOUR, &v1))),
            tx("CN-AAA", 6, Action::AnchorCdr(anchor("CDR-2", "CN-BBB", GENESIS_TIME + 5 * HOUR, &v1))),
            // A replayed nonce is left out by the proposer.
            tx("CN-AAA", 6, Action::AnchorCdr(anchor("CDR-3", "CN-BBB", GENESIS_TIME + 7 * HOUR, &v1))),
        ],
    ];
    let (mut parent, mut blocks) = (genesis_header.clone(), Vec::new());
    let times = [GENESIS_TIME + 60_000, GENESIS_TIME + 120_000, GENESIS_TIME + 10 * HOUR];
    for (batch, time) in batches.into_iter().zip(times) {
        let built = block::build(&state, &parent, "CN-AAA", time, batch);
        state = built.state;
        parent = built.block.header.clone();
        blocks.push(built.block);
    }
    assert_eq!(blocks[2].transactions.len(), 2, "the replay was left out");
    (start, genesis_header, blocks)
}

fn replay(start: &State, genesis: &Header, blocks: &[Block]) -> Result<Vec<[u8; 32]>, BlockError> {
    let (mut state, mut parent, mut roots) = (start.clone(), genesis.clone(), Vec::new());
    for block in blocks {
        let (next, _) = block::execute(&state, &parent, block)?;
        state = next;
        roots.push(state.root());
        parent = block.header.clone();
    }
    Ok(roots)
}

#[test]
fn the_same_chain_gives_the_same_state_roots_every_time() {
    let (start, genesis, blocks) = chain();
    let claimed: Vec<_> = blocks.iter().map(|b| b.header.state_root).collect();
    assert_eq!(replay(&start, &genesis, &blocks).unwrap(), claimed);
    // Decoded from bytes, as a second node receives them.
    let received: Vec<Block> = blocks.iter().map(|b| Block::decode(&b.encode()).unwrap()).collect();
    assert_eq!(replay(&start, &genesis, &received).unwrap(), claimed);
    assert_eq!(chain().2, blocks, "building is deterministic too");
}

/// A flipped byte is found: the block no longer executes on its parent, or its hash is no longer the
/// one the validators' finalization certificate signed.
#[test]
fn a_flipped_byte_anywhere_in_a_block_is_found() {
    let (start, genesis, blocks) = chain();
    let bytes = blocks[2].encode();
    let mut found = 0;
    for position in (0..bytes.len()).step_by(7) {
        let mut tampered = bytes.clone();
        tampered[position] ^= 0x01;
        let Ok(block) = Block::decode(&tampered) else {
            found += 1;
            continue;
        };
        let signed_hash = blocks[2].hash();
        let mut chain = blocks.clone();
        chain[2] = block;
        let noticed = replay(&start, &genesis, &chain).is_err() || chain[2].hash() != signed_hash;
        assert!(noticed, "a flipped byte at {position} went unnoticed");
        found += 1;
    }
    assert!(found > 100);
}

#[test]
fn a_bad_block_is_refused_with_what_is_wrong() {
    let (start, genesis, blocks) = chain();
    let (state1, _) = block::execute(&start, &genesis, &blocks[0]).unwrap();
    let mut wrong_root = blocks[1].clone();
    wrong_root.header.state_root[0] ^= 1;
    assert!(matches!(block::execute(&state1, &blocks[0].header, &wrong_root), Err(BlockError::StateRoot { .. })));
    let mut skipped = blocks[1].clone();
    skipped.header.height = 5;
    assert!(matches!(block::execute(&state1, &blocks[0].header, &skipped), Err(BlockError::Height { .. })));
    let mut early = blocks[1].clone();
    early.header.timestamp = GENESIS_TIME - 1;
    assert!(matches!(block::execute(&state1, &blocks[0].header, &early), Err(BlockError::Timestamp { .. })));
    let mut other_parent = blocks[0].header.clone();
    other_parent.proposer = "CN-BBB".into();
    assert!(matches!(block::execute(&state1, &other_parent, &blocks[1]), Err(BlockError::Parent)));
    let mut not_a_validator = blocks[1].clone();
    not_a_validator.header.proposer = "CN-BBB".into();
    assert!(matches!(
        block::execute(&state1, &blocks[0].header, &not_a_validator),
        Err(BlockError::Proposer(p)) if p == "CN-BBB"
    ));

    // A transaction the state machine rejects, with the roots made to match: named by its index.
    let (state2, _) = block::execute(&state1, &blocks[0].header, &blocks[1]).unwrap();
    let mut forged = blocks[2].clone();
    forged.transactions[1].transaction.action = match forged.transactions[1].transaction.action.clone() {
        Action::AnchorCdr(mut a) => {
            a.claimed.incl_tax += 100;
            Action::AnchorCdr(a)
        }
        other => other,
    };
    forged.transactions[1] = forged.transactions[1].transaction.clone().sign(&key("CN-AAA"));
    let encoded: Vec<Vec<u8>> = forged.transactions.iter().map(SignedTransaction::encode).collect();
    forged.header.transactions_root = merkle::root(&encoded);
    let error = block::execute(&state2, &blocks[1].header, &forged).unwrap_err();
    assert!(matches!(&error, BlockError::Transaction { index: 1, .. }), "{error}");
    assert!(error.to_string().contains("incl_tax"), "{error}");
}

#[test]
fn an_inclusion_proof_ties_a_transaction_to_its_block() {
    let (_, _, blocks) = chain();
    let block = &blocks[0];
    for index in 0..block.transactions.len() {
        let proof = block.proof(index).unwrap();
        let bytes = block.transactions[index].encode();
        assert!(merkle::verify(&block.header.transactions_root, &bytes, &proof));
        let mut other = bytes.clone();
        other[10] ^= 1;
        assert!(!merkle::verify(&block.header.transactions_root, &other, &proof));
    }
    assert!(block.proof(block.transactions.len()).is_none());
}
