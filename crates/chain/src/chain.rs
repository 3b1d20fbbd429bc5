//! One validator's view of the chain: the finalized blocks on disk and the state after them, the
//! blocks proposed on top that consensus has not finalized yet (each with the state after it), and
//! the mempool. The consensus adapter drives it: propose, verify, finalize. Nothing here knows the
//! consensus engine, so it is tested on its own and a change of engine leaves it alone.

use crate::chain_store::{ChainStore, ChainStoreError};
use crate::mempool::{Admitted, Mempool, MempoolError};
use chargemesh_ledger::Hash;
use chargemesh_ledger::block::{self, Block, BlockError, Header};
use chargemesh_ledger::genesis::Genesis;
use chargemesh_ledger::state::{Context, State};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Store(#[from] ChainStoreError),
    #[error("block {} is unknown here", hex::encode(.0))]
    UnknownBlock(Hash),
    #[error("block {}: {error}", hex::encode(hash))]
    Invalid { hash: Hash, error: Box<BlockError> },
    #[error("block {} was finalized on a different parent than the chain's", hex::encode(.0))]
    Fork(Hash),
    /// The block changed the validator set: the validators of the epoch that built it build
    /// nothing on it; the next epoch's do.
    #[error("block {} ends epoch {epoch}: the next validator set builds on it", hex::encode(block))]
    EpochOver { block: Hash, epoch: u64 },
    /// Finalized blocks fetched from a peer do not check out.
    #[error("fetched blocks: {0}")]
    BadSegment(String),
}

/// Finalized blocks and the one certificate that finalizes the last of them.
pub type Segment = (Vec<Block>, Vec<u8>);

/// How far above the head a relayed block may be and still be kept for verification.
const RECEIVE_AHEAD: u64 = 64;
/// The most blocks one fetched segment (blocks finalized by one certificate) may hold.
pub const MAX_SEGMENT_BLOCKS: usize = 256;

/// What a validator says of a proposed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid(String),
    /// The block (or its parent) is not here yet: ask again when it arrives.
    Unknown,
}

/// A block not yet finalized and the state after it.
struct Pending {
    block: Block,
    state: State,
}

/// The chain as of its last finalized block, read without the chain's lock: that block's header,
/// the state after it (`State` shares its maps, so the copy is cheap) and the chain store (redb
/// reads while the chain writes; a block is stored before its snapshot is published).
pub struct Snapshot {
    head: Header,
    state: State,
    store: Arc<ChainStore>,
    genesis: Arc<Genesis>,
}

impl Snapshot {
    pub fn head(&self) -> &Header {
        &self.head
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Finalized blocks, certificates and transaction locations on disk.
    pub fn store(&self) -> &ChainStore {
        &self.store
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }
}

/// Hands out the latest [`Snapshot`], replaced whole when a block is final. Cloned freely.
#[derive(Clone)]
pub struct Reader {
    latest: Arc<RwLock<Arc<Snapshot>>>,
}

impl Reader {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.latest.read().expect("snapshot lock").clone()
    }

    fn publish(&self, head: &Header, state: &State) {
        let mut latest = self.latest.write().expect("snapshot lock");
        let next = Snapshot {
            head: head.clone(),
            state: state.clone(),
            store: latest.store.clone(),
            genesis: latest.genesis.clone(),
        };
        *latest = Arc::new(next);
    }
}

pub struct Chain {
    genesis: Genesis,
    genesis_header: Header,
    store: Arc<ChainStore>,
    reader: Reader,
    head: Header,
    state: State,
    pending: HashMap<Hash, Pending>,
    /// Blocks other validators relayed, not yet verified: in memory only, so that nothing a peer
    /// sends reaches the disk before it checks out.
    received: HashMap<Hash, Block>,
    mempool: Mempool,
    /// Transactions submitted here, waiting to be forwarded to the other members' nodes; `None`
    /// when nobody forwards them (a chain without a network).
    outgoing: Option<Vec<Vec<u8>>>,
    /// What was submitted here and forwarded, by id, until a block holds it.
    forwarded: HashMap<Hash, Vec<u8>>,
}

