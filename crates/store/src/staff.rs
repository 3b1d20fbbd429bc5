//! Staff accounts of the operator API and their credentials (login tokens and API keys).

use crate::{Conn, Result, Row, StoreError, instant, millis, opt_instant, query};
pub use chargemesh_core::access::StaffStatus;
use chargemesh_core::access::{Role, Scope};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    /// `member_admin`, `member_finance`, `member_readonly` (the member's), or `admin`, `operator`,
    /// `readonly` (an operator's).
    pub role: Role,
    /// The operator this account works for; `None` for the member's accounts and for staff of every
    /// operator the node hosts.
    pub operator_id: Option<i64>,
    pub status: StaffStatus,
    pub created_at: Timestamp,
}

/// What a credential grants: the account's role and scope for a login, the key's own (never more)
/// for an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub credential_id: i64,
    pub kind: CredentialKind,
    pub role: Role,
    pub operator_id: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Login,
    ApiKey,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Login => "login",
            CredentialKind::ApiKey => "api_key",
        }
    }
}

/// An API key as listed (its secret is never stored).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The account the key acts for.
    pub staff_id: i64,
    pub username: String,
    /// The role it acts with.
    pub role: Role,
    /// The operator it reaches; `None`: what its account reaches.
    pub operator_id: Option<i64>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

const STAFF_COLUMNS: &str = "s.id, s.username, s.password_hash, s.role, s.operator_id, s.status, s.created_at";

fn role(text: String) -> Result<Role> {
    Role::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("unknown staff role {text:?}")))
}

fn member(row: &Row) -> Result<StaffMember> {
    Ok(StaffMember {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        role: role(row.try_get("role")?)?,
        operator_id: row.try_get("operator_id")?,
        status: {
            let text: String = row.try_get("status")?;
            StaffStatus::parse(&text)
                .ok_or_else(|| StoreError::Corrupt(format!("a staff account in status {text:?}")))?
        },
        created_at: instant(row.try_get("created_at")?)?,
    })
}

pub async fn count_staff(conn: &mut Conn) -> Result<i64> {
    query("SELECT COUNT(*) FROM staff").fetch_one(conn).await?.try_get(0)
}

/// Active accounts with `role`: the last member administrator may not be disabled or deleted.
pub async fn count_active_with_role(conn: &mut Conn, role: Role) -> Result<i64> {
    query("SELECT COUNT(*) FROM staff WHERE role = $1 AND status = $2")
        .bind(role.as_str())
        .bind(StaffStatus::Active.as_str())
        .fetch_one(conn)
        .await?
        .try_get(0)
}

