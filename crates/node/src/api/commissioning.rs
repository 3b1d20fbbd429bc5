//! Commissioning a charger: what the consortium ledger is told it is (EVSE id, power, connectors,
//! metering certificate) and its meter's calibration. The node registers a commissioned charger on
//! the ledger, keeps its calibration and site's time zone current there, and decommissions it for
//! good when asked. Only a commissioned charger anchors charges.

use super::ApiState;
use super::audit::Before;
use super::auth::Caller;
use super::chargers::visible_charger;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::extract::Path;
use axum::extract::State;
use axum::{Extension, Json};
use chargemesh_ledger::state::{Charger as LedgerCharger, check_evse_id, check_text};
use chargemesh_ledger::transaction::ConnectorType;
use chargemesh_store::commissioning::{self, Commissioning};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommissioningRequest {
    /// The charger's id in the consortium; defaults to `<country>*<party>*E<station id>` of this
    /// member (`CN*NGR*ECP-001`).
    pub evse_id: Option<String>,
    pub max_power_watts: u64,
    /// `gbt_dc`, `gbt_ac`, `ccs2`, `type2`, `chademo`, `ccs1`, `type1`.
    #[schema(value_type = Vec<String>)]
    pub connectors: Vec<ConnectorType>,
    /// The id of the metering device's type-approval certificate.
    pub metering_certificate: String,
    /// The meter's latest calibration certificate and when it lapses.
    pub calibration_certificate: String,
    #[schema(value_type = String, format = DateTime)]
    pub calibration_expires_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CommissioningView {
    #[serde(flatten)]
    pub record: Commissioning,
    /// The charger as the ledger holds it (status, calibration, life history); none until the
    /// node's feed has registered it.
    #[schema(value_type = Option<Object>)]
    pub ledger: Option<LedgerCharger>,
}

fn view(state: &ApiState, record: Commissioning) -> CommissioningView {
    let ledger = state.ledger.as_ref().and_then(|ledger| ledger.snapshot().state().charger(&record.evse_id).cloned());
    CommissioningView { record, ledger }
}

fn invalid(rejection: chargemesh_ledger::Rejection) -> ApiError {
    ApiError::invalid(rejection.to_string())
}

/// The EVSE id a charger gets when none is given: this member's party id and the station id.
fn default_evse_id(state: &ApiState, station_id: &str) -> ApiResult<String> {
    let Some(ledger) = &state.ledger else {
        return Err(ApiError::invalid("evse_id is required when the node does not run the ledger"));
    };
    let (country, party) = ledger.party_id.split_once('-').unwrap_or(("CN", &ledger.party_id));
    Ok(format!("{country}*{party}*E{station_id}"))
}

/// Commissions a charger, or renews its calibration. Its identity (EVSE id, power, connectors,
/// metering certificate) is fixed once saved: the ledger keeps it forever.
#[utoipa::path(put, path = "/api/v1/chargers/{station_id}/commissioning", tag = "chargers",
    params(("station_id" = String, Path)), request_body = CommissioningRequest,
    responses((status = 200, body = CommissioningView), (status = 409, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn put_commissioning(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
    Body(request): Body<CommissioningRequest>,
) -> ApiResult<(Extension<Before>, Json<CommissioningView>)> {
    let charger = visible_charger(&state, &caller, &station_id).await?;
    if charger.operator_id.is_none() {
        return Err(ApiError::invalid("assign the charger to an operator before commissioning it"));
    }
    let evse_id = match request.evse_id {
        Some(evse_id) => evse_id,
        None => default_evse_id(&state, &station_id)?,
    };
    check_evse_id(&evse_id).map_err(invalid)?;
    check_text("metering_certificate", &request.metering_certificate, 128).map_err(invalid)?;
    check_text("calibration_certificate", &request.calibration_certificate, 128).map_err(invalid)?;
    if !(1..=2_000_000).contains(&request.max_power_watts) {
        return Err(ApiError::invalid("max_power_watts must be from 1 W to 2 MW"));
    }
    if !(1..=16).contains(&request.connectors.len()) {
        return Err(ApiError::invalid("connectors: 1 to 16 connector types"));
    }
    let now = Timestamp::now();
    if request.calibration_expires_at <= now {
        return Err(ApiError::invalid(
            "calibration_expires_at has passed: a charger with a lapsed calibration bills nobody",
        ));
    }
    let wanted = Commissioning {
        station_id: station_id.clone(),
        evse_id,
        max_power_watts: i64::try_from(request.max_power_watts).unwrap_or(i64::MAX),
        connectors: request.connectors.iter().map(connector_name).collect(),
        metering_certificate: request.metering_certificate,
        calibration_certificate: request.calibration_certificate,
        calibration_expires_at: request.calibration_expires_at,
        commissioned_at: now,
        decommissioned_at: None,
    };
    let saved = state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let previous = commissioning::get(&mut *tx, &wanted.station_id).await?;
                let record = match previous.clone() {
                    Some(old) if old.decommissioned_at.is_some() => {
                        return Ok(Err(ApiError::conflict("the charger was decommissioned for good")));
                    }
                    Some(old) => {
                        let same_identity = old.evse_id == wanted.evse_id
                            && old.max_power_watts == wanted.max_power_watts
                            && old.connectors == wanted.connectors
                            && old.metering_certificate == wanted.metering_certificate;
                        if !same_identity {
                            return Ok(Err(ApiError::conflict(
                                "the charger's identity is fixed once commissioned; only its calibration changes",
                            )));
                        }
                        Commissioning { commissioned_at: old.commissioned_at, ..wanted }
                    }
                    None => {
                        if let Some(other) = commissioning::by_evse(&mut *tx, &wanted.evse_id).await? {
                            return Ok(Err(ApiError::conflict(format!(
                                "EVSE id {} belongs to charger {}",
                                wanted.evse_id, other.station_id
                            ))));
                        }
                        wanted
                    }
                };
                commissioning::save(tx, &record).await?;
                Ok(Ok((previous, record)))
            })
        })
        .await??;
    Ok((Before::of(&saved.0), Json(view(&state, saved.1))))
}

