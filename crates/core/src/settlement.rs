//! The settlement of this member's driver's charge at another member's charger: the CDR that member
//! sent is checked against the ledger's anchor of it, then charged to the driver (or disputed).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementState {
    /// The ledger does not hold the CDR yet.
    AwaitingAnchor,
    /// The CDR is not what the ledger holds; the driver is not charged.
    Mismatch,
    /// The CDR is what the ledger holds: the driver is to be charged.
    Verified,
    Charged,
    /// The driver's payment failed: the driver owes it.
    Declined,
    /// The driver pays outside this node.
    BilledElsewhere,
    /// This member disputed the CDR on the ledger.
    Disputed,
    /// The members agreed an amount for the disputed CDR; the driver got back what they had paid
    /// above it.
    Resolved,
}

/// Why a CDR cannot be disputed in its settlement's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotDisputable {
    /// The ledger does not hold the CDR yet.
    NotAnchored,
    AlreadyDisputed,
}

impl SettlementState {
    pub const ALL: [SettlementState; 8] = [
        SettlementState::AwaitingAnchor,
        SettlementState::Mismatch,
        SettlementState::Verified,
        SettlementState::Charged,
        SettlementState::Declined,
        SettlementState::BilledElsewhere,
        SettlementState::Disputed,
        SettlementState::Resolved,
    ];

    /// The name stored and shown (`awaiting_anchor`, `verified`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            SettlementState::AwaitingAnchor => "awaiting_anchor",
            SettlementState::Mismatch => "mismatch",
            SettlementState::Verified => "verified",
            SettlementState::Charged => "charged",
            SettlementState::Declined => "declined",
            SettlementState::BilledElsewhere => "billed_elsewhere",
            SettlementState::Disputed => "disputed",
            SettlementState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<SettlementState> {
        SettlementState::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// Whether the driver's side is done: charged, billed elsewhere, or resolved.
    pub const fn is_settled(self) -> bool {
        matches!(self, SettlementState::Charged | SettlementState::BilledElsewhere | SettlementState::Resolved)
    }

    /// Whether nothing more happens to it unless someone acts (a payment retried, a dispute opened):
    /// anything but waiting for the ledger or for the driver's charge.
    pub const fn is_at_rest(self) -> bool {
        !matches!(self, SettlementState::AwaitingAnchor | SettlementState::Verified)
    }

    /// Whether this member may dispute the CDR now.
    pub const fn disputable(self) -> Result<(), NotDisputable> {
        match self {
            SettlementState::AwaitingAnchor => Err(NotDisputable::NotAnchored),
            SettlementState::Disputed | SettlementState::Resolved => Err(NotDisputable::AlreadyDisputed),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_name_and_nothing_else_reads() {
        for state in SettlementState::ALL {
            assert_eq!(SettlementState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(SettlementState::parse("VERIFIED"), None);
        assert_eq!(SettlementState::parse(""), None);
    }

    #[test]
    fn only_an_anchored_undisputed_cdr_can_be_disputed() {
        use SettlementState::*;
        assert_eq!(AwaitingAnchor.disputable(), Err(NotDisputable::NotAnchored));
        assert_eq!(Disputed.disputable(), Err(NotDisputable::AlreadyDisputed));
        assert_eq!(Resolved.disputable(), Err(NotDisputable::AlreadyDisputed));
        for state in [Mismatch, Verified, Charged, Declined, BilledElsewhere] {
            assert_eq!(state.disputable(), Ok(()), "{state:?}");
        }
    }

    #[test]
    fn a_settlement_is_settled_once_the_driver_side_is_done() {
        let settled: Vec<_> = SettlementState::ALL.into_iter().filter(|s| s.is_settled()).collect();
        assert_eq!(settled, [SettlementState::Charged, SettlementState::BilledElsewhere, SettlementState::Resolved]);
        assert!(SettlementState::ALL.into_iter().filter(|s| s.is_settled()).all(SettlementState::is_at_rest));
        assert!(!SettlementState::Verified.is_at_rest() && !SettlementState::AwaitingAnchor.is_at_rest());
    }
}
