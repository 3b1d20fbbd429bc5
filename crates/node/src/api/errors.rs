//! API errors: a JSON body with a stable machine-readable `code` and a human `message`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chargemesh_store::StoreError;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code: `unauthorized`, `forbidden`, `not_found`, `invalid_request`, `invalid_tariff`,
    /// `not_expressible`, `conflict`, `payment_declined`, `payment_unavailable`,
    /// `charger_not_connected` or `internal`.
    pub code: &'static str,
    pub message: String,
    /// For `invalid_tariff` and `not_expressible`: each problem with the field it is in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Where, e.g. `elements[2].restrictions.start_time`.
    pub field: String,
    pub problem: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Vec<FieldProblem>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: Vec::new() }
    }

    /// A request that is well-formed but names problems in its fields.
    pub fn with_details(code: &'static str, message: impl Into<String>, details: Vec<FieldProblem>) -> Self {
        ApiError { details, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message) }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} does not exist or is not yours"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error in API request");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the node could not complete the request; retry later")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { code: self.code, message: self.message, details: self.details })).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
