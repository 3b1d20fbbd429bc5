//! The driver API's accounts: a driver logs in with the username and password their operator gave
//! them (or they set), and every driver request carries the login's bearer token. A driver token
//! opens the driver API only, and a staff token never opens it.

use super::ApiState;
use super::auth::{check_new_password, hash_password, password_matches, with_cookies};
use super::browser;
use super::drivers::{DriverAccount, account, driver_names};
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::login_throttle::{Attempt, Realm};
use super::trail::{Actor, ClientAddress, Login};
use crate::views::drivers::Driver;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chargemesh_operations::passwords;
use chargemesh_store::drivers::DriverStatus;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The driver a driver API request is made by, and the digest of the login it presented. The access
/// layer (`access::enforce`) authenticates it before the handler runs.
#[derive(Debug, Clone)]
pub struct DriverCaller {
    pub driver: chargemesh_store::drivers::Driver,
    login_digest: String,
}

impl FromRequestParts<Arc<ApiState>> for DriverCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &Arc<ApiState>) -> Result<Self, ApiError> {
        parts.extensions.get::<DriverCaller>().cloned().ok_or_else(|| {
            ApiError::unauthorized("send `Authorization: Bearer <token>` with the token of POST /api/v1/driver/login")
        })
    }
}

impl DriverCaller {
    /// The driver as the audit trail names them.
    pub fn actor(&self) -> Actor {
        let driver = &self.driver;
        Actor::Driver { id: driver.id, username: driver.username.clone(), operator_id: driver.operator_id }
    }

    /// Finds the active driver whose login a request presents.
    pub(super) async fn authenticate(
        state: &ApiState,
        method: &axum::http::Method,
        headers: &axum::http::HeaderMap,
    ) -> ApiResult<DriverCaller> {
        let presented = browser::presented(headers, Realm::Driver).ok_or_else(|| {
            ApiError::unauthorized("send `Authorization: Bearer <token>` with the token of POST /api/v1/driver/login")
        })?;
        browser::check_browser_request(method, headers, &presented)?;
        let digest = passwords::digest(presented.secret);
        let driver =
            state.operations.driver_of_credential(digest.clone(), Timestamp::now()).await?.ok_or_else(|| {
                ApiError::unauthorized("not logged in as a driver, or the login expired: log in again")
            })?;
        Ok(DriverCaller { driver, login_digest: digest })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverLogin {
    pub username: String,
    pub password: String,
    /// For the driver app in a browser: keep the login in an `HttpOnly` cookie (with a CSRF cookie
    /// for `X-CSRF-Token`) instead of answering the token.
    #[serde(default)]
    pub cookie: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DriverLoginResponse {
    /// Send as `Authorization: Bearer <token>` to the driver API; absent when kept in a cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// The account was made by this login (a phone number new to the node).
    pub signed_up: bool,
    pub driver: Driver,
}

/// How long a driver's login lasts: an app stays logged in for a month.
const LOGIN_DAYS: i64 = 30;

/// Exchanges a driver's username and password for a bearer token of the driver API. Wrong
/// passwords make further attempts wait, as for staff (429 `too_many_attempts` with
/// `Retry-After`): at most a minute for the account, whoever tries.
#[utoipa::path(post, path = "/api/v1/driver/login", tag = "driver", request_body = DriverLogin,
    responses((status = 200, body = DriverLoginResponse), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 429, body = super::errors::ErrorBody)))]
pub async fn login(
    State(state): State<Arc<ApiState>>,
    ClientAddress(address): ClientAddress,
    Body(request): Body<DriverLogin>,
) -> ApiResult<axum::response::Response> {
    let username = request.username.trim().to_owned();
    let now = Timestamp::now();
    let attempt = Attempt::new(Realm::Driver, &username, address);
    let _checking = attempt.one_at_a_time(&state.logins_in_flight)?;
    let login = Login { realm: Realm::Driver, username: &username, address };
    if let Err(waiting) = attempt.check(&state, now).await {
        login.waiting();
        return Err(waiting);
    }
    let driver = state.operations.driver_named(username.clone()).await?;
    let ok = password_matches(request.password, driver.as_ref().map(|d| d.password_hash.clone())).await;
    let operator = driver.as_ref().map(|d| d.operator_id);
    let Some(driver) = driver.filter(|_| ok) else {
        attempt.failed(&state, now).await?;
        login.failed(&state, operator, "wrong username or password").await;
        return Err(ApiError::unauthorized("wrong username or password"));
    };
    if driver.status != DriverStatus::Active {
        login.failed(&state, operator, "the account is blocked").await;
        return Err(ApiError::forbidden("this account is blocked: ask your operator"));
    }
    attempt.succeeded(&state).await?;
    login.succeeded(&state, driver.id, None, Some(driver.operator_id)).await;
    open_login(&state, driver, request.cookie, false, now).await
}

/// Opens a login of `driver` and answers it: its token, or with `cookie` the browser's cookies.
pub(super) async fn open_login(
    state: &ApiState,
    driver: chargemesh_store::drivers::Driver,
    cookie: bool,
    signed_up: bool,
    now: Timestamp,
) -> ApiResult<axum::response::Response> {
    let expires_at = now + SignedDuration::from_hours(24 * LOGIN_DAYS);
    let token = state.operations.open_driver_login(driver.id, expires_at, now).await?;
    let (token, cookies) = if cookie {
        (None, browser::login_cookies(Realm::Driver, &token, expires_at, now, state.settings.secure_cookies).to_vec())
    } else {
        (Some(token), Vec::new())
    };
    Ok(with_cookies(cookies, Json(DriverLoginResponse { token, expires_at, signed_up, driver: driver.into() })))
}

/// Ends the login this request was made with.
#[utoipa::path(post, path = "/api/v1/driver/logout", tag = "driver", responses((status = 204)), security(("bearer" = [])))]
pub async fn logout(State(state): State<Arc<ApiState>>, caller: DriverCaller) -> ApiResult<axum::response::Response> {
    state.operations.end_driver_login(caller.login_digest).await?;
    let forget = browser::logout_cookies(Realm::Driver, state.settings.secure_cookies);
    Ok(with_cookies(forget, StatusCode::NO_CONTENT))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DriverMe {
    #[serde(flatten)]
    pub account: DriverAccount,
    /// The member whose driver this is (its chargers are the driver's "own"; others' are roaming).
    pub member: String,
}

/// The driver's account and the tokens (app account, cards) they charge with.
#[utoipa::path(get, path = "/api/v1/driver/me", tag = "driver", responses((status = 200, body = DriverMe)),
    security(("bearer" = [])))]
pub async fn me(State(state): State<Arc<ApiState>>, caller: DriverCaller) -> ApiResult<Json<DriverMe>> {
    Ok(Json(DriverMe { account: account(&state, caller.driver).await?, member: state.federation.member() }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 12 to 128 characters, not easy to guess.
    pub new_password: String,
}

/// Changes the driver's password; every other login of theirs ends.
#[utoipa::path(put, path = "/api/v1/driver/password", tag = "driver", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Body(change): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    if !password_matches(change.current_password, Some(caller.driver.password_hash.clone())).await {
        return Err(ApiError::unauthorized("the current password is wrong"));
    }
    check_new_password(&change.new_password, &driver_names(&caller.driver))?;
    let hash = hash_password(change.new_password).await?;
    state.operations.set_driver_password(caller.driver.id, hash, Some(caller.login_digest)).await?;
    Ok(StatusCode::NO_CONTENT)
}
