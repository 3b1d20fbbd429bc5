//! Chargers, their live status, and commands to them.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::{Body, Query};
use super::trail::Before;
use crate::views;
use crate::views::chargers::{Charger, ConnectorState};
use crate::views::commands::CommandRecord;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_core::StationId;
use chargemesh_core::charger::ChargerCommand;
use chargemesh_core::fleet::Condition;
use chargemesh_operations::charger_admin::{ChargerSettings, ManagedCharger};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChargerView {
    #[serde(flatten)]
    pub charger: Charger,
    /// Whether the charger holds a connection to this node right now.
    pub connected: bool,
    /// `online`, `charging`, `faulted` or `offline`: its worst, as the dashboard counts it.
    #[schema(value_type = String)]
    pub condition: Condition,
    pub connectors: Vec<ConnectorState>,
}

impl From<ManagedCharger> for ChargerView {
    fn from(managed: ManagedCharger) -> Self {
        let condition = managed.condition();
        ChargerView {
            charger: managed.charger.into(),
            connected: managed.connected,
            condition,
            connectors: views::all(managed.connectors),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewChargerRequest {
    /// The id the charger puts in its connection URL.
    pub station_id: String,
    /// Defaults to the caller's operator.
    pub operator_id: Option<i64>,
    pub site_id: Option<i64>,
    /// Authorization key for security profile 1 (16 to 40 printable characters); stored hashed.
    pub auth_key: Option<String>,
    /// `Accepted` (default), `Pending` or `Rejected`.
    pub registration: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChargerChange {
    pub site_id: Option<i64>,
    /// Node administrators only: move the charger to (or assign a self-registered one to) an operator.
    pub operator_id: Option<i64>,
    pub auth_key: Option<String>,
    pub registration: Option<String>,
}

fn station(id: &str) -> ApiResult<StationId> {
    StationId::parse(id).map_err(|e| ApiError::invalid(e.to_string()))
}

pub(super) async fn visible_charger(
    state: &ApiState,
    caller: &Caller,
    station_id: &str,
) -> ApiResult<chargemesh_store::chargers::Charger> {
    Ok(state.operations.managed_charger(station_id, caller.scope()).await?)
}

/// Registers a charger so it may connect.
#[utoipa::path(post, path = "/api/v1/chargers", tag = "chargers", request_body = NewChargerRequest,
    responses((status = 201, body = ChargerView), (status = 403, body = super::errors::ErrorBody),
        (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_charger(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(request): Body<NewChargerRequest>,
) -> ApiResult<(StatusCode, Json<ChargerView>)> {
    let station = station(&request.station_id)?;
    let operator_id = caller.operator_for_new(request.operator_id)?;
    let settings =
        ChargerSettings { site_id: request.site_id, registration: request.registration, auth_key: request.auth_key };
    let registered = state.operations.register_charger(&station, operator_id, settings).await?;
    Ok((StatusCode::CREATED, Json(registered.into())))
}

/// Chargers the caller may see, with live status.
#[utoipa::path(get, path = "/api/v1/chargers", tag = "chargers", responses((status = 200, body = Vec<ChargerView>)), security(("bearer" = [])))]
pub async fn list_chargers(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<ChargerView>>> {
    let all = state.operations.managed_chargers(caller.scope()).await?;
    Ok(Json(all.into_iter().map(ChargerView::from).collect()))
}

/// One charger with its connectors' live status.
#[utoipa::path(get, path = "/api/v1/chargers/{station_id}", tag = "chargers", params(("station_id" = String, Path)),
    responses((status = 200, body = ChargerView), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_charger(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> ApiResult<Json<ChargerView>> {
    Ok(Json(state.operations.managed_charger_status(&station_id, caller.scope()).await?.into()))
}

/// Changes a charger's site, key, registration or (node administrators) operator.
#[utoipa::path(patch, path = "/api/v1/chargers/{station_id}", tag = "chargers", params(("station_id" = String, Path)),
    request_body = ChargerChange, responses((status = 200, body = ChargerView), (status = 403, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_charger(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
    Body(change): Body<ChargerChange>,
) -> ApiResult<(Extension<Before>, Json<ChargerView>)> {
    let charger = visible_charger(&state, &caller, &station_id).await?;
    let before = Before::of(&charger);
    if change.operator_id.is_some() && caller.scope().is_some() {
        return Err(ApiError::forbidden("only accounts of every operator move chargers between operators"));
    }
    let settings =
        ChargerSettings { site_id: change.site_id, registration: change.registration, auth_key: change.auth_key };
    let updated = state.operations.update_charger(&charger, change.operator_id, settings, caller.scope()).await?;
    Ok((before, Json(updated.into())))
}

/// Removes a charger that never ran a session.
#[utoipa::path(delete, path = "/api/v1/chargers/{station_id}", tag = "chargers", params(("station_id" = String, Path)),
    responses((status = 204), (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_charger(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let before = Before::of(&visible_charger(&state, &caller, &station_id).await?);
    state.operations.delete_charger(&station_id).await?;
    Ok((before, StatusCode::NO_CONTENT))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// At most this many entries, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The charger's status reports, newest first.
#[utoipa::path(get, path = "/api/v1/chargers/{station_id}/status-history", tag = "chargers",
    params(("station_id" = String, Path), HistoryQuery), responses((status = 200, body = Vec<ConnectorState>)), security(("bearer" = [])))]
pub async fn status_history(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<ConnectorState>>> {
    visible_charger(&state, &caller, &station_id).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(views::all(state.operations.charger_status_history(&station_id, limit).await?)))
}

/// A message a charger sent and the node's reply.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ChargerMessage {
    pub message_id: String,
    pub action: String,
    /// The node's reply as it keeps it to answer a repeat alike (JSON, e.g. `{"kind":"acknowledged"}`).
    pub reply: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: jiff::Timestamp,
}

impl From<chargemesh_store::messages::ReceivedMessage> for ChargerMessage {
    fn from(m: chargemesh_store::messages::ReceivedMessage) -> Self {
        ChargerMessage { message_id: m.message_id, action: m.action, reply: m.reply, received_at: m.received_at }
    }
}

/// The last messages the charger sent that the node keeps to answer repeats alike — status,
/// authorization, transactions, meter values; not boots and heartbeats — for
/// `gateway.message_memory_days`, with the node's replies, newest first.
#[utoipa::path(get, path = "/api/v1/chargers/{station_id}/messages", tag = "chargers",
    params(("station_id" = String, Path), HistoryQuery), responses((status = 200, body = Vec<ChargerMessage>)), security(("bearer" = [])))]
pub async fn messages(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<ChargerMessage>>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(views::all(state.operations.charger_messages(&station_id, caller.scope(), limit).await?)))
}

/// Sends a command to a connected charger and waits for its answer (or the command timeout).
///
/// The body names the command and its arguments, e.g. `{"command": "reset", "hard": false}`,
/// `{"command": "remote_start", "connector": 1, "id_token": "CARD-1"}`, `{"command": "remote_stop",
/// "transaction_id": 42}`, `{"command": "unlock_connector", "connector": 1}`,
/// `{"command": "change_availability", "connector": 0, "operative": false}`,
/// `{"command": "change_configuration", "key": "HeartbeatInterval", "value": "120"}`,
/// `{"command": "get_configuration", "keys": []}`, `{"command": "trigger_message", "message":
/// "StatusNotification", "connector": null}`, `{"command": "clear_cache"}`, `{"command":
/// "data_transfer", "vendor_id": "acme", "message_id": null, "data": null}`.
#[utoipa::path(post, path = "/api/v1/chargers/{station_id}/commands", tag = "chargers", params(("station_id" = String, Path)),
    request_body = Object, responses((status = 200, body = CommandRecord), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn send_command(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
    Body(command): Body<ChargerCommand>,
) -> ApiResult<Json<CommandRecord>> {
    let charger = visible_charger(&state, &caller, &station_id).await?;
    let station = station(&charger.station_id)?;
    if let Err(rejection) = chargemesh_protocol::ocpp16::validate_command(&command) {
        return Err(ApiError::invalid(rejection.description));
    }
    Ok(Json(state.operations.command_charger(&station, command, caller.staff.id).await?.into()))
}

/// A command sent earlier.
#[utoipa::path(get, path = "/api/v1/commands/{id}", tag = "chargers", params(("id" = i64, Path)),
    responses((status = 200, body = CommandRecord)), security(("bearer" = [])))]
pub async fn get_command(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CommandRecord>> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found(format!("command {id:?}")))?;
    Ok(Json(state.operations.charger_command(id, caller.scope()).await?.into()))
}
