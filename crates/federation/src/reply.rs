//! OCPI responses: the envelope with its status code, under the matching HTTP status.

use axum::Json;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chargemesh_protocol::ocpi::{Envelope, Page, headers, status};
use jiff::Timestamp;
use serde::Serialize;

/// A successful response carrying `data`.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(Envelope::success(data, Timestamp::now())).into_response()
}

/// One page of a list: its items, with OCPI's paging headers (the total, the limit, and a `Link` to
/// the next page, if any).
pub fn page<T: Serialize>(items: &[T], page: &Page, link: Option<String>) -> Response {
    let mut response = ok(&items[page.range()]);
    let response_headers = response.headers_mut();
    response_headers.insert(headers::TOTAL_COUNT, HeaderValue::from(page.total));
    response_headers.insert(headers::LIMIT, HeaderValue::from(page.limit));
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response_headers.insert(headers::LINK, link);
    }
    response
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
