//! Charging sessions with their meter values.

use super::ApiState;
use super::auth::{Caller, Viewer};
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::Query;
use crate::views;
use crate::views::sessions::{Session, StoredMeterValue};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chargemesh_core::pricing::PricedCdr;
use chargemesh_operations::session_history::SessionReader;
use chargemesh_store::sessions::{SessionFilter, SessionState};
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use yawc::{Frame, IncomingUpgrade, OpCode, Options};

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
    let wanted = match query.state.as_deref() {
        None => None,
        Some(text) => {
            Some(SessionState::parse(text).ok_or_else(|| ApiError::invalid("state must be active or completed"))?)
        }
    };
    let filter = SessionFilter {
        operator_id: caller.scope(),
        station_id: query.station_id,
        state: wanted,
        limit: query.limit.unwrap_or(50).clamp(1, 500),
        before_id: query.before_id,
        driver_id: None,
    };
    Ok(Json(views::all(state.operations.sessions_matching(filter).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: Session,
    pub meter_values: Vec<StoredMeterValue>,
    /// The price, line by line, under the tariff version fixed at the start: the final CDR once the
    /// session ended, the cost so far while it runs; absent when no tariff applied.
    #[schema(value_type = Option<Object>)]
    pub cost: Option<PricedCdr>,
}

/// One session with every meter value recorded for it.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, body = SessionDetail), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_session(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionDetail>> {
    Ok(Json(session_detail(&state, Viewer::from(&caller), &id).await?))
}

/// The session `id` and its charger, when both exist and the viewer sees the session (staff: the
/// charger's operator's; a driver: their own); otherwise not found, so nobody learns which sessions
/// others have.
pub(super) async fn visible_session(
    state: &ApiState,
    viewer: Viewer,
    id: &str,
) -> ApiResult<(chargemesh_store::sessions::Session, chargemesh_store::chargers::Charger)> {
    let not_found = || ApiError::not_found(format!("session {id:?}"));
    let session_id: i64 = id.parse().map_err(|_| not_found())?;
    let found = state.operations.readable_session(reader(viewer), session_id).await?;
    found.ok_or_else(not_found)
}

/// Who reads a session, as operations knows them.
fn reader(viewer: Viewer) -> SessionReader {
    match viewer {
        Viewer::Staff { scope } => SessionReader::Staff { scope },
        Viewer::Driver { id } => SessionReader::Driver { id },
    }
}

pub(super) async fn session_detail(state: &ApiState, viewer: Viewer, id: &str) -> ApiResult<SessionDetail> {
    let (session, _) = visible_session(state, viewer, id).await?;
    let readings = state.operations.session_readings(&session).await?;
    Ok(SessionDetail { session: session.into(), meter_values: views::all(readings.meter_values), cost: readings.cost })
}

/// What a live subscriber is sent each time the session changes.
#[derive(Serialize, PartialEq)]
struct LiveUpdate {
    session_id: i64,
    state: String,
    energy_mwh: i64,
    cost: Option<PricedCdr>,
}

impl From<SessionDetail> for LiveUpdate {
    fn from(detail: SessionDetail) -> Self {
        let session = detail.session;
        LiveUpdate {
            session_id: session.id,
            state: session.state.to_string(),
            energy_mwh: session.energy_mwh,
            cost: detail.cost,
        }
    }
}

/// A WebSocket pushing the session's energy and cost so far (a JSON text message) whenever a charger
/// message changes them; the last message is the final CDR, then the server closes.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/live", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 101, description = "WebSocket of live updates"), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn live_session(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    super::extract::Upgrade(upgrade): super::extract::Upgrade,
) -> ApiResult<Response> {
    live_session_socket(state, Viewer::from(&caller), &id, upgrade).await
}

/// Upgrades to the WebSocket of [`live_session`] for a session `viewer` sees.
pub(super) async fn live_session_socket(
    state: Arc<ApiState>,
    viewer: Viewer,
    id: &str,
    upgrade: IncomingUpgrade,
) -> ApiResult<Response> {
    // Subscribed before the first read, so no change falls between the two.
    let mut updates = state.operations.session_updates();
    let first = LiveUpdate::from(session_detail(&state, viewer, id).await?);
    let options = Options::default().with_read_buffer_capacity(1024).with_write_buffer_capacity(4096);
    let (response, socket) =
        upgrade.upgrade(options).map_err(|e| ApiError::invalid(format!("not a WebSocket upgrade: {e}")))?;
    tokio::spawn(async move {
        let Ok(mut socket) = socket.await else { return };
        let session_id = first.session_id;
        let mut last = first;
        loop {
            let text = serde_json::to_string(&last).expect("live updates serialize");
            if socket.send(Frame::text(text)).await.is_err() || last.state == SessionState::Completed.as_str() {
                let _ = socket.send(Frame::close(yawc::close::CloseCode::Normal, b"the session ended")).await;
                return;
            }
            loop {
                tokio::select! {
                    update = updates.recv() => match update {
                        Ok(changed) if changed != session_id => continue,
                        Ok(_) | Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return,
                    },
                    frame = socket.next() => match frame {
                        Some(frame) if frame.opcode() != OpCode::Close => continue,
                        _ => return,
                    },
                }
            }
            match session_detail(&state, viewer, &session_id.to_string()).await {
                Ok(detail) => last = LiveUpdate::from(detail),
                Err(_) => return,
            }
        }
    });
    Ok(response.map(axum::body::Body::new))
}
