//! OCPI between members, what must survive a restart: the outbox of messages to other members
//! (kept until acknowledged), the digests of what was last published to each, and the locations
//! other members published here.

use crate::{Conn, Result, Row, StoreError, instant, millis, query};
use chargemesh_core::roaming_start::RoamingStartState;
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

/// What each peer was last sent (or is being sent) about each object: (peer, object key, digest).
pub async fn digests(conn: &mut Conn) -> Result<Vec<(String, String, String)>> {
    query("SELECT peer, object_key, digest FROM ocpi_published")
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get("peer")?, row.try_get("object_key")?, row.try_get("digest")?)))
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

/// Removes messages delivered before `before`; returns how many.
pub async fn purge_delivered(conn: &mut Conn, before: Timestamp) -> Result<u64> {
    query("DELETE FROM ocpi_outbox WHERE delivered_at IS NOT NULL AND delivered_at < $1")
        .bind(millis(before))
        .execute(conn)
        .await
}

/// How many messages wait for their peers' acknowledgement.
pub async fn undelivered(conn: &mut Conn) -> Result<i64> {
    let row = query("SELECT COUNT(*) AS n FROM ocpi_outbox WHERE delivered_at IS NULL").fetch_one(conn).await?;
    row.try_get("n")
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

/// What other members push to this node: their locations and their tariffs, the newest version of
/// each kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Location,
    Tariff,
}

impl Pushed {
    fn table(self) -> &'static str {
        match self {
            Pushed::Location => "roaming_locations",
            Pushed::Tariff => "roaming_tariffs",
        }
    }
}

/// An object another member pushed (OCPI JSON), by the member and the object's id.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedObject {
    pub cpo: String,
    pub id: String,
    pub body: String,
    pub last_updated: Timestamp,
}

/// Keeps `object` unless a newer version is kept already (pushes may arrive out of order, and
/// twice; one with the same `last_updated` replaces, as a live status may change without it).
/// Returns whether it was kept.
pub async fn receive_pushed(conn: &mut Conn, kind: Pushed, object: &PushedObject, now: Timestamp) -> Result<bool> {
    let table = kind.table();
    let changed = query(format!(
        "INSERT INTO {table} (cpo, object_id, body, last_updated, received_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (cpo, object_id) DO UPDATE SET body = excluded.body, last_updated = excluded.last_updated, \
         received_at = excluded.received_at WHERE {table}.last_updated <= excluded.last_updated"
    ))
    .bind(&object.cpo)
    .bind(&object.id)
    .bind(&object.body)
    .bind(millis(object.last_updated))
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Other members' pushed objects of a kind, of one member or of all.
pub async fn pushed(conn: &mut Conn, kind: Pushed, cpo: Option<&str>) -> Result<Vec<PushedObject>> {
    query(format!(
        "SELECT cpo, object_id, body, last_updated FROM {} WHERE ($1 IS NULL OR cpo = $1) ORDER BY cpo, object_id",
        kind.table()
    ))
    .bind(cpo)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(PushedObject {
            cpo: row.try_get("cpo")?,
            id: row.try_get("object_id")?,
            body: row.try_get("body")?,
            last_updated: instant(row.try_get("last_updated")?)?,
        })
    })
    .collect()
}

/// A start this node's driver asked for at another member's charger.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RoamingStart {
    pub id: String,
    pub id_token: String,
    /// The operator whose driver's token it charges: only its staff (and the member's) see it.
    pub operator_id: Option<i64>,
    /// The member whose charger it is.
    pub cpo: String,
    pub location_id: String,
    pub evse_uid: String,
    /// `requested`; then `accepted`, `rejected` or `unreachable`; then the charger's result:
    /// `started`, `failed`, `timeout`, `evse_occupied`, ...
    pub state: RoamingStartState,
    pub message: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Records a start, sent to its member under `pseudonym`.
