//! Whatever a charger sends: the OCPP-J frame parser and, for CALLs, the OCPP 1.6 adapter must answer
//! with a value or an error, never panic.

#![no_main]

use chargemesh_protocol::ocpp16;
use chargemesh_protocol::ocppj::{self, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(Frame::Call(call)) = ocppj::parse(text) {
        let _ = ocpp16::decode_call(&call.action, call.payload);
    }
});
