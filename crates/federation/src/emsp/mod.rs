//! This node as eMSP for its own drivers at other members' chargers: what the members push (their
//! locations, tariffs, and the sessions, CDRs and command results of this node's drivers), the
//! starts and commands it sends, the search over the whole consortium, and settlement against the
//! ledger.

pub mod roaming;
pub mod search;
pub mod settlement;
pub mod starts;