pub async fn create_start(conn: &mut Conn, start: &RoamingStart, pseudonym: &str) -> Result<()> {
    query(
        "INSERT INTO roaming_starts (id, id_token, operator_id, cpo, location_id, evse_uid, state, message, \
         created_at, updated_at, pseudonym) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&start.id)
    .bind(&start.id_token)
    .bind(start.operator_id)
    .bind(&start.cpo)
    .bind(&start.location_id)
    .bind(&start.evse_uid)
    .bind(start.state.name())
    .bind(&start.message)
    .bind(millis(start.created_at))
    .bind(millis(start.updated_at))
    .bind(pseudonym)
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
    from: Option<RoamingStartState>,
    state: RoamingStartState,
    message: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let changed = query(
        "UPDATE roaming_starts SET state = $3, message = $4, updated_at = $5 \
         WHERE id = $1 AND cpo = $2 AND ($6 IS NULL OR state = $6)",
    )
    .bind(id)
    .bind(cpo)
    .bind(state.name())
    .bind(message)
    .bind(millis(now))
    .bind(from.map(RoamingStartState::name))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

const START_SELECT: &str = "SELECT id, id_token, operator_id, cpo, location_id, evse_uid, state, message, created_at, updated_at \
     FROM roaming_starts";

fn roaming_start(row: Row) -> Result<RoamingStart> {
    Ok(RoamingStart {
        id: row.try_get("id")?,
        id_token: row.try_get("id_token")?,
        operator_id: row.try_get("operator_id")?,
        cpo: row.try_get("cpo")?,
        location_id: row.try_get("location_id")?,
        evse_uid: row.try_get("evse_uid")?,
        state: read_start_state(&row.try_get::<String, _>("state")?)?,
        message: row.try_get("message")?,
        created_at: instant(row.try_get("created_at")?)?,
        updated_at: instant(row.try_get("updated_at")?)?,
    })
}

fn read_start_state(text: &str) -> Result<RoamingStartState> {
    RoamingStartState::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("a roaming start in an unknown state {text:?}")))
}

pub async fn get_start(conn: &mut Conn, id: &str) -> Result<Option<RoamingStart>> {
    query(format!("{START_SELECT} WHERE id = $1")).bind(id).fetch_optional(conn).await?.map(roaming_start).transpose()
}

/// The token of this node's driver that was sent to member `cpo` as `pseudonym`, with its latest
/// start there.
pub async fn token_of_pseudonym(conn: &mut Conn, cpo: &str, pseudonym: &str) -> Result<Option<(String, String)>> {
    let row = query(
        "SELECT id_token, id FROM roaming_starts WHERE cpo = $1 AND pseudonym = $2 ORDER BY created_at DESC, id LIMIT 1",
    )
    .bind(cpo)
    .bind(pseudonym)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok((row.try_get("id_token")?, row.try_get("id")?))).transpose()
}

/// Starts recorded without the pseudonym they were sent under (before it was kept): (id, member, token).
pub async fn starts_without_pseudonym(conn: &mut Conn) -> Result<Vec<(String, String, String)>> {
    query("SELECT id, cpo, id_token FROM roaming_starts WHERE pseudonym IS NULL")
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("cpo")?, row.try_get("id_token")?)))
        .collect()
}

/// Keeps the pseudonym start `id` was sent under.
pub async fn set_start_pseudonym(conn: &mut Conn, id: &str, pseudonym: &str) -> Result<()> {
    query("UPDATE roaming_starts SET pseudonym = $2 WHERE id = $1").bind(id).bind(pseudonym).execute(conn).await?;
    Ok(())
}

/// The newest `limit` starts of the drivers of `operator_id` (all, for `None`), made before `before`
/// if given.
pub async fn recent_starts(
    conn: &mut Conn,
    operator_id: Option<i64>,
    before: Option<Timestamp>,
    limit: i64,
) -> Result<Vec<RoamingStart>> {
    newest_starts(conn, "($1 IS NULL OR operator_id = $1)", operator_id, before, limit).await
}

/// The starts made with the tokens of driver account `driver_id`, newest first, made before
/// `before` if given.
pub async fn starts_of_driver(
    conn: &mut Conn,
    driver_id: i64,
    before: Option<Timestamp>,
    limit: i64,
) -> Result<Vec<RoamingStart>> {
    let of_driver = "id_token IN (SELECT id_token FROM tokens WHERE driver_id = $1)";
    newest_starts(conn, of_driver, Some(driver_id), before, limit).await
}

/// The newest `limit` starts that meet `condition` on `$1` = `whose`, made before `before` if given.
async fn newest_starts(
    conn: &mut Conn,
    condition: &str,
    whose: Option<i64>,
    before: Option<Timestamp>,
    limit: i64,
) -> Result<Vec<RoamingStart>> {
    query(format!(
        "{START_SELECT} WHERE {condition} AND ($2 IS NULL OR created_at < $2) ORDER BY created_at DESC, id LIMIT $3"
    ))
    .bind(whose)
    .bind(before.map(millis))
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(roaming_start)
    .collect()
}