fn connector_name(connector: &ConnectorType) -> String {
    serde_json::to_value(connector)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("connector names are strings")
}

/// The charger's commissioning record and what the ledger holds of it.
#[utoipa::path(get, path = "/api/v1/chargers/{station_id}/commissioning", tag = "chargers",
    params(("station_id" = String, Path)), responses((status = 200, body = CommissioningView),
        (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_commissioning(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> ApiResult<Json<CommissioningView>> {
    visible_charger(&state, &caller, &station_id).await?;
    let wanted = station_id.clone();
    let record = state
        .operations
        .store()
        .read(move |conn| Box::pin(async move { commissioning::get(conn, &wanted).await }))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("commissioning of charger {station_id:?}")))?;
    Ok(Json(view(&state, record)))
}

/// Takes the charger out of service for good: the ledger records it decommissioned and it never
/// anchors a charge again.
#[utoipa::path(delete, path = "/api/v1/chargers/{station_id}/commissioning", tag = "chargers",
    params(("station_id" = String, Path)), responses((status = 200, body = CommissioningView),
        (status = 404, body = super::errors::ErrorBody), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn decommission(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> ApiResult<(Extension<Before>, Json<CommissioningView>)> {
    visible_charger(&state, &caller, &station_id).await?;
    let saved = state
        .operations
        .store()
        .write(move |tx| {
            Box::pin(async move {
                let record = match commissioning::get(&mut *tx, &station_id).await? {
                    None => return Ok(Err(ApiError::not_found(format!("commissioning of charger {station_id:?}")))),
                    Some(old) if old.decommissioned_at.is_some() => {
                        return Ok(Err(ApiError::conflict("the charger was decommissioned already")));
                    }
                    Some(old) => old,
                };
                let decommissioned = Commissioning { decommissioned_at: Some(Timestamp::now()), ..record.clone() };
                commissioning::save(tx, &decommissioned).await?;
                Ok(Ok((record, decommissioned)))
            })
        })
        .await??;
    Ok((Before::of(&saved.0), Json(view(&state, saved.1))))
}
