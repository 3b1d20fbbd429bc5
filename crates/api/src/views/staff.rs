//! What the API shows of staff records.

use chargemesh_core::access::Role;
use chargemesh_store::staff as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffMember {
    pub id: i64,
    pub username: String,
    /// `member_admin`, `member_finance`, `member_readonly` (the member's), or `admin`, `operator`,
    /// `readonly` (an operator's).
    #[schema(value_type = String)]
    pub role: Role,
    /// The operator this account works for; `None` for the member's accounts and for staff of every
    /// operator the node hosts.
    pub operator_id: Option<i64>,
    /// `active` or `disabled`.
    #[schema(value_type = String)]
    pub status: store::StaffStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::StaffMember> for StaffMember {
    fn from(row: store::StaffMember) -> Self {
        StaffMember {
            id: row.id,
            username: row.username,
            role: row.role,
            operator_id: row.operator_id,
            status: row.status,
            created_at: row.created_at,
        }
    }
}

/// An API key as listed (its secret is never stored).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The account the key acts for.
    pub staff_id: i64,
    pub username: String,
    /// The role it acts with.
    #[schema(value_type = String)]
    pub role: Role,
    /// The operator it reaches; `None`: what its account reaches.
    pub operator_id: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

impl From<store::ApiKey> for ApiKey {
    fn from(row: store::ApiKey) -> Self {
        ApiKey {
            id: row.id,
            name: row.name,
            staff_id: row.staff_id,
            username: row.username,
            role: row.role,
            operator_id: row.operator_id,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}
