//! One simulated charge point speaking OCPP 1.6J.

use base64::Engine;
use futures::{SinkExt, StreamExt};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use yawc::{DeflateOptions, Frame, OpCode, Options, WebSocket};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the node refused the connection with HTTP {0}")]
    Refused(u16),
    #[error("the connection is closed")]
    Closed,
    #[error("the node answered with {code}: {description}")]
    CallError { code: String, description: String },
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// How to reach the node.
#[derive(Debug, Clone)]
pub struct Connection {
    /// `ws://host:port/path`, without the station id.
    pub url: String,
    /// Security profile 1's authorization key, if the node wants one.
    pub auth_key: Option<String>,
    /// Source address to connect from (many connections need several loopback addresses).
    pub local_address: Option<IpAddr>,
    /// Ask for permessage-deflate.
    pub compression: bool,
}

impl Connection {
    pub fn new(url: impl Into<String>) -> Connection {
        Connection { url: url.into(), auth_key: None, local_address: None, compression: false }
    }
}

/// A transaction message kept while offline, sent when the charger is back.
struct QueuedCall {
    message_id: String,
    /// For a StartTransaction: the handle later queued messages use for its transaction id.
    local_handle: Option<i64>,
    action: &'static str,
    payload: Value,
}

/// A simulated charge point. Calls are made one at a time, as OCPP-J requires; commands the node sends
/// meanwhile are answered as a compliant charger would.
pub struct ChargePoint {
    pub station_id: String,
    connection: Connection,
    socket: Option<WebSocket<TcpStream>>,
    next_id: u64,
    /// Distinguishes this instance's message ids from an earlier instance's for the same station.
    id_prefix: u32,
    offline_queue: VecDeque<QueuedCall>,
    /// Local transaction handles (negative) of transactions started offline, mapped to the node's ids
    /// once the queued StartTransaction is delivered.
    offline_transactions: Vec<(i64, i64)>,
    /// Commands received from the node, in order: (action, payload).
    pub commands_received: Vec<(String, Value)>,
    pub answer_timeout: Duration,
}

impl ChargePoint {
    pub async fn connect(station_id: impl Into<String>, connection: Connection) -> Result<ChargePoint, SimError> {
        let mut cp = ChargePoint {
            station_id: station_id.into(),
            connection,
            socket: None,
            next_id: 0,
            id_prefix: rand::random(),
            offline_queue: VecDeque::new(),
            offline_transactions: Vec::new(),
            commands_received: Vec::new(),
            answer_timeout: Duration::from_secs(30),
        };
        cp.open().await?;
        Ok(cp)
    }

