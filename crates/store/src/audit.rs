//! The audit log: every change made through the API, every login, every governance act and every
//! money movement, appended and never changed. This module has no function that updates or deletes
//! an entry, and neither has the product.

use crate::{Conn, Result, Row, instant, millis, query};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    /// `staff`, `driver`, `anonymous` (a login attempt) or `node` (the node itself: payments).
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    /// The username of the account acting (or tried, for a failed login).
    pub actor_name: Option<String>,
    /// The role the actor acted with.
    pub actor_role: Option<String>,
    /// The operator the acting account works for.
    pub actor_operator_id: Option<i64>,
    /// `login` or `api_key <id>`: the credential the request came with.
    pub credential: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// What was done, e.g. `sites.update`, `auth.login_failed`, `money.capture`.
    pub action: String,
    /// What it was done to, e.g. `/api/v1/sites/3`, `session 42`.
    pub object: Option<String>,
    /// The operator whose object it is; `None` for the member's own business.
    pub operator_id: Option<i64>,
    /// The HTTP status the request was answered with (`None` for what the node did by itself).
    pub status: Option<i64>,
    /// What was asked: the request's body, secrets left out.
    pub request: Option<Value>,
    /// The object before and after the change, where there is one.
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Anything else worth knowing: why a login failed, a refusal's message.
    pub detail: Option<String>,
}

/// Whose entries a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    /// Everything (the member's roles).
    All,
    /// Every operator's entries, not the member's own business (staff of every operator).
    Operators,
    /// One operator's entries.
    Operator(i64),
}

/// Which entries to read, newest first.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    pub scope: AuditScope,
    pub actor: Option<String>,
    /// An action, or a prefix of actions ending in `.` (`sites.`).
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Erases `text` (a closed account's username, name or token) from every entry that holds it,
/// writing `replacement` instead: the one edit the audit log ever gets, as China's PIPL requires
/// when a driver closes their account. With `about` (a driver's id, and texts naming that driver),
/// only entries by that driver or holding one of those texts are edited.
pub async fn erase(conn: &mut Conn, text: &str, replacement: &str, about: Option<(i64, &[String])>) -> Result<()> {
    let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let ids: Vec<i64> = query(
        "SELECT id FROM audit_log WHERE actor_name LIKE $1 ESCAPE '\\' OR object LIKE $1 ESCAPE '\\' \
         OR request_json LIKE $1 ESCAPE '\\' OR before_json LIKE $1 ESCAPE '\\' OR after_json LIKE $1 ESCAPE '\\' \
         OR detail LIKE $1 ESCAPE '\\'",
    )
    .bind(pattern)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| row.try_get("id"))
    .collect::<Result<_>>()?;
    for id in ids {
        if let Some((driver, texts)) = about {
            let row = query(
                "SELECT actor_kind, actor_id, object, request_json, before_json, after_json FROM audit_log WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
            let by_driver = row.try_get::<String, _>("actor_kind")? == "driver"
                && row.try_get::<Option<i64>, _>("actor_id")? == Some(driver);
            let mut held = String::new();
            for column in ["object", "request_json", "before_json", "after_json"] {
                held.push_str(&row.try_get::<Option<String>, _>(column)?.unwrap_or_default());
            }
            if !by_driver && !texts.iter().any(|t| held.contains(t.as_str())) {
                continue;
            }
        }
        query(
            "UPDATE audit_log SET actor_name = REPLACE(actor_name, $2, $3), object = REPLACE(object, $2, $3), \
             request_json = REPLACE(request_json, $2, $3), before_json = REPLACE(before_json, $2, $3), \
             after_json = REPLACE(after_json, $2, $3), detail = REPLACE(detail, $2, $3) WHERE id = $1",
        )
        .bind(id)
        .bind(text)
        .bind(replacement)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Appends an entry (its `id` is ignored) and returns its id.
pub async fn append(conn: &mut Conn, entry: &AuditEntry) -> Result<i64> {
    query(
        "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, actor_role, actor_operator_id, credential, \
         address, action, object, operator_id, status, request_json, before_json, after_json, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(millis(entry.at))
    .bind(entry.actor_kind.as_str())
    .bind(entry.actor_id)
    .bind(entry.actor_name.as_deref())
    .bind(entry.actor_role.as_deref())
    .bind(entry.actor_operator_id)
    .bind(entry.credential.as_deref())
    .bind(entry.address.as_deref())
    .bind(entry.action.as_str())
    .bind(entry.object.as_deref())
    .bind(entry.operator_id)
    .bind(entry.status)
    .bind(entry.request.as_ref().map(Value::to_string))
    .bind(entry.before.as_ref().map(Value::to_string))
    .bind(entry.after.as_ref().map(Value::to_string))
    .bind(entry.detail.as_deref())
    .fetch_one(conn)
    .await?
    .try_get(0)
}

fn json(text: Option<String>) -> Option<Value> {
    // Written by `append` from a Value, so it reads back; anything else is kept as text.
    text.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

fn entry(row: Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: instant(row.try_get("at")?)?,
        actor_kind: row.try_get("actor_kind")?,
        actor_id: row.try_get("actor_id")?,
        actor_name: row.try_get("actor_name")?,
        actor_role: row.try_get("actor_role")?,
        actor_operator_id: row.try_get("actor_operator_id")?,
        credential: row.try_get("credential")?,
        address: row.try_get("address")?,
        action: row.try_get("action")?,
        object: row.try_get("object")?,
        operator_id: row.try_get("operator_id")?,
        status: row.try_get("status")?,
        request: json(row.try_get("request_json")?),
        before: json(row.try_get("before_json")?),
        after: json(row.try_get("after_json")?),
        detail: row.try_get("detail")?,
    })
}

/// The entries `filter` asks for, newest first.
pub async fn list(conn: &mut Conn, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let (scope_all, operator) = match filter.scope {
        AuditScope::All => (1i64, None),
        AuditScope::Operators => (0, None),
        AuditScope::Operator(id) => (0, Some(id)),
    };
    let (action, action_prefix) = match &filter.action {
        Some(a) if a.ends_with('.') => (None, Some(format!("{a}%"))),
        Some(a) => (Some(a.clone()), None),
        None => (None, None),
    };
    query(
        "SELECT id, at, actor_kind, actor_id, actor_name, actor_role, actor_operator_id, credential, address, action, \
         object, operator_id, status, request_json, before_json, after_json, detail FROM audit_log \
         WHERE ($1 = 1 OR (operator_id IS NOT NULL AND ($2 IS NULL OR operator_id = $2))) \
         AND ($3 IS NULL OR actor_name = $3) AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR action LIKE $5) \
         AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) AND ($8 IS NULL OR id < $8) \
         ORDER BY id DESC LIMIT $9",
    )
    .bind(scope_all)
    .bind(operator)
    .bind(filter.actor.as_deref())
    .bind(action.as_deref())
    .bind(action_prefix.as_deref())
    .bind(filter.from.map(millis))
    .bind(filter.to.map(millis))
    .bind(filter.before_id)
    .bind(filter.limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(entry)
    .collect()
}
