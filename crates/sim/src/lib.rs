//! Simulated OCPP 1.6J chargers: a library for tests and the `chargemesh-dev sim` command. A simulated
//! charger boots, authorizes, runs sessions with realistic meter values, goes offline and delivers its
//! queued transaction messages when it is back, and, when asked, misbehaves.

mod charge_point;
pub mod datasets;
mod fleet;
pub mod load;

pub use charge_point::{ChargePoint, Connection, SimError};
pub use fleet::{FleetConfig, FleetReport, run_fleet};
