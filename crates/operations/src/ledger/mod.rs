//! The node's part in the consortium ledger: its chain (store, state, mempool), consensus running
//! in a thread of its own (voting if the member is a validator, following the chain otherwise),
//! and the feed that tells the ledger about this member's chargers, tariffs and charges.

pub mod feed;
pub mod plan;

use crate::config::LedgerConfig;
use chargemesh_chain::chain::{Chain, Reader, Snapshot};
use chargemesh_chain::consensus::status::Health;
use chargemesh_chain::consensus::{self, MemberConfig, NodeNetwork, Timing};
use chargemesh_chain::files::{self as ledger_files, GenesisRequest};
use chargemesh_chain::mempool::{Admitted, MempoolError};
use chargemesh_ledger::transaction::Action;
use chargemesh_ledger::{Genesis, Hash, MemberKey, Transaction};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct LedgerNode {
    /// The chain, locked by what writes to it (submissions, consensus); readers use [`Self::snapshot`].
    pub chain: Arc<Mutex<Chain>>,
    reader: Reader,
    pub party_id: String,
    /// Signs this member's transactions.
    key: MemberKey,
    /// What this member's driver pseudonyms are computed under.
    pseudonym_secret: [u8; 32],
    feed: Mutex<feed::FeedState>,
    /// How this node's part in consensus is going.
    pub health: Arc<Health>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl LedgerNode {
    /// Opens the chain in `dir`, the ledger's folder in the data directory (creating a one-member
    /// consortium on first start when no genesis is configured), and starts this member's validator.
    pub fn start(settings: &LedgerConfig, dir: &Path) -> Result<LedgerNode, String> {
        let genesis = load_or_create_genesis(settings, dir)?;
        let key_path = if settings.key.as_os_str().is_empty() {
            dir.join("keys").join(format!("{}.key", settings.party_id))
        } else {
            settings.key.clone()
        };
        let key = ledger_files::read_key(&key_path)?;
        let secret_path = if settings.pseudonym_secret.as_os_str().is_empty() {
            dir.join("pseudonym.secret")
        } else {
            settings.pseudonym_secret.clone()
        };
        let pseudonym_secret = ledger_files::read_or_create_secret(&secret_path)?;
        let chain = Chain::open(&dir.join("chain.redb"), genesis).map_err(|e| format!("the ledger: {e}"))?;
        check_membership(&chain, &settings.party_id, &key, &key_path)?;
        let reader = chain.reader();
        let chain = Arc::new(Mutex::new(chain));
        let member_config = MemberConfig {
            key: MemberKey::from_seed(key.seed()),
            party_id: settings.party_id.clone(),
            partition: consensus::partition(&chain.lock().expect("chain lock").state().chain()),
            timing: Timing::default(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let network = NodeNetwork { storage_dir: dir.join("consensus"), listen: settings.p2p_listen };
        // The registry says whether this member votes; consensus' own status learns it only once it
        // enters the epoch, after this line.
        let role = consensus::role(chain.lock().expect("chain lock").state(), &member_config.key);
        let running = consensus::run_in_thread(chain.clone(), member_config, network, stop.clone())?;
        tracing::info!(party_id = %settings.party_id, p2p = %settings.p2p_listen, ?role, "ledger node running");
        Ok(LedgerNode {
            chain,
            reader,
            party_id: settings.party_id.clone(),
            key,
            pseudonym_secret,
            feed: Mutex::default(),
            health: running.health,
            stop,
            thread: Mutex::new(Some(running.thread)),
        })
    }

    /// The chain as of its last finalized block, without the chain's lock.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.reader.snapshot()
    }

    /// Transactions waiting for a block, and the highest block this node has heard of.
    pub fn pending(&self) -> Pending {
        let chain = self.chain.lock().expect("chain lock");
        Pending { mempool: chain.mempool().len(), highest_known: chain.highest_known() }
    }

    /// Whether transaction `id` waits in the mempool.
    pub fn is_waiting(&self, id: &Hash) -> bool {
        self.chain.lock().expect("chain lock").mempool().contains(id)
    }

    /// Queues a transaction signed elsewhere, given in its canonical encoding.
    pub fn submit(&self, bytes: &[u8]) -> Result<(Hash, Admitted), MempoolError> {
        self.chain.lock().expect("chain lock").submit(bytes, now_ms())
    }

    /// Signs `action` as this member, with its next nonce, and queues it.
    pub fn send(&self, action: Action) -> Result<(Hash, Admitted), MempoolError> {
        let mut chain = self.chain.lock().expect("chain lock");
        send_as(&mut chain, &self.party_id, &self.key, action, now_ms())
    }

    /// How this member's driver with `id_token` appears to member `counterpart`.
    pub fn pseudonym(&self, counterpart: &str, id_token: &str) -> String {
        chargemesh_core::pseudonym::pseudonym(&self.pseudonym_secret, counterpart, id_token)
    }

    /// The key that signs this member's transactions and its requests to other members.
    pub fn member_key(&self) -> &MemberKey {
        &self.key
    }

    /// Stops the validator and waits for its thread.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.lock().expect("thread lock").take() {
            let _ = thread.join();
        }
    }
}