pub async fn create_staff(
    conn: &mut Conn,
    username: &str,
    password_hash: &str,
    role: Role,
    operator_id: Option<i64>,
    now: Timestamp,
) -> Result<StaffMember> {
    let row = query(
        "INSERT INTO staff (username, password_hash, role, operator_id, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(operator_id)
    .bind(StaffStatus::Active.as_str())
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    Ok(StaffMember {
        id: row.try_get(0)?,
        username: username.to_owned(),
        password_hash: password_hash.to_owned(),
        role,
        operator_id,
        status: StaffStatus::Active,
        created_at: now,
    })
}

pub async fn staff_by_username(conn: &mut Conn, username: &str) -> Result<Option<StaffMember>> {
    query(format!("SELECT {STAFF_COLUMNS} FROM staff s WHERE s.username = $1"))
        .bind(username)
        .fetch_optional(conn)
        .await?
        .map(|row| member(&row))
        .transpose()
}

pub async fn get_staff(conn: &mut Conn, id: i64) -> Result<Option<StaffMember>> {
    query(format!("SELECT {STAFF_COLUMNS} FROM staff s WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|row| member(&row))
        .transpose()
}

/// The accounts of `operator_id` (every account for `None`), by id.
pub async fn list_staff(conn: &mut Conn, operator_id: Option<i64>) -> Result<Vec<StaffMember>> {
    query(format!("SELECT {STAFF_COLUMNS} FROM staff s WHERE ($1 IS NULL OR s.operator_id = $1) ORDER BY s.id"))
        .bind(operator_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(member)
        .collect()
}

/// Enables or disables an account; disabling ends its logins (its API keys are refused while it is
/// disabled).
pub async fn set_status(conn: &mut Conn, id: i64, status: StaffStatus) -> Result<bool> {
    let done =
        query("UPDATE staff SET status = $2 WHERE id = $1").bind(id).bind(status.as_str()).execute(&mut *conn).await?;
    if status == StaffStatus::Disabled {
        end_logins(conn, id, None).await?;
    }
    Ok(done > 0)
}

/// Sets a new password and ends every login of the account but `keep` (the digest of the one that
/// asked, when the account changes its own).
pub async fn set_password(conn: &mut Conn, id: i64, password_hash: &str, keep: Option<&str>) -> Result<()> {
    query("UPDATE staff SET password_hash = $2 WHERE id = $1").bind(id).bind(password_hash).execute(&mut *conn).await?;
    end_logins(conn, id, keep).await
}

async fn end_logins(conn: &mut Conn, id: i64, keep: Option<&str>) -> Result<()> {
    query(
        "DELETE FROM staff_credentials WHERE staff_id = $1 AND kind = 'login' \
         AND ($2 IS NULL OR secret_digest <> $2)",
    )
    .bind(id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes an account with every credential it has.
pub async fn delete_staff(conn: &mut Conn, id: i64) -> Result<bool> {
    query("DELETE FROM staff_credentials WHERE staff_id = $1").bind(id).execute(&mut *conn).await?;
    Ok(query("DELETE FROM staff WHERE id = $1").bind(id).execute(conn).await? > 0)
}

/// What a new credential is: a login (acting as its account) or an API key with its own name, role
/// and operator.
pub struct NewCredential<'a> {
    pub secret_digest: &'a str,
    pub staff_id: i64,
    pub kind: CredentialKind,
    pub name: Option<&'a str>,
    pub role: Option<Role>,
    pub operator_id: Option<i64>,
    pub expires_at: Option<Timestamp>,
}

/// Stores a credential by the digest of its secret; the secret itself is shown once and never
/// stored. Returns its id.
pub async fn add_credential(conn: &mut Conn, new: &NewCredential<'_>, now: Timestamp) -> Result<i64> {
    query(
        "INSERT INTO staff_credentials (secret_digest, staff_id, kind, name, role, operator_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.secret_digest)
    .bind(new.staff_id)
    .bind(new.kind.as_str())
    .bind(new.name)
    .bind(new.role.map(Role::as_str))
    .bind(new.operator_id)
    .bind(millis(now))
    .bind(new.expires_at.map(millis))
    .fetch_one(conn)
    .await?
    .try_get(0)
}

/// The active account a credential belongs to and what the credential grants, if it exists and has
/// not expired at `now`. A key that would now exceed its account (the account's role or operator
/// changed) grants nothing.
pub async fn staff_by_credential(
    conn: &mut Conn,
    secret_digest: &str,
    now: Timestamp,
) -> Result<Option<(StaffMember, Grant)>> {
    let row = query(format!(
        "SELECT {STAFF_COLUMNS}, c.id AS credential_id, c.kind, c.role AS key_role, \
         c.operator_id AS key_operator_id, c.expires_at \
         FROM staff_credentials c JOIN staff s ON s.id = c.staff_id WHERE c.secret_digest = $1 AND s.status = $2"
    ))
    .bind(secret_digest)
    .bind(StaffStatus::Active.as_str())
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if opt_instant(row.try_get("expires_at")?)?.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let staff = member(&row)?;
    let kind: String = row.try_get("kind")?;
    let grant = if kind == CredentialKind::ApiKey.as_str() {
        let key_role = role(row.try_get("key_role")?)?;
        let key_operator: Option<i64> = row.try_get("key_operator_id")?;
        let operator_id = key_operator.or(staff.operator_id);
        let within = key_role.within(staff.role)
            && chargemesh_core::access::scope_within(operator_id, staff.operator_id)
            && !(key_role.is_member_role() && operator_id.is_some());
        if !within {
            return Ok(None);
        }
        Grant {
            credential_id: row.try_get("credential_id")?,
            kind: CredentialKind::ApiKey,
            role: key_role,
            operator_id,
        }
    } else {
        Grant {
            credential_id: row.try_get("credential_id")?,
            kind: CredentialKind::Login,
            role: staff.role,
            operator_id: staff.operator_id,
        }
    };
    Ok(Some((staff, grant)))
}

pub async fn revoke_credential(conn: &mut Conn, secret_digest: &str) -> Result<bool> {
    let done =
        query("DELETE FROM staff_credentials WHERE secret_digest = $1").bind(secret_digest).execute(conn).await?;
    Ok(done > 0)
}

fn api_key(row: &Row) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        name: row.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
        staff_id: row.try_get("staff_id")?,
        username: row.try_get("username")?,
        role: role(row.try_get("role")?)?,
        operator_id: row.try_get("operator_id")?,
        created_at: instant(row.try_get("created_at")?)?,
        expires_at: opt_instant(row.try_get("expires_at")?)?,
    })
}

const KEY_SELECT: &str = "SELECT c.id, c.name, c.staff_id, s.username, c.role, c.operator_id, c.created_at, \
    c.expires_at FROM staff_credentials c JOIN staff s ON s.id = c.staff_id WHERE c.kind = 'api_key'";

/// The API keys of one account (`staff_id`), or of every account of an operator (`operator_id`;
/// `None` for every account), newest first.
pub async fn list_api_keys(conn: &mut Conn, staff_id: Option<i64>, operator_id: Option<i64>) -> Result<Vec<ApiKey>> {
    query(format!(
        "{KEY_SELECT} AND ($1 IS NULL OR c.staff_id = $1) AND ($2 IS NULL OR s.operator_id = $2) ORDER BY c.id DESC"
    ))
    .bind(staff_id)
    .bind(operator_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(api_key)
    .collect()
}

pub async fn get_api_key(conn: &mut Conn, id: i64) -> Result<Option<ApiKey>> {
    query(format!("{KEY_SELECT} AND c.id = $1")).bind(id).fetch_optional(conn).await?.map(|r| api_key(&r)).transpose()
}

pub async fn revoke_api_key(conn: &mut Conn, id: i64) -> Result<bool> {
    Ok(query("DELETE FROM staff_credentials WHERE id = $1 AND kind = 'api_key'").bind(id).execute(conn).await? > 0)
}
