//! Id tokens (cards and app accounts) an operator issues to its drivers.

use super::ownership::operator_for_new;
use super::{Error, Operations, Outcome};
use chargemesh_core::access::Scope;
use chargemesh_store::drivers;
use chargemesh_store::tokens::{self, Token};
use jiff::Timestamp;

/// What a token is to be, but for its operator, which a new token takes from the caller.
pub struct TokenTerms {
    /// `card` or `app`.
    pub kind: String,
    /// `active` or `blocked`.
    pub status: chargemesh_core::authorization::TokenStatus,
    pub expires_at: Option<Timestamp>,
    pub parent_id_token: Option<String>,
    pub label: Option<String>,
    pub payment_method: Option<String>,
    pub emsp_party: Option<String>,
    /// The driver account of the token's operator it is linked to; `None` keeps the one it has.
    pub driver_id: Option<i64>,
}

impl Operations {
    /// Issues token `id_token` or changes it, checking in the same transaction that a caller of
    /// `scope` may (an existing token of another operator is a conflict); a new one is for the
    /// operator of [`operator_for_new`]. Answers the token before (if it existed) and after.
    pub async fn put_token(
        &self,
        id_token: String,
        terms: TokenTerms,
        scope: Scope,
        requested_operator: Option<i64>,
    ) -> Outcome<(Option<Token>, Token)> {
        let new_operator = operator_for_new(scope, requested_operator);
        let asked_operator = new_operator.as_ref().ok().copied();
        let written = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let existing = tokens::get_token(&mut *tx, &id_token).await?;
                    let operator_id = match &existing {
                        Some(t) if scope.is_some_and(|s| s != t.operator_id) => {
                            return Ok(Err(Error::conflict(format!("token {id_token:?} belongs to another operator"))));
                        }
                        Some(t) => t.operator_id,
                        None => match new_operator {
                            Ok(operator) => operator,
                            Err(e) => return Ok(Err(e)),
                        },
                    };
                    if let Some(driver_id) = terms.driver_id {
                        let driver = drivers::get_driver(&mut *tx, driver_id).await?;
                        if driver.is_none_or(|d| d.operator_id != operator_id) {
                            return Ok(Err(Error::invalid(format!(
                                "driver_id: {driver_id} is no driver account of the token's operator"
                            ))));
                        }
                    }
                    let token = Token {
                        id_token,
                        operator_id,
                        kind: terms.kind,
                        status: terms.status,
                        expires_at: terms.expires_at,
                        parent_id_token: terms.parent_id_token,
                        label: terms.label,
                        payment_method: terms.payment_method,
                        emsp_party: terms.emsp_party,
                        driver_id: terms.driver_id.or(existing.as_ref().and_then(|t| t.driver_id)),
                        created_at: existing.as_ref().map_or_else(Timestamp::now, |t| t.created_at),
                    };
                    tokens::upsert_token(tx, &token).await?;
                    Ok(Ok((existing, token)))
                })
            })
            .await;
        match written {
            Err(e) if e.is_foreign_key_violation() => {
                Err(Error::not_found(format!("operator {}", asked_operator.unwrap_or_default())))
            }
            other => other?,
        }
    }

    /// Token `id_token`, if it exists.
    pub async fn token(&self, id_token: String) -> Outcome<Option<Token>> {
        Ok(self.store.read(move |conn| Box::pin(async move { tokens::get_token(conn, &id_token).await })).await?)
    }

    /// The tokens of `scope` (every token for `None`).
    pub async fn list_tokens(&self, scope: Scope) -> Outcome<Vec<Token>> {
        Ok(self.store.read(move |conn| Box::pin(tokens::list_tokens(conn, scope))).await?)
    }

    /// Withdraws token `id_token`; chargers then refuse it.
    pub async fn delete_token(&self, id_token: String) -> Outcome<()> {
        self.store.write(move |tx| Box::pin(async move { tokens::delete_token(tx, &id_token).await })).await?;
        Ok(())
    }
}
