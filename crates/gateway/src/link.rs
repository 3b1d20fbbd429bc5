//! The one way to a connected charger, for whoever needs to send it a command.

use chargemesh_core::StationId;
use chargemesh_core::charger::{ChargerCommand, CommandOutcome};
use tokio::sync::oneshot;

/// Why a charger did not answer a command with a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandFailure {
    #[error("the charger is not connected")]
    NotConnected,
    #[error("the charger did not answer within the timeout")]
    TimedOut,
    #[error("the charger answered with {code}: {description}")]
    ChargerError { code: String, description: String },
    #[error("the charger's answer could not be read: {0}")]
    BadAnswer(String),
    #[error("the connection closed before the charger answered")]
    ConnectionClosed,
}

/// "Is charger X connected; send it this command." Implemented by the [`Registry`](crate::Registry).
pub trait ChargerLink: Send + Sync {
    /// Queues `command` for `station`; the receiver yields the charger's answer. `None` when the charger
    /// is not connected.
    fn dispatch(
        &self,
        station: &StationId,
        command: ChargerCommand,
    ) -> Option<oneshot::Receiver<Result<CommandOutcome, CommandFailure>>>;

    fn is_connected(&self, station: &StationId) -> bool;

    fn connected_count(&self) -> usize;
}
