//! The driver app's sign-up and log-in with a mobile number: ask for a one-time code, then log in
//! with it (the account is made by the first log-in of a number new to the node, for the operator
//! with sign-up open). Wrong codes slow further tries down exactly as wrong passwords do.

use super::ApiState;
use super::driver_account::open_login;
use super::errors::{ApiError, ApiResult, FieldProblem};
use super::extract::Body;
use super::login_throttle::{Attempt, Realm};
use super::trail::{ClientAddress, Login};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chargemesh_core::phone::PhoneNumber;
use chargemesh_operations::phone_signup::{CodeLogin, CodeRequest};
use chargemesh_store::drivers::DriverStatus;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeWanted {
    /// A mainland mobile number (`13812345678`, `+86 138 1234 5678`) or another country's with `+`.
    pub phone: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeSent {
    /// The number as the node reads it (E.164).
    pub phone: String,
    /// The code works until then.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// Another code may be asked for from then.
    #[schema(value_type = String, format = DateTime)]
    pub resend_at: Timestamp,
}

fn phone_number(typed: &str) -> ApiResult<PhoneNumber> {
    PhoneNumber::parse(typed).map_err(|problem| {
        let problem = problem.to_string();
        ApiError::with_details("invalid_phone", format!("phone: {problem}"), vec![FieldProblem::at("phone", problem)])
    })
}

/// Sends a six-digit code to a mobile number, valid for five minutes; a number is sent one at most
/// once a minute and five times an hour (429 `too_many_codes` with `Retry-After`). A number without
/// an account is refused (403 `signup_closed`) while no operator of the node has sign-up open.
#[utoipa::path(post, path = "/api/v1/driver/phone-code", tag = "driver", request_body = CodeWanted,
    responses((status = 202, body = CodeSent), (status = 403, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody), (status = 429, body = super::errors::ErrorBody),
        (status = 502, body = super::errors::ErrorBody)))]
pub async fn send_code(
    State(state): State<Arc<ApiState>>,
    Body(wanted): Body<CodeWanted>,
) -> ApiResult<(StatusCode, Json<CodeSent>)> {
    let phone = phone_number(&wanted.phone)?;
    match state.operations.send_phone_code(&phone).await? {
        CodeRequest::Sent { expires_at, resend_at } => {
            Ok((StatusCode::ACCEPTED, Json(CodeSent { phone: phone.to_string(), expires_at, resend_at })))
        }
        CodeRequest::TooSoon { retry_at } => {
            let seconds = retry_at.duration_since(Timestamp::now()).as_secs().max(1).unsigned_abs();
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_codes",
                format!("a code was sent to this number just now: ask for another in {seconds} s"),
            )
            .retry_after(seconds))
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeLoginRequest {
    pub phone: String,
    /// The six digits sent to the phone.
    pub code: String,
    /// The driver's name, for an account made by this log-in.
    #[serde(default)]
    pub name: Option<String>,
    /// For the driver app in a browser: keep the login in an `HttpOnly` cookie.
    #[serde(default)]
    pub cookie: bool,
}

/// Logs in with the code sent to a number (or signs up: `signed_up` in the answer), answering as
/// `POST /api/v1/driver/login` does. A wrong, expired or spent code is 401 `wrong_code`; five wrong
/// tries make a code void.
#[utoipa::path(post, path = "/api/v1/driver/phone-login", tag = "driver", request_body = CodeLoginRequest,
    responses((status = 200, body = super::driver_account::DriverLoginResponse), (status = 401, body = super::errors::ErrorBody),
        (status = 403, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody),
        (status = 429, body = super::errors::ErrorBody)))]
pub async fn log_in(
    State(state): State<Arc<ApiState>>,
    ClientAddress(address): ClientAddress,
    Body(request): Body<CodeLoginRequest>,
) -> ApiResult<axum::response::Response> {
    let phone = phone_number(&request.phone)?;
    let now = Timestamp::now();
    let attempt = Attempt::new(Realm::Driver, phone.as_str(), address);
    let _checking = attempt.one_at_a_time(&state.logins_in_flight)?;
    let login = Login { realm: Realm::Driver, username: phone.as_str(), address };
    if let Err(waiting) = attempt.check(&state, now).await {
        login.waiting();
        return Err(waiting);
    }
    let (driver, signed_up) = match state.operations.log_in_with_code(&phone, &request.code, request.name).await? {
        CodeLogin::Driver { driver, signed_up } => (driver, signed_up),
        CodeLogin::WrongCode => {
            attempt.failed(&state, now).await?;
            login.failed(&state, None, "wrong one-time code").await;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong_code",
                "the code is wrong, expired or already used: check it, or ask for a new one",
            ));
        }
    };
    if driver.status != DriverStatus::Active {
        login.failed(&state, Some(driver.operator_id), "the account is blocked").await;
        return Err(ApiError::forbidden("this account is blocked: ask your operator"));
    }
    attempt.succeeded(&state).await?;
    login.succeeded(&state, driver.id, None, Some(driver.operator_id)).await;
    open_login(&state, driver, request.cookie, signed_up, now).await
}
