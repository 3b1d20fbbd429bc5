//! Pay after charging. When a session of a paying token starts, a payment is recorded with the
//! charger's transaction; a worker then pre-authorizes a hold for an estimate, and once the session
//! ended and was priced, captures the exact amount and releases the rest. Refunds, wallet top-ups and
//! withdrawals go through the same provider. Every step is keyed, so a retry after a crash or a lost
//! reply takes effect once, and every movement of money is appended to the journal.

mod provider;
mod sandbox;

pub use provider::{Money, PaymentError, PaymentProvider};
pub use sandbox::SandboxProvider;

use super::Operations;
use super::billing;
use chargemesh_core::charger::ChargerCommand;
use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::{Energy, StationId};
use chargemesh_store::payments::{
    self, Advance, CAPTURED, DECLINED, HELD, HOLD_PENDING, Movement, Payment, RELEASED, Refund, WALLET,
};
use chargemesh_store::sessions::Session;
use chargemesh_store::tokens::Token;
use chargemesh_store::{Conn, Result as StoreResult, StoreError, operators, tariffs};
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

/// How often the worker looks for work it was not woken for (a restart, a provider that was down).
const SWEEP_EVERY: Duration = Duration::from_secs(5);

pub fn wallet_account(id_token: &str) -> String {
    format!("wallet:{id_token}")
}

fn wallet_hold_account(id_token: &str) -> String {
    format!("wallet-hold:{id_token}")
}

fn revenue_account(operator_id: i64) -> String {
    format!("revenue:{operator_id}")
}

/// Records the payment of a session that just started, inside the charger's transaction: the
/// token pays (a payment method, or a wallet where its operator keeps them) and a tariff prices the
/// session. The hold, placed afterwards by the worker, is the price of `estimate` in the session's
/// first hour: enough for most sessions; a dearer one is charged the difference at the end.
pub async fn record_at_start(
    conn: &mut Conn,
    token: Option<&Token>,
    session: &Session,
    estimate: Energy,
    now: Timestamp,
) -> StoreResult<()> {
    let Some(token) = token else { return Ok(()) };
    let Some(method) = token.payment_method.as_deref() else { return Ok(()) };
    if method == WALLET && !operators::wallets_enabled(&mut *conn, token.operator_id).await? {
        tracing::warn!(token = %token.id_token, "the token pays by wallet but its operator keeps no wallets; the session is not paid through the node");
        return Ok(());
    }
    let Some((tariff, zone)) = billing::session_tariff(&mut *conn, session).await? else {
        return Ok(());
    };
    let estimate = ChargingPeriod {
        start: session.started_at,
        end: session.started_at + SignedDuration::from_hours(1),
        energy: estimate,
    };
    let hold_amount = match price(&tariff, &zone, &[estimate]) {
        Ok(cdr) => cdr.totals.incl_tax.0,
        Err(e) => {
            tracing::error!(session = session.id, error = %e, "no estimate for the hold; the session is not paid through the node");
            return Ok(());
        }
    };
    let new = payments::NewPayment {
        session_id: session.id,
        id_token: &token.id_token,
        operator_id: token.operator_id,
        method,
        currency: tariff.currency.code(),
        hold_amount,
    };
    payments::create_payment(conn, &new, now).await
}

impl Operations {
    /// Wakes the payment worker: a session started or ended.
    pub fn payments_have_work(&self) {
        self.payments.wake.notify_one();
    }

    /// Places holds and captures ended sessions until the node stops.
    pub async fn run_payments(self) {
        loop {
            if let Err(e) = self.settle_payments().await {
                tracing::error!(error = %e, "payments: the store failed; retrying");
            }
            let _ = tokio::time::timeout(SWEEP_EVERY, self.payments.wake.notified()).await;
        }
    }

