//! The OCPP 1.6J adapter: charger CALLs to [`ChargerEvent`]s, [`ChargerReply`]s to CALLRESULT payloads,
//! [`ChargerCommand`]s to CALLs and their results to [`CommandOutcome`]s.

mod messages;

use crate::ocppj::RpcError;
use crate::timestamps;
use chargemesh_core::charger::*;
use chargemesh_core::{Energy, IdToken};
use messages::*;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// Why a CALL or a CALLRESULT payload was refused, in OCPP terms.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadRejection {
    pub error: RpcError,
    pub description: String,
}

impl PayloadRejection {
    fn new(error: RpcError, description: impl Into<String>) -> Self {
        PayloadRejection { error, description: description.into() }
    }

    fn property(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::new(RpcError::PropertyConstraintViolation, format!("{field}: {problem}"))
    }
}

/// Actions the node itself sends; a charger sending one of them gets `NotSupported`.
const NODE_ACTIONS: [&str; 19] = [
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
    "CertificateSigned",
];

/// Decodes a CALL a charger sent.
pub fn decode_call(action: &str, payload: Value) -> Result<ChargerEvent, PayloadRejection> {
    Ok(match action {
        "BootNotification" => {
            let req: BootNotificationRequest = payload_of(payload)?;
            max_len("chargePointVendor", &req.charge_point_vendor, 20)?;
            max_len("chargePointModel", &req.charge_point_model, 20)?;
            opt_max_len("chargePointSerialNumber", &req.charge_point_serial_number, 25)?;
            opt_max_len("chargeBoxSerialNumber", &req.charge_box_serial_number, 25)?;
            opt_max_len("firmwareVersion", &req.firmware_version, 50)?;
            opt_max_len("iccid", &req.iccid, 20)?;
            opt_max_len("imsi", &req.imsi, 20)?;
            opt_max_len("meterType", &req.meter_type, 25)?;
            opt_max_len("meterSerialNumber", &req.meter_serial_number, 25)?;
            ChargerEvent::Booted(BootInfo {
                vendor: req.charge_point_vendor,
                model: req.charge_point_model,
                serial_number: req.charge_point_serial_number.or(req.charge_box_serial_number),
                firmware_version: req.firmware_version,
                iccid: req.iccid,
                imsi: req.imsi,
                meter_type: req.meter_type,
                meter_serial_number: req.meter_serial_number,
            })
        }
        "Heartbeat" => {
            let _: HeartbeatRequest = payload_of(payload)?;
            ChargerEvent::Heartbeat
        }
        "StatusNotification" => {
            let req: StatusNotificationRequest = payload_of(payload)?;
            opt_max_len("info", &req.info, 50)?;
            opt_max_len("vendorId", &req.vendor_id, 255)?;
            opt_max_len("vendorErrorCode", &req.vendor_error_code, 50)?;
            ChargerEvent::StatusChanged(StatusReport {
                connector: req.connector_id,
                status: connector_status(req.status),
                error_code: (req.error_code != ChargePointErrorCode::NoError).then(|| format!("{:?}", req.error_code)),
                info: req.info,
                vendor_id: req.vendor_id,
                vendor_error_code: req.vendor_error_code,
                at: req.timestamp,
            })
        }
        "Authorize" => {
            let req: AuthorizeRequest = payload_of(payload)?;
            ChargerEvent::AuthorizationRequested { id_token: id_tag("idTag", &req.id_tag)? }
        }
        "StartTransaction" => {
            let req: StartTransactionRequest = payload_of(payload)?;
            ChargerEvent::TransactionStarted(TransactionStart {
                connector: req.connector_id,
                id_token: id_tag("idTag", &req.id_tag)?,
                meter_start: watt_hours("meterStart", req.meter_start)?,
                at: req.timestamp,
                reservation_id: req.reservation_id,
            })
        }
        "MeterValues" => {
            let req: MeterValuesRequest = payload_of(payload)?;
            ChargerEvent::MeterValues(MeterReport {
                connector: req.connector_id,
                transaction: req.transaction_id.map(TransactionRef::Node),
                samples: samples(req.meter_value)?,
            })
        }
        "StopTransaction" => {
            let req: StopTransactionRequest = payload_of(payload)?;
            ChargerEvent::TransactionStopped(TransactionStop {
                transaction: TransactionRef::Node(req.transaction_id),
                meter_stop: watt_hours("meterStop", req.meter_stop)?,
                at: req.timestamp,
                reason: req.reason.map_or(StopReason::Local, stop_reason),
                id_token: req.id_tag.as_deref().map(|t| id_tag("idTag", t)).transpose()?,
                samples: samples(req.transaction_data.unwrap_or_default())?,
            })
        }
        "DataTransfer" => {
            let req: DataTransferRequest = payload_of(payload)?;
            max_len("vendorId", &req.vendor_id, 255)?;
            opt_max_len("messageId", &req.message_id, 50)?;
            ChargerEvent::DataTransfer(DataTransfer {
                vendor_id: req.vendor_id,
                message_id: req.message_id,
                data: req.data,
            })
        }
        "DiagnosticsStatusNotification" => {
            let req: DiagnosticsStatusNotificationRequest = payload_of(payload)?;
            ChargerEvent::DiagnosticsStatus { status: format!("{:?}", req.status) }
        }
        "FirmwareStatusNotification" => {
            let req: FirmwareStatusNotificationRequest = payload_of(payload)?;
            ChargerEvent::FirmwareStatus { status: format!("{:?}", req.status) }
        }
        other if NODE_ACTIONS.contains(&other) => {
            return Err(PayloadRejection::new(
                RpcError::NotSupported,
                format!("{other} is sent by the central system, not by a charge point"),
            ));
        }
        other => {
            return Err(PayloadRejection::new(RpcError::NotImplemented, format!("unknown action {other:?}")));
        }
    })
}

