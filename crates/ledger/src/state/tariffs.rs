//! Published tariffs. Every version is kept forever, so a charge anchored years later is still
//! priced by the version in force when it started. A version takes effect no earlier than it is
//! published — at the later of its `valid_from` and its block — so nobody can re-price charges that
//! already happened, and a version that reaches the chain late (the network was down) is still
//! published and takes effect from then on.

use super::{Context, Event, Rejection, State};
use chargemesh_core::tariff::Tariff;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedTariff {
    pub tariff: Tariff,
    /// Exactly as published, for hashing and for anyone re-checking a price.
    #[serde(skip)]
    pub json: String,
    pub published_at_height: u64,
    /// Unix milliseconds of the block.
    pub published_at: i64,
    /// Unix milliseconds from which it applies: its `valid_from`, or its publication if that was later.
    pub effective_from: i64,
}

impl State {
    pub(super) fn publish_tariff(
        &mut self,
        sender: &str,
        json: &str,
        context: Context,
    ) -> Result<Vec<Event>, Rejection> {
        if !self.active_member(sender)?.record.roles.cpo {
            return Err(Rejection::MissingRole("cpo"));
        }
        let tariff: Tariff = serde_json::from_str(json).map_err(|e| Rejection::InvalidTariff(e.to_string()))?;
        tariff.validate().map_err(|e| Rejection::InvalidTariff(e.to_string()))?;
        if tariff.owner != sender {
            return Err(Rejection::InvalidTariff(format!("its owner is {:?}, not the sender {sender}", tariff.owner)));
        }
        let key = (sender.to_owned(), tariff.id.clone());
        let expected = self.tariffs.get(&key).map_or(1, |versions| versions.len() as u32 + 1);
        if tariff.version != expected {
            return Err(Rejection::InvalidTariff(format!(
                "version {} is not the next one, {expected}",
                tariff.version
            )));
        }
        let event =
            Event::TariffPublished { owner: sender.to_owned(), tariff_id: tariff.id.clone(), version: tariff.version };
        let effective_from = tariff.valid_from.as_millisecond().max(context.timestamp);
        let published = PublishedTariff {
            tariff,
            json: json.to_owned(),
            published_at_height: context.height,
            published_at: context.timestamp,
            effective_from,
        };
        self.tariffs.entry(key).or_default().push(published);
        self.roots.tariffs = None;
        Ok(vec![event])
    }

    /// A founding tariff of the genesis (checked there): in force from its own `valid_from`.
    pub(super) fn found_tariff(&mut self, tariff: Tariff, json: &str, genesis_time: i64) {
        let key = (tariff.owner.clone(), tariff.id.clone());
        let effective_from = tariff.valid_from.as_millisecond();
        let json = json.to_owned();
        let published =
            PublishedTariff { tariff, json, published_at_height: 0, published_at: genesis_time, effective_from };
        self.tariffs.entry(key).or_default().push(published);
        self.roots.tariffs = None;
    }

    /// The version of an owner's tariff in force at `at`: the one effective latest but not after it
    /// (the higher version when two share the instant).
    pub fn tariff_in_force(&self, owner: &str, tariff_id: &str, at: i64) -> Option<&PublishedTariff> {
        self.tariff_versions(owner, tariff_id)
            .iter()
            .filter(|p| p.effective_from <= at)
            .max_by_key(|p| (p.effective_from, p.tariff.version))
    }
}
