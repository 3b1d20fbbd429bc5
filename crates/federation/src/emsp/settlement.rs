//! Settlement, eMSP side: a CDR another member sent about this node's driver is charged to the
//! driver only once the ledger holds its anchor and the CDR is what the ledger holds — anchored by
//! that member for this member and for this driver's pseudonym (the token commitment), with the
//! hash of the very priced CDR received and the same total. The driver pays what the ledger priced.
//! Anything else leaves the driver uncharged and the settlement `mismatch`, for the operator to
//! dispute on the ledger (see the roaming API). Once the members settle a disputed CDR on the
//! ledger, the driver pays what they agreed: the difference is refunded, or the amount charged.

use crate::Federation;
use chargemesh_core::pricing::PricedCdr;
use chargemesh_core::pseudonym::token_commitment;
use chargemesh_core::settlement::{NotDisputable, SettlementState};
use chargemesh_ledger::State;
use chargemesh_ledger::proof::cdr_hash;
use chargemesh_ledger::state::CdrStatus;
use chargemesh_ledger::transaction::DisputeReason;
use chargemesh_operations::Outcome;
use chargemesh_protocol::ocpi::sessions::{Cdr, number};
use chargemesh_store::settlements::{Settlement, Unsettled};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// How many received CDRs one round checks.
const PER_ROUND: i64 = 200;

/// Checks received CDRs against the ledger and charges the verified ones, until the task is aborted.
pub async fn run(federation: Arc<Federation>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = round(&federation).await {
            tracing::warn!(%error, "roaming settlement: the store failed; retrying");
        }
    }
}

async fn round(federation: &Federation) -> Outcome<()> {
    let Some(ledger) = &federation.ledger else { return Ok(()) };
    let operations = &federation.operations;
    let unsettled = operations.unsettled_roaming_cdrs(PER_ROUND).await?;
    if !unsettled.is_empty() {
        let now = Timestamp::now();
        let checked: Vec<Settlement> = {
            let chain = ledger.snapshot();
            unsettled
                .into_iter()
                .map(|u| {
                    let pseudonym = ledger.pseudonym(&u.cpo, &u.id_token);
                    check(chain.state(), &ledger.party_id, &pseudonym, u, now)
                })
                .collect()
        };
        operations.record_settlement_checks(checked).await?;
    }
    // Disputes the members have since settled on the ledger: the driver pays what they agreed.
    let disputed = operations.disputed_roaming_settlements().await?;
    let resolved: Vec<(Settlement, i64)> = {
        let chain = ledger.snapshot();
        disputed
            .into_iter()
            .filter_map(|settlement| match chain.state().cdr(&settlement.cpo, &settlement.cdr_id)?.status {
                CdrStatus::Resolved { agreed_incl_tax } => Some((settlement, agreed_incl_tax)),
                _ => None,
            })
            .collect()
    };
    for (settlement, agreed) in &resolved {
        operations.settle_resolved_dispute(settlement, *agreed).await?;
    }
    Ok(operations.charge_roaming_settlements().await?)
}

/// What the ledger says of a received CDR: nothing yet (`awaiting_anchor`), that it is the CDR
/// anchored for this member's driver (`verified`, with the ledger's amount), or how it differs
/// (`mismatch`).
fn check(state: &State, me: &str, pseudonym: &str, received: Unsettled, now: Timestamp) -> Settlement {
    let mut settlement = Settlement {
        cpo: received.cpo,
        cdr_id: received.cdr_id,
        start_id: received.start_id,
        id_token: received.id_token,
        state: SettlementState::AwaitingAnchor,
        problem: None,
        currency: None,
        amount: None,
        height: None,
        cdr_hash: None,
        payment_reference: None,
        dispute_reason: None,
        refunded: None,
        created_at: now,
        updated_at: now,
    };
    let Some(entry) = state.cdr(&settlement.cpo, &settlement.cdr_id) else { return settlement };
    let anchor = &entry.anchor;
    settlement.currency = Some(anchor.claimed.currency.clone());
    settlement.amount = Some(anchor.claimed.incl_tax);
    settlement.height = i64::try_from(entry.height).ok();
    settlement.cdr_hash = Some(hex::encode(anchor.cdr_hash));
    let problem = match differences(anchor, me, pseudonym, &settlement.cdr_id, &received.body) {
        Some(problem) => problem,
        None => {
            settlement.state = SettlementState::Verified;
            return settlement;
        }
    };
    settlement.state = SettlementState::Mismatch;
    settlement.problem = Some(problem);
    settlement
}

/// The first way the received CDR (OCPI JSON) differs from the ledger's anchor of it.
fn differences(
    anchor: &chargemesh_ledger::transaction::CdrAnchor,
    me: &str,
    pseudonym: &str,
    cdr_id: &str,
    body: &str,
) -> Option<String> {
    if anchor.emsp != me {
        return Some(format!("the ledger records the CDR as {}'s driver's, not this member's", anchor.emsp));
    }
    if anchor.token_commitment != token_commitment(pseudonym, cdr_id) {
        return Some("the ledger's anchor is for another driver than the one this charge was started for".into());
    }
    let Ok(cdr) = serde_json::from_str::<Cdr>(body) else {
        return Some("the CDR received cannot be read".into());
    };
    if cdr_hash(cdr.chargemesh_cdr.as_bytes()) != anchor.cdr_hash {
        return Some("the priced CDR received is not the one the ledger holds (its hash differs)".into());
    }
    let Ok(priced) = serde_json::from_str::<PricedCdr>(&cdr.chargemesh_cdr) else {
        return Some("the priced CDR received cannot be read".into());
    };
    if priced.totals.incl_tax.0 != anchor.claimed.incl_tax || priced.currency.code() != anchor.claimed.currency {
        return Some(format!(
            "the priced CDR totals {} {} but the ledger priced it {} {} (minor units)",
            priced.totals.incl_tax.0,
            priced.currency.code(),
            anchor.claimed.incl_tax,
            anchor.claimed.currency
        ));
    }
    let total = Some(number(&priced.currency.format(priced.totals.incl_tax)));
    if cdr.total_cost.incl_vat != total {
        return Some(format!("the CDR's total cost {:?} is not the priced CDR's {:?}", cdr.total_cost.incl_vat, total));
    }
    None
}

