//! Why the state machine refused a transaction. Each reason has a stable code for APIs.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("signed for another chain")]
    WrongChain,
    #[error("{0} is not an active member")]
    UnknownSender(String),
    #[error("the signature does not verify against the sender's registered key")]
    BadSignature,
    #[error("nonce {got} is not the sender's next, {expected}")]
    BadNonce { expected: u64, got: u64 },
    #[error("{0} is not an active member")]
    UnknownMember(String),
    #[error("{field}: {problem}")]
    InvalidField { field: &'static str, problem: String },
    #[error("only a member with the {0} role may do this")]
    MissingRole(&'static str),
    #[error("{0}")]
    Governance(String),
    #[error("proposal {0} is not open")]
    UnknownProposal(u64),
    #[error("already voted on proposal {0}")]
    AlreadyVoted(u64),
    #[error("charger {0} is already registered")]
    ChargerExists(String),
    #[error("charger {0} is not registered")]
    UnknownCharger(String),
    #[error("charger {evse_id} belongs to {owner}")]
    NotOwner { evse_id: String, owner: String },
    #[error("charger {evse_id} is {status}: {problem}")]
    ChargerState { evse_id: String, status: String, problem: String },
    #[error("charger {evse_id} has no calibration valid until the session's end")]
    CalibrationExpired { evse_id: String },
    #[error("tariff: {0}")]
    InvalidTariff(String),
    #[error("tariff {tariff_id} of {owner} has no version {version}")]
    UnknownTariff { owner: String, tariff_id: String, version: u32 },
    #[error("tariff version {claimed} was not in force at the session's start; {in_force} was")]
    TariffNotInForce { claimed: u32, in_force: String },
    #[error("CDR {0} is already anchored")]
    AlreadyAnchored(String),
    #[error("the charging periods: {0}")]
    InvalidPeriods(String),
    #[error("the claimed amounts differ from the ledger's price: {0}")]
    PriceDiffers(String),
    #[error("CDR {0} is not anchored")]
    UnknownCdr(String),
    #[error("{0}")]
    Dispute(String),
    #[error("{0}")]
    Clearing(String),
}

impl Rejection {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::WrongChain => "wrong_chain",
            Rejection::UnknownSender(_) => "unknown_sender",
            Rejection::BadSignature => "bad_signature",
            Rejection::BadNonce { .. } => "bad_nonce",
            Rejection::UnknownMember(_) => "unknown_member",
            Rejection::InvalidField { .. } => "invalid_field",
            Rejection::MissingRole(_) => "missing_role",
            Rejection::Governance(_) => "governance",
            Rejection::UnknownProposal(_) => "unknown_proposal",
            Rejection::AlreadyVoted(_) => "already_voted",
            Rejection::ChargerExists(_) => "charger_exists",
            Rejection::UnknownCharger(_) => "unknown_charger",
            Rejection::NotOwner { .. } => "not_owner",
            Rejection::ChargerState { .. } => "charger_state",
            Rejection::CalibrationExpired { .. } => "calibration_expired",
            Rejection::InvalidTariff(_) => "invalid_tariff",
            Rejection::UnknownTariff { .. } => "unknown_tariff",
            Rejection::TariffNotInForce { .. } => "tariff_not_in_force",
            Rejection::AlreadyAnchored(_) => "already_anchored",
            Rejection::InvalidPeriods(_) => "invalid_periods",
            Rejection::PriceDiffers(_) => "price_differs",
            Rejection::UnknownCdr(_) => "unknown_cdr",
            Rejection::Dispute(_) => "dispute",
            Rejection::Clearing(_) => "clearing",
        }
    }
}
