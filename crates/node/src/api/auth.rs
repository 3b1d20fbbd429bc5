//! Who is calling: staff accounts with passwords, login tokens and API keys, roles and operator scope.

use super::ApiState;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use crate::passwords;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use chargemesh_store::staff::{self, StaffMember};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const ROLES: [&str; 3] = ["admin", "operator", "readonly"];

/// The authenticated staff member of a request.
pub struct Caller(pub StaffMember);

impl Caller {
    /// The operator whose data the caller sees; `None` for the node's own administrators (all data).
    pub fn scope(&self) -> Option<i64> {
        self.0.operator_id
    }

    /// Allows writes to the caller's operator's data.
    pub fn require_write(&self) -> ApiResult<()> {
        match self.0.role.as_str() {
            "admin" | "operator" => Ok(()),
            _ => Err(ApiError::forbidden("this account is read-only")),
        }
    }

    pub fn require_admin(&self) -> ApiResult<()> {
        if self.0.role == "admin" { Ok(()) } else { Err(ApiError::forbidden("this needs an admin account")) }
    }

    /// Whether data owned by `operator_id` is visible to the caller.
    pub fn sees(&self, operator_id: Option<i64>) -> bool {
        Viewer::from(self).sees_operator(operator_id)
    }

    /// The operator new data is created for: the caller's own, or (node admins) the one asked for.
    pub fn operator_for_new(&self, requested: Option<i64>) -> ApiResult<i64> {
        match (self.scope(), requested) {
            (Some(own), None) => Ok(own),
            (Some(own), Some(asked)) if own == asked => Ok(own),
            (Some(_), Some(_)) => Err(ApiError::forbidden("you can only create data for your own operator")),
            (None, Some(asked)) => Ok(asked),
            (None, None) => Err(ApiError::invalid("operator_id is required for node administrators")),
        }
    }
}

/// Whose data a request may see: staff see their operator's (node administrators: all); a driver
/// sees only their own charges.
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

pub(super) fn presented_secret(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim)
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, ApiError> {
        let secret = presented_secret(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("send `Authorization: Bearer <token>` or `X-Api-Key: <key>`"))?;
        let digest = passwords::digest(secret);
        let member = state
            .operations
            .store()
            .read(move |conn| {
                Box::pin(async move { staff::staff_by_credential(conn, &digest, Timestamp::now()).await })
            })
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("the token or API key is unknown, revoked or expired; log in again")
            })?;
        Ok(Caller(member))
    }
}

/// Whether `password` is the one `stored` is the hash of. An unknown account (`None`) costs a full
/// verification too, so timing does not reveal which names exist.
pub(super) async fn password_matches(password: String, stored: Option<String>) -> bool {
    static UNKNOWN_USER_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let known = stored.is_some();
    let hash = stored
        .unwrap_or_else(|| UNKNOWN_USER_HASH.get_or_init(|| passwords::hash(&passwords::random_secret(""))).clone());
    let ok = tokio::task::spawn_blocking(move || passwords::verify(&password, &hash)).await.unwrap_or(false);
    ok && known
}

/// A new password's rules, for staff and drivers alike.
pub(super) fn check_new_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < 12 {
        return Err(ApiError::invalid("password must be at least 12 characters"));
    }
    Ok(())
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
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub staff: StaffMember,
}

/// Exchanges a username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::errors::ErrorBody)))]
pub async fn login(
    State(state): State<Arc<ApiState>>,
    Body(request): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let username = request.username;
    let member = state
        .operations
        .store()
        .read(move |conn| Box::pin(async move { staff::staff_by_username(conn, &username).await }))
        .await?;
    let ok = password_matches(request.password, member.as_ref().map(|m| m.password_hash.clone())).await;
    let member = member.filter(|_| ok).ok_or_else(|| ApiError::unauthorized("wrong username or password"))?;
    let token = passwords::random_secret("cmt_");
    let now = Timestamp::now();
    let expires_at = now + SignedDuration::from_hours(i64::from(state.login_ttl_hours));
    let (digest, member_id) = (passwords::digest(&token), member.id);
    state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                staff::add_credential(tx, &digest, member_id, "login", None, Some(expires_at), now).await
            })
        })
        .await?;
    Ok(Json(LoginResponse { token, expires_at, staff: member }))
}