/// The id the charger knows member `member`'s reservation `reservation_id` by: the one it has (the
/// reservation is then replaced: charger, token, expiry), else a new one.
pub async fn reservation_for(
    conn: &mut Conn,
    (member, reservation_id): (&str, &str),
    station_id: &str,
    id_token: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<i64> {
    query(
        "INSERT INTO ocpi_reservations (member, reservation_id, station_id, id_token, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (member, reservation_id) DO UPDATE \
         SET station_id = excluded.station_id, id_token = excluded.id_token, expires_at = excluded.expires_at \
         RETURNING id",
    )
    .bind(member)
    .bind(reservation_id)
    .bind(station_id)
    .bind(id_token)
    .bind(millis(expires_at))
    .bind(millis(now))
    .fetch_one(conn)
    .await?
    .try_get(0)
}

/// Member `member`'s reservation `reservation_id`: the id the charger knows it by, and the charger.
pub async fn reservation(conn: &mut Conn, member: &str, reservation_id: &str) -> Result<Option<(i64, String)>> {
    let row = query("SELECT id, station_id FROM ocpi_reservations WHERE member = $1 AND reservation_id = $2")
        .bind(member)
        .bind(reservation_id)
        .fetch_optional(conn)
        .await?;
    row.map(|row| Ok((row.try_get("id")?, row.try_get("station_id")?))).transpose()
}

/// Records that `member` asked for a start at `station_id` for its token `id_token` under
/// `reference`; asking again under the same reference changes nothing.
pub async fn authorize(
    conn: &mut Conn,
    id_token: &str,
    station_id: &str,
    member: &str,
    reference: &str,
    now: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO ocpi_authorizations (id_token, station_id, member, reference, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (reference, member) DO NOTHING",
    )
    .bind(id_token)
    .bind(station_id)
    .bind(member)
    .bind(reference)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// A session of another member's driver at this node's chargers.
#[derive(Debug, Clone, PartialEq)]
pub struct RoamingCharge {
    pub session_id: i64,
    pub station_id: String,
    pub connector_id: i64,
    pub id_token: String,
    pub emsp: String,
    pub state: crate::sessions::SessionState,
    pub started_at: Timestamp,
    pub stopped_at: Option<Timestamp>,
    pub energy_mwh: i64,
    pub updated_at: Timestamp,
    /// The member's request this session answers, if it was started by command.
    pub authorization_reference: Option<String>,
    /// The priced CDR as saved, once priced.
    pub cdr_body: Option<String>,
}

/// How far from a session's start (by the charger's clock, which may be off, and whose messages
/// may come late) the member's request it answers may be.
const AUTHORIZATION_WINDOW_MS: i64 = 3_600_000;

/// Sessions of other members' drivers updated, or priced, at or after `since`, oldest first, each
/// with the member's request nearest its start, if any.
pub async fn roaming_charges(conn: &mut Conn, since: Timestamp) -> Result<Vec<RoamingCharge>> {
    query(
        "SELECT s.id, s.station_id, s.connector_id, s.id_token, s.roaming_member, s.state, s.started_at, \
         s.stopped_at, s.energy_mwh, s.updated_at, c.body AS cdr_body, \
         (SELECT a.reference FROM ocpi_authorizations a WHERE a.id_token = s.id_token AND a.station_id = s.station_id \
          AND a.member = s.roaming_member AND a.created_at BETWEEN s.started_at - $2 AND s.started_at + $2 \
          ORDER BY ABS(a.created_at - s.started_at) LIMIT 1) AS reference \
         FROM sessions s LEFT JOIN session_cdrs c ON c.session_id = s.id \
         WHERE s.roaming_member IS NOT NULL AND s.id IN (SELECT id FROM sessions \
          WHERE roaming_member IS NOT NULL AND updated_at >= $1 \
          UNION SELECT session_id FROM session_cdrs WHERE priced_at >= $1) ORDER BY s.id",
    )
    .bind(millis(since))
    .bind(AUTHORIZATION_WINDOW_MS)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        let stopped_at: Option<i64> = row.try_get("stopped_at")?;
        Ok(RoamingCharge {
            session_id: row.try_get("id")?,
            station_id: row.try_get("station_id")?,
            connector_id: row.try_get("connector_id")?,
            id_token: row.try_get("id_token")?,
            emsp: row.try_get("roaming_member")?,
            state: crate::sessions::read_state(&row.try_get::<String, _>("state")?)?,
            started_at: instant(row.try_get("started_at")?)?,
            stopped_at: stopped_at.map(instant).transpose()?,
            energy_mwh: row.try_get("energy_mwh")?,
            updated_at: instant(row.try_get("updated_at")?)?,
            authorization_reference: row.try_get("reference")?,
            cdr_body: row.try_get("cdr_body")?,
        })
    })
    .collect()
}

