//! Every store query on both backends: SQLite (a scratch file) and PostgreSQL (a scratch database on
//! the server named by CHARGEMESH_TEST_POSTGRES_URL, by default the local one at 127.0.0.1:5432).

use chargemesh_core::access::{Role, StaffStatus};
use chargemesh_core::authorization::DriverStatus;
use chargemesh_core::charger::{
    BootInfo, ChargerCommand, CommandOutcome, CommandState, ConnectorStatus, MeterSample, Registration, StatusReport,
};
use chargemesh_core::metering::{EnergyAssessment, EnergyFlag, RegisterReading};
use chargemesh_core::roaming_start::{ChargerAnswer, RoamingCommand, RoamingStartState};
use chargemesh_core::settlement::SettlementState;
use chargemesh_core::{Energy, IdToken};
use chargemesh_store::chargers::{self, ChargerUpdate, NewCharger};
use chargemesh_store::operators::{self, NewSite};
use chargemesh_store::sessions::{self, NewSession, SessionFilter, SessionStop};
use chargemesh_store::tokens::{self, Token};
use chargemesh_store::{Store, audit, commands, drivers, federation, logins, messages, payments, settlements, staff};
use jiff::{SignedDuration, Timestamp};
use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(name: &str) -> String {
    format!("{name}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

async fn sqlite_store() -> Store {
    let path = std::env::temp_dir().join(format!("{}.db", unique("chargemesh_store")));
    // A process id is used again across runs: a file left by an earlier test of the same name goes.
    for leftover in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{leftover}", path.display()));
    }
    Store::open(&format!("sqlite://{}?mode=rwc", path.display()), 4).await.expect("SQLite store opens")
}

/// A store in a new, empty PostgreSQL database, with the admin connection and name to drop it.
async fn postgres_store() -> (Store, sqlx::PgConnection, String) {
    let admin_url = std::env::var("CHARGEMESH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin_url} is needed by the store tests ({e}); set CHARGEMESH_TEST_POSTGRES_URL to a server you can create databases on")
    });
    let database = unique("chargemesh_test");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}"))).execute(&mut admin).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').expect("the URL names a database");
    let store = Store::open(&format!("{base}/{database}"), 4).await.expect("PostgreSQL store opens");
    (store, admin, database)
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn sample(at_text: &str, wh: &str) -> MeterSample {
    MeterSample {
        at: at(at_text),
        measurand: "Energy.Active.Import.Register".into(),
        context: "Sample.Periodic".into(),
        phase: None,
        location: "Outlet".into(),
        unit: "Wh".into(),
        value: wh.into(),
        signed: false,
    }
}

/// Runs a block in a write transaction and gives its value; `?` inside fails the test.
macro_rules! in_write {
    ($store:expr, |$conn:ident| $body:block) => {
        $store.write(move |$conn| Box::pin(async move { Ok($body) })).await.unwrap()
    };
}

/// Runs a block in a write transaction that must fail, and gives the error.
macro_rules! failed_write {
    ($store:expr, |$conn:ident| $body:block) => {
        $store.write(move |$conn| Box::pin(async move { Ok($body) })).await.map(|_| ()).unwrap_err()
    };
}

/// Runs a block on a read connection and gives its value.
macro_rules! in_read {
    ($store:expr, |$conn:ident| $body:block) => {
        $store.read(move |$conn| Box::pin(async move { Ok($body) })).await.unwrap()
    };
}

/// The instant the cases happen at.
const NOW: &str = "2026-07-01T00:00:00Z";

/// Operator "Pearl River Charging"; its id.
async fn operator(store: &Store) -> i64 {
    in_write!(store, |tx| { operators::create_operator(&mut *tx, "Pearl River Charging", at(NOW)).await?.id })
}

/// The operator with its site "Nanshan" and charger ST-1 there, booted; the operator's id.
async fn charger(store: &Store) -> i64 {
    let now = at(NOW);
    let operator_id = operator(store).await;
    in_write!(store, |tx| {
        let site = NewSite {
            operator_id,
            name: "Nanshan".into(),
            time_zone: "Asia/Shanghai".into(),
            latitude: Some(22.53),
            longitude: Some(113.93),
            address: None,
            city: Some("Shenzhen".into()),
        };
        let site = operators::create_site(&mut *tx, site, now).await?;
        let new = NewCharger {
            station_id: "ST-1".into(),
            operator_id: Some(operator_id),
            site_id: Some(site.id),
            registration: Registration::Accepted,
            auth_key_hash: Some("hash".into()),
        };
        chargers::create_charger(&mut *tx, &new, now).await?;
        let boot = BootInfo {
            vendor: "ABB".into(),
            model: "Terra 54".into(),
            serial_number: Some("SN1".into()),
            ..BootInfo::default()
        };
        chargers::record_boot(&mut *tx, "ST-1", &boot, now).await?;
    });
    operator_id
}

/// The operator's card CARD-9, standing for a driver of member CN-M02.
fn card(operator_id: i64) -> Token {
    let now = at(NOW);
    Token {
        id_token: "CARD-9".into(),
        operator_id,
        kind: "card".into(),
        status: chargemesh_core::authorization::TokenStatus::Active,
        expires_at: Some(now + SignedDuration::from_hours(24)),
        parent_id_token: None,
        label: Some("fleet".into()),
        payment_method: None,
        emsp_party: Some("CN-M02".into()),
        driver_id: None,
        created_at: now,
    }
}

/// The operator's driver 13800000000, holding CARD-9; the driver's id.
async fn driver_with_card(store: &Store, operator_id: i64) -> i64 {
    in_write!(store, |tx| {
        let driver =
            drivers::create_driver(&mut *tx, operator_id, "13800000000", "hash-1", Some("Li"), at(NOW)).await?;
        tokens::upsert_token(&mut *tx, &Token { driver_id: Some(driver.id), ..card(operator_id) }).await?;
        driver.id
    })
}

/// A charge with `id_token` at ST-1's connector 1 from 10:00.
fn new_session(id_token: &IdToken) -> NewSession<'_> {
    NewSession {
        station_id: "ST-1",
        connector_id: 1,
        id_token,
        authorization_status: "Accepted",
        started_at: at("2026-07-01T10:00:00Z"),
        meter_start: Energy::from_wh(1000),
        reservation_id: None,
        pricing: None,
    }
}

/// Starts the charge with CARD-9 at ST-1; its id.
async fn start_session(store: &Store) -> i64 {
    in_write!(store, |tx| {
        let card = IdToken::parse("CARD-9").unwrap();
        sessions::create_session(&mut *tx, &new_session(&card), at(NOW)).await?
    })
}

/// Start s1: a driver's (card CARD-1) start at member CN-M02's charger, requested.
fn roaming_start(operator_id: i64) -> federation::RoamingStart {
    let now = at(NOW);
    federation::RoamingStart {
        id: "s1".into(),
        id_token: "CARD-1".into(),
        operator_id: Some(operator_id),
        cpo: "CN-M02".into(),
        location_id: "7".into(),
        evse_uid: "CP-7".into(),
        state: RoamingStartState::Requested,
        message: None,
        created_at: now,
        updated_at: now,
    }
}

