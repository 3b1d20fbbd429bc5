//! Who is calling: staff accounts with passwords, login tokens and API keys, their roles and
//! operator scope; logging in (throttled) and out; changing one's own password.

use super::ApiState;
use super::browser;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::login_throttle::{Attempt, Realm};
use super::trail::{self, ClientAddress};
use crate::views::staff::StaffMember;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chargemesh_core::access::{Role, Scope};
use chargemesh_operations::passwords;
use chargemesh_store::staff::{CredentialKind, Grant, StaffStatus};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The authenticated staff member of a request and what its credential grants. The access layer
/// (`access::enforce`) authenticates it before the handler runs.
#[derive(Debug, Clone)]
pub struct Caller {
    pub staff: chargemesh_store::staff::StaffMember,
    pub grant: Grant,
}

impl Caller {
    /// Finds the account and grant of the credential a request presents.
    pub(super) async fn authenticate(state: &ApiState, method: &Method, headers: &HeaderMap) -> ApiResult<Caller> {
        let presented = browser::presented(headers, Realm::Staff)
            .ok_or_else(|| ApiError::unauthorized("send `Authorization: Bearer <token>` or `X-Api-Key: <key>`"))?;
        browser::check_browser_request(method, headers, &presented)?;
        let digest = passwords::digest(presented.secret);
        let found = state.operations.staff_of_credential(digest, Timestamp::now()).await?.ok_or_else(|| {
            ApiError::unauthorized(
                "the token or API key is unknown, revoked or expired, or its account is disabled; log in again",
            )
        })?;
        Ok(Caller { staff: found.0, grant: found.1 })
    }

    /// The caller as the audit trail names it.
    pub fn actor(&self) -> trail::Actor {
        let credential = match self.grant.kind {
            CredentialKind::Login => "login".into(),
            CredentialKind::ApiKey => format!("api_key {}", self.grant.credential_id),
        };
        trail::Actor::Staff {
            id: self.staff.id,
            username: self.staff.username.clone(),
            role: self.role(),
            operator_id: self.scope(),
            credential,
        }
    }

    /// The role the request acts with: the account's, or its API key's (never more).
    pub fn role(&self) -> Role {
        self.grant.role
    }

    /// The operator whose data the caller sees; `None` for the member's roles and staff of every
    /// operator (all data).
    pub fn scope(&self) -> Scope {
        self.grant.operator_id
    }

    /// The caller as operations knows one acting on staff records.
    pub fn staff_actor(&self) -> chargemesh_operations::api_keys::StaffActor {
        chargemesh_operations::api_keys::StaffActor { staff_id: self.staff.id, role: self.role(), scope: self.scope() }
    }

    /// Whether data owned by `operator_id` is visible to the caller.
    pub fn sees(&self, operator_id: Option<i64>) -> bool {
        Viewer::from(self).sees_operator(operator_id)
    }

    /// The operator new data is created for: the caller's own, or (callers of every operator) the
    /// one asked for.
    pub fn operator_for_new(&self, requested: Option<i64>) -> ApiResult<i64> {
        Ok(chargemesh_operations::operator_for_new(self.scope(), requested)?)
    }
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &Arc<ApiState>) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::unauthorized("send `Authorization: Bearer <token>` or `X-Api-Key: <key>` of a staff account")
        })
    }
}

/// Whose data a request may see: staff see their operator's (callers of every operator: all); a
/// driver sees only their own charges.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    Staff { scope: Option<i64> },
    Driver { id: i64 },
}

impl Viewer {
    /// Whether staff data owned by `operator_id` is visible; never to a driver.
    pub fn sees_operator(&self, operator_id: Option<i64>) -> bool {
        match self {
            Viewer::Staff { scope } => scope.is_none() || *scope == operator_id,
            Viewer::Driver { .. } => false,
        }
    }
}

impl From<&Caller> for Viewer {
    fn from(caller: &Caller) -> Self {
        Viewer::Staff { scope: caller.scope() }
    }
}

/// The staff login or API key a request presents (bearer token, key or the console's cookie).
pub(super) fn presented_secret(headers: &HeaderMap) -> Option<&str> {
    browser::presented(headers, Realm::Staff).map(|presented| presented.secret)
}

/// Whether `password` is the one `stored` is the hash of. An unknown account (`None`) costs a full
/// verification too, so timing does not reveal which names exist.
pub(super) async fn password_matches(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || passwords::matches(&password, stored.as_deref())).await.unwrap_or(false)
}

/// A new password's rules, for staff and drivers alike: long enough, not too long, not guessable
/// (`user_inputs`: the account's own names, which it must not be made of).
pub(super) fn check_new_password(password: &str, user_inputs: &[&str]) -> ApiResult<()> {
    match passwords::weakness(password, user_inputs) {
        Some(problem) => Err(ApiError::invalid(problem)),
        None => Ok(()),
    }
}

