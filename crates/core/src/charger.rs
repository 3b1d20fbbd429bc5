//! The protocol-neutral boundary between charger gateways and operations.
//!
//! A protocol adapter turns each message a charger sends into a [`ChargerEvent`] and the reply operations
//! give into wire format; operations asks things of chargers with [`ChargerCommand`]s and gets a
//! [`CommandOutcome`] back. Nothing here knows about OCPP, YKC or JSON.

use crate::{Energy, IdToken};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Something a charger told the node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChargerEvent {
    Booted(BootInfo),
    Heartbeat,
    StatusChanged(StatusReport),
    AuthorizationRequested { id_token: IdToken },
    TransactionStarted(TransactionStart),
    MeterValues(MeterReport),
    TransactionStopped(TransactionStop),
    DataTransfer(DataTransfer),
    DiagnosticsStatus { status: String },
    FirmwareStatus { status: String },
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BootInfo {
    pub vendor: String,
    pub model: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub iccid: Option<String>,
    pub imsi: Option<String>,
    pub meter_type: Option<String>,
    pub meter_serial_number: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectorStatus {
    Available,
    Preparing,
    Charging,
    SuspendedEvse,
    SuspendedEv,
    Finishing,
    Reserved,
    Unavailable,
    Faulted,
}

impl ConnectorStatus {
    const ALL: [ConnectorStatus; 9] = [
        ConnectorStatus::Available,
        ConnectorStatus::Preparing,
        ConnectorStatus::Charging,
        ConnectorStatus::SuspendedEvse,
        ConnectorStatus::SuspendedEv,
        ConnectorStatus::Finishing,
        ConnectorStatus::Reserved,
        ConnectorStatus::Unavailable,
        ConnectorStatus::Faulted,
    ];

    /// The status [`as_str`](Self::as_str) names.
    pub fn parse(text: &str) -> Option<ConnectorStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorStatus::Available => "Available",
            ConnectorStatus::Preparing => "Preparing",
            ConnectorStatus::Charging => "Charging",
            ConnectorStatus::SuspendedEvse => "SuspendedEVSE",
            ConnectorStatus::SuspendedEv => "SuspendedEV",
            ConnectorStatus::Finishing => "Finishing",
            ConnectorStatus::Reserved => "Reserved",
            ConnectorStatus::Unavailable => "Unavailable",
            ConnectorStatus::Faulted => "Faulted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// 0 is the charger as a whole.
    pub connector: u32,
    pub status: ConnectorStatus,
    /// The charger's own error code, `None` when it reported no error.
    pub error_code: Option<String>,
    pub info: Option<String>,
    pub vendor_id: Option<String>,
    pub vendor_error_code: Option<String>,
    /// When the charger says the status changed; `None` if it did not say.
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionStart {
    pub connector: u32,
    pub id_token: IdToken,
    pub meter_start: Energy,
    pub at: Timestamp,
    pub reservation_id: Option<i64>,
}

/// How a transaction is named in a charger's messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", content = "id", rename_all = "snake_case")]
pub enum TransactionRef {
    /// The node assigned the number (OCPP 1.6).
    Node(i64),
    /// The charger chose the id (OCPP 2.0.1, YKC).
    Charger(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterReport {
    pub connector: u32,
    pub transaction: Option<TransactionRef>,
    pub samples: Vec<MeterSample>,
}

/// One sampled value as the charger reported it, kept verbatim so nothing is lost in normalization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterSample {
    pub at: Timestamp,
    pub measurand: String,
    pub context: String,
    pub phase: Option<String>,
    pub location: String,
    pub unit: String,
    pub value: String,
    pub signed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionStop {
    pub transaction: TransactionRef,
    pub meter_stop: Energy,
    pub at: Timestamp,
    pub reason: StopReason,
    pub id_token: Option<IdToken>,
    pub samples: Vec<MeterSample>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    DeAuthorized,
    EmergencyStop,
    EvDisconnected,
    HardReset,
    Local,
    Other,
    PowerLoss,
    Reboot,
    Remote,
    SoftReset,
    UnlockCommand,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::DeAuthorized => "DeAuthorized",
            StopReason::EmergencyStop => "EmergencyStop",
            StopReason::EvDisconnected => "EVDisconnected",
            StopReason::HardReset => "HardReset",
            StopReason::Local => "Local",
            StopReason::Other => "Other",
            StopReason::PowerLoss => "PowerLoss",
            StopReason::Reboot => "Reboot",
            StopReason::Remote => "Remote",
            StopReason::SoftReset => "SoftReset",
            StopReason::UnlockCommand => "UnlockCommand",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataTransfer {
    pub vendor_id: String,
    pub message_id: Option<String>,
    pub data: Option<String>,
}

/// What operations answers to a [`ChargerEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChargerReply {
    Boot { registration: Registration, interval_seconds: u32, current_time: Timestamp },
    Heartbeat { current_time: Timestamp },
    Acknowledged,
    Authorization(Authorization),
    TransactionStarted { transaction_id: i64, authorization: Authorization },
    TransactionStopped { authorization: Option<Authorization> },
    DataTransfer { status: DataTransferStatus, data: Option<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Registration {
    Accepted,
    Pending,
    Rejected,
}

impl Registration {
    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Accepted => "Accepted",
            Registration::Pending => "Pending",
            Registration::Rejected => "Rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Registration> {
        match text {
            "Accepted" => Some(Registration::Accepted),
            "Pending" => Some(Registration::Pending),
            "Rejected" => Some(Registration::Rejected),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataTransferStatus {
    Accepted,
    Rejected,
    UnknownMessageId,
    UnknownVendorId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorization {
    pub status: AuthorizationStatus,
    pub expires_at: Option<Timestamp>,
    pub parent_id_token: Option<IdToken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizationStatus {
    Accepted,
    Blocked,
    Expired,
    Invalid,
    ConcurrentTx,
}

impl AuthorizationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationStatus::Accepted => "Accepted",
            AuthorizationStatus::Blocked => "Blocked",
            AuthorizationStatus::Expired => "Expired",
            AuthorizationStatus::Invalid => "Invalid",
            AuthorizationStatus::ConcurrentTx => "ConcurrentTx",
        }
    }
}

/// Something the node asks a charger to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ChargerCommand {
    RemoteStart {
        connector: Option<u32>,
        id_token: IdToken,
    },
    RemoteStop {
        transaction_id: i64,
    },
    Reset {
        hard: bool,
    },
    UnlockConnector {
        connector: u32,
    },
    ChangeAvailability {
        connector: u32,
        operative: bool,
    },
    ChangeConfiguration {
        key: String,
        value: String,
    },
    GetConfiguration {
        keys: Vec<String>,
    },
    TriggerMessage {
        message: TriggerableMessage,
        connector: Option<u32>,
    },
    ClearCache,
    DataTransfer(DataTransfer),
    /// Holds `connector` (0: any connector) for `id_token` until `expiry`; the charger starts for that
    /// token only. A reservation id the charger already holds is replaced.
    ReserveNow {
        connector: u32,
        expiry: Timestamp,
        id_token: IdToken,
        reservation_id: i64,
    },
    CancelReservation {
        reservation_id: i64,
    },
}

impl ChargerCommand {
    pub fn name(&self) -> &'static str {
        match self {
            ChargerCommand::RemoteStart { .. } => "remote_start",
            ChargerCommand::RemoteStop { .. } => "remote_stop",
            ChargerCommand::Reset { .. } => "reset",
            ChargerCommand::UnlockConnector { .. } => "unlock_connector",
            ChargerCommand::ChangeAvailability { .. } => "change_availability",
            ChargerCommand::ChangeConfiguration { .. } => "change_configuration",
            ChargerCommand::GetConfiguration { .. } => "get_configuration",
            ChargerCommand::TriggerMessage { .. } => "trigger_message",
            ChargerCommand::ClearCache => "clear_cache",
            ChargerCommand::DataTransfer(_) => "data_transfer",
            ChargerCommand::ReserveNow { .. } => "reserve_now",
            ChargerCommand::CancelReservation { .. } => "cancel_reservation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerableMessage {
    BootNotification,
    DiagnosticsStatusNotification,
    FirmwareStatusNotification,
    Heartbeat,
    MeterValues,
    StatusNotification,
}

/// Where a command to a charger stands: sent and waiting, then answered, unanswered in time, or
/// failed (an error from the charger, no connection, or a restart of the node while it waited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    Pending,
    Answered,
    TimedOut,
    Failed,
}

impl CommandState {
    pub const ALL: [CommandState; 4] =
        [CommandState::Pending, CommandState::Answered, CommandState::TimedOut, CommandState::Failed];

    /// The name stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            CommandState::Pending => "pending",
            CommandState::Answered => "answered",
            CommandState::TimedOut => "timed_out",
            CommandState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<CommandState> {
        CommandState::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

/// A charger's answer to a [`ChargerCommand`], in neutral terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CommandOutcome {
    /// The charger answered with a status such as `Accepted`, `Rejected`, `Scheduled`, `Unlocked`.
    Status {
        status: String,
    },
    Configuration {
        known: Vec<ConfigurationEntry>,
        unknown: Vec<String>,
    },
    DataTransfer {
        status: String,
        data: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationEntry {
    pub key: String,
    pub readonly: bool,
    pub value: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::CommandState;

    #[test]
    fn command_states_round_trip_and_match_serde() {
        for state in CommandState::ALL {
            assert_eq!(CommandState::parse(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
        assert_eq!(CommandState::parse("accepted"), None);
    }
}
