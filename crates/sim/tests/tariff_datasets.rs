//! Golden bills under the real US time-of-use tariffs: bands, seasons, weekdays, midnight and both
//! daylight-saving changes, computed by hand.

use chargemesh_core::Energy;
use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::tariff::Tariff;
use chargemesh_sim::datasets::acn_tariffs;
use jiff::Timestamp;
use jiff::tz::TimeZone;

fn tariff(file: &str) -> Tariff {
    let path = format!("{}/data/tariffs/{file}", env!("CARGO_MANIFEST_DIR"));
    acn_tariffs::read(&std::fs::read_to_string(path).unwrap(), "member-us").unwrap()
}

fn pacific() -> TimeZone {
    TimeZone::get("America/Los_Angeles").unwrap()
}

/// One metering interval from `start` to `end` (instants with offsets) at `kw`.
fn session(start: &str, end: &str, kw: i64) -> Vec<ChargingPeriod> {
    let (start, end): (Timestamp, Timestamp) = (start.parse().unwrap(), end.parse().unwrap());
    let millis = end.as_millisecond() - start.as_millisecond();
    vec![ChargingPeriod { start, end, energy: Energy::from_mwh(kw * millis * 10 / 36) }]
}

fn cents(tariff: &Tariff, periods: &[ChargingPeriod]) -> (i64, Vec<i64>) {
    let cdr = price(tariff, &pacific(), periods).unwrap();
    (cdr.totals.incl_tax.0, cdr.lines.iter().map(|l| l.amount_incl_tax.0).collect())
}

#[test]
fn sce_tou_ev_8_summer_weekday_peak() {
    let tariff = tariff("sce_tou_ev_8_june_2019.json");
    tariff.validate().unwrap();
    // Wednesday 10 July 2019, 15:00–17:00 PDT at 10 kW: 10 kWh at 0.12597, 10 kWh at 0.49619.
    let (total, lines) = cents(&tariff, &session("2019-07-10T15:00-07:00", "2019-07-10T17:00-07:00", 10));
    assert_eq!(lines, vec![126, 496]);
    assert_eq!(total, 622);
    // The same hours on a Saturday: 0.25563 from 16:00.
    let (_, lines) = cents(&tariff, &session("2019-07-13T15:00-07:00", "2019-07-13T17:00-07:00", 10));
    assert_eq!(lines, vec![126, 256]);
}

#[test]
fn sce_tou_ev_8_winter_across_midnight_and_daylight_saving() {
    let tariff = tariff("sce_tou_ev_8_june_2019.json");
    // 23:00–01:00 in January at 10 kW: two bands at the same price 0.13568, 10 kWh each.
    let (total, lines) = cents(&tariff, &session("2019-01-15T23:00-08:00", "2019-01-16T01:00-08:00", 10));
    assert_eq!(lines, vec![136, 136]);
    assert_eq!(total, 272);
    // Spring forward, 10 March 2019: 01:00 PST to 04:00 PDT is two hours: 14 kWh at 7 kW.
    let (total, _) = cents(&tariff, &session("2019-03-10T01:00-08:00", "2019-03-10T04:00-07:00", 7));
    assert_eq!(total, 190, "14 kWh × 0.13568 = 1.89952");
    // Fall back, 3 November 2019: 00:00 PDT to 03:00 PST is four hours: 28 kWh.
    let (total, _) = cents(&tariff, &session("2019-11-03T00:00-07:00", "2019-11-03T03:00-08:00", 7));
    assert_eq!(total, 380, "28 kWh × 0.13568 = 3.79904");
}

#[test]
fn sce_tou_ev_4_winter_weekday_midday() {
    let tariff = tariff("sce_tou_ev_4_march_2019.json");
    tariff.validate().unwrap();
    // Wednesday 13 February 2019, 11:00–13:00 at 10 kW: 10 kWh at 0.07492, 10 kWh at 0.0869.
    let (total, lines) = cents(&tariff, &session("2019-02-13T11:00-08:00", "2019-02-13T13:00-08:00", 10));
    assert_eq!(lines, vec![75, 87]);
    assert_eq!(total, 162);
}

#[test]
fn pge_a10_has_a_winter_schedule_that_never_applies_and_half_hour_bands() {
    let mut tariff = tariff("pge_a10_tou_aug_2019.json");
    // Its "Winter-Weekday" schedule covers every day, so "Winter-Weekend" after it is dead.
    let errors = tariff.validate().unwrap_err().0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let dead = errors[0].field.trim_start_matches("elements[").trim_end_matches(']').parse::<usize>().unwrap();
    assert_eq!(tariff.elements[dead].label.as_deref(), Some("Winter-Weekend"));
    tariff.elements.remove(dead);
    tariff.validate().unwrap();
    // Wednesday 14 August 2019, 08:00–09:00 at 10 kW: 5 kWh at 0.14903 (0.74515) and, from 08:30,
    // 5 kWh at 0.1771 (0.8855): rounded half away from zero.
    let (total, lines) = cents(&tariff, &session("2019-08-14T08:00-07:00", "2019-08-14T09:00-07:00", 10));
    assert_eq!(lines, vec![75, 89]);
    assert_eq!(total, 164);
}

#[test]
fn the_shifted_sce_file_reads_and_validates() {
    tariff("sce_tou_ev_4_march_2019_tou_periods_shifted.json").validate().unwrap();
    tariff("sce_tou_ev_8_oct_2018.json").validate().unwrap();
}
