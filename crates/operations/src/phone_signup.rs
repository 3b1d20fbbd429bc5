//! Drivers sign up and log in in the app with their mobile number and a one-time code sent to it by
//! SMS: the number is the account, so nobody has a password to forget. One code per number is alive
//! at a time, for five minutes, spent by its first right use and void after five wrong ones; a
//! number is sent a code at most once a minute and five times an hour, so the node cannot be made
//! to flood a phone (or its SMS bill). New accounts belong to the operator with sign-up open.

use super::drivers::app_token;
use super::{Error, Operations, Outcome};
use chargemesh_core::phone::PhoneNumber;
use chargemesh_store::drivers::{self, Driver};
use chargemesh_store::payments::WALLET;
use chargemesh_store::phone_codes::{self, PhoneCode};
use chargemesh_store::{Conn, Result as StoreResult, operators, tokens};
use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

/// How long a code may be used.
pub const CODE_LIFETIME: SignedDuration = SignedDuration::from_mins(5);
/// How soon a number may be sent another code.
pub const RESEND_AFTER: SignedDuration = SignedDuration::from_secs(60);
/// How many codes a number may be sent in an hour.
const CODES_PER_HOUR: i64 = 5;
/// Wrong tries that make a code void.
const WRONG_TRIES: i64 = 5;

/// Sends text messages to phones: an SMS provider's API in production.
pub trait TextMessages: Send + Sync {
    /// Sends `text` to `to`; an error says why it could not.
    fn send<'a>(&'a self, to: &'a PhoneNumber, text: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// The development provider: writes each message to the node's log (the number masked) instead of
/// sending it, so that someone trying chargemesh can sign up with any number.
pub struct LoggedTextMessages;

impl TextMessages for LoggedTextMessages {
    fn send<'a>(&'a self, to: &'a PhoneNumber, text: &'a str) -> BoxFuture<'a, Result<(), String>> {
        tracing::warn!(target: "chargemesh::sms", to = %to.masked(), "development SMS provider, nothing sent: {text}");
        Box::pin(std::future::ready(Ok(())))
    }
}

/// What asking for a code came to.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRequest {
    /// Sent; usable until `expires_at`, another may be asked for from `resend_at`.
    Sent { expires_at: Timestamp, resend_at: Timestamp },
    /// The number was sent one too recently or too often: ask again at `retry_at`.
    TooSoon { retry_at: Timestamp },
}

/// What logging in with a code came to.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeLogin {
    /// The code was right: the number's account, made now when `signed_up`.
    Driver { driver: Driver, signed_up: bool },
    /// Wrong, expired, spent or void: ask for a new one after a few wrong tries.
    WrongCode,
}

fn code_digest(phone: &PhoneNumber, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{phone}:{code}").as_bytes()))
}

/// Whether `phone` may be sent another code at `now`, given the one before; `Err` says when it may.
fn next_count(before: Option<&PhoneCode>, now: Timestamp) -> Result<(Timestamp, i64), Timestamp> {
    let Some(before) = before else { return Ok((now, 1)) };
    if now < before.sent_at + RESEND_AFTER {
        return Err(before.sent_at + RESEND_AFTER);
    }
    let hour_ends = before.hour_started_at + SignedDuration::from_hours(1);
    if now >= hour_ends {
        return Ok((now, 1));
    }
    if before.sent_this_hour >= CODES_PER_HOUR {
        return Err(hour_ends);
    }
    Ok((before.hour_started_at, before.sent_this_hour + 1))
}

/// Spends the code sent to `number` when `digest` is its digest and it is alive; else counts a
/// wrong try. Whether it was right.
async fn take_code(tx: &mut Conn, number: &str, digest: &str, now: Timestamp) -> StoreResult<bool> {
    let Some(sent) = phone_codes::get(&mut *tx, number).await? else { return Ok(false) };
    let alive = now < sent.expires_at && sent.wrong_tries < WRONG_TRIES;
    if !alive || sent.code_digest != digest {
        phone_codes::count_wrong_try(tx, number).await?;
        return Ok(false);
    }
    phone_codes::spend(tx, number).await?;
    Ok(true)
}

