//! Chargers as their operator manages them: registration, keys, sites, live status, and commands.

use super::changes::Change;
use super::{Error, Operations, Outcome, passwords};
use chargemesh_core::StationId;
use chargemesh_core::access::{Scope, scope_within};
use chargemesh_core::charger::{ChargerCommand, ConnectorStatus, Registration};
use chargemesh_core::fleet::Condition;
use chargemesh_store::chargers::{self, Charger, ChargerUpdate, ConnectorState, NewCharger};
use chargemesh_store::commands::{self, CommandRecord};
use chargemesh_store::messages::{self, ReceivedMessage};
use chargemesh_store::operators;

/// A charger with its connectors' last reported status and whether it is connected now.
#[derive(Debug)]
pub struct ManagedCharger {
    pub charger: Charger,
    pub connected: bool,
    pub connectors: Vec<ConnectorState>,
}

impl ManagedCharger {
    pub fn condition(&self) -> Condition {
        let has = |status: ConnectorStatus| self.connectors.iter().any(|c| c.status == status.as_str());
        Condition::of(self.connected, has(ConnectorStatus::Faulted), has(ConnectorStatus::Charging))
    }
}

/// What an operator sets on a charger; what is absent stays (or takes its default when registering).
#[derive(Debug, Default)]
pub struct ChargerSettings {
    pub site_id: Option<i64>,
    /// `Accepted`, `Pending` or `Rejected`.
    pub registration: Option<String>,
    /// Authorization key for security profile 1, in clear; stored hashed.
    pub auth_key: Option<String>,
}

fn registration(text: Option<&str>) -> Outcome<Option<Registration>> {
    text.map(|t| {
        Registration::parse(t).ok_or_else(|| Error::invalid("registration must be Accepted, Pending or Rejected"))
    })
    .transpose()
}

/// The stored hash of an authorization key, once it is checked.
async fn hashed_key(key: Option<String>) -> Outcome<Option<String>> {
    let Some(key) = key else { return Ok(None) };
    if !(16..=40).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("auth_key must be 16 to 40 printable ASCII characters"));
    }
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&key))
        .await
        .map_err(|_| Error::invalid("could not hash the key"))?;
    Ok(Some(hash))
}

impl Operations {
    /// A charger within `scope`.
    pub async fn managed_charger(&self, station_id: &str, scope: Scope) -> Outcome<Charger> {
        let wanted = station_id.to_owned();
        self.store
            .read(move |conn| Box::pin(async move { chargers::get_charger(conn, &wanted).await }))
            .await?
            .filter(|c| scope_within(c.operator_id, scope))
            .ok_or_else(|| Error::not_found(format!("charger {station_id:?}")))
    }

    /// A charger within `scope` with its live status.
    pub async fn managed_charger_status(&self, station_id: &str, scope: Scope) -> Outcome<ManagedCharger> {
        let charger = self.managed_charger(station_id, scope).await?;
        self.with_status(charger).await
    }

    async fn with_status(&self, charger: Charger) -> Outcome<ManagedCharger> {
        let station_id = charger.station_id.clone();
        let connectors =
            self.store.read(move |conn| Box::pin(async move { chargers::connectors(conn, &station_id).await })).await?;
        Ok(self.live(charger, connectors))
    }

    pub(crate) fn live(&self, charger: Charger, connectors: Vec<ConnectorState>) -> ManagedCharger {
        let connected = self.is_connected(&charger.station_id);
        ManagedCharger { charger, connected, connectors }
    }

    /// Whether the charger holds a connection to this node right now.
    pub(crate) fn is_connected(&self, station_id: &str) -> bool {
        StationId::parse(station_id).is_ok_and(|s| self.link.is_connected(&s))
    }

    /// The chargers within `scope`, with live status.
    pub async fn managed_chargers(&self, scope: Scope) -> Outcome<Vec<ManagedCharger>> {
        let all = self
            .store
            .read(move |conn| {
                Box::pin(async move {
                    let listed = chargers::list_chargers(&mut *conn, scope).await?;
                    let mut connectors = chargers::connectors_of_chargers(&mut *conn, scope).await?;
                    Ok(listed
                        .into_iter()
                        .map(|charger| {
                            let its = connectors.remove(&charger.station_id).unwrap_or_default();
                            (charger, its)
                        })
                        .collect::<Vec<_>>())
                })
            })
            .await?;
        Ok(all.into_iter().map(|(charger, connectors)| self.live(charger, connectors)).collect())
    }

    /// Fails unless `site_id` (when given) is a site of `operator_id`.
    async fn check_charger_site(&self, site_id: Option<i64>, operator_id: i64) -> Outcome<()> {
        let Some(site_id) = site_id else {
            return Ok(());
        };
        match self.store.read(move |conn| Box::pin(operators::get_site(conn, site_id))).await? {
            Some(site) if site.operator_id == operator_id => Ok(()),
            _ => Err(Error::not_found(format!("site {site_id} of operator {operator_id}"))),
        }
    }

