//! What the API shows of commands records.

use chargemesh_core::charger::ChargerCommand;
use chargemesh_core::charger::CommandOutcome;
use chargemesh_core::charger::CommandState;
use chargemesh_store::commands as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommandRecord {
    pub id: i64,
    pub station_id: String,
    #[schema(value_type = Object)]
    pub command: ChargerCommand,
    /// `pending`, `answered`, `failed` (the charger answered with an error, or was not connected) or
    /// `timed_out`.
    #[schema(value_type = String)]
    pub state: CommandState,
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<CommandOutcome>,
    pub error: Option<String>,
    pub requested_by: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
}

impl From<store::CommandRecord> for CommandRecord {
    fn from(row: store::CommandRecord) -> Self {
        CommandRecord {
            id: row.id,
            station_id: row.station_id,
            command: row.command,
            state: row.state,
            outcome: row.outcome,
            error: row.error,
            requested_by: row.requested_by,
            created_at: row.created_at,
            completed_at: row.completed_at,
        }
    }
}
