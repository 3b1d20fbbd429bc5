//! What nodes tell each other besides votes: the bodies of proposed blocks (from the relay) and
//! the transactions submitted at each node, forwarded to every other node so that whichever
//! validator leads next can include them. Anything a peer sends that cannot be read, or a block
//! its sender did not propose, gets the peer blocked and logged; the chain is not touched.

use super::application::unix_ms;
use super::{MAX_MESSAGE_BYTES, member_key};
use crate::chain::Chain;
use chargemesh_ledger::{Block, codec};
use commonware_cryptography::ed25519;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::Clock;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often submitted transactions are sent on, in one batch.
const FORWARD_EVERY: Duration = Duration::from_millis(5);
/// How often transactions submitted here that still wait for a block are forwarded again, and how
/// many at most each time.
const RESEND_EVERY: Duration = Duration::from_secs(2);
const RESEND_MAX: usize = 2_000;
/// The most bytes of transactions in one message.
const BATCH_BYTES: usize = MAX_MESSAGE_BYTES as usize / 2;

/// Keeps the blocks other validators propose, for verification.
pub(super) async fn receive_blocks<B: Blocker<PublicKey = ed25519::PublicKey>>(
    chain: Arc<Mutex<Chain>>,
    mut blocker: B,
    mut receiver: impl Receiver<PublicKey = ed25519::PublicKey>,
) {
    while let Ok((peer, message)) = receiver.recv().await {
        let problem = match Block::decode(message.as_ref()) {
            Ok(block) => chain.lock().expect("chain lock").receive_block(block, &member_key(&peer)).err(),
            Err(error) => Some(format!("a block that cannot be read: {error}")),
        };
        if let Some(problem) = problem {
            tracing::warn!(%peer, %problem, "blocking a peer that sent a bad block");
            blocker.block(peer);
        }
    }
}

/// Sends the transactions submitted here to every other node, in batches (from when
/// [`Chain::forward_submissions`] was called), and again those still waiting for a block, so that a
/// node that was not connected yet gets them too.
pub(super) async fn forward_transactions<E: Clock>(
    context: E,
    chain: Arc<Mutex<Chain>>,
    mut sender: impl Sender<PublicKey = ed25519::PublicKey>,
) {
    let mut resend_at = context.current() + RESEND_EVERY;
    loop {
        context.sleep(FORWARD_EVERY).await;
        let mut outgoing = chain.lock().expect("chain lock").take_outgoing();
        if context.current() >= resend_at {
            resend_at = context.current() + RESEND_EVERY;
            outgoing.extend(chain.lock().expect("chain lock").still_waiting_submissions(RESEND_MAX));
        }
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0;
        for transaction in outgoing {
            if bytes + transaction.len() > BATCH_BYTES {
                sender.send(Recipients::All, codec::encode(&batch), false);
                (batch, bytes) = (Vec::new(), 0);
            }
            bytes += transaction.len();
            batch.push(transaction);
        }
        if !batch.is_empty() {
            sender.send(Recipients::All, codec::encode(&batch), false);
        }
    }
}

/// Admits the transactions other nodes forward. A transaction refused here (say, one this node
/// has seen included already) is only logged: it is the submitting node's to report.
pub(super) async fn receive_transactions<E: Clock, B: Blocker<PublicKey = ed25519::PublicKey>>(
    context: E,
    chain: Arc<Mutex<Chain>>,
    mut blocker: B,
    mut receiver: impl Receiver<PublicKey = ed25519::PublicKey>,
) {
    while let Ok((peer, message)) = receiver.recv().await {
        let batch: Vec<Vec<u8>> = match codec::decode(message.as_ref(), MAX_MESSAGE_BYTES as usize) {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%peer, %error, "blocking a peer that sent unreadable transactions");
                blocker.block(peer);
                continue;
            }
        };
        let now = unix_ms(&context);
        let mut chain = chain.lock().expect("chain lock");
        for error in chain.submit_forwarded_batch(&batch, now).into_iter().filter_map(Result::err) {
            tracing::debug!(%peer, %error, "a forwarded transaction was not admitted");
        }
    }
}
