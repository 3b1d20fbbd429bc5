//! The driver's favourite chargers: marked in the app, listed first when finding a charger.

use super::ApiState;
use super::driver_account::DriverCaller;
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use crate::views::{self, favourites::Favourite};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

/// The driver's favourite chargers, the newest first.
#[utoipa::path(get, path = "/api/v1/driver/favourites", tag = "driver", responses((status = 200, body = Vec<Favourite>)),
    security(("bearer" = [])))]
pub async fn list(State(state): State<Arc<ApiState>>, caller: DriverCaller) -> ApiResult<Json<Vec<Favourite>>> {
    Ok(Json(views::all(state.operations.favourites(caller.driver.id).await?)))
}

/// A charger's identity as the search names it, checked for size.
fn charger(operator: String, evse_uid: String) -> ApiResult<(String, String)> {
    let fits = |text: &str, most: usize| !text.is_empty() && text.len() <= most && !text.chars().any(char::is_control);
    if !fits(&operator, 16) || !fits(&evse_uid, 64) {
        return Err(ApiError::invalid(
            "a favourite is a charger's member (up to 16 characters) and EVSE uid (up to 64)",
        ));
    }
    Ok((operator, evse_uid))
}

/// Marks a charger of any member (as `GET /driver/chargers` names it: `operator`, `evse_uid`);
/// marking it again changes nothing. 409 beyond 100 favourites.
#[utoipa::path(put, path = "/api/v1/driver/favourites/{operator}/{evse_uid}", tag = "driver",
    params(("operator" = String, Path), ("evse_uid" = String, Path)),
    responses((status = 204), (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path((operator, evse_uid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (operator, evse_uid) = charger(operator, evse_uid)?;
    state.operations.add_favourite(caller.driver.id, operator, evse_uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unmarks a charger; unmarking one not marked changes nothing.
#[utoipa::path(delete, path = "/api/v1/driver/favourites/{operator}/{evse_uid}", tag = "driver",
    params(("operator" = String, Path), ("evse_uid" = String, Path)), responses((status = 204)), security(("bearer" = [])))]
pub async fn remove(
    State(state): State<Arc<ApiState>>,
    caller: DriverCaller,
    Path((operator, evse_uid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.operations.remove_favourite(caller.driver.id, operator, evse_uid).await?;
    Ok(StatusCode::NO_CONTENT)
}
