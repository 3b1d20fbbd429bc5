//! chargemesh's tools for trying and measuring it: the demo consortium, provisioning of
//! demonstration fleets, local consortia on one machine, and the benchmarks. The `chargemesh-dev`
//! binary runs them. Nothing in production depends on this crate; it depends on the node like any
//! user of it would.

pub mod bench;
pub mod demo;
pub mod local_consortium;
pub mod provisioning;
