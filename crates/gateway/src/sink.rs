//! Where the gateway hands what chargers say: who may connect, and what each message means. The
//! node's operations implement it; the gateway never sees their types.

use chargemesh_core::StationId;
use chargemesh_core::charger::{ChargerEvent, ChargerReply};
use std::future::Future;

/// HTTP Basic credentials a charger presented.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Not registered, and unknown chargers are refused (security profile 0 only: with a key
    /// required, an unknown station is `CredentialsRequired` or `WrongCredentials` like any other).
    Unknown,
    /// The port requires credentials and none were presented.
    CredentialsRequired,
    /// Credentials of another station, a wrong key, or a charger without a key.
    WrongCredentials,
}

/// The identity of a charger message, for deduplication.
#[derive(Debug, Clone)]
pub struct IncomingMessage {
    pub message_id: String,
    pub action: String,
    /// A digest of the payload: a reused message id with another payload is a new message.
    pub payload_digest: String,
}

/// Why the sink did not apply an event, as the gateway must answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Nothing was recorded; the charger should send the message again.
    #[error("{0}")]
    NotRecorded(String),
    /// The charger may not do this (told to it as a security error).
    #[error("{0}")]
    NotPermitted(String),
}

/// What the gateway calls for each connection and each charger message.
pub trait EventSink: Send + Sync + 'static {
    /// Whether `station` may connect; `require_credentials` is the port's security profile 1. An
    /// error means the answer could not be looked up (the handshake is refused as unavailable).
    fn admit(
        &self,
        station: &StationId,
        require_credentials: bool,
        credentials: Option<Credentials>,
    ) -> impl Future<Output = Result<Admission, String>> + Send;

    /// Applies an event and returns the reply, durably recorded before it is returned.
    fn handle(
        &self,
        station: StationId,
        message: IncomingMessage,
        event: ChargerEvent,
    ) -> impl Future<Output = Result<ChargerReply, Refusal>> + Send;

    /// `station` connected, or its connection ended: whether a charger is reachable is part of
    /// what the node shows of it.
    fn connection_changed(&self, station: &StationId, connected: bool);
}
