//! One charger's connection: answers its CALLs through operations, sends it queued commands one at a
//! time, and watches that it is alive.

use crate::adapter::Adapter;
use crate::registry::{Answer, ConnectionShared};
use crate::{CommandFailure, EventSink, Gateway, IncomingMessage, Refusal};
use chargemesh_core::StationId;
use chargemesh_core::charger::ChargerCommand;
use chargemesh_protocol::ocppj::{self, Call, Frame, RpcError};
use futures::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};
use yawc::{Frame as WsFrame, OpCode, WebSocket};

type Socket = WebSocket<yawc::HttpStream>;

/// The command sent to the charger and not yet answered.
struct Outstanding {
    message_id: String,
    command: ChargerCommand,
    answer: Answer,
    deadline: Instant,
}

pub async fn run<S: EventSink>(
    gateway: Arc<Gateway<S>>,
    station: StationId,
    adapter: &'static dyn Adapter,
    mut socket: Socket,
) {
    let shared = gateway.registry.connect(&station);
    tracing::info!(station = %station, version = adapter.version().subprotocol(), "charger connected");
    gateway.sink.connection_changed(&station, true);
    let mut connection = Connection { gateway: &gateway, station: &station, adapter, outstanding: None, next_id: 0 };
    let result = connection.serve(&mut socket, &shared).await;
    if let Some(outstanding) = connection.outstanding.take() {
        let _ = outstanding.answer.send(Err(CommandFailure::ConnectionClosed));
    }
    shared.fail_queued(CommandFailure::ConnectionClosed);
    gateway.registry.disconnect(&station, &shared);
    gateway.sink.connection_changed(&station, false);
    let _ = socket.close().await;
    match result {
        Ok(reason) => tracing::info!(station = %station, reason, "charger disconnected"),
        Err(e) => tracing::info!(station = %station, error = %e, "charger connection ended"),
    }
}

struct Connection<'a, S> {
    gateway: &'a Gateway<S>,
    station: &'a StationId,
    adapter: &'static dyn Adapter,
    outstanding: Option<Outstanding>,
    next_id: u64,
}

