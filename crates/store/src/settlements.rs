//! Settlements of this node's drivers' charges at other members' chargers: each CDR a member sent,
//! checked against the ledger's anchor of it, then charged to the driver; its states are
//! [`SettlementState`]'s.

use crate::{Conn, Result, Row, StoreError, instant, millis, query};
use chargemesh_core::settlement::SettlementState;
use chargemesh_core::settlement::SettlementState::{AwaitingAnchor, Disputed, Resolved, Verified};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settlement {
    /// The member whose charger it was, and its CDR id (the id the ledger anchors it under).
    pub cpo: String,
    pub cdr_id: String,
    pub start_id: String,
    #[serde(skip)]
    pub id_token: String,
    pub state: SettlementState,
    /// Why the CDR was not charged, or the payment's failure.
    pub problem: Option<String>,
    pub currency: Option<String>,
    /// Minor units, tax included, as the ledger priced the CDR.
    pub amount: Option<i64>,
    /// The block that anchors the CDR.
    pub height: Option<i64>,
    /// The hash of the priced CDR the ledger holds (hex).
    pub cdr_hash: Option<String>,
    pub payment_reference: Option<String>,
    /// The reason this member disputed the CDR on the ledger with.
    pub dispute_reason: Option<String>,
    /// What the driver got back when the members settled the disputed CDR for less (minor units).
    pub refunded: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const SELECT: &str = "SELECT cpo, cdr_id, start_id, id_token, state, problem, currency, amount, height, cdr_hash, \
    payment_reference, dispute_reason, refunded, created_at, updated_at FROM roaming_settlements";

fn settlement(row: Row) -> Result<Settlement> {
    Ok(Settlement {
        cpo: row.try_get("cpo")?,
        cdr_id: row.try_get("cdr_id")?,
        start_id: row.try_get("start_id")?,
        id_token: row.try_get("id_token")?,
        state: read_state(&row.try_get::<String, _>("state")?)?,
        problem: row.try_get("problem")?,
        currency: row.try_get("currency")?,
        amount: row.try_get("amount")?,
        height: row.try_get("height")?,
        cdr_hash: row.try_get("cdr_hash")?,
        payment_reference: row.try_get("payment_reference")?,
        dispute_reason: row.try_get("dispute_reason")?,
        refunded: row.try_get("refunded")?,
        created_at: instant(row.try_get("created_at")?)?,
        updated_at: instant(row.try_get("updated_at")?)?,
    })
}

fn read_state(name: &str) -> Result<SettlementState> {
    SettlementState::parse(name).ok_or_else(|| StoreError::Corrupt(format!("unknown settlement state {name:?}")))
}

/// A CDR a member sent about this node's driver, not settled yet, with the start it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsettled {
    pub cpo: String,
    pub cdr_id: String,
    /// The OCPI CDR as received.
    pub body: String,
    pub start_id: String,
    pub id_token: String,
}

/// Received CDRs with no settlement yet or still awaiting their anchor, oldest first.
pub async fn unsettled(conn: &mut Conn, limit: i64) -> Result<Vec<Unsettled>> {
    query(
        "SELECT c.cpo, c.cdr_id, c.body, r.id AS start_id, r.id_token FROM roaming_cdrs c \
         JOIN roaming_sessions s ON s.cpo = c.cpo AND s.session_id = c.session_id \
         JOIN roaming_starts r ON r.id = s.authorization_reference AND r.cpo = c.cpo \
         LEFT JOIN roaming_settlements t ON t.cpo = c.cpo AND t.cdr_id = c.cdr_id \
         WHERE t.cdr_id IS NULL OR t.state = $1 ORDER BY c.received_at LIMIT $2",
    )
    .bind(AwaitingAnchor.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(Unsettled {
            cpo: row.try_get("cpo")?,
            cdr_id: row.try_get("cdr_id")?,
            body: row.try_get("body")?,
            start_id: row.try_get("start_id")?,
            id_token: row.try_get("id_token")?,
        })
    })
    .collect()
}

