//! Settling this node's drivers' charges at other members' chargers: the CDRs received, as checked
//! against the ledger, and the disputes this member raises about them.

use super::Operations;
use crate::Outcome;
use chargemesh_core::settlement::SettlementState;
use chargemesh_store::settlements::{self, Settlement, Unsettled};
use jiff::Timestamp;

impl Operations {
    /// At most `limit` received CDRs not settled yet (or still awaiting their anchor), oldest first.
    pub async fn unsettled_roaming_cdrs(&self, limit: i64) -> Outcome<Vec<Unsettled>> {
        Ok(self.store.read(move |conn| Box::pin(settlements::unsettled(conn, limit))).await?)
    }

    /// Records what the ledger says of each CDR checked, all together; a new mismatch is logged (the
    /// driver is not charged).
    pub async fn record_settlement_checks(&self, checked: Vec<Settlement>) -> Outcome<()> {
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    for settlement in &checked {
                        if settlements::record_check(&mut *tx, settlement).await? && settlement.state == SettlementState::Mismatch {
                            tracing::warn!(cpo = %settlement.cpo, cdr = %settlement.cdr_id,
                                problem = ?settlement.problem, "a roaming CDR differs from the ledger's; the driver is not charged");
                        }
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }

    /// The settlements this member disputed on the ledger and that are not resolved yet.
    pub async fn disputed_roaming_settlements(&self) -> Outcome<Vec<Settlement>> {
        Ok(self.store.read(|conn| Box::pin(settlements::disputed_settlements(conn))).await?)
    }

    /// The settlement of the charge of start `start_id`, once its CDR came.
    pub async fn settlement_of_roaming_start(&self, start_id: &str) -> Outcome<Option<Settlement>> {
        let id = start_id.to_owned();
        Ok(self.store.read(move |conn| Box::pin(async move { settlements::of_start(conn, &id).await })).await?)
    }

    /// Records that this member disputes CDR `cdr_id` of `cpo` for `reason` (the ledger feed then
    /// submits it); none when it was disputed already.
    pub async fn dispute_roaming_cdr(
        &self,
        (cpo, cdr_id): (String, String),
        reason: String,
        now: Timestamp,
    ) -> Outcome<Option<Settlement>> {
        let disputed = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !settlements::dispute(&mut *tx, (&cpo, &cdr_id), &reason, now).await? {
                        return Ok(None);
                    }
                    settlements::get(tx, &cpo, &cdr_id).await
                })
            })
            .await?;
        Ok(disputed)
    }
}
