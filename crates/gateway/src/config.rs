//! The gateway's section of the node's configuration (`[gateway]`).

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// Chargers connect to `ws://<listen><path>/<station id>`.
    pub path: String,
    /// 0: no charger authentication (trusted networks and tests only); 1: HTTP Basic auth with the
    /// charger's authorization key.
    pub security_profile: u8,
    /// What happens to a charger the node does not know: `refuse` (HTTP 404) or `pending` (admitted and
    /// told `Pending` until an operator accepts it).
    pub unknown_chargers: UnknownChargerPolicy,
    /// The heartbeat interval chargers are told at boot.
    pub heartbeat_interval_secs: u32,
    /// WebSocket ping interval; a charger silent for two intervals is disconnected.
    pub ping_interval_secs: u64,
    /// How long the node waits for a charger to answer a command.
    pub command_timeout_secs: u64,
    /// Largest OCPP message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Offer permessage-deflate (RFC 7692) to chargers that ask for it.
    pub compression: bool,
    /// How long replies are remembered to answer repeated messages.
    pub message_memory_days: u32,
    /// How long a charger may take to send its WebSocket handshake before it is dropped.
    pub handshake_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownChargerPolicy {
    Refuse,
    Pending,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: ([127, 0, 0, 1], 9000).into(),
            path: "/ocpp".into(),
            security_profile: 0,
            unknown_chargers: UnknownChargerPolicy::Refuse,
            heartbeat_interval_secs: 300,
            ping_interval_secs: 60,
            command_timeout_secs: 30,
            max_message_bytes: 65_536,
            compression: true,
            message_memory_days: 7,
            handshake_timeout_secs: 5,
        }
    }
}

impl GatewayConfig {
    /// What is wrong with these settings, named by their keys.
    pub fn validate(&self) -> Result<(), String> {
        if self.security_profile > 1 {
            return Err(format!(
                "gateway.security_profile = {}: this node supports profiles 0 and 1 (TLS profiles 2 and 3 are not built yet)",
                self.security_profile
            ));
        }
        if !self.path.starts_with('/') || self.path.ends_with('/') {
            return Err(format!("gateway.path = {:?}: it must start with '/' and not end with one", self.path));
        }
        if self.max_message_bytes < 1024 {
            return Err("gateway.max_message_bytes must be at least 1024".into());
        }
        Ok(())
    }
}
