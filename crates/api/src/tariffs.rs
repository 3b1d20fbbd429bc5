//! Tariffs: versions, validation, where they apply, previews of a price and projections onto the
//! wire formats that carry tariffs.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult, FieldProblem};
use super::extract::Path;
use super::extract::{Body, Query};
use super::trail::Before;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_core::money::{Currency, Price};
use chargemesh_core::pricing::{ChargingPeriod, PricedCdr, price};
use chargemesh_core::tariff::{Tariff, TariffElement, TariffErrors, Tax, TouPreset, TouPrices, TouSchedule};
use chargemesh_operations::tariffs::TariffVersionChoice;
use chargemesh_protocol::tariffs::{ProjectionError, ocpi, tcec, ykc};
use chargemesh_store::tariffs::{StoredTariff, Target};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// OCPI's limit, so that every tariff id can travel there.
const MAX_ID_LENGTH: usize = 36;

/// A tariff as written by an operator: either OCPI-style `elements`, or the Chinese `time_of_use`
/// shape (sharp, peak, flat and valley prices and the local times of each).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TariffDraft {
    /// Defaults to the caller's operator (creating only).
    pub operator_id: Option<i64>,
    /// Unique on this node; letters, digits, `.`, `_` and `-`, at most 36 (creating only).
    pub id: Option<String>,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    /// `{"rate": "13", "included": true}`.
    #[schema(value_type = Object)]
    pub tax: Tax,
    /// When this version takes effect; now by default.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_from: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub min_price: Option<Price>,
    #[schema(value_type = Option<String>)]
    pub max_price: Option<Price>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub elements: Option<Vec<TariffElement>>,
    #[schema(value_type = Option<Object>)]
    pub time_of_use: Option<TimeOfUse>,
}

/// The time-of-use shape: per-kWh electricity and service prices of each period, and the schedules
/// saying which local times are in which period.
#[derive(Deserialize)]
pub struct TimeOfUse {
    pub sharp: Option<TouPrices>,
    pub peak: Option<TouPrices>,
    pub flat: Option<TouPrices>,
    pub valley: Option<TouPrices>,
    pub schedules: Vec<TouSchedule>,
    pub idle_fee_per_hour: Option<Price>,
}

/// A saved tariff version.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TariffVersion {
    pub operator_id: i64,
    #[schema(value_type = Object)]
    pub tariff: Tariff,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<StoredTariff> for TariffVersion {
    fn from(stored: StoredTariff) -> Self {
        TariffVersion { operator_id: stored.operator_id, tariff: stored.tariff, created_at: stored.created_at }
    }
}

/// The errors of a tariff built from the draft's fields under `prefix` (e.g. `time_of_use.`).
fn invalid_tariff(prefix: &str, errors: TariffErrors) -> ApiError {
    let details: Vec<FieldProblem> = errors
        .0
        .iter()
        .map(|e| FieldProblem { field: format!("{prefix}{}", e.field), code: Some(e.code), problem: e.problem.clone() })
        .collect();
    let listed: Vec<String> = details.iter().map(|d| format!("{}: {}", d.field, d.problem)).collect();
    ApiError::with_details("invalid_tariff", format!("the tariff is not valid: {}", listed.join("; ")), details)
}

fn problem(field: &str, problem: impl Into<String>) -> ApiError {
    let problem = problem.into();
    ApiError::with_details(
        "invalid_tariff",
        format!("the tariff is not valid: {field}: {problem}"),
        vec![FieldProblem::at(field, problem)],
    )
}

