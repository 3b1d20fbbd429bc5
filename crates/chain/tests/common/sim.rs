//! A consortium of member nodes on Commonware's deterministic runtime and simulated network: each
//! node a chain store of its own and the consensus adapter, as a member's node runs it. Nodes can
//! crash (every task aborted, memory lost, the chain store and consensus' journal kept) and
//! restart; links can be cut and restored, slowed and made lossy.

use chargemesh_chain::chain::Chain;
use chargemesh_chain::consensus::status::Health;
use chargemesh_chain::consensus::{self, CHANNELS, Channels, MemberConfig, Timing};
use chargemesh_ledger::{Genesis, Hash, MemberKey};
use commonware_codec::{Copying, DecodeExt};
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{self, Link};
use commonware_runtime::{Clock as _, Handle, Quota, Spawner as _, Supervisor as _, deterministic};
use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Oracle = simulated::Oracle<ed25519::PublicKey, deterministic::Context>;

/// The p2p identity of a member node: its member key as Commonware's ed25519 key.
pub fn peer_key(key: &MemberKey) -> ed25519::PublicKey {
    ed25519::PrivateKey::decode(Copying(&key.seed())).unwrap().public_key()
}

/// A link of a local network: a few milliseconds, always delivered.
pub fn fast_link() -> Link {
    Link { latency: Duration::from_millis(5), jitter: Duration::from_millis(1), success_rate: percent(100) }
}

pub fn percent(p: u64) -> commonware_utils::Probability {
    commonware_utils::Probability::new(p, 100).unwrap()
}

pub struct Node {
    pub chain: Arc<Mutex<Chain>>,
    pub health: Arc<Health>,
    task: Handle<()>,
}

pub struct Consortium {
    pub context: deterministic::Context,
    pub oracle: Oracle,
    pub genesis: Genesis,
    pub nodes: BTreeMap<String, Node>,
    keys: BTreeMap<String, MemberKey>,
    dir: PathBuf,
    link: Link,
}