impl Operations {
    /// Sends a new six-digit code to `phone` (the one before is void). A number with no account is
    /// refused (`signup_closed`) while no operator has sign-up open.
    pub async fn send_phone_code(&self, phone: &PhoneNumber) -> Outcome<CodeRequest> {
        let now = self.now();
        let code = format!("{:06}", rand::random_range(0..1_000_000u32));
        let (number, usernames, digest) = (phone.to_string(), phone.usernames(), code_digest(phone, &code));
        let recorded = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if drivers::driver_by_usernames(&mut *tx, &usernames).await?.is_none()
                        && operators::signup_operator(&mut *tx).await?.is_none()
                    {
                        return Ok(None);
                    }
                    let before = phone_codes::get(&mut *tx, &number).await?;
                    let (hour_started_at, sent_this_hour) = match next_count(before.as_ref(), now) {
                        Ok(count) => count,
                        Err(retry_at) => return Ok(Some(CodeRequest::TooSoon { retry_at })),
                    };
                    let expires_at = now + CODE_LIFETIME;
                    let code = PhoneCode {
                        phone: number,
                        code_digest: digest,
                        sent_at: now,
                        expires_at,
                        wrong_tries: 0,
                        hour_started_at,
                        sent_this_hour,
                    };
                    phone_codes::put(tx, &code).await?;
                    Ok(Some(CodeRequest::Sent { expires_at, resend_at: now + RESEND_AFTER }))
                })
            })
            .await?;
        let Some(request) = recorded else {
            return Err(Error::refused(
                "signup_closed",
                "this number has no account and the app takes no new sign-ups here: ask the operator for an account",
            ));
        };
        if let CodeRequest::Sent { .. } = request {
            let minutes = CODE_LIFETIME.as_mins();
            let text = format!(
                "【chargemesh】验证码 {code}，{minutes} 分钟内有效。Your code is {code}, valid for {minutes} minutes."
            );
            self.text_messages.send(phone, &text).await.map_err(|why| {
                tracing::error!(to = %phone.masked(), why, "the SMS provider did not take a one-time code");
                Error::refused("sms_failed", "the code could not be sent: try again in a minute")
            })?;
        }
        Ok(request)
    }

    /// Logs in with the code sent to `phone`: the number's account, or a new one for it (named
    /// `name`) of the operator with sign-up open. A right code is spent; a wrong one counts towards
    /// making it void.
    pub async fn log_in_with_code(&self, phone: &PhoneNumber, code: &str, name: Option<String>) -> Outcome<CodeLogin> {
        let now = self.now();
        let (number, usernames, digest) = (phone.to_string(), phone.usernames(), code_digest(phone, code.trim()));
        let outcome = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !take_code(&mut *tx, &number, &digest, now).await? {
                        return Ok(Some(CodeLogin::WrongCode));
                    }
                    if let Some(driver) = drivers::driver_by_usernames(&mut *tx, &usernames).await? {
                        return Ok(Some(CodeLogin::Driver { driver, signed_up: false }));
                    }
                    let Some(operator) = operators::signup_operator(&mut *tx).await? else { return Ok(None) };
                    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
                    // No password: the account logs in with codes (a password set later by staff works too).
                    let driver =
                        drivers::create_driver(&mut *tx, operator.id, &number, "", name.as_deref(), now).await?;
                    let pays = operator.wallets_enabled.then(|| WALLET.to_owned());
                    tokens::upsert_token(tx, &app_token(&driver, pays, now)).await?;
                    Ok(Some(CodeLogin::Driver { driver, signed_up: true }))
                })
            })
            .await?;
        outcome.ok_or_else(|| {
            Error::refused("signup_closed", "the app takes no new sign-ups here: ask the operator for an account")
        })
    }

    /// Whether `code` is the one sent to `phone` (spent when it is): how a driver without a password
    /// confirms what needs confirming, such as closing their account.
    pub async fn confirm_phone_code(&self, phone: &PhoneNumber, code: &str) -> Outcome<bool> {
        let now = self.now();
        let (number, digest) = (phone.to_string(), code_digest(phone, code.trim()));
        Ok(self.store.write(move |tx| Box::pin(async move { take_code(tx, &number, &digest, now).await })).await?)
    }

    /// Opens app sign-up for operator `id` (closing it for any other) or closes it; returns whether
    /// it was open before.
    pub async fn set_driver_signup(&self, id: i64, open: bool) -> Outcome<bool> {
        let changed = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let before = operators::get_operator(&mut *tx, id).await?.map(|o| o.driver_signup);
                    operators::set_driver_signup(tx, id, open).await?;
                    Ok(before)
                })
            })
            .await?;
        changed.ok_or_else(|| Error::not_found(format!("operator {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(at: Timestamp, hour_started_at: Timestamp, sent_this_hour: i64) -> PhoneCode {
        PhoneCode {
            phone: "+8613800000001".into(),
            code_digest: String::new(),
            sent_at: at,
            expires_at: at + CODE_LIFETIME,
            wrong_tries: 0,
            hour_started_at,
            sent_this_hour,
        }
    }

    #[test]
    fn a_number_gets_a_code_a_minute_and_five_an_hour() {
        let t0: Timestamp = "2026-12-06T08:00:00Z".parse().unwrap();
        let minute = SignedDuration::from_mins(1);
        assert_eq!(next_count(None, t0), Ok((t0, 1)));
        assert_eq!(next_count(Some(&sent(t0, t0, 1)), t0 + SignedDuration::from_secs(59)), Err(t0 + minute));
        assert_eq!(next_count(Some(&sent(t0, t0, 1)), t0 + minute), Ok((t0, 2)));
        assert_eq!(next_count(Some(&sent(t0 + 4 * minute, t0, 5)), t0 + 5 * minute), Err(t0 + 60 * minute));
        assert_eq!(next_count(Some(&sent(t0 + 4 * minute, t0, 5)), t0 + 60 * minute), Ok((t0 + 60 * minute, 1)));
    }
}
