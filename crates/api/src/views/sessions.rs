//! What the API shows of sessions records.

use chargemesh_core::session::{SessionState, StoppedBy};
use chargemesh_store::sessions as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// Also the transaction id the charger uses (OCPP 1.6).
    pub id: i64,
    pub station_id: String,
    pub connector_id: i64,
    pub id_token: String,
    /// The authorization the charger was given at start.
    pub authorization_status: String,
    /// `active` or `completed`.
    #[schema(value_type = String)]
    pub state: SessionState,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    pub meter_start_mwh: i64,
    pub reservation_id: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub stopped_at: Option<Timestamp>,
    pub meter_stop_mwh: Option<i64>,
    pub stop_reason: Option<String>,
    /// `charger` when the charger reported the stop; `node` when the node closed a transaction the
    /// charger orphaned (a reboot) or superseded (a new transaction on the same connector).
    #[schema(value_type = Option<String>)]
    pub stopped_by: Option<StoppedBy>,
    /// Energy delivered so far, in milliwatt-hours.
    pub energy_mwh: i64,
    /// Comma-separated reasons why the energy is not plainly stop − start (see the README).
    pub energy_flags: String,
    /// The tariff the session is priced by: the version in force when it started, fixed then.
    pub tariff_id: Option<String>,
    pub tariff_version: Option<i64>,
    /// The site's time zone at the start, which the tariff is evaluated in.
    pub time_zone: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<store::Session> for Session {
    fn from(row: store::Session) -> Self {
        Session {
            id: row.id,
            station_id: row.station_id,
            connector_id: row.connector_id,
            id_token: row.id_token,
            authorization_status: row.authorization_status,
            state: row.state,
            started_at: row.started_at,
            meter_start_mwh: row.meter_start_mwh,
            reservation_id: row.reservation_id,
            stopped_at: row.stopped_at,
            meter_stop_mwh: row.meter_stop_mwh,
            stop_reason: row.stop_reason,
            stopped_by: row.stopped_by,
            energy_mwh: row.energy_mwh,
            energy_flags: row.energy_flags,
            tariff_id: row.tariff_id,
            tariff_version: row.tariff_version,
            time_zone: row.time_zone,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoredMeterValue {
    #[schema(value_type = String, format = DateTime)]
    pub sampled_at: Timestamp,
    pub connector_id: i64,
    pub measurand: String,
    pub context: String,
    pub phase: Option<String>,
    pub location: String,
    pub unit: String,
    /// The value exactly as the charger sent it.
    pub value: String,
    /// For the energy import register: the reading in milliwatt-hours.
    pub register_mwh: Option<i64>,
}

impl From<store::StoredMeterValue> for StoredMeterValue {
    fn from(row: store::StoredMeterValue) -> Self {
        StoredMeterValue {
            sampled_at: row.sampled_at,
            connector_id: row.connector_id,
            measurand: row.measurand,
            context: row.context,
            phase: row.phase,
            location: row.location,
            unit: row.unit,
            value: row.value,
            register_mwh: row.register_mwh,
        }
    }
}
