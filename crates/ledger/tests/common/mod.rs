//! A small consortium for the ledger's tests: three members with fixed keys, a flat tariff and an
//! active, calibrated charger of member A.
#![allow(dead_code)]

use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::tariff::Tariff;
use chargemesh_ledger::genesis::Genesis;
use chargemesh_ledger::state::{Context, Event, Parameters, Rejection};
use chargemesh_ledger::transaction::{
    Action, AnchoredPeriod, CdrAnchor, ChargerIdentity, ClaimedAmounts, ConnectorType, LifecycleEvent, MemberRecord,
    Roles,
};
use chargemesh_ledger::{MemberKey, State, Transaction, hash_parts};
use serde_json::json;

/// 2026-01-01T00:00:00Z.
pub const GENESIS_TIME: i64 = 1_767_225_600_000;
pub const DAY: i64 = 86_400_000;
pub const HOUR: i64 = 3_600_000;

pub fn key(party: &str) -> MemberKey {
    MemberKey::from_seed(hash_parts("test-key", &[party.as_bytes()]))
}

pub fn record(party: &str, cpo: bool, emsp: bool, validator: bool) -> MemberRecord {
    MemberRecord {
        party_id: party.into(),
        public_key: key(party).public_key(),
        roles: Roles { cpo, emsp },
        endpoint: format!("https://{}.example/ocpi", party.to_lowercase()),
        validator,
        p2p_endpoint: String::new(),
    }
}

pub fn genesis(members: Vec<MemberRecord>) -> Genesis {
    Genesis {
        chain_name: "chargemesh-test".into(),
        timestamp_ms: GENESIS_TIME,
        clearing_period_ms: DAY,
        parameters: Parameters { dispute_window_ms: DAY, ..Parameters::default() },
        members,
        tariffs: Vec::new(),
    }
}

/// A state and the nonces of its members, applying transactions at a given time.
pub struct Ledger {
    pub state: State,
    pub now: i64,
    pub height: u64,
}

impl Ledger {
    pub fn three_members() -> Ledger {
        let genesis = genesis(vec![
            record("CN-AAA", true, true, true),
            record("CN-BBB", true, true, false),
            record("CN-CCC", false, true, false),
        ]);
        Ledger { state: State::from_genesis(&genesis).unwrap(), now: GENESIS_TIME + HOUR, height: 1 }
    }

    pub fn signed(&self, party: &str, action: Action) -> chargemesh_ledger::SignedTransaction {
        let nonce = self.state.member(party).map_or(1, |m| m.nonce + 1);
        Transaction { chain: self.state.chain(), sender: party.into(), nonce, action }.sign(&key(party))
    }

    pub fn send(&mut self, party: &str, action: Action) -> Result<Vec<Event>, Rejection> {
        let tx = self.signed(party, action);
        self.height += 1;
        self.state.apply(&tx, Context { height: self.height, timestamp: self.now, transaction: tx.id() })
    }

    /// Sends a transaction that must be rejected, and checks that it changed nothing.
    pub fn refused(&mut self, party: &str, action: Action) -> Rejection {
        let before = self.state.root();
        let rejection = self.send(party, action).expect_err("the transaction must be rejected");
        assert_eq!(self.state.root(), before, "a rejected transaction changed the state: {rejection}");
        rejection
    }
}

pub fn identity(evse_id: &str) -> ChargerIdentity {
    ChargerIdentity {
        evse_id: evse_id.into(),
        manufacturer: "Acme Power".into(),
        model: "DC-120".into(),
        serial_number: format!("SN-{evse_id}"),
        max_power_watts: 120_000,
        connectors: vec![ConnectorType::GbtDc],
        metering_certificate: "CPA-2025-0001".into(),
        time_zone: "Asia/Shanghai".into(),
    }
}

/// 1.00 electricity + 0.50 service per kWh all day, peak 1.50 + 0.50 from 18:00 to 22:00 local.
pub fn tariff(owner: &str, version: u32, valid_from: i64) -> Tariff {
    let valid_from = jiff::Timestamp::from_millisecond(valid_from).unwrap().to_string();
    serde_json::from_value(json!({
        "id": "std", "version": version, "owner": owner, "currency": "CNY",
        "tax": {"rate": "13", "included": true}, "valid_from": valid_from,
        "elements": [
            {"label": "peak", "components": [{"kind": "energy", "price": "1.5"}, {"kind": "service_fee", "price": "0.5"}],
             "restrictions": {"start_time": "18:00", "end_time": "22:00"}},
            {"label": "flat", "components": [{"kind": "energy", "price": "1"}, {"kind": "service_fee", "price": "0.5"}]}
        ]
    }))
    .unwrap()
}

pub fn publish(tariff: &Tariff) -> Action {
    Action::PublishTariff { tariff_json: serde_json::to_string(tariff).unwrap() }
}

/// Member A with charger `CN*AAA*E1*1` active and calibrated, and its tariff published.
pub fn with_charger() -> Ledger {
    let mut ledger = Ledger::three_members();
    ledger.send("CN-AAA", Action::RegisterCharger(identity("CN*AAA*E1*1"))).unwrap();
    let evse_id = "CN*AAA*E1*1".to_owned();
    ledger
        .send("CN-AAA", Action::ChargerLifecycle { evse_id: evse_id.clone(), event: LifecycleEvent::Installed })
        .unwrap();
    let calibrated = LifecycleEvent::Calibrated { certificate: "CAL-1".into(), expires_at: GENESIS_TIME + 365 * DAY };
    ledger.send("CN-AAA", Action::ChargerLifecycle { evse_id, event: calibrated }).unwrap();
    ledger.send("CN-AAA", publish(&tariff("CN-AAA", 1, GENESIS_TIME + HOUR))).unwrap();
    ledger
}

/// Two hours at 30 kW from `start`, in two periods.
pub fn periods(start: i64) -> Vec<ChargingPeriod> {
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap();
    let energy = chargemesh_core::Energy::from_mwh(30_000_000);
    vec![
        ChargingPeriod { start: at(start), end: at(start + HOUR), energy },
        ChargingPeriod { start: at(start + HOUR), end: at(start + 2 * HOUR), energy },
    ]
}

/// An anchor whose claimed amounts are what the pricing function computes.
pub fn anchor(cdr_id: &str, emsp: &str, start: i64, tariff: &Tariff) -> CdrAnchor {
    let periods = periods(start);
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let priced = price(tariff, &zone, &periods).unwrap();
    CdrAnchor {
        cdr_id: cdr_id.into(),
        evse_id: "CN*AAA*E1*1".into(),
        emsp: emsp.into(),
        token_commitment: hash_parts("commitment", &[cdr_id.as_bytes()]),
        periods: periods.iter().map(AnchoredPeriod::from).collect(),
        tariff_id: tariff.id.clone(),
        tariff_version: tariff.version,
        claimed: ClaimedAmounts::of(&priced),
        cdr_hash: hash_parts("cdr", &[cdr_id.as_bytes()]),
    }
}

/// A fresh chain store path for test `name`.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("chargemesh-ledger-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("chain.redb")
}