/// Start s1, and CN-M02's session 9 answering it and that session's CDR 9.
async fn members_charge_of_start(store: &Store) {
    let now = at(NOW);
    let operator_id = operator(store).await;
    in_write!(store, |tx| {
        federation::create_start(&mut *tx, &roaming_start(operator_id), "pseudonym-s1").await?;
        assert!(federation::receive_session(&mut *tx, "CN-M02", "9", Some("s1"), "{\"v\":1}", now, now).await?);
        assert!(federation::receive_cdr(&mut *tx, "CN-M02", "9", "9", "{\"cdr\":1}", now).await?);
    });
}

/// CN-M02's CDR 9 of start s1 as checked against the ledger, in `state`.
fn settlement(state: SettlementState) -> settlements::Settlement {
    let now = at(NOW);
    settlements::Settlement {
        cpo: "CN-M02".into(),
        cdr_id: "9".into(),
        start_id: "s1".into(),
        id_token: "DRIVER-1".into(),
        state,
        problem: None,
        currency: Some("CNY".into()),
        amount: Some(1_234),
        height: Some(5),
        cdr_hash: Some("ab".into()),
        payment_reference: None,
        dispute_reason: None,
        refunded: None,
        created_at: now,
        updated_at: now,
    }
}

/// Operators, sites and chargers: names are unique, a site needs its operator, a charger reads back.
async fn operators_sites_and_chargers(store: &Store) {
    let now = at(NOW);
    let operator_id = charger(store).await;
    // A failed statement spoils its transaction on PostgreSQL: every failure here is in its own one.
    let err = failed_write!(store, |tx| { operators::create_operator(&mut *tx, "Pearl River Charging", now).await? });
    assert!(err.is_unique_violation(), "{err}");
    let err = failed_write!(store, |tx| {
        let bad_site = NewSite {
            operator_id: 999,
            name: "x".into(),
            time_zone: "Asia/Shanghai".into(),
            latitude: None,
            longitude: None,
            address: None,
            city: None,
        };
        operators::create_site(&mut *tx, bad_site, now).await?
    });
    assert!(err.is_foreign_key_violation(), "{err}");
    in_read!(store, |conn| {
        let charger = chargers::get_charger(&mut *conn, "ST-1").await.unwrap().unwrap();
        assert_eq!((charger.vendor.as_deref(), charger.last_boot_at), (Some("ABB"), Some(now)));
        assert_eq!(chargers::list_chargers(&mut *conn, Some(operator_id)).await.unwrap().len(), 1);
        assert_eq!(chargers::list_chargers(&mut *conn, Some(operator_id + 1)).await.unwrap().len(), 0);
        assert_eq!(chargers::list_chargers(&mut *conn, None).await.unwrap().len(), 1);
        assert_eq!(operators::list_sites(&mut *conn, None).await.unwrap()[0].latitude, Some(22.53));
    });
}

/// A late status report goes to the history but does not overwrite a newer status; the registration
/// can be changed.
async fn connector_status_and_registration(store: &Store) {
    let now = at(NOW);
    charger(store).await;
    in_write!(store, |tx| {
        let report = |status, at_text| StatusReport {
            connector: 1,
            status,
            error_code: None,
            info: None,
            vendor_id: None,
            vendor_error_code: None,
            at: Some(at(at_text)),
        };
        chargers::record_status(&mut *tx, "ST-1", &report(ConnectorStatus::Charging, "2026-07-01T10:00:00Z"), now)
            .await
            .unwrap();
        chargers::record_status(&mut *tx, "ST-1", &report(ConnectorStatus::Available, "2026-07-01T09:00:00Z"), now)
            .await
            .unwrap();
        let connectors = chargers::connectors(&mut *tx, "ST-1").await.unwrap();
        assert_eq!(connectors[0].status, "Charging");
        assert_eq!(chargers::status_history(&mut *tx, "ST-1", 10).await.unwrap().len(), 2);
        let update = ChargerUpdate { registration: Some(Registration::Rejected), ..ChargerUpdate::default() };
        assert!(chargers::update_charger(&mut *tx, "ST-1", &update).await.unwrap());
        assert_eq!(
            chargers::get_charger(&mut *tx, "ST-1").await.unwrap().unwrap().registration(),
            Registration::Rejected
        );
    });
}

/// A fleet read in brief (searched by id, vendor, model or site, wildcards literal), a page of it
/// with connectors, and the connectors reporting errors, newest first.
async fn fleet_briefs_pages_and_faults(store: &Store) {
    let operator_id = charger(store).await;
    in_write!(store, |tx| {
        let new = NewCharger {
            station_id: "ST-2".into(),
            operator_id: Some(operator_id),
            site_id: None,
            registration: Registration::Accepted,
            auth_key_hash: None,
        };
        chargers::create_charger(&mut *tx, &new, at(NOW)).await?;
        let report = |connector, status, error_code: Option<&str>, at_text| StatusReport {
            connector,
            status,
            error_code: error_code.map(str::to_owned),
            info: None,
            vendor_id: None,
            vendor_error_code: None,
            at: Some(at(at_text)),
        };
        for (station, report) in [
            ("ST-1", report(1, ConnectorStatus::Charging, None, "2026-07-01T10:00:00Z")),
            ("ST-1", report(2, ConnectorStatus::Faulted, Some("GroundFailure"), "2026-07-01T10:01:00Z")),
            ("ST-2", report(1, ConnectorStatus::Available, Some("HighTemperature"), "2026-07-01T10:02:00Z")),
            ("ST-2", report(2, ConnectorStatus::Available, Some("NoError"), "2026-07-01T10:03:00Z")),
        ] {
            chargers::record_status(&mut *tx, station, &report, at(NOW)).await?;
        }
    });
    in_read!(store, |conn| {
        let briefs = chargers::charger_briefs(&mut *conn, None, None).await.unwrap();
        let seen: Vec<_> = briefs.iter().map(|b| (b.station_id.as_str(), b.faulted, b.charging)).collect();
        assert_eq!(seen, [("ST-1", true, true), ("ST-2", false, false)]);
        for (text, expected) in
            [("nansh", vec!["ST-1"]), ("TERRA", vec!["ST-1"]), ("st-2", vec!["ST-2"]), ("%", vec![])]
        {
            let found = chargers::charger_briefs(&mut *conn, Some(operator_id), Some(text)).await.unwrap();
            assert_eq!(found.iter().map(|b| b.station_id.as_str()).collect::<Vec<_>>(), expected, "{text}");
        }
        assert!(chargers::charger_briefs(&mut *conn, Some(operator_id + 1), None).await.unwrap().is_empty());
        let page = chargers::chargers_named(&mut *conn, &["ST-2".into(), "ST-1".into()]).await.unwrap();
        let seen: Vec<_> = page.iter().map(|(c, k)| (c.station_id.as_str(), k.len())).collect();
        assert_eq!(seen, [("ST-1", 2), ("ST-2", 2)]);
        assert!(chargers::chargers_named(&mut *conn, &[]).await.unwrap().is_empty());
        let (count, newest) = chargers::connector_faults(&mut *conn, Some(operator_id), 1).await.unwrap();
        assert_eq!(count, 2);
        let seen: Vec<_> = newest.iter().map(|(s, k)| (s.as_str(), k.error_code.as_deref())).collect();
        assert_eq!(seen, [("ST-2", Some("HighTemperature"))]);
        assert_eq!(chargers::connector_faults(&mut *conn, Some(operator_id + 1), 10).await.unwrap().0, 0);
    });
}

