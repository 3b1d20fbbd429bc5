//! The consortium ledger's pure part: what the members agree on and how anyone checks it.
//! Transactions signed by member keys, a deterministic state machine that re-prices every anchored
//! charge record with the same pricing function the nodes bill with, blocks with Merkle roots,
//! inclusion proofs, and netting of what members owe each other. No I/O, no clock, no randomness,
//! no consensus engine: audits, `chargemesh ledger verify` and the fuzz targets use it as it is, and
//! `chargemesh-chain` runs it (chain store, mempool, consensus).
//!
//! A [`Genesis`] names the members; [`State::from_genesis`] starts the state machine from it. A
//! member signs a [`Transaction`] into a [`SignedTransaction`]; applying transactions to the state
//! accepts or refuses each with a [`Rejection`] that has a stable code. Blocks ([`Block`]) commit
//! to their transactions with a Merkle root and to the state with its root, and
//! [`proof::check`] checks, with nothing but the genesis, that a CDR was anchored.
//!
//! # Status
//!
//! Stable (a change forks every chain): the transaction encoding ([`codec`], Borsh), the hashes
//! of [`hash_parts`] with their domains, the state root, the block header. Everything else may
//! change between versions.

pub mod block;
pub mod codec;
pub mod fields;
pub mod genesis;
pub mod keys;
pub mod merkle;
pub mod netting;
pub mod parameters;
pub mod proof;
mod rejection;
pub mod state;
pub mod transaction;

pub use block::{Block, Header};
pub use genesis::Genesis;
pub use keys::{MemberKey, PublicKey};
pub use state::{Rejection, State};
pub use transaction::{Action, SignedTransaction, Transaction};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 of `parts`, each prefixed by its length so that no two lists of parts hash alike.
pub fn hash_parts(domain: &str, parts: &[&[u8]]) -> Hash {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update((domain.len() as u32).to_be_bytes());
    hasher.update(domain.as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}
