//! The commands module, CPO side: another member asks this node to start or stop a charge for
//! one of its drivers, to reserve a charger for one (or cancel that), or to unlock the connector its
//! driver charges (or charged) at. The answer says at once whether the node will try; what came of it is posted
//! later to the request's `response_url`, through the outbox, so it reaches the member even if its
//! node is down for a while. The driver's token is the member's pseudonym: this node never learns
//! who the driver is.

use super::locations::find;
use crate::Federation;
use crate::caller::Member;
use crate::reply;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chargemesh_core::charger::{ChargerCommand, CommandOutcome, CommandState};
use chargemesh_core::{IdToken, StationId};
use chargemesh_operations::Error;
use chargemesh_operations::member_outbox::MemberRequest;
use chargemesh_operations::roaming_cpo::MemberReservation;
use chargemesh_protocol::ocpi::commands::{
    CancelReservation, CommandResponse, CommandResponseType, CommandResult, CommandResultType, DisplayText, ReserveNow,
    StartSession, StopSession, UnlockConnector,
};
use chargemesh_protocol::ocpi::locations::Evse;
use chargemesh_protocol::ocpi::{PartyRef, status};
use jiff::Timestamp;
use std::sync::Arc;

/// How long the member is told to wait for a command's result (the charger's answer is bounded by
/// the gateway's command timeout, well below this).
const RESULT_TIMEOUT_SECS: u32 = 60;

pub async fn receive(
    State(federation): State<Arc<Federation>>,
    Extension(Member(member)): Extension<Member>,
    Path(command): Path<String>,
    body: Bytes,
) -> Response {
    match command.as_str() {
        "START_SESSION" => match serde_json::from_slice::<StartSession>(&body) {
            Ok(request) => start_session(federation, member, request).await,
            Err(e) => reply::invalid(format!("the body is not an OCPI StartSession: {e}")),
        },
        "STOP_SESSION" => match serde_json::from_slice::<StopSession>(&body) {
            Ok(request) => stop_session(federation, member, request).await,
            Err(e) => reply::invalid(format!("the body is not an OCPI StopSession: {e}")),
        },
        "UNLOCK_CONNECTOR" => match serde_json::from_slice::<UnlockConnector>(&body) {
            Ok(request) => unlock_connector(federation, member, request).await,
            Err(e) => reply::invalid(format!("the body is not an OCPI UnlockConnector: {e}")),
        },
        "RESERVE_NOW" => match serde_json::from_slice::<ReserveNow>(&body) {
            Ok(request) => reserve_now(federation, member, request).await,
            Err(e) => reply::invalid(format!("the body is not an OCPI ReserveNow: {e}")),
        },
        "CANCEL_RESERVATION" => match serde_json::from_slice::<CancelReservation>(&body) {
            Ok(request) => cancel_reservation(federation, member, request).await,
            Err(e) => reply::invalid(format!("the body is not an OCPI CancelReservation: {e}")),
        },
        _ => reply::error(StatusCode::NOT_FOUND, status::CLIENT_ERROR, format!("no OCPI command {command}")),
    }
}

fn answer(result: CommandResponseType, message: impl Into<String>) -> Response {
    let message = message.into();
    let message = if message.is_empty() { Vec::new() } else { DisplayText::english(message) };
    reply::ok(CommandResponse { result, timeout: RESULT_TIMEOUT_SECS, message })
}

async fn start_session(federation: Arc<Federation>, member: String, request: StartSession) -> Response {
    let asked =
        Asked { token: &request.token, location_id: &request.location_id, evse_uid: request.evse_uid.as_deref() };
    let (result_path, id_token, evse, station) = match asked.check(&federation, &member, &request.response_url).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let connector = match request.connector_id.as_deref().map(str::parse::<u32>) {
        None => None,
        Some(Ok(id)) if evse.connectors.iter().any(|c| c.id == id.to_string()) => Some(id),
        Some(_) => return answer(CommandResponseType::Rejected, "this EVSE has no such connector"),
    };
    let reference = request.authorization_reference.clone().unwrap_or_else(|| hex::encode(rand::random::<[u8; 16]>()));
    if let Err(refused) = record_token(&federation, &station, &id_token, &member, &reference).await {
        return refused;
    }
    let command_key = format!("command:START_SESSION:{}:{}", member, hex::encode(rand::random::<[u8; 8]>()));
    let command = ChargerCommand::RemoteStart { connector, id_token };
    tokio::spawn(carry_out(federation, member, station, command, result_path, command_key));
    answer(CommandResponseType::Accepted, "")
}

