//! A Byzantine validator that runs Simplex with its real validator key but proposes invalid blocks
//! in the views it leads: each block is built on the honest chain's head from the transactions
//! waiting there, then its state root is falsified (as a proposer crediting itself would), and its
//! body is sent to every node like an honest proposal. It votes for whatever others propose.

use crate::common::sim::Consortium;
use chargemesh_chain::chain::Chain;
use chargemesh_chain::consensus;
use chargemesh_ledger::{MemberKey, block};
use commonware_actor::Feedback;
use commonware_consensus::simplex::{self, elector::RoundRobin, scheme::ed25519 as scheme, types as simplex_types};
use commonware_consensus::types::{Epoch, ViewDelta};
use commonware_consensus::{Automaton, CertifiableAutomaton, Relay, Reporter};
use commonware_cryptography::{Sha256, ed25519, sha256};
use commonware_p2p::utils::mux::{MuxHandle, Muxer};
use commonware_p2p::{Recipients, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Quota, Supervisor as _, deterministic};
use commonware_utils::channel::{fallible::OneshotExt, oneshot};
use commonware_utils::{NZU16, NZUsize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Digest = sha256::Digest;

/// What the Byzantine validator has done so far.
#[derive(Clone, Default)]
pub struct Misdeeds {
    /// Invalid blocks proposed and sent to the other nodes.
    pub proposed: Arc<AtomicUsize>,
}

impl Misdeeds {
    pub fn proposed(&self) -> usize {
        self.proposed.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct InvalidProposer<S> {
    party: String,
    /// An honest node's chain: the Byzantine node knows the chain as well as anyone.
    honest: Arc<Mutex<Chain>>,
    blocks: S,
    context: Arc<deterministic::Context>,
    misdeeds: Misdeeds,
}

impl<S: Sender<PublicKey = ed25519::PublicKey>> InvalidProposer<S> {
    /// A block on `parent` (the head, or a block proposed on it and not finalized yet) that executes
    /// the waiting transactions but claims a false state root.
    fn invalid_block(&self, parent: &Digest) -> Option<block::Block> {
        let chain = self.honest.lock().unwrap();
        let (state, header) = if chain.head().hash() == parent.0 {
            (chain.state().clone(), chain.head().clone())
        } else {
            let parent = chain.proposed_block(&parent.0)?;
            let (state, _) = block::execute(chain.state(), chain.head(), parent).ok()?;
            (state, parent.header.clone())
        };
        let candidates = chain.mempool().candidates(&state, 100);
        let now = crate::common::sim::consensus_now(&self.context);
        let mut block = block::build(&state, &header, &self.party, now, candidates).block;
        block.header.state_root[0] ^= 0xff;
        Some(block)
    }
}

impl<S: Sender<PublicKey = ed25519::PublicKey>> Automaton for InvalidProposer<S> {
    type Context = simplex_types::Context<Digest, ed25519::PublicKey>;
    type Digest = Digest;

    async fn propose(&mut self, context: Self::Context) -> oneshot::Receiver<Digest> {
        let (sender, receiver) = oneshot::channel();
        if let Some(block) = self.invalid_block(&context.parent.1) {
            self.blocks.send(Recipients::All, block.encode(), true);
            self.misdeeds.proposed.fetch_add(1, Ordering::SeqCst);
            sender.send_lossy(sha256::Digest(block.hash()));
        }
        receiver
    }

    async fn verify(&mut self, _: Self::Context, _: Digest) -> oneshot::Receiver<bool> {
        let (sender, receiver) = oneshot::channel();
        sender.send_lossy(true);
        receiver
    }
}

impl<S: Sender<PublicKey = ed25519::PublicKey>> CertifiableAutomaton for InvalidProposer<S> {}

impl<S: Sender<PublicKey = ed25519::PublicKey>> Relay for InvalidProposer<S> {
    type Digest = Digest;
    type PublicKey = ed25519::PublicKey;
    type Plan = simplex::Plan<ed25519::PublicKey>;

    /// Its blocks went out when proposed.
    fn broadcast(&mut self, _: Digest, _: Self::Plan) -> Feedback {
        Feedback::Ok
    }
}

#[derive(Clone)]
struct Deaf;

impl Reporter for Deaf {
    type Activity = simplex_types::Activity<scheme::Scheme, Digest>;

    fn report(&mut self, _: Self::Activity) -> Feedback {
        Feedback::Ok
    }
}

/// Starts `party` (a validator of epoch 0 of `consortium`, whose node is not running) as the
/// Byzantine validator, copying what it proposes on from `honest`'s chain. Returns what it does,
/// and the sub-channel handles that must live as long as it runs.
pub async fn start(
    consortium: &Consortium,
    party: &str,
    key: &MemberKey,
    honest: &str,
) -> (Misdeeds, Vec<MuxHandle<impl Sender<PublicKey = ed25519::PublicKey>>>) {
    let context = consortium.context.child("byzantine");
    let chain = consortium.nodes[honest].chain.clone();
    let scheme = consensus::validator_scheme(chain.lock().unwrap().state(), key).unwrap();
    let genesis = {
        let chain = chain.lock().unwrap();
        assert_eq!(chain.head().height, 0, "the Byzantine validator starts with the chain");
        sha256::Digest(chain.head().hash())
    };
    let control = consortium.oracle.control(crate::common::sim::peer_key(key));
    let quota = Quota::per_second(std::num::NonZeroU32::new(10_000).unwrap());
    let [votes, certificates, requests, blocks, _, _] = consensus::CHANNELS;
    let mut handles = Vec::new();
    let mut epoch_zero = Vec::new();
    for channel in [votes, certificates, requests] {
        let (sender, receiver) = control.register(channel, quota).await.unwrap();
        let (muxer, mut handle) = Muxer::new(context.child("mux"), sender, receiver);
        muxer.start();
        epoch_zero.push(handle.register(0).await.unwrap());
        handles.push(handle);
    }
    let (blocks, _blocks_in) = control.register(blocks, quota).await.unwrap();
    let misdeeds = Misdeeds::default();
    let application = InvalidProposer {
        party: party.into(),
        honest: chain,
        blocks,
        context: Arc::new(context.child("proposer")),
        misdeeds: misdeeds.clone(),
    };
    let cfg = simplex::Config {
        scheme,
        elector: RoundRobin::<Sha256>::default(),
        blocker: control.clone(),
        automaton: application.clone(),
        relay: application,
        reporter: Deaf,
        track_historical_votes: false,
        strategy: Sequential,
        partition: format!("byzantine-{}", party.to_lowercase()),
        mailbox_size: NZUsize!(1024),
        epoch: Epoch::new(0),
        floor: simplex::Floor::Genesis(genesis),
        replay_buffer: NZUsize!(1024 * 1024),
        write_buffer: NZUsize!(1024 * 1024),
        page_cache: CacheRef::new(NZU16!(16_384), NZUsize!(1_024)),
        leader_timeout: Duration::from_secs(1),
        certification_timeout: Duration::from_secs(2),
        timeout_retry: Duration::from_secs(10),
        view_retention: ViewDelta::new(64),
        skip: simplex::SkipPolicy::Disabled,
        fetch_timeout: commonware_utils::NonZeroDuration::new(Duration::from_secs(1)).unwrap(),
        fetch_retry_delay: Duration::from_millis(200),
        forward: simplex::ForwardPolicy::Disabled,
    };
    let [votes, certificates, requests]: [_; 3] = epoch_zero.try_into().ok().unwrap();
    simplex::Engine::new(context.child("engine"), cfg).start(votes, certificates, requests);
    (misdeeds, handles)
}
