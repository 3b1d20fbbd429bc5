//! The versions module: which OCPI versions a platform speaks, and the module endpoints of each.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub version: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDetails {
    pub version: String,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The module: `credentials`, `locations`, `tariffs`, `tokens`, `commands`, `sessions`, `cdrs`.
    pub identifier: String,
    pub role: InterfaceRole,
    pub url: String,
}

/// Whether the platform serves a module's objects (`SENDER`) or takes them (`RECEIVER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InterfaceRole {
    Sender,
    Receiver,
}
