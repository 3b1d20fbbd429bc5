//! Operators and their sites.

use super::ApiState;
use super::audit::Before;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
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
    _caller: Caller,
    Body(request): Body<NewOperator>,
) -> ApiResult<(StatusCode, Json<Operator>)> {
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
    check_site(&new.name, &new.time_zone, new.latitude, new.longitude)?;
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
    let id = path_id(&id, "site")?;
    let site = state.operations.store().read(move |conn| Box::pin(operators::get_site(conn, id))).await?;
    let site = site.filter(|s| caller.sees(Some(s.operator_id)));
    site.map(Json).ok_or_else(|| ApiError::not_found(format!("site {id}")))
}

/// What makes a site usable: a name, a real time zone (tariffs are evaluated in it) and a location on Earth.
fn check_site(name: &str, time_zone: &str, latitude: Option<f64>, longitude: Option<f64>) -> ApiResult<()> {
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    if jiff::tz::TimeZone::get(time_zone).is_err() {
        return Err(ApiError::invalid(format!(
            "time_zone {time_zone:?} is not an IANA time zone such as Asia/Shanghai"
        )));
    }
    if latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l))
        || longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l))
    {
        return Err(ApiError::invalid("latitude must be within ±90 and longitude within ±180"));
    }
    Ok(())
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
    let name = change.name.trim().to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    let new_name = name.clone();
    let renamed = state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let Some(before) = operators::get_operator(&mut *tx, id).await? else {
                    return Ok(None);
                };
                operators::rename_operator(&mut *tx, id, &new_name).await?;
                Ok(Some((before.clone(), Operator { name: new_name, ..before })))
            })
        })
        .await;
    match renamed {
        Err(e) if e.is_unique_violation() => Err(ApiError::conflict(format!("an operator named {name:?} exists"))),
        other => other?
            .map(|(before, after)| (Before::of(&before), Json(after)))
            .ok_or_else(|| ApiError::not_found(format!("operator {id}"))),
    }
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
    let deleted = state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let Some(before) = operators::get_operator(&mut *tx, id).await? else {
                    return Ok(None);
                };
                Ok(operators::delete_operator(tx, id).await?.then_some(before))
            })
        })
        .await;
    match deleted {
        Ok(Some(before)) => Ok((Before::of(&before), StatusCode::NO_CONTENT)),
        Ok(None) => Err(ApiError::not_found(format!("operator {id}"))),
        Err(e) if e.is_foreign_key_violation() => Err(ApiError::conflict(
            "the operator still has sites, chargers, tokens or staff accounts; remove or move them first",
        )),
        Err(e) => Err(e.into()),
    }
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
    let scope = caller.scope();
    let updated = state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let site = operators::get_site(&mut *tx, id).await?;
                let Some(mut site) = site.filter(|s| scope.is_none_or(|own| own == s.operator_id)) else {
                    return Ok(Err(ApiError::not_found(format!("site {id}"))));
                };
                let before = site.clone();
                site.name = change.name.map_or(site.name, |n| n.trim().to_owned());
                site.time_zone = change.time_zone.unwrap_or(site.time_zone);
                site.latitude = change.latitude.or(site.latitude);
                site.longitude = change.longitude.or(site.longitude);
                site.address = change.address.or(site.address);
                site.city = change.city.or(site.city);
                if let Err(e) = check_site(&site.name, &site.time_zone, site.latitude, site.longitude) {
                    return Ok(Err(e));
                }
                operators::update_site(tx, &site).await?;
                Ok(Ok((before, site)))
            })
        })
        .await?;
    let (before, after) = updated?;
    Ok((Before::of(&before), Json(after)))
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
    let scope = caller.scope();
    let deleted = state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let site = operators::get_site(&mut *tx, id).await?;
                let Some(site) = site.filter(|s| scope.is_none_or(|own| own == s.operator_id)) else {
                    return Ok(None);
                };
                Ok(operators::delete_site(tx, id).await?.then_some(site))
            })
        })
        .await;
    match deleted {
        Ok(Some(site)) => Ok((Before::of(&site), StatusCode::NO_CONTENT)),
        Ok(None) => Err(ApiError::not_found(format!("site {id}"))),
        Err(e) if e.is_foreign_key_violation() => {
            Err(ApiError::conflict("chargers stand at this site; move them to another site first"))
        }
        Err(e) => Err(e.into()),
    }
}
