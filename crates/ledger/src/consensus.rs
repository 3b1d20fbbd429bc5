//! The consensus adapter: every Commonware type the ledger uses lives in this module, so a change of
//! the engine's API (or of engine) touches this file only.
//!
//! Commonware's Simplex orders block hashes; this module gives it a [`Chain`] to build blocks on
//! (propose), to check other validators' blocks with (verify), and to commit finalized blocks to,
//! each with its finalization certificate (the reporter). Consensus keeps its own votes in a journal
//! in the runtime's storage; on restart it starts from the last block the chain store holds and
//! reports again every finalization it journaled after it, which the chain applies idempotently.

use crate::chain::{Chain, Verdict};
use crate::keys::{MemberKey, PublicKey as MemberPublicKey};
use crate::state::State;
use crate::{Hash, hash_parts};
use commonware_codec::{Copying, Decode, DecodeExt, Encode};
use commonware_consensus::simplex::{self, elector::RoundRobin, scheme::ed25519 as scheme, types as simplex_types};
use commonware_consensus::types::{Epoch, ViewDelta};
use commonware_consensus::{Automaton, CertifiableAutomaton, Relay, Reporter};
use commonware_cryptography::{Sha256, ed25519, sha256};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_utils::channel::{fallible::OneshotExt, oneshot};
use commonware_utils::{NZU16, NZUsize, ordered::Set};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use commonware_actor::Feedback;

type Digest = sha256::Digest;
type Activity = simplex_types::Activity<scheme::Scheme, Digest>;
type Finalization = simplex_types::Finalization<scheme::Scheme, Digest>;
type Context = simplex_types::Context<Digest, ed25519::PublicKey>;

/// Timing of the engine. Block time is about one round trip between validators; with one validator
/// it is bounded by how fast blocks are built and committed.
#[derive(Debug, Clone)]
pub struct Timing {
    pub leader_timeout: Duration,
    pub certification_timeout: Duration,
    pub timeout_retry: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            leader_timeout: Duration::from_secs(1),
            certification_timeout: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(10),
        }
    }
}

/// The namespace every consensus signature of a chain is made in, so that no vote of one chain
/// (or of a transaction) counts in another.
fn namespace(chain: &Hash) -> Vec<u8> {
    let mut namespace = b"chargemesh/consensus/1/".to_vec();
    namespace.extend_from_slice(&hex::encode(chain).into_bytes());
    namespace
}

fn consensus_key(key: &MemberPublicKey) -> Option<ed25519::PublicKey> {
    ed25519::PublicKey::decode(Copying(&key.0)).ok()
}

/// The active validators of `state`, as consensus orders them.
fn participant_set(state: &State) -> Set<ed25519::PublicKey> {
    Set::from_iter_dedup(
        state.members().filter(|m| m.active && m.record.validator).filter_map(|m| consensus_key(&m.record.public_key)),
    )
}

/// Checks a stored finalization certificate against the validators of `state` (the state the
/// certified block was built on) and returns the hash of the block it finalizes.
pub fn certified_block(state: &State, certificate: &[u8]) -> Result<Hash, String> {
    let participants = participant_set(state);
    let finalization = Finalization::decode_cfg(Copying(certificate), &participants.len())
        .map_err(|e| format!("the certificate cannot be read: {e}"))?;
    let verifier = scheme::Scheme::verifier(&namespace(&state.chain()), participants);
    if !finalization.verify(&mut rand::rng(), &verifier, &Sequential) {
        return Err("the certificate's signatures do not make a quorum of the validators".into());
    }
    Ok(finalization.proposal.payload.0)
}

/// Follows a chain's certificates block by block, in order: each block's certificate must verify
/// against the validators of the state the block was built on, and finalize the block itself or a
/// later one that the following blocks lead to (blocks finalized together share its certificate).
#[derive(Default)]
pub struct CertificateCheck {
    /// The block a certificate seen earlier finalizes, and the height it was seen at.
    awaiting: Option<(Hash, u64)>,
}

