//! The pricing function against hand-computed bills: the Guangdong time-of-use shape, midnight,
//! daylight-saving changes, caps, tax and validation.

// Amounts in fen are written yuan_fen (213_45 is ¥213.45).
#![allow(clippy::inconsistent_digit_grouping)]

use chargemesh_core::Energy;
use chargemesh_core::money::{Amount, Currency, Price, TaxRate};
use chargemesh_core::pricing::{ChargingPeriod, LineKind, price};
use chargemesh_core::tariff::*;
use jiff::Timestamp;
use jiff::tz::TimeZone;

fn p(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn t(hm: &str) -> TimeOfDay {
    TimeOfDay::parse(hm).unwrap()
}

fn slot(start: &str, end: &str, period: TouPeriod) -> TouSlot {
    TouSlot { start: t(start), end: t(end), period }
}

/// Guangdong's 2021 shape, as data (a fixture, not a current price list): peak 10–12 and 14–19, flat
/// 8–10, 12–14 and 19–24, valley 0–8; sharp 11–12 and 15–17 from July to September at peak × 1.25.
fn guangdong() -> TouPreset {
    serde_json::from_str(include_str!("../../sim/data/tariffs/guangdong_tou_2021.json")).unwrap()
}

fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap()
}

/// Periods of `minutes_each` at a constant power from `start` to `end` (local times in `zone`).
fn constant_power(zone: &TimeZone, start: &str, end: &str, minutes_each: i64, kw: i64) -> Vec<ChargingPeriod> {
    let start: Timestamp = zone.to_zoned(start.parse::<jiff::civil::DateTime>().unwrap()).unwrap().timestamp();
    let end: Timestamp = zone.to_zoned(end.parse::<jiff::civil::DateTime>().unwrap()).unwrap().timestamp();
    let mut periods = Vec::new();
    let mut at = start;
    while at < end {
        let next = (at + jiff::SignedDuration::from_mins(minutes_each)).min(end);
        let millis = next.as_millisecond() - at.as_millisecond();
        periods.push(ChargingPeriod { start: at, end: next, energy: Energy::from_mwh(kw * millis * 10 / 36) });
        at = next;
    }
    periods
}

fn line_amounts(cdr: &chargemesh_core::pricing::PricedCdr) -> Vec<(LineKind, Option<String>, i64, i64)> {
    cdr.lines.iter().map(|l| (l.kind, l.label.clone(), l.quantity, l.amount_incl_tax.0)).collect()
}

#[test]
fn guangdong_summer_morning_is_flat_peak_and_sharp() {
    let tariff = guangdong().build().unwrap();
    let zone = shanghai();
    // 60 kW from 09:30 to 11:30 on a Tuesday in August, metered every 5 minutes.
    let periods = constant_power(&zone, "2025-08-05T09:30", "2025-08-05T11:30", 5, 60);
    let cdr = price(&tariff, &zone, &periods).unwrap();
    let kwh = |k: i64| k * 1_000_000;
    assert_eq!(
        line_amounts(&cdr),
        vec![
            (LineKind::Energy, Some("flat".into()), kwh(30), 18_00),
            (LineKind::ServiceFee, Some("flat".into()), kwh(30), 24_00),
            (LineKind::Energy, Some("peak".into()), kwh(60), 61_20),
            (LineKind::ServiceFee, Some("peak".into()), kwh(60), 48_00),
            (LineKind::Energy, Some("sharp".into()), kwh(30), 38_25),
            (LineKind::ServiceFee, Some("sharp".into()), kwh(30), 24_00),
        ]
    );
    assert_eq!(cdr.periods.len(), 3, "24 metering intervals, three tariff periods");
    assert_eq!(cdr.totals.energy, Amount(117_45));
    assert_eq!(cdr.totals.service_fee, Amount(96_00));
    assert_eq!(cdr.totals.incl_tax, Amount(213_45));
    // Tax is in the prices: 13/113 of each line, rounded per line.
    let tax: i64 = [1800, 2400, 6120, 4800, 3825, 2400].iter().map(|a| (a * 13 * 2 + 113) / (113 * 2)).sum();
    assert_eq!(cdr.totals.tax, Amount(tax));
    assert_eq!(cdr.totals.excl_tax + cdr.totals.tax, cdr.totals.incl_tax);
}

#[test]
fn outside_summer_the_sharp_hour_is_peak() {
    let tariff = guangdong().build().unwrap();
    let zone = shanghai();
    let periods = constant_power(&zone, "2025-10-14T09:30", "2025-10-14T11:30", 5, 60);
    let cdr = price(&tariff, &zone, &periods).unwrap();
    assert_eq!(cdr.periods.len(), 2);
    assert_eq!(cdr.totals.energy, Amount(18_00 + 91_80));
}

