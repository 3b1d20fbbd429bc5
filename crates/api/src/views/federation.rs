//! What the API shows of federation records.

use chargemesh_core::roaming_start::RoamingStartState;
use chargemesh_store::federation as store;
use jiff::Timestamp;
use serde::Serialize;

/// A start this node's driver asked for at another member's charger.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoamingStart {
    pub id: String,
    pub id_token: String,
    /// The operator whose driver's token it charges: only its staff (and the member's) see it.
    pub operator_id: Option<i64>,
    /// The member whose charger it is.
    pub cpo: String,
    pub location_id: String,
    pub evse_uid: String,
    /// `requested`; then `accepted`, `rejected` or `unreachable`; then the charger's result:
    /// `started`, `failed`, `timeout`, `evse_occupied`, ...
    #[schema(value_type = String)]
    pub state: RoamingStartState,
    pub message: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<store::RoamingStart> for RoamingStart {
    fn from(row: store::RoamingStart) -> Self {
        RoamingStart {
            id: row.id,
            id_token: row.id_token,
            operator_id: row.operator_id,
            cpo: row.cpo,
            location_id: row.location_id,
            evse_uid: row.evse_uid,
            state: row.state,
            message: row.message,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// An undelivered message, for operators: where it goes and why it has not arrived.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingMessage {
    pub peer: String,
    pub method: String,
    pub path: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: Timestamp,
}

impl From<store::PendingMessage> for PendingMessage {
    fn from(row: store::PendingMessage) -> Self {
        PendingMessage {
            peer: row.peer,
            method: row.method,
            path: row.path,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: row.created_at,
            next_attempt_at: row.next_attempt_at,
        }
    }
}
