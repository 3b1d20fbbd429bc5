//! Wire formats spoken with chargers, each mapped to and from the protocol-neutral types of
//! `chargemesh_core::charger`. No storage, no business rules.

pub mod ocpp16;
pub mod ocppj;
pub mod tariffs;
mod timestamps;
