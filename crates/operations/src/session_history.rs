//! Charging sessions as staff and drivers look back on them: meter values, cost, CDRs and what a
//! receipt shows.

use super::{Error, Operations, Outcome, billing};
use chargemesh_core::access::{Scope, scope_within};
use chargemesh_core::pricing::PricedCdr;
use chargemesh_store::chargers::{self, Charger};
use chargemesh_store::sessions::{self, Session, SessionFilter, SessionState, StoredMeterValue};
use chargemesh_store::{anchors, operators, tariffs, tokens};

/// Who reads a session: staff within a scope (their operator's chargers), or a driver (sessions of
/// their own tokens).
#[derive(Debug, Clone, Copy)]
pub enum SessionReader {
    Staff { scope: Scope },
    Driver { id: i64 },
}

/// What was metered of a session and its price so far.
#[derive(Debug)]
pub struct SessionReadings {
    pub meter_values: Vec<StoredMeterValue>,
    /// The final CDR once the session ended, the cost so far while it runs; none without a tariff.
    pub cost: Option<PricedCdr>,
}

/// What a receipt of an ended session shows besides the session itself.
#[derive(Debug)]
pub struct ReceiptFacts {
    pub site_name: Option<String>,
    /// The priced CDR exactly as saved: the bytes whose hash the ledger holds when it is anchored.
    pub cdr_body: String,
    pub cdr: PricedCdr,
    /// Where the ledger holds the charge (CDR id and height); none while it is not anchored.
    pub anchor: Option<(String, i64)>,
}

impl Operations {
    /// The sessions `filter` selects, newest first.
    pub async fn sessions_matching(&self, filter: SessionFilter) -> Outcome<Vec<Session>> {
        Ok(self.store.read(move |conn| Box::pin(async move { sessions::list_sessions(conn, &filter).await })).await?)
    }

    /// The session and its charger when both exist and `reader` may read the session.
    pub async fn readable_session(
        &self,
        reader: SessionReader,
        session_id: i64,
    ) -> Outcome<Option<(Session, Charger)>> {
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let Some(session) = sessions::get_session(&mut *conn, session_id).await? else { return Ok(None) };
                    let Some(charger) = chargers::get_charger(&mut *conn, &session.station_id).await? else {
                        return Ok(None);
                    };
                    let readable = match reader {
                        SessionReader::Staff { scope } => scope_within(charger.operator_id, scope),
                        SessionReader::Driver { id } => {
                            tokens::get_token(conn, &session.id_token).await?.is_some_and(|t| t.driver_id == Some(id))
                        }
                    };
                    Ok(readable.then_some((session, charger)))
                })
            })
            .await?;
        Ok(found)
    }

    /// The session's meter values and its price: the saved CDR, or else priced as it stands.
    pub async fn session_readings(&self, session: &Session) -> Outcome<SessionReadings> {
        let priced = session.clone();
        let readings = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let meter_values = sessions::meter_values(&mut *conn, priced.id).await?;
                    let saved =
                        tariffs::cdr(&mut *conn, priced.id).await?.and_then(|body| serde_json::from_str(&body).ok());
                    let cost = match saved {
                        Some(cdr) => Some(cdr),
                        None => billing::price_session(conn, &priced).await?,
                    };
                    Ok(SessionReadings { meter_values, cost })
                })
            })
            .await?;
        Ok(readings)
    }

    /// What the receipt of an ended, priced session at `charger` shows; refused while it runs or when
    /// no tariff applied.
    pub async fn session_receipt(&self, session: &Session, charger: &Charger) -> Outcome<ReceiptFacts> {
        let (session_id, site_id) = (session.id, charger.site_id);
        let (site, cdr, anchor) = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let site = match site_id {
                        Some(site) => operators::get_site(&mut *conn, site).await?,
                        None => None,
                    };
                    let cdr = tariffs::cdr(&mut *conn, session_id).await?;
                    Ok((site, cdr, anchors::of_session(conn, session_id).await?))
                })
            })
            .await?;
        if session.state != SessionState::Completed {
            return Err(Error::conflict(
                "the session is still running: its cost so far is in GET /api/v1/sessions/{id}",
            ));
        }
        let Some((cdr_body, cdr)) =
            cdr.and_then(|body| serde_json::from_str::<PricedCdr>(&body).ok().map(|cdr| (body, cdr)))
        else {
            return Err(Error::conflict("the session was not priced: no tariff applied where and when it started"));
        };
        Ok(ReceiptFacts { site_name: site.map(|s| s.name), cdr_body, cdr, anchor })
    }

    /// The session's priced CDR exactly as saved; refused while it runs or when no tariff applied.
    pub async fn session_cdr(&self, session: &Session) -> Outcome<String> {
        let session_id = session.id;
        let body = self.store.read(move |conn| Box::pin(tariffs::cdr(conn, session_id))).await?;
        match body {
            Some(body) if session.state == SessionState::Completed => Ok(body),
            _ => Err(Error::conflict("the session has no priced CDR: it is running, or no tariff applied")),
        }
    }
}
