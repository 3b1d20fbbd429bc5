//! `chargemesh-dev bench consortium`: the ledger run by several validators on this machine, each with
//! its own chain store, consensus and p2p over loopback TCP, exactly as member nodes run it. Every
//! member anchors its charges (`Cdr::Anchor`, pre-signed, priced, each with its own charger and
//! tariff) at its own node, at a fixed offered rate; the node forwards them to the others, whichever
//! validator leads proposes them, all validators check them, and the first member's node commits
//! them. Measured there: transactions finalized per second and the latency from submission to
//! finalization.

use super::ledger::identity;
use chargemesh_chain::chain::Chain;
use chargemesh_chain::consensus::{self, MemberConfig, NodeNetwork, Timing};
use chargemesh_chain::mempool::MempoolError;
use chargemesh_core::Energy;
use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::tariff::Tariff;
use chargemesh_ledger::state::Parameters;
use chargemesh_ledger::transaction::{
    Action, AnchoredPeriod, CdrAnchor, ClaimedAmounts, LifecycleEvent, MemberRecord, Roles,
};
use chargemesh_ledger::{Genesis, Hash, MemberKey, Transaction, hash_parts};
use chargemesh_sim::load::Latencies;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Chargers each member commissions before anchoring.
const CHARGERS: usize = 20;
/// How often the load is offered, and how often the first node's head is looked at.
const TICK: Duration = Duration::from_millis(10);
const POLL: Duration = Duration::from_millis(2);

#[derive(Debug, Clone)]
pub struct ConsortiumBench {
    pub validators: usize,
    /// Transactions per second offered in total.
    pub rate: u64,
    pub seconds: u64,
}

