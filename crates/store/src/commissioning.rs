//! Chargers' commissioning records: what the consortium ledger is told a charger is (its identity,
//! fixed once saved) and its meter's calibration, and when it went out of service for good.

use crate::{Conn, Result, Row, instant, millis, opt_instant, query};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub calibration_expires_at: Timestamp,
    pub commissioned_at: Timestamp,
    pub decommissioned_at: Option<Timestamp>,
}

/// A commissioned charger with what the ledger's identity takes from the charger itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CommissionedCharger {
    pub record: Commissioning,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    /// Its site's time zone, if it has a site.
    pub time_zone: Option<String>,
}

const COLUMNS: &str = "m.station_id, m.evse_id, m.max_power_watts, m.connectors, m.metering_certificate, \
    m.calibration_certificate, m.calibration_expires_at, m.commissioned_at, m.decommissioned_at";

fn record(row: &Row) -> Result<Commissioning> {
    let connectors: String = row.try_get("connectors")?;
    Ok(Commissioning {
        station_id: row.try_get("station_id")?,
        evse_id: row.try_get("evse_id")?,
        max_power_watts: row.try_get("max_power_watts")?,
        connectors: connectors.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
        metering_certificate: row.try_get("metering_certificate")?,
        calibration_certificate: row.try_get("calibration_certificate")?,
        calibration_expires_at: instant(row.try_get("calibration_expires_at")?)?,
        commissioned_at: instant(row.try_get("commissioned_at")?)?,
        decommissioned_at: opt_instant(row.try_get("decommissioned_at")?)?,
    })
}

/// Saves a record; for a charger commissioned already only the calibration and the
/// decommissioning change (its identity on the ledger is permanent).
pub async fn save(conn: &mut Conn, record: &Commissioning) -> Result<()> {
    query(
        "INSERT INTO charger_commissioning (station_id, evse_id, max_power_watts, connectors, metering_certificate, \
         calibration_certificate, calibration_expires_at, commissioned_at, decommissioned_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (station_id) DO UPDATE SET \
         calibration_certificate = excluded.calibration_certificate, \
         calibration_expires_at = excluded.calibration_expires_at, decommissioned_at = excluded.decommissioned_at",
    )
    .bind(&record.station_id)
    .bind(&record.evse_id)
    .bind(record.max_power_watts)
    .bind(record.connectors.join(","))
    .bind(&record.metering_certificate)
    .bind(&record.calibration_certificate)
    .bind(millis(record.calibration_expires_at))
    .bind(millis(record.commissioned_at))
    .bind(record.decommissioned_at.map(millis))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, station_id: &str) -> Result<Option<Commissioning>> {
    let row = query(format!("SELECT {COLUMNS} FROM charger_commissioning m WHERE m.station_id = $1"))
        .bind(station_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(record).transpose()
}

/// The commissioning record holding an EVSE id, whichever charger it is.
pub async fn by_evse(conn: &mut Conn, evse_id: &str) -> Result<Option<Commissioning>> {
    let row = query(format!("SELECT {COLUMNS} FROM charger_commissioning m WHERE m.evse_id = $1"))
        .bind(evse_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(record).transpose()
}

/// Every commissioned charger (or charger `station_id` only, if it is), decommissioned ones included,
/// by station id.
pub async fn list(conn: &mut Conn, station_id: Option<&str>) -> Result<Vec<CommissionedCharger>> {
    query(format!(
        "SELECT {COLUMNS}, c.vendor, c.model, c.serial_number, s.time_zone FROM charger_commissioning m \
         JOIN chargers c ON c.station_id = m.station_id LEFT JOIN sites s ON s.id = c.site_id \
         WHERE ($1 IS NULL OR m.station_id = $1) ORDER BY m.station_id"
    ))
    .bind(station_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| {
        Ok(CommissionedCharger {
            record: record(row)?,
            vendor: row.try_get("vendor")?,
            model: row.try_get("model")?,
            serial_number: row.try_get("serial_number")?,
            time_zone: row.try_get("time_zone")?,
        })
    })
    .collect()
}
