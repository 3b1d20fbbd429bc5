//! Wrong passwords slow logins down rather than lock accounts (the waits are operations'
//! `login_throttle`). One attempt per account is checked at a time, so that parallel requests
//! cannot slip past a wait.

use super::ApiState;
use super::errors::{ApiError, ApiResult};
use axum::http::{HeaderMap, StatusCode};
use chargemesh_operations::login_throttle::LoginSubjects;
pub use chargemesh_operations::login_throttle::Realm;
use jiff::Timestamp;
use std::net::IpAddr;

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

/// A login attempt, counted against its account, its address, and both.
pub struct Attempt(LoginSubjects);

impl Attempt {
    pub fn new(realm: Realm, username: &str, address: IpAddr) -> Attempt {
        Attempt(LoginSubjects::new(realm, username, address))
    }

    /// Checks this attempt alone among its account's: a parallel one is refused (429) until it is
    /// done, so that many requests at once cannot all pass the same wait check.
    pub fn one_at_a_time<'a>(&self, in_flight: &'a InFlight) -> ApiResult<Checking<'a>> {
        let mut checking = in_flight.0.lock().expect("the in-flight lock is never poisoned");
        if !checking.insert(self.0.account().to_owned()) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "another login of this account is being checked: try again in a second",
            )
            .retry_after(1));
        }
        Ok(Checking { in_flight, account: self.0.account().to_owned() })
    }

    /// Refuses the attempt (429 `too_many_attempts`, with when to try again) while any of its
    /// subjects must wait. A refused attempt is not counted: waiting it out is always enough.
    pub async fn check(&self, state: &ApiState, now: Timestamp) -> ApiResult<()> {
        match state.operations.login_wait(&self.0, now).await? {
            Some(until) => Err(too_many(until, now)),
            None => Ok(()),
        }
    }

    /// Counts a wrong password against each subject and sets the waits it earns.
    pub async fn failed(&self, state: &ApiState, now: Timestamp) -> ApiResult<()> {
        Ok(state.operations.count_wrong_password(&self.0, now).await?)
    }

    /// A right password: the account's failures are forgotten.
    pub async fn succeeded(&self, state: &ApiState) -> ApiResult<()> {
        Ok(state.operations.forget_wrong_passwords(&self.0).await?)
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
