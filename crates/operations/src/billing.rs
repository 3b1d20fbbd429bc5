//! Pricing sessions: the tariff fixed at start, the live cost while charging, and the priced CDR
//! saved when the session ends (and again if a late reading changes it).

use chargemesh_core::metering::charging_periods;
use chargemesh_core::pricing::{ChargingPeriod, PricedCdr, price};
use chargemesh_core::session::StoppedBy;
use chargemesh_core::tariff::Tariff;
use chargemesh_store::sessions::{self, Session, SessionPricing, SessionState};
use chargemesh_store::{Conn, Result, chargers, operators, tariffs};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The time zone a site without one is evaluated in.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// The tariff a session starting now at this connector is priced by, owned so it outlives the lookup.
pub struct StartPricing {
    tariff_id: String,
    version: u32,
    time_zone: String,
}

impl StartPricing {
    pub fn as_session_pricing(&self) -> SessionPricing<'_> {
        SessionPricing { tariff_id: &self.tariff_id, version: self.version, time_zone: &self.time_zone }
    }
}

/// The tariff version in force at `started_at` among those that apply to the connector, and the
/// site's time zone; none when no tariff applies (the session is then not priced).
pub async fn pricing_at_start(
    conn: &mut Conn,
    station: &str,
    connector: u32,
    started_at: Timestamp,
) -> Result<Option<StartPricing>> {
    let site_id = chargers::get_charger(&mut *conn, station).await?.and_then(|c| c.site_id);
    let Some(tariff_id) = tariffs::applicable(&mut *conn, station, connector, site_id).await? else {
        return Ok(None);
    };
    let Some(stored) = tariffs::in_force(&mut *conn, &tariff_id, started_at).await? else {
        tracing::warn!(station, tariff = %tariff_id, "no version of the assigned tariff is in force yet; the session is not priced");
        return Ok(None);
    };
    let time_zone = match site_id {
        Some(site) => operators::get_site(conn, site).await?.map(|s| s.time_zone),
        None => None,
    };
    Ok(Some(StartPricing {
        tariff_id,
        version: stored.tariff.version,
        time_zone: time_zone.unwrap_or_else(|| DEFAULT_TIME_ZONE.into()),
    }))
}

/// The time zone a session's tariff is evaluated in: its site's at the start, or the default; none
/// when the name is unknown to this build's time-zone database.
pub fn session_zone(session: &Session) -> Option<TimeZone> {
    let name = session.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
    let zone = TimeZone::get(name).ok();
    if zone.is_none() {
        tracing::error!(session = session.id, zone = name, "unknown time zone; the session is not priced");
    }
    zone
}

/// The tariff version fixed at the session's start and the zone it is evaluated in; none when the
/// session has no tariff.
pub async fn session_tariff(conn: &mut Conn, session: &Session) -> Result<Option<(Tariff, TimeZone)>> {
    let (Some(tariff_id), Some(version)) = (&session.tariff_id, session.tariff_version) else {
        return Ok(None);
    };
    let Some(stored) = tariffs::version(conn, tariff_id, u32::try_from(version).unwrap_or(0)).await? else {
        tracing::error!(session = session.id, tariff = %tariff_id, version, "the session's tariff version is missing");
        return Ok(None);
    };
    Ok(session_zone(session).map(|zone| (stored.tariff, zone)))
}

/// The session priced as it stands: the final CDR once it ended, the cost so far while it runs.
/// None when it has no tariff.
pub async fn price_session(conn: &mut Conn, session: &Session) -> Result<Option<PricedCdr>> {
    Ok(priced_periods(conn, session).await?.map(|(_, cdr)| cdr))
}

/// The session's charging periods and its price by them; none when it has no tariff or cannot be
/// priced (logged).
pub async fn priced_periods(conn: &mut Conn, session: &Session) -> Result<Option<(Vec<ChargingPeriod>, PricedCdr)>> {
    let Some((tariff, zone)) = session_tariff(&mut *conn, session).await? else {
        return Ok(None);
    };
    let periods = session_periods(conn, session).await?;
    match price(&tariff, &zone, &periods) {
        Ok(cdr) => Ok(Some((periods, cdr))),
        Err(e) => {
            tracing::error!(session = session.id, error = %e, "the session could not be priced");
            Ok(None)
        }
    }
}

/// The session's metered charging periods, which it is priced by.
async fn session_periods(conn: &mut Conn, session: &Session) -> Result<Vec<ChargingPeriod>> {
    let readings = sessions::register_readings(conn, session.id).await?;
    let charger_stop = if session.stopped_by == Some(StoppedBy::Charger) { session.stop_reading() } else { None };
    Ok(charging_periods(session.start_reading(), &readings, charger_stop))
}

/// Prices an ended session and saves its CDR; a session still running is left alone.
pub async fn settle(conn: &mut Conn, session: &Session, now: Timestamp) -> Result<()> {
    if session.state != SessionState::Completed {
        return Ok(());
    }
    if let Some(cdr) = price_session(&mut *conn, session).await? {
        let body = serde_json::to_string(&cdr).expect("priced CDRs serialize");
        tariffs::save_cdr(conn, session.id, cdr.currency.code(), cdr.totals.incl_tax.0, &body, now).await?;
    }
    Ok(())
}
