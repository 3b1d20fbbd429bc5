//! What the demo prints: each start a driver asks for, what came of it at the charger, the session's
//! end and price, the driver charged after the ledger's check, and each clearing period closed with
//! its transfers — in plain words, as it happens.

use super::Member;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};

/// A start the demo asked for, and how far its story has been told.
struct Tracked {
    driver_member: usize,
    /// Which of the member's drivers, whose app follows the charge.
    driver: usize,
    /// The charge's id in the driver API.
    id: String,
    station: String,
    told: HashSet<&'static str>,
    done: bool,
}

pub struct Narrator {
    tracked: Vec<Tracked>,
    /// Chargers with a charge under way, by station.
    busy: BTreeSet<String>,
    /// Clearing periods already told.
    cleared: BTreeSet<u64>,
    members: usize,
    next_driver: usize,
}

impl Narrator {
    pub fn new(members: usize) -> Narrator {
        Narrator { tracked: Vec::new(), busy: BTreeSet::new(), cleared: BTreeSet::new(), members, next_driver: 0 }
    }

    /// Notes the clearing periods the ledger closed before (a resumed demo), so that only new ones
    /// are told; says how many there were.
    pub async fn remember_clearing(&mut self, member: &Member) {
        let Ok(clearing) = member.api.get("/ledger/clearing").await else { return };
        let periods = clearing.as_array().cloned().unwrap_or_default();
        let with_transfers =
            periods.iter().filter(|p| p["transfers"].as_array().is_some_and(|t| !t.is_empty())).count();
        self.cleared.extend(periods.iter().filter_map(|p| p["period"].as_u64()));
        if with_transfers > 0 {
            println!("The ledger holds {with_transfers} clearing period(s) with transfers from earlier runs.");
        }
    }

    /// A driver of the member whose turn it is starts at a free charger of another member.
    pub async fn start_one(&mut self, members: &[Member], turn: usize) {
        let x = turn % self.members;
        // The other members, starting from a different one each round.
        let others = self.members - 1;
        let round = turn / self.members;
        let free = (0..others).map(|k| (x + 1 + (k + round) % others) % self.members).find_map(|y| {
            let station = members[y].stations.iter().find(|s| !self.busy.contains(*s))?;
            Some((y, station.clone()))
        });
        let Some((y, station)) = free else { return };
        let (member, cpo) = (&members[x], &members[y].party);
        let driver_index = self.next_driver % member.drivers.len();
        self.next_driver += 1;
        let (driver, app) = &member.drivers[driver_index];
        // The driver's app finds the charger in the consortium's search, and starts there.
        let path = format!("/driver/chargers/{cpo}/{station}");
        let Ok(charger) = app.get(&path).await else { return };
        let request = json!({"operator": cpo, "location_id": charger["location_id"], "evse_uid": station});
        match app.call(Method::POST, "/driver/charges", request).await {
            Ok((_, charge)) => {
                println!(
                    "▶ {}'s driver {driver} starts at {cpo}'s charger {station} (through {}'s app; {cpo} sees a pseudonym)",
                    member.party, member.party
                );
                self.busy.insert(station.clone());
                let id = charge["id"].as_str().unwrap_or_default().to_owned();
                let tracked =
                    Tracked { driver_member: x, driver: driver_index, id, station, told: HashSet::new(), done: false };
                self.tracked.push(tracked);
            }
            Err(error) => println!("✗ {}'s driver {driver} could not start at {station}: {error}", member.party),
        }
    }

    /// Tells what changed since the last look.
    pub async fn watch(&mut self, members: &[Member]) {
        for tracked in self.tracked.iter_mut().filter(|t| !t.done) {
            let member = &members[tracked.driver_member];
            let app = &member.drivers[tracked.driver].1;
            let Ok(start) = app.get(&format!("/driver/charges/{}", tracked.id)).await else { continue };
            tracked.done = tell(tracked, &member.party, &start);
            // The charger is free again once its session ended (or never began).
            if tracked.done || start["session"]["status"] == "COMPLETED" {
                self.busy.remove(&tracked.station);
            }
        }
        self.tracked.retain(|t| !t.done);
        let Ok(clearing) = members[0].api.get("/ledger/clearing").await else { return };
        for period in clearing.as_array().into_iter().flatten() {
            let Some(number) = period["period"].as_u64() else { continue };
            let transfers = period["transfers"].as_array().cloned().unwrap_or_default();
            if transfers.is_empty() || !self.cleared.insert(number) {
                continue;
            }
            let moves: Vec<String> = transfers
                .iter()
                .map(|t| {
                    format!(
                        "{} pays {} {}",
                        t["from"].as_str().unwrap_or("?"),
                        t["to"].as_str().unwrap_or("?"),
                        yuan(&t["amount"])
                    )
                })
                .collect();
            let charges = period["obligations"].as_array().map_or(0, Vec::len);
            println!(
                "⚖ clearing period {number} closed on the ledger: {charges} obligation(s) netted to {}",
                moves.join("; ")
            );
        }
    }
}

/// Prints each step of a start's story once; whether the story is over.
fn tell(tracked: &mut Tracked, party: &str, start: &Value) -> bool {
    let station = tracked.station.clone();
    let mut once = |step: &'static str, line: String| {
        if tracked.told.insert(step) {
            println!("{line}");
        }
    };
    match start["state"].as_str() {
        Some("started") => once("started", format!("  ⚡ {station} is charging")),
        Some(state @ ("rejected" | "failed" | "timeout" | "unreachable")) => {
            let why = start["message"].as_str().unwrap_or(state);
            once("refused", format!("  ✗ the start at {station} did not happen: {why}"));
            return true;
        }
        _ => {}
    }
    if start["session"]["status"] == "COMPLETED"
        && let Some(cost) = start["cdr"]["total_cost"]["incl_vat"].as_f64()
    {
        let kwh = start["cdr"]["total_energy"].as_f64().unwrap_or(0.0);
        once(
            "cdr",
            format!(
                "  ■ {station} done: {kwh:.1} kWh, {cost:.2} CNY — the CDR goes to {party}, the anchor to the ledger"
            ),
        );
    }
    let settlement = &start["settlement"];
    match settlement["state"].as_str() {
        Some("charged") => {
            let height = settlement["height"].as_i64().unwrap_or(0);
            once(
                "charged",
                format!(
                    "  ✓ {party} checked the ledger's anchor (block {height}, price recomputed by the ledger) and charged its driver {}",
                    yuan(&settlement["amount"])
                ),
            );
            true
        }
        Some(state @ ("mismatch" | "declined" | "billed_elsewhere" | "disputed")) => {
            once("settled", format!("  ! {party}: {state} {}", settlement["problem"].as_str().unwrap_or_default()));
            true
        }
        _ => false,
    }
}

/// Fen as yuan: `1234` → `12.34 CNY`.
fn yuan(amount: &Value) -> String {
    let fen = amount.as_i64().unwrap_or(0);
    format!("{}.{:02} CNY", fen / 100, (fen % 100).abs())
}
