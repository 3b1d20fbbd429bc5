//! Keeping a session's delivered energy up to date as readings arrive, early or late.

use chargemesh_core::metering::{EnergyFlag, assess_session_energy};
use chargemesh_store::sessions::{self, Session, SessionStop};
use chargemesh_store::{Conn, Result};
use jiff::Timestamp;

/// Who closed a session.
pub const BY_CHARGER: &str = "charger";
pub const BY_NODE: &str = "node";

/// Re-assesses a session's energy from its start, every register reading stored for it and, when the
/// charger reported the stop, the stop reading. A session the node closed on the charger's behalf is
/// extended to the latest reading that arrived since.
pub async fn refresh(conn: &mut Conn, session: &Session, now: Timestamp) -> Result<()> {
    let readings = sessions::register_readings(&mut *conn, session.id).await?;
    let charger_stop = if session.stopped_by.as_deref() == Some(BY_CHARGER) { session.stop_reading() } else { None };
    let assessment = assess_session_energy(session.start_reading(), &readings, charger_stop);
    let flags = assessment.flags.iter().map(|f| flag_name(*f)).collect::<Vec<_>>().join(",");
    sessions::set_energy(&mut *conn, session.id, assessment.delivered, &flags, now).await?;
    if session.stopped_by.as_deref() == Some(BY_NODE)
        && let Some(stopped_at) = session.stopped_at
        && assessment.end.at > stopped_at
    {
        let stop = SessionStop {
            stopped_at: assessment.end.at,
            meter_stop: assessment.end.energy,
            reason: session.stop_reason.as_deref().unwrap_or("Other"),
            stopped_by: BY_NODE,
        };
        sessions::stop_session(conn, session.id, &stop, now).await?;
    }
    Ok(())
}

fn flag_name(flag: EnergyFlag) -> &'static str {
    match flag {
        EnergyFlag::ZeroStartIgnored => "zero_start_ignored",
        EnergyFlag::RegisterWentBackwards => "register_went_backwards",
    }
}
