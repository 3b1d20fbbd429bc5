//! A driver's rights over their personal data (China's PIPL): a copy of everything this node holds
//! about them, and closing their account. Closing leaves nothing personal: the account's name,
//! username and password go, and each of its tokens is replaced by a random anonymous id wherever
//! accounting must keep the charge — its energy, times, amounts and CDR — which stays; the audit log
//! has them erased too. The driver asks through the driver API; their operator's administrators can
//! do it for them.

use super::ApiState;
use super::audit::Erased;
use super::auth::{Caller, password_matches};
use super::driver_account::DriverCaller;
use super::errors::{ApiError, ApiResult};
use super::extract::{Body, Path};
use super::roaming::came_to_nothing;
use axum::extract::State;
use axum::{Extension, Json};
use chargemesh_store::Conn;
use chargemesh_store::drivers::{self, Driver, Login};
use chargemesh_store::federation::{self, RoamingStart};
use chargemesh_store::payments::{self, Movement, Payment};
use chargemesh_store::sessions::{self, Session, SessionFilter};
use chargemesh_store::settlements::{self, Settlement};
use chargemesh_store::tokens::{self, Token};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything this node holds about a driver.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonalData {
    #[schema(value_type = String, format = DateTime)]
    pub exported_at: Timestamp,
    pub account: Driver,
    /// The tokens they charge with (the app token, cards).
    pub tokens: Vec<Token>,
    /// Their logins that have not ended.
    pub logins: Vec<Login>,
    /// Their charges at this member's chargers, with every meter value.
    pub sessions: Vec<Session>,
    /// What those charges were paid with.
    pub payments: Vec<Payment>,
    /// Their charges at other members' chargers (which know them only by a pseudonym).
    pub roaming_charges: Vec<RoamingStart>,
    /// What they paid for those.
    pub roaming_settlements: Vec<Settlement>,
    /// Their wallets' journal.
    pub wallet_movements: Vec<Movement>,
}

/// Everything this node holds about the calling driver, as one JSON document.
#[utoipa::path(get, path = "/api/v1/driver/me/data", tag = "driver",
    responses((status = 200, body = PersonalData)), security(("bearer" = [])))]
pub async fn my_data(State(state): State<Arc<ApiState>>, caller: DriverCaller) -> ApiResult<Json<PersonalData>> {
    Ok(Json(personal_data(&state, caller.driver).await?))
}

/// Everything this node holds about one of the operator's drivers (for a driver who asks their
/// operator).
#[utoipa::path(get, path = "/api/v1/drivers/{id}/data", tag = "drivers", params(("id" = i64, Path)),
    responses((status = 200, body = PersonalData)), security(("bearer" = [])))]
pub async fn driver_data(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonalData>> {
    let driver = super::drivers::visible(&state, &caller, &id).await?;
    Ok(Json(personal_data(&state, driver).await?))
}

async fn personal_data(state: &ApiState, driver: Driver) -> ApiResult<PersonalData> {
    let id = driver.id;
    let data = state
        .operations
        .store()
        .read(move |conn| {
            Box::pin(async move {
                let tokens = tokens::tokens_of_driver(&mut *conn, id).await?;
                let filter = SessionFilter { driver_id: Some(id), limit: i64::MAX, ..SessionFilter::default() };
                let sessions = sessions::list_sessions(&mut *conn, &filter).await?;
                let mut payments = Vec::new();
                for session in &sessions {
                    payments.extend(payments::payment_of_session(&mut *conn, session.id).await?);
                }
                let roaming_charges = federation::starts_of_driver(&mut *conn, id, None, i64::MAX).await?;
                let mut roaming_settlements = Vec::new();
                for start in &roaming_charges {
                    roaming_settlements.extend(settlements::of_start(&mut *conn, &start.id).await?);
                }
                let mut wallet_movements = Vec::new();
                for token in &tokens {
                    wallet_movements.extend(payments::movements_of(&mut *conn, &wallet(&token.id_token)).await?);
                }
                let logins = drivers::logins_of(conn, id).await?;
                Ok((tokens, logins, sessions, payments, roaming_charges, roaming_settlements, wallet_movements))
            })
        })
        .await?;
    let (tokens, logins, sessions, payments, roaming_charges, roaming_settlements, wallet_movements) = data;
    Ok(PersonalData {
        exported_at: Timestamp::now(),
        account: driver,
        tokens,
        logins,
        sessions,
        payments,
        roaming_charges,
        roaming_settlements,
        wallet_movements,
    })
}

fn wallet(id_token: &str) -> String {
    chargemesh_operations::payments::wallet_account(id_token)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// The account's password, to confirm.
    pub password: String,
}

/// What closing an account did: the anonymous ids its tokens were renamed to (its charges stay,
/// under them, without anything personal).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Closed {
    pub id: i64,
    pub anonymous_tokens: Vec<String>,
}

