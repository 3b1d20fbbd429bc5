//! Turning what chargers report about energy into trustworthy numbers.
//!
//! Chargers report energy in Wh or kWh, on several registers, per phase or in total, and sometimes
//! wrongly: a charger that was offline may report a `Transaction.Begin` reading of 0 although its
//! register stands at hundreds of kWh. Billing on that zero once charged a driver 910 kWh for 0.083 kWh.

use crate::charger::MeterSample;
use crate::energy::{Energy, EnergyUnit};
use crate::pricing::ChargingPeriod;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The register a session's energy is measured on.
pub const ENERGY_IMPORT_REGISTER: &str = "Energy.Active.Import.Register";

/// No charger delivers more than this; a reading implying more power is not believed.
pub const PLAUSIBLE_MAX_POWER_WATTS: i64 = 1_000_000;

/// A reading of the energy import register at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterReading {
    pub at: Timestamp,
    pub energy: Energy,
}

/// The total energy import register value in `sample` that a session's energy is measured from,
/// normalized to milliwatt-hours, or `None` when the sample is something else (another measurand, one
/// phase, the EV side, not a number) or a `Transaction.Begin` reading: the start of a session is the
/// start transaction's own meter value, and offline chargers have reported 0 here.
/// A sample without measurand is the energy import register and one without unit is in Wh, as OCPP says.
pub fn energy_register_value(sample: &MeterSample) -> Option<Energy> {
    if sample.measurand != ENERGY_IMPORT_REGISTER
        || sample.phase.is_some()
        || sample.signed
        || sample.context == "Transaction.Begin"
    {
        return None;
    }
    if !matches!(sample.location.as_str(), "Outlet" | "Inlet") {
        return None;
    }
    let unit = match sample.unit.as_str() {
        "Wh" => EnergyUnit::Wh,
        "kWh" => EnergyUnit::KWh,
        _ => return None,
    };
    Energy::parse_reading(&sample.value, unit).ok()
}

/// The energy register readings among `samples`, in time order, one per instant.
pub fn register_readings(samples: &[MeterSample]) -> Vec<RegisterReading> {
    one_reading_per_instant(
        samples
            .iter()
            .filter_map(|s| {
                let energy = energy_register_value(s)?;
                Some((RegisterReading { at: s.at, energy }, s.location == "Outlet"))
            })
            .collect(),
    )
}

/// Readings in time order, one per instant; `(reading, at_outlet)`, the outlet's kept when a charger
/// reports both ends of the cable at once.
pub fn one_reading_per_instant(mut readings: Vec<(RegisterReading, bool)>) -> Vec<RegisterReading> {
    readings.sort_by_key(|(r, outlet)| (r.at, !outlet));
    readings.dedup_by_key(|(r, _)| r.at);
    readings.into_iter().map(|(r, _)| r).collect()
}

/// Why a session's energy was not simply `stop - start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyFlag {
    /// The start reading was 0 but the next reading implied an impossible power: the start was replaced
    /// by that next reading.
    ZeroStartIgnored,
    /// The register went backwards (meter replaced or reset); only increases were counted.
    RegisterWentBackwards,
}

