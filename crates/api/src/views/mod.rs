//! The API's own views of the records it shows: its contract, apart from how the store keeps them.

pub mod audit;
pub mod chargers;
pub mod commands;
pub mod commissioning;
pub mod drivers;
pub mod favourites;
pub mod federation;
pub mod operators;
pub mod partners;
pub mod payments;
pub mod sessions;
pub mod settlements;
pub mod staff;
pub mod tokens;

/// The views of `rows`, in their order.
pub fn all<Row, View: From<Row>>(rows: Vec<Row>) -> Vec<View> {
    rows.into_iter().map(View::from).collect()
}
