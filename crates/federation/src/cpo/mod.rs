//! This node as CPO toward the other members: its locations and tariffs (pullable, and pushed on
//! change), the commands other members send for their drivers at its chargers, and the sessions
//! and CDRs of those drivers, sent to their member.

pub mod charges;
pub mod commands;
pub mod locations;
pub mod publisher;
mod sent;
pub mod tariffs;
