//! OCPP-J RPC framing, shared by OCPP 1.6J and 2.0.1: CALL, CALLRESULT and CALLERROR arrays.

use serde_json::{Value, json};

/// The OCPP-J versions a charger may speak, in the node's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OcppVersion {
    V16,
}

impl OcppVersion {
    pub const SUPPORTED: [OcppVersion; 1] = [OcppVersion::V16];

    /// The WebSocket subprotocol name.
    pub fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
        }
    }

    /// The first subprotocol in the charger's `Sec-WebSocket-Protocol` offer that the node speaks.
    pub fn negotiate(offer: &str) -> Option<OcppVersion> {
        offer
            .split(',')
            .map(str::trim)
            .find_map(|name| Self::SUPPORTED.into_iter().find(|v| v.subprotocol().eq_ignore_ascii_case(name)))
    }
}

/// Longest message id OCPP-J allows.
pub const MAX_MESSAGE_ID_LEN: usize = 36;

/// The id used to answer a message whose own id could not be read.
pub const UNREADABLE_ID: &str = "-1";

/// The RPC error kinds of OCPP-J, independent of how a version spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RpcError {
    NotImplemented,
    NotSupported,
    InternalError,
    ProtocolError,
    SecurityError,
    FormatViolation,
    PropertyConstraintViolation,
    OccurrenceConstraintViolation,
    TypeConstraintViolation,
    GenericError,
    MessageTypeNotSupported,
}

impl RpcError {
    /// The error code as `version` writes it; OCPP 1.6 has its own spellings and fewer codes.
    pub fn code(self, version: OcppVersion) -> &'static str {
        match (self, version) {
            (RpcError::NotImplemented, _) => "NotImplemented",
            (RpcError::NotSupported, _) => "NotSupported",
            (RpcError::InternalError, _) => "InternalError",
            (RpcError::ProtocolError, _) => "ProtocolError",
            (RpcError::SecurityError, _) => "SecurityError",
            (RpcError::FormatViolation, OcppVersion::V16) => "FormationViolation",
            (RpcError::PropertyConstraintViolation, _) => "PropertyConstraintViolation",
            (RpcError::OccurrenceConstraintViolation, OcppVersion::V16) => "OccurenceConstraintViolation",
            (RpcError::TypeConstraintViolation, _) => "TypeConstraintViolation",
            (RpcError::GenericError, _) => "GenericError",
            (RpcError::MessageTypeNotSupported, OcppVersion::V16) => "NotSupported",
        }
    }
}

/// A request from either side.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: String,
    pub action: String,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call(Call),
    CallResult { id: String, payload: Value },
    CallError { id: String, code: String, description: String, details: Value },
}

/// A frame that could not be accepted, with what to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRejection {
    pub id: String,
    pub error: RpcError,
    pub description: String,
}

impl FrameRejection {
    fn new(id: &str, error: RpcError, description: impl Into<String>) -> Self {
        FrameRejection { id: id.to_owned(), error, description: description.into() }
    }
}

/// Parses one text WebSocket message into a frame.
pub fn parse(text: &str) -> Result<Frame, FrameRejection> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| FrameRejection::new(UNREADABLE_ID, RpcError::FormatViolation, format!("not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(FrameRejection::new(UNREADABLE_ID, RpcError::FormatViolation, "a message must be a JSON array"));
    };
    let id = match items.get(1) {
        Some(Value::String(id)) if !id.is_empty() && id.len() <= MAX_MESSAGE_ID_LEN => id.clone(),
        _ => {
            return Err(FrameRejection::new(
                UNREADABLE_ID,
                RpcError::FormatViolation,
                format!("the message id must be a string of 1 to {MAX_MESSAGE_ID_LEN} characters"),
            ));
        }
    };
    let Some(message_type) = items.first().and_then(Value::as_u64) else {
        return Err(FrameRejection::new(&id, RpcError::FormatViolation, "the message type must be an integer"));
    };
    let mut items = items.into_iter().skip(2);
    match message_type {
        2 => {
            let (Some(Value::String(action)), Some(payload @ Value::Object(_)), None) =
                (items.next(), items.next(), items.next())
            else {
                return Err(FrameRejection::new(
                    &id,
                    RpcError::FormatViolation,
                    "a CALL is [2, id, action, {payload}]",
                ));
            };
            Ok(Frame::Call(Call { id, action, payload }))
        }
        3 => {
            let (Some(payload @ Value::Object(_)), None) = (items.next(), items.next()) else {
                return Err(FrameRejection::new(&id, RpcError::FormatViolation, "a CALLRESULT is [3, id, {payload}]"));
            };
            Ok(Frame::CallResult { id, payload })
        }
        4 => {
            let (Some(Value::String(code)), Some(Value::String(description))) = (items.next(), items.next()) else {
                return Err(FrameRejection::new(
                    &id,
                    RpcError::FormatViolation,
                    "a CALLERROR is [4, id, code, description, {details}]",
                ));
            };
            let details = items.next().unwrap_or_else(|| json!({}));
            Ok(Frame::CallError { id, code, description, details })
        }
        other => Err(FrameRejection::new(
            &id,
            RpcError::MessageTypeNotSupported,
            format!("message type {other} is not one of 2 (CALL), 3 (CALLRESULT), 4 (CALLERROR)"),
        )),
    }
}