impl EnergyFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            EnergyFlag::ZeroStartIgnored => "zero_start_ignored",
            EnergyFlag::RegisterWentBackwards => "register_went_backwards",
        }
    }

    pub fn parse(name: &str) -> Option<EnergyFlag> {
        [EnergyFlag::ZeroStartIgnored, EnergyFlag::RegisterWentBackwards].into_iter().find(|f| f.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnergyAssessment {
    /// The last reading counted.
    pub end: RegisterReading,
    pub delivered: Energy,
    pub flags: Vec<EnergyFlag>,
}

/// The energy a session delivered, from its start reading, the register readings reported during it and,
/// once it ended, its stop reading. Readings are ordered by time; readings before the start are ignored.
pub fn assess_session_energy(
    start: RegisterReading,
    during: &[RegisterReading],
    stop: Option<RegisterReading>,
) -> EnergyAssessment {
    let series = CountedSeries::of(start, during, stop);
    let end = series.steps.last().map_or(series.first, |step| step.to);
    let delivered = series.steps.iter().fold(Energy::ZERO, |sum, step| sum + step.counted);
    EnergyAssessment { end, delivered, flags: series.flags }
}

/// The session as charging periods, one per interval between counted readings, with the energy
/// [`assess_session_energy`] counts for it: their energies add up to the assessment's.
pub fn charging_periods(
    start: RegisterReading,
    during: &[RegisterReading],
    stop: Option<RegisterReading>,
) -> Vec<ChargingPeriod> {
    CountedSeries::of(start, during, stop)
        .steps
        .iter()
        .filter(|step| step.to.at > step.from.at || step.counted > Energy::ZERO)
        .map(|step| ChargingPeriod { start: step.from.at, end: step.to.at, energy: step.counted })
        .collect()
}

/// A session's register readings from its first trustworthy reading on, each step with the energy
/// counted for it (none where the register went backwards).
struct CountedSeries {
    first: RegisterReading,
    steps: Vec<Step>,
    flags: Vec<EnergyFlag>,
}

struct Step {
    from: RegisterReading,
    to: RegisterReading,
    counted: Energy,
}

impl CountedSeries {
    fn of(start: RegisterReading, during: &[RegisterReading], stop: Option<RegisterReading>) -> CountedSeries {
        let mut series: Vec<RegisterReading> = during.iter().copied().filter(|r| r.at >= start.at).collect();
        series.extend(stop);
        series.sort_by_key(|r| r.at);

        let mut flags = Vec::new();
        let mut first = start;
        if start.energy == Energy::ZERO
            && let Some(next) = series.iter().find(|r| r.energy > Energy::ZERO)
            && implies_impossible_power(start, *next)
        {
            first = *next;
            flags.push(EnergyFlag::ZeroStartIgnored);
        }

        let mut steps = Vec::with_capacity(series.len());
        let mut previous = first;
        for reading in series.into_iter().filter(|r| r.at >= first.at) {
            let counted = if reading.energy < previous.energy {
                if !flags.contains(&EnergyFlag::RegisterWentBackwards) {
                    flags.push(EnergyFlag::RegisterWentBackwards);
                }
                Energy::ZERO
            } else {
                reading.energy - previous.energy
            };
            steps.push(Step { from: previous, to: reading, counted });
            previous = reading;
        }
        CountedSeries { first, steps, flags }
    }
}

/// The assessment of a running session (no stop reading yet) after readings `later` than everything
/// assessed so far, the same as [`assess_session_energy`] over the whole series would give, without
/// reading the series again. `later` is in time order, one per instant. `None` when the readings do
/// not simply extend the series (one is not after its end, or a zero start is still undecided): then
/// assess the whole series.
pub fn extend_session_energy(
    start: RegisterReading,
    so_far: &EnergyAssessment,
    later: &[RegisterReading],
) -> Option<EnergyAssessment> {
    let zero_start_undecided = start.energy == Energy::ZERO
        && so_far.delivered == Energy::ZERO
        && !so_far.flags.contains(&EnergyFlag::ZeroStartIgnored);
    if zero_start_undecided || later.first().is_some_and(|r| r.at <= so_far.end.at) {
        return None;
    }
    let mut extended = so_far.clone();
    for reading in later {
        if reading.energy < extended.end.energy {
            if !extended.flags.contains(&EnergyFlag::RegisterWentBackwards) {
                extended.flags.push(EnergyFlag::RegisterWentBackwards);
            }
        } else {
            extended.delivered = extended.delivered + (reading.energy - extended.end.energy);
        }
        extended.end = *reading;
    }
    Some(extended)
}

fn implies_impossible_power(from: RegisterReading, to: RegisterReading) -> bool {
    let energy_mwh = i128::from((to.energy - from.energy).mwh());
    let millis = i128::from(to.at.as_millisecond() - from.at.as_millisecond()).max(1);
    // mWh / h = mW; compare with the maximum in mW: energy_mwh * 3_600_000 / millis > max_w * 1000.
    energy_mwh * 3_600_000 > i128::from(PLAUSIBLE_MAX_POWER_WATTS) * 1_000 * millis
}

/// The average power, in watts, between two readings of the energy register (`(instant, mWh)`,
/// earlier first); none when no time passed or the register went back.
pub fn average_power_watts(earlier: (Timestamp, i64), later: (Timestamp, i64)) -> Option<i64> {
    let millis = later.0.as_millisecond() - earlier.0.as_millisecond();
    let mwh = later.1 - earlier.1;
    // mWh per ms is 3,600 W.
    (millis > 0 && mwh >= 0).then(|| i64::try_from(i128::from(mwh) * 3_600 / i128::from(millis)).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + minutes * 60).unwrap()
    }

    fn reading(minutes: i64, wh: i64) -> RegisterReading {
        RegisterReading { at: at(minutes), energy: Energy::from_wh(wh) }
    }

    fn sample(measurand: &str, unit: &str, value: &str) -> MeterSample {
        MeterSample {
            at: at(0),
            measurand: measurand.into(),
            context: "Sample.Periodic".into(),
            phase: None,
            location: "Outlet".into(),
            unit: unit.into(),
            value: value.into(),
            signed: false,
        }
    }

    #[test]
    fn reads_the_import_register_in_wh_and_kwh() {
        assert_eq!(energy_register_value(&sample(ENERGY_IMPORT_REGISTER, "Wh", "1500")), Some(Energy::from_wh(1500)));
        assert_eq!(energy_register_value(&sample(ENERGY_IMPORT_REGISTER, "kWh", "1.5")), Some(Energy::from_wh(1500)));
        assert_eq!(energy_register_value(&sample("Power.Active.Import", "W", "7000")), None);
        assert_eq!(energy_register_value(&sample("Energy.Active.Export.Register", "Wh", "1")), None);
        let mut phase = sample(ENERGY_IMPORT_REGISTER, "Wh", "10");
        phase.phase = Some("L1".into());
        assert_eq!(energy_register_value(&phase), None);
        let mut ev = sample(ENERGY_IMPORT_REGISTER, "Wh", "10");
        ev.location = "EV".into();
        assert_eq!(energy_register_value(&ev), None);
        let mut begin = sample(ENERGY_IMPORT_REGISTER, "Wh", "0");
        begin.context = "Transaction.Begin".into();
        assert_eq!(energy_register_value(&begin), None);
    }

    #[test]
    fn plain_session_is_stop_minus_start() {
        let a = assess_session_energy(reading(0, 1000), &[reading(10, 3000)], Some(reading(20, 5000)));
        assert_eq!(a.delivered, Energy::from_wh(4000));
        assert!(a.flags.is_empty());
    }

    #[test]
    fn a_new_meter_may_legitimately_start_at_zero() {
        let a = assess_session_energy(reading(0, 0), &[reading(10, 1500)], Some(reading(20, 3000)));
        assert_eq!(a.delivered, Energy::from_wh(3000));
        assert!(a.flags.is_empty());
    }

    #[test]
    fn an_impossible_zero_start_is_not_billed() {
        // 910 kWh on the register, 83 Wh delivered: the zero start would imply 5.4 MW for ten minutes.
        let a = assess_session_energy(reading(0, 0), &[reading(1, 910_000)], Some(reading(10, 910_083)));
        assert_eq!(a.delivered, Energy::from_wh(83));
        assert_eq!(a.flags, vec![EnergyFlag::ZeroStartIgnored]);
    }

    #[test]
    fn a_register_going_backwards_counts_only_increases() {
        let a = assess_session_energy(reading(0, 5000), &[reading(10, 6000), reading(11, 0)], Some(reading(20, 400)));
        assert_eq!(a.delivered, Energy::from_wh(1400));
        assert_eq!(a.flags, vec![EnergyFlag::RegisterWentBackwards]);
    }

    #[test]
    fn open_session_uses_the_latest_reading() {
        let a = assess_session_energy(reading(0, 100), &[reading(5, 200), reading(3, 150)], None);
        assert_eq!(a.end, reading(5, 200));
        assert_eq!(a.delivered, Energy::from_wh(100));
    }

    #[test]
    fn a_late_reading_or_an_undecided_zero_start_needs_the_whole_series() {
        let so_far = assess_session_energy(reading(0, 100), &[reading(5, 200)], None);
        assert_eq!(extend_session_energy(reading(0, 100), &so_far, &[reading(4, 150)]), None);
        assert_eq!(extend_session_energy(reading(0, 100), &so_far, &[reading(5, 250)]), None);
        let zero = assess_session_energy(reading(0, 0), &[reading(1, 0)], None);
        assert_eq!(extend_session_energy(reading(0, 0), &zero, &[reading(2, 910_000)]), None);
    }

    fn series(points: &[(i64, i64)]) -> Vec<RegisterReading> {
        let mut minute = 0;
        points
            .iter()
            .map(|&(gap, wh)| {
                minute += gap;
                reading(minute, wh)
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn extending_equals_assessing_the_whole_series(
            start_wh in proptest::prop_oneof![proptest::strategy::Just(0i64), 0i64..2_000_000],
            points in proptest::collection::vec((1i64..30, 0i64..2_000_000), 0..30),
            split in 0usize..30,
        ) {
            let start = reading(0, start_wh);
            let all = series(&points);
            let split = split.min(all.len());
            let so_far = assess_session_energy(start, &all[..split], None);
            let whole = assess_session_energy(start, &all, None);
            if let Some(extended) = extend_session_energy(start, &so_far, &all[split..]) {
                proptest::prop_assert_eq!(extended, whole);
            } else {
                proptest::prop_assert!(start_wh == 0, "only an undecided zero start needs the whole series here");
            }
        }

        #[test]
        fn monotone_series_delivers_last_minus_first(steps in proptest::collection::vec(0i64..50_000, 1..40), base in 1i64..10_000_000) {
            let mut wh = base;
            let mut during = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                wh += step;
                during.push(reading(i as i64 + 1, wh));
            }
            let a = assess_session_energy(reading(0, base), &during, None);
            proptest::prop_assert_eq!(a.delivered, Energy::from_wh(wh - base));
            proptest::prop_assert!(a.flags.is_empty());
        }
    }

    #[test]
    fn average_power_is_energy_over_time() {
        let earlier = (at(0), 1_000_000);
        // 7.5 kWh in 15 minutes: 30 kW.
        assert_eq!(average_power_watts(earlier, (at(15), 8_500_000)), Some(30_000));
        assert_eq!(average_power_watts(earlier, earlier), None);
        assert_eq!(average_power_watts(earlier, (at(15), 0)), None, "the register went back");
    }
}
