//! Wrong passwords slow logins down rather than lock accounts: each one beyond a few free ones
//! makes the next attempt wait longer. Waits are counted three ways — by account, by source
//! address, and by the two together — so that a guesser at one address soon waits a quarter of an
//! hour per try at the account it guesses, while nobody can make an account or an address (a
//! shared one: a company's proxy, a carrier's NAT) wait more than a minute. One attempt per account
//! is checked at a time, so that parallel requests cannot slip past a wait.

use super::ApiState;
use super::errors::{ApiError, ApiResult};
use axum::http::{HeaderMap, StatusCode};
use chargemesh_store::logins;
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

/// Failures older than this are forgotten.
const MEMORY: SignedDuration = SignedDuration::from_hours(1);

/// How wrong passwords against one subject turn into waits: this many cost nothing, then each
/// further one doubles the wait from two seconds, up to the cap.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    free: i64,
    cap: SignedDuration,
}

/// An account, whoever tries: the cap is what a stranger who knows its username can inflict.
const ACCOUNT: Policy = Policy { free: 3, cap: SignedDuration::from_mins(1) };
/// An address, whatever account it tries: many people may share one, so more are free and the wait
/// as short as an account's; it stops one address from trying every account.
const ADDRESS: Policy = Policy { free: 20, cap: SignedDuration::from_mins(1) };
/// One account from one address: the guesser's own, waiting up to a quarter of an hour.
const ACCOUNT_AT_ADDRESS: Policy = Policy { free: 3, cap: SignedDuration::from_mins(15) };

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

/// The wait after `failures` wrong passwords in a row under `policy`.
pub fn wait_after(failures: i64, policy: Policy) -> SignedDuration {
    let beyond = failures - policy.free;
    if beyond <= 0 {
        return SignedDuration::ZERO;
    }
    let seconds = 1i64.checked_shl(beyond.min(40) as u32).unwrap_or(i64::MAX);
    SignedDuration::from_secs(seconds).min(policy.cap)
}

/// The accounts whose login is being checked now, by this node.
#[derive(Default)]
pub struct InFlight(std::sync::Mutex<std::collections::HashSet<String>>);

/// An account's login being checked; dropped, the next may be.
pub struct Checking<'a> {
    in_flight: &'a InFlight,
    account: String,
}

impl Drop for Checking<'_> {
    fn drop(&mut self) {
        self.in_flight.0.lock().expect("the in-flight lock is never poisoned").remove(&self.account);
    }
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

    /// Checks this attempt alone among its account's: a parallel one is refused (429) until it is
    /// done, so that many requests at once cannot all pass the same wait check.
    pub fn one_at_a_time<'a>(&self, in_flight: &'a InFlight) -> ApiResult<Checking<'a>> {
        let mut checking = in_flight.0.lock().expect("the in-flight lock is never poisoned");
        if !checking.insert(self.account.clone()) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "another login of this account is being checked: try again in a second",
            )
            .retry_after(1));
        }
        Ok(Checking { in_flight, account: self.account.clone() })
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
        let policies =
            [(self.account.clone(), ACCOUNT), (self.address.clone(), ADDRESS), (self.both.clone(), ACCOUNT_AT_ADDRESS)];
        state
            .operations
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    for (subject, policy) in &policies {
                        let failures = logins::count_failure(&mut *tx, subject, now, now - MEMORY).await?;
                        let wait = wait_after(failures, *policy);
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
        let waits: Vec<i64> = (0..=12).map(|n| wait_after(n, ACCOUNT_AT_ADDRESS).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        assert_eq!(wait_after(20, ACCOUNT_AT_ADDRESS), SignedDuration::from_mins(15));
        assert_eq!(wait_after(1_000_000, ACCOUNT), SignedDuration::from_mins(1), "nobody locks an account");
        assert_eq!(wait_after(9, ACCOUNT), SignedDuration::from_mins(1));
        assert_eq!(wait_after(20, ADDRESS), SignedDuration::ZERO, "a shared address has room");
        assert_eq!(wait_after(1_000, ADDRESS), SignedDuration::from_mins(1), "nor an address");
    }

    #[test]
    fn one_login_of_an_account_is_checked_at_a_time() {
        let in_flight = InFlight::default();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let attempt = Attempt::new(Realm::Driver, "13800000001", address);
        let first = attempt.one_at_a_time(&in_flight).unwrap();
        assert!(attempt.one_at_a_time(&in_flight).is_err(), "a parallel attempt waits");
        assert!(Attempt::new(Realm::Driver, "13800000002", address).one_at_a_time(&in_flight).is_ok());
        drop(first);
        assert!(attempt.one_at_a_time(&in_flight).is_ok(), "the next may go");
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
