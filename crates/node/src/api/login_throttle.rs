//! Wrong passwords slow logins down rather than lock accounts: each one beyond a few free ones
//! makes the next attempt wait longer. Waits are counted three ways — by account, by source
//! address, and by the two together — so that a guesser at one address soon waits a quarter of an
//! hour per try, while someone who only knows a driver's phone number can make that driver wait a
//! minute at most, never lock them out.

use super::ApiState;
use super::errors::{ApiError, ApiResult};
use axum::http::{HeaderMap, StatusCode};
use chargemesh_store::logins;
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

/// Wrong passwords that cost no wait.
const FREE_FAILURES: i64 = 3;
/// Failures older than this are forgotten.
const MEMORY: SignedDuration = SignedDuration::from_hours(1);
/// The longest wait against an account from anywhere: what anyone can inflict on its owner.
const ACCOUNT_CAP: SignedDuration = SignedDuration::from_mins(1);
/// The longest wait against an address, or an account from one address.
const ADDRESS_CAP: SignedDuration = SignedDuration::from_mins(15);

/// Who logs in: staff of the operator API or a driver of the driver API.
#[derive(Debug, Clone, Copy)]
pub enum Realm {
    Staff,
    Driver,
}

impl Realm {
    fn as_str(self) -> &'static str {
        match self {
            Realm::Staff => "staff",
            Realm::Driver => "driver",
        }
    }
}

/// The wait after `failures` wrong passwords in a row: none for the first few, then doubling from
/// two seconds, up to `cap`.
pub fn wait_after(failures: i64, cap: SignedDuration) -> SignedDuration {
    let beyond = failures - FREE_FAILURES;
    if beyond <= 0 {
        return SignedDuration::ZERO;
    }
    let seconds = 1i64.checked_shl(beyond.min(40) as u32).unwrap_or(i64::MAX);
    SignedDuration::from_secs(seconds).min(cap)
}

/// A login attempt's subjects: the account, the address, and both.
pub struct Attempt {
    account: String,
    address: String,
    both: String,
}

impl Attempt {
    pub fn new(realm: Realm, username: &str, address: IpAddr) -> Attempt {
        let account = format!("{}:{username}", realm.as_str());
        let address = format!("address:{address}");
        let both = format!("{account}@{}", &address["address:".len()..]);
        Attempt { account, address, both }
    }

    /// The subject that lifts a driver's or staff member's wait when their staff clear it.
    pub fn account_subject(realm: Realm, username: &str) -> String {
        format!("{}:{username}", realm.as_str())
    }

    fn all(&self) -> [String; 3] {
        [self.account.clone(), self.address.clone(), self.both.clone()]
    }

    /// Refuses the attempt (429 `too_many_attempts`, with when to try again) while any of its
    /// subjects must wait. A refused attempt is not counted: waiting it out is always enough.
    pub async fn check(&self, state: &ApiState, now: Timestamp) -> ApiResult<()> {
        let subjects = self.all().to_vec();
        let until = state
            .operations
            .store()
            .read(move |conn| Box::pin(async move { logins::blocked_until(conn, &subjects, now).await }))
            .await?;
        match until {
            Some(until) => Err(too_many(until, now)),
            None => Ok(()),
        }
    }

    /// Counts a wrong password against each subject and sets the waits it earns.
    pub async fn failed(&self, state: &ApiState, now: Timestamp) -> ApiResult<()> {
        let caps = [
            (self.account.clone(), ACCOUNT_CAP),
            (self.address.clone(), ADDRESS_CAP),
            (self.both.clone(), ADDRESS_CAP),
        ];
        state
            .operations
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    for (subject, cap) in &caps {
                        let failures = logins::count_failure(&mut *tx, subject, now, now - MEMORY).await?;
                        let wait = wait_after(failures, *cap);
                        if !wait.is_zero() {
                            logins::block_until(&mut *tx, subject, now + wait).await?;
                        }
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }

    /// A right password: the account's failures are forgotten (the address's stay, so that a
    /// guesser cannot wipe them by logging in to an account of their own).
    pub async fn succeeded(&self, state: &ApiState) -> ApiResult<()> {
        let subjects = vec![self.account.clone(), self.both.clone()];
        state.operations.store().write(move |tx| Box::pin(async move { logins::forget(tx, &subjects).await })).await?;
        Ok(())
    }
}

fn too_many(until: Timestamp, now: Timestamp) -> ApiError {
    let seconds = until.duration_since(now).as_secs().max(1).unsigned_abs();
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many wrong passwords: try again in {seconds} s (after {until})"),
    )
    .retry_after(seconds)
}

/// The address a request comes from: the connection's peer, or with `api.forwarded_for` (behind a
/// reverse proxy that sets it) the last address in `X-Forwarded-For`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, forwarded_for: bool) -> IpAddr {
    if !forwarded_for {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .next_back()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_a_few_failures_and_stop_at_their_cap() {
        let waits: Vec<i64> = (0..=12).map(|n| wait_after(n, ADDRESS_CAP).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        assert_eq!(wait_after(20, ADDRESS_CAP), ADDRESS_CAP);
        assert_eq!(wait_after(1_000_000, ACCOUNT_CAP), ACCOUNT_CAP);
        assert_eq!(wait_after(9, ACCOUNT_CAP), ACCOUNT_CAP);
    }

    #[test]
    fn the_forwarded_address_counts_only_when_configured() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        assert_eq!(client_address(peer, &headers, false), peer);
        assert_eq!(client_address(peer, &headers, true), "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_address(peer, &HeaderMap::new(), true), peer);
    }
}
