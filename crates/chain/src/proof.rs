//! Inclusion proofs of anchored CDRs, made from the chain store. What a proof is and how anyone
//! checks it offline is `chargemesh_ledger::proof`'s.

use crate::chain_store::{ChainStore, ChainStoreError};
use chargemesh_ledger::State;
use chargemesh_ledger::proof::CdrProof;

/// The proof for the CDR `cdr_id` of `cpo`, anchored in `store` (whose state is `state`).
pub fn prove(store: &ChainStore, state: &State, cpo: &str, cdr_id: &str) -> Result<CdrProof, String> {
    let entry = state.cdr(cpo, cdr_id).ok_or_else(|| format!("no CDR {cdr_id} of {cpo} is anchored"))?;
    let fail = |e: ChainStoreError| e.to_string();
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