/// The hash of a password being reset, if one is given, once it passes the rules.
pub(super) async fn reset_password_hash(password: Option<String>, user_inputs: &[&str]) -> ApiResult<Option<String>> {
    match password {
        Some(password) => {
            check_new_password(&password, user_inputs)?;
            Ok(Some(hash_password(password).await?))
        }
        None => Ok(None),
    }
}

/// The hash of a new password, computed off the async threads.
pub(super) async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|_| ApiError::invalid("could not hash the password"))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// For a browser: keep the login in an `HttpOnly` cookie (with a CSRF cookie for
    /// `X-CSRF-Token`) instead of answering the token.
    #[serde(default)]
    pub cookie: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; absent when the login is kept in a cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub staff: StaffMember,
}

/// Exchanges a username and password for a bearer token. Wrong passwords make further attempts
/// wait (429 `too_many_attempts` with `Retry-After`): a few are free, then the wait doubles, up to
/// a minute for the account and a quarter of an hour from one address.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 429, body = super::errors::ErrorBody)))]
pub async fn login(
    State(state): State<Arc<ApiState>>,
    ClientAddress(address): ClientAddress,
    Body(request): Body<LoginRequest>,
) -> ApiResult<Response> {
    let now = Timestamp::now();
    let attempt = Attempt::new(Realm::Staff, &request.username, address);
    let _checking = attempt.one_at_a_time(&state.logins_in_flight)?;
    let login = trail::Login { realm: Realm::Staff, username: &request.username, address };
    if let Err(waiting) = attempt.check(&state, now).await {
        login.waiting();
        return Err(waiting);
    }
    let member = state.operations.staff_account_named(request.username.clone()).await?;
    let ok = password_matches(request.password, member.as_ref().map(|m| m.password_hash.clone())).await;
    let operator = member.as_ref().and_then(|m| m.operator_id);
    let Some(member) = member.filter(|_| ok) else {
        attempt.failed(&state, now).await?;
        login.failed(&state, operator, "wrong username or password").await;
        return Err(ApiError::unauthorized("wrong username or password"));
    };
    if member.status != StaffStatus::Active {
        login.failed(&state, operator, "the account is disabled").await;
        return Err(ApiError::forbidden("this account is disabled: ask an administrator"));
    }
    attempt.succeeded(&state).await?;
    let expires_at = now + SignedDuration::from_hours(i64::from(state.settings.login_ttl_hours));
    let token = state.operations.open_staff_login(member.id, expires_at, now).await?;
    login.succeeded(&state, member.id, Some(member.role.as_str()), member.operator_id).await;
    if request.cookie {
        let cookies = browser::login_cookies(Realm::Staff, &token, expires_at, now, state.settings.secure_cookies);
        let answer = LoginResponse { token: None, expires_at, staff: member.into() };
        return Ok(with_cookies(cookies, Json(answer)));
    }
    Ok(Json(LoginResponse { token: Some(token), expires_at, staff: member.into() }).into_response())
}

/// An answer that also sets (or clears) a browser's login cookies.
pub(super) fn with_cookies(cookies: impl IntoIterator<Item = HeaderValue>, answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Revokes the token or key this request was made with (and a browser forgets its cookies).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn logout(State(state): State<Arc<ApiState>>, _caller: Caller, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(secret) = presented_secret(&headers) {
        state.operations.revoke_staff_credential(passwords::digest(secret)).await?;
    }
    let forget = browser::logout_cookies(Realm::Staff, state.settings.secure_cookies);
    Ok(with_cookies(forget, StatusCode::NO_CONTENT))
}

/// The calling account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = StaffMember), (status = 401, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn me(caller: Caller) -> Json<StaffMember> {
    Json(caller.staff.into())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 12 to 128 characters, not easy to guess.
    pub new_password: String,
}

/// Changes the calling account's password; its other logins end (this one stays).
#[utoipa::path(put, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = super::errors::ErrorBody), (status = 403, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    headers: HeaderMap,
    Body(change): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    if caller.grant.kind != CredentialKind::Login {
        return Err(ApiError::forbidden("log in with the password to change it; an API key cannot"));
    }
    if !password_matches(change.current_password, Some(caller.staff.password_hash.clone())).await {
        return Err(ApiError::unauthorized("the current password is wrong"));
    }
    check_new_password(&change.new_password, &[&caller.staff.username])?;
    let hash = hash_password(change.new_password).await?;
    let keep = presented_secret(&headers).map(passwords::digest);
    state.operations.set_staff_password(caller.staff.id, hash, keep).await?;
    Ok(StatusCode::NO_CONTENT)
}
