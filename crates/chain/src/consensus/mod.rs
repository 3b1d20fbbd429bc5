//! The consensus adapter: every Commonware type the ledger uses lives in this module, so a change of
//! the engine's API (or of engine) touches this module only.
//!
//! Commonware's Simplex orders block hashes; this module gives it a [`Chain`] to build blocks on
//! (propose), to check other validators' blocks with (verify), and to commit finalized blocks to,
//! each with its finalization certificate (the reporter). Around it, on the same authenticated p2p
//! network: proposed blocks' bodies go to every node (the relay), transactions submitted at one
//! node go to all (gossip), and a node that is behind fetches finalized blocks from peers
//! (backfill). Validators and observers run the same code: a member the chain's state lists as a
//! validator votes, any other member's node only checks what it receives.
//!
//! Consensus keeps its own votes in a journal in the runtime's storage; on restart it starts from
//! the last block the chain store holds and reports again every finalization it journaled after
//! it, which the chain applies idempotently.

mod application;
mod backfill;
mod epochs;
mod gossip;
pub mod status;

use crate::chain::Chain;
use application::{Application, Finalizer};
use backfill::Backfill;
use chargemesh_ledger::keys::{MemberKey, PublicKey as MemberPublicKey};
use chargemesh_ledger::state::State;
use chargemesh_ledger::{Hash, hash_parts};
use commonware_codec::{Copying, Decode, DecodeExt, Encode};
use commonware_consensus::simplex::{scheme::ed25519 as scheme, types as simplex_types};
use commonware_cryptography::{ed25519, sha256};
use commonware_p2p::utils::mux::Muxer;
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Metrics, Spawner, Storage};
use commonware_utils::{NZUsize, ordered::Set};
use status::Health;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// The member key a p2p peer authenticated with.
fn member_key(peer: &ed25519::PublicKey) -> MemberPublicKey {
    let mut bytes = [0; 32];
    bytes.copy_from_slice(&peer.encode());
    MemberPublicKey(bytes)
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
    if finalization.proposal.round.epoch().get() != state.epoch() {
        return Err(format!(
            "the certificate is of epoch {}, the block of epoch {}",
            finalization.proposal.round.epoch().get(),
            state.epoch()
        ));
    }
    let verifier = scheme::Scheme::verifier(&namespace(&state.chain()), participants);
    if !finalization.verify(&mut rand::rng(), &verifier, &Sequential) {
        return Err("the certificate's signatures do not make a quorum of the validators".into());
    }
    Ok(finalization.proposal.payload.0)
}

/// Simplex's finalization certificates, for checking inclusion proofs offline.
pub struct SimplexCertificates;

