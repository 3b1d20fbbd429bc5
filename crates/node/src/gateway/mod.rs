//! The charger gateway: accepts OCPP-J WebSocket connections and speaks OCPP 1.6J through its adapter.
//! It holds no business rules; every message becomes a protocol-neutral event for operations.

mod connection;
mod handshake;
pub mod registry;

use crate::config::GatewayConfig;
use crate::operations::Operations;
use axum::Router;
use axum::routing::get;
pub use registry::Registry;
use std::sync::Arc;

pub struct Gateway {
    pub config: GatewayConfig,
    pub operations: Operations,
    pub registry: Arc<Registry>,
}

pub fn router(gateway: Arc<Gateway>) -> Router {
    let path = format!("{}/{{station_id}}", gateway.config.path);
    Router::new().route(&path, get(handshake::accept)).with_state(gateway)
}
