//! Which operator owns what a caller creates.

use super::{Error, Outcome};
use chargemesh_core::access::Scope;

/// The operator new data is created for: the caller's own (`scope`), or for callers of every
/// operator the one `requested`.
pub fn operator_for_new(scope: Scope, requested: Option<i64>) -> Outcome<i64> {
    match (scope, requested) {
        (Some(own), None) => Ok(own),
        (Some(own), Some(asked)) if own == asked => Ok(own),
        (Some(_), Some(_)) => Err(Error::forbidden("you can only create data for your own operator")),
        (None, Some(asked)) => Ok(asked),
        (None, None) => Err(Error::invalid("operator_id is required: this account works for every operator")),
    }
}
