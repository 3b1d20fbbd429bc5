//! Who is calling: every OCPI request must prove it. A member signs with its registered key; a
//! request without proof is refused with HTTP 401 and OCPI status 2000, and nothing is served.
//! Every response carries the request's `X-Request-ID` and `X-Correlation-ID` (made up if absent).

use super::Federation;
use super::reply;
use super::signature::{MEMBER_HEADER, Refusal, Registered};
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use chargemesh_protocol::ocpi::{headers, status};
use jiff::Timestamp;
use std::sync::Arc;

/// The largest OCPI request body accepted.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The proven caller of a request, for the handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A consortium member, by party id.
    Member(String),
}

pub async fn authenticate(State(federation): State<Arc<Federation>>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let request_id = header(&parts.headers, headers::REQUEST_ID).unwrap_or_else(new_id);
    let correlation_id = header(&parts.headers, headers::CORRELATION_ID).unwrap_or_else(|| request_id.clone());
    let mut response = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Err(_) => reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            status::CLIENT_ERROR,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        ),
        Ok(bytes) => {
            let uri = parts.extensions.get::<OriginalUri>().map_or_else(|| parts.uri.clone(), |o| o.0.clone());
            let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str()).to_owned();
            match caller(&federation, &parts.headers, parts.method.as_str(), &path, &bytes) {
                Ok(caller) => {
                    parts.extensions.insert(caller);
                    next.run(Request::from_parts(parts, Body::from(bytes))).await
                }
                Err(refusal) => {
                    tracing::warn!(%refusal, path, "an OCPI request was refused");
                    reply::error(StatusCode::UNAUTHORIZED, status::CLIENT_ERROR, refusal.to_string())
                }
            }
        }
    };
    for (name, value) in [(headers::REQUEST_ID, request_id), (headers::CORRELATION_ID, correlation_id)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn caller(
    federation: &Federation,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Caller, Refusal> {
    if !headers.contains_key(MEMBER_HEADER) {
        return Err(Refusal::Missing(MEMBER_HEADER));
    }
    let Some(ledger) = &federation.ledger else { return Err(Refusal::NoConsortium) };
    let registry = |party: &str| {
        let chain = ledger.chain.lock().expect("chain lock");
        chain.state().member(party).map(|m| Registered { key: m.record.public_key, active: m.active })
    };
    let read = |name: &'static str| header(headers, name);
    federation.verifier.verify(read, method, path, body, Timestamp::now(), registry).map(Caller::Member)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn new_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}
