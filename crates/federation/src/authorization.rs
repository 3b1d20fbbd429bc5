//! Real-time authorization of app tokens (OCPI tokens module, `POST …/tokens/{uid}/authorize`).
//!
//! As CPO, before a charger's Authorize or StartTransaction for another member's driver is
//! answered, this node asks that member whether its driver may charge now. The token it asks about
//! is the member's pseudonym, which the member itself sent with its START_SESSION or RESERVE_NOW:
//! asking reveals nothing the member does not know, and nobody else is asked. (A card read at a
//! foreign charger would expose its UID; cards are not authorized across members.)
//!
//! As eMSP, this node answers for the pseudonyms it sent that member: `ALLOWED` while the driver's
//! token and account are active, `BLOCKED` or `EXPIRED` otherwise, 2004 for a pseudonym it never
//! sent there.

use crate::Federation;
use crate::caller::Member;
use crate::client::SendError;
use crate::reply;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chargemesh_core::StationId;
use chargemesh_operations::TokenAuthority;
use chargemesh_operations::roaming_emsp::Allowance;
use chargemesh_protocol::ocpi::tokens::{AllowedType, AuthorizationInfo, LocationReferences};
use chargemesh_protocol::ocpi::{VERSION, status};
use chargemesh_store::tokens::Token;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

/// The eMSP side: member `member` asks whether the driver behind pseudonym `uid` may charge now.
pub async fn authorize(
    State(federation): State<Arc<Federation>>,
    Extension(Member(member)): Extension<Member>,
    Path(uid): Path<String>,
) -> Response {
    let Some(ledger) = federation.ledger.clone() else {
        return reply::error(StatusCode::NOT_FOUND, status::UNKNOWN_TOKEN, "this node has no members' tokens");
    };
    let found = federation.operations.authorize_driver_for_member(ledger, &member, uid).await;
    let authorization = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return reply::error(StatusCode::NOT_FOUND, status::UNKNOWN_TOKEN, "no token of this member's drivers");
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot look up a token to authorize");
            return reply::server_error("the token cannot be looked up now; try again");
        }
    };
    let allowed = match authorization.allowance {
        Allowance::Allowed => AllowedType::Allowed,
        Allowance::Blocked => AllowedType::Blocked,
        Allowance::Expired => AllowedType::Expired,
    };
    let reference = authorization.reference;
    match federation.driver_token(&member, &authorization.id_token) {
        Ok(token) => {
            reply::ok(AuthorizationInfo { allowed, token, location: None, authorization_reference: Some(reference) })
        }
        Err(_) => reply::server_error("this node takes part in no consortium"),
    }
}

/// The CPO side, as operations asks it: federation, held weakly (federation holds operations).
pub struct RealTimeAuthority(pub Weak<Federation>);

impl TokenAuthority for RealTimeAuthority {
    fn allows<'a>(
        &'a self,
        token: &'a Token,
        station: &'a StationId,
    ) -> Pin<Box<dyn Future<Output = Option<bool>> + Send + 'a>> {
        Box::pin(async move { self.0.upgrade()?.authorized_by_member(token, station).await })
    }
}

impl Federation {
    /// Asks the member whose pseudonym `token` is whether its driver may charge at `station`.
    async fn authorized_by_member(&self, token: &Token, station: &StationId) -> Option<bool> {
        let (peers, member) = (self.peers.as_ref()?, token.emsp_party.as_deref()?);
        let charger = self.operations.charger_for_member_driver(station).await.ok()??;
        let location = LocationReferences {
            location_id: charger.site_id.map(|site| site.to_string()).unwrap_or_default(),
            evse_uids: vec![station.as_str().to_owned()],
        };
        let body = serde_json::to_string(&location).expect("location references serialize");
        let path = format!("/{VERSION}/emsp/tokens/{}/authorize?type=APP_USER", token.id_token);
        match peers.send(member, "POST", &path, Some(&body)).await {
            Ok(data) => {
                let info: AuthorizationInfo = serde_json::from_value(data?).ok()?;
                tracing::info!(member, token = %token.id_token, allowed = ?info.allowed, "real-time authorization");
                Some(info.allowed == AllowedType::Allowed)
            }
            Err(SendError::Refused { status_code: Some(status::UNKNOWN_TOKEN), .. }) => Some(false),
            Err(error) => {
                tracing::warn!(member, error = %error, "real-time authorization failed");
                None
            }
        }
    }
}