pub fn encode_call(id: &str, action: &str, payload: &Value) -> String {
    json!([2, id, action, payload]).to_string()
}

pub fn encode_result(id: &str, payload: &Value) -> String {
    json!([3, id, payload]).to_string()
}

pub fn encode_error(id: &str, error: RpcError, version: OcppVersion, description: &str) -> String {
    json!([4, id, error.code(version), description, {}]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_frame_kinds() {
        assert_eq!(
            parse(r#"[2,"a1","Heartbeat",{}]"#),
            Ok(Frame::Call(Call { id: "a1".into(), action: "Heartbeat".into(), payload: json!({}) }))
        );
        assert_eq!(
            parse(r#"[3,"a1",{"currentTime":"x"}]"#),
            Ok(Frame::CallResult { id: "a1".into(), payload: json!({"currentTime":"x"}) })
        );
        assert_eq!(
            parse(r#"[4,"a1","NotImplemented","nope",{}]"#),
            Ok(Frame::CallError {
                id: "a1".into(),
                code: "NotImplemented".into(),
                description: "nope".into(),
                details: json!({})
            })
        );
    }

    #[test]
    fn unreadable_ids_are_answered_with_minus_one() {
        for text in
            ["{", "[2]", "{}", "[2, 5, \"Heartbeat\", {}]", &format!("[2,\"{}\",\"Heartbeat\",{{}}]", "x".repeat(37))]
        {
            let err = parse(text).unwrap_err();
            assert_eq!(err.id, "-1", "{text}");
            assert_eq!(err.error, RpcError::FormatViolation);
        }
    }

    #[test]
    fn readable_ids_are_kept_in_errors() {
        let err = parse(r#"[2,"m7","Heartbeat",[]]"#).unwrap_err();
        assert_eq!((err.id.as_str(), err.error), ("m7", RpcError::FormatViolation));
        let err = parse(r#"[5,"m8",{}]"#).unwrap_err();
        assert_eq!((err.id.as_str(), err.error), ("m8", RpcError::MessageTypeNotSupported));
    }

    #[test]
    fn version_1_6_keeps_its_own_spellings() {
        assert_eq!(RpcError::FormatViolation.code(OcppVersion::V16), "FormationViolation");
        assert_eq!(RpcError::OccurrenceConstraintViolation.code(OcppVersion::V16), "OccurenceConstraintViolation");
        assert_eq!(RpcError::MessageTypeNotSupported.code(OcppVersion::V16), "NotSupported");
        let text = encode_error("-1", RpcError::FormatViolation, OcppVersion::V16, "bad");
        assert_eq!(text, r#"[4,"-1","FormationViolation","bad",{}]"#);
    }

    #[test]
    fn negotiates_the_first_supported_subprotocol() {
        assert_eq!(OcppVersion::negotiate("ocpp2.0.1, ocpp1.6"), Some(OcppVersion::V16));
        assert_eq!(OcppVersion::negotiate("ocpp1.5"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,200}") {
            let _ = parse(&text);
        }
    }
}
