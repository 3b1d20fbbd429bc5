//! A roaming start's life: this member's driver asks for a charge (or a reservation first) at
//! another member's charger. The member answers at once whether it will try; the charger's result
//! comes later, and so do the results of the commands that follow (stop, unlock, cancel).
//!
//! The states are stored and shown by their names (`requested`, `started`, `stop_failed`, …): a
//! command the charger did not carry out is the command's prefix and the charger's answer.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoamingStartState {
    /// A reservation was asked for; the member has not answered yet.
    ReservationRequested,
    /// The member will ask its charger to reserve.
    Reserving,
    /// The charger holds the connector for the driver.
    Reserved,
    /// The member will ask its charger to cancel the reservation.
    Cancelling,
    ReservationCancelled,
    /// A start was asked for; the member has not answered yet.
    Requested,
    /// The member will ask its charger to start.
    Accepted,
    /// The member refused (or the charger refused to start).
    Rejected,
    /// The member's node could not be reached: nothing was started.
    Unreachable,
    Started,
    Stopping,
    Stopped,
    Unlocking,
    Unlocked,
    /// The charger did not carry out `command`, answering `answer`.
    NotDone {
        command: RoamingCommand,
        answer: ChargerAnswer,
    },
}

/// A command sent about a roaming start, as the charger's result names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoamingCommand {
    Start,
    Stop,
    Unlock,
    Reserve,
    CancelReservation,
}

/// A charger's answer other than "accepted" (OCPI's CommandResultType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargerAnswer {
    CanceledReservation,
    EvseOccupied,
    EvseInoperative,
    Failed,
    NotSupported,
    Rejected,
    Timeout,
    UnknownReservation,
}

/// How the member answered a command at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAnswer {
    Accepted,
    Refused,
    Unreachable,
}

impl ChargerAnswer {
    pub const ALL: [ChargerAnswer; 8] = [
        ChargerAnswer::CanceledReservation,
        ChargerAnswer::EvseOccupied,
        ChargerAnswer::EvseInoperative,
        ChargerAnswer::Failed,
        ChargerAnswer::NotSupported,
        ChargerAnswer::Rejected,
        ChargerAnswer::Timeout,
        ChargerAnswer::UnknownReservation,
    ];

    /// OCPI's name in lower case: `evse_occupied`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChargerAnswer::CanceledReservation => "canceled_reservation",
            ChargerAnswer::EvseOccupied => "evse_occupied",
            ChargerAnswer::EvseInoperative => "evse_inoperative",
            ChargerAnswer::Failed => "failed",
            ChargerAnswer::NotSupported => "not_supported",
            ChargerAnswer::Rejected => "rejected",
            ChargerAnswer::Timeout => "timeout",
            ChargerAnswer::UnknownReservation => "unknown_reservation",
        }
    }

    fn parse(text: &str) -> Option<ChargerAnswer> {
        ChargerAnswer::ALL.into_iter().find(|answer| answer.as_str() == text)
    }
}

impl RoamingCommand {
    pub const ALL: [RoamingCommand; 5] = [
        RoamingCommand::Start,
        RoamingCommand::Stop,
        RoamingCommand::Unlock,
        RoamingCommand::Reserve,
        RoamingCommand::CancelReservation,
    ];

    /// What prefixes the charger's answer in the name of a state: a start's results stand alone.
    const fn prefix(self) -> &'static str {
        match self {
            RoamingCommand::Start => "",
            RoamingCommand::Stop => "stop_",
            RoamingCommand::Unlock => "unlock_",
            RoamingCommand::Reserve => "reserve_",
            RoamingCommand::CancelReservation => "cancel_",
        }
    }

    /// The state while the member's charger is asked to carry out this command, once the member
    /// accepted it (a start and a reservation have their own answer first: see
    /// [`RoamingStartState::answered`]).
    pub const fn pending(self) -> RoamingStartState {
        match self {
            RoamingCommand::Start => RoamingStartState::Accepted,
            RoamingCommand::Stop => RoamingStartState::Stopping,
            RoamingCommand::Unlock => RoamingStartState::Unlocking,
            RoamingCommand::Reserve => RoamingStartState::Reserving,
            RoamingCommand::CancelReservation => RoamingStartState::Cancelling,
        }
    }
}

