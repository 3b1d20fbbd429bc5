//! The outbox of messages to other members: each is kept until the member acknowledges it, with
//! the digest of what each member was last sent about each object, so that an unchanged object is
//! not sent again.

use super::Operations;
use crate::Outcome;
use chargemesh_store::federation::{self, OutboxMessage, PendingMessage};
use jiff::Timestamp;

/// An HTTP request to a member: method, path after its OCPI base URL, and body.
pub struct MemberRequest {
    pub method: String,
    pub path: String,
    pub body: String,
}

impl Operations {
    /// What each member was last sent (or is being sent) about each object: (member, object key,
    /// digest).
    pub async fn digests_sent_to_members(&self) -> Outcome<Vec<(String, String, String)>> {
        Ok(self.store.read(|conn| Box::pin(federation::digests(conn))).await?)
    }

    /// Queues `request` to `member` about `object_key`, replacing an undelivered one about the same
    /// object, and records `digest` (if any) as what the member is now to know of it.
    pub async fn queue_for_member(
        &self,
        member: String,
        object_key: String,
        digest: Option<String>,
        request: MemberRequest,
    ) -> Outcome<()> {
        let now = self.now();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let message = (request.method.as_str(), request.path.as_str(), request.body.as_str());
                    federation::enqueue(tx, &member, &object_key, digest.as_deref(), message, now).await
                })
            })
            .await?;
        Ok(())
    }

    /// At most `limit` messages due for delivery now.
    pub async fn member_messages_due(&self, limit: i64) -> Outcome<Vec<OutboxMessage>> {
        let now = self.now();
        Ok(self.store.read(move |conn| Box::pin(federation::due(conn, now, limit))).await?)
    }

    /// Marks message `id` acknowledged by its member.
    pub async fn member_message_delivered(&self, id: i64) -> Outcome<()> {
        let now = self.now();
        Ok(self.store.write(move |tx| Box::pin(federation::delivered(tx, id, now))).await?)
    }

    /// Records why message `id` was not acknowledged, and when to send it again.
    pub async fn member_message_failed(&self, id: i64, error: String, retry_at: Timestamp) -> Outcome<()> {
        self.store.write(move |tx| Box::pin(async move { federation::failed(tx, id, &error, retry_at).await })).await?;
        Ok(())
    }

    /// Forgets the messages delivered before `before`; how many.
    pub async fn purge_delivered_member_messages(&self, before: Timestamp) -> Outcome<u64> {
        Ok(self.store.write(move |tx| Box::pin(federation::purge_delivered(tx, before))).await?)
    }

    /// Up to `limit` messages not yet acknowledged, oldest first, as operators watch them.
    pub async fn undelivered_messages(&self, limit: i64) -> Outcome<Vec<PendingMessage>> {
        Ok(self.store.read(move |conn| Box::pin(federation::pending(conn, limit))).await?)
    }

    /// How many messages wait for their member's acknowledgement.
    pub async fn undelivered_member_messages(&self) -> Outcome<i64> {
        Ok(self.store.read(|conn| Box::pin(federation::undelivered(conn))).await?)
    }
}
