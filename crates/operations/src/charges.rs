//! A driver's charges: at this member's chargers, which the node tells to start and stop itself,
//! and at other members' (roaming starts, which federation makes); the token a driver charges
//! with; and the driver's history of both.

use super::{Error, Operations, Outcome};
use chargemesh_core::access::Scope;
use chargemesh_core::charger::{ChargerCommand, CommandOutcome};
use chargemesh_core::{IdToken, StationId};
use chargemesh_store::chargers::{self, Charger};
use chargemesh_store::commands::CommandRecord;
use chargemesh_store::federation::{self, RoamingStart};
use chargemesh_store::sessions::{self, Session, SessionFilter};
use chargemesh_store::settlements::{self, Settlement};
use chargemesh_store::tokens::{self, Token};
use jiff::Timestamp;

/// One of a driver's charges.
pub enum DriverCharge {
    /// At this member's charger: the session, and the site of its charger.
    Own { session: Session, site_id: Option<i64> },
    /// At another member's charger.
    Roaming(RoamingStart),
}

impl DriverCharge {
    /// When it began: the session's start, or when the start was asked for.
    fn at(&self) -> Timestamp {
        match self {
            DriverCharge::Own { session, .. } => session.started_at,
            DriverCharge::Roaming(start) => start.created_at,
        }
    }
}

impl Operations {
    /// The driver's token to charge with: the one asked for, else the app token, else any active one.
    pub async fn charging_token(&self, driver_id: i64, asked: Option<&str>) -> Outcome<Token> {
        let now = self.now();
        let owned = self.store.read(move |conn| Box::pin(tokens::tokens_of_driver(conn, driver_id))).await?;
        let usable = |t: &Token| {
            t.status == chargemesh_core::authorization::TokenStatus::Active && t.expires_at.is_none_or(|at| at > now)
        };
        match asked {
            Some(wanted) => match owned.into_iter().find(|t| t.id_token == wanted) {
                Some(token) if usable(&token) => Ok(token),
                Some(_) => Err(Error::conflict(format!("token {wanted} is blocked or expired"))),
                None => Err(Error::not_found(format!("token {wanted:?} of yours"))),
            },
            None => {
                let mut active: Vec<Token> = owned.into_iter().filter(usable).collect();
                active.sort_by_key(|t| t.kind != "app");
                active.into_iter().next().ok_or_else(|| {
                    Error::refused(
                        "no_active_token",
                        "your account has no active token to charge with: ask your operator",
                    )
                })
            }
        }
    }

    /// Tells this member's charger `evse_uid` to start for `token` (on connector `connector_id`, a
    /// number from 1, or any); the charger, once it accepted.
    pub async fn start_own_charge(
        &self,
        evse_uid: &str,
        connector_id: Option<&str>,
        token: &Token,
    ) -> Outcome<Charger> {
        let unknown = || Error::not_found(format!("charger {evse_uid}"));
        let station = StationId::parse(evse_uid).map_err(|_| unknown())?;
        let key = station.as_str().to_owned();
        let charger =
            self.store.read(move |conn| Box::pin(async move { chargers::get_charger(conn, &key).await })).await?;
        let charger = charger.ok_or_else(unknown)?;
        let connector = match connector_id.map(str::parse::<u32>) {
            None => None,
            Some(Ok(connector)) if connector >= 1 => Some(connector),
            Some(_) => return Err(Error::invalid("connector_id: the connector's number, from 1")),
        };
        self.ensure_connected(&station)?;
        let id_token = IdToken::parse(&token.id_token).map_err(|e| Error::invalid(e.to_string()))?;
        let record = self.send_command(&station, ChargerCommand::RemoteStart { connector, id_token }, None).await?;
        charger_accepted(&record)?;
        Ok(charger)
    }

