//! Operators and their sites, as the node's staff manage them.

use super::changes::Change;
use super::{Error, Operations, Outcome};
use chargemesh_core::access::{Scope, scope_within};
use chargemesh_store::operators::{self, NewSite, Operator, Site};

/// What changes of a site; what is absent stays.
#[derive(Debug, Default)]
pub struct SiteChange {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    pub city: Option<String>,
}

/// An operator's name: trimmed, 1 to 100 characters.
fn operator_name(name: &str) -> Outcome<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::invalid("name must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

/// What makes a site usable: a name, a real time zone (tariffs are evaluated in it) and a location on Earth.
fn check_site(name: &str, time_zone: &str, latitude: Option<f64>, longitude: Option<f64>) -> Outcome<()> {
    if name.is_empty() || name.len() > 100 {
        return Err(Error::invalid("name must be 1 to 100 characters"));
    }
    if jiff::tz::TimeZone::get(time_zone).is_err() {
        return Err(Error::invalid(format!("time_zone {time_zone:?} is not an IANA time zone such as Asia/Shanghai")));
    }
    if latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l))
        || longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l))
    {
        return Err(Error::invalid("latitude must be within ±90 and longitude within ±180"));
    }
    Ok(())
}

/// The site with `change` applied, checked.
fn changed_site(site: &Site, change: SiteChange) -> Outcome<Site> {
    let site = site.clone();
    let changed = Site {
        name: change.name.map_or(site.name, |n| n.trim().to_owned()),
        time_zone: change.time_zone.unwrap_or(site.time_zone),
        latitude: change.latitude.or(site.latitude),
        longitude: change.longitude.or(site.longitude),
        address: change.address.or(site.address),
        city: change.city.or(site.city),
        ..site
    };
    check_site(&changed.name, &changed.time_zone, changed.latitude, changed.longitude)?;
    Ok(changed)
}

impl Operations {
    /// Creates an operator with a unique name.
    pub async fn create_operator(&self, name: &str) -> Outcome<Operator> {
        let now = self.now();
        let name = operator_name(name)?;
        let new_name = name.clone();
        let created = self
            .store
            .write(move |tx| Box::pin(async move { operators::create_operator(tx, &new_name, now).await }))
            .await;
        match created {
            Err(e) if e.is_unique_violation() => Err(Error::conflict(format!("an operator named {name:?} exists"))),
            other => Ok(other?),
        }
    }

    /// The operators within `scope`.
    pub async fn operators_in(&self, scope: Scope) -> Outcome<Vec<Operator>> {
        let all = self.store.read(|conn| Box::pin(operators::list_operators(conn))).await?;
        Ok(all.into_iter().filter(|o| scope_within(Some(o.id), scope)).collect())
    }

    /// Renames an operator; returns it before and after.
    pub async fn rename_operator(&self, id: i64, name: &str) -> Outcome<(Operator, Operator)> {
        let name = operator_name(name)?;
        let new_name = name.clone();
        let renamed = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let Some(before) = operators::get_operator(&mut *tx, id).await? else {
                        return Ok(None);
                    };
                    operators::rename_operator(&mut *tx, id, &new_name).await?;
                    Ok(Some((before.clone(), Operator { name: new_name, ..before })))
                })
            })
            .await;
        // Every location shows its operator's name.
        self.note(Change::Everything);
        match renamed {
            Err(e) if e.is_unique_violation() => Err(Error::conflict(format!("an operator named {name:?} exists"))),
            other => other?.ok_or_else(|| Error::not_found(format!("operator {id}"))),
        }
    }

    /// Deletes an operator that has nothing left; returns it as it was.
    pub async fn delete_operator(&self, id: i64) -> Outcome<Operator> {
        let deleted = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let Some(before) = operators::get_operator(&mut *tx, id).await? else {
                        return Ok(None);
                    };
                    Ok(operators::delete_operator(tx, id).await?.then_some(before))
                })
            })
            .await;
        match deleted {
            Ok(Some(before)) => Ok(before),
            Ok(None) => Err(Error::not_found(format!("operator {id}"))),
            Err(e) if e.is_foreign_key_violation() => Err(Error::conflict(
                "the operator still has sites, chargers, tokens or staff accounts; remove or move them first",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a site, checked, for an existing operator.
    pub async fn create_site(&self, new: NewSite) -> Outcome<Site> {
        let now = self.now();
        check_site(&new.name, &new.time_zone, new.latitude, new.longitude)?;
        let operator_id = new.operator_id;
        let created = self.store.write(move |tx| Box::pin(operators::create_site(tx, new, now))).await;
        match created {
            Err(e) if e.is_foreign_key_violation() => Err(Error::not_found(format!("operator {operator_id}"))),
            other => Ok(other?),
        }
    }

    /// The sites within `scope`.
    pub async fn sites_in(&self, scope: Scope) -> Outcome<Vec<Site>> {
        Ok(self.store.read(move |conn| Box::pin(operators::list_sites(conn, scope))).await?)
    }

    /// One site within `scope`.
    pub async fn site_in(&self, id: i64, scope: Scope) -> Outcome<Site> {
        let site = self.store.read(move |conn| Box::pin(operators::get_site(conn, id))).await?;
        site.filter(|s| scope_within(Some(s.operator_id), scope)).ok_or_else(|| Error::not_found(format!("site {id}")))
    }

    /// Changes a site within `scope`, checked; returns it before and after.
    pub async fn update_site(&self, id: i64, scope: Scope, change: SiteChange) -> Outcome<(Site, Site)> {
        let outcome = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let site = operators::get_site(&mut *tx, id).await?;
                    let Some(before) = site.filter(|s| scope_within(Some(s.operator_id), scope)) else {
                        return Ok(Err(Error::not_found(format!("site {id}"))));
                    };
                    let after = match changed_site(&before, change) {
                        Ok(after) => after,
                        Err(e) => return Ok(Err(e)),
                    };
                    operators::update_site(tx, &after).await?;
                    Ok(Ok((before, after)))
                })
            })
            .await?;
        self.note(Change::Site(id));
        outcome
    }

    /// Deletes a site within `scope` that no charger stands at; returns it as it was.
    pub async fn delete_site(&self, id: i64, scope: Scope) -> Outcome<Site> {
        let deleted = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let site = operators::get_site(&mut *tx, id).await?;
                    let Some(site) = site.filter(|s| scope_within(Some(s.operator_id), scope)) else {
                        return Ok(None);
                    };
                    Ok(operators::delete_site(tx, id).await?.then_some(site))
                })
            })
            .await;
        match deleted {
            Ok(Some(site)) => Ok(site),
            Ok(None) => Err(Error::not_found(format!("site {id}"))),
            Err(e) if e.is_foreign_key_violation() => {
                Err(Error::conflict("chargers stand at this site; move them to another site first"))
            }
            Err(e) => Err(e.into()),
        }
    }
}
