//! Wrong passwords slow logins down rather than lock accounts: each one beyond a few free ones
//! makes the next attempt wait longer. Waits are counted three ways — by account, by source
//! address, and by the two together — so that a guesser at one address soon waits a quarter of an
//! hour per try at the account it guesses, while nobody can make an account or an address (a
//! shared one: a company's proxy, a carrier's NAT) wait more than a minute.

use super::{Operations, Outcome};
use chargemesh_store::logins;
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

/// Failures older than this are forgotten.
const MEMORY: SignedDuration = SignedDuration::from_hours(1);

/// How wrong passwords against one subject turn into waits: this many cost nothing, then each
/// further one doubles the wait from two seconds, up to the cap.
#[derive(Debug, Clone, Copy)]
struct Policy {
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
fn wait_after(failures: i64, policy: Policy) -> SignedDuration {
    let beyond = failures - policy.free;
    if beyond <= 0 {
        return SignedDuration::ZERO;
    }
    let seconds = 1i64.checked_shl(beyond.min(40) as u32).unwrap_or(i64::MAX);
    SignedDuration::from_secs(seconds).min(policy.cap)
}

/// What a login attempt's wrong passwords count against: the account, the address, and both.
pub struct LoginSubjects {
    account: String,
    address: String,
    both: String,
}

impl LoginSubjects {
    /// The subjects of an attempt at `username` of `realm` from `address`.
    pub fn new(realm: Realm, username: &str, address: IpAddr) -> LoginSubjects {
        let account = account_subject(realm, username);
        let address = format!("address:{address}");
        let both = format!("{account}@{}", &address["address:".len()..]);
        LoginSubjects { account, address, both }
    }

    /// The account's subject, the same from every address.
    pub fn account(&self) -> &str {
        &self.account
    }
}

/// The subject of an account, whatever address tries it.
pub(crate) fn account_subject(realm: Realm, username: &str) -> String {
    format!("{}:{username}", realm.as_str())
}

impl Operations {
    /// Until when an attempt must wait after wrong passwords, if any of its subjects must wait at
    /// `now`.
    pub async fn login_wait(&self, subjects: &LoginSubjects, now: Timestamp) -> Outcome<Option<Timestamp>> {
        let subjects = vec![subjects.account.clone(), subjects.address.clone(), subjects.both.clone()];
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { logins::blocked_until(conn, &subjects, now).await }))
            .await?)
    }

    /// Counts a wrong password against each subject and sets the waits it earns.
    pub async fn count_wrong_password(&self, subjects: &LoginSubjects, now: Timestamp) -> Outcome<()> {
        let policies = [
            (subjects.account.clone(), ACCOUNT),
            (subjects.address.clone(), ADDRESS),
            (subjects.both.clone(), ACCOUNT_AT_ADDRESS),
        ];
        self.store
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
    pub async fn forget_wrong_passwords(&self, subjects: &LoginSubjects) -> Outcome<()> {
        let subjects = vec![subjects.account.clone(), subjects.both.clone()];
        self.store.write(move |tx| Box::pin(async move { logins::forget(tx, &subjects).await })).await?;
        Ok(())
    }
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
}
