//! Catching up: a node that is behind (down for a while, new, or an observer) fetches finalized
//! blocks from peers by height through Commonware's resolver, and commits them only after
//! executing each one and checking the finalization certificate that covers them against the
//! validators of the chain it has. A peer serving blocks that do not check out is blocked.

use super::certified_block;
use super::status::Health;
use crate::chain::{Chain, ChainError};
use bytes::Bytes;
use chargemesh_ledger::{Block, codec};
use commonware_resolver::{Consumer, Delivery, Outcome, Resolution, Resolver, p2p::Producer};
use commonware_runtime::Clock;
use commonware_utils::channel::{fallible::OneshotExt, oneshot};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the driver checks whether to fetch.
const POLL: Duration = Duration::from_millis(100);
/// A node that committed nothing for this long asks peers for the next block anyway: it may have
/// missed the finalizations that would have told it it is behind.
const STALL_MS: i64 = 2_000;

/// The largest segment served or accepted, in bytes.
pub const MAX_SEGMENT_BYTES: usize = super::MAX_MESSAGE_BYTES as usize - 1024;

/// Serves finalized blocks to peers and commits those fetched from them.
#[derive(Clone)]
pub struct Backfill {
    pub(super) chain: Arc<Mutex<Chain>>,
    pub(super) health: Arc<Health>,
}

fn encode_segment(blocks: &[Block], certificate: &[u8]) -> Vec<u8> {
    codec::encode(&(blocks, certificate))
}

impl Backfill {
    /// Checks and commits the segment `bytes` starting at `height`.
    fn commit(&self, height: u64, bytes: &[u8]) -> Outcome {
        let mut chain = self.chain.lock().expect("chain lock");
        if height != chain.head().height + 1 {
            return Outcome::Ignored;
        }
        let (blocks, certificate): (Vec<Block>, Vec<u8>) = match codec::decode(bytes, MAX_SEGMENT_BYTES) {
            Ok(segment) => segment,
            Err(error) => {
                tracing::warn!(height, %error, "a peer sent blocks that cannot be read");
                return Outcome::Invalid;
            }
        };
        match chain.commit_segment(&blocks, &certificate, certified_block) {
            Ok(()) => {
                tracing::info!(from = height, to = chain.head().height, "committed blocks fetched from a peer");
                self.health.committed(&blocks);
                Outcome::Resolved(Resolution::Complete)
            }
            Err(ChainError::BadSegment(why)) => {
                tracing::warn!(height, %why, "a peer sent blocks that do not check out");
                Outcome::Invalid
            }
            Err(error) => {
                tracing::error!(height, %error, "could not commit fetched blocks");
                Outcome::Unresolved
            }
        }
    }
}

impl Consumer for Backfill {
    type Key = u64;
    type Value = Bytes;
    type Subscriber = ();
    type Outcome = Outcome;

    fn deliver(&mut self, delivery: Delivery<u64, ()>, value: Bytes) -> oneshot::Receiver<Outcome> {
        let (sender, receiver) = oneshot::channel();
        sender.send_lossy(self.commit(delivery.key, &value));
        receiver
    }
}

impl Producer for Backfill {
    type Key = u64;

    /// Answers with the finalized blocks from `height` on that one certificate covers; a height
    /// not finalized here gets no answer (the peer asks another).
    fn produce(&mut self, height: u64) -> oneshot::Receiver<Bytes> {
        let (sender, receiver) = oneshot::channel();
        let segment = self.chain.lock().expect("chain lock").segment(height);
        match segment {
            Ok(Some((blocks, certificate))) => {
                let encoded = encode_segment(&blocks, &certificate);
                if encoded.len() <= MAX_SEGMENT_BYTES {
                    sender.send_lossy(Bytes::from(encoded));
                } else {
                    tracing::error!(height, bytes = encoded.len(), "a finalized segment is too large to serve");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(height, %error, "cannot read finalized blocks to serve"),
        }
        receiver
    }
}

/// Keeps one fetch outstanding, for the block after the head, while the node is behind or has
/// committed nothing for a while; cancels fetches the head has passed. Updates the gauges of the
/// mempool size and of the validators heard from on the way.
pub(super) async fn drive<E: Clock>(
    context: E,
    chain: Arc<Mutex<Chain>>,
    health: Arc<Health>,
    mut resolver: impl Resolver<Key = u64, Subscriber = ()>,
) {
    let mut fetching: Option<u64> = None;
    loop {
        context.sleep(POLL).await;
        let head = {
            let chain = chain.lock().expect("chain lock");
            metrics::gauge!("ledger_mempool_transactions").set(chain.mempool().len() as f64);
            chain.head().height
        };
        metrics::gauge!("ledger_validators_heard").set(health.snapshot().validators_heard.len() as f64);
        let now = super::application::unix_ms(&context);
        let stalled = health.last_commit_ms().is_none_or(|at| now - at > STALL_MS);
        let wanted = (health.is_behind() || stalled).then_some(head + 1);
        if wanted != fetching {
            resolver.retain(move |key, _| Some(*key) == wanted);
            if let Some(height) = wanted {
                resolver.fetch(height);
            }
            fetching = wanted;
        }
    }
}
