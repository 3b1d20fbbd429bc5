//! Blocks: a header committing to the parent, the transactions (Merkle root) and the state after
//! them (state root), and the transactions. Building a block and checking one are the same
//! execution, so a validator accepts exactly what an honest proposer builds.

use crate::codec::{self, DecodeError};
use crate::keys::{Signature, verify_all};
use crate::state::{Context, Event, Rejection, State};
use crate::transaction::SignedTransaction;
use crate::{Hash, PublicKey, hash_parts, merkle};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// The largest block accepted, in bytes.
pub const MAX_BLOCK_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Header {
    pub height: u64,
    /// The parent block's hash; the genesis hash for the first block.
    #[serde(with = "hex::serde")]
    pub parent: Hash,
    /// The party id of the validator that proposed it (empty for the genesis header).
    pub proposer: String,
    /// The proposer's clock, Unix milliseconds: never before the parent's.
    pub timestamp: i64,
    #[serde(with = "hex::serde")]
    pub transactions_root: Hash,
    #[serde(with = "hex::serde")]
    pub state_root: Hash,
}

impl Header {
    pub fn hash(&self) -> Hash {
        hash_parts("chargemesh/header/1", &[&codec::encode(self)])
    }

    /// The header the first block builds on: height 0, the genesis state.
    pub fn genesis(state: &mut State, timestamp: i64) -> Header {
        Header {
            height: 0,
            parent: state.chain(),
            proposer: String::new(),
            timestamp,
            transactions_root: merkle::root(&[] as &[Vec<u8>]),
            state_root: state.root(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Block {
    pub header: Header,
    pub transactions: Vec<SignedTransaction>,
}

impl Block {
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    pub fn decode(bytes: &[u8]) -> Result<Block, DecodeError> {
        codec::decode(bytes, MAX_BLOCK_BYTES)
    }

    /// The Merkle inclusion proof of the transaction at `index`.
    pub fn proof(&self, index: usize) -> Option<merkle::Proof> {
        merkle::prove(&self.encoded_transactions(), index)
    }

    fn encoded_transactions(&self) -> Vec<Vec<u8>> {
        self.transactions.iter().map(SignedTransaction::encode).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("height {got} does not follow the parent's {parent}")]
    Height { parent: u64, got: u64 },
    #[error("the parent hash is not the parent's")]
    Parent,
    #[error("{0} is not a validator")]
    Proposer(String),
    #[error("timestamp {got} is before the parent's {parent}")]
    Timestamp { parent: i64, got: i64 },
    #[error("{count} transactions is more than the {max} allowed")]
    TooManyTransactions { count: usize, max: u32 },
    #[error("the transactions root does not match the transactions")]
    TransactionsRoot,
    #[error("transaction {index} ({}): {rejection}", hex::encode(id))]
    Transaction { index: usize, id: Hash, rejection: Rejection },
    #[error("the state root {} differs from the {} computed", hex::encode(claimed), hex::encode(computed))]
    StateRoot { claimed: Hash, computed: Hash },
}

/// A block built from candidates, the state after it, and the candidates left out and why.
pub struct Built {
    pub block: Block,
    pub state: State,
    pub events: Vec<Vec<Event>>,
    pub rejected: Vec<(Hash, Rejection)>,
}

/// Builds the block after `parent` (whose state is `state`) from candidate transactions, in order,
/// leaving out those the state machine rejects, up to the block size the parameters allow.
pub fn build(
    state: &State,
    parent: &Header,
    proposer: &str,
    timestamp: i64,
    candidates: impl IntoIterator<Item = SignedTransaction>,
) -> Built {
    build_with(state, parent, proposer, timestamp, candidates, &NoneChecked)
}

/// [`build`], not checking again the signatures `checked` has checked against the sender's key.
pub fn build_with(
    state: &State,
    parent: &Header,
    proposer: &str,
    timestamp: i64,
    candidates: impl IntoIterator<Item = SignedTransaction>,
    checked: &impl CheckedSignatures,
) -> Built {
    let mut next = state.clone();
    let (mut transactions, mut events, mut rejected) = (Vec::new(), Vec::new(), Vec::new());
    let max = next.parameters().max_block_transactions as usize;
    let height = parent.height + 1;
    let timestamp = timestamp.max(parent.timestamp);
    for tx in candidates {
        if transactions.len() == max {
            break;
        }
        let id = tx.id();
        let context = Context { height, timestamp, transaction: id };
        let key = next.member(&tx.transaction.sender).map(|m| m.record.public_key);
        let applied = match key {
            Some(key) if checked.checked(&id, &key) => next.apply_verified(&tx, context),
            _ => next.apply(&tx, context),
        };
        match applied {
            Ok(applied) => {
                events.push(applied);
                transactions.push(tx);
            }
            Err(rejection) => rejected.push((id, rejection)),
        }
    }
    let encoded: Vec<Vec<u8>> = transactions.iter().map(SignedTransaction::encode).collect();
    let header = Header {
        height,
        parent: parent.hash(),
        proposer: proposer.to_owned(),
        timestamp,
        transactions_root: merkle::root(&encoded),
        state_root: next.root(),
    };
    Built { block: Block { header, transactions }, state: next, events, rejected }
}

/// Which transactions' signatures a node has checked already, and against which key (its mempool's
/// admissions): a block's transaction found there is not checked again. The id covers the
/// signature, so a hit means that very signature verifies under that very key.
pub trait CheckedSignatures {
    fn checked(&self, id: &Hash, key: &PublicKey) -> bool;
}

/// Nothing checked before: every signature is checked.
pub struct NoneChecked;

impl CheckedSignatures for NoneChecked {
    fn checked(&self, _: &Hash, _: &PublicKey) -> bool {
        false
    }
}

/// Checks `block` against its parent and the parent's state and returns the state after it: the
/// header's links, every signature (in one batch where keys did not change within the block),
/// every transaction, and the state root.
pub fn execute(state: &State, parent: &Header, block: &Block) -> Result<(State, Vec<Vec<Event>>), BlockError> {
    execute_with(state, parent, block, &NoneChecked)
}

/// [`execute`], not checking again the signatures `checked` has checked against the sender's key.
pub fn execute_with(
    state: &State,
    parent: &Header,
    block: &Block,
    checked: &impl CheckedSignatures,
) -> Result<(State, Vec<Vec<Event>>), BlockError> {
    let header = &block.header;
    if header.height != parent.height + 1 {
        return Err(BlockError::Height { parent: parent.height, got: header.height });
    }
    if header.parent != parent.hash() {
        return Err(BlockError::Parent);
    }
    if !state.member(&header.proposer).is_some_and(|m| m.active && m.record.validator) {
        return Err(BlockError::Proposer(header.proposer.clone()));
    }
    if header.timestamp < parent.timestamp {
        return Err(BlockError::Timestamp { parent: parent.timestamp, got: header.timestamp });
    }
    let max = state.parameters().max_block_transactions;
    if block.transactions.len() > max as usize {
        return Err(BlockError::TooManyTransactions { count: block.transactions.len(), max });
    }
    let encoded = block.encoded_transactions();
    if merkle::root(&encoded) != header.transactions_root {
        return Err(BlockError::TransactionsRoot);
    }
    let ids: Vec<Hash> = encoded.iter().map(|bytes| hash_parts("chargemesh/transaction-id/1", &[bytes])).collect();
    let mut next = state.clone();
    let mut batch_verified = signatures_verify(state, &block.transactions, &ids, checked);
    let mut events = Vec::with_capacity(block.transactions.len());
    for (index, (tx, &id)) in block.transactions.iter().zip(&ids).enumerate() {
        let context = Context { height: header.height, timestamp: header.timestamp, transaction: id };
        let applied = if batch_verified { next.apply_verified(tx, context) } else { next.apply(tx, context) };
        let applied = applied.map_err(|rejection| BlockError::Transaction { index, id, rejection })?;
        // A passed proposal may have changed a key: later signatures are checked one by one.
        if applied.iter().any(|e| matches!(e, Event::ProposalPassed { .. })) {
            batch_verified = false;
        }
        events.push(applied);
    }
    let computed = next.root();
    if computed != header.state_root {
        return Err(BlockError::StateRoot { claimed: header.state_root, computed });
    }
    Ok((next, events))
}

/// Whether every transaction's signature verifies against its sender's key in `state`: those not
/// `checked` before, in one batch.
fn signatures_verify(
    state: &State,
    transactions: &[SignedTransaction],
    ids: &[Hash],
    checked: &impl CheckedSignatures,
) -> bool {
    let mut unchecked = Vec::with_capacity(transactions.len());
    for (tx, id) in transactions.iter().zip(ids) {
        let Some(member) = state.member(&tx.transaction.sender) else { return false };
        let key = member.record.public_key;
        if !checked.checked(id, &key) {
            unchecked.push((tx.transaction.signing_message(), tx.signature, key));
        }
    }
    let items: Vec<(&[u8], Signature, PublicKey)> =
        unchecked.iter().map(|(message, signature, key)| (message.as_slice(), *signature, *key)).collect();
    items.is_empty() || verify_all(&items)
}