#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    #[error("this node takes part in no consortium")]
    NoConsortium,
    #[error("start {0} has no CDR from the charger's member yet")]
    NoCdr(String),
    #[error("the ledger does not hold CDR {0} yet; dispute it once it is anchored")]
    NotAnchored(String),
    #[error("CDR {0} is disputed already")]
    AlreadyDisputed(String),
    #[error("the dispute window of CDR {cdr_id} closed at {closed} (UTC)")]
    WindowClosed { cdr_id: String, closed: Timestamp },
    /// Operations failed (the store, in practice).
    #[error(transparent)]
    Store(#[from] chargemesh_operations::Error),
}

impl Federation {
    /// The settlement of the charge of start `start_id`, and the ledger's inclusion proof of its CDR
    /// once anchored.
    pub async fn settlement_of_start(
        &self,
        start_id: &str,
    ) -> Outcome<Option<(Settlement, Option<chargemesh_ledger::proof::CdrProof>)>> {
        let Some(settlement) = self.operations.settlement_of_roaming_start(start_id).await? else { return Ok(None) };
        let proof = self.ledger.as_ref().filter(|_| settlement.height.is_some()).and_then(|ledger| {
            let chain = ledger.snapshot();
            chargemesh_chain::proof::prove(chain.store(), chain.state(), &settlement.cpo, &settlement.cdr_id).ok()
        });
        Ok(Some((settlement, proof)))
    }

    /// Disputes the CDR of start `start_id` on the ledger for `reason`: recorded here first, then
    /// submitted by the ledger feed (again after a crash) until the ledger holds the dispute.
    pub async fn dispute(&self, start_id: &str, reason: DisputeReason) -> Result<Settlement, DisputeError> {
        let Some(ledger) = &self.ledger else { return Err(DisputeError::NoConsortium) };
        let found = self.settlement_of_start(start_id).await?;
        let (settlement, _) = found.ok_or_else(|| DisputeError::NoCdr(start_id.to_owned()))?;
        match settlement.state.disputable() {
            Err(NotDisputable::NotAnchored) => return Err(DisputeError::NotAnchored(settlement.cdr_id)),
            Err(NotDisputable::AlreadyDisputed) => return Err(DisputeError::AlreadyDisputed(settlement.cdr_id)),
            Ok(()) => {}
        }
        let closes = {
            let chain = ledger.snapshot();
            let state = chain.state();
            let entry = state.cdr(&settlement.cpo, &settlement.cdr_id);
            entry.map(|e| e.anchored_at.saturating_add(state.parameters().dispute_window_ms))
        };
        let closes = closes.ok_or_else(|| DisputeError::NotAnchored(settlement.cdr_id.clone()))?;
        let now = Timestamp::now();
        if now.as_millisecond() >= closes {
            let closed = Timestamp::from_millisecond(closes).unwrap_or(now);
            return Err(DisputeError::WindowClosed { cdr_id: settlement.cdr_id, closed });
        }
        let reason = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let key = (settlement.cpo.clone(), settlement.cdr_id.clone());
        let disputed = self.operations.dispute_roaming_cdr(key, reason, now).await?;
        disputed.ok_or(DisputeError::AlreadyDisputed(settlement.cdr_id))
    }
}

#[cfg(test)]
mod tests {
    use super::differences;
    use chargemesh_core::pseudonym::token_commitment;
    use chargemesh_ledger::transaction::{CdrAnchor, ClaimedAmounts};

    fn anchor() -> CdrAnchor {
        CdrAnchor {
            cdr_id: "42".into(),
            evse_id: "CN*M02*E1*1".into(),
            emsp: "CN-M01".into(),
            token_commitment: token_commitment("PSEUDONYM", "42"),
            periods: Vec::new(),
            tariff_id: "t".into(),
            tariff_version: 1,
            claimed: ClaimedAmounts {
                currency: "CNY".into(),
                energy: 0,
                service_fee: 0,
                charging_time: 0,
                idle_time: 0,
                flat: 0,
                adjustment: 0,
                excl_tax: 0,
                tax: 0,
                incl_tax: 0,
            },
            cdr_hash: [7; 32],
        }
    }

    #[test]
    fn a_cdr_of_another_member_or_driver_or_that_cannot_be_read_is_a_mismatch() {
        let found = |me: &str, pseudonym: &str, body: &str| differences(&anchor(), me, pseudonym, "42", body);
        assert!(found("CN-M03", "PSEUDONYM", "{}").unwrap().contains("CN-M01's driver's"));
        assert!(found("CN-M01", "SOMEONE-ELSE", "{}").unwrap().contains("another driver"));
        assert!(found("CN-M01", "PSEUDONYM", "{}").unwrap().contains("cannot be read"));
    }
}
