//! Merkle trees over a block's transactions (RFC 6962 shape: leaves and inner nodes hashed under
//! different prefixes, an odd node carried up unpaired), and inclusion proofs.

use crate::Hash;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

fn leaf(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The root over `items` (each a transaction's encoding); the empty tree's root is the hash of nothing.
pub fn root(items: &[impl AsRef<[u8]>]) -> Hash {
    let mut level: Vec<Hash> = items.iter().map(|i| leaf(i.as_ref())).collect();
    if level.is_empty() {
        return Sha256::digest([]).into();
    }
    while level.len() > 1 {
        level = level.chunks(2).map(|pair| if pair.len() == 2 { node(&pair[0], &pair[1]) } else { pair[0] }).collect();
    }
    level[0]
}

/// The path from a leaf to the root: each sibling, and whether it sits on the left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub index: u64,
    pub siblings: Vec<Sibling>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sibling {
    #[serde(with = "hex::serde")]
    pub hash: Hash,
    pub left: bool,
}

/// The inclusion proof of `items[index]`.
pub fn prove(items: &[impl AsRef<[u8]>], index: usize) -> Option<Proof> {
    if index >= items.len() {
        return None;
    }
    let mut level: Vec<Hash> = items.iter().map(|i| leaf(i.as_ref())).collect();
    let (mut position, mut siblings) = (index, Vec::new());
    while level.len() > 1 {
        let sibling = position ^ 1;
        if sibling < level.len() {
            siblings.push(Sibling { hash: level[sibling], left: sibling < position });
        }
        level = level.chunks(2).map(|pair| if pair.len() == 2 { node(&pair[0], &pair[1]) } else { pair[0] }).collect();
        position /= 2;
    }
    Some(Proof { index: index as u64, siblings })
}

/// Whether `item` is in the tree with `root`, by `proof`.
pub fn verify(root: &Hash, item: &[u8], proof: &Proof) -> bool {
    let mut hash = leaf(item);
    for sibling in &proof.siblings {
        hash = if sibling.left { node(&sibling.hash, &hash) } else { node(&hash, &sibling.hash) };
    }
    hash == *root
}
