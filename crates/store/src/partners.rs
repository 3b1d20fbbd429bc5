//! Platforms outside the consortium using this node's OCPI endpoints (OCPI credentials): created by
//! an administrator with a registration token, registered by the partner, revoked by either.
//! Tokens this node issues are looked up by their SHA-256 digest; they are never stored.

use crate::{Conn, Result, Row, instant, millis, query};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    /// Registered: the partner gave its credentials and calls with the token issued then.
    pub registered: bool,
    /// The partner's versions URL, once registered.
    pub versions_url: Option<String>,
    /// The partner's roles (OCPI `CredentialsRole` list, JSON), once registered.
    pub roles: Option<serde_json::Value>,
    #[serde(skip)]
    pub token_b: Option<String>,
    pub created_at: Timestamp,
    pub registered_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const SELECT: &str = "SELECT id, name, token_c_hash, token_b, versions_url, roles, created_at, registered_at, \
    revoked_at FROM ocpi_partners";

fn partner(row: Row) -> Result<Partner> {
    let token_c: Option<String> = row.try_get("token_c_hash")?;
    let roles: Option<String> = row.try_get("roles")?;
    let at = |ms: Option<i64>| ms.map(instant).transpose();
    Ok(Partner {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        registered: token_c.is_some(),
        versions_url: row.try_get("versions_url")?,
        roles: roles.and_then(|r| serde_json::from_str(&r).ok()),
        token_b: row.try_get("token_b")?,
        created_at: instant(row.try_get("created_at")?)?,
        registered_at: at(row.try_get("registered_at")?)?,
        revoked_at: at(row.try_get("revoked_at")?)?,
    })
}

/// A partner to come, which registers with the token whose digest is `token_a_hash`.
pub async fn create(conn: &mut Conn, name: &str, token_a_hash: &str, now: Timestamp) -> Result<i64> {
    let row = query("INSERT INTO ocpi_partners (name, token_a_hash, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(name)
        .bind(token_a_hash)
        .bind(millis(now))
        .fetch_one(conn)
        .await?;
    row.try_get("id")
}

/// Who calls with a token: a partner not revoked that registers with it (`false`) or is registered
/// with it (`true`).
pub async fn by_token(conn: &mut Conn, token_hash: &str) -> Result<Option<(Partner, bool)>> {
    let row = query(format!("{SELECT} WHERE revoked_at IS NULL AND (token_a_hash = $1 OR token_c_hash = $1)"))
        .bind(token_hash)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let registered_with_it = row.try_get::<Option<String>, _>("token_c_hash")?.as_deref() == Some(token_hash);
    Ok(Some((partner(row)?, registered_with_it)))
}

/// What a partner gave at registration (or at an update), and the digest of the token issued to it
/// now; the registration token is spent. Returns whether the partner is still there.
pub async fn register(
    conn: &mut Conn,
    id: i64,
    token_c_hash: &str,
    (token_b, versions_url, roles): (&str, &str, &str),
    now: Timestamp,
) -> Result<bool> {
    let changed = query(
        "UPDATE ocpi_partners SET token_a_hash = NULL, token_c_hash = $2, token_b = $3, versions_url = $4, roles = $5, \
         registered_at = $6 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(token_c_hash)
    .bind(token_b)
    .bind(versions_url)
    .bind(roles)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Ends a partner's access: its tokens no longer work. Returns whether it had access.
pub async fn revoke(conn: &mut Conn, id: i64, now: Timestamp) -> Result<bool> {
    let changed = query(
        "UPDATE ocpi_partners SET revoked_at = $2, token_a_hash = NULL, token_c_hash = NULL \
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

pub async fn list(conn: &mut Conn) -> Result<Vec<Partner>> {
    query(format!("{SELECT} ORDER BY id")).fetch_all(conn).await?.into_iter().map(partner).collect()
}
