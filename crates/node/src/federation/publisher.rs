//! Pushes this node's locations to the other members when they change: every round it computes
//! them, compares each with a digest of what each member was last sent, and queues the changed ones
//! in the outbox (with the new digest, in one transaction). A restart, or a member admitted later,
//! gets what it lacks the same way.

use super::locations::locations;
use super::{Federation, client::Peers};
use chargemesh_protocol::ocpi::VERSION;
use chargemesh_store::federation;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
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
            tracing::warn!(error = %e, "the locations could not be published to the other members; retrying");
        }
    }
}

async fn publish(federation: &Federation, peers: &Peers) -> Result<(), chargemesh_store::StoreError> {
    let locations = locations(federation).await?;
    if locations.is_empty() {
        return Ok(());
    }
    let store = federation.operations.store();
    for peer in peers.others() {
        let known = {
            let peer = peer.clone();
            store.read(move |conn| Box::pin(async move { federation::published(conn, &peer).await })).await?
        };
        let known: HashMap<String, String> = known.into_iter().collect();
        for location in &locations {
            let body = serde_json::to_string(location).expect("a location serializes");
            let digest = hex::encode(Sha256::digest(body.as_bytes()));
            let key = format!("location:{}", location.id);
            if known.get(&key) == Some(&digest) {
                continue;
            }
            let path = format!("/{VERSION}/{RECEIVER}/{}/{}/{}", location.country_code, location.party_id, location.id);
            let peer = peer.clone();
            store
                .write(move |tx| {
                    Box::pin(async move {
                        let message = ("PUT", path.as_str(), body.as_str());
                        federation::enqueue(tx, &peer, &key, Some(&digest), message, Timestamp::now()).await
                    })
                })
                .await?;
        }
    }
    Ok(())
}
