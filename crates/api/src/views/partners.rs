//! What the API shows of partners records.

use chargemesh_store::partners as store;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    /// Registered: the partner gave its credentials and calls with the token issued then.
    pub registered: bool,
    /// The partner's versions URL, once registered.
    pub versions_url: Option<String>,
    /// The partner's roles (OCPI `CredentialsRole` list, JSON), once registered.
    #[schema(value_type = Option<Object>)]
    pub roles: Option<Value>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub registered_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl From<store::Partner> for Partner {
    fn from(row: store::Partner) -> Self {
        Partner {
            id: row.id,
            name: row.name,
            registered: row.registered,
            versions_url: row.versions_url,
            roles: row.roles,
            created_at: row.created_at,
            registered_at: row.registered_at,
            revoked_at: row.revoked_at,
        }
    }
}