impl chargemesh_ledger::proof::Certificates for SimplexCertificates {
    fn certified_block(&self, state: &State, certificate: &[u8]) -> Result<Hash, String> {
        certified_block(state, certificate)
    }
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
    pub fn block(
        &mut self,
        state: &State,
        block: &chargemesh_ledger::Block,
        certificate: Option<&[u8]>,
    ) -> Result<(), String> {
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

/// What a member's node runs consensus with.
pub struct MemberConfig {
    pub key: MemberKey,
    /// The member's party id, named as proposer in its blocks.
    pub party_id: String,
    /// The storage partition of consensus' journal.
    pub partition: String,
    pub timing: Timing,
}

/// A sender and a receiver of one p2p channel.
pub type Channel<S, R> = (S, R);

/// The p2p channels a node uses, registered with the numbers in [`CHANNELS`] in this order.
pub struct Channels<S, R> {
    pub votes: Channel<S, R>,
    pub certificates: Channel<S, R>,
    /// Simplex's requests for certificates it missed.
    pub certificate_requests: Channel<S, R>,
    /// Bodies of proposed blocks.
    pub blocks: Channel<S, R>,
    /// Requests for finalized blocks and their answers.
    pub backfill: Channel<S, R>,
    /// Transactions submitted at a node.
    pub transactions: Channel<S, R>,
}

impl<S, R> From<[Channel<S, R>; 6]> for Channels<S, R> {
    fn from([votes, certificates, certificate_requests, blocks, backfill, transactions]: [Channel<S, R>; 6]) -> Self {
        Channels { votes, certificates, certificate_requests, blocks, backfill, transactions }
    }
}

/// The channel numbers a node registers on the p2p network, in the order of [`Channels`].
pub const CHANNELS: [u64; 6] = [0, 1, 2, 3, 4, 5];

/// The active validators of `state` by party id, in consensus' order.
fn validator_parties(state: &State, participants: &Set<ed25519::PublicKey>) -> Vec<String> {
    participants
        .iter()
        .map(|key| {
            let key = member_key(key);
            state.members().find(|m| m.record.public_key == key).map_or_else(String::new, |m| m.record.party_id.clone())
        })
        .collect()
}

/// The part `key` takes in consensus on `state`: it votes if it is a validator's, else it follows.
pub fn role(state: &State, key: &MemberKey) -> status::Role {
    if validator_scheme(state, key).is_some() { status::Role::Validator } else { status::Role::Observer }
}

/// The scheme `key` votes with among the validators of `state`; none if it is not one of them.
pub fn validator_scheme(state: &State, key: &MemberKey) -> Option<scheme::Scheme> {
    signing_scheme(&state.chain(), participant_set(state), key)
}

fn signing_scheme(chain: &Hash, participants: Set<ed25519::PublicKey>, key: &MemberKey) -> Option<scheme::Scheme> {
    let private_key = ed25519::PrivateKey::decode(Copying(&key.seed())).ok()?;
    scheme::Scheme::signer(&namespace(chain), participants, private_key)
}

/// Starts this member's node in consensus on `chain`: Simplex, one engine per epoch (voting while
/// the chain's state lists the member as a validator, following otherwise), the relay of block
/// bodies, the forwarding of submitted transactions and the backfill, on `channels` of the p2p
/// network, whose `peers` are the nodes to fetch from and whose `blocker` shuts out misbehaving
/// peers. `track_members` is told the member nodes of the chain's state whenever they change, with
/// an increasing number. Returns the node's health; everything runs in tasks of `context`.
pub fn start<E, B, P, S, R, T>(
    context: E,
    chain: Arc<Mutex<Chain>>,
    config: MemberConfig,
    blocker: B,
    peers: P,
    channels: Channels<S, R>,
    track_members: T,
) -> Result<Arc<Health>, String>
where
    E: Clock + rand_core::CryptoRng + Spawner + Storage + Metrics,
    B: commonware_p2p::Blocker<PublicKey = ed25519::PublicKey>,
    P: commonware_p2p::Provider<PublicKey = ed25519::PublicKey>,
    S: commonware_p2p::Sender<PublicKey = ed25519::PublicKey>,
    R: commonware_p2p::Receiver<PublicKey = ed25519::PublicKey>,
    T: FnMut(u64, &State) + Send + 'static,
{
    let me = ed25519::PublicKey::decode(Copying(&config.key.public_key().0)).map_err(|e| e.to_string())?;
    let clock = context.child("health");
    let health = Arc::new(Health::new(Box::new(move || application::unix_ms(&clock))));

    let Channels { votes, certificates, certificate_requests, blocks, backfill, transactions } = channels;
    let (blocks_out, blocks_in) = blocks;
    context.child("blocks").spawn({
        let (chain, blocker) = (chain.clone(), blocker.clone());
        move |_| gossip::receive_blocks(chain, blocker, blocks_in)
    });
    let (transactions_out, transactions_in) = transactions;
    // From here on, nothing submitted is missed by the forwarding task, however late it starts.
    chain.lock().expect("chain lock").forward_submissions();
    context.child("forward").spawn({
        let chain = chain.clone();
        move |context| gossip::forward_transactions(context, chain, transactions_out)
    });
    context.child("forwarded").spawn({
        let (chain, blocker) = (chain.clone(), blocker.clone());
        move |context| gossip::receive_transactions(context, chain, blocker, transactions_in)
    });

    let backfill_actor = Backfill { chain: chain.clone(), health: health.clone() };
    let (resolver, mailbox) = commonware_resolver::p2p::Engine::new(
        context.child("backfill"),
        commonware_resolver::p2p::Config {
            peer_provider: peers,
            blocker: blocker.clone(),
            consumer: backfill_actor.clone(),
            producer: backfill_actor,
            mailbox_size: NZUsize!(1024),
            me: Some(me),
            fetch_timeout: commonware_utils::NonZeroDuration::new(Duration::from_secs(2)).expect("non-zero"),
            fetch_retry_delay: Duration::from_millis(250),
            priority_requests: false,
            priority_responses: false,
        },
    );
    resolver.start(backfill);
    context.child("catch_up").spawn({
        let (chain, health) = (chain.clone(), health.clone());
        move |context| backfill::drive(context, chain, health, mailbox)
    });

    let mux = |name: &'static str, (sender, receiver): Channel<S, R>| {
        let (muxer, handle) = Muxer::new(context.child(name), sender, receiver);
        muxer.start();
        handle
    };
    let channels = epochs::EpochChannels {
        votes: mux("votes", votes),
        certificates: mux("certificates", certificates),
        certificate_requests: mux("certificate_requests", certificate_requests),
    };
    let application = Application {
        chain: chain.clone(),
        proposer: config.party_id.clone(),
        idle: config.timing.leader_timeout.mul_f32(0.8),
        context: Arc::new(context.child("application")),
        blocks: blocks_out,
    };
    let finalizer = Finalizer { chain: chain.clone(), health: health.clone() };
    let epochs = epochs::Epochs {
        context: context.child("epochs"),
        chain,
        config,
        health: health.clone(),
        blocker,
        application,
        finalizer,
        channels,
        track_members,
    };
    context.child("epochs").spawn(move |_| epochs.run());
    Ok(health)
}

/// Where a production node keeps consensus' journal and listens for other members' nodes.
pub struct NodeNetwork {
    pub storage_dir: std::path::PathBuf,
    pub listen: std::net::SocketAddr,
}

/// The nodes a node may connect with: the members of `state` that have a p2p endpoint, resolved
/// (host names through the system's resolver), and the node itself (`me`), which may not be a
/// member yet. A member whose endpoint does not resolve is left out, with a warning.
fn member_nodes(
    state: &State,
    me: (MemberPublicKey, std::net::SocketAddr),
) -> commonware_utils::ordered::Map<ed25519::PublicKey, commonware_p2p::Address> {
    use std::net::ToSocketAddrs;
    let members = state.members().filter(|m| m.active && !m.record.p2p_endpoint.is_empty()).filter_map(|m| {
        match m.record.p2p_endpoint.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(address)) => Some((m.record.public_key, address)),
            _ => {
                tracing::warn!(member = %m.record.party_id, address = %m.record.p2p_endpoint, "cannot resolve a member's p2p address");
                None
            }
        }
    });
    let nodes = members.chain(std::iter::once(me));
    commonware_utils::ordered::Map::from_iter_dedup(
        nodes.filter_map(|(key, address)| Some((consensus_key(&key)?, address.into()))),
    )
}

