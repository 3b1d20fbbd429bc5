//! The console dashboard's overview: the fleet's conditions, today's sessions, energy and revenue,
//! and what needs someone, for the caller's operator (every operator, for the member's roles).

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult, FieldProblem};
use super::extract::Query;
use crate::views::{self, payments::Payment};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chargemesh_core::fleet::FleetCounts;
use chargemesh_operations::overview::ConnectorFault;
use futures::{SinkExt, StreamExt};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use yawc::{Frame, OpCode, Options};

/// A live overview is sent again at most this often, however busy the fleet: the console stays
/// current without its watching slowing the node.
const AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// And at least this often, for what no change is noted for (payments owing).
const AT_LEAST_EVERY: Duration = Duration::from_secs(30);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    /// The IANA time zone whose midnight begins "today" (default `Asia/Shanghai`).
    pub zone: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Fleet {
    pub online: i64,
    pub charging: i64,
    pub faulted: i64,
    pub offline: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Revenue {
    pub currency: String,
    /// The priced totals (tax included) of the sessions that ended today, in minor units.
    pub total_minor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Today {
    /// Midnight in the zone asked for.
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    /// Sessions that ended today or are running and metered today.
    pub sessions: i64,
    /// Their energy, in milliwatt-hours.
    pub energy_mwh: i64,
    pub revenue: Vec<Revenue>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Fault {
    pub station_id: String,
    pub connector_id: i64,
    /// The charger's error code, or `Faulted` when it gave none.
    pub error: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub chargers: Fleet,
    pub today: Today,
    /// Connectors reporting errors: how many, and the newest ten.
    pub fault_count: i64,
    pub faults: Vec<Fault>,
    /// Payments whose driver owes money (a later charge was declined): how many, and the newest ten.
    pub owing_count: i64,
    pub owing: Vec<Payment>,
}

impl From<FleetCounts> for Fleet {
    fn from(c: FleetCounts) -> Self {
        Fleet { online: c.online, charging: c.charging, faulted: c.faulted, offline: c.offline }
    }
}

impl From<ConnectorFault> for Fault {
    fn from(f: ConnectorFault) -> Self {
        Fault { station_id: f.station_id, connector_id: f.connector_id, error: f.error, at: f.at }
    }
}

fn time_zone(query: &OverviewQuery) -> ApiResult<TimeZone> {
    let name = query.zone.as_deref().unwrap_or("Asia/Shanghai");
    TimeZone::get(name).map_err(|_| {
        let problem = format!("{name:?} is no IANA time zone, such as Asia/Shanghai");
        ApiError::with_details("invalid_request", problem.clone(), vec![FieldProblem::at("zone", problem)])
    })
}

fn render(found: chargemesh_operations::overview::Overview) -> Overview {
    let day = found.day;
    Overview {
        chargers: found.fleet.into(),
        today: Today {
            since: day.started_at,
            sessions: day.totals.sessions,
            energy_mwh: day.totals.energy_mwh,
            revenue: day
                .totals
                .revenue
                .into_iter()
                .map(|(currency, total_minor)| Revenue { currency, total_minor })
                .collect(),
        },
        fault_count: found.fault_count,
        faults: views::all(found.faults),
        owing_count: day.owing_count,
        owing: views::all(day.owing),
    }
}

/// The dashboard's overview, computed on the node: a few numbers however large the fleet.
#[utoipa::path(get, path = "/api/v1/overview", tag = "chargers", params(OverviewQuery),
    responses((status = 200, body = Overview), (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn overview(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(query): Query<OverviewQuery>,
) -> ApiResult<Json<Overview>> {
    Ok(Json(render(state.operations.overview(caller.scope(), time_zone(&query)?).await?)))
}

/// The overview as a WebSocket: sent at once, then again whenever a charger's status or a session
/// changes (at most once a second) and every 30 seconds; today's figures and payments owing in it are
/// read again at most every 10 seconds, and dashboards of the same scope and zone share each reading.
#[utoipa::path(get, path = "/api/v1/overview/live", tag = "chargers", params(OverviewQuery),
    responses((status = 101, description = "WebSocket of Overview messages"), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn live_overview(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(query): Query<OverviewQuery>,
    super::extract::Upgrade(upgrade): super::extract::Upgrade,
) -> ApiResult<Response> {
    let (scope, zone) = (caller.scope(), time_zone(&query)?);
    // Following before the first read, so that no change falls between the two.
    let changes = state.operations.follow_changes();
    let mut found = state.operations.overview(scope, zone.clone()).await?;
    let options = Options::default().with_read_buffer_capacity(1024).with_write_buffer_capacity(16 * 1024);
    let (response, socket) =
        upgrade.upgrade(options).map_err(|e| ApiError::invalid(format!("not a WebSocket upgrade: {e}")))?;
    tokio::spawn(async move {
        let Ok(mut socket) = socket.await else { return };
        loop {
            let text = serde_json::to_string(&render(found)).expect("overviews serialize");
            if socket.send(Frame::text(text)).await.is_err() {
                return;
            }
            let sent_at = tokio::time::Instant::now();
            let resend = tokio::time::sleep(AT_LEAST_EVERY);
            tokio::pin!(resend);
            loop {
                tokio::select! {
                    () = changes.noted() => if !changes.take().is_empty() { break },
                    () = &mut resend => break,
                    frame = socket.next() => match frame {
                        Some(frame) if frame.opcode() != OpCode::Close => continue,
                        _ => return,
                    },
                }
            }
            tokio::time::sleep_until(sent_at + AT_MOST_EVERY).await;
            changes.take();
            // Every change noted until now is taken: an overview read from now on shows it.
            let taken_at = state.operations.now();
            match state.operations.live_overview(scope, zone.clone(), taken_at).await {
                Ok(next) => found = next,
                Err(_) => return,
            }
        }
    });
    Ok(response.map(axum::body::Body::new))
}
