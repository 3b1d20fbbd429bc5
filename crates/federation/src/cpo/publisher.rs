//! Pushes this node's objects to the other members when they change: every round it computes its
//! tariffs and locations (for every other member) and its sessions and CDRs of other members' drivers (for the
//! driver's member), compares each with a digest of what the member was last sent, and queues the
//! changed ones in the outbox (with the new digest, in one transaction). A restart, or a member
//! admitted later, gets what it lacks the same way.

use super::charges;
use super::locations::locations;
use super::sent::Sent;
use super::tariffs;
use crate::Federation;
use crate::client::Peers;
use chargemesh_operations::Outcome;
use chargemesh_protocol::ocpi::VERSION;
use std::sync::Arc;
use std::time::Duration;

/// Where a member takes pushed locations, after its OCPI base URL and version.
pub const RECEIVER: &str = "emsp/locations";

pub async fn run(federation: Arc<Federation>, peers: Arc<Peers>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = publish(&federation, &peers).await {
            tracing::warn!(error = %e, "this node's objects could not be published to the other members; retrying");
        }
    }
}

async fn publish(federation: &Federation, peers: &Peers) -> Outcome<()> {
    let locations = locations(federation).await?;
    let operations = &federation.operations;
    let sent = Sent::load(operations).await?;
    let tariffs = tariffs::published(federation, &locations).await?;
    for peer in peers.others() {
        // Tariffs first, so that a member has a tariff before a connector names it.
        for tariff in &tariffs {
            let body = serde_json::to_string(tariff).expect("a tariff serializes");
            let receiver = tariffs::RECEIVER;
            let path = format!("/{VERSION}/{receiver}/{}/{}/{}", tariff.country_code, tariff.party_id, tariff.id);
            sent.queue_if_changed(operations, &peer, &format!("tariff:{}", tariff.id), ("PUT", &path, &body)).await?;
        }
        for location in &locations {
            let body = serde_json::to_string(location).expect("a location serializes");
            let path = format!("/{VERSION}/{RECEIVER}/{}/{}/{}", location.country_code, location.party_id, location.id);
            sent.queue_if_changed(operations, &peer, &format!("location:{}", location.id), ("PUT", &path, &body))
                .await?;
        }
    }
    charges::publish(federation, &locations, &sent).await
}
