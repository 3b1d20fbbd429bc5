//! Refunds of sessions: recorded with their parts (which capture or charge each gives money back
//! from) in one transaction, then paid part by part through the provider, each part keyed so a retry
//! pays it once.

use super::{Money, Operations, revenue_account, wallet_account};
use chargemesh_store::payments::{self, Movement, PaymentState, Refund, RefundState};
use chargemesh_store::{Result as StoreResult, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("the session has no payment through the node")]
    NotPaid,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(StoreError),
}

impl Operations {
    /// Refunds part or all of a session's captured payment; the same `request_key` refunds once.
    pub async fn refund_session(
        &self,
        session_id: i64,
        amount: i64,
        reason: String,
        request_key: String,
    ) -> Result<Refund, RefundError> {
        let now = self.now();
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
                    if payment.state != PaymentState::Captured {
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
                    payments::create_refund(tx, &request_key, &payment, amount, &reason, now).await.map(Ok)
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

    /// Pays a pending refund: each part back through the capture or charge it came from (or into the
    /// wallet), then the journal entries and the refund's end in one transaction.
    pub(super) async fn pay_refund(&self, refund: &Refund) -> StoreResult<()> {
        let now = self.now();
        if refund.state != RefundState::Pending {
            return Ok(());
        }
        let (payment_id, refund_id) = (refund.payment_id, refund.id);
        let (payment, parts) = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let payment = payments::get_payment(&mut *conn, payment_id).await?;
                    Ok((payment, payments::refund_parts(conn, refund_id).await?))
                })
            })
            .await?;
        let Some(payment) = payment else {
            return Err(StoreError::Corrupt(format!("refund {} of a missing payment", refund.id)));
        };
        let provider = self.payments.provider.name();
        let mut movements = Vec::with_capacity(parts.len());
        for (part, (reference, amount)) in parts.into_iter().enumerate() {
            let key = format!("refund-{}-{part}", refund.id);
            let to_account = match &reference {
                Some(reference) => {
                    let money = Money { amount, currency: &payment.currency };
                    if let Err(e) = self.payments.provider.refund(&key, reference, money).await {
                        tracing::warn!(refund = refund.id, error = %e, "refund not paid yet; retrying later");
                        return Ok(());
                    }
                    format!("provider:{provider}")
                }
                None => wallet_account(&payment.id_token),
            };
            movements.push(Movement {
                movement_key: key,
                kind: "refund".into(),
                from_account: revenue_account(payment.operator_id),
                to_account,
                amount,
                currency: payment.currency.clone(),
                session_id: Some(payment.session_id),
                reason: Some(refund.reason.clone()),
                provider_reference: reference,
                created_at: now,
            });
        }
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    for movement in &movements {
                        payments::record_movement(&mut *tx, movement).await?;
                    }
                    payments::finish_refund(tx, refund_id, now).await
                })
            })
            .await?;
        Ok(())
    }
}
