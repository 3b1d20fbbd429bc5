//! Published tariffs. Every version is kept forever, so a charge anchored years later is still
//! priced by the version in force when it started. A version takes effect no earlier than it is
//! published: nobody can re-price charges that already happened.

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
        if tariff.valid_from.as_millisecond() < context.timestamp {
            return Err(Rejection::InvalidTariff(
                "valid_from is before its publication: tariffs never apply retroactively".into(),
            ));
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
        let published = PublishedTariff {
            tariff,
            json: json.to_owned(),
            published_at_height: context.height,
            published_at: context.timestamp,
        };
        self.tariffs.entry(key).or_default().push(published);
        self.roots.tariffs = None;
        Ok(vec![event])
    }

    /// The version of an owner's tariff in force at `at`: the one with the latest `valid_from` not
    /// after it (the higher version when two share it).
    pub fn tariff_in_force(&self, owner: &str, tariff_id: &str, at: i64) -> Option<&PublishedTariff> {
        self.tariff_versions(owner, tariff_id)
            .iter()
            .filter(|p| p.tariff.valid_from.as_millisecond() <= at)
            .max_by_key(|p| (p.tariff.valid_from, p.tariff.version))
    }
}
