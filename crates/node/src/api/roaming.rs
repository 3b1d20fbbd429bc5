//! Other members' chargers as this node knows them: the OCPI locations they published to it.

use super::ApiState;
use super::auth::Caller;
use super::errors::ApiResult;
use super::extract::Query;
use axum::Json;
use axum::extract::State;
use chargemesh_store::federation;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LocationsQuery {
    /// Only this member's locations (party id, e.g. `CN-M02`).
    cpo: Option<String>,
}

/// Other members' locations (OCPI 2.2.1 `Location` objects, each with its EVSEs, connectors and
/// live status), as they last pushed them.
#[utoipa::path(get, path = "/api/v1/roaming/locations", tag = "roaming", params(LocationsQuery),
    responses((status = 200, body = Vec<Object>)), security(("bearer" = [])))]
pub async fn list_locations(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Query(query): Query<LocationsQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let kept = state
        .operations
        .store()
        .read(move |conn| Box::pin(async move { federation::roaming_locations(conn, query.cpo.as_deref()).await }))
        .await?;
    // Kept as received: a body that no longer reads (it was checked on arrival) is left out.
    Ok(Json(kept.iter().filter_map(|l| serde_json::from_str(&l.body).ok()).collect()))
}
