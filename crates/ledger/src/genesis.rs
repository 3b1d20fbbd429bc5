//! The genesis file: the consortium's founding members, its parameters, its start and, if the
//! founders want, their tariffs. Its hash names the chain; anyone holding it can verify the whole
//! chain.

use crate::parameters::Parameters;
use crate::transaction::MemberRecord;
use crate::{Hash, codec, hash_parts};
use chargemesh_core::tariff::Tariff;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
    /// Founding members' tariffs (each as its JSON, exactly as a `PublishTariff` carries it, owned by
    /// a founding member with the CPO role, versions in order from 1). Unlike a tariff published
    /// later, a founding tariff applies from its own `valid_from`, even before the chain started:
    /// the chain holds no charge it could re-price, and charges that began before the consortium
    /// formed are priced by the tariffs its members had then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tariffs: Vec<String>,
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
        // A genesis without founding tariffs keeps the identity it had before they existed.
        if self.tariffs.is_empty() {
            return hash_parts("chargemesh/genesis/1", &[&encoded]);
        }
        hash_parts("chargemesh/genesis/2", &[&encoded, &codec::encode(&self.tariffs)])
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
        self.founding_tariffs().map(drop)
    }

    /// The founding tariffs, each checked: a tariff, valid, owned by a founding CPO, its versions in
    /// order from 1.
    pub fn founding_tariffs(&self) -> Result<Vec<(Tariff, &str)>, String> {
        let mut versions: BTreeMap<(String, String), u32> = BTreeMap::new();
        let mut tariffs = Vec::new();
        for (i, json) in self.tariffs.iter().enumerate() {
            let problem = |p: String| format!("tariffs[{i}]: {p}");
            let tariff: Tariff = serde_json::from_str(json).map_err(|e| problem(e.to_string()))?;
            tariff.validate().map_err(|e| problem(e.to_string()))?;
            if !self.members.iter().any(|m| m.party_id == tariff.owner && m.roles.cpo) {
                return Err(problem(format!("its owner {:?} is no founding member with the CPO role", tariff.owner)));
            }
            let last = versions.entry((tariff.owner.clone(), tariff.id.clone())).or_default();
            if tariff.version != *last + 1 {
                let next = *last + 1;
                return Err(problem(format!(
                    "version {} of {} is not the next one, {next}",
                    tariff.version, tariff.id
                )));
            }
            *last = tariff.version;
            tariffs.push((tariff, json.as_str()));
        }
        Ok(tariffs)
    }

    pub fn from_json(text: &str) -> Result<Genesis, String> {
        let genesis: Genesis = serde_json::from_str(text).map_err(|e| format!("not a genesis file: {e}"))?;
        genesis.check()?;
        Ok(genesis)
    }
}
