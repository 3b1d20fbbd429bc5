//! The genesis file: the consortium's founding members, its parameters and its start. Its hash
//! names the chain; anyone holding it can verify the whole chain.

use crate::parameters::Parameters;
use crate::transaction::MemberRecord;
use crate::{Hash, codec, hash_parts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// A human name for the chain, e.g. `chargemesh-gba`.
    pub chain_name: String,
    /// When the chain starts (Unix milliseconds): the first clearing period starts here.
    pub timestamp_ms: i64,
    /// The length of a clearing period, fixed for the chain's life.
    pub clearing_period_ms: i64,
    pub parameters: Parameters,
    pub members: Vec<MemberRecord>,
}

impl Genesis {
    /// The chain's identity: the hash of the genesis in canonical encoding.
    pub fn hash(&self) -> Hash {
        let encoded = codec::encode(&(
            &self.chain_name,
            self.timestamp_ms,
            self.clearing_period_ms,
            &self.parameters,
            &self.members,
        ));
        hash_parts("chargemesh/genesis/1", &[&encoded])
    }

    pub fn check(&self) -> Result<(), String> {
        if self.chain_name.is_empty() || self.chain_name.len() > 64 {
            return Err("chain_name: 1 to 64 characters".into());
        }
        if self.clearing_period_ms < 60_000 {
            return Err("clearing_period_ms: at least a minute".into());
        }
        self.parameters.check()?;
        if self.members.is_empty() {
            return Err("members: at least one".into());
        }
        if !self.members.iter().any(|m| m.validator) {
            return Err("members: at least one validator".into());
        }
        let mut parties = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for member in &self.members {
            crate::fields::check_party_id(&member.party_id).map_err(|e| e.to_string())?;
            crate::fields::check_p2p_endpoint(&member.p2p_endpoint)
                .map_err(|e| format!("members: {}: {e}", member.party_id))?;
            if !parties.insert(&member.party_id) {
                return Err(format!("members: {} appears twice", member.party_id));
            }
            if !keys.insert(member.public_key) {
                return Err(format!("members: {}'s key is another member's", member.party_id));
            }
        }
        Ok(())
    }

    pub fn from_json(text: &str) -> Result<Genesis, String> {
        let genesis: Genesis = serde_json::from_str(text).map_err(|e| format!("not a genesis file: {e}"))?;
        genesis.check()?;
        Ok(genesis)
    }
}
