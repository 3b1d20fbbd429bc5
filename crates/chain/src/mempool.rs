//! Transactions waiting for a block: each admitted once (by id), checked against the state they
//! will meet (the chain's state with the queued transactions applied), and offered to the block
//! builder in nonce order per sender.

use chargemesh_ledger::block::CheckedSignatures;
use chargemesh_ledger::keys::verify_all;
use chargemesh_ledger::state::{Context, Rejection, State};
use chargemesh_ledger::transaction::SignedTransaction;
use chargemesh_ledger::{Hash, PublicKey, codec};
use std::collections::{BTreeMap, HashMap};

/// How many transactions one sender may queue ahead of the chain.
pub const MAX_QUEUED_PER_SENDER: usize = 10_000;
/// The most queued transactions checked again after every block (see [`Mempool::drop_stale`]).
pub const STALE_CHECK_MAX: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    #[error("the transaction cannot be read: {0}")]
    Malformed(String),
    #[error("the transaction is larger than {} bytes", codec::MAX_TRANSACTION_BYTES)]
    TooLarge,
    #[error("{0}")]
    Rejected(Rejection),
    #[error("nonce {nonce} of {sender} is already queued by another transaction")]
    NonceTaken { sender: String, nonce: u64 },
    #[error("{sender} has {queued} transactions queued; wait for them to be included")]
    Full { sender: String, queued: usize },
}

impl MempoolError {
    /// A stable code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            MempoolError::Malformed(_) => "malformed_transaction",
            MempoolError::TooLarge => "transaction_too_large",
            MempoolError::Rejected(rejection) => rejection.code(),
            MempoolError::NonceTaken { .. } => "nonce_taken",
            MempoolError::Full { .. } => "mempool_full",
        }
    }
}

/// Whether an admitted transaction is new or was queued already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    Queued,
    AlreadyQueued,
}

/// The queued transactions, and the state they lead to.
///
/// The state passed to [`Mempool::admit`] must be the same from one [`Mempool::prune`] to the next
/// (the chain prunes whenever its state moves): admission checks against a copy of it with every
/// queued transaction applied, made once after each prune rather than once per transaction.
#[derive(Default)]
pub struct Mempool {
    by_sender: BTreeMap<String, BTreeMap<u64, SignedTransaction>>,
    ids: HashMap<Hash, Queued>,
    queued_state: Option<State>,
    /// The latest time a transaction was admitted at (Unix ms): what a queued transaction is judged
    /// at again after a block.
    latest_admission_ms: i64,
}

/// Where a queued transaction sits, and the key its signature was checked against.
struct Queued {
    sender: String,
    nonce: u64,
    key: PublicKey,
}

impl CheckedSignatures for Mempool {
    fn checked(&self, id: &Hash, key: &PublicKey) -> bool {
        self.ids.get(id).is_some_and(|queued| queued.key == *key)
    }
}

impl Mempool {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains(&self, id: &Hash) -> bool {
        self.ids.contains_key(id)
    }

    /// The nonce `sender`'s next transaction takes: one after its last queued, or after the state's.
    pub fn next_nonce(&self, state: &State, sender: &str) -> u64 {
        let used = state.member(sender).map_or(0, |m| m.nonce);
        let queued = self.by_sender.get(sender).and_then(|q| q.keys().next_back().copied()).unwrap_or(0);
        used.max(queued) + 1
    }

    /// Decodes and admits a transaction from its canonical bytes.
    pub fn admit_bytes(
        &mut self,
        bytes: &[u8],
        state: &State,
        context: Context,
    ) -> Result<(Hash, Admitted), MempoolError> {
        if bytes.len() > codec::MAX_TRANSACTION_BYTES {
            return Err(MempoolError::TooLarge);
        }
        let tx = SignedTransaction::decode(bytes).map_err(|e| MempoolError::Malformed(e.to_string()))?;
        let id = tx.id();
        self.admit(tx, state, context).map(|admitted| (id, admitted))
    }

