//! The business of a charging station management system: what each charger event means, which
//! commands go to chargers, and who may charge. Never sees a wire format.

mod admission;
pub mod api_keys;
mod audit;
pub mod billing;
pub mod changes;
pub mod charger_admin;
mod charger_events;
pub mod charges;
pub mod clock;
mod commands;
pub mod commissioning;
pub mod config;
mod driver_privacy;
mod drivers;
mod energy;
mod error;
pub mod favourites;
pub mod fleet;
mod housekeeping;
pub mod ledger;
pub mod ledger_explorer;
pub mod login_throttle;
mod member_catalog;
pub mod member_outbox;
pub mod overview;
mod ownership;
pub mod partner_credentials;
mod partners;
pub mod passwords;
pub mod payment_admin;
pub mod payments;
pub mod phone_signup;
mod publication;
pub mod roaming_cpo;
pub mod roaming_emsp;
mod roaming_settlement;
mod roaming_tokens;
pub mod session_history;
pub mod sites;
mod staff;
pub mod tariffs;
mod tokens;

pub use charger_events::Refusal;
pub use driver_privacy::DriverRecords;
pub use drivers::NewDriverAccount;
pub use error::{Error, Outcome};
pub use ownership::operator_for_new;
pub use roaming_tokens::TokenAuthority;
pub use tokens::TokenTerms;

use chargemesh_gateway::{ChargerLink, GatewayConfig, UnknownChargerPolicy};
use chargemesh_store::Store;
use std::sync::Arc;

/// Operations shared by the gateway and the API.
#[derive(Clone)]
pub struct Operations {
    store: Store,
    settings: Arc<Settings>,
    link: Arc<dyn ChargerLink>,
    payments: Arc<payments::PaymentsHandle>,
    /// The id of every session a charger message just changed, for live subscribers.
    session_updates: tokio::sync::broadcast::Sender<i64>,
    /// Who authorizes other members' drivers in real time (federation, once it is up).
    token_authority: Arc<std::sync::OnceLock<Arc<dyn TokenAuthority>>>,
    /// What changed, for the publisher and the ledger feed.
    changes: Arc<changes::Changes>,
    clock: Arc<dyn clock::Clock>,
    /// How one-time codes reach drivers' phones.
    text_messages: Arc<dyn phone_signup::TextMessages>,
    shared_overviews: Arc<overview::SharedOverviews>,
}

/// What operations needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub heartbeat_interval_secs: u32,
    pub command_timeout: std::time::Duration,
    pub unknown_chargers: UnknownChargerPolicy,
    /// The energy whose price in a session's first hour is held when a paying session starts.
    pub hold_estimate: chargemesh_core::Energy,
    /// How often the payments worker looks for work it was not woken for.
    pub payments_sweep: std::time::Duration,
}

impl Settings {
    /// Operations' settings from the gateway's and payments' sections of the configuration.
    pub fn new(gateway: &GatewayConfig, payments: &config::PaymentsConfig) -> Settings {
        Settings {
            heartbeat_interval_secs: gateway.heartbeat_interval_secs,
            command_timeout: std::time::Duration::from_secs(gateway.command_timeout_secs),
            unknown_chargers: gateway.unknown_chargers,
            hold_estimate: chargemesh_core::Energy::from_wh(i64::from(payments.hold_estimate_kwh) * 1000),
            payments_sweep: std::time::Duration::from_millis(payments.sweep_interval_ms),
        }
    }
}

impl Operations {
    pub fn new(
        store: Store,
        settings: Settings,
        link: Arc<dyn ChargerLink>,
        provider: Arc<dyn payments::PaymentProvider>,
    ) -> Operations {
        let payments = Arc::new(payments::PaymentsHandle::new(provider));
        let (session_updates, _) = tokio::sync::broadcast::channel(1024);
        let token_authority = Arc::default();
        let (changes, clock) = (Arc::default(), Arc::new(clock::SystemClock));
        let settings = Arc::new(settings);
        let text_messages = Arc::new(phone_signup::LoggedTextMessages);
        let shared_overviews = Arc::default();
        Operations {
            store,
            settings,
            link,
            payments,
            session_updates,
            token_authority,
            changes,
            clock,
            text_messages,
            shared_overviews,
        }
    }

    /// These operations sending drivers' one-time codes with `sender` instead of writing them to the
    /// log.
    pub fn with_text_messages(self, text_messages: Arc<dyn phone_signup::TextMessages>) -> Operations {
        Operations { text_messages, ..self }
    }

    /// These operations reading the time from `clock` instead of the system's.
    pub fn with_clock(self, clock: Arc<dyn clock::Clock>) -> Operations {
        Operations { clock, ..self }
    }

    /// The time now, by the operations' clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    /// A new follower of what changes (published objects, tariffs, chargers, sessions): what is
    /// noted from now on, and the signal that wakes its loop.
    pub fn follow_changes(&self) -> Arc<changes::Follower> {
        self.changes.follow()
    }

    fn note(&self, change: changes::Change<'_>) {
        self.changes.note(change);
    }

    /// Ids of sessions as charger messages change them (meter values, stops).
    pub fn session_updates(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.session_updates.subscribe()
    }

    /// The way to connected chargers.
    pub fn chargers(&self) -> &dyn ChargerLink {
        self.link.as_ref()
    }
}
