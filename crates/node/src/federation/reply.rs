//! OCPI responses: the envelope with its status code, under the matching HTTP status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chargemesh_protocol::ocpi::{Envelope, status};
use jiff::Timestamp;
use serde::Serialize;

/// A successful response carrying `data`.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(Envelope::success(data, Timestamp::now())).into_response()
}

/// An error in OCPI's terms: the HTTP status, the OCPI status code and a message for people.
pub fn error(http: StatusCode, code: u16, message: impl Into<String>) -> Response {
    (http, Json(Envelope::<()>::error(code, message, Timestamp::now()))).into_response()
}

pub fn invalid(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, status::INVALID_PARAMETERS, message)
}

pub fn server_error(message: impl Into<String>) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, status::SERVER_ERROR, message)
}

pub async fn unknown_path() -> Response {
    error(StatusCode::NOT_FOUND, status::CLIENT_ERROR, "no such OCPI endpoint on this node (see /ocpi/versions)")
}
