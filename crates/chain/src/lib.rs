//! The consortium ledger running: the chain store (redb), the mempool and the Commonware consensus
//! wiring (Simplex over authenticated p2p) that order `chargemesh-ledger`'s transactions into
//! finalized blocks. Only the `consensus` module knows the consensus engine.

pub mod chain;
pub mod chain_store;
pub mod consensus;
pub mod files;
pub mod mempool;
pub mod proof;

pub use chain::Chain;
