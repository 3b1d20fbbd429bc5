//! A charger's condition as an operator's dashboard counts and filters its fleet.

use serde::{Deserialize, Serialize};

/// Each charger is in one condition, its worst: offline when not connected, faulted when a
/// connector reports `Faulted`, charging when one charges, online otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Online,
    Charging,
    Faulted,
    Offline,
}

impl Condition {
    /// The condition of a charger that is `connected` (or not), with any connector `faulted` and any
    /// `charging`.
    pub fn of(connected: bool, faulted: bool, charging: bool) -> Condition {
        match (connected, faulted, charging) {
            (false, _, _) => Condition::Offline,
            (true, true, _) => Condition::Faulted,
            (true, false, true) => Condition::Charging,
            (true, false, false) => Condition::Online,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Online => "online",
            Condition::Charging => "charging",
            Condition::Faulted => "faulted",
            Condition::Offline => "offline",
        }
    }

    pub fn parse(text: &str) -> Option<Condition> {
        [Condition::Online, Condition::Charging, Condition::Faulted, Condition::Offline]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// How many chargers are in each condition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetCounts {
    pub online: i64,
    pub charging: i64,
    pub faulted: i64,
    pub offline: i64,
}

impl FleetCounts {
    /// Counts one more charger in `condition`.
    pub fn add(&mut self, condition: Condition) {
        *match condition {
            Condition::Online => &mut self.online,
            Condition::Charging => &mut self.charging,
            Condition::Faulted => &mut self.faulted,
            Condition::Offline => &mut self.offline,
        } += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_charger_is_in_its_worst_condition() {
        assert_eq!(Condition::of(false, true, true), Condition::Offline);
        assert_eq!(Condition::of(true, true, true), Condition::Faulted);
        assert_eq!(Condition::of(true, false, true), Condition::Charging);
        assert_eq!(Condition::of(true, false, false), Condition::Online);
        let mut counts = FleetCounts::default();
        for condition in [Condition::Offline, Condition::Faulted, Condition::Faulted, Condition::Online] {
            counts.add(condition);
            assert_eq!(Condition::parse(condition.as_str()), Some(condition));
        }
        assert_eq!(counts, FleetCounts { online: 1, charging: 0, faulted: 2, offline: 1 });
        assert_eq!(Condition::parse("Faulted"), None);
    }
}