/// The tariff version a draft describes, validated.
fn build(draft: TariffDraft, id: &str, version: u32, operator_id: i64, now: Timestamp) -> ApiResult<Tariff> {
    if id.is_empty() || id.len() > MAX_ID_LENGTH || !id.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
    {
        return Err(problem("id", "use 1 to 36 letters, digits, '.', '_' or '-'"));
    }
    let valid_from = draft.valid_from.unwrap_or(now);
    let owner = operator_id.to_string();
    match (draft.elements, draft.time_of_use) {
        (Some(elements), None) => {
            let tariff = Tariff {
                id: id.into(),
                version,
                owner,
                currency: draft.currency,
                tax: draft.tax,
                valid_from,
                min_price: draft.min_price,
                max_price: draft.max_price,
                elements,
            };
            tariff.validate().map_err(|e| invalid_tariff("", e))?;
            Ok(tariff)
        }
        (None, Some(shape)) => {
            if draft.min_price.is_some() || draft.max_price.is_some() {
                return Err(problem(
                    "min_price",
                    "a time_of_use tariff has no minimum or maximum price; write elements instead",
                ));
            }
            let preset = TouPreset {
                id: id.into(),
                version,
                owner,
                currency: draft.currency,
                tax: draft.tax,
                valid_from,
                sharp: shape.sharp,
                peak: shape.peak,
                flat: shape.flat,
                valley: shape.valley,
                schedules: shape.schedules,
                idle_fee_per_hour: shape.idle_fee_per_hour,
            };
            preset.build().map_err(|e| invalid_tariff("time_of_use.", e))
        }
        _ => Err(problem("elements", "give either elements or time_of_use")),
    }
}

