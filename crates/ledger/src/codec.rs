//! The canonical binary encoding of everything signed or hashed: Borsh, which gives every value
//! exactly one encoding. Decoding is strict: trailing bytes, unknown variants, non-canonical booleans
//! or options and oversized input are errors.

use borsh::{BorshDeserialize, BorshSerialize};

/// The largest transaction accepted, in bytes (a CDR with a few hundred charging periods fits).
pub const MAX_TRANSACTION_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{size} bytes is more than the {limit} allowed")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed encoding: {0}")]
    Malformed(String),
}

pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("encoding into memory cannot fail")
}

/// Decodes exactly one value from `bytes`, at most `limit` bytes long.
pub fn decode<T: BorshDeserialize>(bytes: &[u8], limit: usize) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { size: bytes.len(), limit });
    }
    borsh::from_slice(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))
}