/// The CALLRESULT payload for a reply.
pub fn encode_reply(reply: &ChargerReply) -> Value {
    match reply {
        ChargerReply::Boot { registration, interval_seconds, current_time } => json!({
            "status": registration.as_str(),
            "currentTime": timestamps::format(*current_time),
            "interval": interval_seconds,
        }),
        ChargerReply::Heartbeat { current_time } => {
            json!({ "currentTime": timestamps::format(*current_time) })
        }
        ChargerReply::Acknowledged => json!({}),
        ChargerReply::Authorization(authorization) => {
            json!({ "idTagInfo": id_tag_info(authorization) })
        }
        ChargerReply::TransactionStarted { transaction_id, authorization } => json!({
            "transactionId": transaction_id,
            "idTagInfo": id_tag_info(authorization),
        }),
        ChargerReply::TransactionStopped { authorization } => match authorization {
            Some(a) => json!({ "idTagInfo": id_tag_info(a) }),
            None => json!({}),
        },
        ChargerReply::DataTransfer { status, data } => {
            let mut body = Map::new();
            body.insert("status".into(), json!(format!("{status:?}")));
            if let Some(data) = data {
                body.insert("data".into(), json!(data));
            }
            Value::Object(body)
        }
    }
}

/// The action and payload of the CALL that carries `command`.
pub fn encode_command(command: &ChargerCommand) -> (&'static str, Value) {
    match command {
        ChargerCommand::RemoteStart { connector, id_token } => {
            let mut body = json!({ "idTag": id_token.as_str() });
            if let Some(c) = connector {
                body["connectorId"] = json!(c);
            }
            ("RemoteStartTransaction", body)
        }
        ChargerCommand::RemoteStop { transaction_id } => {
            ("RemoteStopTransaction", json!({ "transactionId": transaction_id }))
        }
        ChargerCommand::Reset { hard } => ("Reset", json!({ "type": if *hard { "Hard" } else { "Soft" } })),
        ChargerCommand::UnlockConnector { connector } => ("UnlockConnector", json!({ "connectorId": connector })),
        ChargerCommand::ChangeAvailability { connector, operative } => (
            "ChangeAvailability",
            json!({ "connectorId": connector, "type": if *operative { "Operative" } else { "Inoperative" } }),
        ),
        ChargerCommand::ChangeConfiguration { key, value } => {
            ("ChangeConfiguration", json!({ "key": key, "value": value }))
        }
        ChargerCommand::GetConfiguration { keys } if keys.is_empty() => ("GetConfiguration", json!({})),
        ChargerCommand::GetConfiguration { keys } => ("GetConfiguration", json!({ "key": keys })),
        ChargerCommand::TriggerMessage { message, connector } => {
            let mut body = json!({ "requestedMessage": format!("{message:?}") });
            if let Some(c) = connector {
                body["connectorId"] = json!(c);
            }
            ("TriggerMessage", body)
        }
        ChargerCommand::ClearCache => ("ClearCache", json!({})),
        ChargerCommand::DataTransfer(transfer) => {
            let mut body = json!({ "vendorId": transfer.vendor_id });
            if let Some(m) = &transfer.message_id {
                body["messageId"] = json!(m);
            }
            if let Some(d) = &transfer.data {
                body["data"] = json!(d);
            }
            ("DataTransfer", body)
        }
        ChargerCommand::ReserveNow { connector, expiry, id_token, reservation_id } => (
            "ReserveNow",
            json!({ "connectorId": connector, "expiryDate": expiry.to_string(), "idTag": id_token.as_str(),
                "reservationId": reservation_id }),
        ),
        ChargerCommand::CancelReservation { reservation_id } => {
            ("CancelReservation", json!({ "reservationId": reservation_id }))
        }
    }
}

