//! The gateway on its own: real WebSocket connections from simulated OCPP 1.6 charge points, events
//! handed to an event sink that records them, and commands through the registry's `ChargerLink`.

use chargemesh_core::StationId;
use chargemesh_core::charger::{ChargerCommand, ChargerEvent, ChargerReply, CommandOutcome, Registration};
use chargemesh_gateway::{
    Admission, ChargerLink, CommandFailure, Credentials, EventSink, Gateway, GatewayConfig, IncomingMessage, Refusal,
    Registry,
};
use chargemesh_sim::{ChargePoint, Connection, SimError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A sink that knows a few stations, records every event, and cannot record status notifications
/// (as a node whose database is away answers).
#[derive(Clone, Default)]
struct Recorder {
    events: Arc<Mutex<Vec<(String, String, ChargerEvent)>>>,
    connections: Arc<Mutex<Vec<(String, bool)>>>,
}

const KNOWN: [&str; 2] = ["GW-1", "GW-2"];

impl EventSink for Recorder {
    async fn admit(
        &self,
        station: &StationId,
        _require_credentials: bool,
        _credentials: Option<Credentials>,
    ) -> Result<Admission, String> {
        Ok(if KNOWN.contains(&station.as_str()) { Admission::Admitted } else { Admission::Unknown })
    }

    async fn handle(
        &self,
        station: StationId,
        message: IncomingMessage,
        event: ChargerEvent,
    ) -> Result<ChargerReply, Refusal> {
        let now = jiff::Timestamp::now();
        let reply = match &event {
            ChargerEvent::Booted(_) => {
                ChargerReply::Boot { registration: Registration::Accepted, interval_seconds: 120, current_time: now }
            }
            ChargerEvent::Heartbeat => ChargerReply::Heartbeat { current_time: now },
            ChargerEvent::StatusChanged(_) => return Err(Refusal::NotRecorded("the database is away".into())),
            _ => ChargerReply::Acknowledged,
        };
        self.events.lock().unwrap().push((station.as_str().to_owned(), message.action, event));
        Ok(reply)
    }

    fn connection_changed(&self, station: &StationId, connected: bool) {
        self.connections.lock().unwrap().push((station.as_str().to_owned(), connected));
    }
}

struct Running {
    url: String,
    recorder: Recorder,
    registry: Arc<Registry>,
}

async fn start() -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let recorder = Recorder::default();
    let registry = Arc::new(Registry::default());
    let config = GatewayConfig { command_timeout_secs: 5, ..GatewayConfig::default() };
    let url = format!("ws://{address}{}", config.path);
    let gateway = Arc::new(Gateway { config, sink: recorder.clone(), registry: registry.clone() });
    tokio::spawn(async move { axum::serve(listener, chargemesh_gateway::router(gateway)).await });
    Running { url, recorder, registry }
}

/// Waits until `condition` holds, looking every 20 ms; fails naming `what` after 10 s.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn station(id: &str) -> StationId {
    StationId::parse(id).unwrap()
}

#[tokio::test]
async fn a_charger_message_reaches_the_sink_as_an_event_and_its_reply_as_ocpp_1_6() {
    let gateway = start().await;
    let mut charger = ChargePoint::connect("GW-1", Connection::new(&gateway.url)).await.unwrap();
    let boot = charger.boot().await.unwrap();
    assert_eq!((boot["status"].as_str(), boot["interval"].as_i64()), (Some("Accepted"), Some(120)), "{boot}");
    charger.heartbeat().await.unwrap();
    let events = gateway.recorder.events.lock().unwrap().clone();
    let seen: Vec<(&str, &str)> = events.iter().map(|(s, action, _)| (s.as_str(), action.as_str())).collect();
    assert_eq!(seen, [("GW-1", "BootNotification"), ("GW-1", "Heartbeat")]);
    assert!(matches!(&events[0].2, ChargerEvent::Booted(info) if !info.vendor.is_empty()), "{events:?}");
}

