//! Replies already given to charger messages, so a repeated message gets the same answer and its
//! effect happens once.

use crate::{Conn, Result, instant, millis, query};
use jiff::Timestamp;

/// A message seen before from the same station with the same id.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenMessage {
    pub action: String,
    pub payload_digest: String,
    pub reply: String,
}

/// Remembers the reply to a message; a charger that reuses an id for a new message replaces the entry.
pub async fn remember(
    conn: &mut Conn,
    station_id: &str,
    message_id: &str,
    action: &str,
    payload_digest: &str,
    reply: &str,
    now: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO charger_messages (station_id, message_id, action, payload_digest, reply, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (station_id, message_id) DO UPDATE SET \
         action = excluded.action, payload_digest = excluded.payload_digest, reply = excluded.reply, \
         received_at = excluded.received_at",
    )
    .bind(station_id)
    .bind(message_id)
    .bind(action)
    .bind(payload_digest)
    .bind(reply)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets replies older than `before`; chargers retry within minutes, not weeks.
pub async fn forget_before(conn: &mut Conn, before: Timestamp) -> Result<u64> {
    let done = query("DELETE FROM charger_messages WHERE received_at < $1").bind(millis(before)).execute(conn).await?;
    Ok(done)
}

/// A message a charger sent, with the node's reply, as remembered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub action: String,
    /// The node's reply, as kept to answer a repeat alike.
    pub reply: String,
    pub received_at: Timestamp,
}

/// The newest `limit` messages station `station_id` sent that are still remembered, newest first.
pub async fn recent(conn: &mut Conn, station_id: &str, limit: i64) -> Result<Vec<ReceivedMessage>> {
    query(
        "SELECT message_id, action, reply, received_at FROM charger_messages WHERE station_id = $1 \
         ORDER BY received_at DESC, message_id DESC LIMIT $2",
    )
    .bind(station_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(ReceivedMessage {
            message_id: row.try_get("message_id")?,
            action: row.try_get("action")?,
            reply: row.try_get("reply")?,
            received_at: instant(row.try_get("received_at")?)?,
        })
    })
    .collect()
}
