//! The console's charger list: a page of the fleet, searched and filtered on the node, with the
//! fleet's counts by condition.

use super::ApiState;
use super::auth::Caller;
use super::chargers::ChargerView;
use super::errors::{ApiError, ApiResult, FieldProblem};
use super::extract::Query;
use super::overview::Fleet;
use crate::views;
use axum::Json;
use axum::extract::State;
use chargemesh_core::fleet::Condition;
use chargemesh_operations::fleet::FleetQuery;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Most chargers one page holds.
const MOST: usize = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FleetParams {
    /// Text the station id, vendor, model or site name contains.
    pub q: Option<String>,
    /// `online`, `charging`, `faulted` or `offline`.
    pub condition: Option<String>,
    /// How many chargers (in station order) to skip; default 0.
    pub offset: Option<usize>,
    /// Page size, default 50, at most 500.
    pub limit: Option<usize>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FleetPage {
    /// The chargers matching `q`, by condition (whichever `condition` was asked for).
    pub counts: Fleet,
    /// How many match `q` and `condition`.
    pub total: usize,
    pub chargers: Vec<ChargerView>,
}

/// A page of the chargers, in station order, with live status.
#[utoipa::path(get, path = "/api/v1/fleet", tag = "chargers", params(FleetParams),
    responses((status = 200, body = FleetPage), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn page(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(params): Query<FleetParams>,
) -> ApiResult<Json<FleetPage>> {
    let condition = params
        .condition
        .map(|text| {
            Condition::parse(&text).ok_or_else(|| {
                let problem = format!("{text:?} is no condition: online, charging, faulted or offline");
                ApiError::with_details("invalid_request", problem.clone(), vec![FieldProblem::at("condition", problem)])
            })
        })
        .transpose()?;
    let query = FleetQuery {
        matching: params.q,
        condition,
        offset: params.offset.unwrap_or(0),
        limit: params.limit.unwrap_or(50).clamp(1, MOST),
    };
    let found = state.operations.fleet_page(caller.scope(), query).await?;
    Ok(Json(FleetPage { counts: found.counts.into(), total: found.total, chargers: views::all(found.chargers) }))
}
