//! Operations on their own, without a gateway or HTTP: charger events as the gateway hands them
//! over, against a real (SQLite) store. What a charge records — the session, its energy, its price —
//! and that a repeated message changes nothing.

use chargemesh_core::charger::{
    AuthorizationStatus, BootInfo, ChargerEvent, ChargerReply, MeterReport, MeterSample, Registration, StopReason,
    TransactionRef, TransactionStart, TransactionStop,
};
use chargemesh_core::session::{SessionState, StoppedBy};
use chargemesh_core::tariff::Tariff;
use chargemesh_core::{Energy, IdToken, StationId};
use chargemesh_gateway::{GatewayConfig, IncomingMessage, Registry};
use chargemesh_operations::billing;
use chargemesh_operations::clock::ManualClock;
use chargemesh_operations::config::PaymentsConfig;
use chargemesh_operations::payments::SandboxProvider;
use chargemesh_operations::{Operations, Refusal, Settings};
use chargemesh_store::chargers::{self, NewCharger};
use chargemesh_store::sessions::{self, Session};
use chargemesh_store::tariffs::{self, Target};
use chargemesh_store::tokens::{self, Token};
use chargemesh_store::{Store, operators};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const STATION: &str = "OPS-1";
const CARD: &str = "CARD-1";

/// A node's operations on a fresh SQLite store with one operator, one charger, one card, and a
/// tariff of 1.20 CNY per kWh assigned to the charger.
async fn operations() -> (Operations, Store) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "chargemesh-operations-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.join("node.db").display()), 2).await.unwrap();
    let now = Timestamp::now();
    let tariff: Tariff = serde_json::from_value(serde_json::json!({
        "id": "std", "version": 1, "owner": "CN-M01", "currency": "CNY",
        "tax": {"rate": "13", "included": true}, "valid_from": "2026-01-01T00:00:00Z",
        "elements": [{"components": [{"kind": "energy", "price": "1.2"}]}]
    }))
    .unwrap();
    store
        .write(move |tx| {
            Box::pin(async move {
                let operator = operators::create_operator(&mut *tx, "Operations test", now).await?;
                let charger = NewCharger {
                    station_id: STATION.into(),
                    operator_id: Some(operator.id),
                    site_id: None,
                    registration: Registration::Accepted,
                    auth_key_hash: None,
                };
                chargers::create_charger(&mut *tx, &charger, now).await?;
                let card = Token {
                    id_token: CARD.into(),
                    operator_id: operator.id,
                    kind: "card".into(),
                    status: chargemesh_core::authorization::TokenStatus::Active,
                    expires_at: None,
                    parent_id_token: None,
                    label: None,
                    payment_method: None,
                    emsp_party: None,
                    driver_id: None,
                    created_at: now,
                };
                tokens::upsert_token(&mut *tx, &card).await?;
                tariffs::insert_version(&mut *tx, operator.id, &tariff, now).await?;
                tariffs::assign(tx, &Target::Charger(STATION.into()), operator.id, "std", now).await
            })
        })
        .await
        .unwrap();
    let settings = Settings::new(&GatewayConfig::default(), &PaymentsConfig::default());
    let provider = Arc::new(SandboxProvider::new(store.clone()));
    (Operations::new(store.clone(), settings, Arc::new(Registry::default()), provider), store)
}

async fn send(operations: &Operations, id: &str, action: &str, event: ChargerEvent) -> Result<ChargerReply, Refusal> {
    let station = StationId::parse(STATION).unwrap();
    let message = IncomingMessage { message_id: id.into(), action: action.into(), payload_digest: id.into() };
    operations.handle_charger_event(station, message, event).await
}

fn register(at: Timestamp, wh: i64) -> MeterSample {
    MeterSample {
        at,
        measurand: "Energy.Active.Import.Register".into(),
        context: "Sample.Periodic".into(),
        phase: None,
        location: "Outlet".into(),
        unit: "Wh".into(),
        value: wh.to_string(),
        signed: false,
    }
}

async fn session(store: &Store, id: i64) -> Session {
    store.read(move |conn| Box::pin(sessions::get_session(conn, id))).await.unwrap().expect("the session exists")
}