impl Chain {
    /// Opens the chain store at `path` for `genesis` and rebuilds the state by replaying it.
    pub fn open(path: &Path, genesis: Genesis) -> Result<Chain, ChainError> {
        let store = Arc::new(ChainStore::open(path)?);
        let (state, head) = store.replay(&genesis)?;
        let mut genesis_state = State::from_genesis(&genesis).map_err(ChainStoreError::Storage)?;
        let genesis_header = Header::genesis(&mut genesis_state, genesis.timestamp_ms);
        let first = Snapshot {
            head: head.clone(),
            state: state.clone(),
            store: store.clone(),
            genesis: Arc::new(genesis.clone()),
        };
        let reader = Reader { latest: Arc::new(RwLock::new(Arc::new(first))) };
        Ok(Chain {
            genesis,
            genesis_header,
            store,
            reader,
            head,
            state,
            pending: HashMap::new(),
            received: HashMap::new(),
            mempool: Mempool::default(),
            outgoing: None,
            forwarded: HashMap::new(),
        })
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The hash consensus starts from: the genesis header's.
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_header.hash()
    }

    /// The last finalized block's header (the genesis header before the first block).
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// The state after the last finalized block.
    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn store(&self) -> &ChainStore {
        &self.store
    }

    /// A reader of the finalized chain that needs no lock on this one.
    pub fn reader(&self) -> Reader {
        self.reader.clone()
    }

    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// The last stored finalization certificate, if any block is finalized.
    pub fn last_certificate(&self) -> Result<Option<Vec<u8>>, ChainError> {
        if self.head.height == 0 {
            return Ok(None);
        }
        Ok(self.store.certificate(self.head.height)?)
    }

    /// Admits a transaction, given in its canonical bytes, to the mempool if it would apply on the
    /// head's state at time `now_ms`.
    pub fn submit(&mut self, bytes: &[u8], now_ms: i64) -> Result<(Hash, Admitted), MempoolError> {
        let context = self.next_context(now_ms);
        let admitted = self.mempool.admit_bytes(bytes, &self.state, context)?;
        if let (Some(outgoing), (id, Admitted::Queued)) = (&mut self.outgoing, admitted) {
            outgoing.push(bytes.to_vec());
            self.forwarded.insert(id, bytes.to_vec());
        }
        Ok(admitted)
    }

    /// Admits a batch of transactions another member's node forwarded, their signatures checked
    /// in one batch (they are not forwarded again).
    pub fn submit_forwarded_batch(
        &mut self,
        batch: &[Vec<u8>],
        now_ms: i64,
    ) -> Vec<Result<(Hash, Admitted), MempoolError>> {
        let context = self.next_context(now_ms);
        self.mempool.admit_batch(batch, &self.state, context)
    }

    /// From now on, keeps what [`submit`](Self::submit) admits for [`take_outgoing`](Self::take_outgoing).
    pub fn forward_submissions(&mut self) {
        self.outgoing.get_or_insert_with(Vec::new);
    }

    /// The transactions submitted here since the last call, to forward to the other nodes.
    pub fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        self.outgoing.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Up to `limit` of the transactions submitted here that still wait for a block, to forward
    /// again: a node that was not connected when they were first sent (or lost them) gets them.
    pub fn still_waiting_submissions(&mut self, limit: usize) -> Vec<Vec<u8>> {
        let mempool = &self.mempool;
        self.forwarded.retain(|id, _| mempool.contains(id));
        self.forwarded.values().take(limit).cloned().collect()
    }

    /// The height of the highest block this node proposed or verified, finalized or not.
    pub fn highest_known(&self) -> u64 {
        self.pending.values().map(|p| p.block.header.height).max().unwrap_or(0).max(self.head.height)
    }

    /// A block this node proposed, or has verified, by its hash (to relay it).
    pub fn proposed_block(&self, hash: &Hash) -> Option<&Block> {
        self.pending.get(hash).map(|p| &p.block)
    }

    /// Keeps a block another validator relayed, for verification when consensus asks. `proposer`
    /// is the key of the node it came from, which must be the key of the validator the block names
    /// as its proposer. Blocks at or below the head, or far above it, are ignored.
    pub fn receive_block(&mut self, block: Block, sender: &chargemesh_ledger::PublicKey) -> Result<(), String> {
        let height = block.header.height;
        if height <= self.head.height || height > self.head.height + RECEIVE_AHEAD {
            return Ok(());
        }
        let proposer = self.state.member(&block.header.proposer);
        if !proposer.is_some_and(|m| m.active && m.record.validator && m.record.public_key == *sender) {
            return Err(format!("a block naming {} as proposer, sent by another node", block.header.proposer));
        }
        let hash = block.hash();
        if !self.pending.contains_key(&hash) {
            self.received.insert(hash, block);
        }
        Ok(())
    }

    fn next_context(&self, now_ms: i64) -> Context {
        Context { height: self.head.height + 1, timestamp: now_ms.max(self.head.timestamp), transaction: [0; 32] }
    }

