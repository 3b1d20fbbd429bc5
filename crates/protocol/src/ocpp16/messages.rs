//! OCPP 1.6J payloads the node receives, as the specification's JSON schemas define them.
//!
//! Unknown fields are tolerated (real chargers add vendor fields); types, enumerations, required fields
//! and string lengths are enforced, and a violation maps to the 1.6 error code that names it.

use crate::timestamps;
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotificationRequest {
    pub charge_point_vendor: String,
    pub charge_point_model: String,
    pub charge_point_serial_number: Option<String>,
    pub charge_box_serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub iccid: Option<String>,
    pub imsi: Option<String>,
    pub meter_type: Option<String>,
    pub meter_serial_number: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HeartbeatRequest {}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNotificationRequest {
    pub connector_id: u32,
    pub error_code: ChargePointErrorCode,
    pub info: Option<String>,
    pub status: ChargePointStatus,
    #[serde(default, deserialize_with = "timestamps::deserialize_option")]
    pub timestamp: Option<Timestamp>,
    pub vendor_id: Option<String>,
    pub vendor_error_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ChargePointErrorCode {
    ConnectorLockFailure,
    EVCommunicationError,
    GroundFailure,
    HighTemperature,
    InternalError,
    LocalListConflict,
    NoError,
    OtherError,
    OverCurrentFailure,
    OverVoltage,
    PowerMeterFailure,
    PowerSwitchFailure,
    ReaderFailure,
    ResetFailure,
    UnderVoltage,
    WeakSignal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ChargePointStatus {
    Available,
    Preparing,
    Charging,
    SuspendedEVSE,
    SuspendedEV,
    Finishing,
    Reserved,
    Unavailable,
    Faulted,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeRequest {
    pub id_tag: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransactionRequest {
    pub connector_id: u32,
    pub id_tag: String,
    pub meter_start: i64,
    pub reservation_id: Option<i64>,
    #[serde(deserialize_with = "timestamps::deserialize")]
    pub timestamp: Timestamp,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValuesRequest {
    pub connector_id: u32,
    pub transaction_id: Option<i64>,
    pub meter_value: Vec<MeterValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValue {
    #[serde(deserialize_with = "timestamps::deserialize")]
    pub timestamp: Timestamp,
    pub sampled_value: Vec<SampledValue>,
}

#[derive(Debug, Deserialize)]
pub struct SampledValue {
    pub value: String,
    pub context: Option<String>,
    pub format: Option<String>,
    pub measurand: Option<String>,
    pub phase: Option<String>,
    pub location: Option<String>,
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTransactionRequest {
    pub id_tag: Option<String>,
    pub meter_stop: i64,
    #[serde(deserialize_with = "timestamps::deserialize")]
    pub timestamp: Timestamp,
    pub transaction_id: i64,
    pub reason: Option<StopReason16>,
    pub transaction_data: Option<Vec<MeterValue>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub enum StopReason16 {
    DeAuthorized,
    EmergencyStop,
    EVDisconnected,
    HardReset,
    Local,
    Other,
    PowerLoss,
    Reboot,
    Remote,
    SoftReset,
    UnlockCommand,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferRequest {
    pub vendor_id: String,
    pub message_id: Option<String>,
    pub data: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DiagnosticsStatusNotificationRequest {
    pub status: DiagnosticsStatus,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub enum DiagnosticsStatus {
    Idle,
    Uploaded,
    UploadFailed,
    Uploading,
}

#[derive(Debug, Deserialize)]
pub struct FirmwareStatusNotificationRequest {
    pub status: FirmwareStatus,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub enum FirmwareStatus {
    Downloaded,
    DownloadFailed,
    Downloading,
    Idle,
    InstallationFailed,
    Installing,
    Installed,
}

/// The `status` field most command confirmations consist of.
#[derive(Debug, Deserialize)]
pub struct StatusConfirmation {
    pub status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetConfigurationConfirmation {
    #[serde(default)]
    pub configuration_key: Vec<KeyValue>,
    #[serde(default)]
    pub unknown_key: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub readonly: bool,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DataTransferConfirmation {
    pub status: String,
    pub data: Option<String>,
}
