//! The eMSP side: other members push their locations and tariffs here (OCPI's receiver
//! interfaces), and this node keeps the newest version of each for its drivers; they send the sessions and CDRs of this
//! node's drivers at their chargers, and the results of the commands this node sent them.

use crate::Federation;
use crate::caller::Member;
use crate::reply;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chargemesh_core::roaming_start::RoamingStartState;
use chargemesh_operations::Outcome;
use chargemesh_operations::roaming_emsp::{MemberCdr, MemberSession};
use chargemesh_protocol::ocpi::commands::{CommandResult, parse_command_type};
use chargemesh_protocol::ocpi::locations::Location;
use chargemesh_protocol::ocpi::sessions::{Cdr, Session};
use chargemesh_protocol::ocpi::tariffs::Tariff;
use chargemesh_protocol::ocpi::{PartyRef, status};
use chargemesh_store::federation::{Pushed, PushedObject};
use jiff::Timestamp;
use std::sync::Arc;

pub async fn receive_location(
    State(federation): State<Arc<Federation>>,
    Extension(Member(member)): Extension<Member>,
    Path((country_code, party_id, location_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(refused) = only_own(&member, &country_code, &party_id) {
        return refused;
    }
    let location: Location = match serde_json::from_slice(&body) {
        Ok(location) => location,
        Err(e) => return reply::invalid(format!("the body is not an OCPI Location: {e}")),
    };
    if location.id != location_id || location.country_code != country_code || location.party_id != party_id {
        return reply::invalid("the Location's country_code, party_id and id must be those of the URL");
    }
    keep_pushed(&federation, Pushed::Location, member, location_id, body, location.last_updated).await
}

/// A member pushes one of its tariffs (`PUT /emsp/tariffs/{country_code}/{party_id}/{tariff_id}`).
pub async fn receive_tariff(
    State(federation): State<Arc<Federation>>,
    Extension(Member(member)): Extension<Member>,
    Path((country_code, party_id, tariff_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(refused) = only_own(&member, &country_code, &party_id) {
        return refused;
    }
    let tariff: Tariff = match serde_json::from_slice(&body) {
        Ok(tariff) => tariff,
        Err(e) => return reply::invalid(format!("the body is not an OCPI Tariff: {e}")),
    };
    if tariff.id != tariff_id || tariff.country_code != country_code || tariff.party_id != party_id {
        return reply::invalid("the Tariff's country_code, party_id and id must be those of the URL");
    }
    keep_pushed(&federation, Pushed::Tariff, member, tariff_id, body, tariff.last_updated).await
}

/// Keeps the newest version of an object a member pushed.
async fn keep_pushed(
    federation: &Federation,
    kind: Pushed,
    cpo: String,
    id: String,
    body: Bytes,
    last_updated: Timestamp,
) -> Response {
    let object = PushedObject { cpo, id, body: String::from_utf8_lossy(&body).into_owned(), last_updated };
    let kept = federation.operations.keep_pushed(kind, object).await;
    stored(kept.map(|_| ()), if kind == Pushed::Location { "location" } else { "tariff" })
}

/// The result of a command this node sent (OCPI's `response_url`): the member whose charger it is
/// posts what the charger did. Only that member may, and a repeat changes nothing more.
pub async fn receive_command_result(
    State(federation): State<Arc<Federation>>,
    Extension(Member(member)): Extension<Member>,
    Path((command, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    // A start's state follows its latest command: `started` …, then `stopped` or `stop_…`.
    let Some(command) = parse_command_type(&command) else {
        return reply::error(StatusCode::NOT_FOUND, status::CLIENT_ERROR, format!("no {command} was sent from here"));
    };
    let result: CommandResult = match serde_json::from_slice(&body) {
        Ok(result) => result,
        Err(e) => return reply::invalid(format!("the body is not an OCPI CommandResult: {e}")),
    };
    let state = RoamingStartState::after_result(command, result.result.refusal());
    let message = result.message.first().map(|m| m.text.clone());
    let updated = federation.operations.move_roaming_start((id, member), None, state, message).await;
    match updated {
        Ok(true) => reply::ok(()),
        Ok(false) => reply::error(StatusCode::NOT_FOUND, status::CLIENT_ERROR, "no such start of yours"),
        Err(e) => {
            tracing::error!(error = %e, "cannot record a command result");
            reply::server_error("the result could not be stored; send it again")
        }
    }
}

/// A session of this node's driver at another member's charger (OCPI's sessions receiver
/// interface): the newest version is kept.
pub async fn receive_session(
    State(federation): State<Arc<Federation>>,
    Extension(Member(member)): Extension<Member>,
    Path((country_code, party_id, session_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(refused) = only_own(&member, &country_code, &party_id) {
        return refused;
    }
    let session: Session = match serde_json::from_slice(&body) {
        Ok(session) => session,
        Err(e) => return reply::invalid(format!("the body is not an OCPI Session: {e}")),
    };
    if session.id != session_id || session.country_code != country_code || session.party_id != party_id {
        return reply::invalid("the Session's country_code, party_id and id must be those of the URL");
    }
    let session = MemberSession {
        cpo: member,
        id: session.id,
        authorization_reference: session.authorization_reference,
        body: String::from_utf8_lossy(&body).into_owned(),
        last_updated: session.last_updated,
    };
    let kept = federation.operations.keep_member_session(session).await;
    stored(kept.map(|_| ()), "session")
}

/// A CDR of this node's driver's charge at another member's charger (OCPI's CDRs receiver
/// interface); the same CDR sent again changes nothing.
pub async fn receive_cdr(
    State(federation): State<Arc<Federation>>,
    Extension(Member(member)): Extension<Member>,
    body: Bytes,
) -> Response {
    let cdr: Cdr = match serde_json::from_slice(&body) {
        Ok(cdr) => cdr,
        Err(e) => return reply::invalid(format!("the body is not an OCPI CDR: {e}")),
    };
    if let Some(refused) = only_own(&member, &cdr.country_code, &cdr.party_id) {
        return refused;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let cdr = MemberCdr { cpo: member, id: cdr.id, session_id: cdr.session_id, body };
    let kept = federation.operations.keep_member_cdr(cdr).await;
    stored(kept.map(|_| ()), "CDR")
}

/// Refuses an object a member sends in another party's name.
fn only_own(member: &str, country_code: &str, party_id: &str) -> Option<Response> {
    let sender = PartyRef::of_member(member);
    sender.as_ref().is_none_or(|p| p.country_code != country_code || p.party_id != party_id).then(|| {
        reply::error(
            StatusCode::FORBIDDEN,
            status::CLIENT_ERROR,
            format!("{member} may send only its own objects, not {country_code}/{party_id}'s"),
        )
    })
}

fn stored(result: Outcome<()>, what: &str) -> Response {
    match result {
        Ok(()) => reply::ok(()),
        Err(e) => {
            tracing::error!(error = %e, what, "cannot keep what a member sent");
            reply::server_error(format!("the {what} could not be stored; send it again"))
        }
    }
}
