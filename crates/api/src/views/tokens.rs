//! What the API shows of tokens records.

use chargemesh_core::authorization::TokenStatus;
use chargemesh_store::tokens as store;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Token {
    pub id_token: String,
    pub operator_id: i64,
    /// `card` or `app`.
    pub kind: String,
    /// `active` or `blocked`.
    #[schema(value_type = String)]
    pub status: TokenStatus,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    pub parent_id_token: Option<String>,
    pub label: Option<String>,
    /// How sessions of this token are paid: `wallet`, or a payment provider's reference to the
    /// holder's payment method (`sandbox:…` for the built-in sandbox); none when the operator bills
    /// the holder some other way.
    pub payment_method: Option<String>,
    /// The consortium member (party id, `CN-ABC`) whose driver this token stands for: the token is
    /// that member's pseudonym of the driver, and the member pays for the charge through the ledger.
    /// None: one of the operator's own drivers.
    pub emsp_party: Option<String>,
    /// The driver account (driver API) whose token this is.
    pub driver_id: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<store::Token> for Token {
    fn from(row: store::Token) -> Self {
        Token {
            id_token: row.id_token,
            operator_id: row.operator_id,
            kind: row.kind,
            status: row.status,
            expires_at: row.expires_at,
            parent_id_token: row.parent_id_token,
            label: row.label,
            payment_method: row.payment_method,
            emsp_party: row.emsp_party,
            driver_id: row.driver_id,
            created_at: row.created_at,
        }
    }
}
