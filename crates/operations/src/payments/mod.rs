//! Pay after charging. When a session of a paying token starts, a payment is recorded with the
//! charger's transaction; a worker then pre-authorizes a hold for an estimate, and once the session
//! ended and was priced, captures the exact amount and releases the rest. Refunds, wallet top-ups and
//! withdrawals go through the same provider. Every step is keyed, so a retry after a crash or a lost
//! reply takes effect once, and every movement of money is appended to the journal.

mod provider;
mod refunds;
mod roaming;
mod sandbox;
mod wallet;

pub use provider::{Money, PaymentError, PaymentProvider};
pub use refunds::RefundError;
pub use sandbox::SandboxProvider;
pub use wallet::WalletError;

use super::Operations;
use super::billing;
use chargemesh_core::charger::ChargerCommand;
use chargemesh_core::payment::{InvalidTransition, PaymentState, PaymentStep};
use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::{Energy, StationId};
use chargemesh_store::payments::{self, Advance, Movement, Payment, WALLET};
use chargemesh_store::sessions::Session;
use chargemesh_store::tokens::Token;
use chargemesh_store::{Conn, Result as StoreResult, operators, tariffs};
use jiff::{SignedDuration, Timestamp};

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
            let _ = tokio::time::timeout(self.settings.payments_sweep, self.payments.wake.notified()).await;
        }
    }

    /// One pass over every payment, refund and wallet operation with something to do.
    pub async fn settle_payments(&self) -> StoreResult<()> {
        let due = self.store.read(|conn| Box::pin(async move { payments::needing_work(conn, 200).await })).await?;
        for payment in due {
            match payment.state.next_step() {
                Some(PaymentStep::PlaceHold) => self.place_hold(&payment).await?,
                Some(PaymentStep::Capture) => self.capture(&payment).await?,
                Some(PaymentStep::Adjust) => self.adjust(&payment).await?,
                None => {}
            }
        }
        let refunds =
            self.store.read(|conn| Box::pin(async move { payments::pending_refunds(conn, 200).await })).await?;
        for refund in refunds {
            self.pay_refund(&refund).await?;
        }
        self.finish_pending_wallet_operations().await
    }

    async fn place_hold(&self, payment: &Payment) -> StoreResult<()> {
        let now = self.now();
        let key = format!("payment-{}-hold", payment.id);
        let money = Money { amount: payment.hold_amount, currency: &payment.currency };
        let outcome = if payment.method == WALLET {
            self.hold_in_wallet(payment, &key).await?
        } else {
            self.payments.provider.hold(&key, &payment.method, money).await
        };
        let (id, from) = (payment.id, payment.state);
        match outcome {
            Ok(reference) => {
                let Some(to) = transition(payment, from.hold_placed()) else { return Ok(()) };
                self.store
                    .write(move |tx| {
                        Box::pin(async move {
                            payments::advance(
                                tx,
                                id,
                                from,
                                Advance {
                                    to,
                                    reference: Some(&reference),
                                    captured: 0,
                                    settled_total: None,
                                    failure: None,
                                },
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
                let Some(to) = transition(payment, from.hold_declined()) else { return Ok(()) };
                self.store
                    .write(move |tx| {
                        Box::pin(async move {
                            payments::advance(
                                tx,
                                id,
                                from,
                                Advance {
                                    to,
                                    reference: None,
                                    captured: 0,
                                    settled_total: None,
                                    failure: Some(&failure),
                                },
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
        let now = self.now();
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
                        provider_reference: None,
                        created_at: now,
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
                    tracing::info!(
                        session = session_id,
                        state = record.state.as_str(),
                        "asked the charger to stop an unpaid session"
                    )
                }
                Err(e) => {
                    tracing::error!(session = session_id, error = %e, "could not ask the charger to stop an unpaid session")
                }
            }
        });
    }

    /// What the session's priced CDR says it costs; zero when it was not priced.
    async fn session_total(&self, session_id: i64) -> StoreResult<i64> {
        let total =
            self.store.read(move |conn| Box::pin(async move { tariffs::cdr_total(conn, session_id).await })).await?;
        Ok(total.unwrap_or(0))
    }

    /// Captures an ended session's price from its hold, up to the hold, and releases the rest at
    /// once; a session dearer than its hold is charged the difference as an adjustment right after.
    async fn capture(&self, payment: &Payment) -> StoreResult<()> {
        let now = self.now();
        let total = self.session_total(payment.session_id).await?;
        let from_hold = total.min(payment.hold_amount);
        if payment.method != WALLET
            && let Err(e) = self.capture_with_provider(payment, from_hold).await
        {
            return self.provider_failed(payment, e).await;
        }
        let Some(settled_state) = transition(payment, payment.state.settled(from_hold)) else { return Ok(()) };
        let (payment, provider) = (payment.clone(), self.payments.provider.name());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    for movement in capture_movements(&payment, from_hold, provider, now) {
                        payments::record_movement(&mut *tx, &movement).await?;
                    }
                    let settled = Advance {
                        to: settled_state,
                        reference: None,
                        captured: from_hold,
                        settled_total: Some(from_hold),
                        failure: None,
                    };
                    payments::advance(tx, payment.id, payment.state, settled, now).await
                })
            })
            .await?;
        if total != from_hold {
            self.payments_have_work();
        }
        Ok(())
    }

    async fn capture_with_provider(&self, payment: &Payment, amount: i64) -> Result<(), PaymentError> {
        let reference = payment.provider_reference.as_deref().unwrap_or_default();
        let provider = &self.payments.provider;
        if amount == 0 {
            return provider.release(&format!("payment-{}-release", payment.id), reference).await;
        }
        let money = Money { amount, currency: &payment.currency };
        provider.capture(&format!("payment-{}-capture", payment.id), reference, money).await
    }

    /// A provider that is down is asked again later; one that said no leaves the driver owing the
    /// session's price, for the operator to collect.
    async fn provider_failed(&self, payment: &Payment, error: PaymentError) -> StoreResult<()> {
        let now = self.now();
        let why = match error {
            PaymentError::Unavailable(why) => {
                tracing::warn!(payment = payment.id, %why, "the provider is unavailable; retrying later");
                return Ok(());
            }
            PaymentError::Declined(why) => why,
        };
        tracing::warn!(payment = payment.id, session = payment.session_id, %why, "declined: the driver owes the session's price");
        let Some(owing) = transition(payment, payment.state.refused()) else { return Ok(()) };
        let payment = payment.clone();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let owing = Advance {
                        to: owing,
                        reference: None,
                        captured: payment.captured,
                        settled_total: payment.settled_total,
                        failure: Some(&why),
                    };
                    payments::advance(tx, payment.id, payment.state, owing, now).await
                })
            })
            .await?;
        Ok(())
    }

    /// Brings a settled payment in line with its re-priced session: a dearer session is charged the
    /// difference, a cheaper one refunded it (as far as it was not refunded already). Each adjustment
    /// is numbered, so a retry after a crash charges or refunds once.
    async fn adjust(&self, payment: &Payment) -> StoreResult<()> {
        let now = self.now();
        let total = self.session_total(payment.session_id).await?;
        let settled = payment.settled_total.unwrap_or(payment.captured);
        let number = payment.adjustments + 1;
        let key = format!("payment-{}-adjust-{number}", payment.id);
        if total == settled {
            return Ok(());
        }
        if total < settled {
            let (payment, key) = (payment.clone(), key.clone());
            return self
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        let back = (settled - total).min(payment.captured - payment.refunded);
                        let adjustment = payments::Adjustment {
                            number,
                            state: payment.state,
                            charged: 0,
                            settled_total: Some(total),
                            failure: None,
                        };
                        if payments::adjust(&mut *tx, payment.id, adjustment, now).await? && back > 0 {
                            let reason = format!("re-priced: the session costs {total}, not {settled} (minor units)");
                            payments::create_refund(tx, &key, &payment, back, &reason, now).await?;
                        }
                        Ok(())
                    })
                })
                .await;
        }
        let extra = total - settled;
        let (from_account, reference) = if payment.method == WALLET {
            (wallet_account(&payment.id_token), None)
        } else {
            let money = Money { amount: extra, currency: &payment.currency };
            match self.payments.provider.charge(&key, &payment.method, money).await {
                Ok(reference) => (format!("provider:{}", self.payments.provider.name()), Some(reference)),
                Err(e) => return self.provider_failed(payment, e).await,
            }
        };
        let movement = Movement {
            movement_key: key,
            kind: "capture".into(),
            from_account,
            to_account: revenue_account(payment.operator_id),
            amount: extra,
            currency: payment.currency.clone(),
            session_id: Some(payment.session_id),
            reason: Some(format!("re-priced: the session costs {total}, not {settled} (minor units)")),
            provider_reference: reference,
            created_at: now,
        };
        let id = payment.id;
        let Some(charged_state) = transition(payment, payment.state.charged_more()) else { return Ok(()) };
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let adjustment = payments::Adjustment {
                        number,
                        state: charged_state,
                        charged: extra,
                        settled_total: Some(total),
                        failure: None,
                    };
                    if payments::adjust(&mut *tx, id, adjustment, movement.created_at).await? {
                        payments::record_movement(tx, &movement).await?;
                    }
                    Ok(())
                })
            })
            .await
    }
}