/// What a START_SESSION or RESERVE_NOW asks for: a member's driver's token at an EVSE.
struct Asked<'a> {
    token: &'a chargemesh_protocol::ocpi::tokens::Token,
    location_id: &'a str,
    evse_uid: Option<&'a str>,
}

impl Asked<'_> {
    /// The result path, the driver's pseudonym as this node's token, the EVSE and its connected
    /// charger; or the answer refusing the request.
    async fn check(
        &self,
        federation: &Federation,
        member: &str,
        response_url: &str,
    ) -> Result<(String, IdToken, Evse, StationId), Response> {
        let token = self.token;
        let sender = PartyRef::of_member(member);
        if sender.as_ref().is_none_or(|p| p.country_code != token.country_code || p.party_id != token.party_id) {
            return Err(reply::invalid(format!("{member} may charge only for its own drivers' tokens")));
        }
        let Some(result_path) = result_path(federation, member, response_url) else {
            return Err(reply::invalid("response_url must be on the requesting member's registered OCPI endpoint"));
        };
        // OCPP 1.6 carries at most 20 characters in an idTag; a pseudonym is 20.
        let id_token = match IdToken::parse(&token.uid) {
            Ok(id_token) if id_token.as_str().len() <= 20 => id_token,
            _ => {
                return Err(reply::invalid(
                    "the token uid must be 1 to 20 printable characters (the driver's pseudonym)",
                ));
            }
        };
        let location = find(federation, self.location_id).await?;
        let Some(evse) = self.evse_uid.and_then(|uid| location.evses.into_iter().find(|e| e.uid == uid)) else {
            return Err(answer(CommandResponseType::Rejected, "name the EVSE (evse_uid) of the location"));
        };
        if !token.valid {
            return Err(answer(CommandResponseType::Rejected, "the token is not valid"));
        }
        let Ok(station) = StationId::parse(&evse.uid) else {
            return Err(reply::server_error("the EVSE's station id is unreadable"));
        };
        if !federation.operations.chargers().is_connected(&station) {
            return Err(answer(CommandResponseType::Rejected, "the charger is offline"));
        }
        Ok((result_path, id_token, evse, station))
    }
}

/// How far ahead a member may reserve a charger.
const LONGEST_RESERVATION: jiff::SignedDuration = jiff::SignedDuration::from_hours(2);

/// Holds an EVSE for the member's driver until the expiry: the charger is told to reserve it for the
/// driver's pseudonym, under an id of its own that the member's reservation id maps to.
async fn reserve_now(federation: Arc<Federation>, member: String, request: ReserveNow) -> Response {
    let asked =
        Asked { token: &request.token, location_id: &request.location_id, evse_uid: request.evse_uid.as_deref() };
    let (result_path, id_token, evse, station) = match asked.check(&federation, &member, &request.response_url).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let now = Timestamp::now();
    if request.expiry_date <= now || request.expiry_date > now + LONGEST_RESERVATION {
        return answer(CommandResponseType::Rejected, "the expiry must be in the next two hours");
    }
    if request.reservation_id.is_empty() || request.reservation_id.len() > 36 {
        return reply::invalid("reservation_id must be 1 to 36 characters");
    }
    let reference = request.authorization_reference.clone().unwrap_or_else(|| request.reservation_id.clone());
    if let Err(refused) = record_token(&federation, &station, &id_token, &member, &reference).await {
        return refused;
    }
    let reservation = MemberReservation {
        member: member.clone(),
        reservation_id: request.reservation_id.clone(),
        station: station.clone(),
        id_token: id_token.clone(),
        expiry: request.expiry_date,
    };
    let allocated = federation.operations.reserve_for_member(reservation).await;
    let reservation_id = match allocated {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "cannot record a member's reservation");
            return reply::server_error("the reservation cannot be recorded now; try again");
        }
    };
    // An EVSE is one charger here: its only connector, or any of its connectors (OCPP's connector 0).
    let connector = match evse.connectors.as_slice() {
        [only] => only.id.parse().unwrap_or(0),
        _ => 0,
    };
    let command_key = format!("command:RESERVE_NOW:{member}:{}", hex::encode(rand::random::<[u8; 8]>()));
    let command = ChargerCommand::ReserveNow { connector, expiry: request.expiry_date, id_token, reservation_id };
    tokio::spawn(carry_out(federation, member, station, command, result_path, command_key));
    answer(CommandResponseType::Accepted, "")
}

