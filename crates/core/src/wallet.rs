//! Wallet operations: money a driver moves into the operator's wallet from a payment method, or back
//! to one. Each is recorded before the provider is asked, and ends once it answered.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalletOperationKind {
    /// From a payment method into the wallet.
    TopUp,
    /// From the wallet back to a payment method.
    Withdrawal,
}

impl WalletOperationKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            WalletOperationKind::TopUp => "top_up",
            WalletOperationKind::Withdrawal => "withdrawal",
        }
    }

    pub fn parse(text: &str) -> Option<WalletOperationKind> {
        [WalletOperationKind::TopUp, WalletOperationKind::Withdrawal].into_iter().find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalletOperationState {
    /// The provider has not answered yet.
    Pending,
    Done,
    Declined,
}

impl WalletOperationState {
    pub const fn as_str(self) -> &'static str {
        match self {
            WalletOperationState::Pending => "pending",
            WalletOperationState::Done => "done",
            WalletOperationState::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<WalletOperationState> {
        [WalletOperationState::Pending, WalletOperationState::Done, WalletOperationState::Declined]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_read_back_from_their_names_only() {
        for kind in [WalletOperationKind::TopUp, WalletOperationKind::Withdrawal] {
            assert_eq!(WalletOperationKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for state in [WalletOperationState::Pending, WalletOperationState::Done, WalletOperationState::Declined] {
            assert_eq!(WalletOperationState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(WalletOperationKind::parse("top-up"), None);
        assert_eq!(WalletOperationState::parse("Done"), None);
    }
}