async fn start(operations: &Operations, at: Timestamp) -> i64 {
    let start = TransactionStart {
        connector: 1,
        id_token: IdToken::parse(CARD).unwrap(),
        meter_start: Energy::ZERO,
        at,
        reservation_id: None,
    };
    match send(operations, "start-1", "StartTransaction", ChargerEvent::TransactionStarted(start)).await.unwrap() {
        ChargerReply::TransactionStarted { transaction_id, authorization } => {
            assert_eq!(authorization.status, AuthorizationStatus::Accepted);
            transaction_id
        }
        other => panic!("a start is answered with its transaction, not {other:?}"),
    }
}

#[tokio::test]
async fn a_boot_of_a_known_charger_is_accepted() {
    let (operations, _store) = operations().await;
    let boot = BootInfo { vendor: "ACME".into(), model: "DC-60".into(), ..BootInfo::default() };
    let reply = send(&operations, "boot-1", "BootNotification", ChargerEvent::Booted(boot)).await.unwrap();
    assert!(matches!(reply, ChargerReply::Boot { registration: Registration::Accepted, .. }), "{reply:?}");
}

#[tokio::test]
async fn a_charge_records_its_energy_once_and_is_priced_when_it_stops() {
    let (operations, store) = operations().await;
    let started = Timestamp::now() - SignedDuration::from_hours(2);
    let transaction = start(&operations, started).await;
    assert_eq!(session(&store, transaction).await.state, SessionState::Active);

    let halfway = started + SignedDuration::from_mins(30);
    let report = || MeterReport {
        connector: 1,
        transaction: Some(TransactionRef::Node(transaction)),
        samples: vec![register(halfway, 10_000)],
    };
    let first = send(&operations, "meter-1", "MeterValues", ChargerEvent::MeterValues(report())).await.unwrap();
    assert_eq!(session(&store, transaction).await.energy_mwh, 10_000_000);
    // The charger did not hear the answer and sends the same message again: answered the same way,
    // nothing recorded twice.
    let again = send(&operations, "meter-1", "MeterValues", ChargerEvent::MeterValues(report())).await.unwrap();
    assert_eq!(first, again);
    let readings = store.read(move |conn| Box::pin(sessions::meter_values(conn, transaction))).await.unwrap();
    assert_eq!(readings.len(), 1, "{readings:?}");

    let stop = TransactionStop {
        transaction: TransactionRef::Node(transaction),
        meter_stop: Energy::from_wh(20_000),
        at: started + SignedDuration::from_hours(1),
        reason: StopReason::Local,
        id_token: None,
        samples: Vec::new(),
    };
    send(&operations, "stop-1", "StopTransaction", ChargerEvent::TransactionStopped(stop)).await.unwrap();
    let ended = session(&store, transaction).await;
    assert_eq!(
        (ended.state, ended.stopped_by, ended.energy_mwh),
        (SessionState::Completed, Some(StoppedBy::Charger), 20_000_000)
    );
    // 20 kWh at 1.20 CNY, tax included.
    let total = store.read(move |conn| Box::pin(tariffs::cdr_total(conn, transaction))).await.unwrap();
    assert_eq!(total, Some(24_00));
}

#[tokio::test]
async fn a_meter_reading_of_an_unknown_transaction_changes_no_session() {
    let (operations, store) = operations().await;
    let transaction = start(&operations, Timestamp::now() - SignedDuration::from_mins(10)).await;
    let stray = MeterReport {
        connector: 1,
        transaction: Some(TransactionRef::Node(transaction + 1000)),
        samples: vec![register(Timestamp::now(), 5_000)],
    };
    let _ = send(&operations, "meter-stray", "MeterValues", ChargerEvent::MeterValues(stray)).await;
    assert_eq!(session(&store, transaction).await.energy_mwh, 0);
}

