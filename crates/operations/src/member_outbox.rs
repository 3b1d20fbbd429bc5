//! Messages to other members that have not arrived yet, as operators watch them.

use super::{Operations, Outcome};
use chargemesh_store::federation::{self, PendingMessage};

impl Operations {
    /// Up to `limit` messages to other members not yet acknowledged, oldest first.
    pub async fn undelivered_messages(&self, limit: i64) -> Outcome<Vec<PendingMessage>> {
        Ok(self.store.read(move |conn| Box::pin(federation::pending(conn, limit))).await?)
    }
}
