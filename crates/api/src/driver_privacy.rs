//! A driver's rights over their personal data (China's PIPL): a copy of everything this node holds
//! about them, and closing their account. Closing leaves nothing personal: the account's name,
//! username and password go, and each of its tokens is replaced by a random anonymous id wherever
//! accounting must keep the charge — its energy, times, amounts and CDR — which stays; the audit log
//! has them erased too. The driver asks through the driver API; their operator's administrators can
//! do it for them.

use super::ApiState;
use super::auth::{Caller, password_matches};
use super::driver_account::DriverCaller;
use super::errors::{ApiError, ApiResult};
use super::extract::{Body, Path};
use super::trail::Erased;
use crate::views;
use crate::views::drivers::{Driver, Login};
use crate::views::favourites::Favourite;
use crate::views::federation::RoamingStart;
use crate::views::payments::{Movement, Payment};
use crate::views::sessions::Session;
use crate::views::settlements::Settlement;
use crate::views::tokens::Token;
use axum::extract::State;
use axum::{Extension, Json};
use chargemesh_core::phone::PhoneNumber;
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
    /// The chargers they marked in the app.
    pub favourites: Vec<Favourite>,
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

async fn personal_data(state: &ApiState, driver: chargemesh_store::drivers::Driver) -> ApiResult<PersonalData> {
    let records = state.operations.driver_records(driver.id).await?;
    Ok(PersonalData {
        exported_at: Timestamp::now(),
        account: driver.into(),
        tokens: views::all(records.tokens),
        logins: views::all(records.logins),
        sessions: views::all(records.sessions),
        payments: views::all(records.payments),
        roaming_charges: views::all(records.roaming_charges),
        roaming_settlements: views::all(records.roaming_settlements),
        wallet_movements: views::all(records.wallet_movements),
        favourites: views::all(records.favourites),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// The account's password, to confirm.
    #[serde(default)]
    pub password: Option<String>,
    /// Or, for an account named by its phone number, the code sent to it
    /// (`POST /api/v1/driver/phone-code`).
    #[serde(default)]
    pub code: Option<String>,
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
    let confirmed = match (request.password, request.code) {
        (Some(password), None) => password_matches(password, Some(caller.driver.password_hash.clone())).await,
        (None, Some(code)) => match PhoneNumber::parse(&caller.driver.username) {
            Ok(phone) => state.operations.confirm_phone_code(&phone, &code).await?,
            Err(_) => {
                return Err(ApiError::invalid("this account is not named by a phone number: confirm with `password`"));
            }
        },
        _ => return Err(ApiError::invalid("confirm with either `password` or `code` (the one sent to your phone)")),
    };
    if !confirmed {
        return Err(ApiError::unauthorized("the password or code is wrong"));
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
async fn close(
    state: &ApiState,
    driver: chargemesh_store::drivers::Driver,
) -> ApiResult<(Extension<Erased>, Json<Closed>)> {
    let renamed = state.operations.close_driver_account(&driver).await?;
    let id = driver.id;
    let anonymous_tokens = renamed.iter().map(|(_, new)| new.clone()).collect();
    let mut erased: Vec<(String, String)> = std::iter::once((driver.username, format!("closed-{id}")))
        .chain(driver.name.map(|name| (name, "[erased]".to_owned())))
        .collect();
    erased.extend(renamed);
    Ok((Extension(Erased(erased)), Json(Closed { id, anonymous_tokens })))
}