    /// Admits many transactions, given in their canonical bytes, as [`admit_bytes`](Self::admit_bytes)
    /// would one after the other, but with their signatures checked in one batch (another node's
    /// forwarded batch). If the batch fails, each is checked alone, so one bad signature costs
    /// the others nothing.
    pub fn admit_batch(
        &mut self,
        batch: &[Vec<u8>],
        state: &State,
        context: Context,
    ) -> Vec<Result<(Hash, Admitted), MempoolError>> {
        let decoded: Vec<Result<SignedTransaction, MempoolError>> = batch
            .iter()
            .map(|bytes| {
                if bytes.len() > codec::MAX_TRANSACTION_BYTES {
                    return Err(MempoolError::TooLarge);
                }
                SignedTransaction::decode(bytes).map_err(|e| MempoolError::Malformed(e.to_string()))
            })
            .collect();
        let fresh: Vec<(&SignedTransaction, PublicKey, Vec<u8>)> = decoded
            .iter()
            .filter_map(|tx| tx.as_ref().ok())
            // Forwarded again while it waits: already queued here, nothing to check.
            .filter(|tx| !self.ids.contains_key(&tx.id()))
            .filter_map(|tx| {
                let key = state.member(&tx.transaction.sender)?.record.public_key;
                Some((tx, key, tx.transaction.signing_message()))
            })
            .collect();
        let items: Vec<_> = fresh.iter().map(|(tx, key, message)| (message.as_slice(), tx.signature, *key)).collect();
        let batch_checked = !items.is_empty() && verify_all(&items);
        decoded
            .into_iter()
            .map(|tx| {
                let tx = tx?;
                let id = tx.id();
                let checked_key = batch_checked.then(|| state.member(&tx.transaction.sender)).flatten();
                let checked_key = checked_key.map(|member| member.record.public_key);
                self.admit_checked(tx, state, context, checked_key).map(|admitted| (id, admitted))
            })
            .collect()
    }

    /// Admits `tx` if it would apply after the sender's queued transactions with lower nonces, on
    /// `state` (the chain's head) at `context`'s height and time. A transaction queued already is
    /// admitted again without change.
    pub fn admit(&mut self, tx: SignedTransaction, state: &State, context: Context) -> Result<Admitted, MempoolError> {
        self.admit_checked(tx, state, context, None)
    }

    /// [`admit`](Self::admit), the signature having been checked against `checked_key` already.
    fn admit_checked(
        &mut self,
        tx: SignedTransaction,
        state: &State,
        context: Context,
        checked_key: Option<PublicKey>,
    ) -> Result<Admitted, MempoolError> {
        let id = tx.id();
        if self.ids.contains_key(&id) {
            return Ok(Admitted::AlreadyQueued);
        }
        self.latest_admission_ms = self.latest_admission_ms.max(context.timestamp);
        let sender = tx.transaction.sender.clone();
        let nonce = tx.transaction.nonce;
        let queued = self.by_sender.get(&sender);
        if queued.is_some_and(|q| q.contains_key(&nonce)) {
            return Err(MempoolError::NonceTaken { sender, nonce });
        }
        let count = queued.map_or(0, BTreeMap::len);
        if count >= MAX_QUEUED_PER_SENDER {
            return Err(MempoolError::Full { sender, queued: count });
        }
        if self.queued_state.is_none() {
            let mut queued_state = state.clone();
            for earlier in self.candidates(state, usize::MAX) {
                let id = earlier.id();
                let context = Context { transaction: id, ..context };
                let key = queued_state.member(&earlier.transaction.sender).map(|m| m.record.public_key);
                // A queued transaction that no longer applies will be dropped by the builder; the
                // new one is judged on what remains. Signatures were checked on admission.
                let _ = match key {
                    Some(key) if self.checked(&id, &key) => queued_state.apply_verified(&earlier, context),
                    _ => queued_state.apply(&earlier, context),
                };
            }
            self.queued_state = Some(queued_state);
        }
        let queued_state = self.queued_state.as_mut().expect("made above");
        let context = Context { transaction: id, ..context };
        // The key the queued transactions lead to may differ from the one checked (a key rotation
        // queued before this transaction).
        let key = queued_state.member(&sender).map(|m| m.record.public_key);
        // A rejected transaction changes nothing, so the queued state stays as it was.
        match key {
            Some(key) if checked_key == Some(key) => queued_state.apply_verified(&tx, context),
            _ => queued_state.apply(&tx, context),
        }
        .map_err(MempoolError::Rejected)?;
        let key = key.expect("a transaction applied, so its sender is a member");
        self.ids.insert(id, Queued { sender: sender.clone(), nonce, key });
        self.by_sender.entry(sender).or_default().insert(nonce, tx);
        Ok(Admitted::Queued)
    }

