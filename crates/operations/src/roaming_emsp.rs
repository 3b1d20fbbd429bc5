//! What this node does as eMSP for its own drivers at other members' chargers: it starts,
//! reserves, stops and unlocks for them (each a start whose state follows the member's answers),
//! keeps what the members push and send about them, and answers the members' real-time
//! authorization of their pseudonyms.

use super::Operations;
use crate::ledger::LedgerNode;
use crate::{Error, Outcome};
use chargemesh_core::access::{Scope, scope_within};
use chargemesh_core::roaming_start::{MemberAnswer, RoamingCommand, RoamingStartState};
use chargemesh_store::drivers::DriverStatus;
use chargemesh_store::federation::{self, Pushed, PushedObject, RoamingStart};
use chargemesh_store::{StoreError, drivers, tokens};
use jiff::Timestamp;
use std::sync::Arc;

/// A start this node's driver asks for at another member's charger.
pub struct NewRoamingStart {
    pub id_token: String,
    /// Whose tokens the caller may charge with: one operator's, or (`None`) every operator's.
    pub scope: Scope,
    pub cpo: String,
    pub location_id: String,
    pub evse_uid: String,
    /// The state it is recorded in: `requested`, or `reservation_requested`.
    pub state: RoamingStartState,
    /// The driver's pseudonym toward the member, which the member is sent instead of the token.
    pub pseudonym: String,
}

/// Whether a driver may charge now, as this node answers the member it charges at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    Allowed,
    /// The token or the driver's account is not active.
    Blocked,
    Expired,
}

/// This node's answer about one of its drivers' pseudonyms.
pub struct DriverAuthorization {
    pub id_token: String,
    pub allowance: Allowance,
    /// The member's request the pseudonym was sent with.
    pub reference: String,
}

/// A session of this node's driver that a member sent (OCPI JSON).
pub struct MemberSession {
    pub cpo: String,
    pub id: String,
    /// The start it answers.
    pub authorization_reference: Option<String>,
    pub body: String,
    pub last_updated: Timestamp,
}

/// A CDR of this node's driver that a member sent (OCPI JSON).
pub struct MemberCdr {
    pub cpo: String,
    pub id: String,
    pub session_id: String,
    pub body: String,
}

/// A member's last Session of a start's charge and its CDR, once priced (OCPI JSON).
pub type ChargeOfStart = (String, Option<String>);

impl Operations {
    /// Records a new start of `start.cpo`'s charger for this node's driver, once the driver's token
    /// is the caller's (else not found), this node's own driver's (else refused,
    /// `token_of_another_member`) and active (else refused, `token_inactive`).
    pub async fn open_roaming_start(&self, start: NewRoamingStart) -> Outcome<RoamingStart> {
        let now = self.now();
        let id_token = start.id_token.clone();
        let token =
            self.store.read(move |conn| Box::pin(async move { tokens::get_token(conn, &id_token).await })).await?;
        let token = token
            .filter(|t| scope_within(Some(t.operator_id), start.scope))
            .ok_or_else(|| Error::not_found(format!("token {}", start.id_token)))?;
        if token.emsp_party.is_some() {
            let message = format!("token {} is another member's driver's", start.id_token);
            return Err(Error::refused("token_of_another_member", message));
        }
        if token.status != chargemesh_core::authorization::TokenStatus::Active
            || token.expires_at.is_some_and(|at| at <= now)
        {
            return Err(Error::refused("token_inactive", format!("token {} is blocked or expired", start.id_token)));
        }
        let (now, pseudonym) = (now, start.pseudonym);
        let start = RoamingStart {
            id: hex::encode(rand::random::<[u8; 16]>()),
            id_token: start.id_token,
            operator_id: Some(token.operator_id),
            cpo: start.cpo,
            location_id: start.location_id,
            evse_uid: start.evse_uid,
            state: start.state,
            message: None,
            created_at: now,
            updated_at: now,
        };
        let recorded = start.clone();
        self.store
            .write(move |tx| Box::pin(async move { federation::create_start(tx, &recorded, &pseudonym).await }))
            .await?;
        Ok(start)
    }

    /// Moves start `id` of `cpo` to `state` (only from state `from`, if given); false when there is
    /// no such start of that member in that state.
    pub async fn move_roaming_start(
        &self,
        (id, cpo): (String, String),
        from: Option<RoamingStartState>,
        state: RoamingStartState,
        message: Option<String>,
    ) -> Outcome<bool> {
        let now = self.now();
        let moved = self
            .store
            .write(move |tx| {
                Box::pin(
                    async move { federation::update_start(tx, &id, &cpo, from, state, message.as_deref(), now).await },
                )
            })
            .await?;
        Ok(moved)
    }

