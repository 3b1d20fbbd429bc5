//! Platforms outside the consortium that use this node's OCPI endpoints with OCPI credentials: the
//! administrator creates one and hands it the registration token (TOKEN_A) and the versions URL
//! out of band; the partner registers itself through the OCPI credentials module.

use super::ApiState;
use super::auth::Caller;
use super::errors::ApiResult;
use super::extract::Body;
use super::extract::Path;
use super::trail::Before;
use crate::views;
use crate::views::partners::Partner;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_federation::auth::token_hash;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    /// Who it is, e.g. `Hubject test platform`.
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedPartner {
    #[serde(flatten)]
    partner: Partner,
    /// The registration token (TOKEN_A), shown this once: the partner posts its credentials to this
    /// node's credentials module with it (`Authorization: Token <base64 of it>`).
    token_a: String,
    /// Where the partner starts: this node's OCPI versions endpoint.
    versions_url: String,
}

/// Creates a partner with a registration token, shown once.
#[utoipa::path(post, path = "/api/v1/ocpi/partners", tag = "roaming", request_body = NewPartner,
    responses((status = 201, body = CreatedPartner), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Body(body): Body<NewPartner>,
) -> ApiResult<(StatusCode, Json<CreatedPartner>)> {
    let token_a = hex::encode(rand::random::<[u8; 32]>());
    let partner = state.operations.create_partner(&body.name, token_hash(&token_a)).await?;
    let versions_url = format!("{}/versions", state.federation.base_url);
    Ok((StatusCode::CREATED, Json(CreatedPartner { partner: partner.into(), token_a, versions_url })))
}

/// Every partner: registered or not, revoked or not.
#[utoipa::path(get, path = "/api/v1/ocpi/partners", tag = "roaming", responses((status = 200, body = Vec<Partner>)),
    security(("bearer" = [])))]
pub async fn list(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Vec<Partner>>> {
    Ok(Json(views::all(state.operations.partners().await?)))
}

/// Ends a partner's access: its tokens stop working at once.
#[utoipa::path(delete, path = "/api/v1/ocpi/partners/{id}", tag = "roaming", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let before = state.operations.revoke_partner(id).await?;
    Ok((Before::of(&before), StatusCode::NO_CONTENT))
}