    /// Whether the mempool holds transactions that could follow block `parent` in `epoch`.
    pub fn has_candidates(&mut self, parent: &Hash, epoch: u64) -> Result<bool, ChainError> {
        if self.mempool.is_empty() {
            return Ok(false);
        }
        let (state, _) = self.state_in_epoch(parent, epoch)?;
        Ok(self.mempool.has_candidates(&state))
    }

    /// Builds a block of `epoch` on `parent` from the mempool, keeps it durably, and returns its
    /// hash.
    pub fn propose(&mut self, parent: Hash, epoch: u64, proposer: &str, now_ms: i64) -> Result<Hash, ChainError> {
        let (state, header) = self.state_in_epoch(&parent, epoch)?;
        let candidates = self.mempool.candidates(&state, state.parameters().max_block_transactions as usize);
        let built = block::build_with(&state, &header, proposer, now_ms, candidates, &self.mempool);
        let rejected: Vec<Hash> = built.rejected.iter().map(|(id, _)| *id).collect();
        if !rejected.is_empty() {
            self.mempool.prune(&self.state, &rejected);
        }
        let hash = built.block.hash();
        self.store.put_proposal(&built.block)?;
        self.pending.insert(hash, Pending { block: built.block, state: built.state });
        Ok(hash)
    }

    /// Checks the block `hash` proposed in `epoch` on `parent`: its links, every transaction, its
    /// roots, and a timestamp no further than the parameters allow ahead of `now_ms`. A valid block
    /// is kept durably before the verdict is given.
    pub fn verify(&mut self, parent: Hash, hash: Hash, epoch: u64, now_ms: i64) -> Result<Verdict, ChainError> {
        match self.state_in_epoch(&parent, epoch) {
            Ok(_) => {}
            Err(ChainError::UnknownBlock(_)) => return Ok(Verdict::Unknown),
            Err(e @ ChainError::EpochOver { .. }) => return Ok(Verdict::Invalid(e.to_string())),
            Err(e) => return Err(e),
        }
        let block = match self.pending_block(&hash) {
            Ok(block) => block,
            Err(ChainError::UnknownBlock(_)) => return Ok(Verdict::Unknown),
            Err(e) => return Err(e),
        };
        if block.header.parent != parent {
            return Ok(Verdict::Invalid("the block names another parent than the proposal".into()));
        }
        let drift = self.state.parameters().max_timestamp_drift_ms;
        if block.header.timestamp > now_ms.saturating_add(drift) {
            return Ok(Verdict::Invalid(format!("timestamp {} is ahead of this clock", block.header.timestamp)));
        }
        match self.execute_pending(block) {
            Ok(()) => Ok(Verdict::Valid),
            Err(ChainError::UnknownBlock(_)) => Ok(Verdict::Unknown),
            Err(ChainError::Invalid { error, .. }) => Ok(Verdict::Invalid(error.to_string())),
            Err(e) => Err(e),
        }
    }

    /// Commits the finalized block `hash` (and any of its not yet committed ancestors, which its
    /// finalization finalizes too) with `certificate`. Finalizing a block already committed changes
    /// nothing. Returns the blocks committed now.
    pub fn finalize(&mut self, hash: Hash, certificate: &[u8]) -> Result<Vec<Block>, ChainError> {
        if self.is_committed(&hash)? {
            return Ok(Vec::new());
        }
        let mut route = Vec::new();
        let mut cursor = hash;
        while cursor != self.head.hash() {
            let block = self.pending_block(&cursor)?;
            if block.header.height <= self.head.height {
                return Err(ChainError::Fork(hash));
            }
            cursor = block.header.parent;
            route.push(block);
        }
        route.reverse();
        for block in &route {
            self.execute_pending(block.clone())?;
        }
        self.store.append(&route, certificate)?;
        let last = self.pending.remove(&hash).expect("executed above");
        self.head = last.block.header;
        self.state = last.state;
        self.reader.publish(&self.head, &self.state);
        self.forget_below_head();
        Ok(route)
    }

    fn forget_below_head(&mut self) {
        let height = self.head.height;
        self.pending.retain(|_, p| p.block.header.height > height);
        self.received.retain(|_, b| b.header.height > height);
        self.mempool.prune(&self.state, &[]);
        let context = Context { height: height + 1, timestamp: self.head.timestamp, transaction: [0; 32] };
        self.mempool.drop_stale(&self.state, context);
    }