    /// One pass over every payment and refund with something to do.
    pub async fn settle_payments(&self) -> StoreResult<()> {
        let due = self.store.read(|conn| Box::pin(async move { payments::needing_work(conn, 200).await })).await?;
        for payment in due {
            match payment.state.as_str() {
                HOLD_PENDING => self.place_hold(&payment).await?,
                HELD => self.capture(&payment).await?,
                _ => {}
            }
        }
        let refunds =
            self.store.read(|conn| Box::pin(async move { payments::pending_refunds(conn, 200).await })).await?;
        for refund in refunds {
            self.pay_refund(&refund).await?;
        }
        Ok(())
    }

    async fn place_hold(&self, payment: &Payment) -> StoreResult<()> {
        let key = format!("payment-{}-hold", payment.id);
        let money = Money { amount: payment.hold_amount, currency: &payment.currency };
        let outcome = if payment.method == WALLET {
            self.hold_in_wallet(payment, &key).await?
        } else {
            self.payments.provider.hold(&key, &payment.method, money).await
        };
        let (id, now) = (payment.id, Timestamp::now());
        match outcome {
            Ok(reference) => {
                self.store
                    .write(move |tx| {
                        Box::pin(async move {
                            payments::advance(
                                tx,
                                id,
                                HOLD_PENDING,
                                Advance { to: HELD, reference: Some(&reference), captured: 0, failure: None },
                                now,
                            )
                            .await
                        })
                    })
                    .await?;
            }
            Err(PaymentError::Declined(why)) => {
                tracing::warn!(payment = id, session = payment.session_id, %why, "hold declined; stopping the session");
                let failure = why.clone();
                self.store
                    .write(move |tx| {
                        Box::pin(async move {
                            payments::advance(
                                tx,
                                id,
                                HOLD_PENDING,
                                Advance { to: DECLINED, reference: None, captured: 0, failure: Some(&failure) },
                                now,
                            )
                            .await
                        })
                    })
                    .await?;
                self.stop_unpaid_session(payment.session_id);
            }
            Err(PaymentError::Unavailable(why)) => {
                tracing::warn!(payment = id, %why, "hold not placed yet; retrying later")
            }
        }
        Ok(())
    }

