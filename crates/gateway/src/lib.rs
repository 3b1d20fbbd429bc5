//! The charger gateway: accepts chargers' connections, speaks each one's protocol through an
//! [`Adapter`], and keeps the [`Registry`] of who is connected.
//!
//! It holds no business rules. Every charger message becomes a protocol-neutral
//! [`ChargerEvent`](chargemesh_core::charger::ChargerEvent) handed to an [`EventSink`] (operations,
//! in the node), whose reply the adapter encodes; commands reach a charger through the
//! [`ChargerLink`] the registry implements, which the API and federation use as well.

mod adapter;
mod config;
mod connection;
mod handshake;
mod link;
mod registry;
mod sink;

pub use adapter::{Adapter, Ocpp16Adapter, adapter_for};
pub use config::{GatewayConfig, UnknownChargerPolicy};
pub use link::{ChargerLink, CommandFailure};
pub use registry::Registry;
pub use sink::{Admission, Credentials, EventSink, IncomingMessage, Refusal};

use axum::Router;
use axum::routing::get;
use std::sync::Arc;

/// The gateway of one node: its settings, where events go, and who is connected.
pub struct Gateway<S> {
    pub config: GatewayConfig,
    pub sink: S,
    pub registry: Arc<Registry>,
}

/// The HTTP router that upgrades `GET <path>/<station id>` to a charger's WebSocket connection.
pub fn router<S: EventSink>(gateway: Arc<Gateway<S>>) -> Router {
    let path = format!("{}/{{station_id}}", gateway.config.path);
    Router::new().route(&path, get(handshake::accept::<S>)).with_state(gateway)
}
