//! Proof that a charge record was anchored on the chain, checkable offline with nothing but the
//! consortium's genesis: the anchoring transaction, its Merkle path to a block header, and the
//! finalization certificate of that block (or of the later block finalized together with it, with
//! the headers linking the two). Given the full off-chain CDR as well, the check also ties it to the
//! hash the anchor carries.

use crate::block::Header;
use crate::chain_store::ChainStore;
use crate::genesis::Genesis;
use crate::state::State;
use crate::transaction::{Action, CdrAnchor, SignedTransaction};
use crate::{Hash, consensus, hash_parts, merkle};
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

/// The proof for the CDR `cdr_id` of `cpo`, anchored in `store` (whose state is `state`).
pub fn prove(store: &ChainStore, state: &State, cpo: &str, cdr_id: &str) -> Result<CdrProof, String> {
    let entry = state.cdr(cpo, cdr_id).ok_or_else(|| format!("no CDR {cdr_id} of {cpo} is anchored"))?;
    let fail = |e: crate::chain_store::ChainStoreError| e.to_string();
    let (height, index) = store
        .transaction_location(&entry.transaction)
        .map_err(fail)?
        .ok_or("the anchoring transaction is not stored")?;
    let block = store.block(height).map_err(fail)?.ok_or("the anchoring block is not stored")?;
    let certificate = store.certificate(height).map_err(fail)?.ok_or("the block has no certificate")?;
    // A block finalized together with a later one shares that block's certificate: the run of equal
    // certificates ends at the certified block.
    let mut descendants = Vec::new();
    let mut next = height + 1;
    while store.certificate(next).map_err(fail)?.is_some_and(|c| c == certificate) {
        descendants.push(store.block(next).map_err(fail)?.ok_or("a stored block is missing")?.header);
        next += 1;
    }
    Ok(CdrProof {
        chain: state.chain(),
        merkle: block.proof(index as usize).ok_or("the transaction index is outside its block")?,
        transaction: block.transactions[index as usize].encode(),
        header: block.header,
        descendants,
        certificate,
    })
}

/// Checks `proof` against the consortium's `genesis` (and, if given, the full off-chain CDR) and
/// returns the anchor it proves, or says what does not hold. The CDR is the one anchored if its
/// bytes are, but for trailing whitespace: a saved CDR (compact JSON) never ends in any, while a
/// copy written by `curl -o`, `jq -r` or an editor often ends in a newline.
pub fn check(proof: &CdrProof, genesis: &Genesis, cdr: Option<&[u8]>) -> Result<CdrAnchor, String> {
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
    let finalized = consensus::certified_block(&state, &proof.certificate)?;
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
