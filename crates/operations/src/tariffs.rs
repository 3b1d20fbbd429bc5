//! Tariffs as operators manage them: their versions, and where each applies.

use super::changes::Change;
use super::{Error, Operations, Outcome};
use chargemesh_core::access::{Scope, scope_within};
use chargemesh_core::tariff::Tariff;
use chargemesh_store::tariffs::{self, StoredTariff, Target};
use jiff::Timestamp;

/// Which version of a tariff is asked for.
#[derive(Debug, Clone, Copy)]
pub enum TariffVersionChoice {
    /// That version.
    Numbered(u32),
    /// The version in force at that instant.
    InForceAt(Timestamp),
    /// The newest version.
    Latest,
}

impl Operations {
    /// Saves version 1 of a new tariff for `operator_id`; refused when the id is taken.
    pub async fn create_tariff(&self, operator_id: i64, tariff: Tariff, now: Timestamp) -> Outcome<()> {
        let id = tariff.id.clone();
        let outcome = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if tariffs::latest(&mut *tx, &tariff.id).await?.is_some() {
                        return Ok(Err(Error::conflict(format!(
                            "tariff {:?} exists; POST /api/v1/tariffs/{}/versions to change it",
                            tariff.id, tariff.id
                        ))));
                    }
                    match tariffs::insert_version(tx, operator_id, &tariff, now).await {
                        Err(e) if e.is_foreign_key_violation() => {
                            Ok(Err(Error::invalid(format!("operator {operator_id} does not exist"))))
                        }
                        other => other.map(Ok),
                    }
                })
            })
            .await?;
        self.note(Change::Tariff(&id));
        outcome
    }

    /// Saves the next version of a tariff; refused when another one took its number meanwhile.
    pub async fn add_tariff_version(&self, operator_id: i64, tariff: Tariff, now: Timestamp) -> Outcome<()> {
        let id = tariff.id.clone();
        let written = self
            .store
            .write(move |tx| Box::pin(async move { tariffs::insert_version(tx, operator_id, &tariff, now).await }))
            .await;
        self.note(Change::Tariff(&id));
        match written {
            Err(e) if e.is_unique_violation() => {
                Err(Error::conflict("another version was saved at the same time; retry"))
            }
            other => Ok(other?),
        }
    }

    /// The latest version of every tariff within `scope`.
    pub async fn latest_tariffs(&self, scope: Scope) -> Outcome<Vec<StoredTariff>> {
        Ok(self.store.read(move |conn| Box::pin(async move { tariffs::list_latest(conn, scope).await })).await?)
    }

    /// Every version of a tariff within `scope`, oldest first.
    pub async fn tariff_versions(&self, tariff_id: &str, scope: Scope) -> Outcome<Vec<StoredTariff>> {
        let wanted = tariff_id.to_owned();
        let versions =
            self.store.read(move |conn| Box::pin(async move { tariffs::versions(conn, &wanted).await })).await?;
        if versions.first().is_none_or(|v| !scope_within(Some(v.operator_id), scope)) {
            return Err(Error::not_found(format!("tariff {tariff_id:?}")));
        }
        Ok(versions)
    }

    /// The latest version of a tariff within `scope`.
    pub async fn latest_tariff(&self, tariff_id: &str, scope: Scope) -> Outcome<StoredTariff> {
        let found = self.stored_tariff(tariff_id, TariffVersionChoice::Latest).await?;
        found
            .filter(|t| scope_within(Some(t.operator_id), scope))
            .ok_or_else(|| Error::not_found(format!("tariff {tariff_id:?}")))
    }

    /// One version of a tariff within `scope`.
    pub async fn tariff_version(
        &self,
        tariff_id: &str,
        scope: Scope,
        choice: TariffVersionChoice,
    ) -> Outcome<StoredTariff> {
        let found = self.stored_tariff(tariff_id, choice).await?;
        found
            .filter(|t| scope_within(Some(t.operator_id), scope))
            .ok_or_else(|| Error::not_found(format!("tariff {tariff_id:?} (that version)")))
    }

    async fn stored_tariff(&self, tariff_id: &str, choice: TariffVersionChoice) -> Outcome<Option<StoredTariff>> {
        let wanted = tariff_id.to_owned();
        let found = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    match choice {
                        TariffVersionChoice::Numbered(v) => tariffs::version(conn, &wanted, v).await,
                        TariffVersionChoice::InForceAt(at) => tariffs::in_force(conn, &wanted, at).await,
                        TariffVersionChoice::Latest => tariffs::latest(conn, &wanted).await,
                    }
                })
            })
            .await?;
        Ok(found)
    }

    /// Prices `target` (owned by `owner`) by a tariff of the same operator within `scope`; returns the
    /// tariff assigned before.
    pub async fn assign_tariff(
        &self,
        target: Target,
        owner: Option<i64>,
        scope: Scope,
        tariff_id: String,
    ) -> Outcome<Option<String>> {
        let now = self.now();
        let tariff = self.latest_tariff(&tariff_id, scope).await?;
        if owner != Some(tariff.operator_id) {
            return Err(Error::conflict(format!(
                "tariff {tariff_id:?} belongs to another operator than the {target:?}"
            )));
        }
        let operator_id = tariff.operator_id;
        let previous = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let before = tariffs::assigned(&mut *tx, &target).await?;
                    tariffs::assign(tx, &target, operator_id, &tariff_id, now).await?;
                    Ok(before)
                })
            })
            .await?;
        // An assignment to a site or an operator reaches many chargers' connectors.
        self.note(Change::Everything);
        Ok(previous)
    }

    /// Removes the tariff assigned to `target`; returns the one it had.
    pub async fn unassign_tariff(&self, target: Target) -> Outcome<Option<String>> {
        let described = format!("{target:?}");
        let removed = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let before = tariffs::assigned(&mut *tx, &target).await?;
                    Ok(tariffs::unassign(tx, &target).await?.then_some(before))
                })
            })
            .await?;
        self.note(Change::Everything);
        removed.ok_or_else(|| Error::not_found(format!("a tariff assignment for {described}")))
    }
}
