//! Charging sessions (OCPP transactions) and the meter values that belong to them.

use crate::{Conn, Result, Row, instant, millis, opt_instant, query};
use chargemesh_core::charger::MeterSample;
use chargemesh_core::metering::{
    EnergyAssessment, EnergyFlag, RegisterReading, energy_register_value, one_reading_per_instant,
};
use chargemesh_core::{Energy, IdToken};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// Also the transaction id the charger uses (OCPP 1.6).
    pub id: i64,
    pub station_id: String,
    pub connector_id: i64,
    pub id_token: String,
    /// The authorization the charger was given at start.
    pub authorization_status: String,
    /// `active` or `completed`.
    pub state: SessionState,
    pub started_at: Timestamp,
    pub meter_start_mwh: i64,
    pub reservation_id: Option<i64>,
    pub stopped_at: Option<Timestamp>,
    pub meter_stop_mwh: Option<i64>,
    pub stop_reason: Option<String>,
    /// `charger` when the charger reported the stop; `node` when the node closed a transaction the
    /// charger orphaned (a reboot) or superseded (a new transaction on the same connector).
    pub stopped_by: Option<StoppedBy>,
    /// Energy delivered so far, in milliwatt-hours.
    pub energy_mwh: i64,
    /// Comma-separated reasons why the energy is not plainly stop − start (see the README).
    pub energy_flags: String,
    /// The last reading the energy was assessed up to (bookkeeping, not shown).
    #[serde(skip)]
    pub energy_end: Option<RegisterReading>,
    /// The tariff the session is priced by: the version in force when it started, fixed then.
    pub tariff_id: Option<String>,
    pub tariff_version: Option<i64>,
    /// The site's time zone at the start, which the tariff is evaluated in.
    pub time_zone: Option<String>,
    pub updated_at: Timestamp,
}

pub use chargemesh_core::session::{SessionState, StoppedBy};

/// A stored session state, or the store is corrupt.
fn read_stopped_by(text: &str) -> Result<StoppedBy> {
    StoppedBy::parse(text)
        .ok_or_else(|| crate::StoreError::Corrupt(format!("a session stopped by an unknown {text:?}")))
}

pub(crate) fn read_state(text: &str) -> Result<SessionState> {
    SessionState::parse(text)
        .ok_or_else(|| crate::StoreError::Corrupt(format!("a session in an unknown state {text:?}")))
}

const SESSION_SELECT: &str = "SELECT id, station_id, connector_id, id_token, authorization_status, state, started_at, \
    meter_start_mwh, reservation_id, stopped_at, meter_stop_mwh, stop_reason, stopped_by, energy_mwh, energy_flags, \
    energy_end_at, energy_end_mwh, tariff_id, tariff_version, time_zone, updated_at FROM sessions";

fn session(row: Row) -> Result<Session> {
    Ok(Session {
        id: row.try_get("id")?,
        station_id: row.try_get("station_id")?,
        connector_id: row.try_get("connector_id")?,
        id_token: row.try_get("id_token")?,
        authorization_status: row.try_get("authorization_status")?,
        state: read_state(&row.try_get::<String, _>("state")?)?,
        started_at: instant(row.try_get("started_at")?)?,
        meter_start_mwh: row.try_get("meter_start_mwh")?,
        reservation_id: row.try_get("reservation_id")?,
        stopped_at: opt_instant(row.try_get("stopped_at")?)?,
        meter_stop_mwh: row.try_get("meter_stop_mwh")?,
        stop_reason: row.try_get("stop_reason")?,
        stopped_by: row.try_get::<Option<String>, _>("stopped_by")?.map(|by| read_stopped_by(&by)).transpose()?,
        energy_mwh: row.try_get("energy_mwh")?,
        energy_flags: row.try_get("energy_flags")?,
        energy_end: match (
            opt_instant(row.try_get("energy_end_at")?)?,
            row.try_get::<Option<i64>, _>("energy_end_mwh")?,
        ) {
            (Some(at), Some(mwh)) => Some(RegisterReading { at, energy: Energy::from_mwh(mwh) }),
            _ => None,
        },
        tariff_id: row.try_get("tariff_id")?,
        tariff_version: row.try_get("tariff_version")?,
        time_zone: row.try_get("time_zone")?,
        updated_at: instant(row.try_get("updated_at")?)?,
    })
}

