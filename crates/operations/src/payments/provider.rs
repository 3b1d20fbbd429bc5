//! What chargemesh needs from a payment provider. Every request carries a key; a provider answers a
//! repeated key with its first answer, so a request retried after a crash or a lost reply takes
//! effect once.

use futures::future::BoxFuture;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The provider said no (card declined, over the limit, more than was held).
    #[error("declined: {0}")]
    Declined(String),
    /// The provider could not be reached or failed; the same request is retried later.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}

/// An amount in a currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money<'a> {
    pub amount: i64,
    pub currency: &'a str,
}

pub trait PaymentProvider: Send + Sync {
    /// The provider's name, part of journal account names (`provider:<name>`).
    fn name(&self) -> &'static str;

    /// Pre-authorizes `money` on a payment method; returns the hold's reference.
    fn hold<'a>(
        &'a self,
        key: &'a str,
        method: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<String, PaymentError>>;

    /// Captures `money` from a hold and releases the rest of it at once.
    fn capture<'a>(
        &'a self,
        key: &'a str,
        reference: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;

    /// Releases a whole hold, capturing nothing.
    fn release<'a>(&'a self, key: &'a str, reference: &'a str) -> BoxFuture<'a, Result<(), PaymentError>>;

    /// Takes money from a payment method at once (a wallet top-up, a session dearer than its hold);
    /// returns the payment's reference.
    fn charge<'a>(
        &'a self,
        key: &'a str,
        method: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<String, PaymentError>>;

    /// Returns money of a capture or charge to where it came from.
    fn refund<'a>(
        &'a self,
        key: &'a str,
        reference: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<(), PaymentError>>;

    /// Pays money out to a payment method (a wallet balance given back).
    fn payout<'a>(&'a self, key: &'a str, method: &'a str, money: Money<'a>)
    -> BoxFuture<'a, Result<(), PaymentError>>;
}
