//! The commands module, eMSP side: this node's driver starts a charge at another member's charger
//! (or reserves it first).
//! The member is sent the driver's pseudonym, never the token; it answers at once whether it will
//! try, and posts the charger's result later to `response_url` (see the federation's `roaming` module).

use crate::Federation;
use crate::client::SendError;
use chargemesh_core::roaming_start::{MemberAnswer, RoamingCommand, RoamingStartState};
use chargemesh_operations::roaming_emsp::NewRoamingStart;
use chargemesh_operations::{Error, Outcome};
use chargemesh_protocol::ocpi::VERSION;
use chargemesh_protocol::ocpi::commands::{
    CancelReservation, CommandResponse, CommandResponseType, ReserveNow, StartSession, StopSession, UnlockConnector,
    command_type,
};
use chargemesh_protocol::ocpi::tokens::{Token, TokenType, WhitelistType};
use chargemesh_store::federation::RoamingStart;
use jiff::Timestamp;

/// A member's Session and, once priced, its CDR, as received (OCPI JSON).
pub type Charge = chargemesh_operations::roaming_emsp::ChargeOfStart;

/// Where the results of this node's commands come back, after the version's URL.
pub const RESULTS: &str = "emsp/commands";

pub struct StartRequest {
    pub id_token: String,
    /// Whose tokens the caller may charge with: one operator's, or (`None`) every operator's.
    pub scope: chargemesh_core::access::Scope,
    pub cpo: String,
    pub location_id: String,
    pub evse_uid: String,
    pub connector_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("this node takes part in no consortium: there are no other members' chargers")]
    NoConsortium,
    #[error("no token {0} of this operator's drivers")]
    UnknownToken(String),
    #[error("token {0} is blocked or expired")]
    Inactive(String),
    #[error("token {0} is another member's driver's; it roams from its own member")]
    NotOwnDriver(String),
    #[error("{0} is not another active member of the consortium")]
    UnknownMember(String),
    #[error("{member}'s node cannot be reached ({why}); nothing was started and nothing will be charged")]
    Unreachable { member: String, why: String, start: Box<RoamingStart> },
    #[error("the charger's member refused: {0}")]
    Refused(String),
    #[error("no start {0}")]
    UnknownStart(String),
    #[error("the charge of start {0} has not begun yet (no session from the charger's member)")]
    NotCharging(String),
    #[error("start {0} holds no reservation (it must be `reserved`, or `reserving` to cancel)")]
    NotReserved(String),
    /// Operations failed (the store, in practice).
    #[error(transparent)]
    Store(#[from] Error),
}

impl Federation {
    /// Asks `request.cpo`'s node to start charging for this node's driver, and records the start
    /// with the member's answer (`accepted` or `rejected`).
    pub async fn start_charge(&self, request: StartRequest) -> Result<RoamingStart, StartError> {
        let start = self.record_start(&request, RoamingStartState::Requested).await?;
        self.send_start(start, request.connector_id).await
    }

    /// Asks `request.cpo`'s node to reserve its charger for this node's driver until `expiry`, and
    /// records the start with the member's answer (`reserving` or `rejected`); the charger's answer
    /// makes it `reserved` (or `reserve_rejected`, …), and [`Federation::start_reserved`] starts it.
    pub async fn reserve(&self, request: StartRequest, expiry: Timestamp) -> Result<RoamingStart, StartError> {
        let start = self.record_start(&request, RoamingStartState::ReservationRequested).await?;
        let body = ReserveNow {
            response_url: format!("{}/RESERVE_NOW/{}", self.module_url(RESULTS), start.id),
            token: self.driver_token(&start.cpo, &start.id_token)?,
            expiry_date: expiry,
            reservation_id: start.id.clone(),
            location_id: start.location_id.clone(),
            evse_uid: Some(start.evse_uid.clone()),
            authorization_reference: Some(start.id.clone()),
        };
        let body = serde_json::to_string(&body).expect("a ReserveNow serializes");
        self.ask_member(start, (RoamingCommand::Reserve, RoamingStartState::ReservationRequested), &body).await
    }

    /// Starts the charge of a start whose charger is reserved for the driver.
    pub async fn start_reserved(&self, id: &str) -> Result<RoamingStart, StartError> {
        let (start, _) = self.start_with_charge(id).await?.ok_or_else(|| StartError::UnknownStart(id.to_owned()))?;
        if start.state != RoamingStartState::Reserved {
            return Err(StartError::NotReserved(id.to_owned()));
        }
        let key = (start.id.clone(), start.cpo.clone());
        let (reserved, requested) = (Some(RoamingStartState::Reserved), RoamingStartState::Requested);
        let moved = self.operations.move_roaming_start(key, reserved, requested, None).await?;
        if !moved {
            return Err(StartError::NotReserved(id.to_owned()));
        }
        self.send_start(start, None).await
    }

