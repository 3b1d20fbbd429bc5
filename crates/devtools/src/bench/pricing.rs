//! `chargemesh-dev bench pricing`: priced CDRs per second on one core, for sessions of 1 to 20 charging
//! periods under the Guangdong time-of-use tariff (four periods, a summer season).

use chargemesh_core::Energy;
use chargemesh_core::pricing::{ChargingPeriod, price};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::time::{Duration, Instant};

/// Sessions priced per round; each size is priced for at least `per_size`.
const SESSIONS: usize = 10_000;

pub fn run(per_size: Duration) -> Result<String, String> {
    let tariff = chargemesh_sim::datasets::guangdong_tou().build().map_err(|e| e.to_string())?;
    let zone = TimeZone::get("Asia/Shanghai").map_err(|e| e.to_string())?;
    let mut report = format!("machine: {}\n", super::machine());
    let mut random = SplitMix(0x5eed);
    for periods in [1usize, 5, 10, 20] {
        let sessions: Vec<Vec<ChargingPeriod>> = (0..SESSIONS).map(|_| session(&mut random, periods)).collect();
        let (mut priced, mut lines) = (0u64, 0u64);
        let started = Instant::now();
        while started.elapsed() < per_size {
            for session in &sessions {
                let cdr = price(&tariff, &zone, session).map_err(|e| e.to_string())?;
                lines += cdr.lines.len() as u64;
                priced += 1;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        report.push_str(&format!(
            "{periods:>2} charging periods per session: {:.0} priced CDRs/s on one core ({:.1} lines per CDR, {priced} CDRs)\n",
            priced as f64 / seconds,
            lines as f64 / priced as f64
        ));
    }
    Ok(report)
}

/// A session of `periods` metering intervals of 5 to 60 minutes at up to 120 kW, starting at any
/// minute of 2025, some of them idle.
fn session(random: &mut SplitMix, periods: usize) -> Vec<ChargingPeriod> {
    let year_start = Timestamp::from_second(1_735_660_800).expect("2025-01-01 in range").as_millisecond();
    let mut at = year_start + (random.next() % (365 * 24 * 60)) as i64 * 60_000;
    (0..periods)
        .map(|_| {
            let millis = (5 + random.next() % 56) as i64 * 60_000;
            let kw = if random.next().is_multiple_of(8) { 0 } else { (random.next() % 120) as i64 + 1 };
            let period = ChargingPeriod {
                start: Timestamp::from_millisecond(at).expect("in range"),
                end: Timestamp::from_millisecond(at + millis).expect("in range"),
                energy: Energy::from_mwh(kw * millis * 10 / 36),
            };
            at += millis;
            period
        })
        .collect()
}

/// A small deterministic generator, so every run prices the same sessions.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
