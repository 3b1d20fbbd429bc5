//! Domain types and pure rules of chargemesh.
//!
//! Nothing here performs I/O, spawns tasks or reads a clock: instants are passed in. Every other crate,
//! including the ledger's state machine, builds on these types.

pub mod access;
pub mod authorization;
pub mod charger;
mod decimal;
pub mod energy;
pub mod fleet;
pub mod ids;
pub mod metering;
pub mod money;
pub mod payment;
pub mod phone;
pub mod pricing;
pub mod pseudonym;
pub mod roaming_start;
pub mod session;
pub mod settlement;
pub mod tariff;
pub mod wallet;

pub use energy::Energy;
pub use ids::{IdToken, StationId};