    /// The finalized blocks from `height` up to the one its certificate finalizes (blocks finalized
    /// together share a certificate), and that certificate: what a node behind fetches to catch up.
    pub fn segment(&self, height: u64) -> Result<Option<Segment>, ChainError> {
        let Some(certificate) = self.store.certificate(height)? else { return Ok(None) };
        let mut blocks = Vec::new();
        let mut next = height;
        while blocks.len() < MAX_SEGMENT_BLOCKS {
            match self.store.block(next)? {
                Some(block) => blocks.push(block),
                None => break,
            }
            if self.store.certificate(next + 1)?.is_none_or(|c| c != certificate) {
                break;
            }
            next += 1;
        }
        Ok(Some((blocks, certificate)))
    }

    /// Commits finalized blocks fetched from a peer: they must follow the head, each must execute,
    /// and `certificate` must finalize the last of them, as `certified` (given the state the last
    /// block was built on) finds. Nothing is committed unless all of it checks out.
    pub fn commit_segment(
        &mut self,
        blocks: &[Block],
        certificate: &[u8],
        certified: impl FnOnce(&State, &[u8]) -> Result<Hash, String>,
    ) -> Result<(), ChainError> {
        let bad = |why: String| Err(ChainError::BadSegment(why));
        let Some(last) = blocks.last() else { return bad("no blocks".into()) };
        if blocks.len() > MAX_SEGMENT_BLOCKS {
            return bad(format!("more than {MAX_SEGMENT_BLOCKS} blocks"));
        }
        let mut states = Vec::with_capacity(blocks.len());
        let mut parent = &self.head;
        for block in blocks {
            let before = states.last().unwrap_or(&self.state);
            let (next, _) = block::execute_with(before, parent, block, &self.mempool)
                .map_err(|e| ChainError::BadSegment(format!("block {}: {e}", block.header.height)))?;
            states.push(next);
            parent = &block.header;
        }
        let built_on = if states.len() > 1 { &states[states.len() - 2] } else { &self.state };
        match certified(built_on, certificate) {
            Ok(hash) if hash == last.hash() => {}
            Ok(_) => return bad("the certificate finalizes another block".into()),
            Err(why) => return bad(why),
        }
        self.store.append(blocks, certificate)?;
        self.head = last.header.clone();
        self.state = states.pop().expect("one per block");
        self.reader.publish(&self.head, &self.state);
        self.forget_below_head();
        Ok(())
    }

    fn is_committed(&self, hash: &Hash) -> Result<bool, ChainError> {
        Ok(*hash == self.genesis_hash() || self.store.height_of(hash)?.is_some())
    }

    fn pending_block(&self, hash: &Hash) -> Result<Block, ChainError> {
        if let Some(block) = self.pending.get(hash).map(|p| &p.block).or_else(|| self.received.get(hash)) {
            return Ok(block.clone());
        }
        self.store.proposal(hash)?.ok_or(ChainError::UnknownBlock(*hash))
    }

    /// Executes `block` on its parent's state unless done already, and keeps it (durably too).
    fn execute_pending(&mut self, block: Block) -> Result<(), ChainError> {
        let hash = block.hash();
        if self.pending.contains_key(&hash) {
            return Ok(());
        }
        let (state, parent) = self.state_after(&block.header.parent)?;
        let (next, _) = block::execute_with(&state, &parent, &block, &self.mempool)
            .map_err(|error| ChainError::Invalid { hash, error: Box::new(error) })?;
        self.store.put_proposal(&block)?;
        self.received.remove(&hash);
        self.pending.insert(hash, Pending { block, state: next });
        Ok(())
    }

    /// The state after block `parent` and its header, if blocks of `epoch` may follow it.
    fn state_in_epoch(&mut self, parent: &Hash, epoch: u64) -> Result<(State, Header), ChainError> {
        let (state, header) = self.state_after(parent)?;
        if state.epoch() != epoch {
            return Err(ChainError::EpochOver { block: *parent, epoch });
        }
        Ok((state, header))
    }

    /// The state after block `hash` and its header: the head, the genesis, or a pending block
    /// (executed on its own parent first if it was only kept on disk).
    fn state_after(&mut self, hash: &Hash) -> Result<(State, Header), ChainError> {
        if *hash == self.head.hash() {
            return Ok((self.state.clone(), self.head.clone()));
        }
        if !self.pending.contains_key(hash) {
            let block = self.pending_block(hash)?;
            if block.header.height <= self.head.height {
                return Err(ChainError::UnknownBlock(*hash));
            }
            self.execute_pending(block)?;
        }
        let pending = &self.pending[hash];
        Ok((pending.state.clone(), pending.block.header.clone()))
    }
}