    /// Registers a charger of `operator_id` so that it may connect (accepted unless told otherwise).
    pub async fn register_charger(
        &self,
        station: &StationId,
        operator_id: i64,
        settings: ChargerSettings,
    ) -> Outcome<ManagedCharger> {
        let now = self.now();
        self.check_charger_site(settings.site_id, operator_id).await?;
        let new = NewCharger {
            station_id: station.as_str().to_owned(),
            operator_id: Some(operator_id),
            site_id: settings.site_id,
            registration: registration(settings.registration.as_deref())?.unwrap_or(Registration::Accepted),
            auth_key_hash: hashed_key(settings.auth_key).await?,
        };
        let created =
            self.store.write(move |tx| Box::pin(async move { chargers::create_charger(tx, &new, now).await })).await;
        match created {
            Err(e) if e.is_unique_violation() => {
                return Err(Error::conflict(format!("charger {station} is already registered")));
            }
            Err(e) if e.is_foreign_key_violation() => {
                return Err(Error::not_found(format!("operator {operator_id}")));
            }
            other => other?,
        }
        self.managed_charger_status(station.as_str(), None).await
    }

    /// Changes a charger's site, key, registration or (when `operator_id` is given) operator; returns
    /// it as it is then, within `scope`.
    pub async fn update_charger(
        &self,
        charger: &Charger,
        operator_id: Option<i64>,
        settings: ChargerSettings,
        scope: Scope,
    ) -> Outcome<ManagedCharger> {
        let owner = operator_id.or(charger.operator_id);
        if let Some(owner) = owner {
            self.check_charger_site(settings.site_id, owner).await?;
        } else if settings.site_id.is_some() {
            return Err(Error::invalid("assign the charger to an operator before giving it a site"));
        }
        let update = ChargerUpdate {
            operator_id,
            site_id: settings.site_id.map(Some),
            registration: registration(settings.registration.as_deref())?,
            auth_key_hash: hashed_key(settings.auth_key).await?.map(Some),
        };
        let changed = charger.station_id.clone();
        let updated = self
            .store
            .write(move |tx| Box::pin(async move { chargers::update_charger(tx, &changed, &update).await }))
            .await;
        match updated {
            Err(e) if e.is_foreign_key_violation() => {
                return Err(Error::not_found(format!("operator {owner:?}")));
            }
            other => other?,
        };
        // A charger moved between sites changes both sites' locations.
        self.note(Change::Everything);
        self.managed_charger_status(&charger.station_id, scope).await
    }

    /// Removes a charger that never ran a session.
    pub async fn delete_charger(&self, station_id: &str) -> Outcome<()> {
        let station_id = station_id.to_owned();
        let deleted =
            self.store.write(move |tx| Box::pin(async move { chargers::delete_charger(tx, &station_id).await })).await;
        match deleted {
            Err(e) if e.is_foreign_key_violation() => Err(Error::conflict(
                "the charger has sessions, commands or a commissioning record; set its registration to Rejected instead",
            )),
            other => other.map(drop).map_err(Error::from),
        }
    }

    /// The charger's last `limit` status reports, newest first.
    pub async fn charger_status_history(&self, station_id: &str, limit: i64) -> Outcome<Vec<ConnectorState>> {
        let station_id = station_id.to_owned();
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { chargers::status_history(conn, &station_id, limit).await }))
            .await?)
    }

    /// The last `limit` messages charger `station_id` (within `scope`) sent that the node still
    /// remembers (`gateway.message_memory_days`), with the node's replies, newest first.
    pub async fn charger_messages(&self, station_id: &str, scope: Scope, limit: i64) -> Outcome<Vec<ReceivedMessage>> {
        let station_id = self.managed_charger(station_id, scope).await?.station_id;
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { messages::recent(conn, &station_id, limit).await }))
            .await?)
    }

    /// Sends a command to a connected charger on behalf of staff member `requested_by`, and waits for
    /// its answer.
    pub async fn command_charger(
        &self,
        station: &StationId,
        command: ChargerCommand,
        requested_by: i64,
    ) -> Outcome<CommandRecord> {
        if !self.link.is_connected(station) {
            return Err(Error::refused("charger_not_connected", format!("charger {station} is not connected")));
        }
        Ok(self.send_command(station, command, Some(requested_by)).await?)
    }

    /// A command sent earlier to a charger within `scope`.
    pub async fn charger_command(&self, id: i64, scope: Scope) -> Outcome<CommandRecord> {
        let not_found = || Error::not_found(format!("command {id}"));
        let record = self.store.read(move |conn| Box::pin(commands::get_command(conn, id))).await?;
        let record = record.ok_or_else(not_found)?;
        self.managed_charger(&record.station_id, scope).await.map_err(|_| not_found())?;
        Ok(record)
    }
}