    /// Tells the charger of `session`, a charge at this member's charger, to stop it.
    pub async fn stop_own_charge(&self, session: &Session) -> Outcome<()> {
        if !session.state.is_active() {
            return Err(Error::refused("not_charging", "the charge has ended"));
        }
        let station = StationId::parse(&session.station_id).map_err(|e| Error::invalid(e.to_string()))?;
        self.ensure_connected(&station)?;
        let record =
            self.send_command(&station, ChargerCommand::RemoteStop { transaction_id: session.id }, None).await?;
        charger_accepted(&record)
    }

    /// The driver's `limit` newest charges, newest first: at this member's chargers and at others'.
    pub async fn driver_charges(&self, driver_id: i64, limit: i64) -> Outcome<Vec<DriverCharge>> {
        let (own, roaming) = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let filter = SessionFilter { driver_id: Some(driver_id), limit, ..SessionFilter::default() };
                    let mut own = Vec::new();
                    for session in sessions::list_sessions(&mut *conn, &filter).await? {
                        let site_id =
                            chargers::get_charger(&mut *conn, &session.station_id).await?.and_then(|c| c.site_id);
                        own.push(DriverCharge::Own { session, site_id });
                    }
                    Ok((own, federation::starts_of_driver(conn, driver_id, None, limit).await?))
                })
            })
            .await?;
        let mut charges: Vec<DriverCharge> =
            own.into_iter().chain(roaming.into_iter().map(DriverCharge::Roaming)).collect();
        charges.sort_by_key(|c| std::cmp::Reverse(c.at()));
        charges.truncate(usize::try_from(limit).unwrap_or(50));
        Ok(charges)
    }

    /// Roaming start `id`, if it was made with one of the driver's tokens.
    pub async fn driver_roaming_start(&self, driver_id: i64, id: &str) -> Outcome<RoamingStart> {
        let key = id.to_owned();
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let Some(start) = federation::get_start(&mut *conn, &key).await? else { return Ok(None) };
                    let token = tokens::get_token(conn, &start.id_token).await?;
                    Ok(token.is_some_and(|t| t.driver_id == Some(driver_id)).then_some(start))
                })
            })
            .await?;
        found.ok_or_else(|| Error::not_found(format!("charge roaming-{id}")))
    }

    /// Roaming start `id`, whoever's driver it is for.
    pub async fn roaming_start(&self, id: &str) -> Outcome<Option<RoamingStart>> {
        let key = id.to_owned();
        Ok(self.store.read(move |conn| Box::pin(async move { federation::get_start(conn, &key).await })).await?)
    }

    /// The newest `limit` starts of the drivers within `scope` at other members' chargers (made
    /// before `before`, if given), each with its settlement once there is one.
    pub async fn roaming_starts(
        &self,
        scope: Scope,
        before: Option<Timestamp>,
        limit: i64,
    ) -> Outcome<Vec<(RoamingStart, Option<Settlement>)>> {
        Ok(self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let mut listed = Vec::new();
                    for start in federation::recent_starts(&mut *conn, scope, before, limit).await? {
                        let settlement = settlements::of_start(&mut *conn, &start.id).await?;
                        listed.push((start, settlement));
                    }
                    Ok(listed)
                })
            })
            .await?)
    }

    /// Refuses a charger that is offline.
    fn ensure_connected(&self, station: &StationId) -> Outcome<()> {
        if self.link.is_connected(station) {
            Ok(())
        } else {
            Err(Error::refused("charger_not_connected", "the charger is offline"))
        }
    }
}

/// Refuses unless the charger answered the command with `Accepted`.
fn charger_accepted(record: &CommandRecord) -> Outcome<()> {
    match &record.outcome {
        Some(CommandOutcome::Status { status }) if status == "Accepted" => Ok(()),
        Some(CommandOutcome::Status { status }) => {
            Err(Error::refused("charger_refused", format!("the charger answered {status}")))
        }
        _ => Err(Error::refused(
            "charger_refused",
            format!("the charger did not accept: {}", record.error.as_deref().unwrap_or("no answer")),
        )),
    }
}
