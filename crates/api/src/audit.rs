//! The audit log, as the API reads it (the trail module writes it; money movements are recorded by
//! the store as they are journaled). Member roles read every entry, operator staff their
//! operator's; nobody edits one.

use super::ApiState;
use super::auth::Caller;
use super::errors::{ApiError, ApiResult};
use super::extract::Query;
use crate::views;
use crate::views::audit::AuditEntry;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chargemesh_store::audit::{AuditFilter, AuditScope};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries of this actor (a username).
    actor: Option<String>,
    /// Only this action (`sites.update`), or actions starting so when it ends in `.` (`sites.`).
    action: Option<String>,
    /// Only entries at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<Timestamp>,
    /// Only entries before this instant.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<Timestamp>,
    /// Only entries older than this one (the next page: the last id of this one).
    before_id: Option<i64>,
    /// At most this many (100 by default, at most 1,000).
    limit: Option<i64>,
}

fn filter(caller: &Caller, query: AuditQuery, limit: i64) -> AuditFilter {
    let scope = match caller.scope() {
        _ if caller.role().is_member_role() => AuditScope::All,
        None => AuditScope::Operators,
        Some(operator) => AuditScope::Operator(operator),
    };
    AuditFilter {
        scope,
        actor: query.actor,
        action: query.action,
        from: query.from,
        to: query.to,
        before_id: query.before_id,
        limit,
    }
}

/// The audit log, newest first: every entry for the member's roles, the operator's own for its
/// staff. Page with `before_id`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 401, body = super::errors::ErrorBody),
        (status = 422, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let filter = filter(&caller, query, limit);
    Ok(Json(views::all(state.operations.audit_entries(filter).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `jsonl` (one entry per line, as `GET /audit` gives them) or `csv`.
    format: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<Timestamp>,
}

const CSV_COLUMNS: [&str; 17] = [
    "id",
    "at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "actor_role",
    "actor_operator_id",
    "credential",
    "address",
    "action",
    "object",
    "operator_id",
    "status",
    "request",
    "before",
    "after",
    "detail",
];

/// A CSV field: quoted where RFC 4180 needs it, and a text a spreadsheet would take for a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return first) prefixed with `'`, since some of it (a
/// failed login's username) comes from anyone.
fn csv_field(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

fn csv_line(entry: &chargemesh_store::audit::AuditEntry) -> String {
    let value = serde_json::to_value(entry).unwrap_or(Value::Null);
    let line: Vec<String> = CSV_COLUMNS.iter().map(|c| csv_field(&value[*c])).collect();
    line.join(",") + "\r\n"
}

/// The whole selection of the audit log as a file, oldest last as in `GET /audit`: JSON lines or
/// CSV (RFC 4180, a header line first).
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(ExportQuery),
    responses((status = 200, description = "the entries, as application/x-ndjson or text/csv"),
        (status = 401, body = super::errors::ErrorBody), (status = 422, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let csv = match query.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => return Err(ApiError::invalid(format!("format {other:?}: jsonl or csv"))),
    };
    const PAGE: i64 = 1000;
    let selection = AuditQuery {
        actor: query.actor,
        action: query.action,
        from: query.from,
        to: query.to,
        before_id: None,
        limit: None,
    };
    let filter = filter(&caller, selection, PAGE);
    let operations = state.operations.clone();
    let header_line = csv.then(|| CSV_COLUMNS.join(",") + "\r\n");
    let pages = futures::stream::unfold(Some(filter), move |next| {
        let operations = operations.clone();
        async move {
            let page_filter = next?;
            let entries = match operations.audit_entries(page_filter.clone()).await {
                Ok(entries) => entries,
                Err(error) => return Some((Err(std::io::Error::other(error.to_string())), None)),
            };
            let following = (entries.len() as i64 == PAGE)
                .then(|| AuditFilter { before_id: entries.last().map(|e| e.id), ..page_filter });
            let text: String = entries
                .iter()
                .map(|e| if csv { csv_line(e) } else { serde_json::to_string(e).unwrap_or_default() + "\n" })
                .collect();
            Some((Ok::<_, std::io::Error>(text), following))
        }
    });
    let body = futures::StreamExt::chain(futures::stream::iter(header_line.map(Ok)), pages);
    let mut response = Body::from_stream(body).into_response();
    let (kind, extension) = if csv { ("text/csv; charset=utf-8", "csv") } else { ("application/x-ndjson", "jsonl") };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    let disposition = format!("attachment; filename=\"chargemesh-audit.{extension}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
