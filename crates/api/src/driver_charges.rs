//! The driver API's charging: find a charger anywhere in the consortium, start and stop a charge
//! there, follow it live, and read the history and receipts. A charge at another member's charger
//! is a roaming start (the member learns only the driver's pseudonym); at this member's own
//! chargers the node tells the charger itself. A driver sees only their own charges.

use super::ApiState;
use super::auth::Viewer;
use super::driver_account::DriverCaller;
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::{Body, Query};
use super::receipts::{PricedReceipt, Receipt, priced_receipt};
use super::roaming::{SearchQuery, StartView, command_answer, criteria, start_or_reserve, start_view};
use super::sessions::{SessionDetail, live_session_socket, session_detail, visible_session};
use crate::views::settlements::Settlement;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chargemesh_core::pricing::PricedCdr;
use chargemesh_federation::emsp::search::{ChargerDetail, Found};
use chargemesh_federation::emsp::starts::StartRequest;
use chargemesh_ledger::proof::CdrProof;
use chargemesh_operations::charges::DriverCharge;
use chargemesh_protocol::ocpi::locations::Location;
use chargemesh_protocol::ocpi::sessions::Cdr;
use chargemesh_store::federation::RoamingStart;
use chargemesh_store::sessions::Session;
use chargemesh_store::tokens::Token;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Chargers of the whole consortium (this member's and every other member's), one per EVSE, as in
/// the operator API's roaming search: distance, status, power, connectors, what a kWh costs now,
/// tax included, and the tariff explained. Nearest first when a point is given.
#[utoipa::path(get, path = "/api/v1/driver/chargers", tag = "driver", params(SearchQuery),
    responses((status = 200, body = Vec<Found>), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn search(
    State(state): State<Arc<ApiState>>,
    _caller: DriverCaller,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Json<Vec<Found>>> {
    Ok(Json(state.federation.search(&criteria(query)?).await?))
}

/// One charger: as the search finds it, with its location (every connector) and its tariff, each
/// time-of-use window and price.
#[utoipa::path(get, path = "/api/v1/driver/chargers/{operator}/{evse_uid}", tag = "driver",
    params(("operator" = String, Path), ("evse_uid" = String, Path)),
    responses((status = 200, body = ChargerDetail), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn charger(
    State(state): State<Arc<ApiState>>,
    _caller: DriverCaller,
    Path((operator, evse_uid)): Path<(String, String)>,
) -> ApiResult<Json<ChargerDetail>> {
    let found = state.federation.charger(&operator, &evse_uid).await?;
    Ok(Json(found.ok_or_else(|| ApiError::not_found(format!("charger {evse_uid} of {operator}")))?))
}

/// A charge of the driver, as the history lists it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Charge {
    /// `roaming-<start id>` at another member's charger, `session-<session id>` at this member's;
    /// none for a start at this member's charger that the charger has not begun yet.
    pub id: Option<String>,
    /// The member whose charger it is (party id).
    pub operator: String,
    pub location_id: Option<String>,
    pub evse_uid: String,
    /// At another member's charger: the start's state (`requested`, `accepted`, `started`,
    /// `stopping`, `stopped`, `rejected`, `failed`, …). At this member's: `active` or `completed`
    /// (`accepted` for a start the charger has not begun yet).
    pub state: String,
    pub message: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

impl Charge {
    fn roaming(start: RoamingStart) -> Self {
        Charge {
            id: Some(format!("roaming-{}", start.id)),
            operator: start.cpo,
            location_id: Some(start.location_id),
            evse_uid: start.evse_uid,
            state: start.state.name(),
            message: start.message,
            at: start.created_at,
        }
    }

    fn own(session: Session, operator: String, location_id: Option<String>) -> Self {
        Charge {
            id: Some(format!("session-{}", session.id)),
            operator,
            location_id,
            evse_uid: session.station_id,
            state: session.state.to_string(),
            message: None,
            at: session.started_at,
        }
    }
}

/// Which charge a path names.
enum ChargeId {
    Roaming(String),
    Own(String),
}

impl ChargeId {
    fn parse(id: &str) -> ApiResult<Self> {
        match (id.strip_prefix("roaming-"), id.strip_prefix("session-")) {
            (Some(start), _) => Ok(ChargeId::Roaming(start.to_owned())),
            (_, Some(session)) => Ok(ChargeId::Own(session.to_owned())),
            _ => Err(ApiError::not_found(format!("charge {id:?}"))),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeRequest {
    /// The member whose charger it is, as the search gives it (`operator`).
    pub operator: String,
    pub location_id: String,
    pub evse_uid: String,
    pub connector_id: Option<String>,
    /// Which of the driver's tokens to charge with; by default their app token.
    pub id_token: Option<String>,
    /// Reserve the charger for this many minutes (1 to 120) instead of starting now (another
    /// member's chargers); start the reserved charge with `POST /driver/charges/{id}/start`.
    pub reserve_minutes: Option<u32>,
}

/// Starts a charge. At another member's charger (201) the member is sent the driver's pseudonym
/// only; the charger's answer follows in the charge's state (`started`, `failed`, …); 502
/// `member_unreachable` when the member's node cannot be reached (nothing started, nothing
/// charged). At this member's own charger (202) the charger is told to start and the charge
/// appears in the history when the charger begins it; 409 `charger_not_connected` or
/// `charger_refused`.
#[utoipa::path(post, path = "/api/v1/driver/charges", tag = "driver", request_body = ChargeRequest,
    responses((status = 201, body = Charge), (status = 202, body = Charge), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn start(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Body(request): Body<ChargeRequest>,
) -> ApiResult<(StatusCode, Json<Charge>)> {
    let token = state.operations.charging_token(caller.driver.id, request.id_token.as_deref()).await?;
    if request.operator == state.federation.member() {
        if request.reserve_minutes.is_some() {
            return Err(ApiError::invalid("reservations are offered at other members' chargers only, for now"));
        }
        let charge = start_own(&state, &token, &request).await?;
        return Ok((StatusCode::ACCEPTED, Json(charge)));
    }
    let start = StartRequest {
        id_token: token.id_token,
        scope: Some(token.operator_id),
        cpo: request.operator,
        location_id: request.location_id,
        evse_uid: request.evse_uid,
        connector_id: request.connector_id,
    };
    let start = start_or_reserve(&state, start, request.reserve_minutes).await?;
    Ok((StatusCode::CREATED, Json(Charge::roaming(start))))
}

/// Tells this member's charger `request.evse_uid` to start for `token`.
async fn start_own(state: &ApiState, token: &Token, request: &ChargeRequest) -> ApiResult<Charge> {
    let connector = request.connector_id.as_deref();
    let charger = state.operations.start_own_charge(&request.evse_uid, connector, token).await?;
    Ok(Charge {
        id: None,
        operator: state.federation.member(),
        location_id: charger.site_id.map(|site| site.to_string()),
        evse_uid: charger.station_id,
        state: "accepted".into(),
        message: Some("the charger accepted: the charge appears in your history when it begins".into()),
        at: Timestamp::now(),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// At most this many, newest first (default 50, at most 500).
    limit: Option<i64>,
}

/// The driver's charges, newest first: at this member's chargers and at other members'.
#[utoipa::path(get, path = "/api/v1/driver/charges", tag = "driver", params(HistoryQuery),
    responses((status = 200, body = Vec<Charge>)), security(("bearer" = [])))]
pub async fn history(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<Charge>>> {
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let member = state.federation.member();
    let charges = state
        .operations
        .driver_charges(caller.driver.id, limit)
        .await?
        .into_iter()
        .map(|charge| match charge {
            DriverCharge::Own { session, site_id } => {
                Charge::own(session, member.clone(), site_id.map(|s| s.to_string()))
            }
            DriverCharge::Roaming(start) => Charge::roaming(start),
        })
        .collect();
    Ok(Json(charges))
}

/// A charge with everything known about it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChargeDetail {
    /// At another member's charger: the start, the member's live session, its CDR and what the
    /// driver was charged, with the ledger's proof.
    Roaming(Box<StartView>),
    /// At this member's charger: the session, its meter values and its cost.
    Own(Box<SessionDetail>),
}

/// One of the driver's charges.
#[utoipa::path(get, path = "/api/v1/driver/charges/{id}", tag = "driver", params(("id" = String, Path)),
    responses((status = 200, body = ChargeDetail), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<ChargeDetail>> {
    match ChargeId::parse(&id)? {
        ChargeId::Roaming(start) => {
            owned_start(&state, &caller, &start).await?;
            Ok(Json(ChargeDetail::Roaming(Box::new(start_view(&state, &start).await?))))
        }
        ChargeId::Own(session) => {
            Ok(Json(ChargeDetail::Own(Box::new(session_detail(&state, viewer(&caller), &session).await?))))
        }
    }
}

fn viewer(caller: &DriverCaller) -> Viewer {
    Viewer::Driver { id: caller.driver.id }
}

/// Not found unless start `id` was made with one of the driver's tokens.
async fn owned_start(state: &ApiState, caller: &DriverCaller, id: &str) -> ApiResult<RoamingStart> {
    Ok(state.operations.driver_roaming_start(caller.driver.id, id).await?)
}

/// A WebSocket pushing the charge whenever it changes (as `GET /driver/charges/{id}` gives it at
/// another member's charger; energy and cost so far at this member's), closed once it is settled.
#[utoipa::path(get, path = "/api/v1/driver/charges/{id}/live", tag = "driver", params(("id" = String, Path)),
    responses((status = 101, description = "WebSocket of live updates"), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn live(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path(id): Path<String>,
    super::extract::Upgrade(upgrade): super::extract::Upgrade,
) -> ApiResult<Response> {
    match ChargeId::parse(&id)? {
        ChargeId::Roaming(start) => {
            owned_start(&state, &caller, &start).await?;
            super::roaming::live_start_socket(state, start, upgrade).await
        }
        ChargeId::Own(session) => live_session_socket(state, viewer(&caller), &session, upgrade).await,
    }
}

/// Stops a charge: the charger (through its member, for another member's) is told to stop; the
/// answer is the charge, `stopping` until the charger has stopped. 409 `not_charging`; 502
/// `member_unreachable`.
#[utoipa::path(post, path = "/api/v1/driver/charges/{id}/stop", tag = "driver", params(("id" = String, Path)),
    responses((status = 200, body = Charge), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn stop(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Charge>> {
    match ChargeId::parse(&id)? {
        ChargeId::Roaming(start) => {
            owned_start(&state, &caller, &start).await?;
            let stopping = command_answer(state.federation.stop_charge(&start).await)?;
            Ok(Json(Charge::roaming(stopping)))
        }
        ChargeId::Own(session) => {
            let (session, charger) = visible_session(&state, viewer(&caller), &session).await?;
            state.operations.stop_own_charge(&session).await?;
            let site = charger.site_id.map(|s| s.to_string());
            let mut charge = Charge::own(session, state.federation.member(), site);
            charge.state = "stopping".into();
            Ok(Json(charge))
        }
    }
}

/// Starts a charge whose charger is reserved for the driver (`state` `reserved`): it becomes
/// `requested`, then `accepted` and `started`. 409 `not_reserved`.
#[utoipa::path(post, path = "/api/v1/driver/charges/{id}/start", tag = "driver", params(("id" = String, Path)),
    responses((status = 200, body = Charge), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn start_reserved(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Charge>> {
    let start = reserved_start(&state, &caller, &id).await?;
    Ok(Json(Charge::roaming(command_answer(state.federation.start_reserved(&start).await)?)))
}

/// Cancels the reservation of a charge (`reserving` or `reserved`): it becomes `cancelling`, then
/// `reservation_cancelled`. 409 `not_reserved`.
#[utoipa::path(post, path = "/api/v1/driver/charges/{id}/cancel", tag = "driver", params(("id" = String, Path)),
    responses((status = 200, body = Charge), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel_reservation(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Charge>> {
    let start = reserved_start(&state, &caller, &id).await?;
    Ok(Json(Charge::roaming(command_answer(state.federation.cancel_reservation(&start).await)?)))
}

/// The start of the driver's charge `id`, which can hold a reservation only at another member's
/// charger.
async fn reserved_start(state: &ApiState, caller: &DriverCaller, id: &str) -> ApiResult<String> {
    match ChargeId::parse(id)? {
        ChargeId::Roaming(start) => Ok(owned_start(state, caller, &start).await?.id),
        ChargeId::Own(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_reserved",
            "a charge at this member's charger holds no reservation",
        )),
    }
}

/// The receipt of a charge at another member's charger: the CPO's priced CDR line by line, what
/// this member charged the driver, and the ledger's evidence.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RoamingReceipt {
    pub charge_id: String,
    /// The member whose charger it was.
    pub operator: String,
    pub site: Option<String>,
    pub address: String,
    pub evse_uid: String,
    #[serde(flatten)]
    pub priced: PricedReceipt,
    /// What this member charged the driver: `state` `charged`, `declined`, `billed_elsewhere`,
    /// `mismatch` (not charged), `disputed`, or `awaiting_anchor`/`verified` while it is checked.
    pub payment: Settlement,
    /// The ledger's evidence once it holds the CDR: check it offline with `chargemesh ledger
    /// check-proof proof.json --genesis genesis.json --cdr cdr.json`, `proof.json` holding `proof`
    /// and `cdr.json` the exact text of `cdr`.
    pub ledger: Option<RoamingEvidence>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoamingEvidence {
    #[schema(value_type = Object)]
    pub proof: CdrProof,
    /// The priced CDR whose hash the ledger holds, as the operator anchored it.
    pub cdr: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChargeReceipt {
    Roaming(Box<RoamingReceipt>),
    Own(Box<Receipt>),
}

/// The receipt of an ended charge, line by line under the tariff version it was priced by; for a
/// charge at another member's charger, with what the driver was charged and the ledger's inclusion
/// proof. 409 while the charge runs or before its CDR came.
#[utoipa::path(get, path = "/api/v1/driver/charges/{id}/receipt", tag = "driver", params(("id" = String, Path)),
    responses((status = 200, body = ChargeReceipt), (status = 404, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn receipt(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<ChargeReceipt>> {
    match ChargeId::parse(&id)? {
        ChargeId::Roaming(start) => {
            owned_start(&state, &caller, &start).await?;
            Ok(Json(ChargeReceipt::Roaming(Box::new(roaming_receipt(&state, &start).await?))))
        }
        ChargeId::Own(session) => {
            Ok(Json(ChargeReceipt::Own(Box::new(super::receipts::receipt(&state, viewer(&caller), &session).await?))))
        }
    }
}

async fn roaming_receipt(state: &ApiState, start_id: &str) -> ApiResult<RoamingReceipt> {
    let view = start_view(state, start_id).await?;
    let not_yet = || ApiError::conflict("no receipt yet: the charge has not ended, or its CDR has not come");
    let cdr: Cdr = view.cdr.and_then(|cdr| serde_json::from_value(cdr).ok()).ok_or_else(not_yet)?;
    let settlement = view.settlement.ok_or_else(not_yet)?;
    let priced: PricedCdr = serde_json::from_str(&cdr.chargemesh_cdr)
        .map_err(|_| ApiError::conflict("the operator's priced CDR cannot be read"))?;
    let location = site_location(state, &view.start.cpo, &view.start.location_id).await?;
    let zone = location.as_ref().and_then(|l| TimeZone::get(&l.time_zone).ok()).unwrap_or(TimeZone::UTC);
    let ledger = settlement.proof.map(|proof| RoamingEvidence { proof, cdr: cdr.chargemesh_cdr.clone() });
    Ok(RoamingReceipt {
        charge_id: format!("roaming-{start_id}"),
        operator: view.start.cpo,
        site: location.and_then(|l| l.name),
        address: format!("{}, {}", cdr.cdr_location.address, cdr.cdr_location.city),
        evse_uid: cdr.cdr_location.evse_uid,
        priced: priced_receipt(&priced, &zone, cdr.start_date_time, Some(cdr.end_date_time)),
        payment: settlement.settlement,
        ledger,
    })
}

/// The location `location_id` member `cpo` pushed, if it is kept and reads.
async fn site_location(state: &ApiState, cpo: &str, location_id: &str) -> ApiResult<Option<Location>> {
    let kept = state.operations.pushed_location(cpo, location_id).await?;
    Ok(kept.and_then(|l| serde_json::from_str(&l.body).ok()))
}
