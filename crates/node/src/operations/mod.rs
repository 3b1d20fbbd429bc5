//! The business of a charging station management system: what each charger event means, which
//! commands go to chargers, and who may charge. Never sees a wire format.

mod admission;
mod charger_events;
mod commands;
mod energy;

pub use admission::{Admission, Credentials};
pub use charger_events::{IncomingMessage, Refusal};
pub use commands::{ChargerLink, CommandFailure};

use crate::config::{GatewayConfig, UnknownChargerPolicy};
use chargemesh_store::Store;
use std::sync::Arc;

/// Operations shared by the gateway and the API.
#[derive(Clone)]
pub struct Operations {
    store: Store,
    settings: Arc<Settings>,
    link: Arc<dyn ChargerLink>,
}

/// What operations needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub heartbeat_interval_secs: u32,
    pub command_timeout: std::time::Duration,
    pub unknown_chargers: UnknownChargerPolicy,
}

impl Settings {
    pub fn from_gateway(gateway: &GatewayConfig) -> Settings {
        Settings {
            heartbeat_interval_secs: gateway.heartbeat_interval_secs,
            command_timeout: std::time::Duration::from_secs(gateway.command_timeout_secs),
            unknown_chargers: gateway.unknown_chargers,
        }
    }
}

impl Operations {
    pub fn new(store: Store, settings: Settings, link: Arc<dyn ChargerLink>) -> Operations {
        Operations { store, settings: Arc::new(settings), link }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