/// A token written again replaces the stored one.
async fn tokens_replaced_and_listed(store: &Store) {
    let operator_id = operator(store).await;
    in_write!(store, |tx| {
        let token = card(operator_id);
        tokens::upsert_token(&mut *tx, &token).await.unwrap();
        tokens::upsert_token(
            &mut *tx,
            &Token { status: chargemesh_core::authorization::TokenStatus::Blocked, ..token.clone() },
        )
        .await
        .unwrap();
        let stored = tokens::get_token(&mut *tx, "CARD-9").await.unwrap().unwrap();
        assert_eq!((stored.status.as_str(), stored.expires_at), ("blocked", token.expires_at));
        assert_eq!(stored.emsp_party.as_deref(), Some("CN-M02"));
        assert!(!stored.grant().active);
        assert_eq!(tokens::list_tokens(&mut *tx, Some(operator_id)).await.unwrap().len(), 1);
    });
}

/// Drivers' accounts: a token linked to one, logins that expire and end on a password change or a
/// block.
async fn driver_accounts_and_logins(store: &Store) {
    let now = at(NOW);
    let operator_id = operator(store).await;
    in_write!(store, |tx| {
        tokens::upsert_token(&mut *tx, &card(operator_id)).await?;
        let driver = drivers::create_driver(&mut *tx, operator_id, "13800000000", "hash-1", Some("Li"), now).await?;
        assert!(drivers::create_driver(&mut *tx, operator_id, "13800000001", "hash-2", None, now).await.is_ok());
        let mut card = tokens::get_token(&mut *tx, "CARD-9").await?.unwrap();
        card.driver_id = Some(driver.id);
        tokens::upsert_token(&mut *tx, &card).await?;
        assert_eq!(tokens::tokens_of_driver(&mut *tx, driver.id).await?.len(), 1);
        let later = now + SignedDuration::from_hours(1);
        drivers::add_credential(&mut *tx, "login-a", driver.id, later, now).await?;
        drivers::add_credential(&mut *tx, "login-b", driver.id, later, now).await?;
        assert_eq!(drivers::driver_by_credential(&mut *tx, "login-a", now).await?, Some(driver.clone()));
        assert_eq!(drivers::driver_by_credential(&mut *tx, "login-a", later).await?, None, "expired");
        drivers::set_password(&mut *tx, driver.id, "hash-3", Some("login-a")).await?;
        assert!(drivers::driver_by_credential(&mut *tx, "login-a", now).await?.is_some(), "the changer's login stays");
        assert_eq!(drivers::driver_by_credential(&mut *tx, "login-b", now).await?, None, "the others end");
        assert!(drivers::set_status(&mut *tx, driver.id, DriverStatus::Blocked).await?);
        assert_eq!(drivers::driver_by_credential(&mut *tx, "login-a", now).await?, None, "blocking ends logins");
        assert!(drivers::set_status(&mut *tx, driver.id, DriverStatus::Active).await?);
        let found = drivers::driver_by_username(&mut *tx, "13800000000").await?.unwrap();
        assert_eq!((found.password_hash.as_str(), found.name.as_deref()), ("hash-3", Some("Li")));
        assert_eq!(drivers::list_drivers(&mut *tx, Some(operator_id)).await?.len(), 2);
        assert!(drivers::list_drivers(&mut *tx, Some(operator_id + 1)).await?.is_empty());
    });
}

/// Wrong passwords: counted per subject, forgotten after a while, waits set and lifted.
async fn wrong_passwords_counted_and_waited(store: &Store) {
    let now = at(NOW);
    let driver_id = driver_with_card(store, operator(store).await).await;
    in_write!(store, |tx| {
        let subject = "driver:13800000000".to_owned();
        let hour_ago = now - SignedDuration::from_hours(1);
        assert_eq!(logins::count_failure(&mut *tx, &subject, now, hour_ago).await?, 1);
        assert_eq!(logins::count_failure(&mut *tx, &subject, now, hour_ago).await?, 2);
        let later_on = now + SignedDuration::from_hours(2);
        let hour_before = later_on - SignedDuration::from_hours(1);
        assert_eq!(
            logins::count_failure(&mut *tx, &subject, later_on, hour_before).await?,
            1,
            "old failures forgotten"
        );
        let wait_until = later_on + SignedDuration::from_secs(30);
        logins::block_until(&mut *tx, &subject, wait_until).await?;
        let subjects = [subject.clone(), "address:192.0.2.1".to_owned()];
        assert_eq!(logins::blocked_until(&mut *tx, &subjects, later_on).await?, Some(wait_until));
        assert_eq!(logins::blocked_until(&mut *tx, &subjects, wait_until).await?, None, "the wait is over");
        let waiting = drivers::get_driver(&mut *tx, driver_id).await?.unwrap();
        assert_eq!(waiting.locked_until, Some(wait_until));
        logins::forget(&mut *tx, &subjects).await?;
        assert_eq!(drivers::get_driver(&mut *tx, driver_id).await?.unwrap().locked_until, None, "lifted");
        assert_eq!(logins::count_failure(&mut *tx, &subject, now, hour_ago).await?, 1);
        assert_eq!(logins::purge(&mut *tx, now + SignedDuration::from_secs(1)).await?, 1);
    });
}

/// A session started once, its meter values (registers read in order, any number per message),
/// stopped with its energy assessed, and found by operator, state and driver.
async fn sessions_start_meter_and_stop(store: &Store) {
    let now = at(NOW);
    let operator_id = charger(store).await;
    let driver_id = driver_with_card(store, operator_id).await;
    let id = start_session(store).await;
    let id_token = IdToken::parse("CARD-9").unwrap();
    let token = id_token.clone();
    let err = failed_write!(store, |tx| { sessions::create_session(&mut *tx, &new_session(&token), now).await? });
    assert!(err.is_unique_violation(), "{err}");
    in_write!(store, |tx| {
        let started_at = new_session(&id_token).started_at;
        let found = sessions::find_started(&mut *tx, "ST-1", 1, started_at, &id_token).await.unwrap().unwrap();
        assert_eq!(found.id, id);
        assert!(sessions::token_active_elsewhere(&mut *tx, &id_token, "ST-2", Some(1)).await.unwrap());
        assert!(sessions::token_active_elsewhere(&mut *tx, &id_token, "ST-1", Some(2)).await.unwrap());
        assert!(!sessions::token_active_elsewhere(&mut *tx, &id_token, "ST-1", Some(1)).await.unwrap());
        assert!(!sessions::token_active_elsewhere(&mut *tx, &id_token, "ST-1", None).await.unwrap());
        let samples = [sample("2026-07-01T10:10:00Z", "1500"), sample("2026-07-01T10:05:00Z", "1200.5")];
        sessions::add_meter_values(&mut *tx, Some(id), "ST-1", 1, &samples, now).await.unwrap();
        let readings = sessions::register_readings(&mut *tx, id).await.unwrap();
        assert_eq!(readings.iter().map(|r| r.energy.mwh()).collect::<Vec<_>>(), vec![1_200_500, 1_500_000]);
        assert_eq!(sessions::meter_values(&mut *tx, id).await.unwrap()[0].value, "1200.5");
        // A message with more samples than one statement carries.
        let voltages: Vec<MeterSample> = (0..130)
            .map(|i| MeterSample {
                measurand: "Voltage".into(),
                unit: "V".into(),
                value: format!("{}", 220 + i % 10),
                ..sample("2026-07-01T10:06:00Z", "0")
            })
            .collect();
        sessions::add_meter_values(&mut *tx, Some(id), "ST-1", 1, &voltages, now).await.unwrap();
        assert_eq!(sessions::meter_values(&mut *tx, id).await.unwrap().len(), 132);
        assert_eq!(sessions::register_readings(&mut *tx, id).await.unwrap().len(), 2);
        assert_eq!(sessions::active_sessions_of_station(&mut *tx, "ST-1").await.unwrap().len(), 1);
        let stop = SessionStop {
            stopped_at: at("2026-07-01T10:20:00Z"),
            meter_stop: Energy::from_wh(2000),
            reason: "Local",
            stopped_by: sessions::StoppedBy::Charger,
        };
        sessions::stop_session(&mut *tx, id, &stop, now).await.unwrap();
        let assessment = EnergyAssessment {
            end: RegisterReading { at: at("2026-07-01T10:20:00Z"), energy: Energy::from_wh(2000) },
            delivered: Energy::from_wh(1000),
            flags: vec![EnergyFlag::RegisterWentBackwards],
        };
        sessions::set_energy(&mut *tx, id, &assessment, now).await.unwrap();
        let stored = sessions::get_session(&mut *tx, id).await.unwrap().unwrap();
        assert_eq!(stored.energy_assessment(), Some(assessment));
    });
    in_read!(store, |conn| {
        let session = sessions::get_session(&mut *conn, id).await.unwrap().unwrap();
        assert_eq!(
            (session.state.as_str(), session.energy_mwh, session.meter_stop_mwh),
            ("completed", 1_000_000, Some(2_000_000))
        );
        let filter = SessionFilter {
            operator_id: Some(operator_id),
            state: Some(sessions::SessionState::Completed),
            limit: 10,
            ..SessionFilter::default()
        };
        assert_eq!(sessions::list_sessions(&mut *conn, &filter).await.unwrap().len(), 1);
        let filter = SessionFilter { operator_id: Some(operator_id + 1), limit: 10, ..SessionFilter::default() };
        assert!(sessions::list_sessions(&mut *conn, &filter).await.unwrap().is_empty());
        let filter = SessionFilter { driver_id: Some(driver_id), limit: 10, ..SessionFilter::default() };
        assert_eq!(sessions::list_sessions(&mut *conn, &filter).await.unwrap().len(), 1, "the driver's card's");
        let filter = SessionFilter { driver_id: Some(driver_id + 1), limit: 10, ..SessionFilter::default() };
        assert!(sessions::list_sessions(&mut *conn, &filter).await.unwrap().is_empty());
    });
}

