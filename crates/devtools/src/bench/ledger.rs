//! `chargemesh-dev bench ledger`: `Cdr::Anchor` transactions a single validator checks and applies per
//! second, each in full: its signature (one batch per block, split over the machine's cores), its
//! charger, tariff and nonce, its price recomputed with the pricing function, and the state root after
//! every block; against applying them one by one with each signature verified alone, on one core.

use chargemesh_chain::mempool::Mempool;
use chargemesh_core::Energy;
use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::tariff::Tariff;
use chargemesh_ledger::block::{self, Block, Header};
use chargemesh_ledger::state::{Context, Parameters};
use chargemesh_ledger::transaction::{
    Action, AnchoredPeriod, CdrAnchor, ChargerIdentity, ClaimedAmounts, ConnectorType, LifecycleEvent, MemberRecord,
    Roles,
};
use chargemesh_ledger::{Genesis, MemberKey, SignedTransaction, State, Transaction, hash_parts};
use jiff::tz::TimeZone;
use std::time::Instant;

const CHARGERS: usize = 100;
const BLOCK: usize = 1_000;
/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;

pub fn run(anchors: usize) -> Result<String, String> {
    let cpo = MemberKey::from_seed(hash_parts("bench-cpo", &[]));
    let emsp = MemberKey::from_seed(hash_parts("bench-emsp", &[]));
    let member = |party: &str, key: &MemberKey, cpo: bool| MemberRecord {
        party_id: party.into(),
        public_key: key.public_key(),
        roles: Roles { cpo, emsp: !cpo },
        endpoint: format!("https://{party}.example/ocpi"),
        validator: cpo,
        p2p_endpoint: String::new(),
    };
    let genesis = Genesis {
        chain_name: "bench".into(),
        timestamp_ms: START,
        clearing_period_ms: DAY,
        parameters: Parameters { max_block_transactions: BLOCK as u32, ..Parameters::default() },
        members: vec![member("CN-AAA", &cpo, true), member("CN-BBB", &emsp, false)],
        tariffs: Vec::new(),
    };
    let mut state = State::from_genesis(&genesis)?;
    let chain = state.chain();
    let mut nonce = 0;
    let mut signed = |action: Action| {
        nonce += 1;
        Transaction { chain, sender: "CN-AAA".into(), nonce, action }.sign(&cpo)
    };
    let mut tariff = chargemesh_sim::datasets::guangdong_tou().build().map_err(|e| e.to_string())?;
    tariff.owner = "CN-AAA".into();
    tariff.valid_from = jiff::Timestamp::from_millisecond(START + 60_000).map_err(|e| e.to_string())?;
    let mut setup =
        vec![signed(Action::PublishTariff { tariff_json: serde_json::to_string(&tariff).map_err(|e| e.to_string())? })];
    for i in 0..CHARGERS {
        let evse_id = format!("CN*AAA*E{i}*1");
        setup.push(signed(Action::RegisterCharger(identity(&evse_id))));
        setup.push(signed(Action::ChargerLifecycle { evse_id: evse_id.clone(), event: LifecycleEvent::Installed }));
        let calibrated = LifecycleEvent::Calibrated { certificate: "CAL-1".into(), expires_at: START + 400 * DAY };
        setup.push(signed(Action::ChargerLifecycle { evse_id, event: calibrated }));
    }
    let genesis_header = Header::genesis(&mut state, START);
    let first = block::build(&state, &genesis_header, "CN-AAA", START + 60_000, setup);
    if !first.rejected.is_empty() {
        return Err(format!("the benchmark's setup was rejected: {:?}", first.rejected[0].1));
    }
    let zone = TimeZone::get("Asia/Shanghai").map_err(|e| e.to_string())?;
    let anchors: Vec<SignedTransaction> =
        (0..anchors).map(|i| signed(Action::AnchorCdr(anchor(i, &tariff, &zone)))).collect();
    // Build the blocks once (the proposer's work), then measure checking and applying them.
    let (mut built_state, mut parent, mut blocks) =
        (first.state.clone(), first.block.header.clone(), Vec::<Block>::new());
    let timestamp = START + 360 * DAY;
    for chunk in anchors.chunks(BLOCK) {
        let built = block::build(&built_state, &parent, "CN-AAA", timestamp, chunk.to_vec());
        if let Some((_, rejection)) = built.rejected.first() {
            return Err(format!("a benchmark anchor was rejected: {rejection}"));
        }
        built_state = built.state;
        parent = built.block.header.clone();
        blocks.push(built.block);
    }
    let mut report = format!("machine: {}\n", super::machine());
    let count = anchors.len() as f64;

    let started = Instant::now();
    let (mut state, mut parent) = (first.state.clone(), first.block.header.clone());
    for block in &blocks {
        let (next, _) = block::execute(&state, &parent, block).map_err(|e| e.to_string())?;
        state = next;
        parent = block.header.clone();
    }
    let batched = started.elapsed().as_secs_f64();
    report.push_str(&format!(
        "blocks of {BLOCK} anchors checked and applied (one signature batch per block, over the cores): {:.0} anchors/s\n",
        count / batched
    ));

    // The baseline: the same transactions, each signature verified on its own.
    let started = Instant::now();
    let mut state = first.state.clone();
    for (tx, height) in blocks.iter().flat_map(|b| b.transactions.iter().map(move |t| (t, b.header.height))) {
        let context = Context { height, timestamp, transaction: tx.id() };
        state.apply(tx, context).map_err(|e| e.to_string())?;
    }
    let _ = state.root();
    let single = started.elapsed().as_secs_f64();
    report.push_str(&format!(
        "the same anchors applied one by one, each signature verified alone: {:.0} anchors/s on one core\n",
        count / single
    ));
    report.push_str(&admission(&first.state, &first.block.header, &blocks, timestamp)?);
    Ok(report)
}

