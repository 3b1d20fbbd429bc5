//! The chain on disk: blocks appended in order, once; a process killed with SIGKILL while it appends
//! restarts with every block it committed and the state they give, nothing lost or applied twice.

mod common;

use chargemesh_chain::chain_store::{ChainStore, ChainStoreError};
use chargemesh_ledger::block::{self, Header};
use chargemesh_ledger::transaction::Action;
use chargemesh_ledger::{Genesis, SignedTransaction, State, Transaction};
use common::*;
use std::io::BufRead;
use std::path::Path;

const PER_BLOCK: u64 = 20;
const CHILD: &str = "CHARGEMESH_CHAIN_STORE_CHILD";

fn consortium() -> Genesis {
    genesis(vec![record("CN-AAA", true, true, true)])
}

/// The next block: `PER_BLOCK` chargers registered, named after the block's height.
fn next_block(state: &State, parent: &Header) -> chargemesh_ledger::block::Built {
    let height = parent.height + 1;
    let first_nonce = state.member("CN-AAA").unwrap().nonce + 1;
    let transactions: Vec<SignedTransaction> = (0..PER_BLOCK)
        .map(|i| {
            let action = Action::RegisterCharger(identity(&format!("CN*AAA*H{height}*{i}")));
            Transaction { chain: state.chain(), sender: "CN-AAA".into(), nonce: first_nonce + i, action }
                .sign(&key("CN-AAA"))
        })
        .collect();
    block::build(state, parent, "CN-AAA", GENESIS_TIME + height as i64 * 1000, transactions)
}

/// Appends blocks until killed, resuming from what the store holds.
fn append_forever(path: &Path) {
    let store = ChainStore::open(path).unwrap();
    let (mut state, mut parent) = store.replay(&consortium()).unwrap();
    loop {
        let built = next_block(&state, &parent);
        store.append(std::slice::from_ref(&built.block), b"certificate").unwrap();
        // Tells the parent each committed height, so it kills the child while it is appending.
        println!("{}", built.block.header.height);
        state = built.state;
        parent = built.block.header;
    }
}

#[test]
fn blocks_are_appended_in_order_and_once() {
    let path = scratch("order");
    let store = ChainStore::open(&path).unwrap();
    let mut state = State::from_genesis(&consortium()).unwrap();
    let genesis = Header::genesis(&mut state, GENESIS_TIME);
    let first = next_block(&state, &genesis);
    store.append(std::slice::from_ref(&first.block), b"c1").unwrap();
    store.append(std::slice::from_ref(&first.block), b"c1").unwrap();
    let mut other = first.block.clone();
    other.header.timestamp += 1;
    assert!(matches!(store.append(std::slice::from_ref(&other), b"c1"), Err(ChainStoreError::Conflict(1))));
    let second = next_block(&first.state, &first.block.header);
    let third = next_block(&second.state, &second.block.header);
    assert!(matches!(
        store.append(std::slice::from_ref(&third.block), b"c3"),
        Err(ChainStoreError::OutOfOrder { last: 1, got: 3 })
    ));
    // Blocks finalized together are stored together or not at all.
    let fourth = next_block(&third.state, &third.block.header);
    let gap = [second.block.clone(), fourth.block.clone()];
    assert!(matches!(store.append(&gap, b"c4"), Err(ChainStoreError::OutOfOrder { last: 2, got: 4 })));
    assert_eq!(store.height().unwrap(), 1, "the failed append stored nothing");
    store.append(&[second.block.clone(), third.block.clone()], b"c3").unwrap();
    assert_eq!(store.height().unwrap(), 3);
    assert_eq!(store.certificate(2).unwrap().as_deref(), Some(&b"c3"[..]));
    let (mut replayed, last) = store.replay(&consortium()).unwrap();
    assert_eq!(last, third.block.header);
    assert_eq!(replayed.root(), third.block.header.state_root);
}

#[test]
fn killed_while_appending_it_loses_and_doubles_nothing() {
    if let Ok(path) = std::env::var(CHILD) {
        append_forever(Path::new(&path));
        return;
    }
    let path = scratch("kill");
    let mut heights = Vec::new();
    for round in 0..3u64 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["killed_while_appending_it_loses_and_doubles_nothing", "--exact", "--nocapture"])
            .env(CHILD, &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Let it resume and append a number of blocks, different each round, then kill it mid-stream.
        let resumed_from = heights.last().copied().unwrap_or(0);
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let appended = lines
            .map_while(Result::ok)
            .filter_map(|line| line.trim().parse::<u64>().ok())
            .find(|height| *height >= resumed_from + 20 + 15 * round);
        assert!(appended.is_some(), "the child stopped appending");
        child.kill().unwrap();
        child.wait().unwrap();

        let store = ChainStore::open(&path).unwrap();
        let height = store.height().unwrap();
        let (mut state, last) = store.replay(&consortium()).expect("the stored chain replays");
        assert_eq!(state.root(), last.state_root);
        assert_eq!(state.chargers().count() as u64, PER_BLOCK * height, "every committed block's chargers, once");
        assert_eq!(state.member("CN-AAA").unwrap().nonce, PER_BLOCK * height);
        heights.push(height);
    }
    assert!(heights.windows(2).all(|w| w[0] < w[1]), "each run resumed and added blocks: {heights:?}");
    assert!(heights[0] > 0);
}