/// Creates a tariff (version 1).
#[utoipa::path(post, path = "/api/v1/tariffs", tag = "tariffs", request_body = TariffDraft,
    responses((status = 201, body = TariffVersion), (status = 403, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_tariff(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(mut draft): Body<TariffDraft>,
) -> ApiResult<(StatusCode, Json<TariffVersion>)> {
    let operator_id = caller.operator_for_new(draft.operator_id)?;
    let id = draft.id.take().ok_or_else(|| problem("id", "a new tariff needs an id"))?;
    let now = Timestamp::now();
    let tariff = build(draft, &id, 1, operator_id, now)?;
    state.operations.create_tariff(operator_id, tariff.clone(), now).await?;
    Ok((StatusCode::CREATED, Json(TariffVersion { operator_id, tariff, created_at: now })))
}

/// A new version of a tariff; sessions that started before it keep the version they started with.
#[utoipa::path(post, path = "/api/v1/tariffs/{id}/versions", tag = "tariffs", params(("id" = String, Path)),
    request_body = TariffDraft, responses((status = 201, body = TariffVersion), (status = 409, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_version(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(draft): Body<TariffDraft>,
) -> ApiResult<(StatusCode, Json<TariffVersion>)> {
    if draft.id.as_ref().is_some_and(|given| *given != id) {
        return Err(problem("id", "a version keeps its tariff's id"));
    }
    let latest = state.operations.latest_tariff(&id, caller.scope()).await?;
    let now = Timestamp::now();
    let valid_from = draft.valid_from.unwrap_or(now);
    if valid_from <= latest.tariff.valid_from {
        return Err(problem(
            "valid_from",
            format!(
                "{valid_from} is not after version {}'s valid_from {}",
                latest.tariff.version, latest.tariff.valid_from
            ),
        ));
    }
    let tariff = build(
        TariffDraft { valid_from: Some(valid_from), ..draft },
        &id,
        latest.tariff.version + 1,
        latest.operator_id,
        now,
    )?;
    let operator_id = latest.operator_id;
    state.operations.add_tariff_version(operator_id, tariff.clone(), now).await?;
    Ok((StatusCode::CREATED, Json(TariffVersion { operator_id, tariff, created_at: now })))
}

/// Checks a draft without saving it.
#[utoipa::path(post, path = "/api/v1/tariffs/validate", tag = "tariffs", request_body = TariffDraft,
    responses((status = 200, body = Object), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn validate_tariff(caller: Caller, Body(mut draft): Body<TariffDraft>) -> ApiResult<Json<Tariff>> {
    let operator_id = draft.operator_id.or(caller.scope()).unwrap_or(0);
    let id = draft.id.take().unwrap_or_else(|| "draft".into());
    Ok(Json(build(draft, &id, 1, operator_id, Timestamp::now())?))
}

/// The latest version of every tariff the caller sees.
#[utoipa::path(get, path = "/api/v1/tariffs", tag = "tariffs", responses((status = 200, body = Vec<TariffVersion>)),
    security(("bearer" = [])))]
pub async fn list_tariffs(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<TariffVersion>>> {
    let listed = state.operations.latest_tariffs(caller.scope()).await?;
    Ok(Json(listed.into_iter().map(TariffVersion::from).collect()))
}

/// Every version of a tariff, oldest first.
#[utoipa::path(get, path = "/api/v1/tariffs/{id}", tag = "tariffs", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TariffVersion>), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_tariff(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TariffVersion>>> {
    let versions = state.operations.tariff_versions(&id, caller.scope()).await?;
    Ok(Json(versions.into_iter().map(TariffVersion::from).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PreviewRequest {
    /// A version; by default the one in force at the first period's start.
    pub version: Option<u32>,
    /// IANA time zone of the site; `Asia/Shanghai` by default.
    pub time_zone: Option<String>,
    /// The hypothetical session: consecutive intervals with the energy delivered in each
    /// (`{"start": …, "end": …, "energy": mWh}`); an interval without energy is idle.
    #[schema(value_type = Vec<Object>)]
    pub periods: Vec<ChargingPeriod>,
}

/// What a hypothetical session would cost, line by line.
#[utoipa::path(post, path = "/api/v1/tariffs/{id}/preview", tag = "tariffs", params(("id" = String, Path)),
    request_body = PreviewRequest, responses((status = 200, body = Object), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn preview(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<PreviewRequest>,
) -> ApiResult<Json<PricedCdr>> {
    let zone_name = request.time_zone.as_deref().unwrap_or(chargemesh_operations::billing::DEFAULT_TIME_ZONE);
    let zone = TimeZone::get(zone_name)
        .map_err(|_| ApiError::invalid(format!("time_zone: {zone_name:?} is not an IANA time zone")))?;
    let choice = match (request.version, request.periods.first()) {
        (Some(version), _) => TariffVersionChoice::Numbered(version),
        (None, Some(first)) => TariffVersionChoice::InForceAt(first.start),
        (None, None) => TariffVersionChoice::Latest,
    };
    let stored = state.operations.tariff_version(&id, caller.scope(), choice).await?;
    price(&stored.tariff, &zone, &request.periods).map(Json).map_err(|e| ApiError::invalid(format!("periods: {e}")))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    pub tariff_id: String,
}

async fn assign(
    state: &ApiState,
    caller: &Caller,
    target: Target,
    owner: Option<i64>,
    tariff_id: String,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let previous = state.operations.assign_tariff(target, owner, caller.scope(), tariff_id).await?;
    Ok((assignment(previous), StatusCode::NO_CONTENT))
}

/// What a target's tariff assignment was, for the audit log.
fn assignment(tariff_id: Option<String>) -> Extension<Before> {
    Before::of(&serde_json::json!({ "tariff_id": tariff_id }))
}

async fn unassign(state: &ApiState, target: Target) -> ApiResult<(Extension<Before>, StatusCode)> {
    let previous = state.operations.unassign_tariff(target).await?;
    Ok((assignment(previous), StatusCode::NO_CONTENT))
}

async fn site_owner(state: &ApiState, caller: &Caller, site_id: i64) -> ApiResult<i64> {
    Ok(state.operations.site_in(site_id, caller.scope()).await?.operator_id)
}

async fn charger_owner(state: &ApiState, caller: &Caller, station_id: &str) -> ApiResult<Option<i64>> {
    Ok(state.operations.managed_charger(station_id, caller.scope()).await?.operator_id)
}

/// Prices the site's chargers by a tariff, unless a charger or connector has one of its own.
#[utoipa::path(put, path = "/api/v1/sites/{id}/tariff", tag = "tariffs", params(("id" = i64, Path)), request_body = Assignment,
    responses((status = 204), (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn assign_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(a): Body<Assignment>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let owner = site_owner(&state, &caller, id).await?;
    assign(&state, &caller, Target::Site(id), Some(owner), a.tariff_id).await
}

#[utoipa::path(delete, path = "/api/v1/sites/{id}/tariff", tag = "tariffs", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn unassign_site(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    site_owner(&state, &caller, id).await?;
    unassign(&state, Target::Site(id)).await
}

/// Prices a charger by a tariff, unless a connector has one of its own.
#[utoipa::path(put, path = "/api/v1/chargers/{station_id}/tariff", tag = "tariffs", params(("station_id" = String, Path)),
    request_body = Assignment, responses((status = 204), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn assign_charger(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
    Body(a): Body<Assignment>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let owner = charger_owner(&state, &caller, &station_id).await?;
    assign(&state, &caller, Target::Charger(station_id), owner, a.tariff_id).await
}

#[utoipa::path(delete, path = "/api/v1/chargers/{station_id}/tariff", tag = "tariffs", params(("station_id" = String, Path)),
    responses((status = 204), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn unassign_charger(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    charger_owner(&state, &caller, &station_id).await?;
    unassign(&state, Target::Charger(station_id)).await
}

/// Prices one connector by a tariff.
#[utoipa::path(put, path = "/api/v1/chargers/{station_id}/connectors/{connector_id}/tariff", tag = "tariffs",
    params(("station_id" = String, Path), ("connector_id" = u32, Path)), request_body = Assignment,
    responses((status = 204), (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign_connector(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((station_id, connector)): Path<(String, u32)>,
    Body(a): Body<Assignment>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let owner = charger_owner(&state, &caller, &station_id).await?;
    assign(&state, &caller, Target::Connector(station_id, connector), owner, a.tariff_id).await
}

#[utoipa::path(delete, path = "/api/v1/chargers/{station_id}/connectors/{connector_id}/tariff", tag = "tariffs",
    params(("station_id" = String, Path), ("connector_id" = u32, Path)),
    responses((status = 204), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn unassign_connector(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((station_id, connector)): Path<(String, u32)>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    charger_owner(&state, &caller, &station_id).await?;
    unassign(&state, Target::Connector(station_id, connector)).await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ProjectionQuery {
    /// `ocpi`, `ykc` or `tcec`.
    pub format: String,
    /// For `ykc` and `tcec`: the local day whose prices to send (`YYYY-MM-DD`); today in Asia/Shanghai by default.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<jiff::civil::Date>,
    /// For `ocpi`: the CPO's country code and party id.
    pub country_code: Option<String>,
    pub party_id: Option<String>,
    /// For `ykc`: the billing model number and loss ratio (percent).
    pub model_number: Option<u16>,
    pub loss_ratio_percent: Option<u8>,
}

fn not_expressible(e: ProjectionError) -> ApiError {
    ApiError::with_details(
        "not_expressible",
        format!("the format cannot carry this tariff: {e}"),
        vec![FieldProblem::at(e.field, e.problem)],
    )
}

/// A tariff version in a wire format: OCPI 2.2.1 Tariff, YKC billing model or T/CEC 102 PolicyInfos.
#[utoipa::path(get, path = "/api/v1/tariffs/{id}/versions/{version}/projection", tag = "tariffs",
    params(("id" = String, Path), ("version" = u32, Path), ProjectionQuery),
    responses((status = 200, body = Object), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn projection(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path((id, version)): Path<(String, u32)>,
    Query(query): Query<ProjectionQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let stored = state.operations.tariff_version(&id, caller.scope(), TariffVersionChoice::Numbered(version)).await?;
    let date = match query.date {
        Some(date) => date,
        None => Timestamp::now()
            .to_zoned(
                TimeZone::get(chargemesh_operations::billing::DEFAULT_TIME_ZONE)
                    .map_err(|e| ApiError::invalid(e.to_string()))?,
            )
            .date(),
    };
    let value = match query.format.as_str() {
        "ocpi" => ocpi::tariff(
            &stored.tariff,
            query.country_code.as_deref().unwrap_or("CN"),
            query.party_id.as_deref().unwrap_or("CMS"),
            stored.created_at,
        )
        .map_err(not_expressible)?,
        "ykc" => {
            let model = ykc::billing_model(
                &stored.tariff,
                date,
                query.model_number.unwrap_or(1),
                query.loss_ratio_percent.unwrap_or(0),
            )
            .map_err(not_expressible)?;
            serde_json::to_value(model).expect("serializes")
        }
        "tcec" => serde_json::to_value(tcec::business_policy(&stored.tariff, date).map_err(not_expressible)?)
            .expect("serializes"),
        other => return Err(ApiError::invalid(format!("format {other:?}: use ocpi, ykc or tcec"))),
    };
    Ok(Json(value))
}
