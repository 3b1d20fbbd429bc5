//! The audit trail the API leaves: the access layer records every request that changes something
//! (or is refused the right to) — who, with which role and operator, what, the object before (a
//! handler attaches it with [`Before`]) and after (the answer), when and from where; logins record
//! themselves ([`Login`]). Secrets are redacted before anything is written.

use super::ApiState;
use super::errors::ApiError;
use super::login_throttle::{Realm, client_address};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chargemesh_core::access::Role;
use chargemesh_store::audit::AuditEntry;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// The object a change found, before it changed: a handler returns it as a response extension.
#[derive(Debug, Clone)]
pub struct Before(pub Value);

/// Texts the change itself erased (a closed account's username and tokens), each with what replaced
/// it: a handler returns them as a response extension, so that the change's own entry holds them
/// no more than the entries before it.
#[derive(Debug, Clone)]
pub struct Erased(pub Vec<(String, String)>);

impl Before {
    pub fn of<T: Serialize>(object: &T) -> axum::Extension<Before> {
        axum::Extension(Before(serde_json::to_value(object).unwrap_or(Value::Null)))
    }
}

/// The address a request comes from (see `api.forwarded_for`).
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    pub fn of(parts_extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap, state: &ApiState) -> IpAddr {
        let peer = parts_extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
        client_address(peer, headers, state.settings.forwarded_for)
    }
}

impl FromRequestParts<Arc<ApiState>> for ClientAddress {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, ApiError> {
        Ok(ClientAddress(ClientAddress::of(&parts.extensions, &parts.headers, state)))
    }
}

/// Who made a request, as the audit log names them.
pub enum Actor {
    Staff { id: i64, username: String, role: Role, operator_id: Option<i64>, credential: String },
    Driver { id: i64, username: String, operator_id: i64 },
    Anonymous,
}

impl Actor {
    fn entry(&self, action: &str, address: IpAddr, at: Timestamp) -> AuditEntry {
        let mut entry = AuditEntry {
            id: 0,
            at,
            actor_kind: "anonymous".into(),
            actor_id: None,
            actor_name: None,
            actor_role: None,
            actor_operator_id: None,
            credential: None,
            address: Some(address.to_string()),
            action: action.to_owned(),
            object: None,
            operator_id: None,
            status: None,
            request: None,
            before: None,
            after: None,
            detail: None,
        };
        match self {
            Actor::Staff { id, username, role, operator_id, credential } => {
                entry.actor_kind = "staff".into();
                entry.actor_id = Some(*id);
                entry.actor_name = Some(username.clone());
                entry.actor_role = Some(role.as_str().into());
                entry.actor_operator_id = *operator_id;
                entry.credential = Some(credential.clone());
            }
            Actor::Driver { id, username, operator_id } => {
                entry.actor_kind = "driver".into();
                entry.actor_id = Some(*id);
                entry.actor_name = Some(username.clone());
                entry.actor_operator_id = Some(*operator_id);
            }
            Actor::Anonymous => {}
        }
        entry
    }
}

/// Whether a field's value is a secret, never written to the log: any password (the current one of
/// a password change too), secret, key or token given or shown.
fn is_secret(name: &str) -> bool {
    name.contains("password") || name.contains("secret") || ["key", "token", "token_a", "auth_key"].contains(&name)
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                if is_secret(name) && !field.is_null() {
                    *field = Value::String("[secret]".into());
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A request's body as JSON, to record what was asked, and the request to pass on with it.
pub async fn take_request_body(request: Request<Body>) -> Result<(Request<Body>, Option<Value>), Response> {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(bytes) => {
            let asked = serde_json::from_slice(&bytes).ok();
            Ok((Request::from_parts(parts, Body::from(bytes)), asked))
        }
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body is larger than {MAX_REQUEST_BYTES} bytes"),
        )
        .into_response()),
    }
}

/// The largest request body accepted by the API (axum's default limit for JSON bodies).
const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// The largest answer kept as an entry's `after`.
const MAX_AFTER_BYTES: usize = 256 * 1024;

