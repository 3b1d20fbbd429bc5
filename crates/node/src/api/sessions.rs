//! Charging sessions with their meter values.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Query;
use axum::Json;
use axum::extract::{Path, State};
use chargemesh_store::chargers;
use chargemesh_store::sessions::{self, Session, SessionFilter, StoredMeterValue};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SessionQuery {
    pub station_id: Option<String>,
    /// `active` or `completed`.
    pub state: Option<String>,
    /// Page size, default 50, at most 500.
    pub limit: Option<i64>,
    /// Only sessions with a smaller id: pass the last id of the previous page.
    pub before_id: Option<i64>,
}

/// Sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(SessionQuery),
    responses((status = 200, body = Vec<Session>)), security(("bearer" = [])))]
pub async fn list_sessions(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(query): Query<SessionQuery>,
) -> ApiResult<Json<Vec<Session>>> {
    if let Some(s) = &query.state
        && s != sessions::ACTIVE
        && s != sessions::COMPLETED
    {
        return Err(ApiError::invalid("state must be active or completed"));
    }
    let filter = SessionFilter {
        operator_id: caller.scope(),
        station_id: query.station_id,
        state: query.state,
        limit: query.limit.unwrap_or(50).clamp(1, 500),
        before_id: query.before_id,
    };
    let listed = state
        .operations
        .store()
        .read(move |conn| Box::pin(async move { sessions::list_sessions(conn, &filter).await }))
        .await?;
    Ok(Json(listed))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: Session,
    pub meter_values: Vec<StoredMeterValue>,
}

/// One session with every meter value recorded for it.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, body = SessionDetail), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_session(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionDetail>> {
    let not_found = || ApiError::not_found(format!("session {id:?}"));
    let session_id: i64 = id.parse().map_err(|_| not_found())?;
    let found = state
        .operations
        .store()
        .read(move |conn| {
            Box::pin(async move {
                let Some(session) = sessions::get_session(&mut *conn, session_id).await? else { return Ok(None) };
                let charger = chargers::get_charger(&mut *conn, &session.station_id).await?;
                let meter_values = sessions::meter_values(conn, session_id).await?;
                Ok(Some((session, charger, meter_values)))
            })
        })
        .await?;
    match found {
        Some((session, charger, meter_values)) if charger.as_ref().is_some_and(|c| caller.sees(c.operator_id)) => {
            Ok(Json(SessionDetail { session, meter_values }))
        }
        _ => Err(not_found()),
    }
}