/// Keeps the newest version of a session another member sent about this node's driver. Returns
/// whether it was kept.
pub async fn receive_session(
    conn: &mut Conn,
    cpo: &str,
    session_id: &str,
    authorization_reference: Option<&str>,
    body: &str,
    last_updated: Timestamp,
    now: Timestamp,
) -> Result<bool> {
    let changed = query(
        "INSERT INTO roaming_sessions (cpo, session_id, authorization_reference, body, last_updated, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cpo, session_id) DO UPDATE SET \
         authorization_reference = excluded.authorization_reference, body = excluded.body, \
         last_updated = excluded.last_updated, received_at = excluded.received_at \
         WHERE roaming_sessions.last_updated <= excluded.last_updated",
    )
    .bind(cpo)
    .bind(session_id)
    .bind(authorization_reference)
    .bind(body)
    .bind(millis(last_updated))
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Keeps a CDR another member sent; the same CDR again changes nothing. Returns whether it is new.
pub async fn receive_cdr(
    conn: &mut Conn,
    cpo: &str,
    cdr_id: &str,
    session_id: &str,
    body: &str,
    now: Timestamp,
) -> Result<bool> {
    let inserted = query(
        "INSERT INTO roaming_cdrs (cpo, cdr_id, session_id, body, received_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (cpo, cdr_id) DO NOTHING",
    )
    .bind(cpo)
    .bind(cdr_id)
    .bind(session_id)
    .bind(body)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(inserted > 0)
}

/// The session (OCPI JSON) a member sent for this node's start `reference`, and its CDR if any.
pub async fn charge_of_start(conn: &mut Conn, cpo: &str, reference: &str) -> Result<Option<(String, Option<String>)>> {
    let row = query(
        "SELECT s.body, c.body AS cdr FROM roaming_sessions s \
         LEFT JOIN roaming_cdrs c ON c.cpo = s.cpo AND c.session_id = s.session_id \
         WHERE s.cpo = $1 AND s.authorization_reference = $2 ORDER BY s.received_at DESC LIMIT 1",
    )
    .bind(cpo)
    .bind(reference)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok((row.try_get("body")?, row.try_get("cdr")?))).transpose()
}

/// An undelivered message, for operators: where it goes and why it has not arrived.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PendingMessage {
    pub peer: String,
    pub method: String,
    pub path: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
}

/// Up to `limit` undelivered messages, oldest first.
pub async fn pending(conn: &mut Conn, limit: i64) -> Result<Vec<PendingMessage>> {
    query(
        "SELECT peer, method, path, attempts, last_error, created_at, next_attempt_at FROM ocpi_outbox \
         WHERE delivered_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(PendingMessage {
            peer: row.try_get("peer")?,
            method: row.try_get("method")?,
            path: row.try_get("path")?,
            attempts: row.try_get("attempts")?,
            last_error: row.try_get("last_error")?,
            created_at: instant(row.try_get("created_at")?)?,
            next_attempt_at: instant(row.try_get("next_attempt_at")?)?,
        })
    })
    .collect()
}

/// Records a member request (the digest of what it signed), signed at `signed_at`, unless it was
/// seen before: true the first time, false for a replay. Requests signed before `forget_before`
/// (too old to be accepted again anyway) are forgotten.
pub async fn first_sight(
    conn: &mut Conn,
    request: &str,
    signed_at: Timestamp,
    forget_before: Timestamp,
) -> Result<bool> {
    query("DELETE FROM member_requests_seen WHERE signed_at < $1")
        .bind(millis(forget_before))
        .execute(&mut *conn)
        .await?;
    let inserted = query(
        "INSERT INTO member_requests_seen (request_digest, signed_at) VALUES ($1, $2) ON CONFLICT (request_digest) DO NOTHING",
    )
    .bind(request)
    .bind(millis(signed_at))
    .execute(conn)
    .await?;
    Ok(inserted == 1)
}
