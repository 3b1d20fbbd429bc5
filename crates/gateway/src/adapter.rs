//! A protocol adapter: what one OCPP-J version's payloads mean. The connection does the OCPP-J
//! framing (CALL, CALLRESULT, CALLERROR) common to all versions and asks the adapter chosen for it
//! by subprotocol what a CALL says, how to reply, and how to ask the charger for something.

use chargemesh_core::charger::{ChargerCommand, ChargerEvent, ChargerReply, CommandOutcome};
use chargemesh_protocol::ocpp16::{self, PayloadRejection};
use chargemesh_protocol::ocppj::{self, OcppVersion, RpcError};
use serde_json::Value;

pub trait Adapter: Send + Sync {
    fn version(&self) -> OcppVersion;

    /// The event a charger's CALL reports.
    fn decode_call(&self, action: &str, payload: Value) -> Result<ChargerEvent, PayloadRejection>;

    /// The CALLRESULT payload of a reply.
    fn encode_reply(&self, reply: &ChargerReply) -> Value;

    /// The action and payload of a command, or why this version cannot express it.
    fn encode_command(&self, command: &ChargerCommand) -> Result<(&'static str, Value), PayloadRejection>;

    /// What the charger's CALLRESULT to `command` says.
    fn decode_result(&self, command: &ChargerCommand, payload: Value) -> Result<CommandOutcome, PayloadRejection>;

    /// A CALLERROR in this version's own codes.
    fn encode_error(&self, id: &str, error: RpcError, description: &str) -> String {
        ocppj::encode_error(id, error, self.version(), description)
    }
}

/// OCPP 1.6J, the first adapter.
pub struct Ocpp16Adapter;

impl Adapter for Ocpp16Adapter {
    fn version(&self) -> OcppVersion {
        OcppVersion::V16
    }

    fn decode_call(&self, action: &str, payload: Value) -> Result<ChargerEvent, PayloadRejection> {
        ocpp16::decode_call(action, payload)
    }

    fn encode_reply(&self, reply: &ChargerReply) -> Value {
        ocpp16::encode_reply(reply)
    }

    fn encode_command(&self, command: &ChargerCommand) -> Result<(&'static str, Value), PayloadRejection> {
        ocpp16::validate_command(command)?;
        Ok(ocpp16::encode_command(command))
    }

    fn decode_result(&self, command: &ChargerCommand, payload: Value) -> Result<CommandOutcome, PayloadRejection> {
        ocpp16::decode_command_result(command, payload)
    }
}

/// The adapter that speaks `version`.
pub fn adapter_for(version: OcppVersion) -> &'static dyn Adapter {
    match version {
        OcppVersion::V16 => &Ocpp16Adapter,
    }
}