#[test]
fn a_session_across_midnight_changes_from_flat_to_valley() {
    let tariff = guangdong().build().unwrap();
    let zone = shanghai();
    // 7 kW from 23:00 to 01:00, metered every 15 minutes: 7 kWh flat, 7 kWh valley.
    let periods = constant_power(&zone, "2025-11-30T23:00", "2025-12-01T01:00", 15, 7);
    let cdr = price(&tariff, &zone, &periods).unwrap();
    assert_eq!(cdr.totals.energy, Amount(4_20 + 1_60));
    assert_eq!(cdr.totals.service_fee, Amount(11_20));
    assert_eq!(cdr.periods[1].start, "2025-11-30T16:00:00Z".parse().unwrap());
}

#[test]
fn a_metering_interval_that_spans_a_boundary_is_cut_with_its_energy_shared_by_time() {
    let tariff = guangdong().build().unwrap();
    let zone = shanghai();
    // One interval from 09:00 to 11:00 delivering 100 kWh: 50 flat, 50 peak (October).
    let periods = constant_power(&zone, "2025-10-14T09:00", "2025-10-14T11:00", 120, 50);
    let cdr = price(&tariff, &zone, &periods).unwrap();
    assert_eq!(cdr.periods.iter().map(|p| p.energy.mwh()).collect::<Vec<_>>(), vec![50_000_000, 50_000_000]);
}

/// A boundary at 01:30 local: the hour repeated when clocks go back passes it twice.
#[test]
fn the_repeated_hour_of_a_daylight_saving_change_passes_its_boundaries_twice() {
    let zone = TimeZone::get("America/Los_Angeles").unwrap();
    let element = |label: &str, start: &str, end: &str, price: &str| TariffElement {
        label: Some(label.into()),
        components: vec![PriceComponent { kind: ComponentKind::Energy, price: p(price) }],
        restrictions: Restrictions { start_time: Some(t(start)), end_time: Some(t(end)), ..Restrictions::default() },
    };
    let tariff = Tariff {
        id: "dst".into(),
        version: 1,
        owner: "member-b".into(),
        currency: Currency::from_code("USD").unwrap(),
        tax: Tax { rate: TaxRate::ZERO, included: false },
        valid_from: "2019-01-01T00:00:00Z".parse().unwrap(),
        min_price: None,
        max_price: None,
        elements: vec![element("a", "00:00", "01:30", "1"), element("b", "01:30", "24:00", "2")],
    };
    tariff.validate().unwrap();
    // 2019-11-03: 00:00 PDT (07:00Z) to 03:00 PST (11:00Z) is four hours at 10 kW.
    let start: Timestamp = "2019-11-03T07:00:00Z".parse().unwrap();
    let end: Timestamp = "2019-11-03T11:00:00Z".parse().unwrap();
    let periods = [ChargingPeriod { start, end, energy: Energy::from_mwh(40_000_000) }];
    let cdr = price(&tariff, &zone, &periods).unwrap();
    // a 1.5 h, b 0.5 h (01:30–01:59 PDT), a 0.5 h (01:00–01:30 PST), b 1.5 h.
    let energies: Vec<(Option<String>, i64)> =
        cdr.lines.iter().map(|l| (l.label.clone(), l.quantity / 1_000_000)).collect();
    assert_eq!(
        energies,
        vec![(Some("a".into()), 15), (Some("b".into()), 5), (Some("a".into()), 5), (Some("b".into()), 15)]
    );
    assert_eq!(cdr.totals.incl_tax, Amount((15 + 5 + 15 * 2 + 5 * 2) * 100));

    // 2019-03-10: 01:00 PST (09:00Z) to 04:00 PDT (11:00Z) is two hours; 01:30 comes once.
    let periods = [ChargingPeriod {
        start: "2019-03-10T09:00:00Z".parse().unwrap(),
        end: "2019-03-10T11:00:00Z".parse().unwrap(),
        energy: Energy::from_mwh(20_000_000),
    }];
    let cdr = price(&tariff, &zone, &periods).unwrap();
    let energies: Vec<i64> = cdr.lines.iter().map(|l| l.quantity / 1_000_000).collect();
    assert_eq!(energies, vec![5, 15]);
}