/// Checks what a node-side command may carry in 1.6 before it is queued, so an operator learns at once.
pub fn validate_command(command: &ChargerCommand) -> Result<(), PayloadRejection> {
    match command {
        ChargerCommand::RemoteStart { id_token, .. } => max_len("idTag", id_token.as_str(), 20),
        ChargerCommand::RemoteStop { transaction_id } => fits_i32("transactionId", *transaction_id),
        ChargerCommand::ReserveNow { id_token, reservation_id, .. } => {
            max_len("idTag", id_token.as_str(), 20)?;
            fits_i32("reservationId", *reservation_id)
        }
        ChargerCommand::CancelReservation { reservation_id } => fits_i32("reservationId", *reservation_id),
        ChargerCommand::ChangeConfiguration { key, value } => {
            max_len("key", key, 50)?;
            max_len("value", value, 500)
        }
        ChargerCommand::GetConfiguration { keys } => keys.iter().try_for_each(|k| max_len("key", k, 50)),
        ChargerCommand::DataTransfer(t) => {
            max_len("vendorId", &t.vendor_id, 255)?;
            opt_max_len("messageId", &t.message_id, 50)
        }
        _ => Ok(()),
    }
}

/// Decodes the CALLRESULT payload a charger answered `command` with.
pub fn decode_command_result(command: &ChargerCommand, payload: Value) -> Result<CommandOutcome, PayloadRejection> {
    Ok(match command {
        ChargerCommand::GetConfiguration { .. } => {
            let conf: GetConfigurationConfirmation = payload_of(payload)?;
            CommandOutcome::Configuration {
                known: conf
                    .configuration_key
                    .into_iter()
                    .map(|kv| ConfigurationEntry { key: kv.key, readonly: kv.readonly, value: kv.value })
                    .collect(),
                unknown: conf.unknown_key,
            }
        }
        ChargerCommand::DataTransfer(_) => {
            let conf: DataTransferConfirmation = payload_of(payload)?;
            CommandOutcome::DataTransfer { status: conf.status, data: conf.data }
        }
        _ => {
            let conf: StatusConfirmation = payload_of(payload)?;
            CommandOutcome::Status { status: conf.status }
        }
    })
}

fn payload_of<T: DeserializeOwned>(payload: Value) -> Result<T, PayloadRejection> {
    serde_json::from_value(payload).map_err(|e| {
        let text = e.to_string();
        let error = if text.starts_with("missing field") {
            RpcError::OccurrenceConstraintViolation
        } else if text.starts_with("invalid type") {
            RpcError::TypeConstraintViolation
        } else {
            RpcError::PropertyConstraintViolation
        };
        PayloadRejection::new(error, text)
    })
}

fn fits_i32(field: &str, value: i64) -> Result<(), PayloadRejection> {
    i32::try_from(value)
        .map(|_| ())
        .map_err(|_| PayloadRejection::property(field, "does not fit OCPP 1.6's 32-bit integer"))
}

fn max_len(field: &str, value: &str, max: usize) -> Result<(), PayloadRejection> {
    if value.chars().count() > max {
        return Err(PayloadRejection::property(field, format_args!("longer than {max} characters")));
    }
    Ok(())
}

fn opt_max_len(field: &str, value: &Option<String>, max: usize) -> Result<(), PayloadRejection> {
    value.as_deref().map_or(Ok(()), |v| max_len(field, v, max))
}

fn id_tag(field: &str, value: &str) -> Result<IdToken, PayloadRejection> {
    max_len(field, value, 20)?;
    IdToken::parse(value).map_err(|e| PayloadRejection::property(field, e))
}

fn watt_hours(field: &str, wh: i64) -> Result<Energy, PayloadRejection> {
    if !(i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&wh) {
        return Err(PayloadRejection::property(field, "does not fit a 32-bit integer"));
    }
    Ok(Energy::from_wh(wh))
}