    /// Cancels the reservation of a start: the member tells its charger; the start becomes
    /// `cancelling`, then `reservation_cancelled` (or `cancel_rejected`, …).
    pub async fn cancel_reservation(&self, id: &str) -> Result<RoamingStart, StartError> {
        let (start, _) = self.start_with_charge(id).await?.ok_or_else(|| StartError::UnknownStart(id.to_owned()))?;
        if !start.state.holds_reservation() {
            return Err(StartError::NotReserved(id.to_owned()));
        }
        let body = CancelReservation {
            response_url: format!("{}/CANCEL_RESERVATION/{}", self.module_url(RESULTS), start.id),
            reservation_id: start.id.clone(),
        };
        let body = serde_json::to_string(&body).expect("a CancelReservation serializes");
        self.command_charger(start, RoamingCommand::CancelReservation, &body).await
    }

    /// Checks the driver's token and the member, and records a new start in `state`.
    async fn record_start(&self, request: &StartRequest, state: RoamingStartState) -> Result<RoamingStart, StartError> {
        let (Some(ledger), Some(peers)) = (&self.ledger, &self.peers) else { return Err(StartError::NoConsortium) };
        if request.cpo == ledger.party_id || peers.endpoint(&request.cpo).is_none() {
            return Err(StartError::UnknownMember(request.cpo.clone()));
        }
        let start = NewRoamingStart {
            id_token: request.id_token.clone(),
            scope: request.scope,
            cpo: request.cpo.clone(),
            location_id: request.location_id.clone(),
            evse_uid: request.evse_uid.clone(),
            state,
            pseudonym: ledger.pseudonym(&request.cpo, &request.id_token),
        };
        self.operations.open_roaming_start(start).await.map_err(|error| match error {
            Error::NotFound(_) => StartError::UnknownToken(request.id_token.clone()),
            Error::Refused { code: "token_of_another_member", .. } => {
                StartError::NotOwnDriver(request.id_token.clone())
            }
            Error::Refused { code: "token_inactive", .. } => StartError::Inactive(request.id_token.clone()),
            other => StartError::Store(other),
        })
    }

    /// The OCPI token member `cpo` is sent for this node's driver `id_token`: its pseudonym toward
    /// that member.
    pub(crate) fn driver_token(&self, cpo: &str, id_token: &str) -> Result<Token, StartError> {
        let Some(ledger) = &self.ledger else { return Err(StartError::NoConsortium) };
        let party = self.party();
        let pseudonym = ledger.pseudonym(cpo, id_token);
        Ok(Token {
            country_code: party.country_code.clone(),
            party_id: party.party_id.clone(),
            uid: pseudonym.clone(),
            kind: TokenType::AppUser,
            contract_id: format!("{}-{}-{pseudonym}", party.country_code, party.party_id),
            issuer: ledger.party_id.clone(),
            valid: true,
            whitelist: WhitelistType::Allowed,
            last_updated: Timestamp::now(),
        })
    }

    /// Sends START_SESSION for a start in state `requested`.
    async fn send_start(&self, start: RoamingStart, connector_id: Option<String>) -> Result<RoamingStart, StartError> {
        let body = StartSession {
            response_url: format!("{}/START_SESSION/{}", self.module_url(RESULTS), start.id),
            token: self.driver_token(&start.cpo, &start.id_token)?,
            location_id: start.location_id.clone(),
            evse_uid: Some(start.evse_uid.clone()),
            connector_id,
            authorization_reference: Some(start.id.clone()),
        };
        let body = serde_json::to_string(&body).expect("a StartSession serializes");
        self.ask_member(start, (RoamingCommand::Start, RoamingStartState::Requested), &body).await
    }

    /// Sends a start or a reservation (`command`) for `start`, which waits for the member's answer
    /// in state `waiting`, and records the answer: accepted, refused or unreachable.
    async fn ask_member(
        &self,
        start: RoamingStart,
        (command, waiting): (RoamingCommand, RoamingStartState),
        body: &str,
    ) -> Result<RoamingStart, StartError> {
        let Some(peers) = &self.peers else { return Err(StartError::NoConsortium) };
        let path = format!("/{VERSION}/cpo/commands/{}", command_type(command));
        let sent = peers.send(&start.cpo, "POST", &path, Some(body)).await;
        let (answer, message) = match &sent {
            Ok(data) => match data.clone().map(serde_json::from_value::<CommandResponse>) {
                Some(Ok(answer)) if answer.result == CommandResponseType::Accepted => (MemberAnswer::Accepted, None),
                Some(Ok(answer)) => (MemberAnswer::Refused, answer.message.first().map(|m| m.text.clone())),
                _ => (MemberAnswer::Refused, Some("the member's answer could not be read".to_owned())),
            },
            Err(SendError::Refused { message, .. }) => (MemberAnswer::Refused, Some(message.clone())),
            Err(error) => (MemberAnswer::Unreachable, Some(error.to_string())),
        };
        let start = self.operations.record_member_answer(&start, waiting, answer, message).await?;
        match sent {
            Err(error @ (SendError::Transport(_) | SendError::UnknownPeer(_) | SendError::BadEndpoint { .. })) => {
                Err(StartError::Unreachable {
                    member: start.cpo.clone(),
                    why: error.to_string(),
                    start: Box::new(start),
                })
            }
            _ => Ok(start),
        }
    }
}

