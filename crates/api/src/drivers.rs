//! Driver accounts, as the operator's staff manage them: each account logs in to the driver API and
//! charges with the tokens linked to it (an app token made with the account, cards linked later).

use super::ApiState;
use super::auth::{Caller, check_new_password, hash_password, reset_password_hash};
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::extract::Path;
use super::trail::Before;
use crate::views;
use crate::views::drivers::Driver;
use crate::views::tokens::Token;
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chargemesh_operations::NewDriverAccount;
use chargemesh_store::drivers::DriverStatus;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDriver {
    /// What the driver logs in with: a phone number or an e-mail address, unique on this node.
    pub username: String,
    /// 12 to 128 characters, not easy to guess; the driver can change it.
    pub password: String,
    pub name: Option<String>,
    /// Defaults to the caller's operator.
    pub operator_id: Option<i64>,
    /// How the driver's charges are paid (as for tokens): `wallet` or a payment provider's method
    /// reference such as `sandbox:visa-4242`.
    pub payment_method: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DriverAccount {
    #[serde(flatten)]
    pub driver: Driver,
    /// The tokens the driver charges with; the first is the app token made with the account.
    pub tokens: Vec<Token>,
}

/// Creates a driver account with an app token of its own (`APP` and 16 characters).
#[utoipa::path(post, path = "/api/v1/drivers", tag = "drivers", request_body = NewDriver,
    responses((status = 201, body = DriverAccount), (status = 403, body = super::errors::ErrorBody),
        (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewDriver>,
) -> ApiResult<(StatusCode, Json<DriverAccount>)> {
    let username = request.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 {
        return Err(ApiError::invalid("username must be 1 to 64 characters"));
    }
    let names: Vec<&str> = std::iter::once(username.as_str()).chain(request.name.as_deref()).collect();
    check_new_password(&request.password, &names)?;
    super::tokens::check_payment_method(request.payment_method.as_deref())?;
    let operator_id = caller.operator_for_new(request.operator_id)?;
    let hash = hash_password(request.password).await?;
    let new = NewDriverAccount {
        operator_id,
        username,
        password_hash: hash,
        name: request.name,
        payment_method: request.payment_method,
    };
    let (driver, token) = state.operations.create_driver(new).await?;
    Ok((StatusCode::CREATED, Json(DriverAccount { driver: driver.into(), tokens: vec![token.into()] })))
}

/// The driver accounts the caller sees.
#[utoipa::path(get, path = "/api/v1/drivers", tag = "drivers", responses((status = 200, body = Vec<Driver>)),
    security(("bearer" = [])))]
pub async fn list(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<Driver>>> {
    Ok(Json(views::all(state.operations.list_drivers(caller.scope()).await?)))
}

/// One driver account with its tokens.
#[utoipa::path(get, path = "/api/v1/drivers/{id}", tag = "drivers", params(("id" = i64, Path)),
    responses((status = 200, body = DriverAccount), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DriverAccount>> {
    let driver = visible(&state, &caller, &id).await?;
    Ok(Json(account(&state, driver).await?))
}

/// A driver account with its tokens.
pub(super) async fn account(state: &ApiState, driver: chargemesh_store::drivers::Driver) -> ApiResult<DriverAccount> {
    let tokens = state.operations.tokens_of_driver(driver.id).await?;
    Ok(DriverAccount { driver: driver.into(), tokens: views::all(tokens) })
}

pub(super) async fn visible(
    state: &ApiState,
    caller: &Caller,
    id: &str,
) -> ApiResult<chargemesh_store::drivers::Driver> {
    let not_found = || ApiError::not_found(format!("driver {id:?}"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let driver = state.operations.driver(id).await?;
    driver.filter(|d| caller.sees(Some(d.operator_id))).ok_or_else(not_found)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverChange {
    /// `active` or `blocked` (blocking ends the driver's logins; their tokens stay as they are).
    /// Either lifts the wait after wrong passwords (`locked_until`).
    pub status: Option<String>,
    /// A new password (a reset); the driver's logins end.
    pub password: Option<String>,
}

/// Blocks or unblocks a driver account, or resets its password.
#[utoipa::path(patch, path = "/api/v1/drivers/{id}", tag = "drivers", params(("id" = i64, Path)),
    request_body = DriverChange, responses((status = 200, body = Driver), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(change): Body<DriverChange>,
) -> ApiResult<(Extension<Before>, Json<Driver>)> {
    let driver = visible(&state, &caller, &id).await?;
    let before = Before::of(&driver);
    // Closing is the driver's own act (it erases the account), never a status set here.
    let status = match change.status.as_deref().map(DriverStatus::parse) {
        None => None,
        Some(Some(status @ (DriverStatus::Active | DriverStatus::Blocked))) => Some(status),
        Some(_) => return Err(ApiError::invalid("status must be active or blocked")),
    };
    let hash = reset_password_hash(change.password, &driver_names(&driver)).await?;
    let changed = state.operations.update_driver(&driver, status, hash).await?;
    Ok((before, Json(changed.into())))
}

/// What a driver's password must not be made of.
pub(super) fn driver_names(driver: &chargemesh_store::drivers::Driver) -> Vec<&str> {
    std::iter::once(driver.username.as_str()).chain(driver.name.as_deref()).collect()
}
