//! The chain on disk: each finalized block with its finalization certificate, in redb, one durable
//! transaction per block. The state is rebuilt by replaying the blocks from genesis, checking each,
//! so a node killed at any instant restarts with exactly the blocks it had committed and the state
//! they give.

use chargemesh_ledger::Hash;
use chargemesh_ledger::block::{self, Block, BlockError, Header};
use chargemesh_ledger::codec::DecodeError;
use chargemesh_ledger::genesis::Genesis;
use chargemesh_ledger::state::State;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
/// The height of each stored block, by its hash.
const HEIGHTS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("heights");
/// Where each stored transaction is: (height, index in its block), by its id.
const TRANSACTIONS: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("transactions");
/// Blocks proposed or voted for but not yet finalized, by (height, hash): kept so that a block
/// consensus finalizes after a crash can still be applied.
const PROPOSALS: TableDefinition<(u64, &[u8; 32]), &[u8]> = TableDefinition::new("proposals");

#[derive(Debug, thiserror::Error)]
pub enum ChainStoreError {
    #[error("the chain store: {0}")]
    Storage(String),
    #[error("block {height} on disk cannot be read: {error}")]
    Decode { height: u64, error: DecodeError },
    #[error("block {height} on disk is invalid: {error}")]
    Invalid { height: u64, error: BlockError },
    #[error("block {got} does not follow block {last}")]
    OutOfOrder { last: u64, got: u64 },
    #[error("block {height}: {problem}")]
    Check { height: u64, problem: String },
    #[error("block {0} is stored already with different content")]
    Conflict(u64),
}

fn storage(e: impl std::fmt::Display) -> ChainStoreError {
    ChainStoreError::Storage(e.to_string())
}

pub struct ChainStore {
    db: Database,
}

impl ChainStore {
    /// Opens (or creates) the chain store at `path`.
    pub fn open(path: &Path) -> Result<ChainStore, ChainStoreError> {
        let db = Database::create(path).map_err(storage)?;
        let tx = db.begin_write().map_err(storage)?;
        tx.open_table(BLOCKS).map_err(storage)?;
        tx.open_table(CERTIFICATES).map_err(storage)?;
        tx.open_table(PROPOSALS).map_err(storage)?;
        tx.open_table(HEIGHTS).map_err(storage)?;
        tx.open_table(TRANSACTIONS).map_err(storage)?;
        tx.commit().map_err(storage)?;
        Ok(ChainStore { db })
    }

    /// The height of the last stored block; 0 when none is.
    pub fn height(&self) -> Result<u64, ChainStoreError> {
        let tx = self.db.begin_read().map_err(storage)?;
        let table = tx.open_table(BLOCKS).map_err(storage)?;
        Ok(table.last().map_err(storage)?.map_or(0, |(height, _)| height.value()))
    }

