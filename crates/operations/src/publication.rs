//! What this node publishes to other platforms (its sites and chargers as locations, the tariffs
//! their connectors name), and what the other members published here, for drivers to search.

use super::Operations;
use crate::Outcome;
use chargemesh_store::federation::{self, Pushed, PushedObject};
use chargemesh_store::locations::{self, PublishedSite, Which};
use chargemesh_store::tariffs::{self, StoredTariff};
use std::collections::BTreeSet;

impl Operations {
    /// The sites `which` names that have at least one commissioned charger, by site id: this node's
    /// locations.
    pub async fn published_sites(&self, which: Which) -> Outcome<Vec<PublishedSite>> {
        Ok(self.store.read(move |conn| Box::pin(locations::published(conn, which))).await?)
    }

    /// The latest version of each of the tariffs `ids` that exists.
    pub async fn latest_published_tariffs(&self, ids: BTreeSet<String>) -> Outcome<Vec<StoredTariff>> {
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let mut found = Vec::new();
                    for id in &ids {
                        found.extend(tariffs::latest(&mut *conn, id).await?);
                    }
                    Ok(found)
                })
            })
            .await?;
        Ok(found)
    }

    /// Every location and every tariff the other members pushed here (OCPI JSON), read together.
    pub async fn pushed_locations_and_tariffs(&self) -> Outcome<(Vec<PushedObject>, Vec<PushedObject>)> {
        let pushed = self
            .store
            .read(|conn| {
                Box::pin(async move {
                    let locations = federation::pushed(&mut *conn, Pushed::Location, None).await?;
                    Ok((locations, federation::pushed(conn, Pushed::Tariff, None).await?))
                })
            })
            .await?;
        Ok(pushed)
    }
}
