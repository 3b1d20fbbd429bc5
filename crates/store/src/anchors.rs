//! Which sessions' charge records the consortium ledger holds, and which still wait to be anchored.

use crate::sessions::SessionState;
use crate::{Conn, Result, millis, query};
use jiff::Timestamp;

/// A priced, ended session at a commissioned charger that the ledger does not hold yet.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorCandidate {
    pub session_id: i64,
    /// The member whose driver charged; none for the operator's own driver.
    pub emsp_party: Option<String>,
    pub evse_id: String,
    /// The priced CDR as saved (JSON).
    pub cdr_body: String,
}

/// Up to `limit` candidates, oldest session first: roaming drivers' sessions, and the operator's own
/// drivers' too when `include_own`.
pub async fn candidates(conn: &mut Conn, include_own: bool, limit: i64) -> Result<Vec<AnchorCandidate>> {
    let rows = query(
        "SELECT s.id, t.emsp_party, m.evse_id, k.body FROM sessions s \
         JOIN session_cdrs k ON k.session_id = s.id \
         JOIN charger_commissioning m ON m.station_id = s.station_id \
         LEFT JOIN tokens t ON t.id_token = s.id_token \
         LEFT JOIN ledger_anchors a ON a.session_id = s.id \
         WHERE s.state = $1 AND a.session_id IS NULL AND (t.emsp_party IS NOT NULL OR $2 = 1) \
         ORDER BY s.id LIMIT $3",
    )
    .bind(SessionState::Completed.as_str())
    .bind(i64::from(include_own))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(AnchorCandidate {
                session_id: row.try_get("id")?,
                emsp_party: row.try_get("emsp_party")?,
                evse_id: row.try_get("evse_id")?,
                cdr_body: row.try_get("body")?,
            })
        })
        .collect()
}

/// Records that the ledger holds a session's CDR; recording it again changes nothing.
pub async fn record(conn: &mut Conn, session_id: i64, cdr_id: &str, height: u64, now: Timestamp) -> Result<()> {
    query(
        "INSERT INTO ledger_anchors (session_id, cdr_id, height, recorded_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(session_id)
    .bind(cdr_id)
    .bind(i64::try_from(height).unwrap_or(i64::MAX))
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// The CDR id and block height under which the ledger holds a session's CDR.
pub async fn of_session(conn: &mut Conn, session_id: i64) -> Result<Option<(String, i64)>> {
    let row = query("SELECT cdr_id, height FROM ledger_anchors WHERE session_id = $1")
        .bind(session_id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((r.try_get("cdr_id")?, r.try_get("height")?))).transpose()
}
