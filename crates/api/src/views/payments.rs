//! What the API shows of payments records.

use chargemesh_core::payment::{PaymentState, RefundState};
use chargemesh_store::payments as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: i64,
    pub session_id: i64,
    pub id_token: String,
    pub operator_id: i64,
    /// `wallet`, or the provider's reference to the payment method.
    pub method: String,
    pub currency: String,
    /// The pre-authorized estimate, in minor units.
    pub hold_amount: i64,
    /// `hold_pending`, `held`, `declined`, `captured`, `released` or `owing`.
    #[schema(value_type = String)]
    pub state: PaymentState,
    pub provider_reference: Option<String>,
    /// Everything taken for the session: the capture and any later charge.
    pub captured: i64,
    pub refunded: i64,
    /// The session total the payment is settled for; a re-priced session is charged or refunded the
    /// difference.
    pub settled_total: Option<i64>,
    /// How many times the payment was adjusted after its capture.
    pub adjustments: i64,
    pub failure: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<store::Payment> for Payment {
    fn from(row: store::Payment) -> Self {
        Payment {
            id: row.id,
            session_id: row.session_id,
            id_token: row.id_token,
            operator_id: row.operator_id,
            method: row.method,
            currency: row.currency,
            hold_amount: row.hold_amount,
            state: row.state,
            provider_reference: row.provider_reference,
            captured: row.captured,
            refunded: row.refunded,
            settled_total: row.settled_total,
            adjustments: row.adjustments,
            failure: row.failure,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Refund {
    pub id: i64,
    pub request_key: String,
    pub payment_id: i64,
    pub amount: i64,
    pub reason: String,
    /// `pending` until the money went back, then `done`.
    #[schema(value_type = String)]
    pub state: RefundState,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Refund> for Refund {
    fn from(row: store::Refund) -> Self {
        Refund {
            id: row.id,
            request_key: row.request_key,
            payment_id: row.payment_id,
            amount: row.amount,
            reason: row.reason,
            state: row.state,
            created_at: row.created_at,
        }
    }
}

/// One movement of money from one account to another.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Movement {
    /// Unique: the same movement recorded twice is recorded once.
    pub movement_key: String,
    /// `wallet_top_up`, `wallet_hold`, `wallet_release`, `capture`, `refund`, `wallet_withdrawal`.
    pub kind: String,
    pub from_account: String,
    pub to_account: String,
    pub amount: i64,
    pub currency: String,
    pub session_id: Option<i64>,
    pub reason: Option<String>,
    /// The provider's capture or charge the money came through, or the one it went back through.
    pub provider_reference: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Movement> for Movement {
    fn from(row: store::Movement) -> Self {
        Movement {
            movement_key: row.movement_key,
            kind: row.kind,
            from_account: row.from_account,
            to_account: row.to_account,
            amount: row.amount,
            currency: row.currency,
            session_id: row.session_id,
            reason: row.reason,
            provider_reference: row.provider_reference,
            created_at: row.created_at,
        }
    }
}
