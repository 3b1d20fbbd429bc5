//! Id tokens an operator issues: RFID cards and app accounts.

use crate::{Conn, Result, Row, StoreError, instant, millis, opt_instant, query};
use chargemesh_core::IdToken;
use chargemesh_core::authorization::{TokenGrant, TokenStatus};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Token {
    pub id_token: String,
    pub operator_id: i64,
    /// `card` or `app`.
    pub kind: String,
    /// `active` or `blocked`.
    pub status: TokenStatus,
    pub expires_at: Option<Timestamp>,
    pub parent_id_token: Option<String>,
    pub label: Option<String>,
    /// How sessions of this token are paid: `wallet`, or a payment provider's reference to the
    /// holder's payment method (`sandbox:…` for the built-in sandbox); none when the operator bills
    /// the holder some other way.
    pub payment_method: Option<String>,
    /// The consortium member (party id, `CN-ABC`) whose driver this token stands for: the token is
    /// that member's pseudonym of the driver, and the member pays for the charge through the ledger.
    /// None: one of the operator's own drivers.
    pub emsp_party: Option<String>,
    /// The driver account (driver API) whose token this is.
    pub driver_id: Option<i64>,
    pub created_at: Timestamp,
}

impl Token {
    pub fn grant(&self) -> TokenGrant {
        TokenGrant {
            active: self.status == TokenStatus::Active,
            expires_at: self.expires_at,
            parent_id_token: self.parent_id_token.as_deref().and_then(|p| IdToken::parse(p).ok()),
        }
    }
}

fn read_status(text: &str) -> Result<TokenStatus> {
    TokenStatus::parse(text).ok_or_else(|| StoreError::Corrupt(format!("a token in an unknown status {text:?}")))
}

fn token(row: Row) -> Result<Token> {
    Ok(Token {
        id_token: row.try_get("id_token")?,
        operator_id: row.try_get("operator_id")?,
        kind: row.try_get("kind")?,
        status: read_status(&row.try_get::<String, _>("status")?)?,
        expires_at: opt_instant(row.try_get("expires_at")?)?,
        parent_id_token: row.try_get("parent_id_token")?,
        label: row.try_get("label")?,
        payment_method: row.try_get("payment_method")?,
        emsp_party: row.try_get("emsp_party")?,
        driver_id: row.try_get("driver_id")?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

const TOKEN_SELECT: &str = "SELECT id_token, operator_id, kind, status, expires_at, parent_id_token, label, payment_method, emsp_party, driver_id, created_at FROM tokens";

pub async fn upsert_token(conn: &mut Conn, token: &Token) -> Result<()> {
    query(
        "INSERT INTO tokens (id_token, operator_id, kind, status, expires_at, parent_id_token, label, payment_method, \
         emsp_party, driver_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id_token) DO UPDATE \
         SET kind = excluded.kind, status = excluded.status, expires_at = excluded.expires_at, \
         parent_id_token = excluded.parent_id_token, label = excluded.label, \
         payment_method = excluded.payment_method, emsp_party = excluded.emsp_party, driver_id = excluded.driver_id",
    )
    .bind(&token.id_token)
    .bind(token.operator_id)
    .bind(&token.kind)
    .bind(token.status.as_str())
    .bind(token.expires_at.map(millis))
    .bind(&token.parent_id_token)
    .bind(&token.label)
    .bind(&token.payment_method)
    .bind(&token.emsp_party)
    .bind(token.driver_id)
    .bind(millis(token.created_at))
    .execute(&mut *conn)
    .await?;
    // Sessions carry their driver's member for the publisher's index of roaming sessions.
    query("UPDATE sessions SET roaming_member = $2 WHERE id_token = $1 AND roaming_member IS DISTINCT FROM $2")
        .bind(&token.id_token)
        .bind(&token.emsp_party)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get_token(conn: &mut Conn, id_token: &str) -> Result<Option<Token>> {
    query(format!("{TOKEN_SELECT} WHERE id_token = $1"))
        .bind(id_token)
        .fetch_optional(conn)
        .await?
        .map(token)
        .transpose()
}

pub async fn list_tokens(conn: &mut Conn, operator_id: Option<i64>) -> Result<Vec<Token>> {
    query(format!("{TOKEN_SELECT} WHERE ($1 IS NULL OR operator_id = $1) ORDER BY id_token"))
        .bind(operator_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(token)
        .collect()
}

/// Sets a token's status (`active` or `blocked`); false when there is no such token.
pub async fn set_status(conn: &mut Conn, id_token: &str, status: TokenStatus) -> Result<bool> {
    let done = query("UPDATE tokens SET status = $2 WHERE id_token = $1")
        .bind(id_token)
        .bind(status.as_str())
        .execute(conn)
        .await?;
    Ok(done > 0)
}

/// The tokens of driver account `driver_id`.
pub async fn tokens_of_driver(conn: &mut Conn, driver_id: i64) -> Result<Vec<Token>> {
    query(format!("{TOKEN_SELECT} WHERE driver_id = $1 ORDER BY created_at, id_token"))
        .bind(driver_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(token)
        .collect()
}

pub async fn delete_token(conn: &mut Conn, id_token: &str) -> Result<bool> {
    let done = query("DELETE FROM tokens WHERE id_token = $1").bind(id_token).execute(conn).await?;
    Ok(done > 0)
}