#[tokio::test]
async fn a_reboot_closes_the_orphaned_charge_at_its_last_reading_and_the_late_stop_corrects_it() {
    let (operations, store) = operations().await;
    let started = Timestamp::now() - SignedDuration::from_hours(2);
    let transaction = start(&operations, started).await;
    let reading = MeterReport {
        connector: 1,
        transaction: Some(TransactionRef::Node(transaction)),
        samples: vec![register(started + SignedDuration::from_mins(20), 8_000)],
    };
    send(&operations, "meter-1", "MeterValues", ChargerEvent::MeterValues(reading)).await.unwrap();

    let boot = BootInfo { vendor: "ACME".into(), model: "DC-60".into(), ..BootInfo::default() };
    send(&operations, "boot-2", "BootNotification", ChargerEvent::Booted(boot)).await.unwrap();
    let closed = session(&store, transaction).await;
    assert_eq!(
        (closed.state, closed.stopped_by, closed.energy_mwh),
        (SessionState::Completed, Some(StoppedBy::Node), 8_000_000)
    );
    let total = store.read(move |conn| Box::pin(tariffs::cdr_total(conn, transaction))).await.unwrap();
    assert_eq!(total, Some(9_60), "8 kWh at 1.20");

    // The charger delivers the stop it queued while rebooting: its own figures replace the node's.
    let stop = TransactionStop {
        transaction: TransactionRef::Node(transaction),
        meter_stop: Energy::from_wh(12_000),
        at: started + SignedDuration::from_mins(30),
        reason: StopReason::Local,
        id_token: None,
        samples: Vec::new(),
    };
    send(&operations, "stop-late", "StopTransaction", ChargerEvent::TransactionStopped(stop)).await.unwrap();
    let corrected = session(&store, transaction).await;
    assert_eq!((corrected.stopped_by, corrected.energy_mwh), (Some(StoppedBy::Charger), 12_000_000));
    let total = store.read(move |conn| Box::pin(tariffs::cdr_total(conn, transaction))).await.unwrap();
    assert_eq!(total, Some(14_40), "re-priced: 12 kWh at 1.20");
}

#[tokio::test]
async fn a_stop_of_an_unknown_transaction_is_accepted_and_creates_nothing() {
    let (operations, store) = operations().await;
    let stop = TransactionStop {
        transaction: TransactionRef::Node(4_242),
        meter_stop: Energy::from_wh(1_000),
        at: Timestamp::now(),
        reason: StopReason::Local,
        id_token: None,
        samples: vec![register(Timestamp::now(), 1_000)],
    };
    let reply = send(&operations, "stop-x", "StopTransaction", ChargerEvent::TransactionStopped(stop)).await.unwrap();
    assert!(matches!(reply, ChargerReply::TransactionStopped { .. }), "never refused: {reply:?}");
    let found = store.read(|conn| Box::pin(sessions::get_session(conn, 4_242))).await.unwrap();
    assert!(found.is_none());
}

#[tokio::test]
async fn what_an_event_changes_is_noted_for_the_publisher_and_the_feed_and_nothing_else_is() {
    let (operations, _store) = operations().await;
    let follower = operations.follow_changes();
    let boot = BootInfo { vendor: "ACME".into(), model: "DC-60".into(), ..BootInfo::default() };
    send(&operations, "boot-1", "BootNotification", ChargerEvent::Booted(boot)).await.unwrap();
    follower.noted().await;
    let changed = follower.take();
    assert_eq!(changed.stations.iter().collect::<Vec<_>>(), [STATION], "a boot changes the charger's identity");
    assert!(!changed.sessions && !changed.everything);

    send(&operations, "beat-1", "Heartbeat", ChargerEvent::Heartbeat).await.unwrap();
    assert!(follower.take().is_empty(), "a heartbeat changes nothing anyone publishes");

    start(&operations, Timestamp::now()).await;
    let changed = follower.take();
    assert!(changed.sessions && changed.stations.is_empty(), "{changed:?}");

    let station = StationId::parse(STATION).unwrap();
    chargemesh_gateway::EventSink::connection_changed(&operations, &station, false);
    assert_eq!(follower.take().stations.len(), 1, "a charger going offline changes its EVSE's status");

    let operator = operations.latest_tariff("std", None).await.unwrap().operator_id;
    let mut next: Tariff = operations.latest_tariff("std", None).await.unwrap().tariff;
    next.version = 2;
    operations.add_tariff_version(operator, next, Timestamp::now()).await.unwrap();
    assert_eq!(follower.take().tariffs.iter().collect::<Vec<_>>(), ["std"]);
}

