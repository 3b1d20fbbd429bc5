//! Pushes this node's objects to the other members when they change. Operations notes what changed
//! (a charger's status or connection, a site, a tariff's new version, a session) and wakes the
//! publisher; a round reads only that: the locations of the sites concerned, the tariffs with a new
//! version that connectors name, and the sessions updated or priced since the last round. Each
//! object is compared with a digest of what the member was last sent and queued in the outbox (with
//! the new digest, in one transaction) only when it differs.
//!
//! A round compares everything at start, when the members change, after a change that many objects
//! show, and every `publish_everything_interval_ms`: a restart, a member admitted later or a change
//! noted nowhere gets what it lacks that way.

use super::charges;
use super::locations::locations;
use super::sent::Sent;
use super::tariffs;
use crate::Federation;
use crate::client::Peers;
use chargemesh_operations::Outcome;
use chargemesh_operations::changes::Changed;
use chargemesh_protocol::ocpi::VERSION;
use chargemesh_protocol::ocpi::locations::Location;
use chargemesh_protocol::ocpi::tariffs::Tariff;
use chargemesh_store::locations::Which;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Where a member takes pushed locations, after its OCPI base URL and version.
pub const RECEIVER: &str = "emsp/locations";

/// Sessions updated within this long are compared when everything is.
const LOOKBACK: SignedDuration = SignedDuration::from_hours(48);
/// How far before the last round's start a round reads updated sessions: a write that took its
/// time before the last round read, but committed after it, is still read.
const OVERLAP: SignedDuration = SignedDuration::from_secs(10);

pub async fn run(
    federation: Arc<Federation>,
    peers: Arc<Peers>,
    (interval, everything_interval): (Duration, Duration),
) {
    // Followed before the first round reads anything, so that no change falls between.
    let changes = federation.operations.follow_changes();
    let mut publisher = Publisher::default();
    loop {
        let started = Instant::now();
        let mut changed = changes.take();
        changed.everything |= publisher.needs_everything(&peers, everything_interval);
        if let Err(e) = publisher.round(&federation, &peers, changed).await {
            publisher.compared_everything_at = None;
            tracing::warn!(error = %e, "this node's objects could not be published to the other members; retrying");
        }
        // At most one round per interval: what is noted meanwhile goes in the next one. The members
        // are looked at every interval, which costs no read.
        tokio::time::sleep_until(started + interval).await;
        tokio::select! {
            () = changes.noted() => {}
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// What the publisher keeps between rounds.
#[derive(Default)]
struct Publisher {
    /// What each member was last sent (read when everything is compared, kept up to date after).
    sent: Sent,
    /// The members everything was last compared for.
    members: Vec<String>,
    compared_everything_at: Option<Instant>,
    /// The tariffs published connectors named when everything was last compared.
    named_tariffs: BTreeSet<String>,
    /// When the last round that read updated sessions started.
    sessions_read_at: Option<Timestamp>,
}

impl Publisher {
    fn needs_everything(&self, peers: &Peers, interval: Duration) -> bool {
        self.compared_everything_at.is_none_or(|at| at.elapsed() >= interval) || peers.others() != self.members
    }

    async fn round(&mut self, federation: &Federation, peers: &Peers, changed: Changed) -> Outcome<()> {
        let started = Timestamp::now();
        if changed.everything {
            return self.compare_everything(federation, peers, started).await;
        }
        let mut shown = Vec::new();
        for site in &changed.sites {
            shown.extend(locations(federation, Which::Site(*site)).await?);
        }
        for station in &changed.stations {
            if !shown.iter().any(|l: &Location| l.evses.iter().any(|e| e.uid == *station)) {
                shown.extend(locations(federation, Which::OfStation(station.clone())).await?);
            }
        }
        let renewed: BTreeSet<String> = changed.tariffs.intersection(&self.named_tariffs).cloned().collect();
        let tariffs = tariffs::latest(federation, renewed).await?;
        let members = self.members.clone();
        self.queue_objects(federation, &members, &tariffs, &shown).await?;
        if changed.sessions {
            let since = self.sessions_read_at.map_or(started - LOOKBACK, |at| at - OVERLAP);
            charges::publish(federation, since, &mut self.sent).await?;
            self.sessions_read_at = Some(started);
        }
        Ok(())
    }

    async fn compare_everything(&mut self, federation: &Federation, peers: &Peers, started: Timestamp) -> Outcome<()> {
        let members = peers.others();
        self.sent = Sent::load(&federation.operations).await?;
        let all = locations(federation, Which::All).await?;
        self.named_tariffs = tariffs::named_by(&all);
        let tariffs = tariffs::latest(federation, self.named_tariffs.clone()).await?;
        self.queue_objects(federation, &members, &tariffs, &all).await?;
        charges::publish(federation, started - LOOKBACK, &mut self.sent).await?;
        (self.members, self.sessions_read_at) = (members, Some(started));
        self.compared_everything_at = Some(Instant::now());
        Ok(())
    }

    /// Queues for each of `members` the tariffs, then the locations, that differ from what it was sent.
    async fn queue_objects(
        &mut self,
        federation: &Federation,
        members: &[String],
        tariffs: &[Tariff],
        locations: &[Location],
    ) -> Outcome<()> {
        let operations = &federation.operations;
        for peer in members {
            // Tariffs first, so that a member has a tariff before a connector names it.
            for tariff in tariffs {
                let body = serde_json::to_string(tariff).expect("a tariff serializes");
                let receiver = tariffs::RECEIVER;
                let path = format!("/{VERSION}/{receiver}/{}/{}/{}", tariff.country_code, tariff.party_id, tariff.id);
                let key = format!("tariff:{}", tariff.id);
                self.sent.queue_if_changed(operations, peer, &key, ("PUT", &path, &body)).await?;
            }
            for location in locations {
                let body = serde_json::to_string(location).expect("a location serializes");
                let path =
                    format!("/{VERSION}/{RECEIVER}/{}/{}/{}", location.country_code, location.party_id, location.id);
                let key = format!("location:{}", location.id);
                self.sent.queue_if_changed(operations, peer, &key, ("PUT", &path, &body)).await?;
            }
        }
        Ok(())
    }
}
