//! The consortium's settings that the members may change by governance.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Settings the members may change by governance.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Parameters {
    /// How long after a CDR's anchoring its eMSP may dispute it, in milliseconds.
    pub dispute_window_ms: i64,
    /// The most transactions in one block.
    pub max_block_transactions: u32,
    /// How far a block's timestamp may run ahead of the clock of a validator checking it.
    pub max_timestamp_drift_ms: i64,
}

impl Default for Parameters {
    fn default() -> Parameters {
        Parameters {
            dispute_window_ms: 7 * 24 * 3_600_000,
            max_block_transactions: 10_000,
            max_timestamp_drift_ms: 10_000,
        }
    }
}

impl Parameters {
    pub fn check(&self) -> Result<(), String> {
        if !(0..=366 * 24 * 3_600_000).contains(&self.dispute_window_ms) {
            return Err("dispute_window_ms must be between 0 and a year".into());
        }
        if !(1..=100_000).contains(&self.max_block_transactions) {
            return Err("max_block_transactions must be between 1 and 100,000".into());
        }
        if !(0..=3_600_000).contains(&self.max_timestamp_drift_ms) {
            return Err("max_timestamp_drift_ms must be between 0 and an hour".into());
        }
        Ok(())
    }
}
