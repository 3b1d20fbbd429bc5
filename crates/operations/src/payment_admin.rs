//! Payments as staff look at them: a session's payment, a token's wallet, operators' wallet
//! settings and the reconciliation of the books.

use super::payments::wallet_account;
use super::{Error, Operations, Outcome};
use chargemesh_core::access::{Scope, scope_within};
use chargemesh_core::money::Currency;
use chargemesh_store::operators;
use chargemesh_store::payments::{self, Movement, Payment, Refund};
use chargemesh_store::tokens::{self, Token};

/// How a session is paid: its hold, capture and refunds, and their journal entries.
#[derive(Debug)]
pub struct PaymentHistory {
    pub payment: Payment,
    pub refunds: Vec<Refund>,
    /// The session's entries in the journal.
    pub movements: Vec<Movement>,
}

/// A wallet in one currency: what is available, what running sessions hold, and its journal.
#[derive(Debug)]
pub struct WalletStatement {
    pub balance: i64,
    pub held: i64,
    pub movements: Vec<Movement>,
}

impl Operations {
    /// How a session is paid; none when it has no payment.
    pub async fn session_payment(&self, session_id: i64) -> Outcome<Option<PaymentHistory>> {
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let Some(payment) = payments::payment_of_session(&mut *conn, session_id).await? else {
                        return Ok(None);
                    };
                    let refunds = payments::refunds_of(&mut *conn, payment.id).await?;
                    let movements = payments::movements_of_session(conn, session_id).await?;
                    Ok(Some(PaymentHistory { payment, refunds, movements }))
                })
            })
            .await?;
        Ok(found)
    }

    /// The token within `scope` whose wallet is asked for.
    pub async fn wallet_holder(&self, id_token: &str, scope: Scope) -> Outcome<Token> {
        let wanted = id_token.to_owned();
        let token =
            self.store.read(move |conn| Box::pin(async move { tokens::get_token(conn, &wanted).await })).await?;
        token
            .filter(|t| scope_within(Some(t.operator_id), scope))
            .ok_or_else(|| Error::not_found(format!("token {id_token:?}")))
    }

    /// A token's wallet in `currency`.
    pub async fn wallet_statement(&self, id_token: &str, currency: Currency) -> Outcome<WalletStatement> {
        let (id_token, code) = (id_token.to_owned(), currency.code());
        let statement = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let wallet = wallet_account(&id_token);
                    let balance = payments::balance(&mut *conn, &wallet, code).await?;
                    let held = payments::balance(&mut *conn, &format!("wallet-hold:{id_token}"), code).await?;
                    let mut movements = payments::movements_of(&mut *conn, &wallet).await?;
                    movements.retain(|m| m.currency == code);
                    Ok(WalletStatement { balance, held, movements })
                })
            })
            .await?;
        Ok(statement)
    }

    /// Sets whether an operator keeps refundable wallet balances; returns the setting before.
    pub async fn set_operator_wallets(&self, id: i64, enabled: bool) -> Outcome<bool> {
        let changed = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let before = operators::wallets_enabled(&mut *tx, id).await?;
                    Ok(operators::set_wallets_enabled(tx, id, enabled).await?.then_some(before))
                })
            })
            .await?;
        changed.ok_or_else(|| Error::not_found(format!("operator {id}")))
    }

    /// Where payments, refunds, wallet holds and the journal disagree; empty when the books balance.
    pub async fn reconcile_books(&self) -> Outcome<Vec<String>> {
        Ok(self.store.read(|conn| Box::pin(async move { payments::reconcile(conn).await })).await?)
    }
}