/// A charger's message remembered with the reply given (the latest copy kept), read with the
/// charger's standing; old ones forgotten.
async fn remembered_replies_and_standing(store: &Store) {
    let now = at(NOW);
    let operator_id = charger(store).await;
    in_write!(store, |tx| {
        let update = ChargerUpdate { registration: Some(Registration::Rejected), ..ChargerUpdate::default() };
        chargers::update_charger(&mut *tx, "ST-1", &update).await?;
        messages::remember(&mut *tx, "ST-1", "m1", "Authorize", "d1", "{\"kind\":\"acknowledged\"}", now)
            .await
            .unwrap();
        messages::remember(&mut *tx, "ST-1", "m1", "Authorize", "d2", "{\"kind\":\"acknowledged\"}", now)
            .await
            .unwrap();
        let (standing, seen) = chargers::standing_and_reply(&mut *tx, "ST-1", "m1").await.unwrap().unwrap();
        assert_eq!(standing.registration, Registration::Rejected, "the update above rejected it");
        assert_eq!(standing.operator_id, Some(operator_id));
        assert_eq!(seen.unwrap().payload_digest, "d2");
        let (_, unseen) = chargers::standing_and_reply(&mut *tx, "ST-1", "m2").await.unwrap().unwrap();
        assert_eq!(unseen, None);
        assert!(chargers::standing_and_reply(&mut *tx, "NOPE", "m1").await.unwrap().is_none());
        assert_eq!(messages::forget_before(&mut *tx, now + SignedDuration::from_secs(1)).await.unwrap(), 1);
    });
}

/// A command to a charger: failed while pending, then completed with its outcome, read back.
async fn charger_commands(store: &Store) {
    let now = at(NOW);
    charger(store).await;
    in_write!(store, |tx| {
        let command = ChargerCommand::Reset { hard: true };
        let command_id = commands::create_command(&mut *tx, "ST-1", &command, None, now).await.unwrap();
        assert_eq!(commands::fail_pending(&mut *tx, now).await.unwrap(), 1);
        let outcome = CommandOutcome::Status { status: "Accepted".into() };
        commands::complete_command(&mut *tx, command_id, CommandState::Answered, Some(&outcome), None, now)
            .await
            .unwrap();
        let record = commands::get_command(&mut *tx, command_id).await.unwrap().unwrap();
        assert_eq!((record.command, record.outcome), (command, Some(outcome)));
    });
}

/// Staff logins expire; API keys act with their own role, never more than their account's;
/// disabling, re-enabling, revoking and deleting.
async fn staff_logins_and_api_keys(store: &Store) {
    let now = at(NOW);
    let operator_id = operator(store).await;
    in_write!(store, |tx| {
        let member =
            staff::create_staff(&mut *tx, "li.wei", "hash", Role::Admin, Some(operator_id), now).await.unwrap();
        let login = staff::NewCredential {
            secret_digest: "digest-1",
            staff_id: member.id,
            kind: staff::CredentialKind::Login,
            name: None,
            role: None,
            operator_id: None,
            expires_at: Some(now + SignedDuration::from_hours(1)),
        };
        staff::add_credential(&mut *tx, &login, now).await.unwrap();
        let (found, grant) = staff::staff_by_credential(&mut *tx, "digest-1", now).await.unwrap().unwrap();
        assert_eq!(
            (found.username.as_str(), grant.role, grant.operator_id),
            ("li.wei", Role::Admin, Some(operator_id))
        );
        assert!(
            staff::staff_by_credential(&mut *tx, "digest-1", now + SignedDuration::from_hours(2))
                .await
                .unwrap()
                .is_none()
        );
        let key = staff::NewCredential {
            secret_digest: "key-1",
            kind: staff::CredentialKind::ApiKey,
            name: Some("exports"),
            role: Some(Role::Readonly),
            expires_at: None,
            ..login
        };
        let key_id = staff::add_credential(&mut *tx, &key, now).await.unwrap();
        let (_, grant) = staff::staff_by_credential(&mut *tx, "key-1", now).await.unwrap().unwrap();
        assert_eq!(
            (grant.role, grant.kind, grant.credential_id),
            (Role::Readonly, staff::CredentialKind::ApiKey, key_id)
        );
        let listed = staff::list_api_keys(&mut *tx, Some(member.id), None).await.unwrap();
        assert_eq!(listed.iter().map(|k| (k.id, k.name.as_str())).collect::<Vec<_>>(), [(key_id, "exports")]);
        let above = staff::NewCredential { secret_digest: "key-2", role: Some(Role::MemberAdmin), ..key };
        staff::add_credential(&mut *tx, &above, now).await.unwrap();
        assert!(staff::staff_by_credential(&mut *tx, "key-2", now).await.unwrap().is_none(), "above its account");
        // Disabling ends logins and keys; a password reset ends logins only.
        assert!(staff::set_status(&mut *tx, member.id, StaffStatus::Disabled).await.unwrap());
        assert!(staff::staff_by_credential(&mut *tx, "key-1", now).await.unwrap().is_none());
        assert!(staff::set_status(&mut *tx, member.id, StaffStatus::Active).await.unwrap());
        assert!(staff::staff_by_credential(&mut *tx, "digest-1", now).await.unwrap().is_none(), "logins ended");
        assert!(staff::staff_by_credential(&mut *tx, "key-1", now).await.unwrap().is_some(), "keys stay");
        assert!(staff::revoke_api_key(&mut *tx, key_id).await.unwrap());
        assert!(staff::staff_by_credential(&mut *tx, "key-1", now).await.unwrap().is_none());
        assert_eq!(staff::count_active_with_role(&mut *tx, Role::Admin).await.unwrap(), 1);
        assert!(staff::delete_staff(&mut *tx, member.id).await.unwrap());
        assert_eq!(staff::count_staff(&mut *tx).await.unwrap(), 0);
    });
}

