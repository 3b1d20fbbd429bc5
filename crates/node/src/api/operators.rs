//! Operators and their sites.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chargemesh_store::operators::{self, NewSite, Operator, Site};
use jiff::Timestamp;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewOperator {
    pub name: String,
}

/// Creates an operator (node administrators only).
#[utoipa::path(post, path = "/api/v1/operators", tag = "operators", request_body = NewOperator,
    responses((status = 201, body = Operator), (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn create_operator(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewOperator>,
) -> ApiResult<(StatusCode, Json<Operator>)> {
    caller.require_admin()?;
    if caller.scope().is_some() {
        return Err(ApiError::forbidden("only node administrators create operators"));
    }
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    let new_name = name.clone();
    let created = state
        .operations
        .store()
        .write(move |tx| Box::pin(async move { operators::create_operator(tx, &new_name, Timestamp::now()).await }))
        .await;
    let operator = match created {
        Err(e) if e.is_unique_violation() => {
            return Err(ApiError::conflict(format!("an operator named {name:?} exists")));
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(operator)))
}

/// Operators the caller may see.
#[utoipa::path(get, path = "/api/v1/operators", tag = "operators", responses((status = 200, body = Vec<Operator>)), security(("bearer" = [])))]
pub async fn list_operators(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<Operator>>> {
    let all = state.operations.store().read(|conn| Box::pin(operators::list_operators(conn))).await?;
    Ok(Json(all.into_iter().filter(|o| caller.sees(Some(o.id))).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewSiteRequest {
    /// Defaults to the caller's operator.
    pub operator_id: Option<i64>,
    pub name: String,
    /// IANA time zone; defaults to `Asia/Shanghai`.
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
}

/// Creates a site.
#[utoipa::path(post, path = "/api/v1/sites", tag = "operators", request_body = NewSiteRequest,
    responses((status = 201, body = Site), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn create_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewSiteRequest>,
) -> ApiResult<(StatusCode, Json<Site>)> {
    caller.require_write()?;
    let operator_id = caller.operator_for_new(request.operator_id)?;
    let time_zone = request.time_zone.unwrap_or_else(|| "Asia/Shanghai".into());
    if jiff::tz::TimeZone::get(&time_zone).is_err() {
        return Err(ApiError::invalid(format!(
            "time_zone {time_zone:?} is not an IANA time zone such as Asia/Shanghai"
        )));
    }
    if request.latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l))
        || request.longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l))
    {
        return Err(ApiError::invalid("latitude must be within ±90 and longitude within ±180"));
    }
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("name must not be empty"));
    }
    let new = NewSite {
        operator_id,
        name: request.name.trim().to_owned(),
        time_zone,
        latitude: request.latitude,
        longitude: request.longitude,
        address: request.address,
    };
    let created =
        state.operations.store().write(move |tx| Box::pin(operators::create_site(tx, new, Timestamp::now()))).await;
    let site = match created {
        Err(e) if e.is_foreign_key_violation() => {
            return Err(ApiError::not_found(format!("operator {operator_id}")));
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(site)))
}

/// Sites the caller may see.
#[utoipa::path(get, path = "/api/v1/sites", tag = "operators", responses((status = 200, body = Vec<Site>)), security(("bearer" = [])))]
pub async fn list_sites(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<Site>>> {
    let scope = caller.scope();
    Ok(Json(state.operations.store().read(move |conn| Box::pin(operators::list_sites(conn, scope))).await?))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "operators", params(("id" = i64, Path)),
    responses((status = 200, body = Site), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Site>> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found(format!("site {id:?}")))?;
    let site = state.operations.store().read(move |conn| Box::pin(operators::get_site(conn, id))).await?;
    let site = site.filter(|s| caller.sees(Some(s.operator_id)));
    site.map(Json).ok_or_else(|| ApiError::not_found(format!("site {id}")))
}
