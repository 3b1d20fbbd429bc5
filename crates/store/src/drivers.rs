//! Drivers' accounts of the driver API and their login tokens.

use crate::{Conn, Result, Row, StoreError, instant, millis, opt_instant, query};
pub use chargemesh_core::authorization::DriverStatus;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Driver {
    pub id: i64,
    /// The operator whose driver this is.
    pub operator_id: i64,
    /// What the driver logs in with: a phone number or an e-mail address.
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub name: Option<String>,
    pub status: DriverStatus,
    /// Logins of the account wait until then after wrong passwords in a row (each one more makes the
    /// wait longer, up to a minute; see the README's logins section).
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
}

const SELECT: &str = "SELECT d.id, d.operator_id, d.username, d.password_hash, d.name, d.status, \
    f.blocked_until AS locked_until, d.created_at FROM drivers d \
    LEFT JOIN login_failures f ON f.subject = 'driver:' || d.username";

fn driver(row: Row) -> Result<Driver> {
    Ok(Driver {
        id: row.try_get("id")?,
        operator_id: row.try_get("operator_id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        name: row.try_get("name")?,
        status: {
            let text: String = row.try_get("status")?;
            DriverStatus::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("a driver in status {text:?}")))?
        },
        locked_until: opt_instant(row.try_get("locked_until")?)?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

pub async fn create_driver(
    conn: &mut Conn,
    operator_id: i64,
    username: &str,
    password_hash: &str,
    name: Option<&str>,
    now: Timestamp,
) -> Result<Driver> {
    let row = query(
        "INSERT INTO drivers (operator_id, username, password_hash, name, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(operator_id)
    .bind(username)
    .bind(password_hash)
    .bind(name)
    .bind(DriverStatus::Active.as_str())
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    Ok(Driver {
        id: row.try_get(0)?,
        operator_id,
        username: username.to_owned(),
        password_hash: password_hash.to_owned(),
        name: name.map(str::to_owned),
        status: DriverStatus::Active,
        locked_until: None,
        created_at: now,
    })
}

pub async fn get_driver(conn: &mut Conn, id: i64) -> Result<Option<Driver>> {
    query(format!("{SELECT} WHERE d.id = $1")).bind(id).fetch_optional(conn).await?.map(driver).transpose()
}

pub async fn driver_by_username(conn: &mut Conn, username: &str) -> Result<Option<Driver>> {
    query(format!("{SELECT} WHERE d.username = $1")).bind(username).fetch_optional(conn).await?.map(driver).transpose()
}

/// The driver whose username is one of `usernames` (a phone number's spellings), the first found.
pub async fn driver_by_usernames(conn: &mut Conn, usernames: &[String]) -> Result<Option<Driver>> {
    for username in usernames {
        if let Some(driver) = driver_by_username(&mut *conn, username).await? {
            return Ok(Some(driver));
        }
    }
    Ok(None)
}

/// The drivers of `operator_id` (all, for `None`), by id.
pub async fn list_drivers(conn: &mut Conn, operator_id: Option<i64>) -> Result<Vec<Driver>> {
    query(format!("{SELECT} WHERE ($1 IS NULL OR d.operator_id = $1) ORDER BY d.id"))
        .bind(operator_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(driver)
        .collect()
}

/// Blocks or unblocks a driver; blocking also ends every login.
pub async fn set_status(conn: &mut Conn, id: i64, status: DriverStatus) -> Result<bool> {
    let done = query("UPDATE drivers SET status = $2 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
    if status == DriverStatus::Blocked {
        query("DELETE FROM driver_credentials WHERE driver_id = $1").bind(id).execute(conn).await?;
    }
    Ok(done > 0)
}

/// Sets a new password and ends every login but `keep` (the digest of the one that asked).
pub async fn set_password(conn: &mut Conn, id: i64, password_hash: &str, keep: Option<&str>) -> Result<()> {
    query("UPDATE drivers SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(&mut *conn)
        .await?;
    query("DELETE FROM driver_credentials WHERE driver_id = $1 AND ($2 IS NULL OR secret_digest <> $2)")
        .bind(id)
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a login by the digest of its secret; the secret itself is shown once and never stored.
pub async fn add_credential(
    conn: &mut Conn,
    secret_digest: &str,
    driver_id: i64,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    query("INSERT INTO driver_credentials (secret_digest, driver_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(secret_digest)
        .bind(driver_id)
        .bind(millis(now))
        .bind(millis(expires_at))
        .execute(conn)
        .await?;
    Ok(())
}

/// The active driver a login belongs to, if it has not expired at `now`.
pub async fn driver_by_credential(conn: &mut Conn, secret_digest: &str, now: Timestamp) -> Result<Option<Driver>> {
    query(format!(
        "{SELECT} JOIN driver_credentials c ON c.driver_id = d.id \
         WHERE c.secret_digest = $1 AND c.expires_at > $2 AND d.status = $3"
    ))
    .bind(secret_digest)
    .bind(millis(now))
    .bind(DriverStatus::Active.as_str())
    .fetch_optional(conn)
    .await?
    .map(driver)
    .transpose()
}

pub async fn revoke_credential(conn: &mut Conn, secret_digest: &str) -> Result<bool> {
    let done =
        query("DELETE FROM driver_credentials WHERE secret_digest = $1").bind(secret_digest).execute(conn).await?;
    Ok(done > 0)
}

/// A driver's login, as the driver's personal data lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Login {
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The logins of driver `id` that have not been ended.
pub async fn logins_of(conn: &mut Conn, id: i64) -> Result<Vec<Login>> {
    query("SELECT created_at, expires_at FROM driver_credentials WHERE driver_id = $1 ORDER BY created_at")
        .bind(id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| {
            Ok(Login {
                created_at: instant(row.try_get("created_at")?)?,
                expires_at: instant(row.try_get("expires_at")?)?,
            })
        })
        .collect()
}

/// Closes driver `id`'s account at the driver's request, leaving nothing personal: the account's
/// name, username and password go, its logins and counted wrong passwords too, and each of its
/// tokens (a card's UID, an app token) is replaced by its anonymous id in `renamed` wherever
/// accounting keeps it — the token itself (blocked, its payment method and label gone), sessions,
/// payments, wallet operations and the journal's wallet accounts, roaming starts and settlements,
/// commands sent to chargers, the payment provider's records — and erased from the audit log (the
/// one edit it ever gets). Amounts, energies and times stay.
pub async fn close_account(conn: &mut Conn, id: i64, renamed: &[(String, String)]) -> Result<()> {
    let Some(driver) = get_driver(&mut *conn, id).await? else { return Ok(()) };
    let closed_name = format!("closed-{id}");
    let methods: Vec<String> =
        query("SELECT payment_method FROM tokens WHERE driver_id = $1 AND payment_method IS NOT NULL")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| row.try_get("payment_method"))
            .collect::<Result<_>>()?;
    for method in methods.iter().filter(|m| m.as_str() != "wallet") {
        query("UPDATE sandbox_operations SET method = '[erased]' WHERE method = $1")
            .bind(method.as_str())
            .execute(&mut *conn)
            .await?;
    }
    // The name is erased from the entries about this driver only (another person may share it);
    // the username and tokens, unique, everywhere.
    if let Some(name) = &driver.name {
        let mut about: Vec<String> = vec![driver.username.clone(), format!("/api/v1/drivers/{id}")];
        about.extend(renamed.iter().map(|(old, _)| old.clone()));
        crate::audit::erase(&mut *conn, name, "[erased]", Some((id, &about))).await?;
    }
    crate::audit::erase(&mut *conn, &driver.username, &closed_name, None).await?;
    for (old, new) in renamed {
        crate::audit::erase(&mut *conn, old, new, None).await?;
    }
    // What the app kept for the driver: their favourite chargers, the last code sent to their number.
    query("DELETE FROM driver_favourites WHERE driver_id = $1").bind(id).execute(&mut *conn).await?;
    query("DELETE FROM phone_codes WHERE phone = $1").bind(&driver.username).execute(&mut *conn).await?;
    query("DELETE FROM login_failures WHERE subject = $1 OR subject LIKE $2")
        .bind(format!("driver:{}", driver.username))
        .bind(format!("driver:{}@%", driver.username))
        .execute(&mut *conn)
        .await?;
    query("UPDATE drivers SET username = $3, name = NULL, password_hash = '', status = $2 WHERE id = $1")
        .bind(id)
        .bind(DriverStatus::Closed.as_str())
        .bind(closed_name.as_str())
        .execute(&mut *conn)
        .await?;
    query("DELETE FROM driver_credentials WHERE driver_id = $1").bind(id).execute(&mut *conn).await?;
    for (old, new) in renamed {
        let (old, new) = (old.as_str(), new.as_str());
        query("UPDATE tokens SET id_token = $2, status = 'blocked', payment_method = NULL, label = NULL WHERE id_token = $1")
            .bind(old)
            .bind(new)
            .execute(&mut *conn)
            .await?;
        for statement in [
            "UPDATE tokens SET parent_id_token = $2 WHERE parent_id_token = $1",
            "UPDATE sessions SET id_token = $2 WHERE id_token = $1",
            "UPDATE payments SET id_token = $2, method = '[erased]' WHERE id_token = $1",
            "UPDATE wallet_operations SET id_token = $2, method = '[erased]' WHERE id_token = $1",
            "UPDATE roaming_starts SET id_token = $2 WHERE id_token = $1",
            "UPDATE roaming_settlements SET id_token = $2 WHERE id_token = $1",
        ] {
            query(statement).bind(old).bind(new).execute(&mut *conn).await?;
        }
        for prefix in ["wallet:", "wallet-hold:"] {
            let (old, new) = (format!("{prefix}{old}"), format!("{prefix}{new}"));
            for column in ["from_account", "to_account"] {
                query(format!("UPDATE money_movements SET {column} = $2 WHERE {column} = $1"))
                    .bind(old.as_str())
                    .bind(new.as_str())
                    .execute(&mut *conn)
                    .await?;
            }
        }
        // Commands name tokens in their JSON (`"id_token":"…"`).
        let (old, new) = (format!("\"{old}\""), format!("\"{new}\""));
        query("UPDATE commands SET command = REPLACE(command, $1, $2) WHERE command LIKE $3")
            .bind(old.as_str())
            .bind(new.as_str())
            .bind(format!("%{old}%"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