impl Federation {
    /// A start and the charge it led to: the member's last Session and its CDR (OCPI JSON).
    pub async fn start_with_charge(&self, id: &str) -> Outcome<Option<(RoamingStart, Option<Charge>)>> {
        self.operations.roaming_start_with_charge(id).await
    }

    /// Asks the charger's member to stop the charge of start `id`; the start becomes `stopping`,
    /// then `stopped` (or `stop_rejected`, `stop_failed`, `stop_timeout`) when the member posts the
    /// charger's answer. The member's refusal leaves the start as it was and is returned.
    pub async fn stop_charge(&self, id: &str) -> Result<RoamingStart, StartError> {
        let found = self.start_with_charge(id).await?;
        let (start, charge) = found.ok_or_else(|| StartError::UnknownStart(id.to_owned()))?;
        let session_id = charge
            .and_then(|(session, _)| serde_json::from_str::<serde_json::Value>(&session).ok())
            .and_then(|session| session["id"].as_str().map(str::to_owned))
            .ok_or_else(|| StartError::NotCharging(id.to_owned()))?;
        let body =
            StopSession { response_url: format!("{}/STOP_SESSION/{}", self.module_url(RESULTS), start.id), session_id };
        let body = serde_json::to_string(&body).expect("a StopSession serializes");
        self.command_charger(start, RoamingCommand::Stop, &body).await
    }

    /// Asks the charger's member to unlock the connector of the charge of start `id` (a cable stuck
    /// during or after the charge); the start becomes `unlocking`, then `unlocked` (or
    /// `unlock_rejected`, `unlock_failed`, …) when the member posts the charger's answer.
    pub async fn unlock_connector(&self, id: &str) -> Result<RoamingStart, StartError> {
        let found = self.start_with_charge(id).await?;
        let (start, charge) = found.ok_or_else(|| StartError::UnknownStart(id.to_owned()))?;
        let session = charge
            .and_then(|(session, _)| serde_json::from_str::<serde_json::Value>(&session).ok())
            .ok_or_else(|| StartError::NotCharging(id.to_owned()))?;
        let field = |name: &str| session[name].as_str().unwrap_or_default().to_owned();
        let body = UnlockConnector {
            response_url: format!("{}/UNLOCK_CONNECTOR/{}", self.module_url(RESULTS), start.id),
            location_id: field("location_id"),
            evse_uid: field("evse_uid"),
            connector_id: field("connector_id"),
        };
        let body = serde_json::to_string(&body).expect("an UnlockConnector serializes");
        self.command_charger(start, RoamingCommand::Unlock, &body).await
    }

    /// Sends OCPI command `command` about `start` to the charger's member; when the member accepts,
    /// the start waits in the command's pending state (`stopping`, …) until the result comes.
    async fn command_charger(
        &self,
        start: RoamingStart,
        command: RoamingCommand,
        body: &str,
    ) -> Result<RoamingStart, StartError> {
        let Some(peers) = &self.peers else { return Err(StartError::NoConsortium) };
        let id = start.id.clone();
        let path = format!("/{VERSION}/cpo/commands/{}", command_type(command));
        let answer = match peers.send(&start.cpo, "POST", &path, Some(body)).await {
            Ok(data) => data.and_then(|d| serde_json::from_value::<CommandResponse>(d).ok()),
            Err(error @ (SendError::Transport(_) | SendError::UnknownPeer(_) | SendError::BadEndpoint { .. })) => {
                return Err(StartError::Unreachable {
                    member: start.cpo.clone(),
                    why: error.to_string(),
                    start: Box::new(start),
                });
            }
            Err(error) => return Err(StartError::Refused(error.to_string())),
        };
        match answer {
            Some(answer) if answer.result == CommandResponseType::Accepted => {}
            Some(answer) => {
                let why = answer.message.first().map_or_else(|| format!("{:?}", answer.result), |m| m.text.clone());
                return Err(StartError::Refused(why));
            }
            None => return Err(StartError::Refused("the member's answer could not be read".into())),
        }
        self.operations.await_charger_result(&start, command).await?.ok_or(StartError::UnknownStart(id))
    }
}