impl Session {
    pub fn start_reading(&self) -> RegisterReading {
        RegisterReading { at: self.started_at, energy: Energy::from_mwh(self.meter_start_mwh) }
    }

    pub fn stop_reading(&self) -> Option<RegisterReading> {
        Some(RegisterReading { at: self.stopped_at?, energy: Energy::from_mwh(self.meter_stop_mwh?) })
    }

    /// The stored energy assessment, when it is complete and readable. A session with energy but no
    /// end reading was assessed before the end was stored: its assessment has to be made again.
    pub fn energy_assessment(&self) -> Option<EnergyAssessment> {
        if self.energy_end.is_none() && (self.energy_mwh != 0 || !self.energy_flags.is_empty()) {
            return None;
        }
        let flags = self
            .energy_flags
            .split(',')
            .filter(|f| !f.is_empty())
            .map(EnergyFlag::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(EnergyAssessment {
            end: self.energy_end.unwrap_or(self.start_reading()),
            delivered: Energy::from_mwh(self.energy_mwh),
            flags,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub station_id: &'a str,
    pub connector_id: u32,
    pub id_token: &'a IdToken,
    pub authorization_status: &'a str,
    pub started_at: Timestamp,
    pub meter_start: Energy,
    pub reservation_id: Option<i64>,
    /// The tariff version in force at the start, and the time zone it is evaluated in.
    pub pricing: Option<SessionPricing<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionPricing<'a> {
    pub tariff_id: &'a str,
    pub version: u32,
    pub time_zone: &'a str,
}

pub async fn create_session(conn: &mut Conn, new: &NewSession<'_>, now: Timestamp) -> Result<i64> {
    let row = query(
        "INSERT INTO sessions (station_id, connector_id, id_token, authorization_status, state, started_at, \
         meter_start_mwh, reservation_id, energy_mwh, energy_flags, tariff_id, tariff_version, time_zone, updated_at, \
         roaming_member) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, '', $10, $11, $12, $9, \
         (SELECT emsp_party FROM tokens WHERE id_token = $3)) RETURNING id",
    )
    .bind(new.station_id)
    .bind(i64::from(new.connector_id))
    .bind(new.id_token.as_str())
    .bind(new.authorization_status)
    .bind(SessionState::Active.as_str())
    .bind(millis(new.started_at))
    .bind(new.meter_start.mwh())
    .bind(new.reservation_id)
    .bind(millis(now))
    .bind(new.pricing.map(|p| p.tariff_id))
    .bind(new.pricing.map(|p| i64::from(p.version)))
    .bind(new.pricing.map(|p| p.time_zone))
    .fetch_one(conn)
    .await?;
    row.try_get(0)
}

/// The session a repeated StartTransaction describes, if it was already recorded.
pub async fn find_started(
    conn: &mut Conn,
    station_id: &str,
    connector_id: u32,
    started_at: Timestamp,
    id_token: &IdToken,
) -> Result<Option<Session>> {
    query(format!("{SESSION_SELECT} WHERE station_id = $1 AND connector_id = $2 AND started_at = $3 AND id_token = $4"))
        .bind(station_id)
        .bind(i64::from(connector_id))
        .bind(millis(started_at))
        .bind(id_token.as_str())
        .fetch_optional(conn)
        .await?
        .map(session)
        .transpose()
}

pub async fn get_session(conn: &mut Conn, id: i64) -> Result<Option<Session>> {
    query(format!("{SESSION_SELECT} WHERE id = $1")).bind(id).fetch_optional(conn).await?.map(session).transpose()
}

pub async fn active_sessions_of_station(conn: &mut Conn, station_id: &str) -> Result<Vec<Session>> {
    query(format!("{SESSION_SELECT} WHERE station_id = $1 AND state = $2 ORDER BY id"))
        .bind(station_id)
        .bind(SessionState::Active.as_str())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(session)
        .collect()
}

/// Whether `id_token` drives a running session anywhere but on this connector (or, with no connector
/// given, anywhere but at this station).
pub async fn token_active_elsewhere(
    conn: &mut Conn,
    id_token: &IdToken,
    station_id: &str,
    connector_id: Option<u32>,
) -> Result<bool> {
    let row = query(
        "SELECT COUNT(*) FROM sessions WHERE id_token = $1 AND state = $2 \
         AND NOT (station_id = $3 AND ($4 IS NULL OR connector_id = $4))",
    )
    .bind(id_token.as_str())
    .bind(SessionState::Active.as_str())
    .bind(station_id)
    .bind(connector_id.map(i64::from))
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

/// Filters for listing sessions; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub operator_id: Option<i64>,
    pub station_id: Option<String>,
    pub state: Option<SessionState>,
    pub limit: i64,
    /// Only sessions with an id below this (for paging newest first).
    pub before_id: Option<i64>,
    /// Only sessions of the tokens of this driver account.
    pub driver_id: Option<i64>,
}

pub async fn list_sessions(conn: &mut Conn, filter: &SessionFilter) -> Result<Vec<Session>> {
    query(format!(
        "{SESSION_SELECT} WHERE ($1 IS NULL OR station_id IN (SELECT station_id FROM chargers WHERE operator_id = $1)) \
         AND ($2 IS NULL OR station_id = $2) AND ($3 IS NULL OR state = $3) AND ($4 IS NULL OR id < $4) \
         AND ($6 IS NULL OR id_token IN (SELECT id_token FROM tokens WHERE driver_id = $6)) ORDER BY id DESC LIMIT $5"
    ))
    .bind(filter.operator_id)
    .bind(&filter.station_id)
    .bind(filter.state.map(SessionState::as_str))
    .bind(filter.before_id)
    .bind(filter.limit)
    .bind(filter.driver_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(session)
    .collect()
}

/// How a session ended.
#[derive(Debug, Clone)]
pub struct SessionStop<'a> {
    pub stopped_at: Timestamp,
    pub meter_stop: Energy,
    pub reason: &'a str,
    pub stopped_by: StoppedBy,
}

pub async fn stop_session(conn: &mut Conn, id: i64, stop: &SessionStop<'_>, now: Timestamp) -> Result<()> {
    query(
        "UPDATE sessions SET state = $2, stopped_at = $3, meter_stop_mwh = $4, stop_reason = $5, stopped_by = $6, \
         updated_at = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(SessionState::Active.stopped().as_str())
    .bind(millis(stop.stopped_at))
    .bind(stop.meter_stop.mwh())
    .bind(stop.reason)
    .bind(stop.stopped_by.as_str())
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a session's energy assessment.
pub async fn set_energy(conn: &mut Conn, id: i64, assessment: &EnergyAssessment, now: Timestamp) -> Result<()> {
    let flags = assessment.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",");
    query(
        "UPDATE sessions SET energy_mwh = $2, energy_flags = $3, energy_end_at = $4, energy_end_mwh = $5, \
         updated_at = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(assessment.delivered.mwh())
    .bind(flags)
    .bind(millis(assessment.end.at))
    .bind(assessment.end.energy.mwh())
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredMeterValue {
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

/// Samples per INSERT statement: well inside both databases' limits on bound parameters.
const SAMPLES_PER_INSERT: usize = 64;

/// Stores samples verbatim, with the energy register normalized to milliwatt-hours.
pub async fn add_meter_values(
    conn: &mut Conn,
    session_id: Option<i64>,
    station_id: &str,
    connector_id: u32,
    samples: &[MeterSample],
    now: Timestamp,
) -> Result<()> {
    const COLUMNS: usize = 12;
    for chunk in samples.chunks(SAMPLES_PER_INSERT) {
        // One statement per chunk: only placeholders are formatted into the SQL, never values.
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let placeholders: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", row * COLUMNS + c)).collect();
                format!("({})", placeholders.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO meter_values (session_id, station_id, connector_id, sampled_at, measurand, context, phase, \
             location, unit, value, register_mwh, received_at) VALUES {}",
            rows.join(", ")
        );
        let mut statement = query(sql);
        for sample in chunk {
            statement = statement
                .bind(session_id)
                .bind(station_id)
                .bind(i64::from(connector_id))
                .bind(millis(sample.at))
                .bind(&sample.measurand)
                .bind(&sample.context)
                .bind(&sample.phase)
                .bind(&sample.location)
                .bind(&sample.unit)
                .bind(&sample.value)
                .bind(energy_register_value(sample).map(Energy::mwh))
                .bind(millis(now));
        }
        statement.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The session's latest two readings of the energy register (instant, mWh), latest first.
pub async fn latest_register_readings(conn: &mut Conn, session_id: i64) -> Result<Vec<(Timestamp, i64)>> {
    query(
        "SELECT sampled_at, register_mwh FROM meter_values WHERE session_id = $1 AND register_mwh IS NOT NULL \
         ORDER BY sampled_at DESC, id DESC LIMIT 2",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| Ok((instant(row.try_get("sampled_at")?)?, row.try_get("register_mwh")?)))
    .collect()
}

pub async fn meter_values(conn: &mut Conn, session_id: i64) -> Result<Vec<StoredMeterValue>> {
    query(
        "SELECT sampled_at, connector_id, measurand, context, phase, location, unit, value, register_mwh \
         FROM meter_values WHERE session_id = $1 ORDER BY sampled_at, id",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(StoredMeterValue {
            sampled_at: instant(row.try_get("sampled_at")?)?,
            connector_id: row.try_get("connector_id")?,
            measurand: row.try_get("measurand")?,
            context: row.try_get("context")?,
            phase: row.try_get("phase")?,
            location: row.try_get("location")?,
            unit: row.try_get("unit")?,
            value: row.try_get("value")?,
            register_mwh: row.try_get("register_mwh")?,
        })
    })
    .collect()
}

/// The session's energy register readings in time order, the outlet's preferred when both ends report.
pub async fn register_readings(conn: &mut Conn, session_id: i64) -> Result<Vec<RegisterReading>> {
    let rows = query(
        "SELECT sampled_at, register_mwh, location FROM meter_values \
         WHERE session_id = $1 AND register_mwh IS NOT NULL ORDER BY sampled_at, id",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    let mut readings: Vec<(RegisterReading, bool)> = Vec::with_capacity(rows.len());
    for row in rows {
        let reading = RegisterReading {
            at: instant(row.try_get("sampled_at")?)?,
            energy: Energy::from_mwh(row.try_get("register_mwh")?),
        };
        let outlet = row.try_get::<String, _>("location")? == "Outlet";
        readings.push((reading, outlet));
    }
    Ok(one_reading_per_instant(readings))
}

/// What the chargers of `operator_id` (all, for `None`) did since `since`: sessions that ended since
/// or are still running and metered since, their energy, and the priced totals of those that ended,
/// by currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayTotals {
    pub sessions: i64,
    pub energy_mwh: i64,
    /// (currency, total in minor units), by currency.
    pub revenue: Vec<(String, i64)>,
}

pub async fn totals_since(conn: &mut Conn, operator_id: Option<i64>, since: Timestamp) -> Result<DayTotals> {
    let mut totals = DayTotals::default();
    // Two queries rather than one with OR, so that each can use the index on stopped_at.
    for running in [false, true] {
        let which = if running { "s.stopped_at IS NULL AND s.updated_at >= $2" } else { "s.stopped_at >= $2" };
        let row = query(format!(
            "SELECT COUNT(*) AS sessions, COALESCE(SUM(s.energy_mwh), 0) AS energy FROM sessions s \
             JOIN chargers c ON c.station_id = s.station_id WHERE ($1 IS NULL OR c.operator_id = $1) AND {which}"
        ))
        .bind(operator_id)
        .bind(millis(since))
        .fetch_one(&mut *conn)
        .await?;
        totals.sessions += row.try_get::<i64, _>("sessions")?;
        totals.energy_mwh += row.try_get::<i64, _>("energy")?;
    }
    totals.revenue = query(
        "SELECT d.currency, SUM(d.total_minor) AS total FROM session_cdrs d JOIN sessions s ON s.id = d.session_id \
         JOIN chargers c ON c.station_id = s.station_id WHERE ($1 IS NULL OR c.operator_id = $1) AND s.stopped_at >= $2 \
         GROUP BY d.currency ORDER BY d.currency",
    )
    .bind(operator_id)
    .bind(millis(since))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| Ok((row.try_get("currency")?, row.try_get("total")?)))
    .collect::<Result<_>>()?;
    Ok(totals)
}
