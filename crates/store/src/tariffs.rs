//! Tariff versions, where each tariff applies, and the priced CDRs of sessions.

use crate::{Conn, Result, Row, StoreError, instant, millis, query};
use chargemesh_core::tariff::Tariff;
use jiff::Timestamp;

/// A saved tariff version and the operator that owns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTariff {
    pub operator_id: i64,
    pub tariff: Tariff,
    pub created_at: Timestamp,
}

const TARIFF_SELECT: &str = "SELECT operator_id, body, created_at FROM tariffs";

fn stored(row: Row) -> Result<StoredTariff> {
    let body: String = row.try_get("body")?;
    let tariff = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("tariff body: {e}")))?;
    Ok(StoredTariff {
        operator_id: row.try_get("operator_id")?,
        tariff,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

/// Saves a new version; a version that exists already is a unique violation.
pub async fn insert_version(conn: &mut Conn, operator_id: i64, tariff: &Tariff, now: Timestamp) -> Result<()> {
    let body = serde_json::to_string(tariff).expect("tariffs serialize");
    query(
        "INSERT INTO tariffs (tariff_id, version, operator_id, valid_from, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tariff.id.as_str())
    .bind(i64::from(tariff.version))
    .bind(operator_id)
    .bind(millis(tariff.valid_from))
    .bind(body)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Every version of a tariff, oldest first.
pub async fn versions(conn: &mut Conn, tariff_id: &str) -> Result<Vec<StoredTariff>> {
    query(format!("{TARIFF_SELECT} WHERE tariff_id = $1 ORDER BY version"))
        .bind(tariff_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(stored)
        .collect()
}

pub async fn version(conn: &mut Conn, tariff_id: &str, version: u32) -> Result<Option<StoredTariff>> {
    query(format!("{TARIFF_SELECT} WHERE tariff_id = $1 AND version = $2"))
        .bind(tariff_id)
        .bind(i64::from(version))
        .fetch_optional(conn)
        .await?
        .map(stored)
        .transpose()
}

pub async fn latest(conn: &mut Conn, tariff_id: &str) -> Result<Option<StoredTariff>> {
    query(format!("{TARIFF_SELECT} WHERE tariff_id = $1 ORDER BY version DESC LIMIT 1"))
        .bind(tariff_id)
        .fetch_optional(conn)
        .await?
        .map(stored)
        .transpose()
}

/// The version in force at `at`: the newest one valid from then or earlier.
pub async fn in_force(conn: &mut Conn, tariff_id: &str, at: Timestamp) -> Result<Option<StoredTariff>> {
    query(format!("{TARIFF_SELECT} WHERE tariff_id = $1 AND valid_from <= $2 ORDER BY version DESC LIMIT 1"))
        .bind(tariff_id)
        .bind(millis(at))
        .fetch_optional(conn)
        .await?
        .map(stored)
        .transpose()
}

/// The latest version of each tariff, of one operator or of all.
pub async fn list_latest(conn: &mut Conn, operator_id: Option<i64>) -> Result<Vec<StoredTariff>> {
    query(format!(
        "{TARIFF_SELECT} t WHERE version = (SELECT MAX(version) FROM tariffs WHERE tariff_id = t.tariff_id) \
         AND ($1 IS NULL OR operator_id = $1) ORDER BY tariff_id"
    ))
    .bind(operator_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(stored)
    .collect()
}

/// Where a tariff can apply; the most specific assignment wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Site(i64),
    Charger(String),
    Connector(String, u32),
}

impl Target {
    fn key(&self) -> String {
        match self {
            Target::Site(id) => format!("site:{id}"),
            Target::Charger(station) => format!("charger:{station}"),
            Target::Connector(station, connector) => format!("connector:{station}:{connector}"),
        }
    }
}

pub async fn assign(conn: &mut Conn, target: &Target, operator_id: i64, tariff_id: &str, now: Timestamp) -> Result<()> {
    query(
        "INSERT INTO tariff_assignments (target, operator_id, tariff_id, assigned_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (target) DO UPDATE SET operator_id = excluded.operator_id, tariff_id = excluded.tariff_id, \
         assigned_at = excluded.assigned_at",
    )
    .bind(target.key())
    .bind(operator_id)
    .bind(tariff_id)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes an assignment; false when there was none.
pub async fn unassign(conn: &mut Conn, target: &Target) -> Result<bool> {
    Ok(query("DELETE FROM tariff_assignments WHERE target = $1").bind(target.key()).execute(conn).await? > 0)
}

pub async fn assigned(conn: &mut Conn, target: &Target) -> Result<Option<String>> {
    let row = query("SELECT tariff_id FROM tariff_assignments WHERE target = $1")
        .bind(target.key())
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.try_get("tariff_id")).transpose()
}

/// Every tariff assignment, for [`Assignments::applicable`]: one query for many connectors.
pub async fn assignments(conn: &mut Conn) -> Result<Assignments> {
    let rows = query("SELECT target, tariff_id FROM tariff_assignments").fetch_all(conn).await?;
    let pairs = rows.into_iter().map(|row| Ok((row.try_get("target")?, row.try_get("tariff_id")?)));
    Ok(Assignments(pairs.collect::<Result<_>>()?))
}

/// Tariff assignments by target.
pub struct Assignments(std::collections::HashMap<String, String>);

impl Assignments {
    /// [`applicable`], from these assignments.
    pub fn applicable(&self, station_id: &str, connector: u32, site_id: i64) -> Option<&str> {
        [Target::Connector(station_id.into(), connector), Target::Charger(station_id.into()), Target::Site(site_id)]
            .iter()
            .find_map(|target| self.0.get(&target.key()).map(String::as_str))
    }
}

/// The tariff that applies at a connector: assigned to the connector, else to the charger, else to
/// its site.
pub async fn applicable(
    conn: &mut Conn,
    station_id: &str,
    connector: u32,
    site_id: Option<i64>,
) -> Result<Option<String>> {
    let mut targets = vec![Target::Connector(station_id.into(), connector), Target::Charger(station_id.into())];
    targets.extend(site_id.map(Target::Site));
    for target in targets {
        if let Some(tariff_id) = assigned(&mut *conn, &target).await? {
            return Ok(Some(tariff_id));
        }
    }
    Ok(None)
}

/// Saves a session's priced CDR, replacing an earlier pricing (a late reading re-prices it).
pub async fn save_cdr(
    conn: &mut Conn,
    session_id: i64,
    currency: &str,
    total_minor: i64,
    body: &str,
    now: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO session_cdrs (session_id, currency, total_minor, body, priced_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (session_id) DO UPDATE SET currency = excluded.currency, total_minor = excluded.total_minor, \
         body = excluded.body, priced_at = excluded.priced_at",
    )
    .bind(session_id)
    .bind(currency)
    .bind(total_minor)
    .bind(body)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// A session's priced CDR as saved (JSON).
pub async fn cdr(conn: &mut Conn, session_id: i64) -> Result<Option<String>> {
    let row =
        query("SELECT body FROM session_cdrs WHERE session_id = $1").bind(session_id).fetch_optional(conn).await?;
    row.map(|r| r.try_get("body")).transpose()
}

/// What a session's priced CDR says it costs, tax included, in minor units.
pub async fn cdr_total(conn: &mut Conn, session_id: i64) -> Result<Option<i64>> {
    let row = query("SELECT total_minor FROM session_cdrs WHERE session_id = $1")
        .bind(session_id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.try_get("total_minor")).transpose()
}
