//! Commands sent to chargers and their results.

use crate::{Conn, Result, Row, StoreError, instant, millis, opt_instant, query};
use chargemesh_core::charger::{ChargerCommand, CommandOutcome, CommandState};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandRecord {
    pub id: i64,
    pub station_id: String,
    pub command: ChargerCommand,
    /// `pending`, `answered`, `failed` (the charger answered with an error, or was not connected) or
    /// `timed_out`.
    pub state: CommandState,
    pub outcome: Option<CommandOutcome>,
    pub error: Option<String>,
    pub requested_by: Option<i64>,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

fn read_state(text: &str) -> Result<CommandState> {
    CommandState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("a command in an unknown state {text:?}")))
}

fn record(row: Row) -> Result<CommandRecord> {
    let command: String = row.try_get("command")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    Ok(CommandRecord {
        id: row.try_get("id")?,
        station_id: row.try_get("station_id")?,
        command: serde_json::from_str(&command).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        state: read_state(&row.try_get::<String, _>("state")?)?,
        outcome: outcome
            .map(|o| serde_json::from_str(&o))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        error: row.try_get("error")?,
        requested_by: row.try_get("requested_by")?,
        created_at: instant(row.try_get("created_at")?)?,
        completed_at: opt_instant(row.try_get("completed_at")?)?,
    })
}

pub async fn create_command(
    conn: &mut Conn,
    station_id: &str,
    command: &ChargerCommand,
    requested_by: Option<i64>,
    now: Timestamp,
) -> Result<i64> {
    let text = serde_json::to_string(command).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let row = query(
        "INSERT INTO commands (station_id, command, state, requested_by, created_at) VALUES ($1, $2, 'pending', $3, $4) \
         RETURNING id",
    )
    .bind(station_id)
    .bind(text)
    .bind(requested_by)
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    row.try_get(0)
}

pub async fn complete_command(
    conn: &mut Conn,
    id: i64,
    state: CommandState,
    outcome: Option<&CommandOutcome>,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let outcome = outcome.map(serde_json::to_string).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?;
    query("UPDATE commands SET state = $2, outcome = $3, error = $4, completed_at = $5 WHERE id = $1")
        .bind(id)
        .bind(state.as_str())
        .bind(outcome)
        .bind(error)
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Commands still pending when the node stopped can never be answered: they are marked failed at start.
pub async fn fail_pending(conn: &mut Conn, now: Timestamp) -> Result<u64> {
    let done = query(
        "UPDATE commands SET state = 'failed', error = 'the node restarted before the charger answered', \
         completed_at = $1 WHERE state = 'pending'",
    )
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(done)
}

pub async fn get_command(conn: &mut Conn, id: i64) -> Result<Option<CommandRecord>> {
    query(
        "SELECT id, station_id, command, state, outcome, error, requested_by, created_at, completed_at \
         FROM commands WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(record)
    .transpose()
}
