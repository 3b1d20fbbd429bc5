//! Commands to chargers: recorded, handed to whichever gateway holds the charger's connection, and
//! completed with the charger's answer, an error, or a timeout.

use super::Operations;
use chargemesh_core::StationId;
use chargemesh_core::charger::{ChargerCommand, CommandState};
use chargemesh_gateway::CommandFailure;
use chargemesh_store::StoreError;
use chargemesh_store::commands::{self, CommandRecord};

impl Operations {
    /// Sends a command and waits for its result; the record is stored before sending and completed after.
    pub async fn send_command(
        &self,
        station: &StationId,
        command: ChargerCommand,
        requested_by: Option<i64>,
    ) -> Result<CommandRecord, StoreError> {
        let now = self.now();
        let (station_id, recorded) = (station.as_str().to_owned(), command.clone());
        let id = self
            .store
            .write(move |tx| {
                Box::pin(async move { commands::create_command(tx, &station_id, &recorded, requested_by, now).await })
            })
            .await?;
        let result = match self.link.dispatch(station, command) {
            None => Err(CommandFailure::NotConnected),
            // The gateway times out the call itself; this bound only guards against a lost connection task.
            Some(answer) => match tokio::time::timeout(self.settings.command_timeout * 2, answer).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(CommandFailure::ConnectionClosed),
                Err(_) => Err(CommandFailure::TimedOut),
            },
        };
        let (state, outcome, error) = match &result {
            Ok(outcome) => (CommandState::Answered, Some(outcome), None),
            Err(CommandFailure::TimedOut) => (CommandState::TimedOut, None, Some(CommandFailure::TimedOut.to_string())),
            Err(failure) => (CommandState::Failed, None, Some(failure.to_string())),
        };
        let outcome = outcome.cloned();
        let record = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    commands::complete_command(&mut *tx, id, state, outcome.as_ref(), error.as_deref(), now).await?;
                    commands::get_command(tx, id).await
                })
            })
            .await?;
        record.ok_or_else(|| StoreError::Corrupt(format!("command {id} vanished")))
    }
}