    /// A wallet hold moves the estimate from the wallet to its hold account, when the balance allows.
    async fn hold_in_wallet(&self, payment: &Payment, key: &str) -> StoreResult<Result<String, PaymentError>> {
        let (payment, key) = (payment.clone(), key.to_owned());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if payments::movement_recorded(&mut *tx, &key).await? {
                        return Ok(Ok(key));
                    }
                    let wallet = wallet_account(&payment.id_token);
                    let balance = payments::balance(&mut *tx, &wallet, &payment.currency).await?;
                    if balance < payment.hold_amount {
                        return Ok(Err(PaymentError::Declined(format!(
                            "the wallet holds {balance} but the hold needs {} (minor units)",
                            payment.hold_amount
                        ))));
                    }
                    let hold = Movement {
                        movement_key: key.clone(),
                        kind: "wallet_hold".into(),
                        from_account: wallet,
                        to_account: wallet_hold_account(&payment.id_token),
                        amount: payment.hold_amount,
                        currency: payment.currency.clone(),
                        session_id: Some(payment.session_id),
                        reason: None,
                        created_at: Timestamp::now(),
                    };
                    payments::record_movement(tx, &hold).await?;
                    Ok(Ok(key))
                })
            })
            .await
    }

    /// Asks the charger to stop a session whose hold was declined, without holding up the worker
    /// while the charger answers.
    fn stop_unpaid_session(&self, session_id: i64) {
        let operations = self.clone();
        tokio::spawn(async move {
            let session = operations
                .store
                .read(move |conn| {
                    Box::pin(async move { chargemesh_store::sessions::get_session(conn, session_id).await })
                })
                .await;
            let Ok(Some(session)) = session else { return };
            let Ok(station) = StationId::parse(&session.station_id) else { return };
            let stop = ChargerCommand::RemoteStop { transaction_id: session_id };
            match operations.send_command(&station, stop, None).await {
                Ok(record) => {
                    tracing::info!(session = session_id, state = %record.state, "asked the charger to stop an unpaid session")
                }
                Err(e) => {
                    tracing::error!(session = session_id, error = %e, "could not ask the charger to stop an unpaid session")
                }
            }
        });
    }

    /// Captures the exact price of an ended session and releases the rest of the hold.
    async fn capture(&self, payment: &Payment) -> StoreResult<()> {
        let session_id = payment.session_id;
        let total = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let cdr = tariffs::cdr(conn, session_id).await?;
                    Ok(cdr.and_then(|body| serde_json::from_str::<chargemesh_core::pricing::PricedCdr>(&body).ok()))
                })
            })
            .await?
            .map_or(0, |cdr| cdr.totals.incl_tax.0);
        let outcome = if payment.method == WALLET { Ok(()) } else { self.capture_with_provider(payment, total).await };
        if let Err(e) = outcome {
            tracing::warn!(payment = payment.id, error = %e, "capture not done yet; retrying later");
            return Ok(());
        }
        let (payment, provider) = (payment.clone(), self.payments.provider.name());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let now = Timestamp::now();
                    for movement in capture_movements(&payment, total, provider, now) {
                        payments::record_movement(&mut *tx, &movement).await?;
                    }
                    let state = if total > 0 { CAPTURED } else { RELEASED };
                    payments::advance(
                        tx,
                        payment.id,
                        HELD,
                        Advance { to: state, reference: None, captured: total, failure: None },
                        now,
                    )
                    .await
                })
            })
            .await?;
        Ok(())
    }

    async fn capture_with_provider(&self, payment: &Payment, total: i64) -> Result<(), PaymentError> {
        let reference = payment.provider_reference.as_deref().unwrap_or_default();
        let provider = &self.payments.provider;
        if total == 0 {
            return provider.release(&format!("payment-{}-release", payment.id), reference).await;
        }
        let from_hold = total.min(payment.hold_amount);
        provider
            .capture(
                &format!("payment-{}-capture", payment.id),
                reference,
                Money { amount: from_hold, currency: &payment.currency },
            )
            .await?;
        if total > from_hold {
            let extra = Money { amount: total - from_hold, currency: &payment.currency };
            provider.charge(&format!("payment-{}-extra", payment.id), &payment.method, extra).await?;
        }
        Ok(())
    }

    /// Refunds part or all of a session's captured payment; the same `request_key` refunds once.
    pub async fn refund_session(
        &self,
        session_id: i64,
        amount: i64,
        reason: String,
        request_key: String,
    ) -> Result<Refund, RefundError> {
        if amount <= 0 {
            return Err(RefundError::Invalid("amount must be positive (minor units)".into()));
        }
        let refund = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(existing) = payments::refund_by_key(&mut *tx, &request_key).await? {
                        return Ok(Ok(existing));
                    }
                    let Some(payment) = payments::payment_of_session(&mut *tx, session_id).await? else {
                        return Ok(Err(RefundError::NotPaid));
                    };
                    if payment.state != CAPTURED {
                        return Ok(Err(RefundError::Invalid(format!(
                            "the payment is {}, not captured",
                            payment.state
                        ))));
                    }
                    let left = payment.captured - payment.refunded;
                    if amount > left {
                        return Ok(Err(RefundError::Invalid(format!(
                            "{amount} is more than the {left} left to refund"
                        ))));
                    }
                    payments::create_refund(tx, &request_key, payment.id, amount, &reason, Timestamp::now())
                        .await
                        .map(Ok)
                })
            })
            .await
            .map_err(RefundError::Store)??;
        self.pay_refund(&refund).await.map_err(RefundError::Store)?;
        let key = refund.request_key.clone();
        let current =
            self.store.read(move |conn| Box::pin(async move { payments::refund_by_key(conn, &key).await })).await;
        Ok(current.map_err(RefundError::Store)?.unwrap_or(refund))
    }

    async fn pay_refund(&self, refund: &Refund) -> StoreResult<()> {
        if refund.state != payments::REFUND_PENDING {
            return Ok(());
        }
        let payment_id = refund.payment_id;
        let Some(payment) =
            self.store.read(move |conn| Box::pin(async move { payments::get_payment(conn, payment_id).await })).await?
        else {
            return Err(StoreError::Corrupt(format!("refund {} of a missing payment", refund.id)));
        };
        let key = format!("refund-{}", refund.id);
        if payment.method != WALLET {
            let reference = payment.provider_reference.as_deref().unwrap_or_default();
            let money = Money { amount: refund.amount, currency: &payment.currency };
            if let Err(e) = self.payments.provider.refund(&key, reference, money).await {
                tracing::warn!(refund = refund.id, error = %e, "refund not paid yet; retrying later");
                return Ok(());
            }
        }
        let to_account = if payment.method == WALLET {
            wallet_account(&payment.id_token)
        } else {
            format!("provider:{}", self.payments.provider.name())
        };
        let movement = Movement {
            movement_key: key,
            kind: "refund".into(),
            from_account: revenue_account(payment.operator_id),
            to_account,
            amount: refund.amount,
            currency: payment.currency.clone(),
            session_id: Some(payment.session_id),
            reason: Some(refund.reason.clone()),
            created_at: Timestamp::now(),
        };
        let id = refund.id;
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    payments::record_movement(&mut *tx, &movement).await?;
                    payments::finish_refund(tx, id, Timestamp::now()).await
                })
            })
            .await?;
        Ok(())
    }

    /// Adds money to a token's wallet from a payment method; the same `request_key` adds it once.
    pub async fn top_up_wallet(
        &self,
        token: &Token,
        source: &str,
        money: Money<'_>,
        request_key: &str,
    ) -> Result<i64, WalletError> {
        self.require_wallets(token).await?;
        let key = format!("top-up-{request_key}");
        self.payments.provider.charge(&key, source, money).await.map_err(WalletError::Payment)?;
        let provider = format!("provider:{}", self.payments.provider.name());
        let movement = wallet_movement(key, "wallet_top_up", provider, wallet_account(&token.id_token), money);
        self.record_and_balance(movement, &token.id_token).await
    }

    /// Gives wallet money back to a payment method; any time, up to the balance not held.
    pub async fn withdraw_from_wallet(
        &self,
        token: &Token,
        destination: &str,
        money: Money<'_>,
        request_key: &str,
    ) -> Result<i64, WalletError> {
        self.require_wallets(token).await?;
        let key = format!("withdrawal-{request_key}");
        let provider = format!("provider:{}", self.payments.provider.name());
        let movement =
            wallet_movement(key.clone(), "wallet_withdrawal", wallet_account(&token.id_token), provider, money);
        // The money leaves the wallet in the same transaction that checks the balance, before it is paid
        // out: two withdrawals at once cannot both spend it, and a retry with the same key pays out once.
        let taken = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !payments::movement_recorded(&mut *tx, &movement.movement_key).await? {
                        let balance = payments::balance(&mut *tx, &movement.from_account, &movement.currency).await?;
                        if movement.amount > balance {
                            return Ok(Err(format!("{} is more than the wallet's {balance}", movement.amount)));
                        }
                        payments::record_movement(tx, &movement).await?;
                    }
                    Ok(Ok(()))
                })
            })
            .await
            .map_err(WalletError::Store)?;
        taken.map_err(WalletError::Invalid)?;
        if let Err(e) = self.payments.provider.payout(&key, destination, money).await {
            if let PaymentError::Declined(_) = e {
                // Declined for good: the money goes back into the wallet.
                let provider = format!("provider:{}", self.payments.provider.name());
                let back = wallet_movement(
                    format!("{key}-declined"),
                    "wallet_withdrawal_declined",
                    provider,
                    wallet_account(&token.id_token),
                    money,
                );
                self.record_and_balance(back, &token.id_token).await?;
            }
            return Err(WalletError::Payment(e));
        }
        let wallet = wallet_account(&token.id_token);
        let currency = money.currency.to_owned();
        self.store
            .read(move |conn| Box::pin(async move { payments::balance(conn, &wallet, &currency).await }))
            .await
            .map_err(WalletError::Store)
    }

    async fn require_wallets(&self, token: &Token) -> Result<(), WalletError> {
        let operator = token.operator_id;
        let enabled = self
            .store
            .read(move |conn| Box::pin(async move { operators::wallets_enabled(conn, operator).await }))
            .await;
        if enabled.map_err(WalletError::Store)? {
            Ok(())
        } else {
            Err(WalletError::Invalid("the token's operator keeps no wallets".into()))
        }
    }

    async fn record_and_balance(&self, movement: Movement, id_token: &str) -> Result<i64, WalletError> {
        let wallet = wallet_account(id_token);
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    payments::record_movement(&mut *tx, &movement).await?;
                    payments::balance(tx, &wallet, &movement.currency).await
                })
            })
            .await
            .map_err(WalletError::Store)
    }
}

