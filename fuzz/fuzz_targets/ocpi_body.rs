//! Whatever another platform sends as an OCPI body: each object the node reads must decode to a value
//! or an error, never panic, and a decoded value must encode to something that decodes to it again.

#![no_main]

use chargemesh_protocol::ocpi::commands::{
    CancelReservation, CommandResponse, CommandResult, ReserveNow, StartSession, StopSession, UnlockConnector,
};
use chargemesh_protocol::ocpi::credentials::Credentials;
use chargemesh_protocol::ocpi::locations::Location;
use chargemesh_protocol::ocpi::sessions::{Cdr, Session};
use chargemesh_protocol::ocpi::tariffs::Tariff;
use chargemesh_protocol::ocpi::tokens::{AuthorizationInfo, LocationReferences};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let encoded = serde_json::to_vec(&value).expect("a decoded value encodes");
        let again: T = serde_json::from_slice(&encoded).expect("an encoded value decodes");
        assert_eq!(value, again);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<StartSession>(data);
    round_trip::<StopSession>(data);
    round_trip::<UnlockConnector>(data);
    round_trip::<ReserveNow>(data);
    round_trip::<CancelReservation>(data);
    round_trip::<CommandResponse>(data);
    round_trip::<CommandResult>(data);
    round_trip::<Session>(data);
    round_trip::<Cdr>(data);
    round_trip::<Location>(data);
    round_trip::<Tariff>(data);
    round_trip::<Credentials>(data);
    round_trip::<AuthorizationInfo>(data);
    round_trip::<LocationReferences>(data);
});
