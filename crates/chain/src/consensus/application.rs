//! What Simplex drives: the automaton that proposes and verifies blocks on the shared chain, the
//! relay that ships a proposed block's body to the other nodes, and the reporter that commits
//! finalized blocks and notes which validators are heard from.

use super::status::Health;
use super::{Activity, Context, Digest};
use crate::chain::{Chain, ChainError, Verdict};
use commonware_actor::Feedback;
use commonware_consensus::Epochable as _;
use commonware_consensus::{Automaton, CertifiableAutomaton, Relay, Reporter, simplex};
use commonware_cryptography::{ed25519, sha256};
use commonware_p2p::{Recipients, Sender};
use commonware_runtime::{Clock, Spawner};
use commonware_utils::channel::{fallible::OneshotExt, oneshot};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

pub(super) fn unix_ms(clock: &impl Clock) -> i64 {
    clock.current().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// How often a waiting leader looks at the mempool, and a waiting verifier for a block's body.
const POLL: Duration = Duration::from_millis(10);

/// Proposes and verifies blocks for consensus, on the shared chain, and relays proposed blocks.
pub struct Application<E, S> {
    pub(super) chain: Arc<Mutex<Chain>>,
    pub(super) proposer: String,
    /// How long a leader waits for transactions before it declines to propose.
    pub(super) idle: Duration,
    pub(super) context: Arc<E>,
    /// The channel block bodies go out on.
    pub(super) blocks: S,
}

impl<E, S: Clone> Clone for Application<E, S> {
    fn clone(&self) -> Self {
        Application {
            chain: self.chain.clone(),
            proposer: self.proposer.clone(),
            idle: self.idle,
            context: self.context.clone(),
            blocks: self.blocks.clone(),
        }
    }
}

impl<E, S> Automaton for Application<E, S>
where
    E: Clock + Spawner,
    S: Sender<PublicKey = ed25519::PublicKey>,
{
    type Context = Context;
    type Digest = Digest;

    /// Proposes a block once there is something to put in it. Waiting longer than `idle` declines
    /// the view instead: consensus times it out and moves on, and no empty block is stored.
    async fn propose(&mut self, context: Context) -> oneshot::Receiver<Digest> {
        let (sender, receiver) = oneshot::channel();
        let (chain, proposer, idle) = (self.chain.clone(), self.proposer.clone(), self.idle);
        let (parent, epoch) = (context.parent.1.0, context.epoch().get());
        self.context.child("propose").spawn(move |context| async move {
            let deadline = context.current() + idle;
            loop {
                let ready = chain.lock().expect("chain lock").has_candidates(&parent, epoch);
                match ready {
                    Ok(true) => break,
                    Ok(false) if context.current() < deadline => context.sleep(POLL).await,
                    Ok(false) => return,
                    // A node catching up does not have the parent yet: it lets the view pass. A
                    // parent that ends the epoch is the next validator set's to build on.
                    Err(ChainError::UnknownBlock(_) | ChainError::EpochOver { .. }) => return,
                    Err(error) => return tracing::warn!(%error, "cannot propose on this parent"),
                }
            }
            let now = unix_ms(&context);
            match chain.lock().expect("chain lock").propose(parent, epoch, &proposer, now) {
                Ok(hash) => {
                    sender.send_lossy(sha256::Digest(hash));
                }
                // Dropping the sender declines to propose in this view; consensus moves on.
                Err(error) => tracing::warn!(%error, "could not propose a block"),
            }
        });
        receiver
    }

    /// Gives a verdict once the block's body (and its parent's) is here; until then it waits,
    /// abstaining, until consensus gives up on the view and drops the request.
    async fn verify(&mut self, context: Context, payload: Digest) -> oneshot::Receiver<bool> {
        let (sender, receiver) = oneshot::channel();
        let chain = self.chain.clone();
        let (parent, epoch) = (context.parent.1.0, context.epoch().get());
        self.context.child("verify").spawn(move |context| async move {
            while !sender.is_closed() {
                let verdict = chain.lock().expect("chain lock").verify(parent, payload.0, epoch, unix_ms(&context));
                match verdict {
                    Ok(Verdict::Valid) => {
                        sender.send_lossy(true);
                        return;
                    }
                    Ok(Verdict::Invalid(reason)) => {
                        tracing::warn!(block = %hex::encode(payload.0), %reason, "rejected a proposed block");
                        sender.send_lossy(false);
                        return;
                    }
                    Ok(Verdict::Unknown) => context.sleep(POLL).await,
                    Err(error) => return tracing::error!(%error, "could not verify a proposed block"),
                }
            }
        });
        receiver
    }
}

impl<E, S> CertifiableAutomaton for Application<E, S>
where
    E: Clock + Spawner,
    S: Sender<PublicKey = ed25519::PublicKey>,
{
}

impl<E, S> Relay for Application<E, S>
where
    E: Clock + Spawner,
    S: Sender<PublicKey = ed25519::PublicKey>,
{
    type Digest = Digest;
    type PublicKey = ed25519::PublicKey;
    type Plan = simplex::Plan<ed25519::PublicKey>;

    /// Sends the body of a block this node proposed (or forwards one it verified) to the other
    /// nodes, which keep it until consensus asks them to verify it.
    fn broadcast(&mut self, payload: Digest, plan: Self::Plan) -> Feedback {
        let recipients = match plan {
            simplex::Plan::Forward { recipients, .. } => recipients,
            simplex::Plan::Prepare { .. } | simplex::Plan::Propose { .. } => Recipients::All,
        };
        let body =
            self.chain.lock().expect("chain lock").proposed_block(&payload.0).map(chargemesh_ledger::Block::encode);
        match body {
            Some(body) => {
                self.blocks.send(recipients, body, true);
            }
            None => tracing::warn!(block = %hex::encode(payload.0), "asked to relay a block this node does not hold"),
        }
        Feedback::Ok
    }
}

/// Commits finalized blocks to the chain with their certificates, and notes the validators whose
/// votes arrive. A finalized block whose body (or an ancestor's) is missing here marks the node
/// as behind, for the backfill to fetch the blocks from peers.
#[derive(Clone)]
pub struct Finalizer {
    pub(super) chain: Arc<Mutex<Chain>>,
    pub(super) health: Arc<Health>,
}

impl Reporter for Finalizer {
    type Activity = Activity;

    fn report(&mut self, activity: Activity) -> Feedback {
        match activity {
            Activity::Finalization(finalization) => {
                use commonware_codec::Encode;
                let certificate = finalization.encode();
                let committed =
                    self.chain.lock().expect("chain lock").finalize(finalization.proposal.payload.0, &certificate);
                match committed {
                    Ok(blocks) => self.health.committed(&blocks),
                    Err(ChainError::UnknownBlock(_)) => self.health.behind(),
                    Err(error) => tracing::error!(%error, "could not commit a finalized block"),
                }
            }
            Activity::Notarize(vote) => self.health.heard(vote.attestation.signer),
            Activity::Finalize(vote) => self.health.heard(vote.attestation.signer),
            Activity::Nullify(vote) => self.health.heard(vote.attestation.signer),
            Activity::ConflictingNotarize(_) | Activity::ConflictingFinalize(_) | Activity::NullifyFinalize(_) => {
                tracing::warn!(?activity, "a validator voted against itself (Byzantine behaviour)");
            }
            _ => {}
        }
        Feedback::Ok
    }
}
