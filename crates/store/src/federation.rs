//! OCPI between members, what must survive a restart: the outbox of messages to other members
//! (kept until acknowledged), the digests of what was last published to each, and the locations
//! other members published here.

use crate::{Conn, Result, instant, millis, query};
use jiff::Timestamp;

/// A message waiting for its peer's acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub peer: String,
    pub method: String,
    pub path: String,
    pub body: String,
    pub attempts: i64,
}

/// Queues a message to `peer` about `object_key`, replacing an undelivered one about the same
/// object, and records `digest` (if any) as what the peer is now to know of it.
pub async fn enqueue(
    conn: &mut Conn,
    peer: &str,
    object_key: &str,
    digest: Option<&str>,
    (method, path, body): (&str, &str, &str),
    now: Timestamp,
) -> Result<()> {
    query("DELETE FROM ocpi_outbox WHERE peer = $1 AND object_key = $2 AND delivered_at IS NULL")
        .bind(peer)
        .bind(object_key)
        .execute(&mut *conn)
        .await?;
    query(
        "INSERT INTO ocpi_outbox (peer, object_key, method, path, body, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(peer)
    .bind(object_key)
    .bind(method)
    .bind(path)
    .bind(body)
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    let Some(digest) = digest else { return Ok(()) };
    query(
        "INSERT INTO ocpi_published (peer, object_key, digest) VALUES ($1, $2, $3) \
         ON CONFLICT (peer, object_key) DO UPDATE SET digest = excluded.digest",
    )
    .bind(peer)
    .bind(object_key)
    .bind(digest)
    .execute(conn)
    .await?;
    Ok(())
}

/// What `peer` was last sent (or is being sent) about each object: (object key, digest).
pub async fn published(conn: &mut Conn, peer: &str) -> Result<Vec<(String, String)>> {
    query("SELECT object_key, digest FROM ocpi_published WHERE peer = $1")
        .bind(peer)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get("object_key")?, row.try_get("digest")?)))
        .collect()
}

/// Up to `limit` undelivered messages due at `now`, oldest first.
pub async fn due(conn: &mut Conn, now: Timestamp, limit: i64) -> Result<Vec<OutboxMessage>> {
    query(
        "SELECT id, peer, method, path, body, attempts FROM ocpi_outbox \
         WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
    )
    .bind(millis(now))
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(OutboxMessage {
            id: row.try_get("id")?,
            peer: row.try_get("peer")?,
            method: row.try_get("method")?,
            path: row.try_get("path")?,
            body: row.try_get("body")?,
            attempts: row.try_get("attempts")?,
        })
    })
    .collect()
}

pub async fn delivered(conn: &mut Conn, id: i64, now: Timestamp) -> Result<()> {
    query("UPDATE ocpi_outbox SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1")
        .bind(id)
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt and when to try again.
pub async fn failed(conn: &mut Conn, id: i64, error: &str, retry_at: Timestamp) -> Result<()> {
    query("UPDATE ocpi_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1")
        .bind(id)
        .bind(error)
        .bind(millis(retry_at))
        .execute(conn)
        .await?;
    Ok(())
}

/// A location another member published.
#[derive(Debug, Clone, PartialEq)]
pub struct RoamingLocation {
    pub cpo: String,
    pub location_id: String,
    /// The OCPI Location, JSON.
    pub body: String,
    pub last_updated: Timestamp,
}

/// Keeps `location` unless a newer version is kept already (pushes may arrive out of order, and
/// twice; one with the same `last_updated` replaces, as a live status may change without it).
/// Returns whether it was kept.
pub async fn receive_location(conn: &mut Conn, location: &RoamingLocation, now: Timestamp) -> Result<bool> {
    let changed = query(
        "INSERT INTO roaming_locations (cpo, location_id, body, last_updated, received_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (cpo, location_id) DO UPDATE SET body = excluded.body, last_updated = excluded.last_updated, \
         received_at = excluded.received_at WHERE roaming_locations.last_updated <= excluded.last_updated",
    )
    .bind(&location.cpo)
    .bind(&location.location_id)
    .bind(&location.body)
    .bind(millis(location.last_updated))
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Other members' locations, of one member or of all.
pub async fn roaming_locations(conn: &mut Conn, cpo: Option<&str>) -> Result<Vec<RoamingLocation>> {
    query(
        "SELECT cpo, location_id, body, last_updated FROM roaming_locations WHERE ($1 IS NULL OR cpo = $1) \
         ORDER BY cpo, location_id",
    )
    .bind(cpo)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(RoamingLocation {
            cpo: row.try_get("cpo")?,
            location_id: row.try_get("location_id")?,
            body: row.try_get("body")?,
            last_updated: instant(row.try_get("last_updated")?)?,
        })
    })
    .collect()
}

/// A start this node's driver asked for at another member's charger.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RoamingStart {
    pub id: String,
    pub id_token: String,
    /// The member whose charger it is.
    pub cpo: String,
    pub location_id: String,
    pub evse_uid: String,
    /// `requested`; then `accepted`, `rejected` or `unreachable`; then the charger's result:
    /// `started`, `failed`, `timeout`, `evse_occupied`, ...
    pub state: String,
    pub message: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

pub async fn create_start(conn: &mut Conn, start: &RoamingStart) -> Result<()> {
    query(
        "INSERT INTO roaming_starts (id, id_token, cpo, location_id, evse_uid, state, message, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&start.id)
    .bind(&start.id_token)
    .bind(&start.cpo)
    .bind(&start.location_id)
    .bind(&start.evse_uid)
    .bind(&start.state)
    .bind(&start.message)
    .bind(millis(start.created_at))
    .bind(millis(start.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a start of `cpo` to `state` (only from state `from`, if given); false when there is no
/// such start of that member in that state.
pub async fn update_start(
    conn: &mut Conn,
    id: &str,
    cpo: &str,
    from: Option<&str>,
    state: &str,
    message: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let changed = query(
        "UPDATE roaming_starts SET state = $3, message = $4, updated_at = $5 \
         WHERE id = $1 AND cpo = $2 AND ($6 IS NULL OR state = $6)",
    )
    .bind(id)
    .bind(cpo)
    .bind(state)
    .bind(message)
    .bind(millis(now))
    .bind(from)
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

pub async fn get_start(conn: &mut Conn, id: &str) -> Result<Option<RoamingStart>> {
    let row = query(
        "SELECT id, id_token, cpo, location_id, evse_uid, state, message, created_at, updated_at FROM roaming_starts \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(RoamingStart {
            id: row.try_get("id")?,
            id_token: row.try_get("id_token")?,
            cpo: row.try_get("cpo")?,
            location_id: row.try_get("location_id")?,
            evse_uid: row.try_get("evse_uid")?,
            state: row.try_get("state")?,
            message: row.try_get("message")?,
            created_at: instant(row.try_get("created_at")?)?,
            updated_at: instant(row.try_get("updated_at")?)?,
        })
    })
    .transpose()
}
