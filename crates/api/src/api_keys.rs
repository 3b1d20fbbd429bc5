//! API keys for scripts: named, with a role and operator of their own — never more than their
//! creator's — optionally expiring, listed and revocable. The secret is shown once and kept only as
//! a digest.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::extract::Path;
use super::trail::Before;
use crate::views;
use crate::views::staff::ApiKey;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_core::access::{Role, scope_within};
use chargemesh_store::staff::CredentialKind;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for, e.g. `billing export`.
    pub name: String,
    /// The role it acts with; by default the creator's. Never more than the creator's: a readonly
    /// account cannot mint a key that writes.
    pub role: Option<String>,
    /// The one operator it reaches (within the creator's); by default what the creator reaches.
    pub operator_id: Option<i64>,
    /// When it stops working; by default never.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyCreated {
    /// Shown once; send as `X-Api-Key: <key>`.
    pub key: String,
    #[serde(flatten)]
    pub api_key: ApiKey,
}

/// Creates an API key acting for the calling account, with at most its rights (log in to create
/// one: a key cannot create keys).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "auth", request_body = NewApiKey,
    responses((status = 201, body = ApiKeyCreated), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody), (status = 404, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKeyCreated>)> {
    if caller.grant.kind != CredentialKind::Login {
        return Err(ApiError::forbidden("log in with a password to create API keys; a key cannot create keys"));
    }
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    let role = match &request.role {
        Some(text) => Role::parse(text).ok_or_else(|| {
            ApiError::invalid(format!("role must be one of {}", Role::ALL.map(Role::as_str).join(", ")))
        })?,
        None => caller.role(),
    };
    if !role.within(caller.role()) {
        return Err(ApiError::forbidden(format!("a {} cannot create a key acting as {role}", caller.role())));
    }
    if role.is_member_role() && request.operator_id.is_some() {
        return Err(ApiError::invalid("the member's roles work for no single operator: omit operator_id"));
    }
    if !scope_within(request.operator_id.or(caller.scope()), caller.scope()) {
        return Err(ApiError::forbidden("a key can only reach the operators its creator reaches"));
    }
    let now = Timestamp::now();
    if request.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::invalid("expires_at must be in the future"));
    }
    let (key, api_key) = state
        .operations
        .create_api_key(caller.staff.id, name, role, request.operator_id, request.expires_at, now)
        .await?;
    Ok((StatusCode::CREATED, Json(ApiKeyCreated { key, api_key: api_key.into() })))
}

/// The API keys of the calling account; an administrator sees those of every account it
/// administers too.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "auth",
    responses((status = 200, body = Vec<ApiKey>), (status = 401, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<ApiKey>>> {
    let keys = state.operations.api_keys_seen_by(caller.staff_actor()).await?;
    Ok(Json(views::all(keys)))
}

/// Revokes an API key at once: the caller's own, or one of an account it administers.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = super::errors::ErrorBody), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let key_id: i64 = id.parse().map_err(|_| ApiError::not_found(format!("API key {id:?}")))?;
    let key = state.operations.revoke_api_key_as(key_id, caller.staff_actor()).await?;
    Ok((Before::of(&key), StatusCode::NO_CONTENT))
}