#[test]
fn time_idle_flat_and_caps() {
    let zone = shanghai();
    let element = |kind, price: &str| TariffElement {
        label: None,
        components: vec![PriceComponent { kind, price: p(price) }],
        restrictions: Restrictions::default(),
    };
    let mut tariff = Tariff {
        id: "eu".into(),
        version: 3,
        owner: "member-c".into(),
        currency: Currency::from_code("EUR").unwrap(),
        tax: Tax { rate: TaxRate::parse_percent("19").unwrap(), included: false },
        valid_from: "2025-01-01T00:00:00Z".parse().unwrap(),
        min_price: None,
        max_price: None,
        elements: vec![
            TariffElement {
                label: None,
                components: vec![
                    PriceComponent { kind: ComponentKind::Energy, price: p("0.39") },
                    PriceComponent { kind: ComponentKind::ChargingTime, price: p("1.2") },
                    PriceComponent { kind: ComponentKind::Flat, price: p("0.5") },
                ],
                restrictions: Restrictions::default(),
            },
            element(ComponentKind::IdleTime, "6"),
        ],
    };
    tariff.validate().unwrap();
    let start: Timestamp = "2025-03-01T10:00:00Z".parse().unwrap();
    let mid: Timestamp = "2025-03-01T10:45:00Z".parse().unwrap();
    let end: Timestamp = "2025-03-01T11:05:00Z".parse().unwrap();
    let periods = [
        ChargingPeriod { start, end: mid, energy: Energy::from_mwh(20_500_000) },
        ChargingPeriod { start: mid, end, energy: Energy::ZERO },
    ];
    let cdr = price(&tariff, &zone, &periods).unwrap();
    // 20.5 kWh × 0.39 = 7.995 → 8.00; 0.75 h × 1.20 = 0.90; idle 20 min × 6 = 2.00; flat 0.50.
    let excl: Vec<(LineKind, i64)> = cdr.lines.iter().map(|l| (l.kind, l.amount_excl_tax.0)).collect();
    assert_eq!(
        excl,
        vec![(LineKind::Energy, 800), (LineKind::ChargingTime, 90), (LineKind::IdleTime, 200), (LineKind::Flat, 50)]
    );
    assert_eq!(cdr.totals.excl_tax, Amount(1140));
    assert_eq!(cdr.totals.tax, Amount(152 + 17 + 38 + 10));
    assert_eq!((cdr.charging_millis, cdr.idle_millis), (45 * 60_000, 20 * 60_000));

    tariff.max_price = Some(p("10"));
    let capped = price(&tariff, &zone, &periods).unwrap();
    assert_eq!(capped.lines.last().unwrap().kind, LineKind::MaximumPrice);
    assert_eq!(capped.totals.excl_tax, Amount(1000));
    tariff.max_price = None;
    tariff.min_price = Some(p("15"));
    let raised = price(&tariff, &zone, &periods).unwrap();
    assert_eq!(raised.lines.last().unwrap().kind, LineKind::MinimumPrice);
    assert_eq!(raised.totals.excl_tax, Amount(1500));
}

#[test]
fn energy_thresholds_cut_a_period_where_the_session_crosses_them() {
    let zone = shanghai();
    let tier = |min: Option<i64>, price: &str| TariffElement {
        label: None,
        components: vec![PriceComponent { kind: ComponentKind::Energy, price: p(price) }],
        restrictions: Restrictions { min_energy: min.map(Energy::from_mwh), ..Restrictions::default() },
    };
    let tariff = Tariff {
        id: "tiers".into(),
        version: 1,
        owner: "member-a".into(),
        currency: Currency::CNY,
        tax: Tax { rate: TaxRate::ZERO, included: true },
        valid_from: "2025-01-01T00:00:00Z".parse().unwrap(),
        min_price: None,
        max_price: None,
        elements: vec![tier(Some(20_000_000), "2"), tier(None, "1")],
    };
    tariff.validate().unwrap();
    let periods = constant_power(&zone, "2025-03-01T10:00", "2025-03-01T11:00", 60, 30);
    let cdr = price(&tariff, &zone, &periods).unwrap();
    assert_eq!(cdr.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(), vec![20_000_000, 10_000_000]);
    assert_eq!(cdr.totals.incl_tax, Amount(20_00 + 20_00));
}

