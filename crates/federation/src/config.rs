//! Federation's section of the node's configuration (`[federation]`): how often its loops look for
//! work they were not woken for.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// The least time between two rounds of the publisher, which sends the other members what
    /// changed of this node's locations, tariffs, sessions and CDRs (it is woken by the changes).
    pub publish_interval_ms: u64,
    /// How often the publisher compares everything with what the members were sent, for a change
    /// noted nowhere.
    pub publish_everything_interval_ms: u64,
    /// How often the outbox is looked at for messages due.
    pub outbox_interval_ms: u64,
    /// How often received CDRs are checked against the ledger and charged to their drivers.
    pub settlement_interval_ms: u64,
    /// A PEM file of CA certificates trusted besides the system's when reaching members and partners
    /// over HTTPS (a consortium's own CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_ca: Option<PathBuf>,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            publish_interval_ms: 1_000,
            publish_everything_interval_ms: 300_000,
            outbox_interval_ms: 200,
            settlement_interval_ms: 1_000,
            extra_ca: None,
        }
    }
}

impl FederationConfig {
    /// What is wrong with these settings, named by their keys.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [
            ("publish_interval_ms", self.publish_interval_ms),
            ("publish_everything_interval_ms", self.publish_everything_interval_ms),
            ("outbox_interval_ms", self.outbox_interval_ms),
            ("settlement_interval_ms", self.settlement_interval_ms),
        ] {
            if !(50..=3_600_000).contains(&value) {
                return Err(format!("federation.{key} must be from 50 to 3600000"));
            }
        }
        Ok(())
    }

    /// The publisher's least time between rounds, and between rounds that compare everything.
    pub(crate) fn publish_intervals(&self) -> (Duration, Duration) {
        (Duration::from_millis(self.publish_interval_ms), Duration::from_millis(self.publish_everything_interval_ms))
    }

    pub(crate) fn outbox_interval(&self) -> Duration {
        Duration::from_millis(self.outbox_interval_ms)
    }

    pub(crate) fn settlement_interval(&self) -> Duration {
        Duration::from_millis(self.settlement_interval_ms)
    }
}
