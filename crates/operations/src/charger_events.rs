//! What each charger event does. Each message is applied in one database transaction together with
//! the reply given to it, so a repeated message gets the same reply and changes nothing.

use super::Operations;
use super::billing;
use super::changes::Change;
use super::energy;
use super::payments;
use chargemesh_core::authorization::authorize;
use chargemesh_core::charger::*;
use chargemesh_core::session::StoppedBy;
use chargemesh_core::{IdToken, StationId};
use chargemesh_gateway::{self as gateway, Admission, Credentials, EventSink, IncomingMessage};
use chargemesh_store::sessions::{self, NewSession, SessionStop};
use chargemesh_store::{Conn, StoreError, chargers, messages, tokens};
use jiff::Timestamp;

/// Why an event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the charger is not accepted by an operator yet; only BootNotification and Heartbeat are processed")]
    NotAccepted,
    #[error("the charger is not registered")]
    UnknownCharger,
    #[error("internal error: {0}")]
    Internal(#[from] StoreError),
}

impl Operations {
    /// Applies a charger event and returns the reply, durably recorded before it is returned.
    pub async fn handle_charger_event(
        &self,
        station: StationId,
        message: IncomingMessage,
        event: ChargerEvent,
    ) -> Result<ChargerReply, Refusal> {
        let now = self.now();
        let rules = Rules {
            heartbeat_interval: self.settings.heartbeat_interval_secs,
            hold_estimate: self.settings.hold_estimate,
        };
        // A boot closes the sessions it orphaned; late readings of an ended session are picked up by
        // the worker's sweep rather than waking it for every reading.
        let moves_money = matches!(
            event,
            ChargerEvent::Booted(_) | ChargerEvent::TransactionStarted(_) | ChargerEvent::TransactionStopped(_)
        );
        let session = match &event {
            ChargerEvent::MeterValues(MeterReport { transaction: Some(TransactionRef::Node(id)), .. }) => Some(*id),
            ChargerEvent::TransactionStopped(TransactionStop { transaction: TransactionRef::Node(id), .. }) => {
                Some(*id)
            }
            _ => None,
        };
        // What the publisher and the ledger feed show of it: the charger's status, or a session.
        let shown_charger =
            matches!(event, ChargerEvent::Booted(_) | ChargerEvent::StatusChanged(_)).then(|| station.clone());
        let shown_session = matches!(
            event,
            ChargerEvent::TransactionStarted(_) | ChargerEvent::MeterValues(_) | ChargerEvent::TransactionStopped(_)
        );
        self.authorize_in_real_time(&station, &event).await;
        let reply = self
            .store
            .write(move |conn| Box::pin(async move { apply(conn, &station, &message, event, (rules, now)).await }))
            .await?;
        if moves_money {
            self.payments_have_work();
        }
        if let Some(station) = &shown_charger {
            self.note(Change::Station(station.as_str()));
        }
        if shown_session {
            self.note(Change::Session);
        }
        if let Some(id) = session
            && self.session_updates.receiver_count() > 0
        {
            let _ = self.session_updates.send(id);
        }
        reply
    }
}

/// The gateway's sink: admission and every charger message go through operations.
impl EventSink for Operations {
    async fn admit(
        &self,
        station: &StationId,
        require_credentials: bool,
        credentials: Option<Credentials>,
    ) -> Result<Admission, String> {
        self.admit_charger(station, require_credentials, credentials).await.map_err(|e| e.to_string())
    }

    async fn handle(
        &self,
        station: StationId,
        message: IncomingMessage,
        event: ChargerEvent,
    ) -> Result<ChargerReply, gateway::Refusal> {
        self.handle_charger_event(station, message, event).await.map_err(|refusal| match refusal {
            Refusal::Internal(e) => gateway::Refusal::NotRecorded(e.to_string()),
            other => gateway::Refusal::NotPermitted(other.to_string()),
        })
    }

    fn connection_changed(&self, station: &StationId, _connected: bool) {
        self.note(Change::Station(station.as_str()));
    }
}

/// The settings a charger message is applied under.
#[derive(Clone, Copy)]
struct Rules {
    heartbeat_interval: u32,
    hold_estimate: chargemesh_core::Energy,
}