    async fn open(&mut self) -> Result<(), SimError> {
        let url_text = format!("{}/{}", self.connection.url, self.station_id);
        let url: url::Url = url_text.parse().map_err(|e| SimError::Connect(format!("{url_text}: {e}")))?;
        let host = url.host_str().ok_or_else(|| SimError::Connect("URL without host".into()))?;
        let port = url.port_or_known_default().unwrap_or(80);
        let address = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| SimError::Connect(e.to_string()))?
            .next()
            .ok_or_else(|| SimError::Connect(format!("{host} does not resolve")))?;
        let socket = if address.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }
            .map_err(|e| SimError::Connect(e.to_string()))?;
        if let Some(local) = self.connection.local_address {
            socket.bind((local, 0).into()).map_err(|e| SimError::Connect(format!("bind {local}: {e}")))?;
        }
        let tcp = socket.connect(address).await.map_err(|e| SimError::Connect(e.to_string()))?;
        let mut request = yawc::HttpRequest::builder().header("Sec-WebSocket-Protocol", "ocpp1.6");
        if let Some(key) = &self.connection.auth_key {
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{}:{key}", self.station_id));
            request = request.header("Authorization", format!("Basic {credentials}"));
        }
        let mut options = Options::default().with_read_buffer_capacity(1024).with_write_buffer_capacity(1024);
        if self.connection.compression {
            options.compression = Some(DeflateOptions::low_latency());
        }
        let socket = WebSocket::handshake_with_request(url, tcp, options, request).await.map_err(|e| match e {
            yawc::WebSocketError::InvalidStatusCode(code) => SimError::Refused(code),
            other => SimError::Connect(other.to_string()),
        })?;
        self.socket = Some(socket);
        Ok(())
    }

    pub fn is_online(&self) -> bool {
        self.socket.is_some()
    }

    fn message_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:08x}-{}", self.id_prefix, self.next_id)
    }

    /// Sends a CALL and waits for its result, answering the node's own CALLs in between.
    pub async fn call(&mut self, action: &str, payload: Value) -> Result<Value, SimError> {
        let id = self.message_id();
        self.call_with_id(&id, action, payload).await
    }

    /// Sends a CALL with a given message id (to repeat a message exactly, as a retrying charger does).
    pub async fn call_with_id(&mut self, id: &str, action: &str, payload: Value) -> Result<Value, SimError> {
        self.send_text(json!([2, id, action, payload]).to_string()).await?;
        let deadline = tokio::time::Instant::now() + self.answer_timeout;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.next_frame())
                .await
                .map_err(|_| SimError::Timeout(self.answer_timeout))??;
            match frame.get(0).and_then(Value::as_u64) {
                Some(3) if frame.get(1).and_then(Value::as_str) == Some(id) => {
                    return Ok(frame.get(2).cloned().unwrap_or(Value::Null));
                }
                Some(4) if frame.get(1).and_then(Value::as_str) == Some(id) => {
                    return Err(SimError::CallError {
                        code: frame.get(2).and_then(Value::as_str).unwrap_or_default().to_owned(),
                        description: frame.get(3).and_then(Value::as_str).unwrap_or_default().to_owned(),
                    });
                }
                Some(2) => self.answer_command(&frame).await?,
                _ => return Err(SimError::Protocol(frame.to_string())),
            }
        }
    }

    /// Sends any text and returns the next text message the node sends back.
    pub async fn send_raw(&mut self, text: impl Into<String>) -> Result<String, SimError> {
        self.send_text(text.into()).await?;
        let socket = self.socket.as_mut().ok_or(SimError::Closed)?;
        loop {
            let frame = tokio::time::timeout(self.answer_timeout, socket.next())
                .await
                .map_err(|_| SimError::Timeout(self.answer_timeout))?
                .ok_or(SimError::Closed)?;
            match frame.opcode() {
                OpCode::Text => return Ok(frame.as_str().to_owned()),
                OpCode::Close => {
                    self.socket = None;
                    return Err(SimError::Closed);
                }
                _ => {}
            }
        }
    }

    async fn send_text(&mut self, text: String) -> Result<(), SimError> {
        let socket = self.socket.as_mut().ok_or(SimError::Closed)?;
        if socket.send(Frame::text(text)).await.is_err() {
            self.socket = None;
            return Err(SimError::Closed);
        }
        Ok(())
    }

    /// The next OCPP-J frame from the node, as JSON.
    async fn next_frame(&mut self) -> Result<Value, SimError> {
        let socket = self.socket.as_mut().ok_or(SimError::Closed)?;
        loop {
            let Some(frame) = socket.next().await else {
                self.socket = None;
                return Err(SimError::Closed);
            };
            match frame.opcode() {
                OpCode::Text => {
                    return serde_json::from_str(frame.as_str())
                        .map_err(|e| SimError::Protocol(format!("bad JSON from node: {e}")));
                }
                OpCode::Close => {
                    self.socket = None;
                    return Err(SimError::Closed);
                }
                _ => {}
            }
        }
    }

    /// Answers the node's CALLs for `duration` (a charger idling between messages).
    pub async fn serve_for(&mut self, duration: Duration) -> Result<(), SimError> {
        let deadline = tokio::time::Instant::now() + duration;
        loop {
            match tokio::time::timeout_at(deadline, self.next_frame()).await {
                Err(_) => return Ok(()),
                Ok(frame) => {
                    let frame = frame?;
                    if frame.get(0).and_then(Value::as_u64) == Some(2) {
                        self.answer_command(&frame).await?;
                    }
                }
            }
        }
    }

    /// Answers the node's CALLs until it sends `action` (answered like the others), and gives that
    /// CALL's payload; none if it did not come within `timeout`.
    pub async fn serve_until(&mut self, action: &str, timeout: Duration) -> Result<Option<Value>, SimError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Ok(frame) = tokio::time::timeout_at(deadline, self.next_frame()).await else { return Ok(None) };
            let frame = frame?;
            if frame.get(0).and_then(Value::as_u64) == Some(2) {
                self.answer_command(&frame).await?;
                if frame.get(2).and_then(Value::as_str) == Some(action) {
                    return Ok(Some(frame.get(3).cloned().unwrap_or(Value::Null)));
                }
            }
        }
    }

    async fn answer_command(&mut self, frame: &Value) -> Result<(), SimError> {
        let id = frame.get(1).and_then(Value::as_str).unwrap_or("-1").to_owned();
        let action = frame.get(2).and_then(Value::as_str).unwrap_or_default().to_owned();
        let payload = frame.get(3).cloned().unwrap_or(Value::Null);
        let answer = match action.as_str() {
            "GetConfiguration" => json!({
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": false, "value": "300"},
                    {"key": "MeterValueSampleInterval", "readonly": false, "value": "60"},
                ],
                "unknownKey": [],
            }),
            "UnlockConnector" => json!({"status": "Unlocked"}),
            "DataTransfer" => json!({"status": "UnknownVendorId"}),
            "RemoteStartTransaction"
            | "RemoteStopTransaction"
            | "Reset"
            | "ChangeAvailability"
            | "ChangeConfiguration"
            | "TriggerMessage"
            | "ClearCache"
            | "ReserveNow"
            | "CancelReservation" => json!({"status": "Accepted"}),
            _ => {
                let error = json!([4, id, "NotImplemented", format!("{action} is not simulated"), {}]);
                return self.send_text(error.to_string()).await;
            }
        };
        self.commands_received.push((action, payload));
        self.send_text(json!([3, id, answer]).to_string()).await
    }

    /// The id tag of a start the node asked for (RemoteStartTransaction) and not yet taken.
    pub fn take_remote_start(&mut self) -> Option<String> {
        let asked = self.commands_received.iter().position(|(action, _)| action == "RemoteStartTransaction")?;
        let (_, payload) = self.commands_received.remove(asked);
        payload.get("idTag").and_then(Value::as_str).map(str::to_owned)
    }

    /// Whether the node asked (RemoteStopTransaction) to stop `transaction`; the request is taken.
    pub fn take_remote_stop(&mut self, transaction: i64) -> bool {
        let asked = self.commands_received.iter().position(|(action, payload)| {
            action == "RemoteStopTransaction"
                && payload.get("transactionId").and_then(Value::as_i64) == Some(transaction)
        });
        asked.map(|index| self.commands_received.remove(index)).is_some()
    }

    /// Drops the connection abruptly, as a charger losing its network does.
    pub fn go_offline(&mut self) {
        self.socket = None;
    }

    /// Reconnects and delivers, in order, every transaction message queued while offline.
    pub async fn come_back(&mut self) -> Result<(), SimError> {
        self.open().await?;
        while let Some(mut queued) = self.offline_queue.pop_front() {
            self.use_real_transaction_id(&mut queued.payload);
            let result =
                match self.call_with_id(&queued.message_id.clone(), queued.action, queued.payload.clone()).await {
                    Ok(result) => result,
                    Err(e) => {
                        // Still offline: nothing may overtake what is queued.
                        self.offline_queue.push_front(queued);
                        self.socket = None;
                        return Err(e);
                    }
                };
            if let (Some(local), Some(real)) =
                (queued.local_handle, result.get("transactionId").and_then(Value::as_i64))
            {
                self.offline_transactions.push((local, real));
            }
        }
        Ok(())
    }

    /// Replaces a transaction handle given while offline by the id the node gave when the start was
    /// delivered.
    fn use_real_transaction_id(&self, payload: &mut Value) {
        if let Some(handle) = payload.get("transactionId").and_then(Value::as_i64)
            && let Some((_, real)) = self.offline_transactions.iter().find(|(local, _)| *local == handle)
        {
            payload["transactionId"] = json!(real);
        }
    }

    /// A transaction message: sent now when online, queued when offline. A message whose connection
    /// breaks before the answer is queued too, with its message id, and repeated when back: the node may
    /// or may not have processed it, exactly as with a real charger. Returns the answer if there was one.
    async fn transaction_message(
        &mut self,
        action: &'static str,
        mut payload: Value,
        local_handle: Option<i64>,
    ) -> Result<Option<Value>, SimError> {
        let message_id = self.message_id();
        self.use_real_transaction_id(&mut payload);
        // Transaction messages keep their order: a new one waits behind anything still queued.
        if self.is_online() && self.offline_queue.is_empty() {
            match self.call_with_id(&message_id, action, payload.clone()).await {
                Err(SimError::Closed | SimError::Timeout(_)) => self.socket = None,
                other => return other.map(Some),
            }
        }
        self.offline_queue.push_back(QueuedCall { message_id, local_handle, action, payload });
        Ok(None)
    }

    pub fn queued_messages(&self) -> usize {
        self.offline_queue.len()
    }

    pub async fn boot(&mut self) -> Result<Value, SimError> {
        self.call(
            "BootNotification",
            json!({"chargePointVendor": "chargemesh", "chargePointModel": "sim-dc50", "chargePointSerialNumber": self.station_id, "firmwareVersion": "1.0.0"}),
        )
        .await
    }

    pub async fn heartbeat(&mut self) -> Result<Value, SimError> {
        self.call("Heartbeat", json!({})).await
    }

    pub async fn status(&mut self, connector: u32, status: &str) -> Result<Value, SimError> {
        let now = Timestamp::now().to_string();
        self.call(
            "StatusNotification",
            json!({"connectorId": connector, "errorCode": "NoError", "status": status, "timestamp": now}),
        )
        .await
    }

    /// The authorization status the node gives `id_tag`.
    pub async fn authorize(&mut self, id_tag: &str) -> Result<String, SimError> {
        let result = self.call("Authorize", json!({"idTag": id_tag})).await?;
        Ok(result["idTagInfo"]["status"].as_str().unwrap_or_default().to_owned())
    }

    /// Starts a transaction. Online it returns the node's transaction id; offline (or when the connection
    /// breaks before the answer) it returns a local negative handle that later messages use until the
    /// queued start is delivered and the node's id is known.
    pub async fn start_transaction(
        &mut self,
        connector: u32,
        id_tag: &str,
        meter_wh: i64,
        at: Timestamp,
    ) -> Result<i64, SimError> {
        let payload =
            json!({"connectorId": connector, "idTag": id_tag, "meterStart": meter_wh, "timestamp": at.to_string()});
        let local = -(self.offline_transactions.len() as i64 + self.offline_queue.len() as i64 + 1);
        match self.transaction_message("StartTransaction", payload, Some(local)).await? {
            Some(result) => result["transactionId"].as_i64().ok_or_else(|| SimError::Protocol(result.to_string())),
            None => Ok(local),
        }
    }

    pub async fn meter_values(
        &mut self,
        connector: u32,
        transaction_id: i64,
        meter_wh: i64,
        power_w: i64,
        at: Timestamp,
    ) -> Result<(), SimError> {
        self.send_meter_values(connector, transaction_id, [meter_wh, power_w], None, at).await
    }

    /// Meter values of a DC charger, which also reports the battery's state of charge (percent,
    /// one decimal).
    pub async fn meter_values_with_soc(
        &mut self,
        connector: u32,
        transaction_id: i64,
        [meter_wh, power_w]: [i64; 2],
        soc_tenths: i64,
        at: Timestamp,
    ) -> Result<(), SimError> {
        self.send_meter_values(connector, transaction_id, [meter_wh, power_w], Some(soc_tenths), at).await
    }

    async fn send_meter_values(
        &mut self,
        connector: u32,
        transaction_id: i64,
        [meter_wh, power_w]: [i64; 2],
        soc_tenths: Option<i64>,
        at: Timestamp,
    ) -> Result<(), SimError> {
        let mut sampled = vec![
            json!({"value": meter_wh.to_string(), "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}),
            json!({"value": power_w.to_string(), "context": "Sample.Periodic", "measurand": "Power.Active.Import", "unit": "W"}),
        ];
        if let Some(tenths) = soc_tenths {
            let percent = format!("{}.{}", tenths / 10, tenths % 10);
            sampled.push(json!({"value": percent, "context": "Sample.Periodic", "measurand": "SoC", "location": "EV", "unit": "Percent"}));
        }
        let payload = json!({
            "connectorId": connector,
            "transactionId": transaction_id,
            "meterValue": [{"timestamp": at.to_string(), "sampledValue": sampled}],
        });
        self.transaction_message("MeterValues", payload, None).await.map(|_| ())
    }

    pub async fn stop_transaction(
        &mut self,
        transaction_id: i64,
        meter_wh: i64,
        at: Timestamp,
        reason: &str,
    ) -> Result<(), SimError> {
        let payload = json!({"transactionId": transaction_id, "meterStop": meter_wh, "timestamp": at.to_string(), "reason": reason});
        self.transaction_message("StopTransaction", payload, None).await.map(|_| ())
    }
}
