//! The ledger explorer's reads of the chain this node validates: finalized blocks and
//! transactions, CDRs with their inclusion proofs, and the disputes this member is a party to.
//! Each read is of one snapshot, never under the chain's lock.

use crate::ledger::LedgerNode;
use chargemesh_chain::chain_store::ChainStoreError;
use chargemesh_chain::proof;
use chargemesh_ledger::proof::CdrProof;
use chargemesh_ledger::state::{CdrEntry, CdrStatus};
use chargemesh_ledger::{Block, Hash, SignedTransaction};

/// Why a read of the chain failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainReadError {
    #[error(transparent)]
    Store(#[from] ChainStoreError),
    /// The chain says block `0` is final, but the chain's store does not hold it.
    #[error("block {0} is missing")]
    MissingBlock(u64),
}

/// Where a transaction is.
pub enum TransactionPlace {
    /// In finalized block `height`, at `index`.
    Finalized { transaction: Box<SignedTransaction>, height: u64, index: u32 },
    /// In the mempool, waiting for a block.
    Waiting,
    /// Neither on the chain nor waiting.
    Unknown,
}

impl LedgerNode {
    /// Up to `limit` finalized blocks below height `before` (the head's and below by default),
    /// newest first.
    pub fn blocks_before(&self, before: Option<u64>, limit: u64) -> Result<Vec<Block>, ChainReadError> {
        let chain = self.snapshot();
        let top = before.unwrap_or(u64::MAX).min(chain.head().height + 1);
        let mut blocks = Vec::new();
        for height in (top.saturating_sub(limit).max(1)..top).rev() {
            blocks.push(chain.store().block(height)?.ok_or(ChainReadError::MissingBlock(height))?);
        }
        Ok(blocks)
    }

    /// Finalized block `height` with its finalization certificate (empty when none is kept).
    pub fn block_with_certificate(&self, height: u64) -> Result<Option<(Block, Vec<u8>)>, ChainStoreError> {
        let chain = self.snapshot();
        let Some(block) = chain.store().block(height)? else { return Ok(None) };
        let certificate = chain.store().certificate(height)?.unwrap_or_default();
        Ok(Some((block, certificate)))
    }

    /// Where transaction `id` is, with the transaction once it is final.
    pub fn transaction_place(&self, id: &Hash) -> Result<TransactionPlace, ChainReadError> {
        let chain = self.snapshot();
        let Some((height, index)) = chain.store().transaction_location(id)? else {
            return Ok(if self.is_waiting(id) { TransactionPlace::Waiting } else { TransactionPlace::Unknown });
        };
        let block = chain.store().block(height)?.ok_or(ChainReadError::MissingBlock(height))?;
        let transaction = Box::new(block.transactions[index as usize].clone());
        Ok(TransactionPlace::Finalized { transaction, height, index })
    }

    /// Anchored CDR `cdr_id` of member `cpo` with its inclusion proof; `None` when it is not
    /// anchored, an error (the reason) when the proof cannot be built.
    pub fn cdr_with_proof(&self, cpo: &str, cdr_id: &str) -> Result<Option<(CdrEntry, CdrProof)>, String> {
        let chain = self.snapshot();
        let Some(entry) = chain.state().cdr(cpo, cdr_id).cloned() else { return Ok(None) };
        let proof = proof::prove(chain.store(), chain.state(), cpo, cdr_id)?;
        Ok(Some((entry, proof)))
    }

    /// The disputed CDRs this member is a party to, as the charger's member or the driver's, with
    /// those resolved; newest anchor first.
    pub fn disputes(&self) -> Vec<CdrEntry> {
        let chain = self.snapshot();
        let me = &self.party_id;
        let mut disputes: Vec<CdrEntry> = chain
            .state()
            .cdrs()
            .filter(|e| (&e.cpo == me || &e.anchor.emsp == me) && e.status != CdrStatus::Anchored)
            .cloned()
            .collect();
        disputes.sort_by_key(|e| std::cmp::Reverse(e.anchored_at));
        disputes
    }
}