/// The state a payment moves to, or none (logged) when the worker got the payment in a state the
/// step does not apply to: the payment is left as it is for the next pass.
fn transition(payment: &Payment, next: Result<PaymentState, InvalidTransition>) -> Option<PaymentState> {
    next.map_err(|e| tracing::error!(payment = payment.id, error = %e, "payments: a step out of order; skipped")).ok()
}

/// The journal entries of a capture of `amount` (at most the hold): into the operator's revenue from
/// the provider's hold or from the wallet's hold, the rest of which goes back to the wallet.
fn capture_movements(payment: &Payment, amount: i64, provider: &str, now: Timestamp) -> Vec<Movement> {
    let movement = |suffix: &str, kind: &str, from: String, to: String, amount: i64| Movement {
        movement_key: format!("payment-{}-{suffix}", payment.id),
        kind: kind.into(),
        from_account: from,
        to_account: to,
        amount,
        currency: payment.currency.clone(),
        session_id: Some(payment.session_id),
        reason: None,
        provider_reference: None,
        created_at: now,
    };
    let revenue = revenue_account(payment.operator_id);
    let mut movements = Vec::new();
    if payment.method != WALLET {
        if amount > 0 {
            let mut capture = movement("capture", "capture", format!("provider:{provider}"), revenue, amount);
            capture.provider_reference = payment.provider_reference.clone();
            movements.push(capture);
        }
        return movements;
    }
    let hold = wallet_hold_account(&payment.id_token);
    if amount > 0 {
        movements.push(movement("capture", "capture", hold.clone(), revenue, amount));
    }
    if payment.hold_amount > amount {
        let rest = payment.hold_amount - amount;
        movements.push(movement("release", "wallet_release", hold, wallet_account(&payment.id_token), rest));
    }
    movements
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