    /// Whether some queued transaction can follow `state` (a sender's next nonce is queued).
    pub fn has_candidates(&self, state: &State) -> bool {
        self.by_sender.iter().any(|(sender, queued)| {
            state.member(sender).is_some_and(|m| queued.contains_key(&m.nonce.saturating_add(1)))
        })
    }

    /// Up to `limit` of the queued transactions that can follow `state`: for each sender, its run of
    /// consecutive nonces after the state's, senders taking turns so that no one member fills a
    /// block.
    pub fn candidates(&self, state: &State, limit: usize) -> Vec<SignedTransaction> {
        let mut runs: Vec<Vec<&SignedTransaction>> = self
            .by_sender
            .iter()
            .filter_map(|(sender, queued)| {
                let mut next = state.member(sender)?.nonce + 1;
                let run: Vec<&SignedTransaction> = queued
                    .range(next..)
                    .take_while(|(nonce, _)| {
                        let consecutive = **nonce == next;
                        next += 1;
                        consecutive
                    })
                    .take(limit)
                    .map(|(_, tx)| tx)
                    .collect();
                (!run.is_empty()).then_some(run)
            })
            .collect();
        let longest = runs.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum::<usize>().min(limit));
        for i in 0..longest {
            for run in &mut runs {
                if out.len() == limit {
                    return out;
                }
                if let Some(tx) = run.get(i) {
                    out.push((*tx).clone());
                }
            }
        }
        out
    }

    /// Drops the queued transactions that no longer apply on `state` (a block took their effect
    /// away: another member closed the same clearing period first), with their senders' later
    /// ones. A node that builds no blocks would otherwise keep them, and the feed that submitted
    /// them wait on them, forever. Judged at `context`, or at the latest admission if later; skipped
    /// above [`STALE_CHECK_MAX`] queued, where a busy validator's builder drops them anyway.
    pub fn drop_stale(&mut self, state: &State, context: Context) {
        if self.ids.is_empty() || self.ids.len() > STALE_CHECK_MAX {
            return;
        }
        let context = Context { timestamp: context.timestamp.max(self.latest_admission_ms), ..context };
        let mut queued_state = state.clone();
        let mut stale = Vec::new();
        for tx in self.candidates(state, usize::MAX) {
            let id = tx.id();
            let context = Context { transaction: id, ..context };
            let key = queued_state.member(&tx.transaction.sender).map(|m| m.record.public_key);
            let applied = match key {
                Some(key) if self.checked(&id, &key) => queued_state.apply_verified(&tx, context),
                _ => queued_state.apply(&tx, context),
            };
            if applied.is_err() {
                stale.push(id);
            }
        }
        if stale.is_empty() {
            self.queued_state = Some(queued_state);
        } else {
            self.prune(state, &stale);
        }
    }

    /// Drops what `state` has made obsolete: transactions whose nonce its sender has used, and
    /// those `rejected` by a block builder together with the same sender's later ones, which were
    /// admitted on the rejected one's effects.
    pub fn prune(&mut self, state: &State, rejected: &[Hash]) {
        self.queued_state = None;
        let mut cut: HashMap<String, u64> = HashMap::new();
        for id in rejected {
            if let Some(Queued { sender, nonce, .. }) = self.ids.get(id) {
                let lowest = cut.entry(sender.clone()).or_insert(*nonce);
                *lowest = (*lowest).min(*nonce);
            }
        }
        let ids = &mut self.ids;
        self.by_sender.retain(|sender, queued| {
            let used = state.member(sender).map_or(u64::MAX, |m| m.nonce);
            let mut keep = queued.split_off(&used.saturating_add(1));
            if let Some(from) = cut.get(sender) {
                let dropped = keep.split_off(from);
                queued.extend(dropped);
            }
            for tx in queued.values() {
                ids.remove(&tx.id());
            }
            *queued = keep;
            !queued.is_empty()
        });
    }
}
