//! A charging session's life: active from the charger's start until a stop closes it. A stop the
//! node makes on the charger's behalf (a reboot orphaned the transaction) is replaced by the
//! charger's own when it arrives late; either way the session is completed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Charging or connected: meter values extend it.
    Active,
    /// Stopped; priced and billed.
    Completed,
}

impl SessionState {
    pub const ALL: [SessionState; 2] = [SessionState::Active, SessionState::Completed];

    /// The name stored and shown (`active`, `completed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionState::Active => "active",
            SessionState::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<SessionState> {
        SessionState::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// The state after a stop, whoever made it: a completed session stays completed (a late or
    /// repeated stop corrects its end but does not reopen it).
    pub const fn stopped(self) -> SessionState {
        SessionState::Completed
    }

    /// Whether the session is still running, so that new readings extend it rather than correct it.
    pub const fn is_active(self) -> bool {
        matches!(self, SessionState::Active)
    }
}

/// Who closed a session: the charger's own stop, or the node on the charger's behalf (a reboot
/// orphaned the transaction, or a new one superseded it on the same connector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoppedBy {
    Charger,
    Node,
}

impl StoppedBy {
    pub const ALL: [StoppedBy; 2] = [StoppedBy::Charger, StoppedBy::Node];

    /// The name stored and shown (`charger`, `node`).
    pub const fn as_str(self) -> &'static str {
        match self {
            StoppedBy::Charger => "charger",
            StoppedBy::Node => "node",
        }
    }

    pub fn parse(text: &str) -> Option<StoppedBy> {
        StoppedBy::ALL.into_iter().find(|by| by.as_str() == text)
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{SessionState, StoppedBy};

    #[test]
    fn names_round_trip_and_match_serde() {
        for state in SessionState::ALL {
            assert_eq!(SessionState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(SessionState::parse("stopped"), None);
        for by in StoppedBy::ALL {
            assert_eq!(StoppedBy::parse(by.as_str()), Some(by));
            assert_eq!(serde_json::to_value(by).unwrap(), by.as_str());
        }
        assert_eq!(StoppedBy::parse("driver"), None);
    }

    #[test]
    fn a_stop_completes_a_session_once_and_for_all() {
        assert_eq!(SessionState::Active.stopped(), SessionState::Completed);
        assert_eq!(SessionState::Completed.stopped(), SessionState::Completed);
        assert!(SessionState::Active.is_active());
        assert!(!SessionState::Completed.is_active());
    }
}
