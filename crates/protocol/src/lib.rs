//! Wire formats spoken with chargers (each mapped to and from the protocol-neutral types of
//! `chargemesh_core::charger`) and with other platforms (OCPI). No storage, no business rules.

pub mod ocpi;
pub mod ocpp16;
pub mod ocppj;
pub mod tariffs;
mod timestamps;
