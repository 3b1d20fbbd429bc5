//! Charging this node's drivers for their charges at other members' chargers, once the ledger holds
//! the CDR and this node checked it: the amount the ledger priced, from the driver's wallet or
//! through the payment provider, into the account of what this member owes the charger's member
//! (`roaming:<party>`), which the ledger's clearing settles between the members.

use super::{Money, PaymentError, WALLET, wallet_account};
use crate::operations::Operations;
use chargemesh_store::payments::{self, Movement};
use chargemesh_store::settlements::{self, BILLED_ELSEWHERE, CHARGED, DECLINED, Settlement};
use chargemesh_store::{Result as StoreResult, operators, tokens};
use jiff::Timestamp;

/// What this member owes another member for its drivers' charges there.
fn roaming_account(member: &str) -> String {
    format!("roaming:{member}")
}

/// The outcome of charging a driver: the settlement's next state, the payment's reference, and why
/// it failed.
struct Outcome {
    state: &'static str,
    reference: Option<String>,
    problem: Option<String>,
    movement: Option<Movement>,
}

impl Operations {
    /// Charges every verified roaming settlement to its driver.
    pub async fn charge_roaming_settlements(&self) -> StoreResult<()> {
        let due = self.store.read(|conn| Box::pin(settlements::to_charge(conn, 100))).await?;
        for settlement in due {
            self.charge_roaming(&settlement).await?;
        }
        Ok(())
    }

    /// Charges one settlement. The request key is the CDR's, so a retry after a crash or a lost
    /// reply charges once; a provider that is down is asked again on the next pass.
    async fn charge_roaming(&self, settlement: &Settlement) -> StoreResult<()> {
        let id_token = settlement.id_token.clone();
        let token =
            self.store.read(move |conn| Box::pin(async move { tokens::get_token(conn, &id_token).await })).await?;
        let key = format!("roaming-{}-{}", settlement.cpo, settlement.cdr_id);
        let (amount, currency) = (settlement.amount.unwrap_or(0), settlement.currency.clone().unwrap_or_default());
        let movement = |from_account: String, reference: Option<String>| Movement {
            movement_key: key.clone(),
            kind: "roaming_charge".into(),
            from_account,
            to_account: roaming_account(&settlement.cpo),
            amount,
            currency: currency.clone(),
            session_id: None,
            reason: Some(format!("CDR {} of {}", settlement.cdr_id, settlement.cpo)),
            provider_reference: reference,
            created_at: Timestamp::now(),
        };
        let method = token.as_ref().and_then(|t| t.payment_method.clone());
        let outcome = match method.as_deref() {
            None => Outcome { state: BILLED_ELSEWHERE, reference: None, problem: None, movement: None },
            Some(_) if amount == 0 => Outcome { state: CHARGED, reference: None, problem: None, movement: None },
            Some(WALLET) => {
                let wallet = wallet_account(&settlement.id_token);
                let charge = movement(wallet.clone(), None);
                return self.charge_roaming_from_wallet(settlement, wallet, charge).await;
            }
            Some(method) => {
                match self.payments.provider.charge(&key, method, Money { amount, currency: &currency }).await {
                    Ok(reference) => {
                        let account = format!("provider:{}", self.payments.provider.name());
                        let charge = movement(account, Some(reference.clone()));
                        Outcome { state: CHARGED, reference: Some(reference), problem: None, movement: Some(charge) }
                    }
                    Err(PaymentError::Declined(why)) => {
                        Outcome { state: DECLINED, reference: None, problem: Some(why), movement: None }
                    }
                    Err(PaymentError::Unavailable(why)) => {
                        tracing::warn!(cdr = %settlement.cdr_id, %why, "the provider is unavailable; charging the roaming CDR later");
                        return Ok(());
                    }
                }
            }
        };
        let (cpo, cdr_id) = (settlement.cpo.clone(), settlement.cdr_id.clone());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let key = (cpo.as_str(), cdr_id.as_str());
                    let (reference, problem) = (outcome.reference.as_deref(), outcome.problem.as_deref());
                    if settlements::charged(&mut *tx, key, outcome.state, reference, problem, Timestamp::now()).await?
                        && let Some(movement) = &outcome.movement
                    {
                        payments::record_movement(tx, movement).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Takes the amount from the driver's wallet when it holds enough (its operator keeping wallets),
    /// in the same transaction as the settlement's new state; else the driver owes it.
    async fn charge_roaming_from_wallet(
        &self,
        settlement: &Settlement,
        wallet: String,
        charge: Movement,
    ) -> StoreResult<()> {
        let (cpo, cdr_id, id_token) = (settlement.cpo.clone(), settlement.cdr_id.clone(), settlement.id_token.clone());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let operator = tokens::get_token(&mut *tx, &id_token).await?.map(|t| t.operator_id);
                    let enabled = match operator {
                        Some(operator) => operators::wallets_enabled(&mut *tx, operator).await?,
                        None => false,
                    };
                    let balance = payments::balance(&mut *tx, &wallet, &charge.currency).await?;
                    let key = (cpo.as_str(), cdr_id.as_str());
                    let now = Timestamp::now();
                    if !enabled || balance < charge.amount {
                        let why = if enabled {
                            format!("the wallet holds {balance} but the charge is {} (minor units)", charge.amount)
                        } else {
                            "the driver's operator keeps no wallets".to_owned()
                        };
                        settlements::charged(tx, key, DECLINED, None, Some(&why), now).await?;
                        return Ok(());
                    }
                    if settlements::charged(&mut *tx, key, CHARGED, None, None, now).await? {
                        payments::record_movement(tx, &charge).await?;
                    }
                    Ok(())
                })
            })
            .await
    }
}