#[tokio::test]
async fn a_card_is_refused_once_the_clock_passes_its_expiry_without_waiting_for_it() {
    let (operations, store) = operations().await;
    let noon: Timestamp = "2026-07-01T12:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::at(noon));
    let operations = operations.with_clock(clock.clone());
    let expires = noon + SignedDuration::from_hours(1);
    store
        .write(move |tx| {
            Box::pin(async move {
                let mut card = tokens::get_token(&mut *tx, CARD).await?.expect("the test's card");
                card.expires_at = Some(expires);
                tokens::upsert_token(tx, &card).await
            })
        })
        .await
        .unwrap();
    let authorize = |id: &'static str| {
        let event = ChargerEvent::AuthorizationRequested { id_token: IdToken::parse(CARD).unwrap() };
        send(&operations, id, "Authorize", event)
    };
    match authorize("auth-1").await.unwrap() {
        ChargerReply::Authorization(a) => assert_eq!(a.status, AuthorizationStatus::Accepted),
        other => panic!("{other:?}"),
    }
    clock.advance(SignedDuration::from_hours(2));
    match authorize("auth-2").await.unwrap() {
        ChargerReply::Authorization(a) => assert_eq!(a.status, AuthorizationStatus::Expired),
        other => panic!("{other:?}"),
    }
}

/// Readings of the charger's register at `minutes` after `started` (Wh), as one MeterValues each.
async fn readings(operations: &Operations, transaction: i64, started: Timestamp, minutes_wh: &[(i64, i64)]) {
    for (n, (minutes, wh)) in minutes_wh.iter().enumerate() {
        let report = MeterReport {
            connector: 1,
            transaction: Some(TransactionRef::Node(transaction)),
            samples: vec![register(started + SignedDuration::from_mins(*minutes), *wh)],
        };
        send(operations, &format!("meter-{minutes}-{n}"), "MeterValues", ChargerEvent::MeterValues(report))
            .await
            .unwrap();
    }
}

async fn stop(operations: &Operations, transaction: i64, at: Timestamp, wh: i64) {
    let stop = TransactionStop {
        transaction: TransactionRef::Node(transaction),
        meter_stop: Energy::from_wh(wh),
        at,
        reason: StopReason::Local,
        id_token: None,
        samples: Vec::new(),
    };
    send(operations, "stop-1", "StopTransaction", ChargerEvent::TransactionStopped(stop)).await.unwrap();
}

#[tokio::test]
async fn readings_that_arrive_out_of_order_give_the_energy_they_give_in_order() {
    let (operations, store) = operations().await;
    let started = Timestamp::now() - SignedDuration::from_hours(2);
    let transaction = start(&operations, started).await;
    readings(&operations, transaction, started, &[(30, 6_000)]).await;
    assert_eq!(session(&store, transaction).await.energy_mwh, 6_000_000);
    // Two readings queued while the charger was offline arrive after a later one.
    readings(&operations, transaction, started, &[(10, 2_000), (20, 4_000)]).await;
    assert_eq!(session(&store, transaction).await.energy_mwh, 6_000_000, "a late reading re-assesses, not adds");
    stop(&operations, transaction, started + SignedDuration::from_mins(40), 8_000).await;
    assert_eq!(session(&store, transaction).await.energy_mwh, 8_000_000);
    let total = store.read(move |conn| Box::pin(tariffs::cdr_total(conn, transaction))).await.unwrap();
    assert_eq!(total, Some(9_60), "8 kWh at 1.20");
}