/// Deleting a charger with history (here a charge) is refused by the database, and nothing changes.
async fn deleting_a_charger_with_history_is_refused(store: &Store) {
    charger(store).await;
    start_session(store).await;
    let err = failed_write!(store, |tx| { chargers::delete_charger(&mut *tx, "ST-1").await? });
    assert!(err.is_foreign_key_violation(), "{err}");
    in_read!(store, |conn| {
        assert!(chargers::get_charger(&mut *conn, "ST-1").await.unwrap().is_some());
    });
}

/// The OCPI outbox: a newer undelivered message about an object replaces the older one; a failed
/// delivery is retried later; delivered messages are purged after a while, undelivered ones never.
async fn outbox_replaces_undelivered_and_retries(store: &Store) {
    let now = at(NOW);
    in_write!(store, |tx| {
        federation::enqueue(
            &mut *tx,
            "CN-M02",
            "location:1",
            Some("d1"),
            ("PUT", "/2.2.1/emsp/locations/CN/M01/1", "{}"),
            now,
        )
        .await?;
        federation::enqueue(
            &mut *tx,
            "CN-M02",
            "location:1",
            Some("d2"),
            ("PUT", "/2.2.1/emsp/locations/CN/M01/1", "{\"v\":2}"),
            now,
        )
        .await?;
        federation::enqueue(
            &mut *tx,
            "CN-M03",
            "location:1",
            None,
            ("PUT", "/2.2.1/emsp/locations/CN/M01/1", "{\"v\":2}"),
            now,
        )
        .await?;
    });
    let due = in_read!(store, |conn| { federation::due(&mut *conn, now, 10).await? });
    assert_eq!(
        due.iter().map(|m| (m.peer.as_str(), m.body.as_str())).collect::<Vec<_>>(),
        [("CN-M02", "{\"v\":2}"), ("CN-M03", "{\"v\":2}")]
    );
    let (first, second) = (due[0].id, due[1].id);
    in_write!(store, |tx| {
        federation::delivered(&mut *tx, first, now).await?;
        federation::failed(&mut *tx, second, "connection refused", now + SignedDuration::from_secs(1)).await?;
    });
    in_read!(store, |conn| {
        assert!(federation::due(&mut *conn, now, 10).await.unwrap().is_empty(), "delivered, or not due yet");
        let pending = federation::pending(&mut *conn, 10).await.unwrap();
        assert_eq!(
            pending.iter().map(|m| (m.peer.as_str(), m.last_error.as_deref())).collect::<Vec<_>>(),
            [("CN-M03", Some("connection refused"))]
        );
        let retry = federation::due(&mut *conn, now + SignedDuration::from_secs(1), 10).await.unwrap();
        assert_eq!((retry.len(), retry[0].attempts), (1, 1));
        let digests = federation::digests(&mut *conn).await.unwrap();
        assert_eq!(digests, [("CN-M02".to_owned(), "location:1".to_owned(), "d2".to_owned())], "none kept for CN-M03");
    });
    in_write!(store, |tx| {
        assert_eq!(federation::undelivered(&mut *tx).await?, 1);
        assert_eq!(federation::purge_delivered(&mut *tx, now).await?, 0, "delivered just now: kept");
        assert_eq!(federation::purge_delivered(&mut *tx, now + SignedDuration::from_secs(1)).await?, 1);
        assert_eq!(federation::undelivered(&mut *tx).await?, 1, "undelivered ones are never purged");
    });
}

/// A driver's start at another member's charger: the member's answer only while requested, and a
/// driver's list of their tokens' starts.
async fn roaming_starts(store: &Store) {
    let now = at(NOW);
    let operator_id = operator(store).await;
    let driver_id = driver_with_card(store, operator_id).await;
    in_write!(store, |tx| {
        let start = roaming_start(operator_id);
        federation::create_start(&mut *tx, &start, "pseudonym").await?;
        assert!(federation::update_start(&mut *tx, "s1", "CN-M02", None, RoamingStartState::Started, None, now).await?);
        assert!(
            !federation::update_start(
                &mut *tx,
                "s1",
                "CN-M02",
                Some(RoamingStartState::Requested),
                RoamingStartState::Accepted,
                None,
                now
            )
            .await?
        );
        let failed = RoamingStartState::after_result(RoamingCommand::Start, Some(ChargerAnswer::Failed));
        assert!(!federation::update_start(&mut *tx, "s1", "CN-M03", None, failed, None, now).await?, "not its start");
        let drivers_start = federation::RoamingStart { id: "s3".into(), id_token: "CARD-9".into(), ..start };
        federation::create_start(&mut *tx, &drivers_start, "pseudonym-2").await?;
        let theirs = federation::starts_of_driver(&mut *tx, driver_id, None, 10).await?;
        assert_eq!(
            theirs.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["s3"],
            "only the driver's tokens' starts"
        );
        assert!(federation::starts_of_driver(&mut *tx, driver_id, Some(now), 10).await?.is_empty(), "made before");
    });
    in_read!(store, |conn| {
        assert_eq!(federation::get_start(&mut *conn, "s1").await.unwrap().unwrap().state, RoamingStartState::Started);
        assert!(federation::get_start(&mut *conn, "s2").await.unwrap().is_none());
        let found = federation::token_of_pseudonym(&mut *conn, "CN-M02", "pseudonym-2").await.unwrap();
        assert_eq!(found, Some(("CARD-9".to_owned(), "s3".to_owned())), "a pseudonym finds its token by the index");
        assert_eq!(
            federation::token_of_pseudonym(&mut *conn, "CN-M03", "pseudonym-2").await.unwrap(),
            None,
            "per member"
        );
        assert!(federation::starts_without_pseudonym(&mut *conn).await.unwrap().is_empty());
    });
    // A start recorded before pseudonyms were kept is found once it is given its own.
    in_write!(store, |tx| {
        chargemesh_store::query("UPDATE roaming_starts SET pseudonym = NULL WHERE id = 's1'").execute(&mut *tx).await?;
        let unindexed = federation::starts_without_pseudonym(&mut *tx).await?;
        assert_eq!(unindexed, [("s1".to_owned(), "CN-M02".to_owned(), "CARD-1".to_owned())]);
        federation::set_start_pseudonym(&mut *tx, "s1", "pseudonym-1").await?;
        let found = federation::token_of_pseudonym(&mut *tx, "CN-M02", "pseudonym-1").await?;
        assert_eq!(found, Some(("CARD-1".to_owned(), "s1".to_owned())));
    });
}