/// A member's node in the benchmark.
struct BenchNode {
    party: String,
    key: MemberKey,
    chain: Arc<Mutex<Chain>>,
    thread: std::thread::JoinHandle<()>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub fn run(bench: ConsortiumBench) -> Result<String, String> {
    if bench.validators == 0 || bench.rate == 0 || bench.seconds == 0 {
        return Err("--validators, --rate and --seconds must be at least 1".into());
    }
    let dir = std::env::temp_dir().join(format!("chargemesh-bench-consortium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stop = Arc::new(AtomicBool::new(false));
    let (genesis, members) = consortium(bench.validators)?;
    let mut nodes = Vec::new();
    for (party, key, listen) in members {
        std::fs::create_dir_all(dir.join(&party)).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let chain = Chain::open(&dir.join(&party).join("chain.redb"), genesis.clone()).map_err(|e| e.to_string())?;
        let chain = Arc::new(Mutex::new(chain));
        let config = MemberConfig {
            key: MemberKey::from_seed(key.seed()),
            party_id: party.clone(),
            partition: consensus::partition(&genesis.hash()),
            timing: Timing::default(),
        };
        let network = NodeNetwork { storage_dir: dir.join(&party).join("consensus"), listen };
        let running = consensus::run_in_thread(chain.clone(), config, network, stop.clone())?;
        nodes.push(BenchNode { party, key, chain, thread: running.thread });
    }
    let outcome = measure(&bench, &genesis, &nodes);
    stop.store(true, Ordering::Relaxed);
    for node in nodes {
        let _ = node.thread.join();
    }
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

/// A member's party id, key and p2p address.
type Member = (String, MemberKey, std::net::SocketAddr);

/// `validators` members CN-M01…, each a CPO and eMSP and a validator, on loopback ports.
fn consortium(validators: usize) -> Result<(Genesis, Vec<Member>), String> {
    let mut members = Vec::new();
    let mut records = Vec::new();
    for n in 1..=validators {
        let party = format!("CN-M{n:02}");
        let key = MemberKey::from_seed(hash_parts("bench-consortium", &[party.as_bytes()]));
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?;
        records.push(MemberRecord {
            party_id: party.clone(),
            public_key: key.public_key(),
            roles: Roles { cpo: true, emsp: true },
            endpoint: format!("https://{}.example/ocpi", party.to_lowercase()),
            validator: true,
            p2p_endpoint: listen.to_string(),
        });
        members.push((party, key, listen));
    }
    let genesis = Genesis {
        chain_name: "bench-consortium".into(),
        timestamp_ms: now_ms() - 3_600_000,
        clearing_period_ms: 86_400_000,
        parameters: Parameters::default(),
        members: records,
        tariffs: Vec::new(),
    };
    Ok((genesis, members))
}

fn signed(genesis: &Genesis, node: &BenchNode, nonce: u64, action: Action) -> Vec<u8> {
    Transaction { chain: genesis.hash(), sender: node.party.clone(), nonce, action }.sign(&node.key).encode()
}

fn measure(bench: &ConsortiumBench, genesis: &Genesis, nodes: &[BenchNode]) -> Result<String, String> {
    let tariffs = commission(genesis, nodes)?;
    let published = {
        let chain = nodes[0].chain.lock().expect("chain lock");
        tariffs
            .iter()
            .filter_map(|t| chain.state().tariff_versions(&t.owner, &t.id).last())
            .map(|p| p.effective_from)
            .max()
    }
    .ok_or("the tariffs were not published")?;

    // Every member's anchors, made before the clock starts: charges that ran after the tariffs took
    // effect, as the ledger requires.
    let per_member = (bench.rate * bench.seconds).div_ceil(nodes.len() as u64) as usize;
    let generated = Instant::now();
    let anchors: Vec<Vec<Vec<u8>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = nodes
            .iter()
            .zip(&tariffs)
            .enumerate()
            .map(|(n, (node, tariff))| {
                let emsp = &nodes[(n + 1) % nodes.len()].party;
                scope.spawn(move || anchors(genesis, node, emsp, tariff, published, per_member))
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("anchor generation")).collect::<Result<_, String>>()
    })?;
    let generation = generated.elapsed();
    // The last charge ends 30 s after the tariffs took effect: blocks must be later than that.
    while now_ms() < published + 31_000 {
        std::thread::sleep(Duration::from_millis(100));
    }

    let submitted: Arc<Mutex<HashMap<Hash, Instant>>> = Arc::default();
    let (offering, done) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicBool::new(false)));
    let observer = {
        let (chain, submitted) = (nodes[0].chain.clone(), submitted.clone());
        let (offering, done) = (offering.clone(), done.clone());
        std::thread::spawn(move || observe(&chain, &submitted, &offering, &done))
    };
    let started = Instant::now();
    let (deferred, offered) = offer(bench, nodes, &anchors, &submitted);
    let offered_for = started.elapsed();
    offering.store(false, Ordering::Relaxed);
    // The tail: what was submitted in the window may still finalize, within ten seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !submitted.lock().expect("submitted lock").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    done.store(true, Ordering::Relaxed);
    let (mut latencies, in_window, blocks) = observer.join().map_err(|_| "the observer failed")?;
    let unfinished = submitted.lock().expect("submitted lock").len();

    let mut report = format!("machine: {}\n", super::machine());
    report.push_str(&format!(
        "{} validators on loopback, {} anchors/s offered for {} s ({} anchors pre-signed in {:.1} s)\n",
        nodes.len(),
        bench.rate,
        bench.seconds,
        per_member * nodes.len(),
        generation.as_secs_f64()
    ));
    let window = offered_for.as_secs_f64();
    report.push_str(&format!(
        "finalized at CN-M01: {:.0} tx/s during the offer ({in_window} in {window:.1} s), {} in all, in {blocks} blocks ({:.0} tx/block)\n",
        in_window as f64 / window,
        latencies.count(),
        latencies.count() as f64 / blocks.max(1) as f64,
    ));
    report.push_str(&format!(
        "latency, submission to finalization: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms\n",
        latencies.percentile_ms(50.0),
        latencies.percentile_ms(90.0),
        latencies.percentile_ms(99.0),
        latencies.percentile_ms(100.0)
    ));
    report.push_str(&format!(
        "submitted {offered} of {}; not finalized 10 s after the offer: {unfinished}; deferred ticks (a sender's queue full): {deferred}\n",
        per_member * nodes.len()
    ));
    Ok(report)
}

/// Each member publishes its tariff and commissions its chargers at its own node; waits until the
/// first node has finalized all of it. Returns the tariffs.
fn commission(genesis: &Genesis, nodes: &[BenchNode]) -> Result<Vec<Tariff>, String> {
    let template = chargemesh_sim::datasets::guangdong_tou().build().map_err(|e| e.to_string())?;
    let mut tariffs = Vec::new();
    for node in nodes {
        let mut tariff = template.clone();
        tariff.owner = node.party.clone();
        tariff.valid_from = jiff::Timestamp::from_millisecond(genesis.timestamp_ms).map_err(|e| e.to_string())?;
        let json = serde_json::to_string(&tariff).map_err(|e| e.to_string())?;
        let mut actions = vec![Action::PublishTariff { tariff_json: json }];
        for i in 0..CHARGERS {
            let evse_id = evse(&node.party, i);
            actions.push(Action::RegisterCharger(identity(&evse_id)));
            actions.push(Action::ChargerLifecycle { evse_id: evse_id.clone(), event: LifecycleEvent::Installed });
            let expires_at = now_ms() + 365 * 86_400_000;
            let calibrated = LifecycleEvent::Calibrated { certificate: "CAL-1".into(), expires_at };
            actions.push(Action::ChargerLifecycle { evse_id, event: calibrated });
        }
        let mut chain = node.chain.lock().expect("chain lock");
        for (nonce, action) in (1..).zip(actions) {
            chain.submit(&signed(genesis, node, nonce, action), now_ms()).map_err(|e| e.to_string())?;
        }
        tariffs.push(tariff);
    }
    let setup = setup_nonce();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let chain = nodes[0].chain.lock().expect("chain lock");
        if nodes.iter().all(|n| chain.state().member(&n.party).is_some_and(|m| m.nonce == setup)) {
            return Ok(tariffs);
        }
        drop(chain);
        if Instant::now() > deadline {
            return Err("the consortium did not finalize its setup within two minutes".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The nonce of each member's last setup transaction.
fn setup_nonce() -> u64 {
    1 + 3 * CHARGERS as u64
}

fn evse(party: &str, i: usize) -> String {
    format!("CN*{}*E{i}*1", party.trim_start_matches("CN-"))
}

/// `count` anchors of `node`'s charges for drivers of `emsp`, with the nonces after the setup:
/// sessions of two to five one-second periods at ~100 kW, within 30 s after `from`, each priced by
/// the pricing function.
fn anchors(
    genesis: &Genesis,
    node: &BenchNode,
    emsp: &str,
    tariff: &Tariff,
    from: i64,
    count: usize,
) -> Result<Vec<Vec<u8>>, String> {
    let zone = TimeZone::get("Asia/Shanghai").map_err(|e| e.to_string())?;
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).map_err(|e| e.to_string());
    (0..count)
        .map(|i| {
            let start = from + 1_000 + (i as i64 % 25_000);
            let periods = (0..2 + i as i64 % 4)
                .map(|p| {
                    let energy = Energy::from_mwh(25_000 + (i as i64 % 7) * 1_000);
                    Ok(ChargingPeriod { start: at(start + p * 1_000)?, end: at(start + (p + 1) * 1_000)?, energy })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let priced = price(tariff, &zone, &periods).map_err(|e| e.to_string())?;
            let cdr_id = format!("CDR-{i}");
            let anchor = CdrAnchor {
                evse_id: evse(&node.party, i % CHARGERS),
                emsp: emsp.to_owned(),
                token_commitment: hash_parts("bench-commitment", &[node.party.as_bytes(), cdr_id.as_bytes()]),
                periods: periods.iter().map(AnchoredPeriod::from).collect(),
                tariff_id: tariff.id.clone(),
                tariff_version: tariff.version,
                claimed: ClaimedAmounts::of(&priced),
                cdr_hash: hash_parts("bench-cdr", &[node.party.as_bytes(), cdr_id.as_bytes()]),
                cdr_id,
            };
            Ok(signed(genesis, node, setup_nonce() + 1 + i as u64, Action::AnchorCdr(anchor)))
        })
        .collect()
}

/// Offers the anchors at the bench's rate, each member's at its own node, in nonce order; a member
/// whose queue is full waits for the next tick. Open loop: how much is due follows the clock, not the
/// ticks that ran, and a transaction's latency counts from when it was due, so a node that holds its
/// chain lock long delays, and is charged for, what waits behind it. Returns the ticks deferred and
/// the transactions submitted.
fn offer(
    bench: &ConsortiumBench,
    nodes: &[BenchNode],
    anchors: &[Vec<Vec<u8>>],
    submitted: &Mutex<HashMap<Hash, Instant>>,
) -> (usize, usize) {
    let started = Instant::now();
    let window = Duration::from_secs(bench.seconds);
    // The interval between one member's transactions.
    let spacing = Duration::from_secs_f64(nodes.len() as f64 / bench.rate as f64);
    let mut next = vec![0usize; nodes.len()];
    let mut deferred = 0;
    loop {
        let elapsed = started.elapsed().min(window);
        let due = (elapsed.as_nanos() * u128::from(bench.rate) / (nodes.len() as u128 * 1_000_000_000)) as usize;
        for (n, node) in nodes.iter().enumerate() {
            let target = due.min(anchors[n].len());
            let mut chain = node.chain.lock().expect("chain lock");
            while next[n] < target {
                match chain.submit(&anchors[n][next[n]], now_ms()) {
                    Ok((id, _)) => {
                        let at = started + spacing.mul_f64(next[n] as f64);
                        submitted.lock().expect("submitted lock").insert(id, at);
                        next[n] += 1;
                    }
                    Err(MempoolError::Full { .. }) => {
                        deferred += 1;
                        break;
                    }
                    Err(error) => {
                        tracing::error!(%error, "a benchmark anchor was refused");
                        next[n] += 1;
                    }
                }
            }
        }
        if elapsed == window {
            return (deferred, next.iter().sum());
        }
        std::thread::sleep(TICK);
    }
}

/// Records, for each transaction finalized at `chain`, the time since its submission, until
/// `done`. Returns the latencies, how many were finalized while `offering`, and the blocks.
fn observe(
    chain: &Mutex<Chain>,
    submitted: &Mutex<HashMap<Hash, Instant>>,
    offering: &AtomicBool,
    done: &AtomicBool,
) -> (Latencies, usize, u64) {
    let mut latencies = Latencies::default();
    let first = chain.lock().expect("chain lock").head().height;
    let mut seen = first;
    let mut in_window = 0;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        let chain = chain.lock().expect("chain lock");
        let head = chain.head().height;
        for height in seen + 1..=head {
            let Ok(Some(block)) = chain.store().block(height) else { continue };
            let now = Instant::now();
            let offering = offering.load(Ordering::Relaxed);
            let mut submitted = submitted.lock().expect("submitted lock");
            for tx in &block.transactions {
                if let Some(at) = submitted.remove(&tx.id()) {
                    latencies.record(now - at);
                    in_window += usize::from(offering);
                }
            }
        }
        seen = head;
    }
    (latencies, in_window, seen - first)
}
