//! What the API shows of chargers records.

use chargemesh_store::chargers as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Charger {
    pub station_id: String,
    /// `None` for a charger that registered itself and awaits an operator.
    pub operator_id: Option<i64>,
    pub site_id: Option<i64>,
    /// `Accepted`, `Pending` or `Rejected`: what the charger is told at boot.
    pub registration: String,
    pub has_auth_key: bool,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub iccid: Option<String>,
    pub imsi: Option<String>,
    pub meter_type: Option<String>,
    pub meter_serial_number: Option<String>,
    pub firmware_status: Option<String>,
    pub diagnostics_status: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_boot_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Charger> for Charger {
    fn from(row: store::Charger) -> Self {
        Charger {
            station_id: row.station_id,
            operator_id: row.operator_id,
            site_id: row.site_id,
            registration: row.registration,
            has_auth_key: row.has_auth_key,
            vendor: row.vendor,
            model: row.model,
            serial_number: row.serial_number,
            firmware_version: row.firmware_version,
            iccid: row.iccid,
            imsi: row.imsi,
            meter_type: row.meter_type,
            meter_serial_number: row.meter_serial_number,
            firmware_status: row.firmware_status,
            diagnostics_status: row.diagnostics_status,
            last_boot_at: row.last_boot_at,
            last_seen_at: row.last_seen_at,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectorState {
    pub connector_id: i64,
    pub status: String,
    pub error_code: Option<String>,
    pub info: Option<String>,
    pub vendor_error_code: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub status_at: Timestamp,
}

impl From<store::ConnectorState> for ConnectorState {
    fn from(row: store::ConnectorState) -> Self {
        ConnectorState {
            connector_id: row.connector_id,
            status: row.status,
            error_code: row.error_code,
            info: row.info,
            vendor_error_code: row.vendor_error_code,
            status_at: row.status_at,
        }
    }
}