/// Another member's session and CDR of this node's driver, found by the start they answer; an older
/// version of the session and the same CDR again change nothing.
async fn members_session_and_cdr_of_a_start(store: &Store) {
    let now = at(NOW);
    members_charge_of_start(store).await;
    in_write!(store, |tx| {
        let earlier = now - SignedDuration::from_secs(5);
        assert!(!federation::receive_session(&mut *tx, "CN-M02", "9", Some("s1"), "{\"v\":0}", earlier, now).await?);
        assert!(!federation::receive_cdr(&mut *tx, "CN-M02", "9", "9", "{\"cdr\":1}", now).await?, "once");
    });
    in_read!(store, |conn| {
        let charge = federation::charge_of_start(&mut *conn, "CN-M02", "s1").await.unwrap();
        assert_eq!(charge, Some(("{\"v\":1}".to_owned(), Some("{\"cdr\":1}".to_owned()))));
        assert!(federation::charge_of_start(&mut *conn, "CN-M03", "s1").await.unwrap().is_none());
    });
}

/// A member's reservation: one id at the charger per member's reservation id, kept on repeats.
async fn members_reservations(store: &Store) {
    let now = at(NOW);
    in_write!(store, |tx| {
        let later = now + SignedDuration::from_mins(15);
        let first = federation::reservation_for(&mut *tx, ("CN-M02", "r-1"), "ST-1", "PSEUDONYM", later, now).await?;
        let again = federation::reservation_for(&mut *tx, ("CN-M02", "r-1"), "ST-2", "PSEUDONYM", later, now).await?;
        let other = federation::reservation_for(&mut *tx, ("CN-M03", "r-1"), "ST-1", "PSEUDONYM", later, now).await?;
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_eq!(federation::reservation(&mut *tx, "CN-M02", "r-1").await?, Some((first, "ST-2".to_owned())));
        assert_eq!(federation::reservation(&mut *tx, "CN-M02", "r-2").await?, None);
    });
}

/// This node's side as CPO: a member's request (recorded once however often it comes), and the
/// sessions of members' drivers at this node's chargers, not those of its own drivers; a token
/// found to be a member's later brings its sessions along.
async fn roaming_charges_of_members_drivers(store: &Store) {
    let now = at(NOW);
    let operator_id = charger(store).await;
    let own = Token { emsp_party: None, ..card(operator_id) };
    in_write!(store, |tx| { tokens::upsert_token(&mut *tx, &own).await? });
    start_session(store).await;
    in_read!(store, |conn| {
        let charges = federation::roaming_charges(&mut *conn, now - SignedDuration::from_hours(1)).await.unwrap();
        assert!(charges.is_empty(), "the node's own driver's session is no member's charge: {charges:?}");
    });
    in_write!(store, |tx| { tokens::upsert_token(&mut *tx, &card(operator_id)).await? });
    in_write!(store, |tx| {
        federation::authorize(&mut *tx, "PSEUDONYM", "ST-1", "CN-M02", "ref-1", now).await?;
        federation::authorize(&mut *tx, "PSEUDONYM", "ST-1", "CN-M02", "ref-1", now).await?;
    });
    in_read!(store, |conn| {
        let charges = federation::roaming_charges(&mut *conn, now - SignedDuration::from_hours(1)).await.unwrap();
        let found: Vec<_> =
            charges.iter().map(|c| (c.id_token.as_str(), c.emsp.as_str(), c.authorization_reference.clone())).collect();
        assert_eq!(found, [("CARD-9", "CN-M02", None)], "CN-M02's driver's session, not started by a request");
    });
}

/// A member's CDR's settlement: awaiting its anchor, then verified, charged, and disputed once.
async fn settlements_checked_charged_and_disputed(store: &Store) {
    let now = at(NOW);
    members_charge_of_start(store).await;
    in_read!(store, |conn| {
        let unsettled = settlements::unsettled(&mut *conn, 10).await.unwrap();
        let found: Vec<_> =
            unsettled.iter().map(|u| (u.cdr_id.as_str(), u.start_id.as_str(), u.body.as_str())).collect();
        assert_eq!(found, [("9", "s1", "{\"cdr\":1}")]);
        assert_eq!(unsettled[0].id_token, "CARD-1");
    });
    let (awaiting, verified) = (settlement(SettlementState::AwaitingAnchor), settlement(SettlementState::Verified));
    in_write!(store, |tx| {
        assert!(settlements::record_check(&mut *tx, &awaiting).await?);
        assert!(settlements::record_check(&mut *tx, &verified).await?);
        assert!(!settlements::record_check(&mut *tx, &awaiting).await?, "checked once anchored");
        let key = ("CN-M02", "9");
        assert!(!settlements::dispute(&mut *tx, ("CN-M02", "8"), "other", now).await?, "no such CDR");
        assert_eq!(settlements::to_charge(&mut *tx, 10).await?.len(), 1);
        assert!(settlements::charged(&mut *tx, key, SettlementState::Charged, Some("pay-1"), None, now).await?);
        assert!(
            !settlements::charged(&mut *tx, key, SettlementState::Charged, Some("pay-2"), None, now).await?,
            "once"
        );
        assert!(settlements::dispute(&mut *tx, key, "metering_differs", now).await?);
        assert!(!settlements::dispute(&mut *tx, key, "duplicate", now).await?, "disputed already");
    });
    in_read!(store, |conn| {
        assert!(settlements::unsettled(&mut *conn, 10).await.unwrap().is_empty());
        let settled = settlements::of_start(&mut *conn, "s1").await.unwrap().unwrap();
        assert_eq!((settled.state, settled.payment_reference.as_deref()), (SettlementState::Disputed, Some("pay-1")));
        let disputed = settlements::disputed(&mut *conn).await.unwrap();
        assert_eq!(disputed, [("CN-M02".to_owned(), "9".to_owned(), "metering_differs".to_owned())]);
        assert_eq!(settlements::get(&mut *conn, "CN-M02", "9").await.unwrap(), Some(settled));
        assert_eq!(settlements::disputed_settlements(&mut *conn).await.unwrap().len(), 1);
    });
}

/// A disputed settlement resolved for less on the ledger: the driver got the difference back; once.
async fn a_dispute_resolved_for_less(store: &Store) {
    let now = at(NOW);
    members_charge_of_start(store).await;
    let key = ("CN-M02", "9");
    in_write!(store, |tx| {
        assert!(settlements::record_check(&mut *tx, &settlement(SettlementState::Verified)).await?);
        assert!(settlements::charged(&mut *tx, key, SettlementState::Charged, Some("pay-1"), None, now).await?);
        assert!(settlements::dispute(&mut *tx, key, "metering_differs", now).await?);
    });
    in_write!(store, |tx| {
        let resolution = settlements::Resolution {
            state: SettlementState::Resolved,
            amount: 1_000,
            refunded: Some(234),
            problem: Some("settled for less"),
        };
        assert!(settlements::resolve(&mut *tx, key, &resolution, now).await?);
        assert!(!settlements::resolve(&mut *tx, key, &resolution, now).await?, "once");
        assert!(!settlements::dispute(&mut *tx, key, "other", now).await?, "a resolved CDR is not disputed again");
        let resolved = settlements::get(&mut *tx, "CN-M02", "9").await?.unwrap();
        assert_eq!(
            (resolved.state, resolved.amount, resolved.refunded),
            (SettlementState::Resolved, Some(1_000), Some(234))
        );
        assert!(settlements::disputed(&mut *tx).await?.is_empty(), "nothing more to submit");
    });
}

