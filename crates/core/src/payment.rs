//! A session's payment as a state machine: a hold is placed on the driver's means of payment when
//! the session starts, and the session's price is captured from it when it ends; a price that
//! changes later (a re-priced CDR) is adjusted by charging or refunding the difference. The
//! transitions are pure: each says what state comes next, or that the event does not apply.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// The session started; the hold is not placed yet.
    HoldPending,
    /// The estimate is held; the session's price is captured from it when it ends.
    Held,
    /// The hold was refused: the session is stopped and nothing is owed.
    Declined,
    /// The price (some of it, at least) was taken.
    Captured,
    /// The session cost nothing: the whole hold was given back.
    Released,
    /// Charging the price (or a difference) was refused: the driver owes it.
    Owing,
}

/// What the payments worker does with a payment in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStep {
    PlaceHold,
    /// Once the session has ended.
    Capture,
    /// When the session's price differs from what was settled.
    Adjust,
}

/// An event that does not apply to a payment in its state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a payment that is {} cannot be {event}", from.as_str())]
pub struct InvalidTransition {
    pub from: PaymentState,
    pub event: &'static str,
}

impl PaymentState {
    pub const ALL: [PaymentState; 6] = [
        PaymentState::HoldPending,
        PaymentState::Held,
        PaymentState::Declined,
        PaymentState::Captured,
        PaymentState::Released,
        PaymentState::Owing,
    ];

    /// The name stored and shown (`hold_pending`, `held`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentState::HoldPending => "hold_pending",
            PaymentState::Held => "held",
            PaymentState::Declined => "declined",
            PaymentState::Captured => "captured",
            PaymentState::Released => "released",
            PaymentState::Owing => "owing",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentState> {
        PaymentState::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// What is left to do; none once declined or owing (the operator collects what is owed).
    pub const fn next_step(self) -> Option<PaymentStep> {
        match self {
            PaymentState::HoldPending => Some(PaymentStep::PlaceHold),
            PaymentState::Held => Some(PaymentStep::Capture),
            PaymentState::Captured | PaymentState::Released => Some(PaymentStep::Adjust),
            PaymentState::Declined | PaymentState::Owing => None,
        }
    }

    /// The hold was placed.
    pub fn hold_placed(self) -> Result<PaymentState, InvalidTransition> {
        self.only_from(PaymentState::HoldPending, "held", PaymentState::Held)
    }

    /// The hold was refused.
    pub fn hold_declined(self) -> Result<PaymentState, InvalidTransition> {
        self.only_from(PaymentState::HoldPending, "declined", PaymentState::Declined)
    }

    /// The ended session's price was settled from the hold: `taken` minor units were taken (none:
    /// the hold was released whole).
    pub fn settled(self, taken: i64) -> Result<PaymentState, InvalidTransition> {
        let next = if taken > 0 { PaymentState::Captured } else { PaymentState::Released };
        self.only_from(PaymentState::Held, "settled", next)
    }

    /// A further charge (a dearer re-priced session) was taken.
    pub fn charged_more(self) -> Result<PaymentState, InvalidTransition> {
        match self {
            PaymentState::Captured | PaymentState::Released => Ok(PaymentState::Captured),
            from => Err(InvalidTransition { from, event: "charged more" }),
        }
    }

    /// The provider refused to take what the session costs: the driver owes it.
    pub fn refused(self) -> Result<PaymentState, InvalidTransition> {
        match self {
            PaymentState::Held | PaymentState::Captured | PaymentState::Released => Ok(PaymentState::Owing),
            from => Err(InvalidTransition { from, event: "refused" }),
        }
    }

    fn only_from(
        self,
        from: PaymentState,
        event: &'static str,
        next: PaymentState,
    ) -> Result<PaymentState, InvalidTransition> {
        if self == from { Ok(next) } else { Err(InvalidTransition { from: self, event }) }
    }
}

impl std::fmt::Display for PaymentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refund of (part of) a payment: recorded, and counted against the payment, before the provider
/// is asked to give the money back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    /// The money has not gone back yet.
    Pending,
    Done,
}

impl RefundState {
    pub const fn as_str(self) -> &'static str {
        match self {
            RefundState::Pending => "pending",
            RefundState::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<RefundState> {
        [RefundState::Pending, RefundState::Done].into_iter().find(|state| state.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentState::*;
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for state in PaymentState::ALL {
            assert_eq!(PaymentState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(PaymentState::parse("paid"), None);
    }

    #[test]
    fn a_payment_is_held_then_settled_then_adjusted() {
        assert_eq!(HoldPending.hold_placed(), Ok(Held));
        assert_eq!(Held.settled(1_234), Ok(Captured));
        assert_eq!(Held.settled(0), Ok(Released));
        assert_eq!(Released.charged_more(), Ok(Captured));
        assert_eq!(Captured.next_step(), Some(PaymentStep::Adjust));
    }

    #[test]
    fn refusals_end_in_declined_or_owing_with_nothing_left_to_do() {
        assert_eq!(HoldPending.hold_declined(), Ok(Declined));
        for from in [Held, Captured, Released] {
            assert_eq!(from.refused(), Ok(Owing));
        }
        assert_eq!(Declined.next_step(), None);
        assert_eq!(Owing.next_step(), None);
    }

    #[test]
    fn events_out_of_order_are_refused() {
        assert!(Held.hold_placed().is_err());
        assert!(Captured.settled(5).is_err());
        assert!(HoldPending.refused().is_err());
        assert!(Declined.charged_more().is_err());
        assert_eq!(Owing.hold_declined().unwrap_err().to_string(), "a payment that is owing cannot be declined");
    }

    #[test]
    fn a_refund_state_reads_back_from_its_name_only() {
        for state in [RefundState::Pending, RefundState::Done] {
            assert_eq!(RefundState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(RefundState::parse("PENDING"), None);
    }
}
