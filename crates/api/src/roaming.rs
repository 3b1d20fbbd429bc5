//! Roaming: other members' chargers as this node knows them (the OCPI locations they published to
//! it), and this node's drivers' charges started at them.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::{Body, Query};
use crate::views;
use crate::views::federation::{PendingMessage, RoamingStart};
use crate::views::settlements::Settlement;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chargemesh_federation::emsp::search::{Criteria, Found};
use chargemesh_federation::emsp::settlement::DisputeError;
use chargemesh_federation::emsp::starts::{StartError, StartRequest};
use chargemesh_ledger::proof::CdrProof;
use chargemesh_ledger::transaction::DisputeReason;
use chargemesh_store::federation::Pushed;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LocationsQuery {
    /// Only this member's (party id, e.g. `CN-M02`).
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
    pushed(&state, Pushed::Location, query.cpo).await
}

/// Other members' tariffs (OCPI 2.2.1 `Tariff` objects: prices without VAT, `vat` in percent, and
/// `tariff_alt_text` explaining electricity and service fee apart), as they last pushed them; a
/// location's connectors name theirs in `tariff_ids`.
#[utoipa::path(get, path = "/api/v1/roaming/tariffs", tag = "roaming", params(LocationsQuery),
    responses((status = 200, body = Vec<Object>)), security(("bearer" = [])))]
pub async fn list_tariffs(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Query(query): Query<LocationsQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    pushed(&state, Pushed::Tariff, query.cpo).await
}

async fn pushed(state: &ApiState, kind: Pushed, cpo: Option<String>) -> ApiResult<Json<Vec<Value>>> {
    let kept = state.operations.pushed_by_members(kind, cpo.as_deref()).await?;
    // Kept as received: a body that no longer reads (it was checked on arrival) is left out.
    Ok(Json(kept.iter().filter_map(|l| serde_json::from_str(&l.body).ok()).collect()))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Latitude and longitude to search near (results nearest first), e.g. `22.55` and `114.1`.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Only within this distance of the point, in kilometres.
    radius_km: Option<f64>,
    /// Only chargers available now.
    #[serde(default)]
    available: bool,
    /// Only chargers of at least this power, in kW.
    min_power_kw: Option<u32>,
    /// Only chargers with this connector (OCPI standard, e.g. `GBT_DC`).
    connector: Option<String>,
    /// Only chargers where a kWh costs at most this now, tax included (e.g. `1.2`).
    max_price: Option<String>,
    /// Only this member's chargers (party id).
    operator: Option<String>,
    /// The code printed on the charger: its EVSE id (`CN*M01*E123`) or uid, in any case, with or
    /// without `*`, `-` and spaces.
    code: Option<String>,
    /// At most this many results (default 50, at most 500).
    limit: Option<usize>,
}