const CONTEXTS: [&str; 8] = [
    "Interruption.Begin",
    "Interruption.End",
    "Sample.Clock",
    "Sample.Periodic",
    "Transaction.Begin",
    "Transaction.End",
    "Trigger",
    "Other",
];
const MEASURANDS: [&str; 22] = [
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "Power.Factor",
    "Current.Import",
    "Current.Export",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "Temperature",
    "SoC",
    "RPM",
];
const PHASES: [&str; 10] = ["L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"];
const LOCATIONS: [&str; 5] = ["Cable", "EV", "Inlet", "Outlet", "Body"];
const UNITS: [&str; 16] = [
    "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "K", "Celcius", "Celsius", "Percent",
];

fn one_of(field: &str, value: Option<String>, allowed: &[&str], default: &str) -> Result<String, PayloadRejection> {
    match value {
        None => Ok(default.to_owned()),
        Some(v) if allowed.contains(&v.as_str()) => Ok(v),
        Some(v) => Err(PayloadRejection::property(field, format_args!("{v:?} is not a valid value"))),
    }
}

/// Sampled values with OCPP's defaults made explicit: no measurand means the energy import register,
/// no unit means Wh (or the measurand's own unit), no location means the outlet.
fn samples(meter_values: Vec<MeterValue>) -> Result<Vec<MeterSample>, PayloadRejection> {
    let mut out = Vec::new();
    for mv in meter_values {
        for sv in mv.sampled_value {
            let measurand = one_of("measurand", sv.measurand, &MEASURANDS, "Energy.Active.Import.Register")?;
            let phase = match sv.phase {
                Some(p) if !PHASES.contains(&p.as_str()) => {
                    return Err(PayloadRejection::property("phase", format_args!("{p:?} is not a valid value")));
                }
                p => p,
            };
            let format = one_of("format", sv.format, &["Raw", "SignedData"], "Raw")?;
            out.push(MeterSample {
                at: mv.timestamp,
                context: one_of("context", sv.context, &CONTEXTS, "Sample.Periodic")?,
                location: one_of("location", sv.location, &LOCATIONS, "Outlet")?,
                unit: one_of("unit", sv.unit, &UNITS, default_unit(&measurand))?.replace("Celcius", "Celsius"),
                measurand,
                phase,
                value: sv.value,
                signed: format == "SignedData",
            });
        }
    }
    Ok(out)
}

fn default_unit(measurand: &str) -> &'static str {
    match measurand {
        m if m.starts_with("Energy.Reactive") => "varh",
        m if m.starts_with("Energy") => "Wh",
        "Power.Active.Export" | "Power.Active.Import" | "Power.Offered" => "W",
        "Power.Reactive.Export" | "Power.Reactive.Import" => "var",
        m if m.starts_with("Current") => "A",
        "Voltage" => "V",
        "Temperature" => "Celsius",
        "SoC" => "Percent",
        _ => "",
    }
}

fn connector_status(status: ChargePointStatus) -> ConnectorStatus {
    match status {
        ChargePointStatus::Available => ConnectorStatus::Available,
        ChargePointStatus::Preparing => ConnectorStatus::Preparing,
        ChargePointStatus::Charging => ConnectorStatus::Charging,
        ChargePointStatus::SuspendedEVSE => ConnectorStatus::SuspendedEvse,
        ChargePointStatus::SuspendedEV => ConnectorStatus::SuspendedEv,
        ChargePointStatus::Finishing => ConnectorStatus::Finishing,
        ChargePointStatus::Reserved => ConnectorStatus::Reserved,
        ChargePointStatus::Unavailable => ConnectorStatus::Unavailable,
        ChargePointStatus::Faulted => ConnectorStatus::Faulted,
    }
}

fn stop_reason(reason: StopReason16) -> StopReason {
    use StopReason16 as R;
    match reason {
        R::DeAuthorized => StopReason::DeAuthorized,
        R::EmergencyStop => StopReason::EmergencyStop,
        R::EVDisconnected => StopReason::EvDisconnected,
        R::HardReset => StopReason::HardReset,
        R::Local => StopReason::Local,
        R::Other => StopReason::Other,
        R::PowerLoss => StopReason::PowerLoss,
        R::Reboot => StopReason::Reboot,
        R::Remote => StopReason::Remote,
        R::SoftReset => StopReason::SoftReset,
        R::UnlockCommand => StopReason::UnlockCommand,
    }
}

fn id_tag_info(authorization: &Authorization) -> Value {
    let mut info = json!({ "status": authorization.status.as_str() });
    if let Some(at) = authorization.expires_at {
        info["expiryDate"] = json!(timestamps::format(at));
    }
    if let Some(parent) = &authorization.parent_id_token {
        info["parentIdTag"] = json!(parent.as_str());
    }
    info
}

#[cfg(test)]
mod tests;
