//! Proof that a charge record was anchored on the chain, checkable offline with nothing but the
//! consortium's genesis: the anchoring transaction, its Merkle path to a block header, and the
//! finalization certificate of that block (or of the later block finalized together with it, with
//! the headers linking the two). Given the full off-chain CDR as well, the check also ties it to the
//! hash the anchor carries. Proofs are made from a chain store by `chargemesh-chain`.

use crate::block::Header;
use crate::genesis::Genesis;
use crate::state::State;
use crate::transaction::{Action, CdrAnchor, SignedTransaction};
use crate::{Hash, hash_parts, merkle};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CdrProof {
    /// The genesis hash of the chain.
    #[serde(with = "hex::serde")]
    pub chain: Hash,
    /// The header of the block holding the anchor.
    pub header: Header,
    /// The anchoring transaction in its canonical encoding.
    #[serde(with = "hex::serde")]
    pub transaction: Vec<u8>,
    pub merkle: merkle::Proof,
    /// Headers after `header`, each the child of the one before, up to the block the certificate
    /// finalizes (none when it finalizes `header`'s block itself).
    pub descendants: Vec<Header>,
    #[serde(with = "hex::serde")]
    pub certificate: Vec<u8>,
}

/// The hash a CDR anchor carries of the full CDR (its JSON exactly as the node keeps it).
pub fn cdr_hash(cdr: &[u8]) -> Hash {
    hash_parts("chargemesh/cdr/1", &[cdr])
}

/// Tells which block a finalization certificate finalizes. The certificate is the consensus
/// engine's, which this pure crate does not know; `chargemesh-chain` implements it
/// (`consensus::SimplexCertificates`).
pub trait Certificates {
    /// Checks `certificate` against the validators of `state` (the state the certified block was
    /// built on) and returns the hash of the block it finalizes.
    fn certified_block(&self, state: &State, certificate: &[u8]) -> Result<Hash, String>;
}

/// Checks `proof` against the consortium's `genesis` (and, if given, the full off-chain CDR) and
/// returns the anchor it proves, or says what does not hold. The CDR is the one anchored if its
/// bytes are, but for trailing whitespace: a saved CDR (compact JSON) never ends in any, while a
/// copy written by `curl -o`, `jq -r` or an editor often ends in a newline.
pub fn check(
    proof: &CdrProof,
    genesis: &Genesis,
    cdr: Option<&[u8]>,
    certificates: &impl Certificates,
) -> Result<CdrAnchor, String> {
    let state = State::from_genesis(genesis)?;
    if proof.chain != state.chain() {
        return Err("the proof is of another chain than this genesis".into());
    }
    if !merkle::verify(&proof.header.transactions_root, &proof.transaction, &proof.merkle) {
        return Err("the transaction is not in the block: its Merkle path does not lead to the block's root".into());
    }
    let tx = SignedTransaction::decode(&proof.transaction).map_err(|e| format!("the transaction: {e}"))?;
    if tx.transaction.chain != state.chain() {
        return Err("the transaction was signed for another chain".into());
    }
    let sender = state
        .member(&tx.transaction.sender)
        .ok_or_else(|| format!("the sender {} is not a member in the genesis", tx.transaction.sender))?;
    if !tx.verify_signature(&sender.record.public_key) {
        return Err(format!("the transaction's signature is not {}'s", tx.transaction.sender));
    }
    let Action::AnchorCdr(anchor) = tx.transaction.action else {
        return Err("the transaction does not anchor a CDR".into());
    };
    let mut certified = proof.header.hash();
    for header in &proof.descendants {
        if header.parent != certified {
            return Err(format!("the header at height {} does not follow the one before", header.height));
        }
        certified = header.hash();
    }
    let finalized = certificates.certified_block(&state, &proof.certificate)?;
    if finalized != certified {
        return Err("the certificate finalizes another block".into());
    }
    if let Some(cdr) = cdr
        && cdr_hash(cdr.trim_ascii_end()) != anchor.cdr_hash
    {
        return Err("the CDR differs from the one anchored: its hash is not the anchor's".into());
    }
    Ok(anchor)
}