/// Mempool admission of the last blocks' anchors by one sender, on the state holding all the
/// earlier ones: checked against one queued state made once, against the previous way — a copy of
/// the state per transaction with the sender's queued transactions replayed on it.
fn admission(first: &State, first_header: &Header, blocks: &[Block], timestamp: i64) -> Result<String, String> {
    const ADMITTED_BLOCKS: usize = 5;
    const BASELINE: usize = 300;
    let split = blocks.len().saturating_sub(ADMITTED_BLOCKS);
    let (mut held, mut parent) = (first.clone(), first_header.clone());
    for block in &blocks[..split] {
        held = block::execute(&held, &parent, block).map_err(|e| e.to_string())?.0;
        parent = block.header.clone();
    }
    let tail: Vec<SignedTransaction> = blocks[split..].iter().flat_map(|b| b.transactions.clone()).collect();
    let context = Context { height: parent.height + 1, timestamp, transaction: [0; 32] };
    let started = Instant::now();
    let mut pool = Mempool::default();
    for tx in &tail {
        pool.admit(tx.clone(), &held, context).map_err(|e| e.to_string())?;
    }
    let queued_state = tail.len() as f64 / started.elapsed().as_secs_f64();
    let baseline = &tail[..tail.len().min(BASELINE)];
    let started = Instant::now();
    for (i, tx) in baseline.iter().enumerate() {
        let mut trial = held.clone();
        for earlier in &baseline[..i] {
            let _ = trial.apply(earlier, Context { transaction: earlier.id(), ..context });
        }
        trial.apply(tx, Context { transaction: tx.id(), ..context }).map_err(|e| e.to_string())?;
    }
    let copies = baseline.len() as f64 / started.elapsed().as_secs_f64();
    Ok(format!(
        "mempool admission on a state of {} anchors: {queued_state:.0} anchors/s ({} admitted); \
         baseline, a state copy per transaction: {copies:.0} anchors/s ({} admitted)\n",
        split * BLOCK,
        tail.len(),
        baseline.len()
    ))
}

pub(super) fn identity(evse_id: &str) -> ChargerIdentity {
    ChargerIdentity {
        evse_id: evse_id.into(),
        manufacturer: "Bench Power".into(),
        model: "DC-120".into(),
        serial_number: format!("SN-{evse_id}"),
        max_power_watts: 120_000,
        connectors: vec![ConnectorType::GbtDc],
        metering_certificate: "CPA-2025-0001".into(),
        time_zone: "Asia/Shanghai".into(),
    }
}

/// The `i`th anchor: a session of two to five 15-minute periods at some charger and time of 2026,
/// claimed at exactly the price the pricing function gives.
fn anchor(i: usize, tariff: &Tariff, zone: &TimeZone) -> CdrAnchor {
    let start = START + DAY + (i as i64 % 300) * DAY + (i as i64 * 7 % 96) * 900_000;
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).expect("in range");
    let periods: Vec<ChargingPeriod> = (0..2 + i as i64 % 4)
        .map(|p| ChargingPeriod {
            start: at(start + p * 900_000),
            end: at(start + (p + 1) * 900_000),
            energy: Energy::from_mwh(5_000_000 + (i as i64 % 7) * 1_000_000),
        })
        .collect();
    let priced = price(tariff, zone, &periods).expect("the benchmark's sessions price");
    let cdr_id = format!("CDR-{i}");
    CdrAnchor {
        evse_id: format!("CN*AAA*E{}*1", i % CHARGERS),
        emsp: "CN-BBB".into(),
        token_commitment: hash_parts("bench-commitment", &[cdr_id.as_bytes()]),
        periods: periods.iter().map(AnchoredPeriod::from).collect(),
        tariff_id: tariff.id.clone(),
        tariff_version: tariff.version,
        claimed: ClaimedAmounts::of(&priced),
        cdr_hash: hash_parts("bench-cdr", &[cdr_id.as_bytes()]),
        cdr_id,
    }
}