impl<S: EventSink> Connection<'_, S> {
    async fn serve(
        &mut self,
        socket: &mut Socket,
        shared: &ConnectionShared,
    ) -> Result<&'static str, yawc::WebSocketError> {
        let ping_interval = Duration::from_secs(self.gateway.config.ping_interval_secs.max(1));
        let mut ping_at = Instant::now() + ping_interval;
        let mut last_heard = Instant::now();
        loop {
            if self.outstanding.is_none()
                && let Some(queued) = shared.next_command()
            {
                Box::pin(self.send_command(socket, queued.command, queued.answer)).await?;
            }
            let deadline = self.outstanding.as_ref().map(|o| o.deadline);
            tokio::select! {
                frame = socket.next() => {
                    let Some(frame) = frame else { return Ok("closed by the charger") };
                    last_heard = Instant::now();
                    match frame.opcode() {
                        // Boxed: an idle connection then holds no room for a message's handling.
                        OpCode::Text => Box::pin(self.on_text(socket, frame.as_str())).await?,
                        OpCode::Binary => {
                            self.send_error(socket, ocppj::UNREADABLE_ID, RpcError::FormatViolation, "OCPP-J uses text frames").await?;
                        }
                        OpCode::Close => return Ok("closed by the charger"),
                        _ => {}
                    }
                }
                _ = shared.queued.notified(), if self.outstanding.is_none() => {}
                _ = shared.replaced.notified() => return Ok("replaced by a new connection of the same station"),
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    if let Some(o) = self.outstanding.take() {
                        tracing::warn!(station = %self.station, message_id = %o.message_id, command = o.command.name(), "command timed out");
                        let _ = o.answer.send(Err(CommandFailure::TimedOut));
                    }
                }
                _ = sleep_until(ping_at) => {
                    if last_heard.elapsed() > ping_interval * 2 {
                        return Ok("no answer to pings");
                    }
                    socket.send(WsFrame::ping("")).await?;
                    ping_at = Instant::now() + ping_interval;
                }
            }
        }
    }

    async fn on_text(&mut self, socket: &mut Socket, text: &str) -> Result<(), yawc::WebSocketError> {
        let limit = self.gateway.config.max_message_bytes;
        if text.len() > limit {
            let id = match ocppj::parse(text) {
                Ok(Frame::Call(call)) => call.id,
                _ => ocppj::UNREADABLE_ID.to_owned(),
            };
            let description = format!("message of {} bytes exceeds the limit of {limit} bytes", text.len());
            return self.send_error(socket, &id, RpcError::FormatViolation, &description).await;
        }
        match ocppj::parse(text) {
            Err(rejection) => self.send_error(socket, &rejection.id, rejection.error, &rejection.description).await,
            Ok(Frame::Call(call)) => self.on_call(socket, call).await,
            Ok(Frame::CallResult { id, payload }) => {
                match self.take_outstanding(&id) {
                    Some(o) => {
                        let result = self
                            .adapter
                            .decode_result(&o.command, payload)
                            .map_err(|r| CommandFailure::BadAnswer(r.description));
                        let _ = o.answer.send(result);
                    }
                    None => {
                        tracing::warn!(station = %self.station, message_id = %id, "result for no outstanding command ignored")
                    }
                }
                Ok(())
            }
            Ok(Frame::CallError { id, code, description, .. }) => {
                match self.take_outstanding(&id) {
                    Some(o) => {
                        let _ = o.answer.send(Err(CommandFailure::ChargerError { code, description }));
                    }
                    None => {
                        tracing::warn!(station = %self.station, message_id = %id, %code, "error for no outstanding command ignored")
                    }
                }
                Ok(())
            }
        }
    }

    async fn on_call(&mut self, socket: &mut Socket, call: Call) -> Result<(), yawc::WebSocketError> {
        let started = std::time::Instant::now();
        let action = metric_action(&call.action);
        metrics::counter!("chargemesh_ocpp_messages_received_total", "action" => action).increment(1);
        let digest = hex::encode(Sha256::digest(call.payload.to_string().as_bytes()));
        let event = match self.adapter.decode_call(&call.action, call.payload) {
            Ok(event) => event,
            Err(rejection) => {
                tracing::warn!(station = %self.station, action = %call.action, error = %rejection.description, "charger message refused");
                return self.send_error(socket, &call.id, rejection.error, &rejection.description).await;
            }
        };
        let message =
            IncomingMessage { message_id: call.id.clone(), action: call.action.clone(), payload_digest: digest };
        let outcome = self.gateway.sink.handle(self.station.clone(), message, event).await;
        metrics::histogram!("chargemesh_ocpp_handler_seconds", "action" => action)
            .record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(reply) => {
                metrics::counter!("chargemesh_ocpp_messages_sent_total", "action" => action).increment(1);
                socket.send(WsFrame::text(ocppj::encode_result(&call.id, &self.adapter.encode_reply(&reply)))).await
            }
            Err(Refusal::NotRecorded(e)) => {
                // Nothing was recorded; the charger retries and the retry is processed normally.
                tracing::error!(station = %self.station, action = %call.action, error = %e, "charger message failed");
                self.send_error(
                    socket,
                    &call.id,
                    RpcError::InternalError,
                    "the node could not record this message; retry",
                )
                .await
            }
            Err(refusal) => {
                tracing::warn!(station = %self.station, action = %call.action, reason = %refusal, "charger message refused");
                self.send_error(socket, &call.id, RpcError::SecurityError, &refusal.to_string()).await
            }
        }
    }

    async fn send_command(
        &mut self,
        socket: &mut Socket,
        command: ChargerCommand,
        answer: Answer,
    ) -> Result<(), yawc::WebSocketError> {
        let (action, payload) = match self.adapter.encode_command(&command) {
            Ok(encoded) => encoded,
            Err(rejection) => {
                let _ = answer.send(Err(CommandFailure::BadAnswer(format!(
                    "not expressible in {}: {}",
                    self.adapter.version().subprotocol(),
                    rejection.description
                ))));
                return Ok(());
            }
        };
        self.next_id += 1;
        let message_id = format!("cm-{}", self.next_id);
        metrics::counter!("chargemesh_ocpp_messages_sent_total", "action" => action).increment(1);
        socket.send(WsFrame::text(ocppj::encode_call(&message_id, action, &payload))).await?;
        let deadline = Instant::now() + Duration::from_secs(self.gateway.config.command_timeout_secs);
        self.outstanding = Some(Outstanding { message_id, command, answer, deadline });
        Ok(())
    }

    fn take_outstanding(&mut self, id: &str) -> Option<Outstanding> {
        if self.outstanding.as_ref().is_some_and(|o| o.message_id == id) { self.outstanding.take() } else { None }
    }

    async fn send_error(
        &self,
        socket: &mut Socket,
        id: &str,
        error: RpcError,
        description: &str,
    ) -> Result<(), yawc::WebSocketError> {
        let code = error.code(self.adapter.version());
        metrics::counter!("chargemesh_ocpp_errors_total", "code" => code).increment(1);
        socket.send(WsFrame::text(self.adapter.encode_error(id, error, description))).await
    }
}

/// Bounded metric labels: an unknown action is counted as `unknown`.
fn metric_action(action: &str) -> &'static str {
    const KNOWN: [&str; 10] = [
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "Authorize",
        "StartTransaction",
        "MeterValues",
        "StopTransaction",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
    ];
    KNOWN.into_iter().find(|k| *k == action).unwrap_or("unknown")
}
