//! What the API shows of operators records.

use chargemesh_store::operators as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    /// Keeps refundable wallet balances for its drivers (`PUT /api/v1/operators/{id}/wallets`).
    pub wallets_enabled: bool,
    /// Drivers who sign up in the app with their phone number become this operator's
    /// (`PUT /api/v1/operators/{id}/driver-signup`; one operator of the node at most).
    pub driver_signup: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Operator> for Operator {
    fn from(row: store::Operator) -> Self {
        Operator {
            id: row.id,
            name: row.name,
            wallets_enabled: row.wallets_enabled,
            driver_signup: row.driver_signup,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Site {
    pub id: i64,
    pub operator_id: i64,
    pub name: String,
    /// IANA time zone the site's tariffs are evaluated in, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    pub city: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Site> for Site {
    fn from(row: store::Site) -> Self {
        Site {
            id: row.id,
            operator_id: row.operator_id,
            name: row.name,
            time_zone: row.time_zone,
            latitude: row.latitude,
            longitude: row.longitude,
            address: row.address,
            city: row.city,
            created_at: row.created_at,
        }
    }
}