const NAMED: [RoamingStartState; 14] = [
    RoamingStartState::ReservationRequested,
    RoamingStartState::Reserving,
    RoamingStartState::Reserved,
    RoamingStartState::Cancelling,
    RoamingStartState::ReservationCancelled,
    RoamingStartState::Requested,
    RoamingStartState::Accepted,
    RoamingStartState::Rejected,
    RoamingStartState::Unreachable,
    RoamingStartState::Started,
    RoamingStartState::Stopping,
    RoamingStartState::Stopped,
    RoamingStartState::Unlocking,
    RoamingStartState::Unlocked,
];

impl RoamingStartState {
    /// The name stored and shown.
    pub fn name(self) -> String {
        match self {
            RoamingStartState::NotDone { command, answer } => format!("{}{}", command.prefix(), answer.as_str()),
            named => named.simple_name().to_owned(),
        }
    }

    const fn simple_name(self) -> &'static str {
        match self {
            RoamingStartState::ReservationRequested => "reservation_requested",
            RoamingStartState::Reserving => "reserving",
            RoamingStartState::Reserved => "reserved",
            RoamingStartState::Cancelling => "cancelling",
            RoamingStartState::ReservationCancelled => "reservation_cancelled",
            RoamingStartState::Requested => "requested",
            RoamingStartState::Accepted => "accepted",
            RoamingStartState::Rejected => "rejected",
            RoamingStartState::Unreachable => "unreachable",
            RoamingStartState::Started => "started",
            RoamingStartState::Stopping => "stopping",
            RoamingStartState::Stopped => "stopped",
            RoamingStartState::Unlocking => "unlocking",
            RoamingStartState::Unlocked => "unlocked",
            RoamingStartState::NotDone { .. } => "",
        }
    }

    pub fn parse(text: &str) -> Option<RoamingStartState> {
        if let Some(named) = NAMED.into_iter().find(|state| state.simple_name() == text) {
            return Some(named);
        }
        // A start's own results carry no prefix, so they are tried last.
        let mut commands = RoamingCommand::ALL;
        commands.rotate_left(1);
        commands.into_iter().find_map(|command| {
            let answer = ChargerAnswer::parse(text.strip_prefix(command.prefix())?)?;
            Some(RoamingStartState::after_result(command, Some(answer)))
        })
    }

    /// The state a command's result from the charger (`None`: accepted) leads to. A start the
    /// charger rejected is `rejected`, as one its member refused.
    pub const fn after_result(command: RoamingCommand, refused: Option<ChargerAnswer>) -> RoamingStartState {
        match (command, refused) {
            (RoamingCommand::Start, None) => RoamingStartState::Started,
            (RoamingCommand::Stop, None) => RoamingStartState::Stopped,
            (RoamingCommand::Unlock, None) => RoamingStartState::Unlocked,
            (RoamingCommand::Reserve, None) => RoamingStartState::Reserved,
            (RoamingCommand::CancelReservation, None) => RoamingStartState::ReservationCancelled,
            (RoamingCommand::Start, Some(ChargerAnswer::Rejected)) => RoamingStartState::Rejected,
            (command, Some(answer)) => RoamingStartState::NotDone { command, answer },
        }
    }

    /// The state the member's immediate answer to a start or a reservation leads to, from the state
    /// that waited for it (`requested` or `reservation_requested`); `None` from any other state (the
    /// charger's result came first and already moved the start on).
    pub const fn answered(self, answer: MemberAnswer) -> Option<RoamingStartState> {
        let accepted = match self {
            RoamingStartState::Requested => RoamingStartState::Accepted,
            RoamingStartState::ReservationRequested => RoamingStartState::Reserving,
            _ => return None,
        };
        Some(match answer {
            MemberAnswer::Accepted => accepted,
            MemberAnswer::Refused => RoamingStartState::Rejected,
            MemberAnswer::Unreachable => RoamingStartState::Unreachable,
        })
    }

    /// Whether a reservation is held or being made: it can be cancelled.
    pub const fn holds_reservation(self) -> bool {
        matches!(self, RoamingStartState::Reserving | RoamingStartState::Reserved)
    }

    /// Whether the start ended without a charge: refused, unreachable, not carried out by the
    /// charger, or a reservation cancelled or never made.
    pub const fn came_to_nothing(self) -> bool {
        matches!(
            self,
            RoamingStartState::Rejected
                | RoamingStartState::Unreachable
                | RoamingStartState::ReservationCancelled
                | RoamingStartState::NotDone { command: RoamingCommand::Start | RoamingCommand::Reserve, .. }
        )
    }
}