/// Appends the entry of a request that changes something (or was refused), with the object before
/// and after, and passes the answer on unchanged.
pub async fn record_change(
    state: &ApiState,
    action: &str,
    actor: &Actor,
    address: IpAddr,
    (path, request): (&str, Option<Value>),
    response: Response,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, path, "the answer of a change could not be read for the audit log");
            return ApiError::internal().into_response();
        }
    };
    let mut entry = actor.entry(action, address, Timestamp::now());
    entry.object = Some(path.to_owned());
    entry.status = Some(i64::from(parts.status.as_u16()));
    let answer: Option<Value> = serde_json::from_slice(&bytes).ok();
    entry.request = request;
    entry.before = parts.extensions.remove::<Before>().map(|b| b.0);
    if parts.status.is_success() {
        entry.after = answer.filter(|_| bytes.len() <= MAX_AFTER_BYTES);
    } else {
        entry.detail = answer.as_ref().and_then(|a| a["message"].as_str()).map(str::to_owned);
    }
    for value in [&mut entry.request, &mut entry.before, &mut entry.after].into_iter().flatten() {
        redact(value);
    }
    let owner = |v: &Option<Value>| v.as_ref().and_then(operator_of);
    entry.operator_id = owner(&entry.after).or_else(|| owner(&entry.before)).or(entry.actor_operator_id);
    if let Some(Erased(texts)) = parts.extensions.remove::<Erased>() {
        erase(&mut entry, &texts);
    }
    append(state, entry).await;
    Response::from_parts(parts, Body::from(bytes))
}

/// Writes each erased text's replacement wherever the entry holds it.
fn erase(entry: &mut AuditEntry, texts: &[(String, String)]) {
    for (text, replacement) in texts {
        for field in [&mut entry.actor_name, &mut entry.object, &mut entry.detail].into_iter().flatten() {
            *field = field.replace(text.as_str(), replacement);
        }
        for value in [&mut entry.request, &mut entry.before, &mut entry.after].into_iter().flatten() {
            let replaced = value.to_string().replace(text.as_str(), replacement);
            *value = serde_json::from_str(&replaced).unwrap_or(Value::Null);
        }
    }
}

/// The operator an object belongs to: its `operator_id`, at its top or in what it holds (a charger's
/// view holds the charger, a refund's answer the payment).
fn operator_of(object: &Value) -> Option<i64> {
    match object {
        Value::Object(map) => {
            map.get("operator_id").and_then(Value::as_i64).or_else(|| map.values().find_map(operator_of))
        }
        Value::Array(items) => items.iter().find_map(operator_of),
        _ => None,
    }
}

async fn append(state: &ApiState, entry: AuditEntry) {
    let action = entry.action.clone();
    if let Err(error) = state.operations.append_audit_entry(entry).await {
        tracing::error!(%error, action, "an audit log entry could not be written");
    }
}

/// A login attempt, for the audit log and the node's log.
pub struct Login<'a> {
    pub realm: Realm,
    pub username: &'a str,
    pub address: IpAddr,
}

impl Login<'_> {
    fn action(&self, outcome: &str) -> String {
        match self.realm {
            Realm::Staff => format!("auth.{outcome}"),
            Realm::Driver => format!("driver.{outcome}"),
        }
    }

    /// An attempt refused while its account or address waits after wrong passwords: logged as a
    /// warning only (appending each to the audit log would let anyone grow it at no cost).
    pub fn waiting(&self) {
        tracing::warn!(username = self.username, address = %self.address, realm = ?self.realm, "a login was refused: waiting after wrong passwords");
    }

    /// A refused login: logged as a warning and appended to the audit log with why.
    pub async fn failed(&self, state: &ApiState, operator_id: Option<i64>, why: &str) {
        tracing::warn!(username = self.username, address = %self.address, realm = ?self.realm, why, "a login failed");
        let mut entry = Actor::Anonymous.entry(&self.action("login_failed"), self.address, Timestamp::now());
        entry.actor_name = Some(self.username.to_owned());
        entry.operator_id = operator_id;
        entry.detail = Some(why.to_owned());
        append(state, entry).await;
    }

    pub async fn succeeded(&self, state: &ApiState, id: i64, role: Option<&str>, operator_id: Option<i64>) {
        let mut entry = Actor::Anonymous.entry(&self.action("login"), self.address, Timestamp::now());
        entry.actor_kind = match self.realm {
            Realm::Staff => "staff".into(),
            Realm::Driver => "driver".into(),
        };
        entry.actor_id = Some(id);
        entry.actor_name = Some(self.username.to_owned());
        entry.actor_role = role.map(str::to_owned);
        entry.actor_operator_id = operator_id;
        entry.operator_id = operator_id;
        entry.credential = Some("login".into());
        append(state, entry).await;
    }
}