    /// Records the member's answer to a start or a reservation about `start` while it still waits
    /// in `waiting` (the charger's result may have come back already), and returns the start as it
    /// is then.
    pub async fn record_member_answer(
        &self,
        start: &RoamingStart,
        waiting: RoamingStartState,
        answer: MemberAnswer,
        message: Option<String>,
    ) -> Outcome<RoamingStart> {
        if let Some(state) = waiting.answered(answer) {
            let key = (start.id.clone(), start.cpo.clone());
            self.move_roaming_start(key, Some(waiting), state, message).await?;
        }
        let id = start.id.clone();
        let start = self
            .store
            .read(move |conn| Box::pin(async move { federation::get_start(conn, &id).await }))
            .await?
            .ok_or_else(|| StoreError::Corrupt("a start vanished".into()))?;
        Ok(start)
    }

    /// Moves `start` to the state that waits for the charger's result of `command`, which the member
    /// accepted, and returns it as it is then (none when it vanished).
    pub async fn await_charger_result(
        &self,
        start: &RoamingStart,
        command: RoamingCommand,
    ) -> Outcome<Option<RoamingStart>> {
        let now = self.now();
        let (key, cpo, pending_state) = (start.id.clone(), start.cpo.clone(), command.pending());
        let start = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    federation::update_start(&mut *tx, &key, &cpo, None, pending_state, None, now).await?;
                    federation::get_start(tx, &key).await
                })
            })
            .await?;
        Ok(start)
    }

    /// A start and the charge it led to: the member's last Session and its CDR (OCPI JSON).
    pub async fn roaming_start_with_charge(&self, id: &str) -> Outcome<Option<(RoamingStart, Option<ChargeOfStart>)>> {
        let key = id.to_owned();
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let Some(start) = federation::get_start(&mut *conn, &key).await? else { return Ok(None) };
                    let charge = federation::charge_of_start(conn, &start.cpo, &start.id).await?;
                    Ok(Some((start, charge)))
                })
            })
            .await?;
        Ok(found)
    }

    /// Keeps the newest version of a location or tariff a member pushed; whether it was kept.
    pub async fn keep_pushed(&self, kind: Pushed, object: PushedObject) -> Outcome<bool> {
        let now = self.now();
        let kept = self
            .store
            .write(move |tx| Box::pin(async move { federation::receive_pushed(tx, kind, &object, now).await }))
            .await?;
        Ok(kept)
    }

    /// Keeps the newest version of a session of this node's driver at a member's charger.
    pub async fn keep_member_session(&self, session: MemberSession) -> Outcome<bool> {
        let now = self.now();
        let kept = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let s = session;
                    let reference = s.authorization_reference.as_deref();
                    federation::receive_session(tx, &s.cpo, &s.id, reference, &s.body, s.last_updated, now).await
                })
            })
            .await?;
        Ok(kept)
    }

    /// Keeps a CDR of this node's driver's charge at a member's charger; the same CDR again changes
    /// nothing.
    pub async fn keep_member_cdr(&self, cdr: MemberCdr) -> Outcome<bool> {
        let now = self.now();
        let kept = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    federation::receive_cdr(tx, &cdr.cpo, &cdr.id, &cdr.session_id, &cdr.body, now).await
                })
            })
            .await?;
        Ok(kept)
    }

    /// Whether the driver behind `uid`, a pseudonym this node sent `member`, may charge now: while
    /// the driver's token and account are active and the token has not expired. None for a
    /// pseudonym never sent there.
    pub async fn authorize_driver_for_member(
        &self,
        ledger: Arc<LedgerNode>,
        member: &str,
        uid: String,
    ) -> Outcome<Option<DriverAuthorization>> {
        let now = self.now();
        self.index_pseudonyms(&ledger).await?;
        let asker = member.to_owned();
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let Some((id_token, reference)) = federation::token_of_pseudonym(&mut *conn, &asker, &uid).await?
                    else {
                        return Ok(None);
                    };
                    let Some(token) = tokens::get_token(&mut *conn, &id_token).await? else { return Ok(None) };
                    let account = match token.driver_id {
                        Some(id) => drivers::get_driver(conn, id).await?.map(|d| d.status),
                        None => None,
                    };
                    Ok::<_, StoreError>(Some((token, account, reference)))
                })
            })
            .await?;
        let Some((token, account, reference)) = found else { return Ok(None) };
        let allowance = if token.status != chargemesh_core::authorization::TokenStatus::Active
            || account.is_some_and(|status| status != DriverStatus::Active)
        {
            Allowance::Blocked
        } else if token.expires_at.is_some_and(|at| at <= now) {
            Allowance::Expired
        } else {
            Allowance::Allowed
        };
        Ok(Some(DriverAuthorization { id_token: token.id_token, allowance, reference }))
    }

    /// Gives the starts recorded before pseudonyms were kept theirs (once; afterwards there are none).
    async fn index_pseudonyms(&self, ledger: &LedgerNode) -> Outcome<()> {
        let unindexed = self.store.read(|conn| Box::pin(federation::starts_without_pseudonym(conn))).await?;
        if unindexed.is_empty() {
            return Ok(());
        }
        let indexed: Vec<(String, String)> =
            unindexed.into_iter().map(|(id, cpo, id_token)| (id, ledger.pseudonym(&cpo, &id_token))).collect();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    for (id, pseudonym) in &indexed {
                        federation::set_start_pseudonym(&mut *tx, id, pseudonym).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }
}