#[tokio::test]
async fn what_the_sink_could_not_record_is_an_internal_error_the_charger_retries() {
    let gateway = start().await;
    let mut charger = ChargePoint::connect("GW-1", Connection::new(&gateway.url)).await.unwrap();
    match charger.status(1, "Available").await {
        Err(SimError::CallError { code, .. }) => assert_eq!(code, "InternalError"),
        other => panic!("expected a CALLERROR, got {other:?}"),
    }
    assert!(gateway.recorder.events.lock().unwrap().is_empty());
    // The connection stays usable.
    charger.heartbeat().await.unwrap();
}

#[tokio::test]
async fn a_station_the_sink_does_not_admit_is_refused_at_the_handshake() {
    let gateway = start().await;
    match ChargePoint::connect("GW-UNKNOWN", Connection::new(&gateway.url)).await {
        Err(SimError::Refused(status)) => assert_eq!(status, 404),
        Err(other) => panic!("expected HTTP 404, got {other}"),
        Ok(_) => panic!("an unknown station was admitted"),
    }
    assert!(!gateway.registry.is_connected(&station("GW-UNKNOWN")));
}

#[tokio::test]
async fn a_command_goes_through_the_link_and_the_chargers_answer_comes_back() {
    let gateway = start().await;
    let mut charger = ChargePoint::connect("GW-2", Connection::new(&gateway.url)).await.unwrap();
    charger.boot().await.unwrap();
    let link: &dyn ChargerLink = gateway.registry.as_ref();
    assert!(link.is_connected(&station("GW-2")));
    assert_eq!(link.connected_count(), 1);
    let answer = link.dispatch(&station("GW-2"), ChargerCommand::Reset { hard: false }).expect("connected");
    let payload = charger.serve_until("Reset", Duration::from_secs(10)).await.unwrap().expect("the Reset arrived");
    assert_eq!(payload["type"], "Soft");
    assert_eq!(answer.await.unwrap(), Ok(CommandOutcome::Status { status: "Accepted".into() }));
    assert!(link.dispatch(&station("GW-1"), ChargerCommand::Reset { hard: true }).is_none(), "GW-1 is not connected");
}

#[tokio::test]
async fn a_new_connection_of_a_station_replaces_the_old_one_and_commands_follow_it() {
    let gateway = start().await;
    let mut old = ChargePoint::connect("GW-1", Connection::new(&gateway.url)).await.unwrap();
    old.boot().await.unwrap();
    let mut new = ChargePoint::connect("GW-1", Connection::new(&gateway.url)).await.unwrap();
    new.boot().await.unwrap();
    assert!(matches!(old.heartbeat().await, Err(SimError::Closed)), "the old connection was closed");
    eventually("one connection of GW-1", || gateway.registry.connected_count() == 1).await;
    let answer = gateway.registry.dispatch(&station("GW-1"), ChargerCommand::Reset { hard: true }).unwrap();
    let payload = new.serve_until("Reset", Duration::from_secs(10)).await.unwrap().expect("the Reset arrived");
    assert_eq!(payload["type"], "Hard");
    assert!(answer.await.unwrap().is_ok());
}

#[tokio::test]
async fn commands_waiting_on_a_connection_that_closes_fail_as_connection_closed() {
    let gateway = start().await;
    let mut charger = ChargePoint::connect("GW-1", Connection::new(&gateway.url)).await.unwrap();
    charger.boot().await.unwrap();
    let answer = gateway.registry.dispatch(&station("GW-1"), ChargerCommand::Reset { hard: false }).unwrap();
    drop(charger);
    let failure = answer.await.unwrap().unwrap_err();
    assert!(matches!(failure, CommandFailure::ConnectionClosed | CommandFailure::TimedOut), "{failure:?}");
    eventually("GW-1 gone from the registry", || !gateway.registry.is_connected(&station("GW-1"))).await;
    let told = || gateway.recorder.connections.lock().unwrap().clone();
    eventually("the sink told of the end", || told().len() == 2).await;
    assert_eq!(told(), [("GW-1".to_owned(), true), ("GW-1".to_owned(), false)]);
}
