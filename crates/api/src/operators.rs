//! Operators and their sites.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::extract::Path;
use super::trail::Before;
use crate::views;
use crate::views::operators::{Operator, Site};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_operations::sites;
use chargemesh_store::operators::NewSite;
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
    _caller: Caller,
    Body(request): Body<NewOperator>,
) -> ApiResult<(StatusCode, Json<Operator>)> {
    let operator = state.operations.create_operator(&request.name).await?;
    Ok((StatusCode::CREATED, Json(operator.into())))
}

/// Operators the caller may see.
#[utoipa::path(get, path = "/api/v1/operators", tag = "operators", responses((status = 200, body = Vec<Operator>)), security(("bearer" = [])))]
pub async fn list_operators(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<Operator>>> {
    Ok(Json(views::all(state.operations.operators_in(caller.scope()).await?)))
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
    pub city: Option<String>,
}

/// Creates a site.
#[utoipa::path(post, path = "/api/v1/sites", tag = "operators", request_body = NewSiteRequest,
    responses((status = 201, body = Site), (status = 403, body = super::errors::ErrorBody),
        (status = 404, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewSiteRequest>,
) -> ApiResult<(StatusCode, Json<Site>)> {
    let operator_id = caller.operator_for_new(request.operator_id)?;
    let new = NewSite {
        operator_id,
        name: request.name.trim().to_owned(),
        time_zone: request.time_zone.unwrap_or_else(|| "Asia/Shanghai".into()),
        latitude: request.latitude,
        longitude: request.longitude,
        address: request.address,
        city: request.city,
    };
    let site = state.operations.create_site(new).await?;
    Ok((StatusCode::CREATED, Json(site.into())))
}

/// Sites the caller may see.
#[utoipa::path(get, path = "/api/v1/sites", tag = "operators", responses((status = 200, body = Vec<Site>)), security(("bearer" = [])))]
pub async fn list_sites(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<Site>>> {
    Ok(Json(views::all(state.operations.sites_in(caller.scope()).await?)))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "operators", params(("id" = i64, Path)),
    responses((status = 200, body = Site), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Site>> {
    let id = path_id(&id, "site")?;
    Ok(Json(state.operations.site_in(id, caller.scope()).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct OperatorChange {
    pub name: String,
}

/// Renames an operator (node administrators only).
#[utoipa::path(patch, path = "/api/v1/operators/{id}", tag = "operators", params(("id" = i64, Path)), request_body = OperatorChange,
    responses((status = 200, body = Operator), (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_operator(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(id): Path<String>,
    Body(change): Body<OperatorChange>,
) -> ApiResult<(Extension<Before>, Json<Operator>)> {
    let id = path_id(&id, "operator")?;
    let (before, after) = state.operations.rename_operator(id, &change.name).await?;
    Ok((Before::of(&before), Json(after.into())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverSignupSetting {
    /// Open: a phone number new to the node signs up in the driver app as a driver of this operator
    /// (sign-up closes for any other operator). Closed: only accounts made by staff log in.
    pub open: bool,
}

/// Opens or closes the driver app's sign-up for an operator (the member's administrators: it
/// decides whose drivers strangers become).
#[utoipa::path(put, path = "/api/v1/operators/{id}/driver-signup", tag = "operators", params(("id" = i64, Path)),
    request_body = DriverSignupSetting, responses((status = 204), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_driver_signup(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(id): Path<String>,
    Body(setting): Body<DriverSignupSetting>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let id = path_id(&id, "operator")?;
    let before = state.operations.set_driver_signup(id, setting.open).await?;
    Ok((Before::of(&serde_json::json!({"operator_id": id, "open": before})), StatusCode::NO_CONTENT))
}

/// Deletes an operator that has nothing left: no sites, chargers, tokens or staff (node administrators only).
#[utoipa::path(delete, path = "/api/v1/operators/{id}", tag = "operators", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_operator(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let id = path_id(&id, "operator")?;
    let before = state.operations.delete_operator(id).await?;
    Ok((Before::of(&before), StatusCode::NO_CONTENT))
}

fn path_id(id: &str, what: &str) -> ApiResult<i64> {
    id.parse().map_err(|_| ApiError::not_found(format!("{what} {id:?}")))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SiteChange {
    pub name: Option<String>,
    /// IANA time zone; the site's tariffs are evaluated in it.
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    pub city: Option<String>,
}

impl From<SiteChange> for sites::SiteChange {
    fn from(change: SiteChange) -> Self {
        sites::SiteChange {
            name: change.name,
            time_zone: change.time_zone,
            latitude: change.latitude,
            longitude: change.longitude,
            address: change.address,
            city: change.city,
        }
    }
}

/// Changes a site's name, time zone, location, address or city.
#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "operators", params(("id" = i64, Path)), request_body = SiteChange,
    responses((status = 200, body = Site), (status = 404, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(change): Body<SiteChange>,
) -> ApiResult<(Extension<Before>, Json<Site>)> {
    let id = path_id(&id, "site")?;
    let (before, after) = state.operations.update_site(id, caller.scope(), change.into()).await?;
    Ok((Before::of(&before), Json(after.into())))
}

/// Deletes a site no charger stands at.
#[utoipa::path(delete, path = "/api/v1/sites/{id}", tag = "operators", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let id = path_id(&id, "site")?;
    let site = state.operations.delete_site(id, caller.scope()).await?;
    Ok((Before::of(&site), StatusCode::NO_CONTENT))
}
