//! The state root: one hash committing to the whole state. Small sections (members, governance,
//! chargers, tariffs, clearing) are hashed whole, and again only when they changed; the CDR index,
//! which grows with every charge, is committed by a running hash over every change to it in order,
//! so a block costs the same however long the chain.

use super::State;
use crate::{Hash, codec, hash_parts};
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub(crate) struct Sections {
    pub members: Option<Hash>,
    pub governance: Option<Hash>,
    pub chargers: Option<Hash>,
    pub tariffs: Option<Hash>,
    pub clearing: Option<Hash>,
    /// The running hash over the CDR index's changes.
    pub cdr_log: Hash,
}

impl Sections {
    /// Records a change to the CDR index: which CDR, its new status, and the transaction that made it.
    pub fn log_cdr(&mut self, key: &(String, String), status: &impl Serialize, transaction: Hash) {
        let status = serde_json::to_vec(status).expect("statuses serialize");
        self.cdr_log = hash_parts(
            "chargemesh/state/cdr-log/1",
            &[&self.cdr_log, key.0.as_bytes(), key.1.as_bytes(), &status, &transaction],
        );
    }
}

fn json_hash(domain: &str, value: &impl Serialize) -> Hash {
    hash_parts(domain, &[&serde_json::to_vec(value).expect("state serializes")])
}

impl State {
    /// The state root after everything applied so far.
    pub fn root(&mut self) -> Hash {
        let members = *self.roots.members.get_or_insert_with(|| {
            let encoded: Vec<Vec<u8>> = self.members.values().map(codec::encode).collect();
            let parts: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
            hash_parts("chargemesh/state/members/1", &parts)
        });
        let governance = *self.roots.governance.get_or_insert_with(|| {
            let proposals: Vec<(u64, Vec<u8>)> = self.proposals.iter().map(|(id, p)| (*id, codec::encode(p))).collect();
            let encoded = codec::encode(&(&self.parameters, self.next_proposal, self.epoch, proposals));
            hash_parts("chargemesh/state/governance/1", &[&encoded])
        });
        let chargers =
            *self.roots.chargers.get_or_insert_with(|| json_hash("chargemesh/state/chargers/1", &self.chargers));
        let tariffs = *self.roots.tariffs.get_or_insert_with(|| {
            let published: Vec<(&str, u64, i64)> = self
                .tariffs
                .values()
                .flatten()
                .map(|p| (p.json.as_str(), p.published_at_height, p.published_at))
                .collect();
            json_hash("chargemesh/state/tariffs/1", &published)
        });
        let clearing = *self.roots.clearing.get_or_insert_with(|| {
            let obligations: Vec<_> = self.obligations.iter().collect();
            json_hash("chargemesh/state/clearing/1", &(obligations, &self.clearings, self.next_clearing))
        });
        hash_parts(
            "chargemesh/state/1",
            &[&self.chain, &members, &governance, &chargers, &tariffs, &clearing, &self.roots.cdr_log],
        )
    }
}
