//! Charging this node's drivers for their charges at other members' chargers, once the ledger holds
//! the CDR and this node checked it: the amount the ledger priced, from the driver's wallet or
//! through the payment provider, into the account of what this member owes the charger's member
//! (`roaming:<party>`), which the ledger's clearing settles between the members.

use super::{Money, PaymentError, WALLET, wallet_account};
use crate::Operations;
use chargemesh_core::settlement::SettlementState::{self, BilledElsewhere, Charged, Declined, Resolved, Verified};
use chargemesh_store::payments::{self, Movement};
use chargemesh_store::settlements::{self, Resolution, Settlement};
use chargemesh_store::{Result as StoreResult, operators, tokens};

/// What this member owes another member for its drivers' charges there.
fn roaming_account(member: &str) -> String {
    format!("roaming:{member}")
}

/// The key of charging a roaming CDR to the driver: the CDR's own, so that it is charged once.
fn charge_key(settlement: &Settlement) -> String {
    format!("roaming-{}-{}", settlement.cpo, settlement.cdr_id)
}

/// The outcome of charging a driver: the settlement's next state, the payment's reference, and why
/// it failed.
struct Outcome {
    state: SettlementState,
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
        let now = self.now();
        let id_token = settlement.id_token.clone();
        let token =
            self.store.read(move |conn| Box::pin(async move { tokens::get_token(conn, &id_token).await })).await?;
        let key = charge_key(settlement);
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
            created_at: now,
        };
        let method = token.as_ref().and_then(|t| t.payment_method.clone());
        let outcome = match method.as_deref() {
            None => Outcome { state: BilledElsewhere, reference: None, problem: None, movement: None },
            Some(_) if amount == 0 => Outcome { state: Charged, reference: None, problem: None, movement: None },
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
                        Outcome { state: Charged, reference: Some(reference), problem: None, movement: Some(charge) }
                    }
                    Err(PaymentError::Declined(why)) => {
                        Outcome { state: Declined, reference: None, problem: Some(why), movement: None }
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
                    if settlements::charged(&mut *tx, key, outcome.state, reference, problem, now).await?
                        && let Some(movement) = &outcome.movement
                    {
                        payments::record_movement(tx, movement).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Settles a disputed CDR the members agreed on the ledger to settle for `agreed` (minor units):
    /// a driver charged more gets the difference back through the payment it came through (the
    /// provider's charge, or the wallet), with the reason; a driver not charged yet is charged the
    /// agreed amount like any verified CDR. Keyed by the CDR, so a retry after a crash refunds once;
    /// a provider that is down is asked again on the next pass.
    pub async fn settle_resolved_dispute(&self, settlement: &Settlement, agreed: i64) -> StoreResult<()> {
        let now = self.now();
        let charge_key = charge_key(settlement);
        let charged = self
            .store
            .read(move |conn| Box::pin(async move { payments::movement_by_key(conn, &charge_key).await }))
            .await?;
        let (cpo, cdr_id) = (settlement.cpo.clone(), settlement.cdr_id.clone());
        let reason = format!("{cpo} and this member settled disputed CDR {cdr_id} for {agreed} (minor units)");
        let charged = match charged {
            // Never charged (the dispute came first): charged the agreed amount, as any verified CDR.
            None => {
                let state = if agreed > 0 { Verified } else { Resolved };
                let resolution = Resolution { state, amount: agreed, refunded: None, problem: Some(&reason) };
                return self.resolve_settlement(&cpo, &cdr_id, resolution, None).await;
            }
            // Charged no more than agreed: nothing to give back.
            Some(charged) if charged.amount <= agreed => {
                let resolution = Resolution { state: Resolved, amount: agreed, refunded: None, problem: Some(&reason) };
                return self.resolve_settlement(&cpo, &cdr_id, resolution, None).await;
            }
            Some(charged) => charged,
        };
        let back = charged.amount - agreed;
        let refund = Movement {
            movement_key: format!("{}-refund", charged.movement_key),
            kind: "roaming_refund".into(),
            from_account: charged.to_account.clone(),
            to_account: charged.from_account.clone(),
            amount: back,
            currency: charged.currency.clone(),
            session_id: None,
            reason: Some(format!("{reason}: {back} refunded")),
            provider_reference: charged.provider_reference.clone(),
            created_at: now,
        };
        let mut problem = format!("{reason}: {back} refunded");
        if let Some(reference) = &charged.provider_reference {
            let money = Money { amount: back, currency: &charged.currency };
            match self.payments.provider.refund(&refund.movement_key, reference, money).await {
                Ok(()) => {}
                Err(PaymentError::Unavailable(why)) => {
                    tracing::warn!(cdr = %cdr_id, %why, "the provider is unavailable; refunding the resolved CDR later");
                    return Ok(());
                }
                Err(PaymentError::Declined(why)) => {
                    // Nothing moved: the operator must pay the driver back another way.
                    problem = format!("{reason}: the refund of {back} was declined ({why}); pay it back by hand");
                    let resolution =
                        Resolution { state: Resolved, amount: agreed, refunded: Some(0), problem: Some(&problem) };
                    return self.resolve_settlement(&cpo, &cdr_id, resolution, None).await;
                }
            }
        }
        let resolution = Resolution { state: Resolved, amount: agreed, refunded: Some(back), problem: Some(&problem) };
        self.resolve_settlement(&cpo, &cdr_id, resolution, Some(refund)).await
    }

    /// Records a dispute's resolution, with the refund's movement in the same transaction.
    async fn resolve_settlement(
        &self,
        cpo: &str,
        cdr_id: &str,
        resolution: Resolution<'_>,
        refund: Option<Movement>,
    ) -> StoreResult<()> {
        let now = self.now();
        let (cpo, cdr_id) = (cpo.to_owned(), cdr_id.to_owned());
        let (state, amount, refunded) = (resolution.state, resolution.amount, resolution.refunded);
        let problem = resolution.problem.map(str::to_owned);
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let resolution = Resolution { state, amount, refunded, problem: problem.as_deref() };
                    if settlements::resolve(&mut *tx, (&cpo, &cdr_id), &resolution, now).await?
                        && let Some(refund) = &refund
                    {
                        payments::record_movement(tx, refund).await?;
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
        let now = self.now();
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
                    if !enabled || balance < charge.amount {
                        let why = if enabled {
                            format!("the wallet holds {balance} but the charge is {} (minor units)", charge.amount)
                        } else {
                            "the driver's operator keeps no wallets".to_owned()
                        };
                        settlements::charged(tx, key, Declined, None, Some(&why), now).await?;
                        return Ok(());
                    }
                    if settlements::charged(&mut *tx, key, Charged, None, None, now).await? {
                        payments::record_movement(tx, &charge).await?;
                    }
                    Ok(())
                })
            })
            .await
    }
}
