//! Delivers the outbox: every message to another member is sent until the member acknowledges it,
//! after failures with back-off (1 s, 2 s, 4 s … up to five minutes). Messages are kept in the
//! database, so a restart resumes where delivery stood; receivers treat a message delivered twice
//! (acknowledged, but the acknowledgement lost) as once.

use crate::client::Peers;
use chargemesh_operations::{Operations, Outcome};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// How many due messages one round sends.
const PER_ROUND: i64 = 100;
const MAX_BACKOFF: SignedDuration = SignedDuration::from_secs(300);

/// How long delivered messages are kept (to see what was sent), and how often they are purged.
const KEEP_DELIVERED: SignedDuration = SignedDuration::from_hours(7 * 24);
const PURGE_EVERY: Duration = Duration::from_secs(3_600);
/// How often the gauge of waiting messages is refreshed.
const GAUGE_EVERY: Duration = Duration::from_secs(10);

pub async fn run(operations: Operations, peers: Arc<Peers>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let due = |last: Option<tokio::time::Instant>, every| last.is_none_or(|at| at.elapsed() >= every);
    let (mut purged_at, mut counted_at) = (None, None);
    loop {
        ticker.tick().await;
        if let Err(e) = deliver_due(&operations, &peers).await {
            tracing::warn!(error = %e, "the OCPI outbox could not be read; retrying");
        }
        if due(purged_at, PURGE_EVERY) {
            purged_at = Some(tokio::time::Instant::now());
            let before = Timestamp::now() - KEEP_DELIVERED;
            let purged = operations.purge_delivered_member_messages(before).await;
            if let Err(e) = purged {
                tracing::warn!(error = %e, "delivered OCPI messages could not be purged; retrying later");
            }
        }
        if due(counted_at, GAUGE_EVERY) {
            counted_at = Some(tokio::time::Instant::now());
            if let Ok(waiting) = operations.undelivered_member_messages().await {
                metrics::gauge!("chargemesh_ocpi_outbox_undelivered").set(waiting as f64);
            }
        }
    }
}

async fn deliver_due(operations: &Operations, peers: &Peers) -> Outcome<()> {
    let due = operations.member_messages_due(PER_ROUND).await?;
    for message in due {
        let body = (!message.body.is_empty()).then_some(message.body.as_str());
        let outcome = peers.send(&message.peer, &message.method, &message.path, body).await;
        let id = message.id;
        match outcome {
            Ok(_) => operations.member_message_delivered(id).await?,
            Err(error) => {
                let retry_at = Timestamp::now() + backoff(message.attempts);
                tracing::warn!(peer = %message.peer, path = %message.path, attempts = message.attempts + 1, %error,
                    "an OCPI message was not acknowledged; it will be sent again");
                operations.member_message_failed(id, error.to_string(), retry_at).await?;
            }
        }
    }
    Ok(())
}

/// The wait after the `attempts`-th failure: doubling from one second, at most five minutes.
fn backoff(attempts: i64) -> SignedDuration {
    let exponent = u32::try_from(attempts.clamp(0, 16)).expect("clamped");
    SignedDuration::from_secs(1i64 << exponent).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    #[test]
    fn back_off_doubles_up_to_five_minutes() {
        let waits: Vec<i64> = [0, 1, 2, 8, 9, 1000].map(|n| super::backoff(n).as_secs()).to_vec();
        assert_eq!(waits, [1, 2, 4, 256, 300, 300]);
    }
}
