//! Operations' sections of the node's configuration: `[payments]` and `[ledger]`.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentsConfig {
    /// The hold placed when a paying session starts is the price of this many kWh in its first hour.
    pub hold_estimate_kwh: u32,
    /// How often the payments worker looks for work it was not woken for (a restart, a provider
    /// that was down).
    pub sweep_interval_ms: u64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig { hold_estimate_kwh: 60, sweep_interval_ms: 5_000 }
    }
}

impl PaymentsConfig {
    /// What is wrong with these settings, named by their keys.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.hold_estimate_kwh) {
            return Err("payments.hold_estimate_kwh must be from 1 to 1000".into());
        }
        if !(100..=3_600_000).contains(&self.sweep_interval_ms) {
            return Err("payments.sweep_interval_ms must be from 100 to 3600000".into());
        }
        Ok(())
    }
}

/// The consortium ledger this node takes part in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    pub enabled: bool,
    /// This member's party id, e.g. `CN-NGR`.
    pub party_id: String,
    /// The consortium's genesis file. Empty: `ledger/genesis.json` in the data directory, created on
    /// first start for a consortium of this member alone (its own single validator).
    pub genesis: PathBuf,
    /// This member's key file. Empty: `ledger/keys/<party id>.key` in the data directory.
    pub key: PathBuf,
    /// Where the validator listens for the other validators.
    pub p2p_listen: SocketAddr,
    /// Anchor the CDRs of the operator's own drivers too, not only those of other members' drivers.
    pub anchor_own_cdrs: bool,
    /// How often the node compares its chargers, tariffs and ended sessions with the ledger and
    /// submits what the ledger lacks.
    pub feed_interval_ms: u64,
    /// How often the feed reads all the node's tariffs and chargers again; between, it reads only
    /// those that changed.
    pub feed_everything_interval_ms: u64,
    /// The secret this member's driver pseudonyms are computed under (32 bytes, hex). Empty:
    /// `ledger/pseudonym.secret` in the data directory, created on first start. Losing it orphans
    /// the commitments of the drivers' anchored charges; keep it with the member key.
    pub pseudonym_secret: PathBuf,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            enabled: true,
            party_id: "CN-M01".into(),
            genesis: PathBuf::new(),
            key: PathBuf::new(),
            p2p_listen: ([127, 0, 0, 1], 9100).into(),
            anchor_own_cdrs: false,
            feed_interval_ms: 2_000,
            feed_everything_interval_ms: 300_000,
            pseudonym_secret: PathBuf::new(),
        }
    }
}

impl LedgerConfig {
    /// What is wrong with these settings, named by their keys.
    pub fn validate(&self) -> Result<(), String> {
        if !(100..=3_600_000).contains(&self.feed_interval_ms) {
            return Err("ledger.feed_interval_ms must be from 100 to 3600000".into());
        }
        if !(100..=86_400_000).contains(&self.feed_everything_interval_ms) {
            return Err("ledger.feed_everything_interval_ms must be from 100 to 86400000".into());
        }
        Ok(())
    }
}