/// Closes the calling driver's account for good, leaving nothing personal (see the README). Refused
/// with 409 `conflict` while a charge runs or is not settled yet, money is owed, or a wallet holds
/// money (withdraw it first: it is the driver's).
#[utoipa::path(post, path = "/api/v1/driver/me/close", tag = "driver", request_body = CloseRequest,
    responses((status = 200, body = Closed), (status = 401, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn close_mine(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Body(request): Body<CloseRequest>,
) -> ApiResult<(Extension<Erased>, Json<Closed>)> {
    if !password_matches(request.password, Some(caller.driver.password_hash.clone())).await {
        return Err(ApiError::unauthorized("the password is wrong"));
    }
    close(&state, caller.driver).await
}

/// Closes one of the operator's drivers' accounts at the driver's request, as
/// `POST /driver/me/close` does (the operator's administrators).
#[utoipa::path(post, path = "/api/v1/drivers/{id}/close", tag = "drivers", params(("id" = i64, Path)),
    responses((status = 200, body = Closed), (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn close_driver(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(Extension<Erased>, Json<Closed>)> {
    let driver = super::drivers::visible(&state, &caller, &id).await?;
    close(&state, driver).await
}

/// Closes the account; answers what was erased, for the close's own audit entry.
async fn close(state: &ApiState, driver: Driver) -> ApiResult<(Extension<Erased>, Json<Closed>)> {
    if driver.status == drivers::CLOSED {
        return Err(ApiError::conflict("the account is closed already"));
    }
    let id = driver.id;
    let tokens = state.operations.store().read(move |conn| Box::pin(tokens::tokens_of_driver(conn, id))).await?;
    // Random: nothing derived from the token, so that nobody can tell whose it was.
    let renamed: Vec<(String, String)> = tokens
        .iter()
        .map(|t| (t.id_token.clone(), format!("ANON-{}", hex::encode_upper(rand::random::<[u8; 10]>()))))
        .collect();
    let anonymous_tokens = renamed.iter().map(|(_, new)| new.clone()).collect();
    let renamed_again = renamed.clone();
    let erased_names: Vec<(String, String)> = std::iter::once((driver.username.clone(), format!("closed-{id}")))
        .chain(driver.name.clone().map(|name| (name, "[erased]".to_owned())))
        .collect();
    state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                if let Some(obstacle) = obstacle(&mut *tx, id, &tokens).await? {
                    return Ok(Err(ApiError::conflict(obstacle)));
                }
                drivers::close_account(tx, id, &renamed).await?;
                Ok(Ok(()))
            })
        })
        .await??;
    tracing::info!(driver = id, "a driver's account was closed at their request");
    let mut erased = erased_names;
    erased.extend(renamed_again);
    Ok((Extension(Erased(erased)), Json(Closed { id, anonymous_tokens })))
}

/// Why the account cannot be closed now, if it cannot.
async fn obstacle(conn: &mut Conn, id: i64, tokens: &[Token]) -> chargemesh_store::Result<Option<String>> {
    let running = SessionFilter {
        driver_id: Some(id),
        state: Some(sessions::SessionState::Active),
        limit: 1,
        ..SessionFilter::default()
    };
    if !sessions::list_sessions(&mut *conn, &running).await?.is_empty() {
        return Ok(Some("a charge is running: stop it first".into()));
    }
    let filter = SessionFilter { driver_id: Some(id), limit: i64::MAX, ..SessionFilter::default() };
    for session in sessions::list_sessions(&mut *conn, &filter).await? {
        if payments::payment_of_session(&mut *conn, session.id)
            .await?
            .is_some_and(|p| p.state == payments::PaymentState::Owing)
        {
            return Ok(Some(format!("charge {} is not paid yet: pay what is owed first", session.id)));
        }
    }
    for start in federation::starts_of_driver(&mut *conn, id, None, i64::MAX).await? {
        let settlement = settlements::of_start(&mut *conn, &start.id).await?;
        let settled = settlement.as_ref().is_some_and(|s| {
            [settlements::CHARGED, settlements::BILLED_ELSEWHERE, settlements::RESOLVED].contains(&s.state.as_str())
        });
        if !settled && !came_to_nothing(&start) {
            return Ok(Some(format!(
                "the charge at {}'s charger is not settled yet: close the account once it is",
                start.cpo
            )));
        }
    }
    for token in tokens {
        let movements = payments::movements_of(&mut *conn, &wallet(&token.id_token)).await?;
        let mut currencies: Vec<String> = movements.into_iter().map(|m| m.currency).collect();
        currencies.sort();
        currencies.dedup();
        for currency in currencies {
            let balance = payments::balance(&mut *conn, &wallet(&token.id_token), &currency).await?;
            if balance != 0 {
                return Ok(Some(format!(
                    "the wallet holds {balance} ({currency}, minor units): withdraw it first, it is yours"
                )));
            }
        }
    }
    Ok(None)
}
