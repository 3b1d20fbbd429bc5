//! Commissioning a charger: what the consortium ledger is told it is (EVSE id, power, connectors,
//! metering certificate) and its meter's calibration. The node registers a commissioned charger on
//! the ledger, keeps its calibration and site's time zone current there, and decommissions it for
//! good when asked. Only a commissioned charger anchors charges.

use super::ApiState;
use super::auth::Caller;
use super::chargers::visible_charger;
use super::errors::ApiResult;
use super::extract::Body;
use super::extract::Path;
use super::trail::Before;
use crate::views::commissioning::Commissioning;
use axum::extract::State;
use axum::{Extension, Json};
use chargemesh_ledger::state::Charger as LedgerCharger;
use chargemesh_ledger::transaction::ConnectorType;
use chargemesh_operations::commissioning::CommissioningTerms;
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

fn view(state: &ApiState, record: chargemesh_store::commissioning::Commissioning) -> CommissioningView {
    let ledger = state.ledger.as_ref().and_then(|ledger| ledger.snapshot().state().charger(&record.evse_id).cloned());
    CommissioningView { record: record.into(), ledger }
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
    let terms = CommissioningTerms {
        evse_id: request.evse_id,
        max_power_watts: request.max_power_watts,
        connectors: request.connectors,
        metering_certificate: request.metering_certificate,
        calibration_certificate: request.calibration_certificate,
        calibration_expires_at: request.calibration_expires_at,
    };
    let party_id = state.ledger.as_ref().map(|ledger| ledger.party_id.as_str());
    let (before, after) = state.operations.commission_charger(&charger, terms, party_id).await?;
    Ok((Before::of(&before), Json(view(&state, after))))
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
    let record = state.operations.charger_commissioning(&station_id).await?;
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
    let (before, after) = state.operations.decommission_charger(&station_id).await?;
    Ok((Before::of(&before), Json(view(&state, after))))
}
