//! The built-in sandbox payment provider, for demos and tests: methods `sandbox:<anything>` are
//! approved, `sandbox:declined` is declined, holds and charges above 5,000.00 are declined. It keeps
//! its books in the node's database, so it answers a repeated request key with its first answer even
//! across restarts, as a real provider does.

use super::provider::{Money, PaymentError, PaymentProvider};
use chargemesh_store::payments::{self, SandboxOperation};
use chargemesh_store::{Store, StoreError};
use futures::future::BoxFuture;
use jiff::Timestamp;

/// The most one hold or charge may be, in minor units.
const LIMIT: i64 = 500_000;

pub struct SandboxProvider {
    store: Store,
}

impl SandboxProvider {
    pub fn new(store: Store) -> SandboxProvider {
        SandboxProvider { store }
    }

    /// Decides a request once and records the decision under its key.
    async fn decide(
        &self,
        key: &str,
        kind: &'static str,
        reference: Option<&str>,
        method: Option<&str>,
        money: Money<'_>,
    ) -> Result<SandboxOperation, PaymentError> {
        let (key, reference, method, currency) =
            (key.to_owned(), reference.map(str::to_owned), method.map(str::to_owned), money.currency.to_owned());
        let amount = money.amount;
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(done) = payments::sandbox_operation(&mut *tx, &key).await? {
                        return Ok(done);
                    }
                    let reference = reference.unwrap_or_else(|| format!("sbx-{key}"));
                    let approved = match kind {
                        "hold" | "charge" | "payout" => {
                            method.as_deref().is_some_and(|m| m.starts_with("sandbox:") && m != "sandbox:declined")
                                && amount <= LIMIT
                        }
                        "capture" => {
                            let held = payments::sandbox_operation(&mut *tx, &format!("hold-of:{reference}")).await?;
                            let (captured, _) = payments::sandbox_totals(&mut *tx, &reference).await?;
                            held.is_some_and(|h| captured + amount <= h.amount)
                        }
                        "refund" => {
                            let (captured, refunded) = payments::sandbox_totals(&mut *tx, &reference).await?;
                            let charged =
                                payments::sandbox_operation(&mut *tx, &format!("charge-of:{reference}")).await?;
                            refunded + amount <= captured + charged.map_or(0, |c| c.amount)
                        }
                        _ => true,
                    };
                    let now = Timestamp::now();
                    payments::record_sandbox_operation(
                        &mut *tx,
                        &key,
                        kind,
                        &reference,
                        method.as_deref(),
                        amount,
                        &currency,
                        approved,
                        now,
                    )
                    .await?;
                    // Holds and charges are also found by their reference.
                    if approved && (kind == "hold" || kind == "charge") {
                        let index = format!("{kind}-of:{reference}");
                        payments::record_sandbox_operation(
                            &mut *tx,
                            &index,
                            kind,
                            &reference,
                            method.as_deref(),
                            amount,
                            &currency,
                            true,
                            now,
                        )
                        .await?;
                    }
                    Ok(SandboxOperation { kind: kind.into(), reference, amount, approved })
                })
            })
            .await
            .map_err(|e: StoreError| PaymentError::Unavailable(e.to_string()))
            .and_then(|op| {
                if op.approved {
                    Ok(op)
                } else {
                    Err(PaymentError::Declined(format!("the sandbox declined this {kind}")))
                }
            })
    }
}

impl PaymentProvider for SandboxProvider {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn hold<'a>(
        &'a self,
        key: &'a str,
        method: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<String, PaymentError>> {
        Box::pin(async move { self.decide(key, "hold", None, Some(method), money).await.map(|op| op.reference) })
    }

    fn capture<'a>(
        &'a self,
        key: &'a str,
        reference: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move { self.decide(key, "capture", Some(reference), None, money).await.map(|_| ()) })
    }

    fn release<'a>(&'a self, key: &'a str, reference: &'a str) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            self.decide(key, "release", Some(reference), None, Money { amount: 0, currency: "" }).await.map(|_| ())
        })
    }

    fn charge<'a>(
        &'a self,
        key: &'a str,
        method: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<String, PaymentError>> {
        Box::pin(async move { self.decide(key, "charge", None, Some(method), money).await.map(|op| op.reference) })
    }

    fn refund<'a>(
        &'a self,
        key: &'a str,
        reference: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move { self.decide(key, "refund", Some(reference), None, money).await.map(|_| ()) })
    }

    fn payout<'a>(
        &'a self,
        key: &'a str,
        method: &'a str,
        money: Money<'a>,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move { self.decide(key, "payout", None, Some(method), money).await.map(|_| ()) })
    }
}
