//! What each member was last sent about each object, as digests: the publisher queues an object
//! for a member only when it differs.

use chargemesh_operations::member_outbox::MemberRequest;
use chargemesh_operations::{Operations, Outcome};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What each peer was last sent about each object (a digest), read when the publisher compares
/// everything and kept up to date as it queues: an unchanged object costs no write.
#[derive(Default)]
pub(crate) struct Sent(HashMap<(String, String), String>);

impl Sent {
    pub(crate) async fn load(operations: &Operations) -> Outcome<Sent> {
        let digests = operations.digests_sent_to_members().await?;
        Ok(Sent(digests.into_iter().map(|(peer, key, digest)| ((peer, key), digest)).collect()))
    }

    /// Queues `message` to `peer` about `object_key` unless the peer was last sent the same.
    pub(crate) async fn queue_if_changed(
        &mut self,
        operations: &Operations,
        peer: &str,
        object_key: &str,
        (method, path, body): (&str, &str, &str),
    ) -> Outcome<()> {
        let digest = hex::encode(Sha256::digest(body.as_bytes()));
        let key = (peer.to_owned(), object_key.to_owned());
        if self.0.get(&key) == Some(&digest) {
            return Ok(());
        }
        let request = MemberRequest { method: method.to_owned(), path: path.to_owned(), body: body.to_owned() };
        operations.queue_for_member(key.0.clone(), key.1.clone(), Some(digest.clone()), request).await?;
        self.0.insert(key, digest);
        Ok(())
    }
}
