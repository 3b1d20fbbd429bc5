//! Keeping a session's delivered energy up to date as readings arrive, early or late.

use super::billing;
use chargemesh_core::charger::MeterSample;
use chargemesh_core::metering::{assess_session_energy, extend_session_energy, register_readings};
use chargemesh_core::session::StoppedBy;
use chargemesh_store::sessions::{self, Session, SessionStop};
use chargemesh_store::{Conn, Result};
use jiff::Timestamp;

/// Brings a session's energy up to date after `samples` were stored for it. Readings that continue a
/// running session extend its assessment; anything else (a late reading, a closed session) has the
/// whole series assessed again.
pub async fn record(conn: &mut Conn, session: &Session, samples: &[MeterSample], now: Timestamp) -> Result<()> {
    let later = register_readings(samples);
    if later.is_empty() {
        return Ok(());
    }
    let extended = session
        .state
        .is_active()
        .then(|| session.energy_assessment())
        .flatten()
        .and_then(|so_far| extend_session_energy(session.start_reading(), &so_far, &later));
    match extended {
        Some(assessment) => sessions::set_energy(conn, session.id, &assessment, now).await,
        None => refresh(conn, session, now).await,
    }
}

/// Re-assesses a session's energy from its start, every register reading stored for it and, when the
/// charger reported the stop, the stop reading. A session the node closed on the charger's behalf is
/// extended to the latest reading that arrived since. An ended session is priced again.
pub async fn refresh(conn: &mut Conn, session: &Session, now: Timestamp) -> Result<()> {
    let readings = sessions::register_readings(&mut *conn, session.id).await?;
    let charger_stop = if session.stopped_by == Some(StoppedBy::Charger) { session.stop_reading() } else { None };
    let assessment = assess_session_energy(session.start_reading(), &readings, charger_stop);
    sessions::set_energy(&mut *conn, session.id, &assessment, now).await?;
    if session.stopped_by == Some(StoppedBy::Node)
        && let Some(stopped_at) = session.stopped_at
        && assessment.end.at > stopped_at
    {
        let stop = SessionStop {
            stopped_at: assessment.end.at,
            meter_stop: assessment.end.energy,
            reason: session.stop_reason.as_deref().unwrap_or("Other"),
            stopped_by: StoppedBy::Node,
        };
        sessions::stop_session(&mut *conn, session.id, &stop, now).await?;
    }
    if !session.state.is_active()
        && let Some(ended) = sessions::get_session(&mut *conn, session.id).await?
    {
        billing::settle(conn, &ended, now).await?;
    }
    Ok(())
}