/// Ends a reservation the member made, at the charger that holds it.
async fn cancel_reservation(federation: Arc<Federation>, member: String, request: CancelReservation) -> Response {
    let Some(result_path) = result_path(&federation, &member, &request.response_url) else {
        return reply::invalid("response_url must be on the requesting member's registered OCPI endpoint");
    };
    let found = federation.operations.member_reservation(&member, &request.reservation_id).await;
    let (reservation_id, station) = match found {
        Ok(Some((id, station))) => match StationId::parse(&station) {
            Ok(station) => (id, station),
            Err(_) => return reply::server_error("the reservation's station id is unreadable"),
        },
        Ok(None) => {
            let unknown = format!("no reservation {} of yours", request.reservation_id);
            return answer(CommandResponseType::Rejected, unknown);
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot look up a reservation to cancel");
            return reply::server_error("the reservation cannot be looked up now; try again");
        }
    };
    if !federation.operations.chargers().is_connected(&station) {
        return answer(CommandResponseType::Rejected, "the charger is offline");
    }
    let command_key = format!("command:CANCEL_RESERVATION:{member}:{}", hex::encode(rand::random::<[u8; 8]>()));
    let command = ChargerCommand::CancelReservation { reservation_id };
    tokio::spawn(carry_out(federation, member, station, command, result_path, command_key));
    answer(CommandResponseType::Accepted, "")
}

/// The member's token, as one of this operator's tokens that the member pays for, and the
/// member's request (`reference`) the coming session answers; the charger is then told what to do.
/// A refusal, recording nothing, for a charger of no operator.
async fn record_token(
    federation: &Federation,
    station: &StationId,
    id_token: &IdToken,
    member: &str,
    reference: &str,
) -> Result<(), Response> {
    match federation.operations.authorize_member_token(station, id_token, member, reference).await {
        Ok(()) => Ok(()),
        Err(Error::Refused { message, .. }) => Err(answer(CommandResponseType::Rejected, message)),
        Err(e) => {
            tracing::error!(error = %e, "cannot record a member's token");
            Err(reply::server_error("the request cannot be recorded now; try again"))
        }
    }
}

/// `response_url` after the member's registered OCPI base URL: results go nowhere else.
fn result_path(federation: &Federation, member: &str, response_url: &str) -> Option<String> {
    let base = federation.peers.as_ref()?.endpoint(member)?;
    response_url.strip_prefix(&base).filter(|rest| rest.starts_with('/')).map(str::to_owned)
}