/// Chargers of the whole consortium — this operator's and every other member's — one per EVSE:
/// distance, status, power, connectors, and what a kWh costs there now, tax included, with the
/// tariff explained. Nearest first when a point is given.
#[utoipa::path(get, path = "/api/v1/roaming/search", tag = "roaming", params(SearchQuery),
    responses((status = 200, body = Vec<Found>), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn search(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Vec<Found>>> {
    Ok(Json(state.federation.search(&criteria(query)?).await?))
}

/// The search criteria a query asks for, checked.
pub(super) fn criteria(query: SearchQuery) -> ApiResult<Criteria> {
    let near = match (query.lat, query.lon) {
        (Some(lat), Some(lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => Some((lat, lon)),
        (None, None) => None,
        _ => return Err(ApiError::invalid("lat and lon: both, in degrees")),
    };
    let connector = match &query.connector {
        Some(name) => Some(serde_json::from_value(Value::String(name.clone())).map_err(|_| {
            ApiError::invalid(format!("connector {name:?}: an OCPI connector standard such as GBT_DC"))
        })?),
        None => None,
    };
    let max_price_micros = match &query.max_price {
        Some(text) => Some(
            chargemesh_core::money::Price::parse(text)
                .map_err(|e| ApiError::invalid(format!("max_price: {e}")))?
                .micros(),
        ),
        None => None,
    };
    Ok(Criteria {
        near,
        radius_km: query.radius_km,
        available_now: query.available,
        min_power_kw: query.min_power_kw,
        connector,
        max_price_micros,
        operator: query.operator,
        code: query.code,
        limit: query.limit.unwrap_or(50).min(500),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequestBody {
    /// The driver's token (card or app account) at this operator; it never leaves this node.
    id_token: String,
    /// The member whose charger it is, e.g. `CN-M02`.
    cpo: String,
    /// The location and EVSE, as in `GET /roaming/locations`.
    location_id: String,
    evse_uid: String,
    connector_id: Option<String>,
    /// Reserve the charger for this many minutes (1 to 120) instead of starting now; start the
    /// reserved charge with `POST /roaming/starts/{id}/start`.
    reserve_minutes: Option<u32>,
}

/// Starts a charge for one of this operator's drivers at another member's charger. The member is
/// sent the driver's pseudonym only. The answer is the start with the member's answer (`accepted`,
/// `rejected`); the charger's result (`started`, `failed`, `timeout`, …) follows in `GET
/// /roaming/starts/{id}`. A member whose node cannot be reached gives 502 `member_unreachable`:
/// nothing was started and nothing is charged.
#[utoipa::path(post, path = "/api/v1/roaming/starts", tag = "roaming", request_body = StartRequestBody,
    responses((status = 201, body = RoamingStart), (status = 404, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody), (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn start(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(body): Body<StartRequestBody>,
) -> ApiResult<(StatusCode, Json<RoamingStart>)> {
    let request = StartRequest {
        id_token: body.id_token,
        scope: caller.scope(),
        cpo: body.cpo,
        location_id: body.location_id,
        evse_uid: body.evse_uid,
        connector_id: body.connector_id,
    };
    Ok((StatusCode::CREATED, Json(start_or_reserve(&state, request, body.reserve_minutes).await?.into())))
}

/// Starts now, or reserves for `reserve_minutes`.
pub(super) async fn start_or_reserve(
    state: &ApiState,
    request: StartRequest,
    reserve_minutes: Option<u32>,
) -> ApiResult<chargemesh_store::federation::RoamingStart> {
    match reserve_minutes {
        None => start_answer(state.federation.start_charge(request).await),
        Some(minutes @ 1..=120) => {
            let expiry = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(i64::from(minutes));
            start_answer(state.federation.reserve(request, expiry).await)
        }
        Some(_) => Err(ApiError::invalid("reserve_minutes: 1 to 120")),
    }
}

/// The API's answer to a start at another member's charger.
fn start_answer(
    started: Result<chargemesh_store::federation::RoamingStart, StartError>,
) -> ApiResult<chargemesh_store::federation::RoamingStart> {
    match started {
        Ok(start) => Ok(start),
        Err(error @ StartError::UnknownToken(_)) => Err(ApiError::not_found(error.to_string())),
        Err(error @ StartError::Unreachable { .. }) => {
            Err(ApiError::new(StatusCode::BAD_GATEWAY, "member_unreachable", error.to_string()))
        }
        Err(StartError::Store(e)) => Err(e.into()),
        Err(error) => Err(ApiError::invalid(error.to_string())),
    }
}

/// A start at another member's charger, what came of it, and the charge: the member's live
/// session (energy, status, cost once priced), its CDR once priced, and what the driver paid.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StartView {
    #[serde(flatten)]
    pub(super) start: RoamingStart,
    /// The OCPI Session the member last sent.
    #[schema(value_type = Option<Object>)]
    pub(super) session: Option<Value>,
    /// The OCPI CDR the member sent.
    #[schema(value_type = Option<Object>)]
    pub(super) cdr: Option<Value>,
    /// The CDR checked against the ledger and charged to the driver (see `SettlementView`).
    pub(super) settlement: Option<SettlementView>,
}

/// What the driver is charged for a roaming CDR, and the evidence: `state` is `awaiting_anchor`
/// (the ledger does not hold the CDR yet), `verified` (being charged), `charged`, `declined` (the
/// payment failed; the driver owes it), `billed_elsewhere` (the driver pays outside this node),
/// `mismatch` (the CDR is not what the ledger holds: not charged; `problem` says how) or `disputed`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SettlementView {
    #[serde(flatten)]
    pub(super) settlement: Settlement,
    /// The ledger's inclusion proof of the CDR: save it and check it offline with `chargemesh ledger
    /// check-proof proof.json --genesis genesis.json --cdr cdr.json`, `cdr.json` holding the CDR's
    /// `chargemesh_cdr`.
    #[schema(value_type = Option<Object>)]
    pub(super) proof: Option<CdrProof>,
}

#[utoipa::path(get, path = "/api/v1/roaming/starts/{id}", tag = "roaming", params(("id" = String, Path)),
    responses((status = 200, body = StartView), (status = 401, body = super::errors::ErrorBody),
        (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_start(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StartView>> {
    visible_start(&state, &caller, &id).await?;
    Ok(Json(start_view(&state, &id).await?))
}

/// Refuses (404) a start the caller does not see: one made for another operator's driver.
async fn visible_start(
    state: &ApiState,
    caller: &Caller,
    id: &str,
) -> ApiResult<chargemesh_store::federation::RoamingStart> {
    let start = state.operations.roaming_start(id).await?;
    start.filter(|s| caller.sees(s.operator_id)).ok_or_else(|| ApiError::not_found(format!("start {id}")))
}

pub(super) async fn start_view(state: &ApiState, id: &str) -> ApiResult<StartView> {
    let found = state.federation.start_with_charge(id).await?;
    let (start, charge) = found.ok_or_else(|| ApiError::not_found(format!("start {id}")))?;
    let (session, cdr) = charge.unzip();
    let parse = |body: String| serde_json::from_str::<Value>(&body).ok();
    let settlement = state.federation.settlement_of_start(id).await?;
    let settlement = settlement.map(|(settlement, proof)| SettlementView { settlement: settlement.into(), proof });
    Ok(StartView {
        start: start.into(),
        session: session.and_then(parse),
        cdr: cdr.flatten().and_then(parse),
        settlement,
    })
}

/// How often a live view looks for news from the charger's member.
const LIVE_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// A WebSocket pushing the start (as `GET /roaming/starts/{id}` gives it: the start, the member's
/// live session with energy and cost, the CDR, the settlement) whenever it changes; after the
/// settlement is final (or the start came to nothing), the server closes.
#[utoipa::path(get, path = "/api/v1/roaming/starts/{id}/live", tag = "roaming", params(("id" = String, Path)),
    responses((status = 101, description = "WebSocket of live updates"), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn live_start(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    super::extract::Upgrade(upgrade): super::extract::Upgrade,
) -> ApiResult<axum::response::Response> {
    visible_start(&state, &caller, &id).await?;
    live_start_socket(state, id, upgrade).await
}

/// Upgrades to the WebSocket of [`live_start`].
pub(super) async fn live_start_socket(
    state: Arc<ApiState>,
    id: String,
    upgrade: yawc::IncomingUpgrade,
) -> ApiResult<axum::response::Response> {
    use futures::{SinkExt, StreamExt};
    let first = start_view(&state, &id).await?;
    let options = yawc::Options::default().with_read_buffer_capacity(1024).with_write_buffer_capacity(16_384);
    let (response, socket) =
        upgrade.upgrade(options).map_err(|e| ApiError::invalid(format!("not a WebSocket upgrade: {e}")))?;
    tokio::spawn(async move {
        let Ok(mut socket) = socket.await else { return };
        let mut sent = String::new();
        let mut view = first;
        loop {
            let text = serde_json::to_string(&view).expect("a start view serializes");
            if text != sent {
                if socket.send(yawc::Frame::text(text.clone())).await.is_err() {
                    return;
                }
                sent = text;
            }
            if view.is_final() {
                let _ = socket.send(yawc::Frame::close(yawc::close::CloseCode::Normal, b"settled")).await;
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(LIVE_POLL) => {}
                frame = socket.next() => match frame {
                    Some(frame) if frame.opcode() != yawc::OpCode::Close => continue,
                    _ => return,
                },
            }
            match start_view(&state, &id).await {
                Ok(next) => view = next,
                Err(_) => return,
            }
        }
    });
    Ok(response.map(axum::body::Body::new))
}

impl StartView {
    /// Nothing more will change: the driver's payment is settled, or the start came to nothing.
    fn is_final(&self) -> bool {
        let settled = self.settlement.as_ref().is_some_and(|s| s.settlement.state.is_at_rest());
        settled || self.start.state.came_to_nothing()
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    /// `unknown_session`, `metering_differs`, `charger_fault`, `duplicate` or `other`.
    #[schema(value_type = String)]
    reason: DisputeReason,
}

/// Disputes the CDR of a start on the ledger, within the consortium's dispute window: the charge is
/// held out of clearing until the two members resolve it. Recorded at once (202) and submitted to
/// the ledger by the node's ledger feed. 409 `not_anchored` before the ledger holds the CDR,
/// `already_disputed`, `dispute_window_closed`; 404 when the start has no CDR.
#[utoipa::path(post, path = "/api/v1/roaming/starts/{id}/dispute", tag = "roaming", params(("id" = String, Path)),
    request_body = DisputeRequest,
    responses((status = 202, body = Settlement), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn dispute(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<DisputeRequest>,
) -> ApiResult<(StatusCode, Json<Settlement>)> {
    let conflict = |code, error: DisputeError| ApiError::new(StatusCode::CONFLICT, code, error.to_string());
    visible_start(&state, &caller, &id).await?;
    match state.federation.dispute(&id, body.reason).await {
        Ok(settlement) => Ok((StatusCode::ACCEPTED, Json(settlement.into()))),
        Err(error @ DisputeError::NoCdr(_)) => Err(ApiError::not_found(error.to_string())),
        Err(error @ DisputeError::NotAnchored(_)) => Err(conflict("not_anchored", error)),
        Err(error @ DisputeError::AlreadyDisputed(_)) => Err(conflict("already_disputed", error)),
        Err(error @ DisputeError::WindowClosed { .. }) => Err(conflict("dispute_window_closed", error)),
        Err(DisputeError::Store(e)) => Err(e.into()),
        Err(error @ DisputeError::NoConsortium) => Err(ApiError::invalid(error.to_string())),
    }
}

/// Stops the charge of a start at another member's charger: the member tells its charger to stop.
/// The start becomes `stopping`, then `stopped` when the charger has accepted; the session and CDR
/// follow. 409 `not_charging` before the member reported a session; 502 `member_unreachable`.
#[utoipa::path(post, path = "/api/v1/roaming/starts/{id}/stop", tag = "roaming", params(("id" = String, Path)),
    responses((status = 200, body = RoamingStart), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn stop(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RoamingStart>> {
    visible_start(&state, &caller, &id).await?;
    command_answer(state.federation.stop_charge(&id).await).map(|start| Json(start.into()))
}

/// The API's answer to a command about a start's charge.
pub(super) fn command_answer(
    sent: Result<chargemesh_store::federation::RoamingStart, StartError>,
) -> ApiResult<chargemesh_store::federation::RoamingStart> {
    match sent {
        Ok(start) => Ok(start),
        Err(error @ StartError::UnknownStart(_)) => Err(ApiError::not_found(error.to_string())),
        Err(error @ StartError::NotCharging(_)) => {
            Err(ApiError::new(StatusCode::CONFLICT, "not_charging", error.to_string()))
        }
        Err(error @ StartError::NotReserved(_)) => {
            Err(ApiError::new(StatusCode::CONFLICT, "not_reserved", error.to_string()))
        }
        Err(error @ StartError::Unreachable { .. }) => {
            Err(ApiError::new(StatusCode::BAD_GATEWAY, "member_unreachable", error.to_string()))
        }
        Err(StartError::Store(e)) => Err(e.into()),
        Err(error) => Err(ApiError::invalid(error.to_string())),
    }
}

/// Starts the charge of a start whose charger is reserved for the driver (`state` `reserved`); as
/// a start, it becomes `requested`, then `accepted` and `started`. 409 `not_reserved`.
#[utoipa::path(post, path = "/api/v1/roaming/starts/{id}/start", tag = "roaming", params(("id" = String, Path)),
    responses((status = 200, body = RoamingStart), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn start_reserved(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RoamingStart>> {
    visible_start(&state, &caller, &id).await?;
    command_answer(state.federation.start_reserved(&id).await).map(|start| Json(start.into()))
}

/// Cancels the reservation of a start (`reserving` or `reserved`): the member tells its charger;
/// the start becomes `cancelling`, then `reservation_cancelled`. 409 `not_reserved`.
#[utoipa::path(post, path = "/api/v1/roaming/starts/{id}/cancel", tag = "roaming", params(("id" = String, Path)),
    responses((status = 200, body = RoamingStart), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel_reservation(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RoamingStart>> {
    visible_start(&state, &caller, &id).await?;
    command_answer(state.federation.cancel_reservation(&id).await).map(|start| Json(start.into()))
}

/// Unlocks the connector of a start's charge at another member's charger (a cable stuck during or
/// after the charge): the member tells its charger to unlock, if the charge is this driver's and
/// running or ended within the hour. The start becomes `unlocking`, then `unlocked` (or
/// `unlock_rejected`, `unlock_failed`, `unlock_timeout`). 409 `not_charging` before the member
/// reported a session; 502 `member_unreachable`.
#[utoipa::path(post, path = "/api/v1/roaming/starts/{id}/unlock", tag = "roaming", params(("id" = String, Path)),
    responses((status = 200, body = RoamingStart), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn unlock(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RoamingStart>> {
    visible_start(&state, &caller, &id).await?;
    command_answer(state.federation.unlock_connector(&id).await).map(|start| Json(start.into()))
}

/// Messages to other members not yet acknowledged (oldest first, at most 100): the peer, what, how
/// many attempts, the last error and the next attempt. Empty when federation is healthy.
#[utoipa::path(get, path = "/api/v1/roaming/outbox", tag = "roaming",
    responses((status = 200, body = Vec<PendingMessage>)), security(("bearer" = [])))]
pub async fn outbox(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<PendingMessage>>> {
    Ok(Json(views::all(state.operations.undelivered_messages(100).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StartsQuery {
    /// Only starts made before this instant (the previous page's last `created_at`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<jiff::Timestamp>,
    /// At most this many (1 to 200, default 50).
    pub limit: Option<i64>,
}

/// A start with its settlement, as the list shows it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StartRow {
    pub start: RoamingStart,
    /// Absent until the charger's member sent the CDR.
    pub settlement: Option<Settlement>,
}

/// The caller's drivers' starts at other members' chargers, newest first, each with its settlement
/// (checked against the ledger, charged, disputed, ...).
#[utoipa::path(get, path = "/api/v1/roaming/starts", tag = "roaming", params(StartsQuery),
    responses((status = 200, body = Vec<StartRow>), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list_starts(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(query): Query<StartsQuery>,
) -> ApiResult<Json<Vec<StartRow>>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit must be from 1 to 200"));
    }
    let listed = state.operations.roaming_starts(caller.scope(), query.before, limit).await?;
    Ok(Json(
        listed
            .into_iter()
            .map(|(start, settlement)| StartRow { start: start.into(), settlement: settlement.map(Into::into) })
            .collect(),
    ))
}