impl Consortium {
    /// The network among the members of `genesis` (keys from `keys`), every pair linked by `link`;
    /// no node running yet.
    pub async fn new(
        context: &deterministic::Context,
        genesis: Genesis,
        keys: BTreeMap<String, MemberKey>,
        dir: PathBuf,
        link: Link,
    ) -> Consortium {
        let (network, oracle) = simulated::Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: 8 * 1024 * 1024,
                max_peers_per_set: NonZeroUsize::new(keys.len()).unwrap(),
                disconnect_on_block: true,
                tracked_peer_sets: NonZeroUsize::new(1).unwrap(),
            },
            keys.values().map(peer_key),
        )
        .await;
        network.start();
        let consortium = Consortium {
            context: context.child("consortium"),
            oracle,
            genesis,
            nodes: BTreeMap::new(),
            keys,
            dir,
            link,
        };
        let parties: Vec<String> = consortium.keys.keys().cloned().collect();
        for a in &parties {
            for b in &parties {
                if a != b {
                    consortium.link(a, b, consortium.link.clone()).await;
                }
            }
        }
        consortium
    }

    async fn link(&self, from: &str, to: &str, link: Link) {
        let (from, to) = (peer_key(&self.keys[from]), peer_key(&self.keys[to]));
        let _ = self.oracle.remove_link(from.clone(), to.clone()).await;
        self.oracle.add_link(from, to, link).await.unwrap();
    }

    /// Starts (or restarts) `party`'s node on its chain store.
    pub async fn start(&mut self, party: &str) {
        let key = MemberKey::from_seed(self.keys[party].seed());
        let chain = Chain::open(&self.dir.join(format!("{party}.redb")), self.genesis.clone()).unwrap();
        let chain = Arc::new(Mutex::new(chain));
        let control = self.oracle.control(peer_key(&key));
        let quota = Quota::per_second(NonZeroU32::new(100_000).unwrap());
        let mut registered = Vec::new();
        for channel in CHANNELS {
            registered.push(control.register(channel, quota).await.unwrap());
        }
        let channels: [_; 6] = registered.try_into().ok().unwrap();
        let config = MemberConfig {
            key,
            party_id: party.into(),
            partition: format!("consensus-{}", party.to_lowercase()),
            timing: Timing::default(),
        };
        let (sender, started) = commonware_utils::channel::oneshot::channel();
        let manager = self.oracle.manager();
        let node_chain = chain.clone();
        let task = self.context.child("member").with_attribute("party", party).spawn(move |context| async move {
            // The simulated network's peer set is the harness's, for every node: nothing to track.
            let track_members = |_: u64, _: &chargemesh_ledger::State| {};
            let channels = Channels::from(channels);
            let health =
                consensus::start(context.child("node"), node_chain, config, control, manager, channels, track_members)
                    .unwrap();
            let _ = sender.send(health);
            futures::future::pending::<()>().await;
        });
        let health = started.await.unwrap();
        self.nodes.insert(party.to_owned(), Node { chain, health, task });
    }

    /// Makes `party`'s node run with the key registered as `key` from its next start (a rotated
    /// key: the simulated network knows every key from its creation).
    pub fn rekey(&mut self, party: &str, key: &str) {
        let key = MemberKey::from_seed(self.keys[key].seed());
        self.keys.insert(party.to_owned(), key);
    }

    /// Kills `party`'s node: every task it runs stops where it is, and its memory is lost.
    pub async fn crash(&mut self, party: &str) {
        let node = self.nodes.remove(party).unwrap();
        node.task.abort();
        let _ = node.task.await;
        // Let the aborted tasks drop their hold on the chain store.
        self.context.sleep(Duration::from_millis(10)).await;
        assert_eq!(Arc::strong_count(&node.chain), 1, "a task of the crashed node still holds its chain");
    }

    /// Cuts every link between the nodes of `a` and those of `b`.
    pub async fn partition(&self, a: &[&str], b: &[&str]) {
        for x in a {
            for y in b {
                let (kx, ky) = (peer_key(&self.keys[*x]), peer_key(&self.keys[*y]));
                let _ = self.oracle.remove_link(kx.clone(), ky.clone()).await;
                let _ = self.oracle.remove_link(ky, kx).await;
            }
        }
    }

    /// Links `a` and `b` again as at the start.
    pub async fn heal(&self, a: &[&str], b: &[&str]) {
        for x in a {
            for y in b {
                self.link(x, y, self.link.clone()).await;
                self.link(y, x, self.link.clone()).await;
            }
        }
    }

    /// Submits `transactions` (canonical bytes) at `party`'s node.
    pub fn submit(&self, party: &str, transactions: &[Vec<u8>]) {
        let now = consensus_now(&self.context);
        let mut chain = self.nodes[party].chain.lock().unwrap();
        for tx in transactions {
            chain.submit(tx, now).unwrap();
        }
    }

    /// The height, head hash and state root of `party`'s node.
    pub fn head(&self, party: &str) -> (u64, Hash, Hash) {
        let chain = self.nodes[party].chain.lock().unwrap();
        (chain.head().height, chain.head().hash(), chain.head().state_root)
    }

    /// Waits (in simulated time) until `done` holds for the chain of every node in `parties`;
    /// fails the test after `limit`.
    pub async fn wait_for(&self, parties: &[&str], limit: Duration, done: impl Fn(&Chain) -> bool) {
        let deadline = self.context.current() + limit;
        loop {
            if parties.iter().all(|p| done(&self.nodes[*p].chain.lock().unwrap())) {
                return;
            }
            assert!(self.context.current() < deadline, "not done within {limit:?}: {:?}", self.heads());
            self.context.sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every running node's height and mempool size.
    pub fn heads(&self) -> BTreeMap<String, (u64, usize)> {
        self.nodes
            .iter()
            .map(|(p, n)| {
                let chain = n.chain.lock().unwrap();
                (p.clone(), (chain.head().height, chain.mempool().len()))
            })
            .collect()
    }

    /// Asserts that the nodes `parties` hold the same chain up to the lowest of their heights:
    /// the same block at every height, and the same state where their heads meet.
    pub fn assert_agree(&self, parties: &[&str]) {
        let low = parties.iter().map(|p| self.head(p).0).min().unwrap();
        let store = |p: &str| self.nodes[p].chain.clone();
        for height in 1..=low {
            let hashes: Vec<Hash> = parties
                .iter()
                .map(|p| store(p).lock().unwrap().store().block(height).unwrap().unwrap().hash())
                .collect();
            assert!(hashes.windows(2).all(|w| w[0] == w[1]), "the nodes differ at height {height}");
        }
    }

    /// Stops every task so that the chain stores are closed when the runtime returns.
    pub async fn stop(self) {
        self.context.stop(0, None).await.unwrap();
    }
}

/// The runtime's clock in Unix milliseconds.
pub fn consensus_now(context: &deterministic::Context) -> i64 {
    context.current().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}