/// Pushed locations and tariffs: the newest version of each is kept, whatever the order of arrival.
async fn pushed_objects_keep_the_newest_version(store: &Store) {
    let now = at(NOW);
    let pushed = |id: &str, body: &str, minute: i64| federation::PushedObject {
        cpo: "CN-M02".into(),
        id: id.into(),
        body: body.into(),
        last_updated: now + SignedDuration::from_mins(minute),
    };
    let (newer, older) = (pushed("7", "newer", 5), pushed("7", "older", 1));
    let tariff = pushed("gd-tou", "tariff", 0);
    in_write!(store, |tx| {
        use federation::Pushed::{Location, Tariff};
        assert!(federation::receive_pushed(&mut *tx, Location, &newer, now).await?);
        assert!(
            !federation::receive_pushed(&mut *tx, Location, &older, now).await?,
            "an older version changes nothing"
        );
        assert!(
            federation::receive_pushed(&mut *tx, Location, &newer, now).await?,
            "the same version again is harmless"
        );
        assert!(federation::receive_pushed(&mut *tx, Tariff, &tariff, now).await?);
    });
    in_read!(store, |conn| {
        use federation::Pushed::{Location, Tariff};
        let kept = federation::pushed(&mut *conn, Location, Some("CN-M02")).await.unwrap();
        assert_eq!(kept.iter().map(|l| l.body.as_str()).collect::<Vec<_>>(), ["newer"]);
        assert!(federation::pushed(&mut *conn, Location, Some("CN-M09")).await.unwrap().is_empty());
        assert_eq!(federation::pushed(&mut *conn, Location, None).await.unwrap().len(), 1);
        let tariffs = federation::pushed(&mut *conn, Tariff, None).await.unwrap();
        assert_eq!(
            tariffs.iter().map(|t| (t.id.as_str(), t.body.as_str())).collect::<Vec<_>>(),
            [("gd-tou", "tariff")]
        );
    });
}

/// Concurrent writes, some of which fail: the others are all committed, the failed ones change nothing.
async fn concurrent_writes(store: &Store) {
    let now = at(NOW);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(move |conn| {
                    Box::pin(async move {
                        let name = format!("op-{}", i % 150);
                        operators::create_operator(&mut *conn, &format!("first-write-{i}"), now).await?;
                        // Every operator after the 150th repeats a name and fails after its first write.
                        operators::create_operator(conn, &name, now).await
                    })
                })
                .await
        }));
    }
    let mut succeeded = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => succeeded += 1,
            Err(e) => assert!(e.is_unique_violation(), "{e}"),
        }
    }
    let operators = in_read!(store, |conn| { operators::list_operators(conn).await? });
    assert_eq!(succeeded, 150);
    assert_eq!(operators.len(), 300, "each successful write made two operators, each failed one none");
}

/// The audit log: appended entries read back, newest first, each reader seeing its scope; a money
/// movement is logged once, under the operator of its wallet.
async fn audit_log(store: &Store) {
    let now = at(NOW);
    let (north, south) = in_write!(store, |tx| {
        let north = operators::create_operator(&mut *tx, "North", now).await?;
        let south = operators::create_operator(&mut *tx, "South", now).await?;
        (north.id, south.id)
    });
    let entry = move |action: &str, operator_id: Option<i64>, at_secs: i64| audit::AuditEntry {
        id: 0,
        at: now + SignedDuration::from_secs(at_secs),
        actor_kind: "staff".into(),
        actor_id: Some(1),
        actor_name: Some("li.wei".into()),
        actor_role: Some("admin".into()),
        actor_operator_id: operator_id,
        credential: Some("login".into()),
        address: Some("192.0.2.1".into()),
        action: action.into(),
        object: Some("/api/v1/sites/1".into()),
        operator_id,
        status: Some(200),
        request: Some(serde_json::json!({"name": "new"})),
        before: Some(serde_json::json!({"name": "old"})),
        after: Some(serde_json::json!({"name": "new"})),
        detail: None,
    };
    in_write!(store, |tx| {
        audit::append(&mut *tx, &entry("sites.update", Some(north), 0)).await?;
        audit::append(&mut *tx, &entry("sites.delete", Some(south), 1)).await?;
        audit::append(&mut *tx, &entry("governance.vote", None, 2)).await?;
    });
    let filter = |scope| audit::AuditFilter {
        scope,
        actor: None,
        action: None,
        from: None,
        to: None,
        before_id: None,
        limit: 10,
    };
    let actions = |entries: Vec<audit::AuditEntry>| entries.into_iter().map(|e| e.action).collect::<Vec<_>>();
    let all = in_read!(store, |conn| { audit::list(&mut *conn, &filter(audit::AuditScope::All)).await? });
    assert_eq!(all[2], audit::AuditEntry { id: all[2].id, ..entry("sites.update", Some(north), 0) }, "reads back");
    assert_eq!(actions(all), ["governance.vote", "sites.delete", "sites.update"]);
    let operators = in_read!(store, |conn| { audit::list(&mut *conn, &filter(audit::AuditScope::Operators)).await? });
    assert_eq!(actions(operators), ["sites.delete", "sites.update"], "not the member's own business");
    let north_only =
        in_read!(store, |conn| { audit::list(&mut *conn, &filter(audit::AuditScope::Operator(north))).await? });
    assert_eq!(actions(north_only), ["sites.update"]);
    let sites = audit::AuditFilter {
        action: Some("sites.".into()),
        from: Some(now + SignedDuration::from_secs(1)),
        ..filter(audit::AuditScope::All)
    };
    assert_eq!(actions(in_read!(store, |conn| { audit::list(&mut *conn, &sites).await? })), ["sites.delete"]);

    let movement = payments::Movement {
        movement_key: "top-up-1".into(),
        kind: "wallet_top_up".into(),
        from_account: "provider:sandbox".into(),
        to_account: "wallet:CARD-S".into(),
        amount: 5000,
        currency: "CNY".into(),
        session_id: None,
        reason: None,
        provider_reference: Some("sb-1".into()),
        created_at: now,
    };
    in_write!(store, |tx| {
        let card = Token {
            id_token: "CARD-S".into(),
            operator_id: south,
            kind: "card".into(),
            status: chargemesh_core::authorization::TokenStatus::Active,
            expires_at: None,
            parent_id_token: None,
            label: None,
            payment_method: Some("wallet".into()),
            emsp_party: None,
            driver_id: None,
            created_at: now,
        };
        tokens::upsert_token(&mut *tx, &card).await?;
        payments::record_movement(&mut *tx, &movement).await?;
        payments::record_movement(&mut *tx, &movement).await?;
    });
    let money = audit::AuditFilter { action: Some("money.".into()), ..filter(audit::AuditScope::Operator(south)) };
    let logged = in_read!(store, |conn| { audit::list(&mut *conn, &money).await? });
    assert_eq!(logged.len(), 1, "recorded once: {logged:?}");
    assert_eq!((logged[0].action.as_str(), logged[0].actor_kind.as_str()), ("money.wallet_top_up", "node"));
    assert_eq!(logged[0].after.as_ref().unwrap()["amount"], 5000);
}

