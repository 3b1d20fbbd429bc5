//! What this node does as CPO for other members' drivers: it takes their members' tokens (the
//! drivers' pseudonyms) as its operators' tokens, reserves chargers and stops or unlocks only for
//! the member whose driver it is, and reports their charges back to the member.

use super::Operations;
use crate::billing;
use crate::{Error, Outcome};
use chargemesh_core::pricing::PricedCdr;
use chargemesh_core::{IdToken, StationId};
use chargemesh_store::chargers::{self, Charger};
use chargemesh_store::federation::{self, RoamingCharge};
use chargemesh_store::sessions::{self, Session};
use chargemesh_store::tokens::{self, Token};
use jiff::{SignedDuration, Timestamp};

/// A member's driver's session while it runs, as the driver's member is told it.
#[derive(Debug, Default)]
pub struct RunningCharge {
    /// The latest two readings of the register, latest first.
    pub registers: Vec<(Timestamp, i64)>,
    /// The cost so far; none without a tariff.
    pub cost: Option<PricedCdr>,
}

/// How long after its driver's session a member may still have a connector unlocked (a cable
/// stuck after the charge).
const UNLOCK_AFTER_SESSION: SignedDuration = SignedDuration::from_hours(1);

/// A member's reservation of one of this node's chargers.
pub struct MemberReservation {
    pub member: String,
    /// The member's own id for it.
    pub reservation_id: String,
    pub station: StationId,
    pub id_token: IdToken,
    pub expiry: Timestamp,
}

impl Operations {
    /// Takes `member`'s token `id_token` as one of the charger's operator's tokens, paid for by the
    /// member, and records the member's request `reference` the coming session answers. Refused
    /// (`no_operator`, recording nothing) for a charger of no operator.
    pub async fn authorize_member_token(
        &self,
        station: &StationId,
        id_token: &IdToken,
        member: &str,
        reference: &str,
    ) -> Outcome<()> {
        let now = self.now();
        let (station, id_token, member) =
            (station.as_str().to_owned(), id_token.as_str().to_owned(), member.to_owned());
        let reference = reference.to_owned();
        let recorded = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let charger = chargers::get_charger(&mut *tx, &station).await?;
                    let Some(operator_id) = charger.and_then(|c| c.operator_id) else { return Ok(false) };
                    federation::authorize(&mut *tx, &id_token, &station, &member, &reference, now).await?;
                    let existing = tokens::get_token(&mut *tx, &id_token).await?;
                    let token = Token {
                        id_token: id_token.clone(),
                        operator_id,
                        kind: "app".into(),
                        status: chargemesh_core::authorization::TokenStatus::Active,
                        expires_at: None,
                        parent_id_token: None,
                        label: None,
                        payment_method: None,
                        emsp_party: Some(member),
                        driver_id: None,
                        created_at: existing.map_or(now, |t| t.created_at),
                    };
                    tokens::upsert_token(tx, &token).await?;
                    Ok(true)
                })
            })
            .await?;
        if !recorded {
            return Err(Error::refused("no_operator", "the charger belongs to no operator here"));
        }
        Ok(())
    }

    /// The id the charger is to know a member's reservation by: the one it has (the reservation
    /// is then replaced), else a new one.
    pub async fn reserve_for_member(&self, reservation: MemberReservation) -> Outcome<i64> {
        let now = self.now();
        let id = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let r = reservation;
                    let key = (r.member.as_str(), r.reservation_id.as_str());
                    let (station, token) = (r.station.as_str(), r.id_token.as_str());
                    federation::reservation_for(tx, key, station, token, r.expiry, now).await
                })
            })
            .await?;
        Ok(id)
    }

    /// `member`'s reservation `reservation_id`: the id the charger knows it by, and the charger.
    pub async fn member_reservation(&self, member: &str, reservation_id: &str) -> Outcome<Option<(i64, String)>> {
        let (member, reservation_id) = (member.to_owned(), reservation_id.to_owned());
        let found = self
            .store
            .read(move |conn| Box::pin(async move { federation::reservation(conn, &member, &reservation_id).await }))
            .await?;
        Ok(found)
    }

    /// Session `id` if it runs for a driver of `member`: the only sessions the member may stop.
    pub async fn member_session_to_stop(&self, member: &str, id: i64) -> Outcome<Option<Session>> {
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let Some(session) = sessions::get_session(&mut *conn, id).await? else { return Ok(None) };
                    let token = tokens::get_token(conn, &session.id_token).await?;
                    Ok(Some((session, token.and_then(|t| t.emsp_party))))
                })
            })
            .await?;
        Ok(match found {
            Some((session, Some(owner))) if owner == member && session.state.is_active() => Some(session),
            _ => None,
        })
    }

    /// Whether a driver of `member` charges at `connector` of `station`, or charged there within the
    /// last hour: nobody else's cable is released.
    pub async fn member_may_unlock(&self, member: &str, station: &StationId, connector: u32) -> Outcome<bool> {
        let now = self.now();
        let (station_id, owner) = (station.as_str().to_owned(), member.to_owned());
        let since = now - UNLOCK_AFTER_SESSION;
        let may = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let filter = sessions::SessionFilter {
                        station_id: Some(station_id),
                        limit: 1,
                        ..sessions::SessionFilter::default()
                    };
                    let Some(last) = sessions::list_sessions(&mut *conn, &filter).await?.into_iter().next() else {
                        return Ok(false);
                    };
                    let token = tokens::get_token(conn, &last.id_token).await?;
                    let recent = last.state.is_active() || last.stopped_at.is_some_and(|at| at >= since);
                    Ok(recent
                        && last.connector_id == i64::from(connector)
                        && token.and_then(|t| t.emsp_party) == Some(owner))
                })
            })
            .await?;
        Ok(may)
    }

    /// The charger a member's driver asks to charge at, to tell the member where.
    pub async fn charger_for_member_driver(&self, station: &StationId) -> Outcome<Option<Charger>> {
        let key = station.as_str().to_owned();
        Ok(self.store.read(move |conn| Box::pin(async move { chargers::get_charger(conn, &key).await })).await?)
    }

    /// Sessions of other members' drivers updated at or after `since`, to report to their members.
    pub async fn roaming_charges_since(&self, since: Timestamp) -> Outcome<Vec<RoamingCharge>> {
        Ok(self.store.read(move |conn| Box::pin(federation::roaming_charges(conn, since))).await?)
    }

    /// What a running session of a member's driver shows its member: the latest two readings of the
    /// charger's register, latest first (the power now), and the cost so far under the session's
    /// tariff (none without one), priced by the one pricing function as the CDR will be.
    pub async fn roaming_session_readings(&self, id: i64) -> Outcome<RunningCharge> {
        let running = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let registers = sessions::latest_register_readings(&mut *conn, id).await?;
                    let cost = match sessions::get_session(&mut *conn, id).await? {
                        Some(session) => billing::price_session(conn, &session).await?,
                        None => None,
                    };
                    Ok(RunningCharge { registers, cost })
                })
            })
            .await?;
        Ok(running)
    }
}
