//! One-time codes sent to drivers' phones, kept as digests.

use crate::{Conn, Result, Row, instant, millis, query};
use jiff::Timestamp;

/// The code last sent to a number.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneCode {
    pub phone: String,
    pub code_digest: String,
    pub sent_at: Timestamp,
    pub expires_at: Timestamp,
    pub wrong_tries: i64,
    /// Since when `sent_this_hour` counts.
    pub hour_started_at: Timestamp,
    pub sent_this_hour: i64,
}

fn phone_code(row: Row) -> Result<PhoneCode> {
    Ok(PhoneCode {
        phone: row.try_get("phone")?,
        code_digest: row.try_get("code_digest")?,
        sent_at: instant(row.try_get("sent_at")?)?,
        expires_at: instant(row.try_get("expires_at")?)?,
        wrong_tries: row.try_get("wrong_tries")?,
        hour_started_at: instant(row.try_get("hour_started_at")?)?,
        sent_this_hour: row.try_get("sent_this_hour")?,
    })
}

pub async fn get(conn: &mut Conn, phone: &str) -> Result<Option<PhoneCode>> {
    query(
        "SELECT phone, code_digest, sent_at, expires_at, wrong_tries, hour_started_at, sent_this_hour \
         FROM phone_codes WHERE phone = $1",
    )
    .bind(phone)
    .fetch_optional(conn)
    .await?
    .map(phone_code)
    .transpose()
}

/// Keeps `code` as the number's one code (the one before is void).
pub async fn put(conn: &mut Conn, code: &PhoneCode) -> Result<()> {
    query(
        "INSERT INTO phone_codes (phone, code_digest, sent_at, expires_at, wrong_tries, hour_started_at, sent_this_hour) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (phone) DO UPDATE SET code_digest = $2, sent_at = $3, \
         expires_at = $4, wrong_tries = $5, hour_started_at = $6, sent_this_hour = $7",
    )
    .bind(&code.phone)
    .bind(&code.code_digest)
    .bind(millis(code.sent_at))
    .bind(millis(code.expires_at))
    .bind(code.wrong_tries)
    .bind(millis(code.hour_started_at))
    .bind(code.sent_this_hour)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a wrong try at the number's code.
pub async fn count_wrong_try(conn: &mut Conn, phone: &str) -> Result<()> {
    query("UPDATE phone_codes SET wrong_tries = wrong_tries + 1 WHERE phone = $1").bind(phone).execute(conn).await?;
    Ok(())
}

/// Spends the number's code: it cannot be used again (the hour's count stays).
pub async fn spend(conn: &mut Conn, phone: &str) -> Result<()> {
    query("UPDATE phone_codes SET code_digest = '', expires_at = 0 WHERE phone = $1").bind(phone).execute(conn).await?;
    Ok(())
}
