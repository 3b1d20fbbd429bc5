//! Chargers, their live status, and commands to them.

use super::ApiState;
use super::audit::Before;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::{Body, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_core::StationId;
use chargemesh_core::charger::{ChargerCommand, Registration};
use chargemesh_operations::passwords;
use chargemesh_store::chargers::{self, Charger, ChargerUpdate, ConnectorState, NewCharger};
use chargemesh_store::commands::{self, CommandRecord};
use chargemesh_store::operators;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChargerView {
    #[serde(flatten)]
    pub charger: Charger,
    /// Whether the charger holds a connection to this node right now.
    pub connected: bool,
    pub connectors: Vec<ConnectorState>,
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

fn registration(text: Option<&str>) -> ApiResult<Option<Registration>> {
    text.map(|t| {
        Registration::parse(t).ok_or_else(|| ApiError::invalid("registration must be Accepted, Pending or Rejected"))
    })
    .transpose()
}

async fn hashed_key(key: Option<String>) -> ApiResult<Option<String>> {
    let Some(key) = key else { return Ok(None) };
    if !(16..=40).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid("auth_key must be 16 to 40 printable ASCII characters"));
    }
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&key))
        .await
        .map_err(|_| ApiError::invalid("could not hash the key"))?;
    Ok(Some(hash))
}

async fn check_site(state: &ApiState, site_id: Option<i64>, operator_id: i64) -> ApiResult<()> {
    let Some(site_id) = site_id else {
        return Ok(());
    };
    match state.operations.store().read(move |conn| Box::pin(operators::get_site(conn, site_id))).await? {
        Some(site) if site.operator_id == operator_id => Ok(()),
        _ => Err(ApiError::not_found(format!("site {site_id} of operator {operator_id}"))),
    }
}

pub(super) async fn visible_charger(state: &ApiState, caller: &Caller, station_id: &str) -> ApiResult<Charger> {
    let wanted = station_id.to_owned();
    state
        .operations
        .store()
        .read(move |conn| Box::pin(async move { chargers::get_charger(conn, &wanted).await }))
        .await?
        .filter(|c| caller.sees(c.operator_id))
        .ok_or_else(|| ApiError::not_found(format!("charger {station_id:?}")))
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
    check_site(&state, request.site_id, operator_id).await?;
    let new = NewCharger {
        station_id: station.as_str().to_owned(),
        operator_id: Some(operator_id),
        site_id: request.site_id,
        registration: registration(request.registration.as_deref())?.unwrap_or(Registration::Accepted),
        auth_key_hash: hashed_key(request.auth_key).await?,
    };
    let created = state
        .operations
        .store()
        .write(move |tx| Box::pin(async move { chargers::create_charger(tx, &new, Timestamp::now()).await }))
        .await;
    match created {
        Err(e) if e.is_unique_violation() => {
            return Err(ApiError::conflict(format!("charger {station} is already registered")));
        }
        Err(e) if e.is_foreign_key_violation() => {
            return Err(ApiError::not_found(format!("operator {operator_id}")));
        }
        other => other?,
    }
    let view = view(&state, visible_charger(&state, &caller, station.as_str()).await?).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn view(state: &ApiState, charger: Charger) -> ApiResult<ChargerView> {
    let station_id = charger.station_id.clone();
    let connectors = state
        .operations
        .store()
        .read(move |conn| Box::pin(async move { chargers::connectors(conn, &station_id).await }))
        .await?;
    Ok(live_view(state, charger, connectors))
}

fn live_view(state: &ApiState, charger: Charger, connectors: Vec<ConnectorState>) -> ChargerView {
    let connected = StationId::parse(&charger.station_id).is_ok_and(|s| state.operations.chargers().is_connected(&s));
    ChargerView { charger, connected, connectors }
}

/// Chargers the caller may see, with live status.
#[utoipa::path(get, path = "/api/v1/chargers", tag = "chargers", responses((status = 200, body = Vec<ChargerView>)), security(("bearer" = [])))]
pub async fn list_chargers(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<ChargerView>>> {
    let scope = caller.scope();
    let all = state
        .operations
        .store()
        .read(move |conn| {
            Box::pin(async move {
                let mut all = Vec::new();
                for charger in chargers::list_chargers(&mut *conn, scope).await? {
                    let connectors = chargers::connectors(&mut *conn, &charger.station_id).await?;
                    all.push((charger, connectors));
                }
                Ok(all)
            })
        })
        .await?;
    Ok(Json(all.into_iter().map(|(charger, connectors)| live_view(&state, charger, connectors)).collect()))
}

/// One charger with its connectors' live status.
#[utoipa::path(get, path = "/api/v1/chargers/{station_id}", tag = "chargers", params(("station_id" = String, Path)),
    responses((status = 200, body = ChargerView), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_charger(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> ApiResult<Json<ChargerView>> {
    let charger = visible_charger(&state, &caller, &station_id).await?;
    Ok(Json(view(&state, charger).await?))
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
    let operator_id = change.operator_id.or(charger.operator_id);
    if let Some(operator_id) = operator_id {
        check_site(&state, change.site_id, operator_id).await?;
    } else if change.site_id.is_some() {
        return Err(ApiError::invalid("assign the charger to an operator before giving it a site"));
    }
    let update = ChargerUpdate {
        operator_id: change.operator_id,
        site_id: change.site_id.map(Some),
        registration: registration(change.registration.as_deref())?,
        auth_key_hash: hashed_key(change.auth_key).await?.map(Some),
    };
    let changed = station_id.clone();
    let updated = state
        .operations
        .store()
        .write(move |tx| Box::pin(async move { chargers::update_charger(tx, &changed, &update).await }))
        .await;
    match updated {
        Err(e) if e.is_foreign_key_violation() => {
            return Err(ApiError::not_found(format!("operator {operator_id:?}")));
        }
        other => other?,
    };
    let charger = visible_charger(&state, &caller, &station_id).await?;
    Ok((before, Json(view(&state, charger).await?)))
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
    let deleted = state
        .operations
        .store()
        .write(move |tx| Box::pin(async move { chargers::delete_charger(tx, &station_id).await }))
        .await;
    match deleted {
        Err(e) if e.is_foreign_key_violation() => {
            return Err(ApiError::conflict(
                "the charger has sessions, commands or a commissioning record; set its registration to Rejected instead",
            ));
        }
        other => other?,
    };
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
    let history = state
        .operations
        .store()
        .read(move |conn| Box::pin(async move { chargers::status_history(conn, &station_id, limit).await }))
        .await?;
    Ok(Json(history))
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
    if !state.operations.chargers().is_connected(&station) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "charger_not_connected",
            format!("charger {station} is not connected"),
        ));
    }
    Ok(Json(state.operations.send_command(&station, command, Some(caller.staff.id)).await?))
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
    let record = state.operations.store().read(move |conn| Box::pin(commands::get_command(conn, id))).await?;
    let record = record.ok_or_else(|| ApiError::not_found(format!("command {id}")))?;
    visible_charger(&state, &caller, &record.station_id)
        .await
        .map_err(|_| ApiError::not_found(format!("command {id}")))?;
    Ok(Json(record))
}
