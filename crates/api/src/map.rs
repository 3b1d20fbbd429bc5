//! The map settings the console and the app draw their markers with: public, like the pages.

use super::ApiState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize, utoipa::ToSchema)]
pub struct MapSettings {
    /// The tile URL template (`{z}`, `{x}`, `{y}`), absent when the node shows no tiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiles: Option<String>,
    /// The tile provider's credit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
}

/// Where the pages' maps take their tiles from (`api.map_tiles`), if anywhere.
#[utoipa::path(get, path = "/api/v1/map", tag = "auth", responses((status = 200, body = MapSettings)))]
pub async fn settings(State(state): State<Arc<ApiState>>) -> Json<MapSettings> {
    let given = |text: &str| Some(text.to_owned()).filter(|t| !t.is_empty());
    Json(MapSettings { tiles: given(&state.settings.map_tiles), attribution: given(&state.settings.map_attribution) })
}