/// Records what checking a CDR against the ledger found; only a settlement still awaiting its
/// anchor (or none yet) takes it. Returns whether it was recorded.
pub async fn record_check(conn: &mut Conn, checked: &Settlement) -> Result<bool> {
    let changed = query(
        "INSERT INTO roaming_settlements (cpo, cdr_id, start_id, id_token, state, problem, currency, amount, height, \
         cdr_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
         ON CONFLICT (cpo, cdr_id) DO UPDATE SET state = excluded.state, problem = excluded.problem, \
         currency = excluded.currency, amount = excluded.amount, height = excluded.height, \
         cdr_hash = excluded.cdr_hash, updated_at = excluded.updated_at \
         WHERE roaming_settlements.state = $12",
    )
    .bind(&checked.cpo)
    .bind(&checked.cdr_id)
    .bind(&checked.start_id)
    .bind(&checked.id_token)
    .bind(checked.state.as_str())
    .bind(&checked.problem)
    .bind(&checked.currency)
    .bind(checked.amount)
    .bind(checked.height)
    .bind(&checked.cdr_hash)
    .bind(millis(checked.updated_at))
    .bind(AwaitingAnchor.as_str())
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Verified settlements, to be charged to their drivers.
pub async fn to_charge(conn: &mut Conn, limit: i64) -> Result<Vec<Settlement>> {
    query(format!("{SELECT} WHERE state = $1 ORDER BY updated_at LIMIT $2"))
        .bind(Verified.as_str())
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(settlement)
        .collect()
}

/// Moves a verified settlement to what charging its driver gave (`charged`, `declined`,
/// `billed_elsewhere`). Returns whether it was still verified.
pub async fn charged(
    conn: &mut Conn,
    (cpo, cdr_id): (&str, &str),
    state: SettlementState,
    payment_reference: Option<&str>,
    problem: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let changed = query(
        "UPDATE roaming_settlements SET state = $3, payment_reference = $4, problem = $5, updated_at = $6 \
         WHERE cpo = $1 AND cdr_id = $2 AND state = $7",
    )
    .bind(cpo)
    .bind(cdr_id)
    .bind(state.as_str())
    .bind(payment_reference)
    .bind(problem)
    .bind(millis(now))
    .bind(Verified.as_str())
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Marks a settlement disputed on the ledger for `reason`. Returns whether it was not disputed
/// already (or resolved: a CDR is disputed once) and the ledger held the CDR.
pub async fn dispute(conn: &mut Conn, (cpo, cdr_id): (&str, &str), reason: &str, now: Timestamp) -> Result<bool> {
    let changed = query(
        "UPDATE roaming_settlements SET state = $3, dispute_reason = $4, updated_at = $5 \
         WHERE cpo = $1 AND cdr_id = $2 AND state NOT IN ($3, $6, $7)",
    )
    .bind(cpo)
    .bind(cdr_id)
    .bind(Disputed.as_str())
    .bind(reason)
    .bind(millis(now))
    .bind(AwaitingAnchor.as_str())
    .bind(Resolved.as_str())
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

pub async fn get(conn: &mut Conn, cpo: &str, cdr_id: &str) -> Result<Option<Settlement>> {
    query(format!("{SELECT} WHERE cpo = $1 AND cdr_id = $2"))
        .bind(cpo)
        .bind(cdr_id)
        .fetch_optional(conn)
        .await?
        .map(settlement)
        .transpose()
}

/// The settlement of the charge of this node's start `start_id`.
pub async fn of_start(conn: &mut Conn, start_id: &str) -> Result<Option<Settlement>> {
    query(format!("{SELECT} WHERE start_id = $1 ORDER BY created_at DESC LIMIT 1"))
        .bind(start_id)
        .fetch_optional(conn)
        .await?
        .map(settlement)
        .transpose()
}

/// The CDRs this member disputes: (the CPO, CDR id, reason), for the ledger feed to submit until the
/// ledger holds each dispute.
pub async fn disputed(conn: &mut Conn) -> Result<Vec<(String, String, String)>> {
    query("SELECT cpo, cdr_id, dispute_reason FROM roaming_settlements WHERE state = $1 ORDER BY updated_at")
        .bind(Disputed.as_str())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| {
            Ok((
                row.try_get("cpo")?,
                row.try_get("cdr_id")?,
                row.try_get::<Option<String>, _>("dispute_reason")?.unwrap_or_default(),
            ))
        })
        .collect()
}

/// Every disputed settlement (disputes are few): their CDRs may have been resolved on the ledger
/// since.
pub async fn disputed_settlements(conn: &mut Conn) -> Result<Vec<Settlement>> {
    query(format!("{SELECT} WHERE state = $1 ORDER BY updated_at"))
        .bind(Disputed.as_str())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(settlement)
        .collect()
}

/// What a disputed settlement becomes once the members agreed an amount on the ledger.
pub struct Resolution<'a> {
    /// `resolved` (with `refunded` given back), or `verified` (never charged: to be charged `amount`).
    pub state: SettlementState,
    pub amount: i64,
    pub refunded: Option<i64>,
    pub problem: Option<&'a str>,
}

/// Moves a disputed settlement to its resolution. Returns whether it was still disputed.
pub async fn resolve(
    conn: &mut Conn,
    (cpo, cdr_id): (&str, &str),
    resolution: &Resolution<'_>,
    now: Timestamp,
) -> Result<bool> {
    let changed = query(
        "UPDATE roaming_settlements SET state = $3, amount = $4, refunded = $5, problem = $6, updated_at = $7 \
         WHERE cpo = $1 AND cdr_id = $2 AND state = $8",
    )
    .bind(cpo)
    .bind(cdr_id)
    .bind(resolution.state.as_str())
    .bind(resolution.amount)
    .bind(resolution.refunded)
    .bind(resolution.problem)
    .bind(millis(now))
    .bind(Disputed.as_str())
    .execute(conn)
    .await?;
    Ok(changed > 0)
}
