//! The commands module (eMSP → CPO): the requests, the CPO's immediate answer, and the result it
//! posts later to the request's `response_url`.

use super::date_time;
use super::tokens::Token;
use chargemesh_core::roaming_start::{ChargerAnswer, RoamingCommand};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartSession {
    pub response_url: String,
    pub token: Token,
    pub location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopSession {
    pub response_url: String,
    pub session_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnlockConnector {
    pub response_url: String,
    pub location_id: String,
    pub evse_uid: String,
    pub connector_id: String,
}

/// Holds an EVSE (or the location) for the token until `expiry_date`; `reservation_id` is the
/// eMSP's, and a ReserveNow with one the CPO holds already replaces that reservation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReserveNow {
    pub response_url: String,
    pub token: Token,
    #[serde(with = "date_time")]
    pub expiry_date: Timestamp,
    pub reservation_id: String,
    pub location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelReservation {
    pub response_url: String,
    pub reservation_id: String,
}

/// The CPO's immediate answer: whether it will try, and how long (seconds) the eMSP should wait
/// for the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResponse {
    pub result: CommandResponseType,
    pub timeout: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message: Vec<DisplayText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommandResponseType {
    NotSupported,
    Rejected,
    Accepted,
    UnknownSession,
}

/// What came of the command, posted to `response_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResult {
    pub result: CommandResultType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message: Vec<DisplayText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommandResultType {
    Accepted,
    CanceledReservation,
    EvseOccupied,
    EvseInoperative,
    Failed,
    NotSupported,
    Rejected,
    Timeout,
    UnknownReservation,
}

impl CommandResultType {
    /// What the charger answered, in a roaming start's terms: `None` when it carried the command out.
    pub const fn refusal(self) -> Option<ChargerAnswer> {
        Some(match self {
            CommandResultType::Accepted => return None,
            CommandResultType::CanceledReservation => ChargerAnswer::CanceledReservation,
            CommandResultType::EvseOccupied => ChargerAnswer::EvseOccupied,
            CommandResultType::EvseInoperative => ChargerAnswer::EvseInoperative,
            CommandResultType::Failed => ChargerAnswer::Failed,
            CommandResultType::NotSupported => ChargerAnswer::NotSupported,
            CommandResultType::Rejected => ChargerAnswer::Rejected,
            CommandResultType::Timeout => ChargerAnswer::Timeout,
            CommandResultType::UnknownReservation => ChargerAnswer::UnknownReservation,
        })
    }
}

/// The OCPI CommandType of a command: the last segment of its path (`START_SESSION`).
pub const fn command_type(command: RoamingCommand) -> &'static str {
    match command {
        RoamingCommand::Start => "START_SESSION",
        RoamingCommand::Stop => "STOP_SESSION",
        RoamingCommand::Unlock => "UNLOCK_CONNECTOR",
        RoamingCommand::Reserve => "RESERVE_NOW",
        RoamingCommand::CancelReservation => "CANCEL_RESERVATION",
    }
}

/// The command an OCPI CommandType names.
pub fn parse_command_type(text: &str) -> Option<RoamingCommand> {
    RoamingCommand::ALL.into_iter().find(|command| command_type(*command) == text)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayText {
    pub language: String,
    pub text: String,
}

impl DisplayText {
    pub fn english(text: impl Into<String>) -> Vec<DisplayText> {
        vec![DisplayText { language: "en".into(), text: text.into() }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_named_as_ocpi_names_the_result_in_lower_case() {
        let results = [
            CommandResultType::CanceledReservation,
            CommandResultType::EvseOccupied,
            CommandResultType::EvseInoperative,
            CommandResultType::Failed,
            CommandResultType::NotSupported,
            CommandResultType::Rejected,
            CommandResultType::Timeout,
            CommandResultType::UnknownReservation,
        ];
        for result in results {
            let ocpi = serde_json::to_value(result).unwrap().as_str().unwrap().to_lowercase();
            assert_eq!(result.refusal().map(ChargerAnswer::as_str), Some(ocpi.as_str()));
        }
        assert_eq!(CommandResultType::Accepted.refusal(), None);
    }

    #[test]
    fn command_types_round_trip() {
        for command in RoamingCommand::ALL {
            assert_eq!(parse_command_type(command_type(command)), Some(command));
        }
        assert_eq!(parse_command_type("START_TRANSACTION"), None);
    }
}
