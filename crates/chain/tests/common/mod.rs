//! The ledger's test consortium (the same fixtures as `chargemesh-ledger`'s tests) and validators
//! on Commonware's simulated network.
#![allow(dead_code, unused_imports)]

#[path = "../../../ledger/tests/common/mod.rs"]
mod consortium;
pub mod sim;

pub use consortium::*;