/// Closing a driver's account leaves nothing personal: the account's identity goes and its tokens
/// are renamed wherever accounting keeps them, the amounts staying.
async fn closing_a_driver_account(store: &Store) {
    let now = at(NOW);
    let driver_id = in_write!(store, |tx| {
        let operator = operators::create_operator(&mut *tx, "North", now).await?;
        let driver =
            drivers::create_driver(&mut *tx, operator.id, "13900000009", "hash", Some("Wang Fang"), now).await?;
        let card = Token {
            id_token: "CARD-W".into(),
            operator_id: operator.id,
            kind: "card".into(),
            status: chargemesh_core::authorization::TokenStatus::Active,
            expires_at: None,
            parent_id_token: None,
            label: Some("Wang's card".into()),
            payment_method: Some("wallet".into()),
            emsp_party: None,
            driver_id: Some(driver.id),
            created_at: now,
        };
        tokens::upsert_token(&mut *tx, &card).await?;
        drivers::add_credential(&mut *tx, "login-w", driver.id, now + SignedDuration::from_hours(1), now).await?;
        let top_up = payments::Movement {
            movement_key: "w-1".into(),
            kind: "wallet_top_up".into(),
            from_account: "provider:sandbox".into(),
            to_account: "wallet:CARD-W".into(),
            amount: 500,
            currency: "CNY".into(),
            session_id: None,
            reason: None,
            provider_reference: None,
            created_at: now,
        };
        payments::record_movement(&mut *tx, &top_up).await?;
        let start = federation::RoamingStart {
            id: "s-w".into(),
            id_token: "CARD-W".into(),
            operator_id: Some(operator.id),
            cpo: "CN-M02".into(),
            location_id: "1".into(),
            evse_uid: "E".into(),
            state: RoamingStartState::Rejected,
            message: None,
            created_at: now,
            updated_at: now,
        };
        federation::create_start(&mut *tx, &start, "pseudonym").await?;
        assert_eq!(drivers::logins_of(&mut *tx, driver.id).await?.len(), 1);
        drivers::close_account(&mut *tx, driver.id, &[("CARD-W".into(), "ANON-1".into())]).await?;
        driver.id
    });
    in_read!(store, |conn| {
        let closed = drivers::get_driver(&mut *conn, driver_id).await?.unwrap();
        assert_eq!(
            (closed.username, closed.name, closed.status),
            (format!("closed-{driver_id}"), None, DriverStatus::Closed)
        );
        assert!(drivers::logins_of(&mut *conn, driver_id).await?.is_empty());
        assert!(drivers::driver_by_username(&mut *conn, "13900000009").await?.is_none());
        assert!(tokens::get_token(&mut *conn, "CARD-W").await?.is_none());
        let renamed = tokens::get_token(&mut *conn, "ANON-1").await?.unwrap();
        assert_eq!((renamed.status.as_str(), renamed.payment_method, renamed.label), ("blocked", None, None));
        assert_eq!(payments::balance(&mut *conn, "wallet:ANON-1", "CNY").await?, 500, "the amounts stay");
        assert_eq!(payments::balance(&mut *conn, "wallet:CARD-W", "CNY").await?, 0);
        assert_eq!(federation::get_start(&mut *conn, "s-w").await?.unwrap().id_token, "ANON-1");
    });
}

/// A member request is seen once; a replay of it is recognised until it is too old to be accepted
/// anyway, and then forgotten.
async fn member_requests_seen(store: &Store) {
    let now = at(NOW);
    let long_ago = now - SignedDuration::from_mins(11);
    in_write!(store, |tx| {
        assert!(federation::first_sight(&mut *tx, "digest-a", now, long_ago).await?);
        assert!(!federation::first_sight(&mut *tx, "digest-a", now, long_ago).await?, "a replay");
        assert!(federation::first_sight(&mut *tx, "digest-b", now, long_ago).await?);
        let later = now + SignedDuration::from_mins(11);
        assert!(federation::first_sight(&mut *tx, "digest-c", later, now + SignedDuration::from_secs(1)).await?);
        assert!(
            federation::first_sight(&mut *tx, "digest-a", later, now + SignedDuration::from_secs(1)).await?,
            "forgotten"
        );
    });
}

/// One test per case on each backend, each on a store of its own: `sqlite::case` and `postgres::case`.
macro_rules! backend_cases {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = super::sqlite_store().await;
                    super::$case(&store).await;
                    store.close().await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let (store, mut admin, database) = super::postgres_store().await;
                    super::$case(&store).await;
                    // A database cannot be dropped while the store is still connected to it.
                    store.close().await;
                    let drop = format!("DROP DATABASE {database}");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await.unwrap();
                }
            )+
        }
    };
}

backend_cases!(
    operators_sites_and_chargers,
    connector_status_and_registration,
    fleet_briefs_pages_and_faults,
    tokens_replaced_and_listed,
    driver_accounts_and_logins,
    wrong_passwords_counted_and_waited,
    sessions_start_meter_and_stop,
    remembered_replies_and_standing,
    charger_commands,
    staff_logins_and_api_keys,
    deleting_a_charger_with_history_is_refused,
    outbox_replaces_undelivered_and_retries,
    roaming_starts,
    members_session_and_cdr_of_a_start,
    members_reservations,
    roaming_charges_of_members_drivers,
    settlements_checked_charged_and_disputed,
    a_dispute_resolved_for_less,
    pushed_objects_keep_the_newest_version,
    concurrent_writes,
    audit_log,
    closing_a_driver_account,
    member_requests_seen,
);

#[tokio::test]
async fn migrations_are_applied_once() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("chargemesh_reopen")));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::open(&url, 1).await.unwrap();
    in_write!(store, |tx| { operators::create_operator(tx, "Kept", at(NOW)).await? });
    store.close().await;
    let store = Store::open(&url, 1).await.unwrap();
    let operators = in_read!(store, |conn| { operators::list_operators(conn).await? });
    assert_eq!(operators.len(), 1, "reopening applied no migration twice and lost nothing");
    assert_eq!(operators[0].name, "Kept");
}

#[tokio::test]
async fn a_panicking_write_fails_alone() {
    let store = sqlite_store().await;
    let now = at(NOW);
    let panicking = store.write(move |conn| {
        Box::pin(async move {
            operators::create_operator(&mut *conn, "half-done", now).await?;
            panic!("a bug in a write job");
        })
    });
    let healthy =
        store.write(move |conn| Box::pin(async move { operators::create_operator(conn, "whole", now).await }));
    let (panicked, healthy): (chargemesh_store::Result<()>, _) = tokio::join!(panicking, healthy);
    assert!(matches!(panicked, Err(chargemesh_store::StoreError::JobFailed)), "{panicked:?}");
    assert!(healthy.is_ok());
    let later = store.write(move |conn| Box::pin(async move { operators::create_operator(conn, "later", now).await }));
    assert!(later.await.is_ok(), "the writer survives");
    let names: Vec<String> =
        in_read!(store, |conn| { operators::list_operators(conn).await? }).into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["whole", "later"]);
}

#[tokio::test]
async fn sqlite_work_that_waits_for_something_else_fails_and_changes_nothing() {
    let store = sqlite_store().await;
    let now = at(NOW);
    let waiting = store
        .write(move |conn| {
            Box::pin(async move {
                operators::create_operator(&mut *conn, "never", now).await?;
                tokio::task::yield_now().await;
                Ok(())
            })
        })
        .await;
    assert!(matches!(waiting, Err(chargemesh_store::StoreError::JobFailed)), "{waiting:?}");
    let read = store
        .read(|conn| {
            Box::pin(async move {
                tokio::task::yield_now().await;
                operators::list_operators(conn).await
            })
        })
        .await;
    assert!(matches!(read, Err(chargemesh_store::StoreError::JobFailed)), "{read:?}");
    let operators = in_read!(store, |conn| { operators::list_operators(conn).await? });
    assert!(operators.is_empty(), "{operators:?}");
}