/// Revokes the token or key this request was made with.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)), security(("bearer" = [])))]
pub async fn logout(State(state): State<Arc<ApiState>>, _caller: Caller, headers: HeaderMap) -> ApiResult<StatusCode> {
    if let Some(secret) = presented_secret(&headers) {
        let digest = passwords::digest(secret);
        state
            .operations
            .store()
            .write(move |tx| Box::pin(async move { staff::revoke_credential(tx, &digest).await }))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The calling account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = StaffMember)), security(("bearer" = [])))]
pub async fn me(caller: Caller) -> Json<StaffMember> {
    Json(caller.0)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewApiKey {
    pub name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyCreated {
    /// Shown once; send as `X-Api-Key: <key>`.
    pub key: String,
    pub name: String,
}

/// Creates a non-expiring API key acting as the calling account (for scripts).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "auth", request_body = NewApiKey,
    responses((status = 201, body = ApiKeyCreated)), security(("bearer" = [])))]
pub async fn create_api_key(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKeyCreated>)> {
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("name must not be empty"));
    }
    let key = passwords::random_secret("cmk_");
    let (digest, staff_id, name) = (passwords::digest(&key), caller.0.id, request.name.clone());
    state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                staff::add_credential(tx, &digest, staff_id, "api_key", Some(&name), None, Timestamp::now()).await
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(ApiKeyCreated { key, name: request.name })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewStaff {
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    /// `admin`, `operator` or `readonly`.
    pub role: String,
    /// Required when a node administrator creates an operator's account; omitted, the account is a node
    /// administrator.
    pub operator_id: Option<i64>,
}

/// Creates a staff account (admins only; an operator's admin creates accounts of that operator).
#[utoipa::path(post, path = "/api/v1/staff", tag = "auth", request_body = NewStaff,
    responses((status = 201, body = StaffMember), (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn create_staff(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewStaff>,
) -> ApiResult<(StatusCode, Json<StaffMember>)> {
    caller.require_admin()?;
    if !ROLES.contains(&request.role.as_str()) {
        return Err(ApiError::invalid(format!("role must be one of {}", ROLES.join(", "))));
    }
    check_new_password(&request.password)?;
    if request.username.trim().is_empty() || request.username.len() > 64 {
        return Err(ApiError::invalid("username must be 1 to 64 characters"));
    }
    let operator_id = match caller.scope() {
        Some(_) => Some(caller.operator_for_new(request.operator_id)?),
        None => request.operator_id,
    };
    let hash = hash_password(request.password).await?;
    let (username, role) = (request.username.clone(), request.role);
    let created = state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(
                async move { staff::create_staff(tx, &username, &hash, &role, operator_id, Timestamp::now()).await },
            )
        })
        .await;
    let member = match created {
        Err(e) if e.is_unique_violation() => {
            return Err(ApiError::conflict(format!("username {:?} is taken", request.username)));
        }
        Err(e) if e.is_foreign_key_violation() => {
            return Err(ApiError::not_found(format!("operator {operator_id:?}")));
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(member)))
}

/// Staff accounts the caller may see.
#[utoipa::path(get, path = "/api/v1/staff", tag = "auth", responses((status = 200, body = Vec<StaffMember>)), security(("bearer" = [])))]
pub async fn list_staff(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<StaffMember>>> {
    caller.require_admin()?;
    let scope = caller.scope();
    Ok(Json(state.operations.store().read(move |conn| Box::pin(staff::list_staff(conn, scope))).await?))
}