impl std::fmt::Display for RoamingStartState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for RoamingStartState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for RoamingStartState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RoamingStartState::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a roaming start's state")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_state() -> Vec<RoamingStartState> {
        let mut states = NAMED.to_vec();
        for command in RoamingCommand::ALL {
            for answer in ChargerAnswer::ALL {
                states.push(RoamingStartState::after_result(command, Some(answer)));
            }
        }
        states
    }

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for state in every_state() {
            assert_eq!(RoamingStartState::parse(&state.name()), Some(state), "{state:?}");
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state.name());
            assert_eq!(serde_json::from_value::<RoamingStartState>(json).unwrap(), state);
        }
        for unknown in ["", "stop_", "charging", "stop_started", "reserve_accepted"] {
            assert_eq!(RoamingStartState::parse(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn the_names_are_those_stored_before_the_states_were_typed() {
        let named = |command, answer| RoamingStartState::after_result(command, answer).name();
        assert_eq!(named(RoamingCommand::Start, None), "started");
        assert_eq!(named(RoamingCommand::Start, Some(ChargerAnswer::Timeout)), "timeout");
        assert_eq!(named(RoamingCommand::Start, Some(ChargerAnswer::Rejected)), "rejected");
        assert_eq!(named(RoamingCommand::Stop, None), "stopped");
        assert_eq!(named(RoamingCommand::Stop, Some(ChargerAnswer::Failed)), "stop_failed");
        assert_eq!(named(RoamingCommand::Unlock, Some(ChargerAnswer::NotSupported)), "unlock_not_supported");
        assert_eq!(named(RoamingCommand::Reserve, None), "reserved");
        assert_eq!(named(RoamingCommand::Reserve, Some(ChargerAnswer::EvseOccupied)), "reserve_evse_occupied");
        assert_eq!(named(RoamingCommand::CancelReservation, None), "reservation_cancelled");
        assert_eq!(
            named(RoamingCommand::CancelReservation, Some(ChargerAnswer::UnknownReservation)),
            "cancel_unknown_reservation"
        );
    }

    #[test]
    fn only_a_start_still_waiting_takes_its_members_answer() {
        use RoamingStartState::*;
        assert_eq!(Requested.answered(MemberAnswer::Accepted), Some(Accepted));
        assert_eq!(ReservationRequested.answered(MemberAnswer::Accepted), Some(Reserving));
        assert_eq!(Requested.answered(MemberAnswer::Refused), Some(Rejected));
        assert_eq!(ReservationRequested.answered(MemberAnswer::Unreachable), Some(Unreachable));
        // The charger's result overtook the member's answer.
        assert_eq!(Started.answered(MemberAnswer::Accepted), None);
        assert_eq!(Reserved.answered(MemberAnswer::Refused), None);
    }

    #[test]
    fn a_start_came_to_nothing_when_nothing_charged_or_stays_reserved() {
        let nothing = |state: RoamingStartState| state.came_to_nothing();
        for answer in ChargerAnswer::ALL {
            assert!(nothing(RoamingStartState::after_result(RoamingCommand::Start, Some(answer))), "{answer:?}");
            assert!(nothing(RoamingStartState::after_result(RoamingCommand::Reserve, Some(answer))), "{answer:?}");
            // A stop or unlock the charger did not carry out leaves the charge as it was.
            assert!(!nothing(RoamingStartState::after_result(RoamingCommand::Stop, Some(answer))), "{answer:?}");
            assert!(!nothing(RoamingStartState::after_result(RoamingCommand::Unlock, Some(answer))), "{answer:?}");
        }
        for ended in [RoamingStartState::Unreachable, RoamingStartState::ReservationCancelled] {
            assert!(nothing(ended));
        }
        for going in [RoamingStartState::Requested, RoamingStartState::Started, RoamingStartState::Reserved] {
            assert!(!nothing(going));
        }
        assert!(RoamingStartState::Reserving.holds_reservation() && RoamingStartState::Reserved.holds_reservation());
        assert!(!RoamingStartState::Requested.holds_reservation());
    }
}