/// A movement into or out of a wallet, outside any session.
fn wallet_movement(key: String, kind: &str, from_account: String, to_account: String, money: Money<'_>) -> Movement {
    Movement {
        movement_key: key,
        kind: kind.into(),
        from_account,
        to_account,
        amount: money.amount,
        currency: money.currency.into(),
        session_id: None,
        reason: None,
        created_at: Timestamp::now(),
    }
}

/// The journal entries of a capture: the session's price into the operator's revenue, from the
/// provider or from the wallet's hold (the rest of which goes back to the wallet).
fn capture_movements(payment: &Payment, total: i64, provider: &str, now: Timestamp) -> Vec<Movement> {
    let movement = |suffix: &str, kind: &str, from: String, to: String, amount: i64| Movement {
        movement_key: format!("payment-{}-{suffix}", payment.id),
        kind: kind.into(),
        from_account: from,
        to_account: to,
        amount,
        currency: payment.currency.clone(),
        session_id: Some(payment.session_id),
        reason: None,
        created_at: now,
    };
    let revenue = revenue_account(payment.operator_id);
    let mut movements = Vec::new();
    if payment.method != WALLET {
        if total > 0 {
            movements.push(movement("capture", "capture", format!("provider:{provider}"), revenue, total));
        }
        return movements;
    }
    let (hold, from_hold) = (wallet_hold_account(&payment.id_token), total.min(payment.hold_amount));
    if from_hold > 0 {
        movements.push(movement("capture", "capture", hold.clone(), revenue.clone(), from_hold));
    }
    if total > from_hold {
        // Dearer than the hold: the rest from the wallet, which may go below zero (the driver owes it).
        movements.push(movement("extra", "capture", wallet_account(&payment.id_token), revenue, total - from_hold));
    }
    if payment.hold_amount > from_hold {
        movements.push(movement(
            "release",
            "wallet_release",
            hold,
            wallet_account(&payment.id_token),
            payment.hold_amount - from_hold,
        ));
    }
    movements
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("the session has no payment through the node")]
    NotPaid,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Payment(PaymentError),
    #[error(transparent)]
    Store(StoreError),
}

/// The payment side of operations: the provider and the worker's wake-up call.
pub struct PaymentsHandle {
    pub(super) provider: std::sync::Arc<dyn PaymentProvider>,
    pub(super) wake: tokio::sync::Notify,
}

impl PaymentsHandle {
    pub fn new(provider: std::sync::Arc<dyn PaymentProvider>) -> PaymentsHandle {
        PaymentsHandle { provider, wake: tokio::sync::Notify::new() }
    }
}
