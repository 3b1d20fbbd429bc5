//! Wallets, where an operator keeps them: top-ups from a payment method and withdrawals back to one,
//! at any time. Each is recorded as a pending operation before the provider is asked (a withdrawal
//! also takes the money out of the wallet in that transaction), so the worker finishes one the node
//! died in the middle of, and a retry with the same key changes nothing.

use super::{Money, Operations, PaymentError, wallet_account};
use chargemesh_store::payments::WalletOperationKind::{self, TopUp, Withdrawal};
use chargemesh_store::payments::{self, Movement, NewWalletOperation, WalletOperation, WalletOperationState};
use chargemesh_store::tokens::Token;
use chargemesh_store::{Result as StoreResult, StoreError, operators};
use jiff::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Payment(PaymentError),
    #[error(transparent)]
    Store(StoreError),
}

impl Operations {
    /// Adds money to a token's wallet from a payment method (a top-up), or gives wallet money back to
    /// one (a withdrawal), any time, up to the balance not held; the same `request_key` does it once.
    pub async fn transfer_wallet(
        &self,
        token: &Token,
        kind: WalletOperationKind,
        method: &str,
        money: Money<'_>,
        request_key: &str,
    ) -> Result<WalletOperation, WalletError> {
        let now = self.now();
        self.require_wallets(token).await?;
        let request_key = format!("{}-{request_key}", kind.as_str().replace('_', "-"));
        let (id_token, method, currency) = (token.id_token.clone(), method.to_owned(), money.currency.to_owned());
        let (amount, provider) = (money.amount, self.provider_account());
        let operation = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let new = NewWalletOperation {
                        request_key: &request_key,
                        kind,
                        id_token: &id_token,
                        method: &method,
                        amount,
                        currency: &currency,
                    };
                    if let Some(existing) = payments::wallet_operation_by_key(&mut *tx, &request_key).await? {
                        return Ok(same_request(existing, &new));
                    }
                    if kind == Withdrawal {
                        // The money leaves the wallet in the transaction that checks the balance, before
                        // it is paid out: two withdrawals at once cannot both spend it.
                        let wallet = wallet_account(&id_token);
                        let balance = payments::balance(&mut *tx, &wallet, &currency).await?;
                        if amount > balance {
                            return Ok(Err(WalletError::Invalid(format!(
                                "{amount} is more than the wallet's {balance}"
                            ))));
                        }
                        let out = wallet_movement(&request_key, "wallet_withdrawal", wallet, provider, &new, now);
                        payments::record_movement(&mut *tx, &out).await?;
                    }
                    payments::create_wallet_operation(tx, &new, now).await.map(Ok)
                })
            })
            .await
            .map_err(WalletError::Store)??;
        let operation = self.finish_wallet_operation(operation).await.map_err(WalletError::Store)?;
        match operation.state {
            WalletOperationState::Done => Ok(operation),
            WalletOperationState::Declined => {
                Err(WalletError::Payment(PaymentError::Declined(operation.failure.unwrap_or_default())))
            }
            WalletOperationState::Pending => Err(WalletError::Payment(PaymentError::Unavailable(
                "the payment provider has not answered; the node keeps trying".into(),
            ))),
        }
    }

    /// Asks the provider to do a pending operation and records the outcome; left pending while the
    /// provider is unavailable. A declined withdrawal puts the money back into the wallet.
    async fn finish_wallet_operation(&self, operation: WalletOperation) -> StoreResult<WalletOperation> {
        let now = self.now();
        if operation.state != WalletOperationState::Pending {
            return Ok(operation);
        }
        let money = Money { amount: operation.amount, currency: &operation.currency };
        let key = operation.request_key.as_str();
        let provider = &self.payments.provider;
        let outcome = if operation.kind == TopUp {
            provider.charge(key, &operation.method, money).await.map(Some)
        } else {
            provider.payout(key, &operation.method, money).await.map(|()| None)
        };
        let new = NewWalletOperation {
            request_key: key,
            kind: operation.kind,
            id_token: &operation.id_token,
            method: &operation.method,
            amount: operation.amount,
            currency: &operation.currency,
        };
        let wallet = wallet_account(&operation.id_token);
        let (state, failure, movement) = match outcome {
            Ok(reference) if operation.kind == TopUp => {
                let mut into = wallet_movement(key, "wallet_top_up", self.provider_account(), wallet, &new, now);
                into.provider_reference = reference;
                (WalletOperationState::Done, None, Some(into))
            }
            Ok(_) => (WalletOperationState::Done, None, None),
            Err(PaymentError::Declined(why)) if operation.kind == Withdrawal => {
                let key = format!("{key}-declined");
                let back =
                    wallet_movement(&key, "wallet_withdrawal_declined", self.provider_account(), wallet, &new, now);
                (WalletOperationState::Declined, Some(why), Some(back))
            }
            Err(PaymentError::Declined(why)) => (WalletOperationState::Declined, Some(why), None),
            Err(PaymentError::Unavailable(why)) => {
                tracing::warn!(operation = %operation.request_key, %why, "wallet operation not done yet; retrying later");
                return Ok(operation);
            }
        };
        let id = operation.id;
        let failure_text = failure.clone();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(movement) = &movement {
                        payments::record_movement(&mut *tx, movement).await?;
                    }
                    payments::finish_wallet_operation(tx, id, state, failure_text.as_deref(), now).await
                })
            })
            .await?;
        Ok(WalletOperation { state, failure, ..operation })
    }

    /// Finishes the wallet operations the provider had not answered, or the node died during.
    pub(super) async fn finish_pending_wallet_operations(&self) -> StoreResult<()> {
        let pending = self
            .store
            .read(|conn| Box::pin(async move { payments::pending_wallet_operations(conn, 200).await }))
            .await?;
        for operation in pending {
            self.finish_wallet_operation(operation).await?;
        }
        Ok(())
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

    fn provider_account(&self) -> String {
        format!("provider:{}", self.payments.provider.name())
    }
}

/// A repeated request is answered with the operation it first made; a key reused for a different
/// request is an error.
fn same_request(existing: WalletOperation, new: &NewWalletOperation<'_>) -> Result<WalletOperation, WalletError> {
    let same = existing.kind == new.kind
        && existing.id_token == new.id_token
        && existing.method == new.method
        && existing.amount == new.amount
        && existing.currency == new.currency;
    if same {
        Ok(existing)
    } else {
        Err(WalletError::Invalid("idempotency_key: already used for a different request".into()))
    }
}

/// A movement into or out of a wallet, outside any session.
fn wallet_movement(
    key: &str,
    kind: &str,
    from_account: String,
    to_account: String,
    operation: &NewWalletOperation<'_>,
    now: Timestamp,
) -> Movement {
    Movement {
        movement_key: key.to_owned(),
        kind: kind.into(),
        from_account,
        to_account,
        amount: operation.amount,
        currency: operation.currency.into(),
        session_id: None,
        reason: None,
        provider_reference: None,
        created_at: now,
    }
}
