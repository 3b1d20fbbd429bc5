//! How this node's part in consensus is going: which validators it hears votes from, whether it
//! knows it is behind, when it last committed a block. Shown by the node's status API, and
//! recorded as metrics (finalization latency, block size).

use chargemesh_ledger::Block;
use commonware_utils::Participant;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// A validator counts as connected while its votes arrived within this long.
const HEARD_WITHIN_MS: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Votes in consensus.
    Validator,
    /// Follows the chain: checks every certificate and block, votes on nothing.
    Observer,
}

/// A snapshot of [`Health`].
#[derive(Debug, Clone, Serialize)]
pub struct NetworkStatus {
    /// The validator set consensus runs with (see `State::epoch`).
    pub epoch: u64,
    pub role: Role,
    /// The validators consensus runs with (party ids), in its order.
    pub validators: Vec<String>,
    /// The validators whose votes arrived lately (this node included when it votes).
    pub validators_heard: Vec<String>,
    /// Whether consensus finalized blocks this node does not hold yet (it is fetching them).
    pub catching_up: bool,
    /// When this node last committed a block (Unix milliseconds).
    pub last_commit_ms: Option<i64>,
}

pub struct Health {
    now: Box<dyn Fn() -> i64 + Send + Sync>,
    inner: Mutex<Inner>,
}

struct Inner {
    epoch: u64,
    role: Role,
    validators: Vec<String>,
    /// When each validator (by its index in `validators`) was last heard.
    heard: HashMap<u32, i64>,
    behind: bool,
    last_commit_ms: Option<i64>,
}

impl Health {
    /// The health of a node that has not started an epoch yet (an observer of no validators).
    pub(super) fn new(now: Box<dyn Fn() -> i64 + Send + Sync>) -> Health {
        let inner = Inner {
            epoch: 0,
            role: Role::Observer,
            validators: Vec::new(),
            heard: HashMap::new(),
            behind: false,
            last_commit_ms: None,
        };
        Health { now, inner: Mutex::new(inner) }
    }

    /// Consensus runs epoch `epoch` with `validators`, this node taking part as `role`.
    pub(super) fn enter_epoch(&self, epoch: u64, role: Role, validators: Vec<String>) {
        let mut inner = self.inner();
        inner.epoch = epoch;
        inner.role = role;
        inner.validators = validators;
        inner.heard.clear();
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("health lock")
    }

    pub(super) fn heard(&self, signer: Participant) {
        let now = (self.now)();
        self.inner().heard.insert(signer.get(), now);
    }

    /// Consensus finalized a block this node cannot commit yet.
    pub(super) fn behind(&self) {
        self.inner().behind = true;
    }

    pub(super) fn is_behind(&self) -> bool {
        self.inner().behind
    }

    /// Blocks were committed (by consensus or fetched from peers): the node is caught up with what
    /// it knew of, and each block's finalization latency (from its proposal) is recorded.
    pub(super) fn committed(&self, blocks: &[Block]) {
        let Some(last) = blocks.last() else { return };
        let now = (self.now)();
        {
            let mut inner = self.inner();
            inner.behind = false;
            inner.last_commit_ms = Some(now);
        }
        for block in blocks {
            let latency = (now - block.header.timestamp).max(0) as f64 / 1000.0;
            metrics::histogram!("ledger_finalization_latency_seconds").record(latency);
            metrics::histogram!("ledger_block_transactions").record(block.transactions.len() as f64);
            metrics::counter!("ledger_transactions_finalized_total").increment(block.transactions.len() as u64);
        }
        metrics::gauge!("ledger_height").set(last.header.height as f64);
    }

    pub(super) fn last_commit_ms(&self) -> Option<i64> {
        self.inner().last_commit_ms
    }

    pub fn snapshot(&self) -> NetworkStatus {
        let now = (self.now)();
        let inner = self.inner();
        let validators_heard: Vec<String> = inner
            .validators
            .iter()
            .enumerate()
            .filter(|(index, _)| inner.heard.get(&(*index as u32)).is_some_and(|at| now - at <= HEARD_WITHIN_MS))
            .map(|(_, party)| party.clone())
            .collect();
        NetworkStatus {
            epoch: inner.epoch,
            role: inner.role,
            validators: inner.validators.clone(),
            validators_heard,
            catching_up: inner.behind,
            last_commit_ms: inner.last_commit_ms,
        }
    }
}