/// One charger message's effect and reply, within the caller's transaction. A refusal writes nothing.
async fn apply(
    conn: &mut Conn,
    station: &StationId,
    message: &IncomingMessage,
    event: ChargerEvent,
    (rules, now): (Rules, Timestamp),
) -> Result<Result<ChargerReply, Refusal>, StoreError> {
    // Boots and heartbeats are safe to apply twice, and a charger that restarts its message counter
    // after a reboot repeats their ids: they are never answered from memory.
    let remembered = !matches!(event, ChargerEvent::Booted(_) | ChargerEvent::Heartbeat);
    chargers::lock(&mut *conn, station.as_str()).await?;
    let Some((charger, seen)) = chargers::standing_and_reply(&mut *conn, station.as_str(), &message.message_id).await?
    else {
        return Ok(Err(Refusal::UnknownCharger));
    };
    if remembered
        && let Some(seen) = seen
        && seen.action == message.action
        && seen.payload_digest == message.payload_digest
        && let Ok(reply) = serde_json::from_str::<ChargerReply>(&seen.reply)
    {
        return Ok(Ok(reply));
    }
    let registration = charger.registration;
    if registration != Registration::Accepted && !matches!(event, ChargerEvent::Booted(_) | ChargerEvent::Heartbeat) {
        return Ok(Err(Refusal::NotAccepted));
    }
    let reply = match event {
        ChargerEvent::Booted(boot) => {
            chargers::record_boot(&mut *conn, station.as_str(), &boot, now).await?;
            if registration == Registration::Accepted {
                close_orphaned_sessions(&mut *conn, station, now).await?;
            }
            ChargerReply::Boot { registration, interval_seconds: rules.heartbeat_interval, current_time: now }
        }
        ChargerEvent::Heartbeat => {
            chargers::touch(&mut *conn, station.as_str(), now).await?;
            ChargerReply::Heartbeat { current_time: now }
        }
        ChargerEvent::StatusChanged(report) => {
            chargers::record_status(&mut *conn, station.as_str(), &report, now).await?;
            ChargerReply::Acknowledged
        }
        ChargerEvent::AuthorizationRequested { id_token } => ChargerReply::Authorization(
            authorization(&mut *conn, charger.operator_id, &id_token, station, None, now).await?,
        ),
        ChargerEvent::TransactionStarted(start) => {
            start_transaction(&mut *conn, charger.operator_id, station, start, rules.hold_estimate, now).await?
        }
        ChargerEvent::MeterValues(report) => {
            record_meter_values(&mut *conn, station, report, now).await?;
            ChargerReply::Acknowledged
        }
        ChargerEvent::TransactionStopped(stop) => {
            stop_transaction(&mut *conn, charger.operator_id, station, stop, now).await?
        }
        ChargerEvent::DataTransfer(transfer) => {
            tracing::info!(station = %station, vendor = %transfer.vendor_id, message = ?transfer.message_id, "data transfer from an unknown vendor");
            ChargerReply::DataTransfer { status: DataTransferStatus::UnknownVendorId, data: None }
        }
        ChargerEvent::DiagnosticsStatus { status } => {
            chargers::set_diagnostics_status(&mut *conn, station.as_str(), &status).await?;
            ChargerReply::Acknowledged
        }
        ChargerEvent::FirmwareStatus { status } => {
            chargers::set_firmware_status(&mut *conn, station.as_str(), &status).await?;
            ChargerReply::Acknowledged
        }
    };
    if remembered {
        let reply_text = serde_json::to_string(&reply).expect("replies always serialize");
        messages::remember(
            conn,
            station.as_str(),
            &message.message_id,
            &message.action,
            &message.payload_digest,
            &reply_text,
            now,
        )
        .await?;
    }
    Ok(Ok(reply))
}

/// The authorization for a token at this operator's charger: its own operator's tokens, including
/// other members' drivers' pseudonyms recorded for it (whose status their member gives in real time).
async fn authorization(
    conn: &mut Conn,
    charger_operator: Option<i64>,
    id_token: &IdToken,
    station: &StationId,
    connector: Option<u32>,
    now: Timestamp,
) -> Result<Authorization, StoreError> {
    let token = tokens::get_token(&mut *conn, id_token.as_str()).await?;
    let grant = token.filter(|t| Some(t.operator_id) == charger_operator).map(|t| t.grant());
    let elsewhere = match grant {
        Some(_) => sessions::token_active_elsewhere(conn, id_token, station.as_str(), connector).await?,
        None => false,
    };
    Ok(authorize(grant.as_ref(), now, elsewhere))
}

async fn start_transaction(
    conn: &mut Conn,
    operator: Option<i64>,
    station: &StationId,
    start: TransactionStart,
    hold_estimate: chargemesh_core::Energy,
    now: Timestamp,
) -> Result<ChargerReply, StoreError> {
    // The same start delivered again (another message id after a reconnect) names the same session.
    if let Some(existing) =
        sessions::find_started(&mut *conn, station.as_str(), start.connector, start.at, &start.id_token).await?
    {
        let authorization = authorization(conn, operator, &start.id_token, station, Some(start.connector), now).await?;
        let authorization = Authorization {
            status: status_named(&existing.authorization_status).unwrap_or(authorization.status),
            ..authorization
        };
        return Ok(ChargerReply::TransactionStarted { transaction_id: existing.id, authorization });
    }
    let authorization =
        authorization(&mut *conn, operator, &start.id_token, station, Some(start.connector), now).await?;
    // A connector runs one transaction: an older one still open lost its stop and is closed here.
    for open in sessions::active_sessions_of_station(&mut *conn, station.as_str()).await? {
        if open.connector_id == i64::from(start.connector) && open.started_at < start.at {
            close_by_node(conn, &open, "Superseded", now).await?;
        }
    }
    let pricing = billing::pricing_at_start(&mut *conn, station.as_str(), start.connector, start.at).await?;
    let new = NewSession {
        station_id: station.as_str(),
        connector_id: start.connector,
        id_token: &start.id_token,
        authorization_status: authorization.status.as_str(),
        started_at: start.at,
        meter_start: start.meter_start,
        reservation_id: start.reservation_id,
        pricing: pricing.as_ref().map(|p| p.as_session_pricing()),
    };
    let transaction_id = sessions::create_session(&mut *conn, &new, now).await?;
    if authorization.status == AuthorizationStatus::Accepted
        && let Some(session) = sessions::get_session(&mut *conn, transaction_id).await?
    {
        let token = tokens::get_token(&mut *conn, start.id_token.as_str()).await?;
        payments::record_at_start(conn, token.as_ref(), &session, hold_estimate, now).await?;
    }
    Ok(ChargerReply::TransactionStarted { transaction_id, authorization })
}