/// What is not final yet: transactions waiting and the highest block heard of.
pub struct Pending {
    pub mempool: usize,
    pub highest_known: u64,
}

/// The member's key must be the one the ledger holds for it. A party the ledger does not know
/// (yet) runs an observer node: it follows the chain, and takes its part once governance admits
/// it with this key.
fn check_membership(chain: &Chain, party_id: &str, key: &MemberKey, key_path: &Path) -> Result<(), String> {
    match chain.state().member(party_id) {
        Some(member) if member.record.public_key != key.public_key() => Err(format!(
            "{} is not the key the ledger holds for {party_id}; use the member's current key",
            key_path.display()
        )),
        Some(_) => Ok(()),
        None => {
            tracing::warn!(
                party_id,
                public_key = %hex::encode(key.public_key().0),
                "ledger.party_id is not a member of this consortium (yet): following the chain until governance admits it with this key"
            );
            Ok(())
        }
    }
}

/// Signs `action` as `party` with its next nonce (after those queued) and queues it on `chain`.
pub(crate) fn send_as(
    chain: &mut Chain,
    party: &str,
    key: &MemberKey,
    action: Action,
    now_ms: i64,
) -> Result<(Hash, Admitted), MempoolError> {
    let nonce = chain.mempool().next_nonce(chain.state(), party);
    let tx = Transaction { chain: chain.state().chain(), sender: party.to_owned(), nonce, action }.sign(key);
    chain.submit(&tx.encode(), now_ms)
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn load_or_create_genesis(settings: &LedgerConfig, dir: &Path) -> Result<Genesis, String> {
    let configured = !settings.genesis.as_os_str().is_empty();
    let path: PathBuf = if configured { settings.genesis.clone() } else { dir.join("genesis.json") };
    if !path.exists() {
        if configured {
            return Err(format!("ledger.genesis {} does not exist", path.display()));
        }
        create_solo_consortium(settings, &path)?;
    }
    ledger_files::read_genesis(&path)
}

/// A consortium of this member alone, so that a node on its own records its chargers, tariffs and
/// charges the same way a member of a larger consortium does.
fn create_solo_consortium(settings: &LedgerConfig, genesis: &Path) -> Result<(), String> {
    let party = &settings.party_id;
    let request = GenesisRequest {
        chain_name: format!("chargemesh-{}", party.to_lowercase()),
        members: vec![party.clone()],
        start: jiff::Timestamp::now(),
        clearing_period: std::time::Duration::from_secs(24 * 3600),
        endpoint_template: "https://{party}.members.invalid/ocpi".into(),
        p2p: None,
        out: genesis.parent().unwrap_or(Path::new(".")).to_owned(),
    };
    ledger_files::create_genesis(&request)?;
    tracing::warn!(file = %genesis.display(), "created a one-member consortium ledger for {party}");
    Ok(())
}
