//! What the API shows of audit records.

use chargemesh_store::audit as store;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// An entry of the audit log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `staff`, `driver`, `anonymous` (a login attempt) or `node` (the node itself: payments).
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    /// The username of the account acting (or tried, for a failed login).
    pub actor_name: Option<String>,
    /// The role the actor acted with.
    pub actor_role: Option<String>,
    /// The operator the acting account works for.
    pub actor_operator_id: Option<i64>,
    /// `login` or `api_key <id>`: the credential the request came with.
    pub credential: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// What was done, e.g. `sites.update`, `auth.login_failed`, `money.capture`.
    pub action: String,
    /// What it was done to, e.g. `/api/v1/sites/3`, `session 42`.
    pub object: Option<String>,
    /// The operator whose object it is; `None` for the member's own business.
    pub operator_id: Option<i64>,
    /// The HTTP status the request was answered with (`None` for what the node did by itself).
    pub status: Option<i64>,
    /// What was asked: the request's body, secrets left out.
    #[schema(value_type = Option<Object>)]
    pub request: Option<Value>,
    /// The object before and after the change, where there is one.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    /// Anything else worth knowing: why a login failed, a refusal's message.
    pub detail: Option<String>,
}

impl From<store::AuditEntry> for AuditEntry {
    fn from(row: store::AuditEntry) -> Self {
        AuditEntry {
            id: row.id,
            at: row.at,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            actor_name: row.actor_name,
            actor_role: row.actor_role,
            actor_operator_id: row.actor_operator_id,
            credential: row.credential,
            address: row.address,
            action: row.action,
            object: row.object,
            operator_id: row.operator_id,
            status: row.status,
            request: row.request,
            before: row.before,
            after: row.after,
            detail: row.detail,
        }
    }
}
