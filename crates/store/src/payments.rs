//! Payments of sessions (a hold at the start, a capture at the stop), refunds, and the journal of
//! money movements between accounts, which is only ever appended to.

use crate::{Conn, Result, Row, StoreError, instant, millis, query};
use jiff::Timestamp;
use serde::Serialize;

pub use chargemesh_core::payment::{PaymentState, RefundState};
pub use chargemesh_core::wallet::{WalletOperationKind, WalletOperationState};

/// Paying from the token's wallet on this node rather than through a payment provider.
pub const WALLET: &str = "wallet";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    pub id: i64,
    pub session_id: i64,
    pub id_token: String,
    pub operator_id: i64,
    /// `wallet`, or the provider's reference to the payment method.
    pub method: String,
    pub currency: String,
    /// The pre-authorized estimate, in minor units.
    pub hold_amount: i64,
    /// `hold_pending`, `held`, `declined`, `captured`, `released` or `owing`.
    pub state: PaymentState,
    pub provider_reference: Option<String>,
    /// Everything taken for the session: the capture and any later charge.
    pub captured: i64,
    pub refunded: i64,
    /// The session total the payment is settled for; a re-priced session is charged or refunded the
    /// difference.
    pub settled_total: Option<i64>,
    /// How many times the payment was adjusted after its capture.
    pub adjustments: i64,
    pub failure: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const PAYMENT_SELECT: &str = "SELECT p.id, p.session_id, p.id_token, p.operator_id, p.method, p.currency, p.hold_amount, \
    p.state, p.provider_reference, p.captured, p.refunded, p.settled_total, p.adjustments, p.failure, p.created_at, p.updated_at FROM payments p";

fn payment(row: Row) -> Result<Payment> {
    Ok(Payment {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        id_token: row.try_get("id_token")?,
        operator_id: row.try_get("operator_id")?,
        method: row.try_get("method")?,
        currency: row.try_get("currency")?,
        hold_amount: row.try_get("hold_amount")?,
        state: payment_state(&row.try_get::<String, _>("state")?)?,
        provider_reference: row.try_get("provider_reference")?,
        captured: row.try_get("captured")?,
        refunded: row.try_get("refunded")?,
        settled_total: row.try_get("settled_total")?,
        adjustments: row.try_get("adjustments")?,
        failure: row.try_get("failure")?,
        created_at: instant(row.try_get("created_at")?)?,
        updated_at: instant(row.try_get("updated_at")?)?,
    })
}

fn payment_state(text: &str) -> Result<PaymentState> {
    PaymentState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("a payment in an unknown state {text:?}")))
}

/// Column `column` of `row` as `parse` reads it; a value it does not know is corrupt.
fn read<T>(row: &Row, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("unknown {column} {text:?}")))
}

pub struct NewPayment<'a> {
    pub session_id: i64,
    pub id_token: &'a str,
    pub operator_id: i64,
    pub method: &'a str,
    pub currency: &'a str,
    pub hold_amount: i64,
}

