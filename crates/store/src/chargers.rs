//! Chargers, their connectors' live status and the status history.

use crate::messages::SeenMessage;
use crate::{Conn, Result, Row, instant, millis, opt_instant, query};
use chargemesh_core::charger::{BootInfo, Registration, StatusReport};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charger {
    pub station_id: String,
    /// `None` for a charger that registered itself and awaits an operator.
    pub operator_id: Option<i64>,
    pub site_id: Option<i64>,
    /// `Accepted`, `Pending` or `Rejected`: what the charger is told at boot.
    pub registration: String,
    #[serde(skip)]
    pub auth_key_hash: Option<String>,
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
    pub last_boot_at: Option<Timestamp>,
    pub last_seen_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Charger {
    /// What the charger is told at boot; an unreadable stored value refuses it.
    pub fn registration(&self) -> Registration {
        Registration::parse(&self.registration).unwrap_or(Registration::Rejected)
    }
}

const CHARGER_COLUMNS: &str = "c.station_id, c.operator_id, c.site_id, c.registration, c.auth_key_hash, c.vendor, \
    c.model, c.serial_number, c.firmware_version, c.iccid, c.imsi, c.meter_type, c.meter_serial_number, \
    c.firmware_status, c.diagnostics_status, c.last_boot_at, c.last_seen_at, c.created_at";

fn charger(row: Row) -> Result<Charger> {
    let auth_key_hash: Option<String> = row.try_get("auth_key_hash")?;
    Ok(Charger {
        station_id: row.try_get("station_id")?,
        operator_id: row.try_get("operator_id")?,
        site_id: row.try_get("site_id")?,
        registration: row.try_get("registration")?,
        has_auth_key: auth_key_hash.is_some(),
        auth_key_hash,
        vendor: row.try_get("vendor")?,
        model: row.try_get("model")?,
        serial_number: row.try_get("serial_number")?,
        firmware_version: row.try_get("firmware_version")?,
        iccid: row.try_get("iccid")?,
        imsi: row.try_get("imsi")?,
        meter_type: row.try_get("meter_type")?,
        meter_serial_number: row.try_get("meter_serial_number")?,
        firmware_status: row.try_get("firmware_status")?,
        diagnostics_status: row.try_get("diagnostics_status")?,
        last_boot_at: opt_instant(row.try_get("last_boot_at")?)?,
        last_seen_at: opt_instant(row.try_get("last_seen_at")?)?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

#[derive(Debug, Clone)]
pub struct NewCharger {
    pub station_id: String,
    pub operator_id: Option<i64>,
    pub site_id: Option<i64>,
    pub registration: Registration,
    pub auth_key_hash: Option<String>,
}

pub async fn create_charger(conn: &mut Conn, new: &NewCharger, now: Timestamp) -> Result<()> {
    query(
        "INSERT INTO chargers (station_id, operator_id, site_id, registration, auth_key_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&new.station_id)
    .bind(new.operator_id)
    .bind(new.site_id)
    .bind(new.registration.as_str())
    .bind(&new.auth_key_hash)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_charger(conn: &mut Conn, station_id: &str) -> Result<Option<Charger>> {
    query(format!("SELECT {CHARGER_COLUMNS} FROM chargers c WHERE c.station_id = $1"))
        .bind(station_id)
        .fetch_optional(conn)
        .await?
        .map(charger)
        .transpose()
}

/// What every charger message needs to know of its charger: whom it belongs to and whether it is
/// accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargerStanding {
    pub operator_id: Option<i64>,
    pub registration: Registration,
}

/// A charger's standing and the reply remembered for one of its message ids, in one query (the hot
/// path of every charger message).
pub async fn standing_and_reply(
    conn: &mut Conn,
    station_id: &str,
    message_id: &str,
) -> Result<Option<(ChargerStanding, Option<SeenMessage>)>> {
    let row = query(
        "SELECT c.operator_id, c.registration, m.action, m.payload_digest, m.reply \
         FROM chargers c LEFT JOIN charger_messages m ON m.station_id = c.station_id AND m.message_id = $2 \
         WHERE c.station_id = $1",
    )
    .bind(station_id)
    .bind(message_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let seen = match row.try_get::<Option<String>, _>("action")? {
        Some(action) => {
            Some(SeenMessage { action, payload_digest: row.try_get("payload_digest")?, reply: row.try_get("reply")? })
        }
        None => None,
    };
    let registration: String = row.try_get("registration")?;
    let standing = ChargerStanding {
        operator_id: row.try_get("operator_id")?,
        registration: Registration::parse(&registration).unwrap_or(Registration::Rejected),
    };
    Ok(Some((standing, seen)))
}

/// Chargers of one operator, or all when `operator_id` is `None`.
pub async fn list_chargers(conn: &mut Conn, operator_id: Option<i64>) -> Result<Vec<Charger>> {
    query(format!(
        "SELECT {CHARGER_COLUMNS} FROM chargers c WHERE ($1 IS NULL OR c.operator_id = $1) ORDER BY c.station_id"
    ))
    .bind(operator_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(charger)
    .collect()
}

/// A charger in brief: enough to count and filter a fleet by condition without reading it whole.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargerBrief {
    pub station_id: String,
    /// A connector reports `Faulted`.
    pub faulted: bool,
    /// A connector reports `Charging`.
    pub charging: bool,
}

/// `text` as a `LIKE` pattern matching it anywhere, its wildcards taken literally (escaped with `\`).
fn containing(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
        .collect();
    format!("%{escaped}%")
}

/// The chargers of `operator_id` (all, for `None`) in brief, in station order; with `matching`, only
/// those whose station id, vendor, model or site name contains it (ASCII letters in either case).
pub async fn charger_briefs(
    conn: &mut Conn,
    operator_id: Option<i64>,
    matching: Option<&str>,
) -> Result<Vec<ChargerBrief>> {
    let has = |status: &str| {
        format!(
            "CASE WHEN EXISTS (SELECT 1 FROM connectors k WHERE k.station_id = c.station_id AND k.status = '{status}') \
             THEN 1 ELSE 0 END"
        )
    };
    query(format!(
        "SELECT c.station_id, {} AS faulted, {} AS charging FROM chargers c LEFT JOIN sites s ON s.id = c.site_id \
         WHERE ($1 IS NULL OR c.operator_id = $1) AND ($2 IS NULL OR lower(c.station_id) LIKE $2 ESCAPE '\\' \
         OR lower(coalesce(c.vendor, '')) LIKE $2 ESCAPE '\\' OR lower(coalesce(c.model, '')) LIKE $2 ESCAPE '\\' \
         OR lower(coalesce(s.name, '')) LIKE $2 ESCAPE '\\') ORDER BY c.station_id",
        has("Faulted"),
        has("Charging")
    ))
    .bind(operator_id)
    .bind(matching.map(containing))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(ChargerBrief {
            station_id: row.try_get("station_id")?,
            faulted: row.try_get::<i64, _>("faulted")? != 0,
            charging: row.try_get::<i64, _>("charging")? != 0,
        })
    })
    .collect()
}

/// `$1, $2, …` for `count` parameters.
fn placeholders(count: usize) -> String {
    (1..=count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// The chargers named, in station order, with their connectors: one page of a fleet.
pub async fn chargers_named(conn: &mut Conn, station_ids: &[String]) -> Result<Vec<(Charger, Vec<ConnectorState>)>> {
    if station_ids.is_empty() {
        return Ok(Vec::new());
    }
    let listed = station_ids
        .iter()
        .fold(
            query(format!(
                "SELECT {CHARGER_COLUMNS} FROM chargers c WHERE c.station_id IN ({}) ORDER BY c.station_id",
                placeholders(station_ids.len())
            )),
            |q, id| q.bind(id.as_str()),
        )
        .fetch_all(&mut *conn)
        .await?;
    let rows = station_ids
        .iter()
        .fold(
            query(format!(
                "SELECT station_id, connector_id, status, error_code, info, vendor_error_code, status_at FROM connectors \
                 WHERE station_id IN ({}) ORDER BY station_id, connector_id",
                placeholders(station_ids.len())
            )),
            |q, id| q.bind(id.as_str()),
        )
        .fetch_all(conn)
        .await?;
    let mut connectors = connectors_by_station(rows)?;
    listed
        .into_iter()
        .map(|row| {
            let charger = charger(row)?;
            let its = connectors.remove(&charger.station_id).unwrap_or_default();
            Ok((charger, its))
        })
        .collect()
}

/// Connectors reporting an error (`Faulted`, or an error code other than `NoError`) of the chargers
/// of `operator_id` (all, for `None`): how many, and the newest `limit` with their station.
pub async fn connector_faults(
    conn: &mut Conn,
    operator_id: Option<i64>,
    limit: i64,
) -> Result<(i64, Vec<(String, ConnectorState)>)> {
    const FAULTS: &str = "FROM connectors k JOIN chargers c ON c.station_id = k.station_id \
        WHERE ($1 IS NULL OR c.operator_id = $1) \
        AND (k.status = 'Faulted' OR (k.error_code IS NOT NULL AND k.error_code <> 'NoError'))";
    let count = query(format!("SELECT count(*) AS n {FAULTS}")).bind(operator_id).fetch_one(&mut *conn).await?;
    let newest = query(format!(
        "SELECT k.station_id, k.connector_id, k.status, k.error_code, k.info, k.vendor_error_code, k.status_at \
         {FAULTS} ORDER BY k.status_at DESC, k.station_id, k.connector_id LIMIT $2"
    ))
    .bind(operator_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| Ok((row.try_get("station_id")?, connector_state(row)?)))
    .collect::<Result<_>>()?;
    Ok((count.try_get("n")?, newest))
}

/// What an operator may change about a charger.
#[derive(Debug, Clone, Default)]
pub struct ChargerUpdate {
    pub operator_id: Option<i64>,
    pub site_id: Option<Option<i64>>,
    pub registration: Option<Registration>,
    pub auth_key_hash: Option<Option<String>>,
}

pub async fn update_charger(conn: &mut Conn, station_id: &str, update: &ChargerUpdate) -> Result<bool> {
    let Some(current) = get_charger(&mut *conn, station_id).await? else {
        return Ok(false);
    };
    query(
        "UPDATE chargers SET operator_id = $2, site_id = $3, registration = $4, auth_key_hash = $5 WHERE station_id = $1",
    )
    .bind(station_id)
    .bind(update.operator_id.or(current.operator_id))
    .bind(update.site_id.unwrap_or(current.site_id))
    .bind(update.registration.map_or(current.registration.clone(), |r| r.as_str().to_owned()))
    .bind(update.auth_key_hash.clone().unwrap_or(current.auth_key_hash))
    .execute(conn)
    .await?;
    Ok(true)
}

pub async fn delete_charger(conn: &mut Conn, station_id: &str) -> Result<bool> {
    query("DELETE FROM connectors WHERE station_id = $1").bind(station_id).execute(&mut *conn).await?;
    let done = query("DELETE FROM chargers WHERE station_id = $1").bind(station_id).execute(conn).await?;
    Ok(done > 0)
}

pub async fn record_boot(conn: &mut Conn, station_id: &str, boot: &BootInfo, now: Timestamp) -> Result<()> {
    query(
        "UPDATE chargers SET vendor = $2, model = $3, serial_number = $4, firmware_version = $5, iccid = $6, \
         imsi = $7, meter_type = $8, meter_serial_number = $9, last_boot_at = $10, last_seen_at = $10 \
         WHERE station_id = $1",
    )
    .bind(station_id)
    .bind(&boot.vendor)
    .bind(&boot.model)
    .bind(&boot.serial_number)
    .bind(&boot.firmware_version)
    .bind(&boot.iccid)
    .bind(&boot.imsi)
    .bind(&boot.meter_type)
    .bind(&boot.meter_serial_number)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn touch(conn: &mut Conn, station_id: &str, now: Timestamp) -> Result<()> {
    query("UPDATE chargers SET last_seen_at = $2 WHERE station_id = $1")
        .bind(station_id)
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the transactions about one charger (an old connection's last message beside a new
/// connection's first) run one after the other. PostgreSQL runs transactions side by side, so the
/// charger's row is locked; SQLite's single writer already runs them one after the other.
pub async fn lock(conn: &mut Conn, station_id: &str) -> Result<()> {
    if conn.is_postgres() {
        query("SELECT 1 FROM chargers WHERE station_id = $1 FOR UPDATE").bind(station_id).fetch_optional(conn).await?;
    }
    Ok(())
}

pub async fn set_firmware_status(conn: &mut Conn, station_id: &str, status: &str) -> Result<()> {
    query("UPDATE chargers SET firmware_status = $2 WHERE station_id = $1")
        .bind(station_id)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_diagnostics_status(conn: &mut Conn, station_id: &str, status: &str) -> Result<()> {
    query("UPDATE chargers SET diagnostics_status = $2 WHERE station_id = $1")
        .bind(station_id)
        .bind(status)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectorState {
    pub connector_id: i64,
    pub status: String,
    pub error_code: Option<String>,
    pub info: Option<String>,
    pub vendor_error_code: Option<String>,
    pub status_at: Timestamp,
}

fn connector_state(row: Row) -> Result<ConnectorState> {
    Ok(ConnectorState {
        connector_id: row.try_get("connector_id")?,
        status: row.try_get("status")?,
        error_code: row.try_get("error_code")?,
        info: row.try_get("info")?,
        vendor_error_code: row.try_get("vendor_error_code")?,
        status_at: instant(row.try_get("status_at")?)?,
    })
}

/// Records a status report in the history and, unless a newer status is already known (a late,
/// queued report), as the connector's current status.
pub async fn record_status(conn: &mut Conn, station_id: &str, report: &StatusReport, now: Timestamp) -> Result<()> {
    let at = millis(report.at.unwrap_or(now));
    query(
        "INSERT INTO status_history (station_id, connector_id, status, error_code, info, vendor_error_code, \
         status_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(station_id)
    .bind(i64::from(report.connector))
    .bind(report.status.as_str())
    .bind(&report.error_code)
    .bind(&report.info)
    .bind(&report.vendor_error_code)
    .bind(at)
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    query(
        "INSERT INTO connectors (station_id, connector_id, status, error_code, info, vendor_error_code, status_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (station_id, connector_id) DO UPDATE SET status = excluded.status, \
         error_code = excluded.error_code, info = excluded.info, vendor_error_code = excluded.vendor_error_code, \
         status_at = excluded.status_at WHERE connectors.status_at <= excluded.status_at",
    )
    .bind(station_id)
    .bind(i64::from(report.connector))
    .bind(report.status.as_str())
    .bind(&report.error_code)
    .bind(&report.info)
    .bind(&report.vendor_error_code)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn connectors(conn: &mut Conn, station_id: &str) -> Result<Vec<ConnectorState>> {
    query(
        "SELECT connector_id, status, error_code, info, vendor_error_code, status_at FROM connectors \
         WHERE station_id = $1 ORDER BY connector_id",
    )
    .bind(station_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(connector_state)
    .collect()
}

/// The connectors of every charger of `operator_id` (all, for `None`), by station: one query, so
/// that listing ten thousand chargers does not cost ten thousand.
pub async fn connectors_of_chargers(
    conn: &mut Conn,
    operator_id: Option<i64>,
) -> Result<std::collections::HashMap<String, Vec<ConnectorState>>> {
    let rows = query(
        "SELECT k.station_id, k.connector_id, k.status, k.error_code, k.info, k.vendor_error_code, k.status_at \
         FROM connectors k JOIN chargers c ON c.station_id = k.station_id \
         WHERE ($1 IS NULL OR c.operator_id = $1) ORDER BY k.station_id, k.connector_id",
    )
    .bind(operator_id)
    .fetch_all(conn)
    .await?;
    connectors_by_station(rows)
}

fn connectors_by_station(rows: Vec<Row>) -> Result<std::collections::HashMap<String, Vec<ConnectorState>>> {
    let mut by_station: std::collections::HashMap<String, Vec<ConnectorState>> = std::collections::HashMap::new();
    for row in rows {
        let station: String = row.try_get("station_id")?;
        by_station.entry(station).or_default().push(connector_state(row)?);
    }
    Ok(by_station)
}

/// The newest `limit` status reports of a charger, newest first.
pub async fn status_history(conn: &mut Conn, station_id: &str, limit: i64) -> Result<Vec<ConnectorState>> {
    query(
        "SELECT connector_id, status, error_code, info, vendor_error_code, status_at FROM status_history \
         WHERE station_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(station_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(connector_state)
    .collect()
}
