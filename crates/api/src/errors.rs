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
    /// What kind of problem, for a translation (tariff problems: `negative`, `gap`, `overlap`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The problem in words (English), with the values involved.
    pub problem: String,
}

impl FieldProblem {
    /// A problem at `field` without a code of its own.
    pub fn at(field: impl Into<String>, problem: impl Into<String>) -> FieldProblem {
        FieldProblem { field: field.into(), code: None, problem: problem.into() }
    }
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Vec<FieldProblem>,
    /// Seconds after which to try again (`Retry-After`).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: Vec::new(), retry_after: None }
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

    /// A failure of the node's own (logged where it happened), without detail for the caller.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the node could not complete the request; retry later")
    }

    /// Tells the caller when to try again.
    pub fn retry_after(self, seconds: u64) -> Self {
        ApiError { retry_after: Some(seconds), ..self }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error in API request");
        Self::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody { code: self.code, message: self.message, details: self.details }))
                .into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<chargemesh_operations::Error> for ApiError {
    fn from(e: chargemesh_operations::Error) -> Self {
        use chargemesh_operations::Error;
        match e {
            Error::NotFound(what) => Self::not_found(what),
            Error::Invalid(message) => Self::invalid(message),
            Error::Conflict(message) => Self::conflict(message),
            Error::Forbidden(message) => Self::forbidden(message),
            Error::Refused { code, message } => Self::new(refusal_status(code), code, message),
            Error::Store(e) => e.into(),
        }
    }
}

/// The HTTP status of each business refusal's code.
fn refusal_status(code: &str) -> StatusCode {
    match code {
        "payment_declined" => StatusCode::PAYMENT_REQUIRED,
        "member_unreachable" => StatusCode::BAD_GATEWAY,
        "ledger_disabled" => StatusCode::NOT_FOUND,
        "signup_closed" => StatusCode::FORBIDDEN,
        "sms_failed" => StatusCode::BAD_GATEWAY,
        _ => StatusCode::CONFLICT,
    }
}
