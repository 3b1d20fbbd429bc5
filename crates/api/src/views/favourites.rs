//! What the driver API shows of a driver's favourite chargers.

use chargemesh_store::favourites as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Favourite {
    /// The member whose charger it is, as the charger search names it.
    pub operator: String,
    pub evse_uid: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Favourite> for Favourite {
    fn from(row: store::Favourite) -> Self {
        Favourite { operator: row.operator, evse_uid: row.evse_uid, created_at: row.created_at }
    }
}