/// Records that a session is to be paid; the hold itself is placed afterwards, outside the charger's
/// transaction. A session has one payment: a second call changes nothing.
pub async fn create_payment(conn: &mut Conn, new: &NewPayment<'_>, now: Timestamp) -> Result<()> {
    query(
        "INSERT INTO payments (session_id, id_token, operator_id, method, currency, hold_amount, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(new.session_id)
    .bind(new.id_token)
    .bind(new.operator_id)
    .bind(new.method)
    .bind(new.currency)
    .bind(new.hold_amount)
    .bind(PaymentState::HoldPending.as_str())
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_payment(conn: &mut Conn, id: i64) -> Result<Option<Payment>> {
    query(format!("{PAYMENT_SELECT} WHERE p.id = $1")).bind(id).fetch_optional(conn).await?.map(payment).transpose()
}

pub async fn payment_of_session(conn: &mut Conn, session_id: i64) -> Result<Option<Payment>> {
    query(format!("{PAYMENT_SELECT} WHERE p.session_id = $1"))
        .bind(session_id)
        .fetch_optional(conn)
        .await?
        .map(payment)
        .transpose()
}

/// The payments of `operator_id` (all, for `None`) whose driver owes money (a later charge was
/// declined), newest first, at most `limit`, and how many there are.
pub async fn owing(conn: &mut Conn, operator_id: Option<i64>, limit: i64) -> Result<(Vec<Payment>, i64)> {
    let listed = query(format!(
        "{PAYMENT_SELECT} WHERE p.state = 'owing' AND ($1 IS NULL OR p.operator_id = $1) ORDER BY p.updated_at DESC, p.id DESC LIMIT $2"
    ))
    .bind(operator_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(payment)
    .collect::<Result<Vec<_>>>()?;
    let count = query("SELECT COUNT(*) FROM payments WHERE state = 'owing' AND ($1 IS NULL OR operator_id = $1)")
        .bind(operator_id)
        .fetch_one(conn)
        .await?
        .try_get(0)?;
    Ok((listed, count))
}

/// Payments with something to do: a hold to place, a hold on an ended session to capture, or a
/// settled payment whose session's priced total changed since.
pub async fn needing_work(conn: &mut Conn, limit: i64) -> Result<Vec<Payment>> {
    query(format!(
        "{PAYMENT_SELECT} JOIN sessions s ON s.id = p.session_id \
         WHERE p.state = $1 OR (p.state = $2 AND s.state = $6) \
            OR (p.state IN ($3, $4) AND EXISTS (SELECT 1 FROM session_cdrs c \
                WHERE c.session_id = p.session_id AND c.total_minor <> p.settled_total)) \
         ORDER BY p.id LIMIT $5"
    ))
    .bind(PaymentState::HoldPending.as_str())
    .bind(PaymentState::Held.as_str())
    .bind(PaymentState::Captured.as_str())
    .bind(PaymentState::Released.as_str())
    .bind(limit)
    .bind(crate::sessions::SessionState::Completed.as_str())
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(payment)
    .collect()
}

/// Where a payment moves to.
pub struct Advance<'a> {
    pub to: PaymentState,
    pub reference: Option<&'a str>,
    pub captured: i64,
    pub settled_total: Option<i64>,
    pub failure: Option<&'a str>,
}

/// Moves a payment on from the state it was read in; false when another worker got there first.
pub async fn advance(conn: &mut Conn, id: i64, from: PaymentState, next: Advance<'_>, now: Timestamp) -> Result<bool> {
    let Advance { to, reference, captured, settled_total, failure } = next;
    let changed = query(
        "UPDATE payments SET state = $3, provider_reference = COALESCE($4, provider_reference), captured = $5, \
         settled_total = $6, failure = $7, updated_at = $8 WHERE id = $1 AND state = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(reference)
    .bind(captured)
    .bind(settled_total)
    .bind(failure)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// An adjustment of a settled payment to a re-priced session.
pub struct Adjustment<'a> {
    /// The adjustment's number: one more than the payment's adjustments so far.
    pub number: i64,
    pub state: PaymentState,
    /// Taken from the driver by this adjustment (zero when it gives money back through a refund).
    pub charged: i64,
    pub settled_total: Option<i64>,
    pub failure: Option<&'a str>,
}

/// Records an adjustment; false when this numbered adjustment was already recorded.
pub async fn adjust(conn: &mut Conn, id: i64, adjustment: Adjustment<'_>, now: Timestamp) -> Result<bool> {
    let changed = query(
        "UPDATE payments SET adjustments = $2, state = $3, captured = captured + $4, settled_total = $5, \
         failure = $6, updated_at = $7 WHERE id = $1 AND adjustments = $2 - 1",
    )
    .bind(id)
    .bind(adjustment.number)
    .bind(adjustment.state.as_str())
    .bind(adjustment.charged)
    .bind(adjustment.settled_total)
    .bind(adjustment.failure)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refund {
    pub id: i64,
    pub request_key: String,
    pub payment_id: i64,
    pub amount: i64,
    pub reason: String,
    pub state: RefundState,
    pub created_at: Timestamp,
}

const REFUND_SELECT: &str = "SELECT id, request_key, payment_id, amount, reason, state, created_at FROM refunds";

fn refund(row: Row) -> Result<Refund> {
    Ok(Refund {
        id: row.try_get("id")?,
        request_key: row.try_get("request_key")?,
        payment_id: row.try_get("payment_id")?,
        amount: row.try_get("amount")?,
        reason: row.try_get("reason")?,
        state: read(&row, "state", RefundState::parse)?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

pub async fn refund_by_key(conn: &mut Conn, request_key: &str) -> Result<Option<Refund>> {
    query(format!("{REFUND_SELECT} WHERE request_key = $1"))
        .bind(request_key)
        .fetch_optional(conn)
        .await?
        .map(refund)
        .transpose()
}

/// Records a refund and counts it against the payment at once, so refunds never exceed the capture.
/// The refund is split into parts, one per capture or charge it gives money back from, oldest first.
pub async fn create_refund(
    conn: &mut Conn,
    request_key: &str,
    payment: &Payment,
    amount: i64,
    reason: &str,
    now: Timestamp,
) -> Result<Refund> {
    let parts = refund_allocation(&mut *conn, payment, amount).await?;
    query("UPDATE payments SET refunded = refunded + $2, updated_at = $3 WHERE id = $1")
        .bind(payment.id)
        .bind(amount)
        .bind(millis(now))
        .execute(&mut *conn)
        .await?;
    let refund = query(
        "INSERT INTO refunds (request_key, payment_id, amount, reason, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id, request_key, payment_id, amount, reason, state, created_at",
    )
    .bind(request_key)
    .bind(payment.id)
    .bind(amount)
    .bind(reason)
    .bind(RefundState::Pending.as_str())
    .bind(millis(now))
    .fetch_one(&mut *conn)
    .await
    .and_then(refund)?;
    for (part, (reference, amount)) in parts.iter().enumerate() {
        query("INSERT INTO refund_parts (refund_id, part, provider_reference, amount) VALUES ($1, $2, $3, $4)")
            .bind(refund.id)
            .bind(part as i64)
            .bind(reference.as_deref())
            .bind(*amount)
            .execute(&mut *conn)
            .await?;
    }
    Ok(refund)
}

/// Where `amount` can go back from: what each capture or charge of the payment brought into the
/// operator's revenue, less what earlier refunds already give back from it, oldest first.
async fn refund_allocation(conn: &mut Conn, payment: &Payment, amount: i64) -> Result<Vec<(Option<String>, i64)>> {
    let rows = query(
        "SELECT m.provider_reference, CAST(SUM(m.amount) AS BIGINT) AS taken, \
           CAST(COALESCE((SELECT SUM(rp.amount) FROM refund_parts rp JOIN refunds r ON r.id = rp.refund_id \
             WHERE r.payment_id = $3 AND rp.provider_reference IS NOT DISTINCT FROM m.provider_reference), 0) AS BIGINT) AS given_back \
         FROM money_movements m WHERE m.session_id = $1 AND m.to_account = $2 \
         GROUP BY m.provider_reference ORDER BY MIN(m.id)",
    )
    .bind(payment.session_id)
    .bind(format!("revenue:{}", payment.operator_id))
    .bind(payment.id)
    .fetch_all(conn)
    .await?;
    let mut left = amount;
    let mut parts = Vec::new();
    for row in rows {
        let (taken, given_back): (i64, i64) = (row.try_get("taken")?, row.try_get("given_back")?);
        let part = left.min(taken - given_back);
        if part > 0 {
            parts.push((row.try_get("provider_reference")?, part));
            left -= part;
        }
    }
    if left > 0 {
        return Err(crate::StoreError::Corrupt(format!(
            "payment {}: the journal holds {} less than the payment says is left to refund",
            payment.id, left
        )));
    }
    Ok(parts)
}

/// The parts of a refund: the provider reference each gives money back through (none: a wallet).
pub async fn refund_parts(conn: &mut Conn, refund_id: i64) -> Result<Vec<(Option<String>, i64)>> {
    query("SELECT provider_reference, amount FROM refund_parts WHERE refund_id = $1 ORDER BY part")
        .bind(refund_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get("provider_reference")?, row.try_get("amount")?)))
        .collect()
}

pub async fn refunds_of(conn: &mut Conn, payment_id: i64) -> Result<Vec<Refund>> {
    query(format!("{REFUND_SELECT} WHERE payment_id = $1 ORDER BY id"))
        .bind(payment_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(refund)
        .collect()
}

pub async fn pending_refunds(conn: &mut Conn, limit: i64) -> Result<Vec<Refund>> {
    query(format!("{REFUND_SELECT} WHERE state = $1 ORDER BY id LIMIT $2"))
        .bind(RefundState::Pending.as_str())
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(refund)
        .collect()
}

pub async fn finish_refund(conn: &mut Conn, id: i64, now: Timestamp) -> Result<bool> {
    let changed = query("UPDATE refunds SET state = $2, updated_at = $4 WHERE id = $1 AND state = $3")
        .bind(id)
        .bind(RefundState::Done.as_str())
        .bind(RefundState::Pending.as_str())
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(changed > 0)
}

/// One movement of money from one account to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Movement {
    /// Unique: the same movement recorded twice is recorded once.
    pub movement_key: String,
    /// `wallet_top_up`, `wallet_hold`, `wallet_release`, `capture`, `refund`, `wallet_withdrawal`.
    pub kind: String,
    pub from_account: String,
    pub to_account: String,
    pub amount: i64,
    pub currency: String,
    pub session_id: Option<i64>,
    pub reason: Option<String>,
    /// The provider's capture or charge the money came through, or the one it went back through.
    pub provider_reference: Option<String>,
    pub created_at: Timestamp,
}

const MOVEMENT_SELECT: &str = "SELECT movement_key, kind, from_account, to_account, amount, currency, session_id, \
    reason, provider_reference, created_at FROM money_movements";

fn movement(row: Row) -> Result<Movement> {
    Ok(Movement {
        movement_key: row.try_get("movement_key")?,
        kind: row.try_get("kind")?,
        from_account: row.try_get("from_account")?,
        to_account: row.try_get("to_account")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        session_id: row.try_get("session_id")?,
        reason: row.try_get("reason")?,
        provider_reference: row.try_get("provider_reference")?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}

/// Appends a movement, and its entry to the audit log; one with the same key already recorded is
/// left as it is.
pub async fn record_movement(conn: &mut Conn, m: &Movement) -> Result<()> {
    let inserted = query(
        "INSERT INTO money_movements (movement_key, kind, from_account, to_account, amount, currency, session_id, reason, \
         provider_reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (movement_key) DO NOTHING",
    )
    .bind(m.movement_key.as_str())
    .bind(m.kind.as_str())
    .bind(m.from_account.as_str())
    .bind(m.to_account.as_str())
    .bind(m.amount)
    .bind(m.currency.as_str())
    .bind(m.session_id)
    .bind(m.reason.as_deref())
    .bind(m.provider_reference.as_deref())
    .bind(millis(m.created_at))
    .execute(&mut *conn)
    .await?;
    if inserted == 0 {
        return Ok(());
    }
    let operator_id = movement_operator(&mut *conn, m).await?;
    let entry = crate::audit::AuditEntry {
        id: 0,
        at: m.created_at,
        actor_kind: "node".into(),
        actor_id: None,
        actor_name: None,
        actor_role: None,
        actor_operator_id: None,
        credential: None,
        address: None,
        action: format!("money.{}", m.kind),
        object: Some(m.session_id.map_or_else(|| m.movement_key.clone(), |id| format!("session {id}"))),
        operator_id,
        status: None,
        request: None,
        before: None,
        after: Some(serde_json::to_value(m).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        detail: m.reason.clone(),
    };
    crate::audit::append(conn, &entry).await?;
    Ok(())
}

/// The operator whose books a movement is in: its session's charger's, or its wallet token's.
async fn movement_operator(conn: &mut Conn, m: &Movement) -> Result<Option<i64>> {
    if let Some(session) = m.session_id {
        let row = query(
            "SELECT c.operator_id FROM sessions s JOIN chargers c ON c.station_id = s.station_id WHERE s.id = $1",
        )
        .bind(session)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return row.try_get(0);
        }
    }
    let wallet = [&m.from_account, &m.to_account]
        .into_iter()
        .find_map(|a| a.strip_prefix("wallet:").or_else(|| a.strip_prefix("wallet-hold:")));
    let Some(token) = wallet else { return Ok(None) };
    let row = query("SELECT operator_id FROM tokens WHERE id_token = $1").bind(token).fetch_optional(conn).await?;
    row.map(|r| r.try_get(0)).transpose()
}

/// The movement recorded under `movement_key`, if any.
pub async fn movement_by_key(conn: &mut Conn, movement_key: &str) -> Result<Option<Movement>> {
    query(format!("{MOVEMENT_SELECT} WHERE movement_key = $1"))
        .bind(movement_key)
        .fetch_optional(conn)
        .await?
        .map(movement)
        .transpose()
}

pub async fn movement_recorded(conn: &mut Conn, movement_key: &str) -> Result<bool> {
    Ok(query("SELECT 1 FROM money_movements WHERE movement_key = $1")
        .bind(movement_key)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// What has come into an account minus what has gone out, in one currency.
pub async fn balance(conn: &mut Conn, account: &str, currency: &str) -> Result<i64> {
    let row = query(
        "SELECT CAST(COALESCE((SELECT SUM(amount) FROM money_movements WHERE to_account = $1 AND currency = $2), 0) \
         - COALESCE((SELECT SUM(amount) FROM money_movements WHERE from_account = $1 AND currency = $2), 0) AS BIGINT) AS balance",
    )
    .bind(account)
    .bind(currency)
    .fetch_one(conn)
    .await?;
    row.try_get("balance")
}

/// Movements into or out of an account, oldest first.
pub async fn movements_of(conn: &mut Conn, account: &str) -> Result<Vec<Movement>> {
    query(format!("{MOVEMENT_SELECT} WHERE from_account = $1 OR to_account = $1 ORDER BY id"))
        .bind(account)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(movement)
        .collect()
}

pub async fn movements_of_session(conn: &mut Conn, session_id: i64) -> Result<Vec<Movement>> {
    query(format!("{MOVEMENT_SELECT} WHERE session_id = $1 ORDER BY id"))
        .bind(session_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(movement)
        .collect()
}

/// Disagreements between the payments and the journal; none when the books reconcile: every
/// payment's captured minus refunded money is its operator's revenue from that session, and every
/// wallet hold is exactly the holds of wallet payments still open.
pub async fn reconcile(conn: &mut Conn) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let rows = query(
        "SELECT p.id, p.session_id, p.operator_id, p.state, p.captured, p.refunded, p.hold_amount, p.method, p.id_token, \
         CAST(COALESCE((SELECT SUM(amount) FROM money_movements m WHERE m.session_id = p.session_id \
                   AND m.to_account = 'revenue:' || CAST(p.operator_id AS TEXT)), 0) AS BIGINT) AS into_revenue, \
         CAST(COALESCE((SELECT SUM(amount) FROM money_movements m WHERE m.session_id = p.session_id \
                   AND m.from_account = 'revenue:' || CAST(p.operator_id AS TEXT)), 0) AS BIGINT) AS out_of_revenue, \
         CAST(COALESCE((SELECT SUM(amount) FROM refunds r WHERE r.payment_id = p.id AND r.state = 'done'), 0) AS BIGINT) AS refunds_done \
         FROM payments p ORDER BY p.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut wallet_holds: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let (captured, into, out, done): (i64, i64, i64, i64) = (
            row.try_get("captured")?,
            row.try_get("into_revenue")?,
            row.try_get("out_of_revenue")?,
            row.try_get("refunds_done")?,
        );
        if into != captured {
            problems.push(format!("payment {id}: captured {captured} but {into} went into revenue"));
        }
        if out != done {
            problems.push(format!("payment {id}: refunds done {done} but {out} went out of revenue"));
        }
        let refunded: i64 = row.try_get("refunded")?;
        if refunded > captured {
            problems.push(format!("payment {id}: refunded {refunded} exceeds captured {captured}"));
        }
        let (state, method): (String, String) = (row.try_get("state")?, row.try_get("method")?);
        if method == WALLET && payment_state(&state)? == PaymentState::Held {
            *wallet_holds.entry(row.try_get("id_token")?).or_default() += row.try_get::<i64, _>("hold_amount")?;
        }
    }
    let holds = query(
        "SELECT account, CAST(SUM(amount) AS BIGINT) AS balance FROM (\
           SELECT to_account AS account, amount FROM money_movements WHERE to_account LIKE 'wallet-hold:%' \
           UNION ALL SELECT from_account AS account, -amount FROM money_movements WHERE from_account LIKE 'wallet-hold:%') t \
         GROUP BY account",
    )
    .fetch_all(conn)
    .await?;
    let mut journal_holds = std::collections::BTreeMap::new();
    for row in holds {
        let account: String = row.try_get("account")?;
        let balance: i64 = row.try_get("balance")?;
        if balance != 0 {
            journal_holds.insert(account.trim_start_matches("wallet-hold:").to_owned(), balance);
        }
    }
    if journal_holds != wallet_holds {
        problems.push(format!(
            "wallet holds in the journal {journal_holds:?} differ from open wallet payments {wallet_holds:?}"
        ));
    }
    Ok(problems)
}

/// A wallet top-up or withdrawal, recorded before the provider is asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalletOperation {
    pub id: i64,
    pub request_key: String,
    pub kind: WalletOperationKind,
    pub id_token: String,
    /// The payment method the money comes from or goes back to.
    pub method: String,
    pub amount: i64,
    pub currency: String,
    pub state: WalletOperationState,
    pub failure: Option<String>,
}

const OPERATION_COLUMNS: &str = "id, request_key, kind, id_token, method, amount, currency, state, failure";

fn wallet_operation(row: Row) -> Result<WalletOperation> {
    Ok(WalletOperation {
        id: row.try_get("id")?,
        request_key: row.try_get("request_key")?,
        kind: read(&row, "kind", WalletOperationKind::parse)?,
        id_token: row.try_get("id_token")?,
        method: row.try_get("method")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        state: read(&row, "state", WalletOperationState::parse)?,
        failure: row.try_get("failure")?,
    })
}

pub struct NewWalletOperation<'a> {
    pub request_key: &'a str,
    pub kind: WalletOperationKind,
    pub id_token: &'a str,
    pub method: &'a str,
    pub amount: i64,
    pub currency: &'a str,
}

/// Records a pending wallet operation and returns it.
pub async fn create_wallet_operation(
    conn: &mut Conn,
    new: &NewWalletOperation<'_>,
    now: Timestamp,
) -> Result<WalletOperation> {
    query(format!(
        "INSERT INTO wallet_operations (request_key, kind, id_token, method, amount, currency, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {OPERATION_COLUMNS}"
    ))
    .bind(new.request_key)
    .bind(new.kind.as_str())
    .bind(new.id_token)
    .bind(new.method)
    .bind(new.amount)
    .bind(new.currency)
    .bind(WalletOperationState::Pending.as_str())
    .bind(millis(now))
    .fetch_one(conn)
    .await
    .and_then(wallet_operation)
}

pub async fn wallet_operation_by_key(conn: &mut Conn, request_key: &str) -> Result<Option<WalletOperation>> {
    query(format!("SELECT {OPERATION_COLUMNS} FROM wallet_operations WHERE request_key = $1"))
        .bind(request_key)
        .fetch_optional(conn)
        .await?
        .map(wallet_operation)
        .transpose()
}

pub async fn pending_wallet_operations(conn: &mut Conn, limit: i64) -> Result<Vec<WalletOperation>> {
    query(format!("SELECT {OPERATION_COLUMNS} FROM wallet_operations WHERE state = $1 ORDER BY id LIMIT $2"))
        .bind(WalletOperationState::Pending.as_str())
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(wallet_operation)
        .collect()
}

/// Ends a pending operation as `done` or `declined`; false when it had already ended.
pub async fn finish_wallet_operation(
    conn: &mut Conn,
    id: i64,
    state: WalletOperationState,
    failure: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let changed =
        query("UPDATE wallet_operations SET state = $2, failure = $3, updated_at = $4 WHERE id = $1 AND state = $5")
            .bind(id)
            .bind(state.as_str())
            .bind(failure)
            .bind(millis(now))
            .bind(WalletOperationState::Pending.as_str())
            .execute(conn)
            .await?;
    Ok(changed > 0)
}

/// The built-in sandbox provider's record of a request, by the request's key.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxOperation {
    pub kind: String,
    pub reference: String,
    pub amount: i64,
    pub approved: bool,
}

pub async fn sandbox_operation(conn: &mut Conn, request_key: &str) -> Result<Option<SandboxOperation>> {
    let row = query("SELECT kind, reference, amount, approved FROM sandbox_operations WHERE request_key = $1")
        .bind(request_key)
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        Ok(SandboxOperation {
            kind: r.try_get("kind")?,
            reference: r.try_get("reference")?,
            amount: r.try_get("amount")?,
            approved: r.try_get::<i64, _>("approved")? != 0,
        })
    })
    .transpose()
}

#[allow(clippy::too_many_arguments)]
pub async fn record_sandbox_operation(
    conn: &mut Conn,
    request_key: &str,
    kind: &str,
    reference: &str,
    method: Option<&str>,
    amount: i64,
    currency: &str,
    approved: bool,
    now: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO sandbox_operations (request_key, kind, reference, method, amount, currency, approved, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (request_key) DO NOTHING",
    )
    .bind(request_key)
    .bind(kind)
    .bind(reference)
    .bind(method)
    .bind(amount)
    .bind(currency)
    .bind(i64::from(approved))
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// What the sandbox has captured and refunded against a hold so far.
pub async fn sandbox_totals(conn: &mut Conn, reference: &str) -> Result<(i64, i64)> {
    let row = query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'capture' THEN amount ELSE 0 END), 0) AS BIGINT) AS captured, \
         CAST(COALESCE(SUM(CASE WHEN kind = 'refund' THEN amount ELSE 0 END), 0) AS BIGINT) AS refunded \
         FROM sandbox_operations WHERE reference = $1 AND approved = 1",
    )
    .bind(reference)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("captured")?, row.try_get("refunded")?))
}