/// A running node's consensus thread.
pub struct Running {
    pub thread: std::thread::JoinHandle<()>,
    pub health: Arc<Health>,
}

/// Runs the member's node on Commonware's production (tokio) runtime in a thread of its own, with
/// the authenticated, encrypted p2p network among the members' nodes (known keys and addresses,
/// no discovery; a node whose key is not a member's cannot connect). Returns once consensus is
/// started; the thread runs until `stop` is set.
pub fn run_in_thread(
    chain: Arc<Mutex<Chain>>,
    config: MemberConfig,
    network: NodeNetwork,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<Running, String> {
    use commonware_cryptography::ChaCha20Poly1305;
    use commonware_p2p::{AddressableManager as _, authenticated::lookup};
    use commonware_runtime::{Quota, Runner as _, Supervisor as _, tokio as runtime};
    use commonware_stream::{cups, sake};

    std::fs::create_dir_all(&network.storage_dir)
        .map_err(|e| format!("cannot create {}: {e}", network.storage_dir.display()))?;
    let signer = ed25519::PrivateKey::decode(Copying(&config.key.seed())).map_err(|e| e.to_string())?;
    let chain_id = chain.lock().expect("chain lock").state().chain();
    let me = (config.key.public_key(), network.listen);
    let nodes = member_nodes(chain.lock().expect("chain lock").state(), me);
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
                let mut p2p = lookup::Config::recommended(
                    handshake,
                    &namespace(&chain_id),
                    network.listen,
                    NZUsize!(64),
                    MAX_MESSAGE_BYTES,
                    NETWORK_MAILBOX,
                );
                // Members' nodes on one machine, behind one NAT or on a private network are normal
                // in a consortium: private addresses are allowed and one address may handshake
                // for several nodes (only registered members' keys get through anyway).
                p2p.allow_private_ips = true;
                p2p.allowed_handshake_rate_per_ip = Quota::per_second(commonware_utils::NZU32!(16));
                // A reservation, kept or failed, bars the next one to that peer for this long, and it
                // also bars the peer's own dial in. The default minute kept a member that started
                // before the others (its dials failed) unreachable for a minute; members are few
                // and registered, so they may retry every second.
                p2p.peer_connection_cooldown = Duration::from_secs(1);
                let (mut net, mut oracle) = lookup::Network::new(context.child("p2p"), p2p);
                oracle.track(0, nodes);
                let mut tracker = oracle.clone();
                let track_members = move |set: u64, state: &State| {
                    tracker.track(set, member_nodes(state, me));
                };
                // Messages per second from one peer on one channel: votes are a few per view, blocks
                // and batches of transactions tens per second. The network pre-allocates every
                // channel's mailbox for one burst from each peer it may retain (64 per set, 4 sets),
                // so the burst is kept small: a burst of 1,000 filled 870 MB before any peer
                // connected. Messages past the burst wait for the rate, they are not dropped.
                let quota = Quota::per_second(commonware_utils::NZU32!(1_000)).allow_burst(P2P_BURST);
                let channels = CHANNELS.map(|channel| net.register(channel, quota));
                net.start();
                let channels = Channels::from(channels);
                let started_node =
                    start(context.child("node"), chain, config, oracle.clone(), oracle, channels, track_members);
                let failed = started_node.is_err();
                let _ = started.send(started_node);
                // Consensus runs in tasks of this runtime, which end with it.
                while !failed && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    context.sleep(Duration::from_millis(100)).await;
                }
            });
        })
        .map_err(|e| format!("cannot start the ledger thread: {e}"))?;
    let health = on_start.recv().map_err(|_| "the ledger thread stopped while starting".to_string())??;
    Ok(Running { thread, health })
}

/// The largest p2p message: a block of the most transactions a block may hold.
const MAX_MESSAGE_BYTES: u32 = 8 * 1024 * 1024;

/// The hash that names a chain's consensus storage partition, so two chains never share a journal.
pub fn partition(chain: &Hash) -> String {
    format!("chargemesh-consensus-{}", hex::encode(&hash_parts("chargemesh/partition/1", &[chain])[..8]))
}

/// Messages one peer may send on one channel at once before the rate applies.
const P2P_BURST: std::num::NonZeroU32 = commonware_utils::NZU32!(8);

/// Mailbox size of the network's internal actors.
pub const NETWORK_MAILBOX: NonZeroUsize = NZUsize!(1024);
