//! Staff accounts as their administrators manage them: created, listed, disabled, given a new
//! password, deleted. An administrator manages the accounts it sees (its operator's) and never one
//! with more rights than its own; the last active member administrator stays.

use super::ApiState;
use super::auth::{Caller, check_new_password, hash_password};
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::extract::Path;
use super::trail::Before;
use crate::views;
use crate::views::staff::StaffMember;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_core::access::Role;
use chargemesh_store::staff::StaffStatus;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub username: String,
    /// 12 to 128 characters, not easy to guess.
    pub password: String,
    /// The member's `member_admin`, `member_finance`, `member_readonly`, or an operator's `admin`,
    /// `operator`, `readonly`: never more than the creator's own.
    pub role: String,
    /// The operator an operator role works for (the creator's own by default). Omitted by an
    /// account of every operator, the new account works for every operator too; member roles have
    /// none.
    pub operator_id: Option<i64>,
}

fn parse_role(text: &str) -> ApiResult<Role> {
    Role::parse(text)
        .ok_or_else(|| ApiError::invalid(format!("role must be one of {}", Role::ALL.map(Role::as_str).join(", "))))
}

/// Creates a staff account (administrators: an operator's admin creates accounts of that operator).
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = NewStaff,
    responses((status = 201, body = StaffMember), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewStaff>,
) -> ApiResult<(StatusCode, Json<StaffMember>)> {
    let role = parse_role(&request.role)?;
    if !role.within(caller.role()) {
        return Err(ApiError::forbidden(format!("a {} cannot create an account with role {role}", caller.role())));
    }
    let operator_id = if role.is_member_role() {
        if request.operator_id.is_some() {
            return Err(ApiError::invalid("the member's roles work for no single operator: omit operator_id"));
        }
        None
    } else {
        match (caller.scope(), request.operator_id) {
            (None, asked) => asked,
            (Some(_), asked) => Some(caller.operator_for_new(asked)?),
        }
    };
    let username = request.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 {
        return Err(ApiError::invalid("username must be 1 to 64 characters"));
    }
    check_new_password(&request.password, &[&username])?;
    let hash = hash_password(request.password).await?;
    let member = state.operations.create_staff(username, hash, role, operator_id).await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// The staff accounts the caller administers: its operator's (every account, for the member's).
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff",
    responses((status = 200, body = Vec<StaffMember>), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<StaffMember>>> {
    Ok(Json(views::all(state.operations.list_staff(caller.scope()).await?)))
}

/// One account the caller administers.
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = StaffMember), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StaffMember>> {
    Ok(Json(visible(&state, &caller, &id).await?.into()))
}

/// The account `id` if the caller sees it.
async fn visible(state: &ApiState, caller: &Caller, id: &str) -> ApiResult<chargemesh_store::staff::StaffMember> {
    let not_found = || ApiError::not_found(format!("staff account {id:?}"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let member = state.operations.staff_account(id).await?;
    member.filter(|m| caller.sees(m.operator_id)).ok_or_else(not_found)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffChange {
    /// `active` or `disabled` (its logins end; its API keys are refused while disabled).
    pub status: Option<String>,
    /// A new password (a reset): the account's logins end.
    pub password: Option<String>,
}

/// Disables or enables an account, or resets its password.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = i64, Path)), request_body = StaffChange,
    responses((status = 200, body = StaffMember), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(change): Body<StaffChange>,
) -> ApiResult<(Extension<Before>, Json<StaffMember>)> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found(format!("staff account {id:?}")))?;
    let status = match change.status.as_deref().map(StaffStatus::parse) {
        None => None,
        Some(Some(status)) => Some(status),
        Some(None) => return Err(ApiError::invalid("status must be active or disabled")),
    };
    let (before, after) = state.operations.update_staff_as(id, caller.staff_actor(), status, change.password).await?;
    Ok((Before::of(&before), Json(after.into())))
}

/// Deletes an account and every credential it has.
#[utoipa::path(delete, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = super::errors::ErrorBody), (status = 403, body = super::errors::ErrorBody),
        (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found(format!("staff account {id:?}")))?;
    let member = state.operations.delete_staff_as(id, caller.staff_actor()).await?;
    Ok((Before::of(&member), StatusCode::NO_CONTENT))
}