#[tokio::test]
async fn a_charge_is_priced_by_the_version_in_force_when_it_started_and_settling_again_changes_nothing() {
    let (operations, store) = operations().await;
    let started = Timestamp::now() - SignedDuration::from_hours(2);
    let dearer_from = started + SignedDuration::from_mins(10);
    let dearer: Tariff = serde_json::from_value(serde_json::json!({
        "id": "std", "version": 2, "owner": "CN-M01", "currency": "CNY",
        "tax": {"rate": "13", "included": true}, "valid_from": dearer_from.to_string(),
        "elements": [{"components": [{"kind": "energy", "price": "2"}]}]
    }))
    .unwrap();
    let operator = operations.latest_tariff("std", None).await.unwrap().operator_id;
    operations.add_tariff_version(operator, dearer, started).await.unwrap();

    let transaction = start(&operations, started).await;
    stop(&operations, transaction, started + SignedDuration::from_mins(40), 5_000).await;
    let total = store.read(move |conn| Box::pin(tariffs::cdr_total(conn, transaction))).await.unwrap();
    assert_eq!(total, Some(6_00), "5 kWh at 1.20, the version in force at the start, though 2.00 was at the stop");
    let version_at = |at: Timestamp| {
        let store = store.clone();
        async move {
            store
                .read(move |conn| Box::pin(billing::pricing_at_start(conn, STATION, 1, at)))
                .await
                .unwrap()
                .map(|pricing| pricing.as_session_pricing().version)
        }
    };
    assert_eq!(version_at(dearer_from - SignedDuration::from_millis(1)).await, Some(1));
    assert_eq!(version_at(dearer_from).await, Some(2));

    let body = |store: Store| async move {
        store.read(move |conn| Box::pin(tariffs::cdr(conn, transaction))).await.unwrap().expect("a CDR")
    };
    let saved = body(store.clone()).await;
    let ended = session(&store, transaction).await;
    store.write(move |tx| Box::pin(async move { billing::settle(tx, &ended, Timestamp::now()).await })).await.unwrap();
    assert_eq!(body(store.clone()).await, saved, "the same session priced again gives the same CDR");
}

#[tokio::test]
async fn live_overviews_are_shared_and_read_the_days_figures_again_every_ten_seconds_and_at_midnight() {
    let (operations, _store) = operations().await;
    let noon: Timestamp = "2026-07-01T12:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::at(noon));
    let operations = operations.with_clock(clock.clone());
    let utc = jiff::tz::TimeZone::UTC;
    let live = |not_before: Timestamp| operations.live_overview(None, utc.clone(), not_before);
    let first = live(noon).await.unwrap();
    assert_eq!((first.day.totals.sessions, first.fleet.offline, first.read_at), (0, 1, noon));
    start(&operations, noon).await;
    clock.advance(SignedDuration::from_secs(9));
    let soon = live(operations.now()).await.unwrap();
    assert_eq!(
        (soon.read_at, soon.day.read_at),
        (operations.now(), noon),
        "the fleet read anew, the day's figures kept"
    );
    assert_eq!(soon.day.totals.sessions, 0);
    let shared = live(noon + SignedDuration::from_secs(5)).await.unwrap();
    assert_eq!(shared.read_at, soon.read_at, "a dashboard that took its changes before the last reading shares it");
    clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        live(operations.now()).await.unwrap().day.totals.sessions,
        1,
        "the day's figures read after ten seconds"
    );

    clock.advance(SignedDuration::from_secs(11 * 3600 + 59 * 60 + 48));
    assert_eq!(live(operations.now()).await.unwrap().day.totals.sessions, 1);
    clock.advance(SignedDuration::from_secs(3));
    let tomorrow = live(operations.now()).await.unwrap();
    assert_eq!(
        tomorrow.day.started_at,
        "2026-07-02T00:00:00Z".parse::<Timestamp>().unwrap(),
        "a new day is read at once"
    );
    assert_eq!(tomorrow.day.totals.sessions, 0, "the charge was last metered yesterday");
    let other_zone =
        operations.live_overview(None, jiff::tz::TimeZone::get("Asia/Shanghai").unwrap(), noon).await.unwrap();
    assert_eq!(
        other_zone.day.started_at,
        "2026-07-01T16:00:00Z".parse::<Timestamp>().unwrap(),
        "each zone has its own"
    );
}
