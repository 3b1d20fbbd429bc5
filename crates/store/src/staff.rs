//! Staff accounts of the operator API and their credentials (login tokens and API keys).

use crate::{Conn, Result, Row, instant, millis, opt_instant, query};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffMember {
    pub id: i64,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    /// `admin`, `operator` or `readonly`.
    pub role: String,
    /// The operator this account works for; `None` for the node's own administrators, who see all.
    pub operator_id: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

fn member(row: Row) -> Result<StaffMember> {
    Ok(StaffMember {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        role: row.try_get("role")?,
        operator_id: row.try_get("operator_id")?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

pub async fn count_staff(conn: &mut Conn) -> Result<i64> {
    query("SELECT COUNT(*) FROM staff").fetch_one(conn).await?.try_get(0)
}

pub async fn create_staff(
    conn: &mut Conn,
    username: &str,
    password_hash: &str,
    role: &str,
    operator_id: Option<i64>,
    now: Timestamp,
) -> Result<StaffMember> {
    let row = query(
        "INSERT INTO staff (username, password_hash, role, operator_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role)
    .bind(operator_id)
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    Ok(StaffMember {
        id: row.try_get(0)?,
        username: username.to_owned(),
        password_hash: password_hash.to_owned(),
        role: role.to_owned(),
        operator_id,
        created_at: now,
    })
}

pub async fn staff_by_username(conn: &mut Conn, username: &str) -> Result<Option<StaffMember>> {
    query("SELECT id, username, password_hash, role, operator_id, created_at FROM staff WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?
        .map(member)
        .transpose()
}

pub async fn list_staff(conn: &mut Conn, operator_id: Option<i64>) -> Result<Vec<StaffMember>> {
    query(
        "SELECT id, username, password_hash, role, operator_id, created_at FROM staff \
         WHERE ($1 IS NULL OR operator_id = $1) ORDER BY id",
    )
    .bind(operator_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(member)
    .collect()
}

/// Stores a credential by the digest of its secret; the secret itself is shown once and never stored.
pub async fn add_credential(
    conn: &mut Conn,
    secret_digest: &str,
    staff_id: i64,
    kind: &str,
    name: Option<&str>,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO api_credentials (secret_digest, staff_id, kind, name, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(secret_digest)
    .bind(staff_id)
    .bind(kind)
    .bind(name)
    .bind(millis(now))
    .bind(expires_at.map(millis))
    .execute(conn)
    .await?;
    Ok(())
}

/// The staff member a credential belongs to, if it exists and has not expired at `now`.
pub async fn staff_by_credential(conn: &mut Conn, secret_digest: &str, now: Timestamp) -> Result<Option<StaffMember>> {
    let row = query(
        "SELECT s.id, s.username, s.password_hash, s.role, s.operator_id, s.created_at, c.expires_at \
         FROM api_credentials c JOIN staff s ON s.id = c.staff_id WHERE c.secret_digest = $1",
    )
    .bind(secret_digest)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if opt_instant(row.try_get("expires_at")?)?.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    member(row).map(Some)
}

pub async fn revoke_credential(conn: &mut Conn, secret_digest: &str) -> Result<bool> {
    let done = query("DELETE FROM api_credentials WHERE secret_digest = $1").bind(secret_digest).execute(conn).await?;
    Ok(done > 0)
}
