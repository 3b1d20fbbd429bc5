//! What the API shows of settlements records.

use chargemesh_core::settlement::SettlementState;
use chargemesh_store::settlements as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Settlement {
    /// The member whose charger it was, and its CDR id (the id the ledger anchors it under).
    pub cpo: String,
    pub cdr_id: String,
    pub start_id: String,
    /// `awaiting_anchor`, `mismatch`, `verified`, `charged`, `declined`, `billed_elsewhere`,
    /// `disputed` or `resolved`.
    #[schema(value_type = String)]
    pub state: SettlementState,
    /// Why the CDR was not charged, or the payment's failure.
    pub problem: Option<String>,
    pub currency: Option<String>,
    /// Minor units, tax included, as the ledger priced the CDR.
    pub amount: Option<i64>,
    /// The block that anchors the CDR.
    pub height: Option<i64>,
    /// The hash of the priced CDR the ledger holds (hex).
    pub cdr_hash: Option<String>,
    pub payment_reference: Option<String>,
    /// The reason this member disputed the CDR on the ledger with.
    pub dispute_reason: Option<String>,
    /// What the driver got back when the members settled the disputed CDR for less (minor units).
    pub refunded: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<store::Settlement> for Settlement {
    fn from(row: store::Settlement) -> Self {
        Settlement {
            cpo: row.cpo,
            cdr_id: row.cdr_id,
            start_id: row.start_id,
            state: row.state,
            problem: row.problem,
            currency: row.currency,
            amount: row.amount,
            height: row.height,
            cdr_hash: row.cdr_hash,
            payment_reference: row.payment_reference,
            dispute_reason: row.dispute_reason,
            refunded: row.refunded,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
