//! What the API shows of commissioning records.

use chargemesh_store::commissioning as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Commissioning {
    pub station_id: String,
    /// The charger's id in the consortium, e.g. `CN*NGR*E12345`.
    pub evse_id: String,
    pub max_power_watts: i64,
    /// Connector types as the ledger names them: `gbt_dc`, `gbt_ac`, `ccs2`, ...
    pub connectors: Vec<String>,
    /// The id of the metering device's type-approval certificate.
    pub metering_certificate: String,
    /// The latest calibration of its meter and when it lapses.
    pub calibration_certificate: String,
    #[schema(value_type = String, format = DateTime)]
    pub calibration_expires_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub commissioned_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decommissioned_at: Option<Timestamp>,
}

impl From<store::Commissioning> for Commissioning {
    fn from(row: store::Commissioning) -> Self {
        Commissioning {
            station_id: row.station_id,
            evse_id: row.evse_id,
            max_power_watts: row.max_power_watts,
            connectors: row.connectors,
            metering_certificate: row.metering_certificate,
            calibration_certificate: row.calibration_certificate,
            calibration_expires_at: row.calibration_expires_at,
            commissioned_at: row.commissioned_at,
            decommissioned_at: row.decommissioned_at,
        }
    }
}