/// Stops a running session of the member's driver at one of this node's chargers.
async fn stop_session(federation: Arc<Federation>, member: String, request: StopSession) -> Response {
    let Some(result_path) = result_path(&federation, &member, &request.response_url) else {
        return reply::invalid("response_url must be on the requesting member's registered OCPI endpoint");
    };
    let unknown =
        || answer(CommandResponseType::UnknownSession, format!("no running session {} of yours", request.session_id));
    let Ok(id) = request.session_id.parse::<i64>() else { return unknown() };
    let session = match federation.operations.member_session_to_stop(&member, id).await {
        Ok(Some(session)) => session,
        Ok(None) => return unknown(),
        Err(e) => {
            tracing::error!(error = %e, "cannot look up a session to stop");
            return reply::server_error("the session cannot be looked up now; try again");
        }
    };
    let Ok(station) = StationId::parse(&session.station_id) else {
        return reply::server_error("the session's station id is unreadable");
    };
    let command_key = format!("command:STOP_SESSION:{member}:{}", hex::encode(rand::random::<[u8; 8]>()));
    let command = ChargerCommand::RemoteStop { transaction_id: session.id };
    tokio::spawn(carry_out(federation, member, station, command, result_path, command_key));
    answer(CommandResponseType::Accepted, "")
}

/// Unlocks a connector of one of this node's chargers for a member whose driver charges there, or
/// charged there within the last hour: nobody else's cable is released.
async fn unlock_connector(federation: Arc<Federation>, member: String, request: UnlockConnector) -> Response {
    let Some(result_path) = result_path(&federation, &member, &request.response_url) else {
        return reply::invalid("response_url must be on the requesting member's registered OCPI endpoint");
    };
    let (Ok(station), Ok(connector)) = (StationId::parse(&request.evse_uid), request.connector_id.parse::<u32>())
    else {
        return answer(CommandResponseType::Rejected, "no such EVSE or connector");
    };
    let found = federation.operations.member_may_unlock(&member, &station, connector).await;
    match found {
        Ok(true) => {}
        Ok(false) => {
            return answer(
                CommandResponseType::Rejected,
                "none of your drivers charges or charged at this connector lately",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot look up a session to unlock");
            return reply::server_error("the connector cannot be looked up now; try again");
        }
    }
    if !federation.operations.chargers().is_connected(&station) {
        return answer(CommandResponseType::Rejected, "the charger is offline");
    }
    let command_key = format!("command:UNLOCK_CONNECTOR:{member}:{}", hex::encode(rand::random::<[u8; 8]>()));
    let command = ChargerCommand::UnlockConnector { connector };
    tokio::spawn(carry_out(federation, member, station, command, result_path, command_key));
    answer(CommandResponseType::Accepted, "")
}

/// Sends `command` to the charger and posts what came of it to the member.
async fn carry_out(
    federation: Arc<Federation>,
    member: String,
    station: StationId,
    command: ChargerCommand,
    result_path: String,
    command_key: String,
) {
    let outcome = federation.operations.send_command(&station, command, None).await;
    let result = match outcome {
        Ok(record) => match (record.state, record.outcome) {
            (CommandState::Answered, Some(CommandOutcome::Status { status }))
                if status == "Accepted" || status == "Unlocked" =>
            {
                CommandResult { result: CommandResultType::Accepted, message: Vec::new() }
            }
            (CommandState::Answered, Some(CommandOutcome::Status { status })) => CommandResult {
                result: CommandResultType::Rejected,
                message: DisplayText::english(format!("the charger answered {status}")),
            },
            (CommandState::Answered, _) => CommandResult {
                result: CommandResultType::Rejected,
                message: DisplayText::english("the charger refused"),
            },
            (CommandState::TimedOut, _) => CommandResult {
                result: CommandResultType::Timeout,
                message: DisplayText::english("the charger did not answer"),
            },
            _ => CommandResult {
                result: CommandResultType::Failed,
                message: DisplayText::english(
                    record.error.unwrap_or_else(|| "the charger could not be reached".into()),
                ),
            },
        },
        Err(e) => {
            tracing::error!(error = %e, "a member's start could not be recorded");
            CommandResult { result: CommandResultType::Failed, message: DisplayText::english("the start failed here") }
        }
    };
    let body = serde_json::to_string(&result).expect("a command result serializes");
    let request = MemberRequest { method: "POST".into(), path: result_path, body };
    let queued = federation.operations.queue_for_member(member, command_key, None, request).await;
    if let Err(e) = queued {
        tracing::error!(error = %e, "the result of a member's start could not be queued for it");
    }
}
