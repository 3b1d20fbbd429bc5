//! Who is calling: every OCPI request must prove it. A member signs with its registered key; a
//! platform outside the consortium sends `Authorization: Token <token>` (base64-encoded, as OCPI
//! 2.2.1 says, or plain, as earlier versions did) with the token this node issued it, and may read
//! the versions, locations and tariffs and manage its credentials; with its registration token it
//! may only read the versions and register. Anything else is refused with HTTP 401 and OCPI status
//! 2000, and nothing is served. Every response carries the request's `X-Request-ID` and
//! `X-Correlation-ID` (made up if absent).

use crate::Federation;
use crate::caller::{Caller, Member};
use crate::reply;
use crate::signature::{self, MEMBER_HEADER, Refusal, Registered};
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use chargemesh_protocol::ocpi::{VERSION, headers, status};
use jiff::Timestamp;
use std::sync::Arc;

/// The largest OCPI request body accepted.
const MAX_BODY_BYTES: usize = 1 << 20;

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
            let proven = match token(&parts.headers) {
                Some(tokens) => partner(&federation, &tokens, parts.method.as_str(), uri.path()).await,
                None => member(&federation, &parts.headers, parts.method.as_str(), &path, &bytes).await,
            };
            match proven {
                Ok(caller) => {
                    if let Caller::Member(party) = &caller {
                        parts.extensions.insert(Member(party.clone()));
                    }
                    parts.extensions.insert(caller);
                    next.run(Request::from_parts(parts, Body::from(bytes))).await
                }
                Err(refusal @ Refusal::Unavailable) => {
                    reply::error(StatusCode::SERVICE_UNAVAILABLE, status::SERVER_ERROR, refusal.to_string())
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

/// The member a signed request comes from, once its signature verifies and was never seen before
/// (the signatures seen are kept in the database while a replay would still be on time).
async fn member(
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
        ledger.snapshot().state().member(party).map(|m| Registered { key: m.record.public_key, active: m.active })
    };
    let read = |name: &'static str| header(headers, name);
    let now = Timestamp::now();
    let verified = signature::verify(read, method, path, body, now, registry)?;
    let (seen, signed_at) = (hex::encode(verified.replay_key), verified.signed_at);
    let first = federation
        .operations
        .first_sight_of_member_request(seen, signed_at, now - signature::MAX_SKEW * 2)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot record a member request's signature");
            Refusal::Unavailable
        })?;
    if !first {
        return Err(Refusal::Replayed);
    }
    Ok(Caller::Member(verified.member))
}

/// The token of an `Authorization: Token …` header: decoded from base64 when it decodes to text,
/// and as given (OCPI 2.1.1 sent tokens plain).
fn token(headers: &HeaderMap) -> Option<Vec<String>> {
    use base64::Engine as _;
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("token") {
        return None;
    }
    let token = token.trim().to_owned();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.is_empty() && text.chars().all(|c| c.is_ascii_graphic()));
    Some(decoded.into_iter().chain(std::iter::once(token)).collect())
}

/// The partner holding one of `tokens`, if it may call `method` on `path`.
async fn partner(federation: &Federation, tokens: &[String], method: &str, path: &str) -> Result<Caller, Refusal> {
    for token in tokens {
        let found = federation.operations.partner_holding_token(token_hash(token)).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read the OCPI partners");
            Refusal::UnknownToken
        })?;
        let Some((partner, registered)) = found else { continue };
        let version = format!("/ocpi/{VERSION}");
        let credentials = path == format!("{version}/credentials");
        let versions = path == "/ocpi/versions" || path == version;
        let reading = method == "GET"
            && (versions
                || [crate::cpo::locations::SENDER, crate::cpo::tariffs::SENDER].iter().any(|m| {
                    let module = format!("{version}/{m}");
                    path == module || path.starts_with(&format!("{module}/"))
                }));
        return match registered {
            true if reading || credentials => Ok(Caller::Partner { id: partner.id, token: token.clone() }),
            false if versions && method == "GET" || credentials && method == "POST" => {
                Ok(Caller::Registering { id: partner.id })
            }
            _ => Err(Refusal::NotForPartners),
        };
    }
    Err(Refusal::UnknownToken)
}

/// How a token this node issued is kept: its SHA-256 digest.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn new_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}