#[test]
fn validation_names_the_field_of_each_problem() {
    let mut preset = guangdong();
    preset.schedules[1].slots[1] = slot("07:00", "10:00", TouPeriod::Flat);
    preset.schedules[1].slots[4] = slot("14:30", "19:00", TouPeriod::Peak);
    let errors = preset.build().unwrap_err().0;
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["schedules[1].slots[1].start", "schedules[1].slots[4].start"]);
    assert!(errors[0].problem.contains("overlaps"), "{}", errors[0].problem);
    assert!(errors[1].problem.contains("14:00–14:30"), "{}", errors[1].problem);
    assert_eq!((errors[0].code, errors[1].code), ("overlap", "slot_gap"), "codes a console translates");

    let mut tariff = guangdong().build().unwrap();
    tariff.elements[0].components[0].price = p("-0.1");
    let errors = tariff.validate().unwrap_err().0;
    assert_eq!((errors[0].field.as_str(), errors[0].code), ("elements[0].components[0].price", "negative"));

    // A gap: no electricity price on weekends.
    let mut tariff = guangdong().build().unwrap();
    for element in &mut tariff.elements {
        element.restrictions.weekdays = Weekday::WORKDAYS.to_vec();
    }
    let errors = tariff.validate().unwrap_err().0;
    assert!(
        errors.iter().any(|e| e.code == "gap" && e.problem.contains("energy has no price on Saturdays")),
        "{errors:?}"
    );

    // An element every earlier one hides.
    let mut tariff = guangdong().build().unwrap();
    let hidden = tariff.elements[9].clone();
    tariff.elements.push(hidden);
    let errors = tariff.validate().unwrap_err().0;
    assert_eq!(errors[0].field, format!("elements[{}]", tariff.elements.len() - 1));
    assert!(errors[0].code == "unreachable" && errors[0].problem.contains("never applies"));

    let unknown = serde_json::from_str::<Currency>("\"XYZ\"").unwrap_err();
    assert!(unknown.to_string().contains("unknown currency"));
}

/// A pause inside one tariff period does not split its energy into lines rounded apart: 0.6 kWh, a
/// pause, 0.6 kWh at sharp prices cost what 1.2 kWh costs, and a milliwatt-hour more in the pause
/// never costs less (it used to: 2.50 against 2.49, each half rounded alone).
#[test]
fn a_pause_in_a_period_never_splits_its_energy() {
    let tariff = guangdong().build().unwrap();
    let zone = shanghai();
    // 11:00–11:30 on a Tuesday in August: sharp (1.275 + 0.8 per kWh).
    let at = |hm: &str| {
        zone.to_zoned(format!("2025-08-05T{hm}").parse::<jiff::civil::DateTime>().unwrap()).unwrap().timestamp()
    };
    let session = |pause: i64| {
        vec![
            ChargingPeriod { start: at("11:00"), end: at("11:10"), energy: Energy::from_mwh(600_000) },
            ChargingPeriod { start: at("11:10"), end: at("11:20"), energy: Energy::from_mwh(pause) },
            ChargingPeriod { start: at("11:20"), end: at("11:30"), energy: Energy::from_mwh(600_000) },
        ]
    };
    let paused = price(&tariff, &zone, &session(0)).unwrap();
    let trickled = price(&tariff, &zone, &session(1)).unwrap();
    assert_eq!(paused.periods.len(), 1, "one CDR period: {:?}", paused.periods);
    assert_eq!((paused.periods[0].charging_millis, paused.periods[0].idle_millis), (1_200_000, 600_000));
    // 1.2 kWh × 1.275 = 1.53; 1.2 kWh × 0.8 = 0.96: 2.49 in all.
    assert_eq!(line_amounts(&paused).iter().map(|l| l.3).collect::<Vec<_>>(), [1_53, 96]);
    assert_eq!(paused.totals.incl_tax, Amount(2_49));
    assert!(trickled.totals.incl_tax >= paused.totals.incl_tax);
    let whole = [ChargingPeriod { start: at("11:00"), end: at("11:30"), energy: Energy::from_mwh(1_200_000) }];
    assert_eq!(price(&tariff, &zone, &whole).unwrap().totals.incl_tax, paused.totals.incl_tax);
}

/// A time-of-use preset's problems name the preset's own fields, not the elements built from it.
#[test]
fn a_time_of_use_presets_problems_name_its_own_fields() {
    let mut preset = guangdong();
    preset.flat = Some(TouPrices { electricity: p("-0.6"), service: p("0.8") });
    preset.idle_fee_per_hour = Some(p("-1"));
    let errors = preset.build().unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["flat.electricity", "idle_fee_per_hour"], "{errors}");
    assert!(errors.0[0].problem.contains("-0.6 is negative"), "{errors}");
}

/// A CDR saved before charging and idle time were counted apart still reads, its periods' time
/// counted by whether they charged.
#[test]
fn a_cdr_saved_with_the_earlier_period_shape_still_reads() {
    let saved = r#"{"start":"2025-08-05T03:00:00Z","end":"2025-08-05T03:10:00Z","energy":600000,"charging":false}"#;
    let period: chargemesh_core::pricing::CdrPeriod = serde_json::from_str(saved).unwrap();
    assert_eq!((period.charging_millis, period.idle_millis), (0, 600_000));
    let now = r#"{"start":"2025-08-05T03:00:00Z","end":"2025-08-05T03:10:00Z","energy":600000,"charging_millis":400000,"idle_millis":200000}"#;
    let period: chargemesh_core::pricing::CdrPeriod = serde_json::from_str(now).unwrap();
    assert_eq!((period.charging_millis, period.idle_millis), (400_000, 200_000));
}
