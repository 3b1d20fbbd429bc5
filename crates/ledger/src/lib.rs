//! The consortium ledger: what the members agree on. Transactions signed by member keys, a
//! deterministic state machine that re-prices every anchored charge record with the same pricing
//! function the nodes bill with, blocks with Merkle roots, inclusion proofs, and netting of what
//! members owe each other. All of that is pure (no I/O, no clock, no randomness); the chain store
//! and the consensus adapter (the only module that knows the consensus engine) wrap it.

pub mod block;
pub mod chain;
pub mod chain_store;
pub mod codec;
pub mod consensus;
pub mod genesis;
pub mod keys;
pub mod mempool;
pub mod merkle;
pub mod netting;
pub mod proof;
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
