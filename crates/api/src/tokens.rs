//! Id tokens (cards and app accounts) an operator issues to its drivers.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Body;
use super::extract::Path;
use super::trail::Before;
use crate::views;
use crate::views::tokens::Token;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_core::IdToken;
use chargemesh_core::authorization::TokenStatus;
use chargemesh_operations::TokenTerms;
use jiff::Timestamp;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// Defaults to the caller's operator.
    pub operator_id: Option<i64>,
    /// `card` (default) or `app`.
    pub kind: Option<String>,
    /// `active` (default) or `blocked`.
    pub status: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    pub parent_id_token: Option<String>,
    pub label: Option<String>,
    /// `wallet` (where the operator keeps wallets) or a payment provider's reference to the holder's
    /// payment method (`sandbox:visa-4242`, `sandbox:declined` for the built-in sandbox).
    pub payment_method: Option<String>,
    /// For a roaming driver: the consortium member (party id, `CN-ABC`) whose pseudonym of its driver
    /// this token is; that member pays for the charges through the ledger.
    pub emsp_party: Option<String>,
    /// Links the token to a driver account of the same operator (the driver then sees its charges
    /// in the driver API); left out, the token keeps the account it has.
    pub driver_id: Option<i64>,
}

async fn visible_token(
    state: &ApiState,
    caller: &Caller,
    id_token: &str,
) -> ApiResult<Option<chargemesh_store::tokens::Token>> {
    match state.operations.token(id_token.to_owned()).await? {
        Some(t) if !caller.sees(Some(t.operator_id)) => {
            Err(ApiError::conflict(format!("token {id_token:?} belongs to another operator")))
        }
        other => Ok(other),
    }
}

/// Issues or changes a token (a card's UID up to 20 characters for OCPP 1.6 chargers).
#[utoipa::path(put, path = "/api/v1/tokens/{id_token}", tag = "tokens", params(("id_token" = String, Path)),
    request_body = TokenRequest, responses((status = 200, body = Token), (status = 403, body = super::errors::ErrorBody),
        (status = 409, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_token(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id_token): Path<String>,
    Body(request): Body<TokenRequest>,
) -> ApiResult<(Extension<Before>, Json<Token>)> {
    let parsed = IdToken::parse(&id_token).map_err(|e| ApiError::invalid(e.to_string()))?;
    if parsed.as_str().len() > 20 {
        return Err(ApiError::invalid("id tokens are at most 20 characters so that OCPP 1.6 chargers can carry them"));
    }
    let kind = request.kind.unwrap_or_else(|| "card".into());
    if !["card", "app"].contains(&kind.as_str()) {
        return Err(ApiError::invalid("kind must be card or app"));
    }
    let status = match request.status.as_deref() {
        None => TokenStatus::Active,
        Some(text) => TokenStatus::parse(text).ok_or_else(|| ApiError::invalid("status must be active or blocked"))?,
    };
    check_payment_method(request.payment_method.as_deref())?;
    if let Some(party) = &request.emsp_party {
        check_emsp_party(&state, party)?;
    }
    if let Some(parent) = &request.parent_id_token {
        IdToken::parse(parent).map_err(|e| ApiError::invalid(format!("parent_id_token: {e}")))?;
    }
    let terms = TokenTerms {
        kind,
        status,
        expires_at: request.expires_at,
        parent_id_token: request.parent_id_token,
        label: request.label,
        payment_method: request.payment_method,
        emsp_party: request.emsp_party,
        driver_id: request.driver_id,
    };
    let (before, token) = state.operations.put_token(id_token, terms, caller.scope(), request.operator_id).await?;
    Ok((Before::of(&before), Json(token.into())))
}

/// How a token's sessions are paid: `wallet` or a provider's method reference (`provider:…`).
pub(super) fn check_payment_method(method: Option<&str>) -> ApiResult<()> {
    match method {
        Some(method) if method.is_empty() || method.len() > 100 || (method != "wallet" && !method.contains(':')) => {
            Err(ApiError::invalid(
                "payment_method: \"wallet\" or a provider's method reference such as \"sandbox:visa-4242\"",
            ))
        }
        _ => Ok(()),
    }
}

/// A roaming driver's member must be another member of the consortium with drivers (an eMSP).
fn check_emsp_party(state: &ApiState, party: &str) -> ApiResult<()> {
    let Some(ledger) = &state.ledger else {
        return Err(ApiError::invalid("emsp_party needs the consortium ledger, which is disabled on this node"));
    };
    if party == ledger.party_id {
        return Err(ApiError::invalid(
            "emsp_party: this node's own member; leave it out for the operator's own drivers",
        ));
    }
    match ledger.snapshot().state().member(party) {
        Some(member) if member.active && member.record.roles.emsp => Ok(()),
        Some(_) => Err(ApiError::invalid(format!("emsp_party: {party} is not an active member with drivers (eMSP)"))),
        None => Err(ApiError::invalid(format!("emsp_party: {party} is not a member of the consortium"))),
    }
}

/// Tokens the caller may see.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<Token>)), security(("bearer" = [])))]
pub async fn list_tokens(State(state): State<Arc<ApiState>>, caller: Caller) -> ApiResult<Json<Vec<Token>>> {
    Ok(Json(views::all(state.operations.list_tokens(caller.scope()).await?)))
}

/// One token.
#[utoipa::path(get, path = "/api/v1/tokens/{id_token}", tag = "tokens", params(("id_token" = String, Path)),
    responses((status = 200, body = Token), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_token(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id_token): Path<String>,
) -> ApiResult<Json<Token>> {
    match visible_token(&state, &caller, &id_token).await {
        Ok(Some(token)) => Ok(Json(token.into())),
        _ => Err(ApiError::not_found(format!("token {id_token:?}"))),
    }
}

/// Withdraws a token; chargers then refuse it.
#[utoipa::path(delete, path = "/api/v1/tokens/{id_token}", tag = "tokens", params(("id_token" = String, Path)),
    responses((status = 204), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_token(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id_token): Path<String>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    let before = match visible_token(&state, &caller, &id_token).await {
        Ok(Some(token)) => Before::of(&token),
        _ => return Err(ApiError::not_found(format!("token {id_token:?}"))),
    };
    state.operations.delete_token(id_token).await?;
    Ok((before, StatusCode::NO_CONTENT))
}
