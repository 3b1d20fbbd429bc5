//! The API's section of the node's configuration (`[api]`).

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Password of the `admin` account created on first start; empty means a random one, written to
    /// `<data_dir>/initial-admin-password`.
    pub admin_password: String,
    /// How long a login token stays valid.
    pub login_ttl_hours: u32,
    /// Behind a reverse proxy that sets `X-Forwarded-For`: take the client's address from its last
    /// entry (for login throttling and the audit log) instead of the connection's peer.
    pub forwarded_for: bool,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this token>`.
    pub metrics_token: String,
    /// How long a client may take to send a request's headers before it is dropped.
    pub header_timeout_secs: u64,
    /// The console and driver app are reached over HTTPS (a TLS proxy in front of the node): their
    /// login cookies are marked `Secure`, so a browser never sends them over plain HTTP.
    pub secure_cookies: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: ([127, 0, 0, 1], 8080).into(),
            admin_password: String::new(),
            login_ttl_hours: 12,
            forwarded_for: false,
            metrics_token: String::new(),
            header_timeout_secs: 5,
            secure_cookies: false,
        }
    }
}