fn status_named(name: &str) -> Option<AuthorizationStatus> {
    [
        AuthorizationStatus::Accepted,
        AuthorizationStatus::Blocked,
        AuthorizationStatus::Expired,
        AuthorizationStatus::Invalid,
        AuthorizationStatus::ConcurrentTx,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}

async fn record_meter_values(
    conn: &mut Conn,
    station: &StationId,
    report: MeterReport,
    now: Timestamp,
) -> Result<(), StoreError> {
    let session = match &report.transaction {
        Some(TransactionRef::Node(id)) => {
            sessions::get_session(&mut *conn, *id).await?.filter(|s| s.station_id == station.as_str())
        }
        _ => None,
    };
    if report.transaction.is_some() && session.is_none() {
        tracing::warn!(station = %station, transaction = ?report.transaction, "meter values for an unknown transaction kept without a session");
    }
    let session_id = session.as_ref().map(|s| s.id);
    sessions::add_meter_values(&mut *conn, session_id, station.as_str(), report.connector, &report.samples, now)
        .await?;
    if let Some(session) = session {
        energy::record(conn, &session, &report.samples, now).await?;
    }
    Ok(())
}

async fn stop_transaction(
    conn: &mut Conn,
    operator: Option<i64>,
    station: &StationId,
    stop: TransactionStop,
    now: Timestamp,
) -> Result<ChargerReply, StoreError> {
    let authorization = match &stop.id_token {
        Some(token) => Some(authorization(&mut *conn, operator, token, station, None, now).await?),
        None => None,
    };
    let TransactionRef::Node(id) = stop.transaction else {
        return Ok(ChargerReply::TransactionStopped { authorization });
    };
    let session = sessions::get_session(&mut *conn, id).await?.filter(|s| s.station_id == station.as_str());
    let Some(session) = session else {
        // Never refuse a stop: the charger would retry and then drop it. Keep its readings.
        tracing::warn!(station = %station, transaction = id, "stop of an unknown transaction accepted; readings kept without a session");
        sessions::add_meter_values(conn, None, station.as_str(), 0, &stop.samples, now).await?;
        return Ok(ChargerReply::TransactionStopped { authorization });
    };
    let connector = u32::try_from(session.connector_id).unwrap_or(0);
    sessions::add_meter_values(&mut *conn, Some(session.id), station.as_str(), connector, &stop.samples, now).await?;
    if session.stopped_by != Some(StoppedBy::Charger) {
        let charger_stop = SessionStop {
            stopped_at: stop.at,
            meter_stop: stop.meter_stop,
            reason: stop.reason.as_str(),
            stopped_by: StoppedBy::Charger,
        };
        sessions::stop_session(&mut *conn, session.id, &charger_stop, now).await?;
    }
    let session = sessions::get_session(&mut *conn, id).await?.expect("the session was just read");
    energy::refresh(conn, &session, now).await?;
    Ok(ChargerReply::TransactionStopped { authorization })
}

/// A charger that boots again has lost whatever transactions it was running.
async fn close_orphaned_sessions(conn: &mut Conn, station: &StationId, now: Timestamp) -> Result<(), StoreError> {
    for session in sessions::active_sessions_of_station(&mut *conn, station.as_str()).await? {
        tracing::info!(station = %station, transaction = session.id, "closing a transaction the charger's reboot orphaned");
        close_by_node(conn, &session, StopReason::Reboot.as_str(), now).await?;
    }
    Ok(())
}

/// Closes a session at its last known reading; a late stop from the charger still replaces this.
async fn close_by_node(
    conn: &mut Conn,
    session: &sessions::Session,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let readings = sessions::register_readings(&mut *conn, session.id).await?;
    let last = readings.last().copied().filter(|r| r.at >= session.started_at).unwrap_or(session.start_reading());
    let stop = SessionStop { stopped_at: last.at, meter_stop: last.energy, reason, stopped_by: StoppedBy::Node };
    sessions::stop_session(&mut *conn, session.id, &stop, now).await?;
    let closed = sessions::get_session(&mut *conn, session.id).await?.expect("the session was just closed");
    energy::refresh(conn, &closed, now).await
}