    /// Stores finalized blocks, in order, with the certificate that finalizes the last of them,
    /// durably, in one transaction (a kill never leaves a block whose certificate finalizes a block
    /// not stored), and forgets the proposals they make obsolete. Storing a stored block again
    /// changes nothing; a different block at a stored height is refused, and then nothing is stored.
    pub fn append(&self, finalized: &[Block], certificate: &[u8]) -> Result<(), ChainStoreError> {
        let tx = self.db.begin_write().map_err(storage)?;
        {
            let mut blocks = tx.open_table(BLOCKS).map_err(storage)?;
            let mut certificates = tx.open_table(CERTIFICATES).map_err(storage)?;
            let mut heights = tx.open_table(HEIGHTS).map_err(storage)?;
            let mut ids = tx.open_table(TRANSACTIONS).map_err(storage)?;
            let mut proposals = tx.open_table(PROPOSALS).map_err(storage)?;
            for block in finalized {
                let height = block.header.height;
                let encoded = block.encode();
                if let Some(stored) = blocks.get(height).map_err(storage)? {
                    if stored.value() != encoded.as_slice() {
                        return Err(ChainStoreError::Conflict(height));
                    }
                    continue;
                }
                let last = blocks.last().map_err(storage)?.map_or(0, |(h, _)| h.value());
                if height != last + 1 {
                    return Err(ChainStoreError::OutOfOrder { last, got: height });
                }
                blocks.insert(height, encoded.as_slice()).map_err(storage)?;
                certificates.insert(height, certificate).map_err(storage)?;
                heights.insert(&block.hash(), height).map_err(storage)?;
                for (index, transaction) in block.transactions.iter().enumerate() {
                    ids.insert(&transaction.id(), (height, index as u32)).map_err(storage)?;
                }
                proposals.retain_in(..=(height, &[0xff; 32]), |_, _| false).map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)
    }

    /// Keeps a block proposed or voted for, durably, until a block at its height is finalized.
    pub fn put_proposal(&self, block: &Block) -> Result<(), ChainStoreError> {
        let tx = self.db.begin_write().map_err(storage)?;
        tx.open_table(PROPOSALS)
            .map_err(storage)?
            .insert((block.header.height, &block.hash()), block.encode().as_slice())
            .map_err(storage)?;
        tx.commit().map_err(storage)
    }

    /// A kept proposal by its hash.
    pub fn proposal(&self, hash: &Hash) -> Result<Option<Block>, ChainStoreError> {
        let tx = self.db.begin_read().map_err(storage)?;
        let table = tx.open_table(PROPOSALS).map_err(storage)?;
        for entry in table.iter().map_err(storage)? {
            let (key, bytes) = entry.map_err(storage)?;
            let (height, stored) = key.value();
            if stored == hash {
                let block = Block::decode(bytes.value()).map_err(|error| ChainStoreError::Decode { height, error })?;
                return Ok(Some(block));
            }
        }
        Ok(None)
    }

    pub fn block(&self, height: u64) -> Result<Option<Block>, ChainStoreError> {
        let at_block = |e: redb::StorageError| ChainStoreError::Storage(format!("block {height}: {e}"));
        let tx = self.db.begin_read().map_err(storage)?;
        let table = tx.open_table(BLOCKS).map_err(storage)?;
        let Some(bytes) = table.get(height).map_err(at_block)? else { return Ok(None) };
        Block::decode(bytes.value()).map(Some).map_err(|error| ChainStoreError::Decode { height, error })
    }

    /// The height of the stored block `hash`.
    pub fn height_of(&self, hash: &Hash) -> Result<Option<u64>, ChainStoreError> {
        let tx = self.db.begin_read().map_err(storage)?;
        let table = tx.open_table(HEIGHTS).map_err(storage)?;
        Ok(table.get(hash).map_err(storage)?.map(|h| h.value()))
    }

    /// Where the stored transaction `id` is: its block's height and its index there.
    pub fn transaction_location(&self, id: &Hash) -> Result<Option<(u64, u32)>, ChainStoreError> {
        let tx = self.db.begin_read().map_err(storage)?;
        let table = tx.open_table(TRANSACTIONS).map_err(storage)?;
        Ok(table.get(id).map_err(storage)?.map(|l| l.value()))
    }

    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, ChainStoreError> {
        let tx = self.db.begin_read().map_err(storage)?;
        let table = tx.open_table(CERTIFICATES).map_err(storage)?;
        Ok(table.get(height).map_err(storage)?.map(|c| c.value().to_vec()))
    }

    /// The state after every stored block, checking each block on its way (signatures, rules, roots),
    /// and the last block's header.
    pub fn replay(&self, genesis: &Genesis) -> Result<(State, Header), ChainStoreError> {
        self.replay_checking(genesis, |_, _, _| Ok(()))
    }

    /// [`replay`](Self::replay), with `check` shown each block, the state before it and how many
    /// blocks there are, before the block is executed; what it finds wrong stops the replay.
    pub fn replay_checking(
        &self,
        genesis: &Genesis,
        mut check: impl FnMut(&State, &Block, u64) -> Result<(), String>,
    ) -> Result<(State, Header), ChainStoreError> {
        let mut state = State::from_genesis(genesis).map_err(ChainStoreError::Storage)?;
        let mut parent = Header::genesis(&mut state, genesis.timestamp_ms);
        let last = self.height()?;
        for height in 1..=last {
            let block = self.block(height)?.ok_or(ChainStoreError::OutOfOrder { last: height - 1, got: height + 1 })?;
            check(&state, &block, last).map_err(|problem| ChainStoreError::Check { height, problem })?;
            let (next, _) =
                block::execute(&state, &parent, &block).map_err(|error| ChainStoreError::Invalid { height, error })?;
            state = next;
            parent = block.header;
        }
        Ok((state, parent))
    }
}
