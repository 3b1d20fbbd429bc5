//! What the API shows of drivers records.

use chargemesh_store::drivers as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Driver {
    pub id: i64,
    /// The operator whose driver this is.
    pub operator_id: i64,
    /// What the driver logs in with: a phone number or an e-mail address.
    pub username: String,
    pub name: Option<String>,
    /// `active`, `blocked` or `closed`.
    #[schema(value_type = String)]
    pub status: store::DriverStatus,
    /// Logins of the account wait until then after wrong passwords in a row (each one more makes the
    /// wait longer, up to a minute; see the README's logins section).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Driver> for Driver {
    fn from(row: store::Driver) -> Self {
        Driver {
            id: row.id,
            operator_id: row.operator_id,
            username: row.username,
            name: row.name,
            status: row.status,
            locked_until: row.locked_until,
            created_at: row.created_at,
        }
    }
}

/// A driver's login, as the driver's personal data lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Login {
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

impl From<store::Login> for Login {
    fn from(row: store::Login) -> Self {
        Login { created_at: row.created_at, expires_at: row.expires_at }
    }
}