impl CertificateCheck {
    pub fn block(&mut self, state: &State, block: &crate::Block, certificate: Option<&[u8]>) -> Result<(), String> {
        let certificate = certificate.ok_or("it has no finalization certificate")?;
        let finalized = certified_block(state, certificate)?;
        let hash = block.hash();
        match self.awaiting {
            Some((awaited, _)) if awaited == hash => self.awaiting = None,
            Some((awaited, _)) if awaited != finalized => {
                return Err("its certificate finalizes another block than the one before it".into());
            }
            Some(_) => {}
            None if finalized != hash => self.awaiting = Some((finalized, block.header.height)),
            None => {}
        }
        Ok(())
    }

    /// Fails if a certificate finalizes a block the chain does not reach.
    pub fn finish(self) -> Result<(), String> {
        match self.awaiting {
            Some((_, height)) => {
                Err(format!("the certificate of block {height} finalizes a block that is not in the chain"))
            }
            None => Ok(()),
        }
    }
}

fn unix_ms(clock: &impl Clock) -> i64 {
    clock.current().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Proposes and verifies blocks for consensus, on the shared chain.
pub struct Application<E> {
    chain: Arc<Mutex<Chain>>,
    proposer: String,
    /// How long a leader waits for transactions before it declines to propose.
    idle: Duration,
    context: Arc<E>,
}

impl<E> Clone for Application<E> {
    fn clone(&self) -> Self {
        Application {
            chain: self.chain.clone(),
            proposer: self.proposer.clone(),
            idle: self.idle,
            context: self.context.clone(),
        }
    }
}

/// How often a waiting leader looks at the mempool.
const PROPOSE_POLL: Duration = Duration::from_millis(20);

impl<E: Clock + Spawner> Automaton for Application<E> {
    type Context = Context;
    type Digest = Digest;

    /// Proposes a block once there is something to put in it. Waiting longer than `idle` declines
    /// the view instead: consensus times it out and moves on, and no empty block is stored.
    async fn propose(&mut self, context: Context) -> oneshot::Receiver<Digest> {
        let (sender, receiver) = oneshot::channel();
        let (chain, proposer, idle) = (self.chain.clone(), self.proposer.clone(), self.idle);
        let parent = context.parent.1.0;
        self.context.child("propose").spawn(move |context| async move {
            let deadline = context.current() + idle;
            loop {
                let ready = chain.lock().expect("chain lock").has_candidates(&parent);
                match ready {
                    Ok(true) => break,
                    Ok(false) if context.current() < deadline => context.sleep(PROPOSE_POLL).await,
                    Ok(false) => return,
                    Err(error) => return tracing::warn!(%error, "cannot propose on this parent"),
                }
            }
            let now = unix_ms(&context);
            match chain.lock().expect("chain lock").propose(parent, &proposer, now) {
                Ok(hash) => {
                    sender.send_lossy(sha256::Digest(hash));
                }
                // Dropping the sender declines to propose in this view; consensus moves on.
                Err(error) => tracing::warn!(%error, "could not propose a block"),
            }
        });
        receiver
    }

    async fn verify(&mut self, context: Context, payload: Digest) -> oneshot::Receiver<bool> {
        let (sender, receiver) = oneshot::channel();
        let now = unix_ms(self.context.as_ref());
        let verdict = self.chain.lock().expect("chain lock").verify(context.parent.1.0, payload.0, now);
        match verdict {
            Ok(Verdict::Valid) => {
                sender.send_lossy(true);
            }
            Ok(Verdict::Invalid(reason)) => {
                tracing::warn!(block = %hex::encode(payload.0), %reason, "rejected a proposed block");
                sender.send_lossy(false);
            }
            // Only the proposer has a block's body until bodies are relayed (issue 5): this
            // verification can never conclude, so its request is closed.
            Ok(Verdict::Unknown) => drop(sender),
            Err(error) => tracing::error!(%error, "could not verify a proposed block"),
        }
        receiver
    }
}

impl<E: Clock + Spawner> CertifiableAutomaton for Application<E> {}

impl<E: Clock + Spawner> Relay for Application<E> {
    type Digest = Digest;
    type PublicKey = ed25519::PublicKey;
    type Plan = simplex::Plan<ed25519::PublicKey>;

    /// The proposer's block is in its own chain already; with a single validator nobody else needs
    /// its body. Shipping bodies to other validators is the multi-validator work (issue 5).
    fn broadcast(&mut self, _payload: Digest, _plan: Self::Plan) -> Feedback {
        Feedback::Ok
    }
}

/// Commits finalized blocks to the chain with their certificates.
#[derive(Clone)]
pub struct Finalizer {
    chain: Arc<Mutex<Chain>>,
}

impl Reporter for Finalizer {
    type Activity = Activity;

    fn report(&mut self, activity: Activity) -> Feedback {
        if let simplex_types::Activity::Finalization(finalization) = activity {
            let certificate = finalization.encode();
            let committed =
                self.chain.lock().expect("chain lock").finalize(finalization.proposal.payload.0, &certificate);
            if let Err(error) = committed {
                tracing::error!(%error, "could not commit a finalized block");
            }
        }
        Feedback::Ok
    }
}

/// What a validator runs with.
pub struct ValidatorConfig {
    pub key: MemberKey,
    /// The validator's party id, named as proposer in its blocks.
    pub party_id: String,
    /// The storage partition of consensus' journal.
    pub partition: String,
    pub timing: Timing,
}

/// The network channels consensus needs: votes, certificates, and the resolver's requests.
pub type Channels<S, R> = ((S, R), (S, R), (S, R));

/// The channel numbers consensus registers on the p2p network.
pub const CHANNELS: [u64; 3] = [0, 1, 2];

/// Starts Simplex for the validator `config.key` on `chain`, with `channels` from the p2p network
/// and `blocker` to shut out misbehaving peers.
pub fn start<E, B, S, R>(
    context: E,
    chain: Arc<Mutex<Chain>>,
    config: ValidatorConfig,
    blocker: B,
    channels: Channels<S, R>,
) -> Result<Handle<()>, String>
where
    E: Clock + rand_core::CryptoRng + Spawner + Storage + Metrics,
    B: commonware_p2p::Blocker<PublicKey = ed25519::PublicKey>,
    S: commonware_p2p::Sender<PublicKey = ed25519::PublicKey>,
    R: commonware_p2p::Receiver<PublicKey = ed25519::PublicKey>,
{
    let (floor, participants, chain_id) = {
        let chain = chain.lock().expect("chain lock");
        let participants = participant_set(chain.state());
        let floor = match chain.last_certificate().map_err(|e| e.to_string())? {
            None => simplex::Floor::Genesis(sha256::Digest(chain.genesis_hash())),
            Some(bytes) => simplex::Floor::Finalized(
                Finalization::decode_cfg(Copying(&bytes), &participants.len())
                    .map_err(|e| format!("the last stored certificate cannot be read: {e}"))?,
            ),
        };
        (floor, participants, chain.state().chain())
    };
    let private_key = ed25519::PrivateKey::decode(Copying(&config.key.seed())).map_err(|e| e.to_string())?;
    let scheme = scheme::Scheme::signer(&namespace(&chain_id), participants, private_key)
        .ok_or_else(|| format!("{} is not a validator of this chain", config.party_id))?;
    let application = Application {
        chain: chain.clone(),
        proposer: config.party_id,
        idle: config.timing.leader_timeout.mul_f32(0.8),
        context: Arc::new(context.child("application")),
    };
    let finalizer = Finalizer { chain };
    let cfg = simplex::Config {
        scheme,
        elector: RoundRobin::<Sha256>::default(),
        blocker,
        automaton: application.clone(),
        relay: application,
        reporter: finalizer,
        track_historical_votes: false,
        strategy: Sequential,
        partition: config.partition,
        mailbox_size: NZUsize!(1024),
        epoch: Epoch::zero(),
        floor,
        replay_buffer: NZUsize!(1024 * 1024),
        write_buffer: NZUsize!(1024 * 1024),
        page_cache: CacheRef::new(NZU16!(16_384), NZUsize!(1_024)),
        leader_timeout: config.timing.leader_timeout,
        certification_timeout: config.timing.certification_timeout,
        timeout_retry: config.timing.timeout_retry,
        view_retention: ViewDelta::new(64),
        skip: simplex::SkipPolicy::Disabled,
        fetch_timeout: commonware_utils::NonZeroDuration::new(Duration::from_secs(1)).expect("non-zero"),
        fetch_retry_delay: Duration::from_millis(200),
        forward: simplex::ForwardPolicy::Disabled,
    };
    let engine = simplex::Engine::new(context.child("consensus"), cfg);
    let (votes, certificates, resolver) = channels;
    Ok(engine.start(votes, certificates, resolver))
}

/// Where a production validator keeps consensus' journal and listens for other validators.
pub struct NodeNetwork {
    pub storage_dir: std::path::PathBuf,
    pub listen: std::net::SocketAddr,
}

/// Runs the validator on Commonware's production (tokio) runtime in a thread of its own, with the
/// authenticated, encrypted p2p network among the chain's validators (known keys and addresses, no
/// discovery). Returns once consensus is started; the thread runs until `stop` is set.
pub fn run_in_thread(
    chain: Arc<Mutex<Chain>>,
    config: ValidatorConfig,
    network: NodeNetwork,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, String> {
    use commonware_cryptography::{ChaCha20Poly1305, Signer as _};
    use commonware_p2p::{AddressableManager as _, authenticated::lookup};
    use commonware_runtime::{Quota, Runner as _, Supervisor as _, tokio as runtime};
    use commonware_stream::{cups, sake};

    std::fs::create_dir_all(&network.storage_dir)
        .map_err(|e| format!("cannot create {}: {e}", network.storage_dir.display()))?;
    let signer = ed25519::PrivateKey::decode(Copying(&config.key.seed())).map_err(|e| e.to_string())?;
    let chain_id = chain.lock().expect("chain lock").state().chain();
    let (started, on_start) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("ledger".into())
        .spawn(move || {
            let executor = runtime::Runner::new(runtime::Config::new().with_storage_directory(&network.storage_dir));
            executor.start(|context| async move {
                let handshake = cups::Cups::<_, ChaCha20Poly1305>::new(
                    sake::Sake {
                        signer: signer.clone(),
                        synchrony_bound: Duration::from_secs(5),
                        max_handshake_age: Duration::from_secs(10),
                        version: sake::Version::V1,
                    },
                    cups::Version::V1,
                );
                let p2p = lookup::Config::recommended(
                    handshake,
                    &namespace(&chain_id),
                    network.listen,
                    NZUsize!(64),
                    MAX_MESSAGE_BYTES,
                    NETWORK_MAILBOX,
                );
                let (mut net, mut oracle) = lookup::Network::new(context.child("p2p"), p2p);
                let me: commonware_p2p::Address = network.listen.into();
                let peers: commonware_utils::ordered::Map<_, commonware_p2p::Address> =
                    commonware_utils::ordered::Map::from_iter_dedup([(signer.public_key(), me)]);
                oracle.track(0, peers);
                let quota = Quota::per_second(commonware_utils::NZU32!(10_000));
                let [votes, certificates, resolver] = CHANNELS.map(|channel| net.register(channel, quota));
                net.start();
                let channels = (votes, certificates, resolver);
                let started_engine = start(context.child("validator"), chain, config, oracle, channels);
                let failed = started_engine.is_err();
                let _ = started.send(started_engine.map(|_| ()));
                // Consensus runs in tasks of this runtime, which end with it.
                while !failed && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    context.sleep(Duration::from_millis(100)).await;
                }
            });
        })
        .map_err(|e| format!("cannot start the ledger thread: {e}"))?;
    on_start.recv().map_err(|_| "the ledger thread stopped while starting".to_string())??;
    Ok(thread)
}

/// The largest p2p message: a block of the most transactions a block may hold.
const MAX_MESSAGE_BYTES: u32 = 8 * 1024 * 1024;

/// The hash that names a chain's consensus storage partition, so two chains never share a journal.
pub fn partition(chain: &Hash) -> String {
    format!("chargemesh-consensus-{}", hex::encode(&hash_parts("chargemesh/partition/1", &[chain])[..8]))
}

/// Mailbox size of the network's internal actors.
pub const NETWORK_MAILBOX: NonZeroUsize = NZUsize!(1024);
