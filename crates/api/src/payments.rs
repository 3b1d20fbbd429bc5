//! Payments of sessions, refunds, wallets and the reconciliation of the books.

use super::ApiState;
use super::auth::{Caller, Viewer};
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::{Body, Query};
use super::trail::Before;
use crate::views;
use crate::views::payments::{Movement, Payment, Refund};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chargemesh_core::money::Currency;
use chargemesh_core::wallet::WalletOperationKind;
use chargemesh_operations::payment_admin::PaymentHistory;
use chargemesh_operations::payments::{Money, PaymentError, RefundError, WalletError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionPayment {
    pub payment: Payment,
    pub refunds: Vec<Refund>,
    /// The session's entries in the journal.
    pub movements: Vec<Movement>,
}

/// The id of a session the caller sees.
async fn visible_session(state: &ApiState, caller: &Caller, id: &str) -> ApiResult<i64> {
    Ok(super::sessions::visible_session(state, Viewer::from(caller), id).await?.0.id)
}

/// How a session is paid: its hold, capture and refunds, and their journal entries.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/payment", tag = "payments", params(("id" = i64, Path)),
    responses((status = 200, body = SessionPayment), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_payment(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionPayment>> {
    let session_id = visible_session(&state, &caller, &id).await?;
    let found = state.operations.session_payment(session_id).await?;
    found.map(|history| Json(history.into())).ok_or_else(|| ApiError::not_found(format!("a payment of session {id}")))
}

impl From<PaymentHistory> for SessionPayment {
    fn from(history: PaymentHistory) -> Self {
        SessionPayment {
            payment: history.payment.into(),
            refunds: views::all(history.refunds),
            movements: views::all(history.movements),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefundRequest {
    /// In the currency's minor units (fen).
    pub amount: i64,
    pub reason: String,
    /// Chosen by the caller: a retried request with the same key refunds once.
    pub idempotency_key: String,
}

/// Refunds part or all of a session's payment.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/refunds", tag = "payments", params(("id" = i64, Path)), request_body = RefundRequest,
    responses((status = 201, body = Refund), (status = 409, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn refund(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<RefundRequest>,
) -> ApiResult<(StatusCode, Json<Refund>)> {
    let session_id = visible_session(&state, &caller, &id).await?;
    if request.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason: say why the money goes back"));
    }
    let key = idempotency_key(&request.idempotency_key)?;
    let refund = state
        .operations
        .refund_session(session_id, request.amount, request.reason, format!("session-{session_id}-{key}"))
        .await
        .map_err(|e| match e {
            RefundError::NotPaid => ApiError::conflict(e.to_string()),
            RefundError::Invalid(message) => ApiError::invalid(message),
            RefundError::Store(e) => e.into(),
        })?;
    Ok((StatusCode::CREATED, Json(refund.into())))
}

fn idempotency_key(key: &str) -> ApiResult<&str> {
    if key.is_empty() || key.len() > 64 || !key.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
        return Err(ApiError::invalid("idempotency_key: 1 to 64 letters, digits, '-' or '_'"));
    }
    Ok(key)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct WalletQuery {
    /// `CNY` by default.
    pub currency: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Wallet {
    pub id_token: String,
    pub currency: String,
    /// Available, in minor units; below zero when a session cost more than was held and the wallet had.
    pub balance: i64,
    /// Held for sessions still running.
    pub held: i64,
    pub movements: Vec<Movement>,
}

async fn visible_token(
    state: &ApiState,
    caller: &Caller,
    id_token: &str,
) -> ApiResult<chargemesh_store::tokens::Token> {
    Ok(state.operations.wallet_holder(id_token, caller.scope()).await?)
}

fn currency(code: Option<&str>) -> ApiResult<Currency> {
    Currency::from_code(code.unwrap_or("CNY")).map_err(|e| ApiError::invalid(format!("currency: {e}")))
}

async fn wallet(state: &ApiState, token: &chargemesh_store::tokens::Token, currency: Currency) -> ApiResult<Wallet> {
    let statement = state.operations.wallet_statement(&token.id_token, currency).await?;
    Ok(Wallet {
        id_token: token.id_token.clone(),
        currency: currency.code().into(),
        balance: statement.balance,
        held: statement.held,
        movements: views::all(statement.movements),
    })
}

/// A token's wallet: balance, holds of running sessions, and its journal.
#[utoipa::path(get, path = "/api/v1/tokens/{id_token}/wallet", tag = "payments", params(("id_token" = String, Path), WalletQuery),
    responses((status = 200, body = Wallet)), security(("bearer" = [])))]
pub async fn get_wallet(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id_token): Path<String>,
    Query(query): Query<WalletQuery>,
) -> ApiResult<Json<Wallet>> {
    let token = visible_token(&state, &caller, &id_token).await?;
    Ok(Json(wallet(&state, &token, currency(query.currency.as_deref())?).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WalletTransfer {
    /// In minor units.
    pub amount: i64,
    /// `CNY` by default.
    pub currency: Option<String>,
    /// The payment method the money comes from (top-up) or goes back to (withdrawal), e.g. `sandbox:visa-4242`.
    pub method: String,
    pub idempotency_key: String,
}

fn wallet_error(e: WalletError) -> ApiError {
    match e {
        WalletError::Invalid(message) => ApiError::invalid(message),
        WalletError::Payment(PaymentError::Declined(why)) => {
            ApiError::new(StatusCode::PAYMENT_REQUIRED, "payment_declined", why)
        }
        WalletError::Payment(PaymentError::Unavailable(why)) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "payment_unavailable",
            format!("{why}; repeat the request with the same idempotency_key to see the outcome"),
        ),
        WalletError::Store(e) => e.into(),
    }
}

/// A top-up or withdrawal, checked, done, and answered with the wallet as it is then.
async fn transfer(
    state: &ApiState,
    caller: &Caller,
    id_token: &str,
    request: &WalletTransfer,
    kind: WalletOperationKind,
) -> ApiResult<Json<Wallet>> {
    let token = visible_token(state, caller, id_token).await?;
    let (currency, key) = (currency(request.currency.as_deref())?, idempotency_key(&request.idempotency_key)?);
    if request.amount <= 0 {
        return Err(ApiError::invalid("amount must be positive (minor units)"));
    }
    let money = Money { amount: request.amount, currency: currency.code() };
    let key = format!("{id_token}-{key}");
    state.operations.transfer_wallet(&token, kind, &request.method, money, &key).await.map_err(wallet_error)?;
    Ok(Json(wallet(state, &token, currency).await?))
}

/// Adds money to a wallet from a payment method.
#[utoipa::path(post, path = "/api/v1/tokens/{id_token}/wallet/top-ups", tag = "payments", params(("id_token" = String, Path)),
    request_body = WalletTransfer, responses((status = 200, body = Wallet), (status = 402, body = super::errors::ErrorBody),
        (status = 503, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn top_up(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id_token): Path<String>,
    Body(request): Body<WalletTransfer>,
) -> ApiResult<Json<Wallet>> {
    transfer(&state, &caller, &id_token, &request, WalletOperationKind::TopUp).await
}

/// Gives wallet money back to a payment method, at any time, up to the balance.
#[utoipa::path(post, path = "/api/v1/tokens/{id_token}/wallet/withdrawals", tag = "payments", params(("id_token" = String, Path)),
    request_body = WalletTransfer, responses((status = 200, body = Wallet), (status = 402, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody), (status = 503, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id_token): Path<String>,
    Body(request): Body<WalletTransfer>,
) -> ApiResult<Json<Wallet>> {
    transfer(&state, &caller, &id_token, &request, WalletOperationKind::Withdrawal).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WalletsSetting {
    pub enabled: bool,
}

/// Whether an operator keeps refundable wallet balances for its drivers.
#[utoipa::path(put, path = "/api/v1/operators/{id}/wallets", tag = "payments", params(("id" = i64, Path)), request_body = WalletsSetting,
    responses((status = 204), (status = 404, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn set_wallets(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(setting): Body<WalletsSetting>,
) -> ApiResult<(Extension<Before>, StatusCode)> {
    if !caller.sees(Some(id)) {
        return Err(ApiError::not_found(format!("operator {id}")));
    }
    let before = state.operations.set_operator_wallets(id, setting.enabled).await?;
    Ok((Before::of(&serde_json::json!({"operator_id": id, "enabled": before})), StatusCode::NO_CONTENT))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// Empty when payments, refunds, wallet holds and the journal agree.
    pub problems: Vec<String>,
}

/// Checks the books: the member's roles only.
#[utoipa::path(get, path = "/api/v1/payments/reconciliation", tag = "payments", responses((status = 200, body = Reconciliation)),
    security(("bearer" = [])))]
pub async fn reconciliation(State(state): State<Arc<ApiState>>, _caller: Caller) -> ApiResult<Json<Reconciliation>> {
    let problems = state.operations.reconcile_books().await?;
    Ok(Json(Reconciliation { problems }))
}
