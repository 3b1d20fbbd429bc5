//! The demo's chargers: one simulated OCPP 1.6J charger per station, connected to its member's
//! node. When a member tells one to start, it charges for the driver it was told (the driver's
//! member's pseudonym) and replays the next real session — its energy, reported as having started
//! as long ago as it lasted (up to the most a member's start may precede the charger's), the rest
//! of it taking its duration divided by the demo's speed — then stops as if the vehicle left.

use super::Member;
use chargemesh_node::Node;
use chargemesh_node::config::Config;
use chargemesh_sim::datasets::perth;
use chargemesh_sim::{ChargePoint, Connection};
use jiff::Timestamp;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::task::JoinSet;

/// Real sessions to replay, and how much faster.
pub struct Replay {
    sessions: Vec<perth::Session>,
    speed: u32,
    next: AtomicUsize,
}

/// The chargers' power: no replayed session delivers more than this much in its time here.
const MAX_POWER_WATTS: i64 = 60_000;
/// How long before a member's start command a replayed session may say it began: the charger's
/// member ties a session to the start it answers only within an hour of it.
const MAX_EARLIER: jiff::SignedDuration = jiff::SignedDuration::from_mins(50);

impl Replay {
    /// The first Perth & Kinross file in `data/perth` (the repository's copy) or `data/sessions/perth`
    /// (the shared data folder); without `data`, the copy built into the program.
    pub fn read(data: Option<&Path>, speed: u32) -> Result<Replay, String> {
        let Some(data) = data else {
            return Replay::of(perth::bundled()?.sessions, "the built-in Perth sessions", speed);
        };
        let dir = [data.join("perth"), data.join("sessions/perth")]
            .into_iter()
            .find(|dir| dir.is_dir())
            .unwrap_or_else(|| data.join("perth"));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e} (give the shared data folder with --data)", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.to_string_lossy().contains(".csv"))
            .collect();
        files.sort();
        let first = files.first().ok_or_else(|| format!("{}: no session files", dir.display()))?;
        Replay::of(perth::read(first)?.sessions, &first.display().to_string(), speed)
    }

    fn of(sessions: Vec<perth::Session>, from: &str, speed: u32) -> Result<Replay, String> {
        if sessions.is_empty() {
            return Err(format!("{from}: no usable sessions"));
        }
        Ok(Replay { sessions, speed: speed.max(1), next: AtomicUsize::new(0) })
    }

    pub fn describe(&self) -> String {
        format!(
            "Chargers replay {} real sessions of Perth & Kinross Council, {} times faster (contains public \
             sector information licensed under the Open Government Licence v3.0).",
            self.sessions.len(),
            self.speed
        )
    }

    /// The next session to replay, starting now: how long it runs here, when the charger says it
    /// started, and its energy in Wh. It ran for `duration` in reality; here it takes that divided by
    /// the speed, and the charger reports it as having started that long ago (as a charger that was
    /// offline reports; the members' tariffs price it from then, since they found the ledger), at
    /// most [`MAX_EARLIER`], and with no more energy than its power allows in that time.
    fn next(&self, now: Timestamp) -> (Duration, Timestamp, i64) {
        let session = &self.sessions[self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len()];
        let lasted = (session.end - session.start).get_seconds().max(0);
        let here = Duration::from_secs(lasted as u64 / u64::from(self.speed))
            .clamp(Duration::from_secs(4), Duration::from_secs(40));
        let started = now - jiff::SignedDuration::from_secs(lasted).min(MAX_EARLIER);
        let seconds = (now - started).get_seconds() + here.as_secs() as i64;
        let energy_wh = (session.energy.mwh() / 1_000).min(MAX_POWER_WATTS * seconds * 9 / 10 / 3_600);
        (here, started, energy_wh)
    }
}

/// Connects every member's chargers and serves them until the returned tasks are aborted.
pub async fn start(
    nodes: &[Node],
    configs: &[Config],
    members: &[Member],
    replay: Arc<Replay>,
) -> Result<JoinSet<()>, String> {
    let mut tasks = JoinSet::new();
    for ((node, config), member) in nodes.iter().zip(configs).zip(members) {
        for station in &member.stations {
            let connection = Connection::new(node.charger_url(config));
            let mut charger = ChargePoint::connect(station.clone(), connection)
                .await
                .map_err(|e| format!("charger {station}: {e}"))?;
            charger.boot().await.map_err(|e| format!("charger {station}: {e}"))?;
            charger.status(1, "Available").await.map_err(|e| format!("charger {station}: {e}"))?;
            tasks.spawn(serve(charger, replay.clone()));
        }
    }
    Ok(tasks)
}

async fn serve(mut charger: ChargePoint, replay: Arc<Replay>) {
    let mut meter_wh = 0;
    loop {
        let started = match charger.serve_until("RemoteStartTransaction", Duration::from_secs(3_600)).await {
            Ok(Some(start)) => start,
            Ok(None) => continue,
            Err(error) => return tracing::warn!(station = %charger.station_id, %error, "a demo charger stopped"),
        };
        let id_tag = started["idTag"].as_str().unwrap_or_default().to_owned();
        let connector = started["connectorId"].as_u64().unwrap_or(1) as u32;
        let (lasts, started_at, energy_wh) = replay.next(Timestamp::now());
        let charged = async {
            charger.status(connector, "Charging").await?;
            let tx = charger.start_transaction(connector, &id_tag, meter_wh, started_at).await?;
            charger.serve_for(lasts).await?;
            meter_wh += energy_wh;
            charger.stop_transaction(tx, meter_wh, Timestamp::now(), "EVDisconnected").await?;
            charger.status(connector, "Available").await
        };
        if let Err(error) = charged.await {
            return tracing::warn!(station = %charger.station_id, %error, "a demo charger stopped");
        }
    }
}
