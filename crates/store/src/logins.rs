//! Wrong passwords, counted by who was tried, from where, and both, so that each further one makes
//! the next login attempt wait longer (the waits themselves are the API's policy).

use crate::{Conn, Result, millis, opt_instant, query};
use jiff::Timestamp;

/// Counts a wrong password against `subject` at `now`; failures before `forget_before` are
/// forgotten first. Returns how many count now.
pub async fn count_failure(conn: &mut Conn, subject: &str, now: Timestamp, forget_before: Timestamp) -> Result<i64> {
    query(
        "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES ($1, 1, $2) \
         ON CONFLICT (subject) DO UPDATE SET \
         failures = CASE WHEN login_failures.last_failure_at < $3 THEN 1 ELSE login_failures.failures + 1 END, \
         last_failure_at = $2 RETURNING failures",
    )
    .bind(subject)
    .bind(millis(now))
    .bind(millis(forget_before))
    .fetch_one(conn)
    .await?
    .try_get(0)
}

/// Makes logins of `subject` wait until `until`.
pub async fn block_until(conn: &mut Conn, subject: &str, until: Timestamp) -> Result<()> {
    query("UPDATE login_failures SET blocked_until = $2 WHERE subject = $1")
        .bind(subject)
        .bind(millis(until))
        .execute(conn)
        .await?;
    Ok(())
}

/// The latest instant after `now` until which a login of any of `subjects` must wait.
pub async fn blocked_until(conn: &mut Conn, subjects: &[String], now: Timestamp) -> Result<Option<Timestamp>> {
    let mut latest: Option<Timestamp> = None;
    for subject in subjects {
        let row = query("SELECT blocked_until FROM login_failures WHERE subject = $1 AND blocked_until > $2")
            .bind(subject.as_str())
            .bind(millis(now))
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = row {
            let until = opt_instant(row.try_get("blocked_until")?)?;
            latest = latest.max(until);
        }
    }
    Ok(latest)
}

/// Forgets the wrong passwords counted against `subjects` (a right password, or staff lifting the
/// wait).
pub async fn forget(conn: &mut Conn, subjects: &[String]) -> Result<()> {
    for subject in subjects {
        query("DELETE FROM login_failures WHERE subject = $1").bind(subject.as_str()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Forgets failures older than `before` that make nobody wait any more.
pub async fn purge(conn: &mut Conn, before: Timestamp) -> Result<u64> {
    query("DELETE FROM login_failures WHERE last_failure_at < $1 AND (blocked_until IS NULL OR blocked_until < $1)")
        .bind(millis(before))
        .execute(conn)
        .await
}
