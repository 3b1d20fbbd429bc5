//! A fleet of simulated chargers running sessions against a node until stopped.

use crate::charge_point::{ChargePoint, Connection, SimError};
use jiff::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct FleetConfig {
    pub connection: Connection,
    /// Station ids, one simulated charger each.
    pub stations: Vec<String>,
    /// The card each charger's driver taps, by index; with none, each charger waits for the node to
    /// start it (RemoteStartTransaction), as when drivers start from an app.
    pub cards: Vec<String>,
    /// Time between meter values.
    pub sample_interval: Duration,
    /// Meter values per session.
    pub samples_per_session: u32,
    /// Charging power, in watts, of each session.
    pub power_watts: i64,
    /// Every this many messages of the fleet, the charger that sent the last one also sends one piece of
    /// bad input (malformed JSON, a repeated message id, an unknown action, an oversized message, in
    /// turn); `None` for a well-behaved fleet.
    pub misbehave_every: Option<u32>,
}

/// The simulated car's battery: 60 kWh, arriving at 20 %.
const BATTERY_MWH: i64 = 60_000_000;
const ARRIVAL_SOC_TENTHS: i64 = 200;

/// The battery's state of charge, in tenths of a percent, after `charged_mwh`.
fn battery_soc_tenths(charged_mwh: i64) -> i64 {
    (ARRIVAL_SOC_TENTHS + charged_mwh * 1000 / BATTERY_MWH).min(1000)
}

/// The bad input a misbehaving charger sends, in turn.
fn bad_input(turn: u64) -> String {
    match turn % 4 {
        0 => r#"[2, "broken", "Heartbeat", {"#.to_owned(),
        1 => r#"[2, "repeated", "Heartbeat", {}]"#.to_owned(),
        2 => format!(r#"[2, "unknown-{turn}", "OpenThePodBayDoors", {{}}]"#),
        _ => format!(r#"[2, "huge-{turn}", "DataTransfer", {{"vendorId": "sim", "data": "{}"}}]"#, "x".repeat(100_000)),
    }
}

/// Counts of what the fleet did.
#[derive(Debug, Default)]
pub struct FleetReport {
    pub sessions_completed: AtomicU64,
    pub messages_sent: AtomicU64,
    pub errors: AtomicU64,
}

/// Runs the fleet until `stop` is set; every charger reconnects after losing its connection.
pub async fn run_fleet(config: FleetConfig, stop: Arc<AtomicBool>) -> Arc<FleetReport> {
    let report = Arc::new(FleetReport::default());
    let mut tasks = Vec::new();
    for (index, station) in config.stations.iter().enumerate() {
        let card = config.cards.get(index % config.cards.len().max(1)).cloned();
        let (config, station, stop, report) = (config.clone(), station.clone(), stop.clone(), report.clone());
        tasks.push(tokio::spawn(async move {
            // Stagger starts so a large fleet does not arrive in one burst.
            tokio::time::sleep(Duration::from_millis((index as u64 * 37) % 3_000)).await;
            // The register is kept in mWh and reported in whole Wh, as a real meter's display rounds.
            let mut meter_mwh = (1_000_000 + index as i64 * 1_000) * 1_000;
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) =
                    charge_repeatedly(&config, &station, card.as_deref(), &mut meter_mwh, &stop, &report).await
                {
                    report.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(station, error = %e, "simulated charger lost its session; reconnecting");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    report
}

async fn charge_repeatedly(
    config: &FleetConfig,
    station: &str,
    card: Option<&str>,
    meter_mwh: &mut i64,
    stop: &AtomicBool,
    report: &FleetReport,
) -> Result<(), SimError> {
    let mut cp = ChargePoint::connect(station, config.connection.clone()).await?;
    cp.boot().await?;
    cp.status(1, "Available").await?;
    let sent = |n: u64| report.messages_sent.fetch_add(n, Ordering::Relaxed);
    sent(2);
    let energy_per_sample_mwh = config.power_watts * config.sample_interval.as_millis() as i64 / 3_600;
    while !stop.load(Ordering::Relaxed) {
        let tag = match card {
            Some(card) => {
                if cp.authorize(card).await? != "Accepted" {
                    return Err(SimError::Protocol(format!("card {card} was not accepted")));
                }
                card.to_owned()
            }
            None => match cp.take_remote_start() {
                Some(tag) => tag,
                None => {
                    cp.serve_for(config.sample_interval).await?;
                    continue;
                }
            },
        };
        cp.status(1, "Preparing").await?;
        let transaction = cp.start_transaction(1, &tag, *meter_mwh / 1_000, Timestamp::now()).await?;
        cp.status(1, "Charging").await?;
        sent(4);
        let mut reason = "EVDisconnected";
        let mut charged_mwh = 0;
        for _ in 0..config.samples_per_session {
            cp.serve_for(config.sample_interval).await?;
            if cp.take_remote_stop(transaction) {
                // Stopped from the node (an operator or the driver's app), as a real charger does.
                reason = "Remote";
                break;
            }
            *meter_mwh += energy_per_sample_mwh;
            charged_mwh += energy_per_sample_mwh;
            let readings = [*meter_mwh / 1_000, config.power_watts];
            cp.meter_values_with_soc(1, transaction, readings, battery_soc_tenths(charged_mwh), Timestamp::now())
                .await?;
            let turn = sent(1);
            if let Some(every) = config.misbehave_every.filter(|every| *every > 0)
                && turn % u64::from(every) == 0
            {
                let answer = cp.send_raw(bad_input(turn / u64::from(every))).await;
                tracing::info!(station, ?answer, "simulated charger sent bad input on purpose");
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        cp.stop_transaction(transaction, *meter_mwh / 1_000, Timestamp::now(), reason).await?;
        cp.status(1, "Available").await?;
        sent(2);
        report.sessions_completed.fetch_add(1, Ordering::Relaxed);
        cp.serve_for(config.sample_interval).await?;
    }
    Ok(())
}
