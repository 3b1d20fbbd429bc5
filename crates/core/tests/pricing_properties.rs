//! Properties of the pricing function over random time-of-use tariffs and sessions.

use chargemesh_core::Energy;
use chargemesh_core::money::{Currency, Price, TaxRate};
use chargemesh_core::pricing::{ChargingPeriod, PricedCdr, QuantityUnit, cut_periods, price};
use chargemesh_core::tariff::*;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;

const ZONES: [&str; 3] = ["Asia/Shanghai", "America/Los_Angeles", "Europe/London"];

/// A time-of-use tariff: the day cut at `cuts` (half hours), each stretch with its own prices, plus
/// a charging-time and an idle price, in or out of tax.
fn tariff(cuts: &[u16], prices: &[(i64, i64)], time_price: i64, idle_price: i64, tax: i64, included: bool) -> Tariff {
    let mut bounds: Vec<u16> = cuts.iter().map(|c| c * 30).collect();
    bounds.sort_unstable();
    bounds.dedup();
    bounds.retain(|&b| b > 0 && b < TimeOfDay::MINUTES_PER_DAY);
    bounds.insert(0, 0);
    bounds.push(TimeOfDay::MINUTES_PER_DAY);
    let mut elements: Vec<TariffElement> = bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (energy, service) = prices[i % prices.len()];
            TariffElement {
                label: Some(format!("slot{i}")),
                components: vec![
                    PriceComponent { kind: ComponentKind::Energy, price: Price::from_micros(energy) },
                    PriceComponent { kind: ComponentKind::ServiceFee, price: Price::from_micros(service) },
                ],
                restrictions: Restrictions {
                    start_time: TimeOfDay::from_minutes(w[0]),
                    end_time: TimeOfDay::from_minutes(w[1]),
                    ..Restrictions::default()
                },
            }
        })
        .collect();
    elements.push(TariffElement {
        label: None,
        components: vec![
            PriceComponent { kind: ComponentKind::ChargingTime, price: Price::from_micros(time_price) },
            PriceComponent { kind: ComponentKind::IdleTime, price: Price::from_micros(idle_price) },
        ],
        restrictions: Restrictions::default(),
    });
    let tariff = Tariff {
        id: "random".into(),
        version: 1,
        owner: "member".into(),
        currency: Currency::CNY,
        tax: Tax { rate: TaxRate::parse_percent(&tax.to_string()).unwrap(), included },
        valid_from: "2020-01-01T00:00:00Z".parse().unwrap(),
        min_price: None,
        max_price: None,
        elements,
    };
    tariff.validate().expect("the generated tariff is valid");
    tariff
}

fn arb_tariff() -> impl Strategy<Value = Tariff> {
    (
        proptest::collection::vec(1u16..48, 0..8),
        proptest::collection::vec((0i64..3_000_000, 0i64..1_500_000), 1..5),
        0i64..5_000_000,
        0i64..10_000_000,
        0i64..25,
        any::<bool>(),
    )
        .prop_map(|(cuts, prices, time, idle, tax, included)| tariff(&cuts, &prices, time, idle, tax, included))
}

/// 1–20 consecutive periods from a start in 2019–2026, each up to three hours at up to 350 kW; some idle.
fn arb_session() -> impl Strategy<Value = Vec<ChargingPeriod>> {
    (
        1_546_300_800_000i64..1_790_000_000_000,
        proptest::collection::vec((1_000i64..10_800_000, 0u32..=100, any::<bool>()), 1..20),
    )
        .prop_map(|(start, parts)| {
            let mut at = start;
            parts
                .into_iter()
                .map(|(millis, load, idle)| {
                    let max_mwh = millis * 350 * 10 / 36;
                    let energy = if idle { 0 } else { max_mwh * i64::from(load) / 100 };
                    let period = ChargingPeriod {
                        start: Timestamp::from_millisecond(at).unwrap(),
                        end: Timestamp::from_millisecond(at + millis).unwrap(),
                        energy: Energy::from_mwh(energy),
                    };
                    at += millis;
                    period
                })
                .collect()
        })
}

/// Splits the session at `fraction` of its length: the period containing that instant becomes two,
/// its energy shared in proportion to time.
fn split_at(periods: &[ChargingPeriod], fraction: f64) -> (Vec<ChargingPeriod>, Vec<ChargingPeriod>) {
    let (start, end) = (periods[0].start.as_millisecond(), periods.last().unwrap().end.as_millisecond());
    let cut = start + ((end - start) as f64 * fraction) as i64;
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for period in periods {
        let (s, e) = (period.start.as_millisecond(), period.end.as_millisecond());
        if e <= cut {
            before.push(*period);
        } else if s >= cut {
            after.push(*period);
        } else {
            let share = (i128::from(period.energy.mwh()) * i128::from(cut - s) / i128::from(e - s)) as i64;
            let at = Timestamp::from_millisecond(cut).unwrap();
            before.push(ChargingPeriod { start: period.start, end: at, energy: Energy::from_mwh(share) });
            after.push(ChargingPeriod {
                start: at,
                end: period.end,
                energy: Energy::from_mwh(period.energy.mwh() - share),
            });
        }
    }
    (before, after)
}

fn total(cdr: &PricedCdr) -> i64 {
    cdr.totals.incl_tax.0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Cutting a period anywhere changes the bill by rounding at most: the pieces are merged again
    /// before pricing, and only the energy shared out at a tariff boundary inside the cut period may
    /// move by a milliwatt-hour.
    #[test]
    fn an_extra_cut_changes_nothing_but_rounding(tariff in arb_tariff(), session in arb_session(), zone in 0usize..3, fraction in 0.0f64..1.0) {
        let zone = TimeZone::get(ZONES[zone]).unwrap();
        let (before, after) = split_at(&session, fraction);
        let joined: Vec<ChargingPeriod> = before.into_iter().chain(after).collect();
        let (whole, cut) = (price(&tariff, &zone, &session).unwrap(), price(&tariff, &zone, &joined).unwrap());
        let shape = |cdr: &PricedCdr| cdr.periods.iter().map(|p| (p.start, p.end)).collect::<Vec<_>>();
        prop_assert_eq!(shape(&whole), shape(&cut));
        for (a, b) in whole.periods.iter().zip(&cut.periods) {
            prop_assert!((a.energy.mwh() - b.energy.mwh()).abs() <= 1);
            let millis = a.end.as_millisecond() - a.start.as_millisecond();
            prop_assert_eq!(b.charging_millis + b.idle_millis, millis);
        }
        prop_assert!((total(&whole) - total(&cut)).abs() <= whole.lines.len() as i64);
    }

    /// Pricing the two halves of a session separately costs the same as pricing it whole, up to half a
    /// minor unit per line on either side.
    #[test]
    fn halves_cost_the_whole_within_rounding(tariff in arb_tariff(), session in arb_session(), zone in 0usize..3, fraction in 0.0f64..1.0) {
        let zone = TimeZone::get(ZONES[zone]).unwrap();
        let (before, after) = split_at(&session, fraction);
        let whole = price(&tariff, &zone, &session).unwrap();
        let first = price(&tariff, &zone, &before).unwrap();
        let second = price(&tariff, &zone, &after).unwrap();
        let lines = (whole.lines.len() + first.lines.len() + second.lines.len()) as i64;
        // Each line rounds its amount once, and its tax once when tax is added on top.
        let tolerance = lines;
        prop_assert!((total(&first) + total(&second) - total(&whole)).abs() <= tolerance,
            "halves {} + {} vs whole {} (tolerance {})", total(&first), total(&second), total(&whole), tolerance);
    }

    /// Delivering more energy — in any of a session's periods, several at once, idle ones too —
    /// never lowers the energy or service fee, nor (a tariff without time prices) any total; where
    /// energy flowed already, it lowers no total of any tariff. (Energy in a pause turns idle time
    /// into charging time, as OCPI defines them: a tariff whose idle price is above its charging-time
    /// price charges that time less.)
    #[test]
    fn more_energy_never_costs_less(tariff in arb_tariff(), session in arb_session(), zone in 0usize..3, extra in proptest::collection::vec(0i64..5_000_000, 20)) {
        let zone = TimeZone::get(ZONES[zone]).unwrap();
        let added = |only_charging: bool| {
            let mut more = session.clone();
            for (period, extra) in more.iter_mut().zip(&extra) {
                if !only_charging || period.is_charging() {
                    period.energy = period.energy + Energy::from_mwh(*extra);
                }
            }
            more
        };
        let totals = |cdr: &PricedCdr| {
            let t = &cdr.totals;
            [t.energy.0, t.service_fee.0, t.charging_time.0, t.idle_time.0, t.flat.0, t.excl_tax.0, t.tax.0, t.incl_tax.0]
        };
        let before = totals(&price(&tariff, &zone, &session).unwrap());
        let anywhere = totals(&price(&tariff, &zone, &added(false)).unwrap());
        prop_assert!(anywhere[0] >= before[0] && anywhere[1] >= before[1], "energy or service fee lower: {before:?} → {anywhere:?}");
        let untimed = Tariff {
            elements: tariff.elements.iter().filter(|e| e.components.iter().all(|c| !matches!(c.kind, ComponentKind::ChargingTime | ComponentKind::IdleTime))).cloned().collect(),
            ..tariff.clone()
        };
        let (plain, plain_more) = (totals(&price(&untimed, &zone, &session).unwrap()), totals(&price(&untimed, &zone, &added(false)).unwrap()));
        prop_assert!(plain.iter().zip(&plain_more).all(|(a, b)| b >= a), "without time prices: {plain:?} → {plain_more:?}");
        let flowing = totals(&price(&tariff, &zone, &added(true)).unwrap());
        prop_assert!(before.iter().zip(&flowing).all(|(a, b)| b >= a), "where energy flowed: {before:?} → {flowing:?}");
    }

    /// Every line is its exact amount rounded to the fen: never more than half a fen off.
    #[test]
    fn each_line_is_within_half_a_minor_unit(tariff in arb_tariff(), session in arb_session(), zone in 0usize..3) {
        let zone = TimeZone::get(ZONES[zone]).unwrap();
        let cdr = price(&tariff, &zone, &session).unwrap();
        for line in &cdr.lines {
            let per: i128 = match line.unit {
                QuantityUnit::MilliwattHours => 1_000_000_000_000,
                QuantityUnit::Milliseconds => 3_600_000_000_000,
                QuantityUnit::Sessions => 1_000_000,
            };
            let exact = i128::from(line.unit_price.micros()) * i128::from(line.quantity) * 100;
            let priced = if tariff.tax.included { line.amount_incl_tax.0 } else { line.amount_excl_tax.0 };
            prop_assert!((i128::from(priced) * per - exact).abs() * 2 <= per, "{line:?}");
            prop_assert_eq!(line.amount_excl_tax.0 + line.tax.0, line.amount_incl_tax.0);
        }
        let energy: i64 = session.iter().map(|p| p.energy.mwh()).sum();
        prop_assert_eq!(cdr.energy.mwh(), energy);
    }

    /// Cutting keeps every millisecond and every milliwatt-hour.
    #[test]
    fn cutting_keeps_time_and_energy(tariff in arb_tariff(), session in arb_session(), zone in 0usize..3) {
        let zone = TimeZone::get(ZONES[zone]).unwrap();
        let pieces = cut_periods(&tariff, &zone, &session).unwrap();
        let sum = |p: &[ChargingPeriod]| (p.iter().map(|p| p.energy.mwh()).sum::<i64>(), p.iter().map(|p| p.millis()).sum::<i64>());
        prop_assert_eq!(sum(&pieces), sum(&session));
    }

    /// A session inside one period of the day costs its energy times that period's prices.
    #[test]
    fn a_session_inside_one_period_costs_energy_times_its_price(energy_price in 0i64..3_000_000, service in 0i64..1_500_000, kwh_milli in 0i64..100_000) {
        let tariff = tariff(&[16, 20], &[(100_000, 100_000), (energy_price, service), (100_000, 100_000)], 0, 0, 0, true);
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        // 08:15 to 09:45 Shanghai time, inside the 08:00–10:00 period.
        let session = [ChargingPeriod {
            start: "2025-05-06T00:15:00Z".parse().unwrap(),
            end: "2025-05-06T01:45:00Z".parse().unwrap(),
            energy: Energy::from_mwh(kwh_milli * 1000),
        }];
        let cdr = price(&tariff, &zone, &session).unwrap();
        let fen = |micros: i64| (i128::from(micros) * i128::from(kwh_milli) * 1000 * 100 * 2 + 1_000_000_000_000) / 2_000_000_000_000;
        prop_assert_eq!(i128::from(cdr.totals.energy.0), if kwh_milli == 0 { 0 } else { fen(energy_price) });
        prop_assert_eq!(i128::from(cdr.totals.service_fee.0), if kwh_milli == 0 { 0 } else { fen(service) });
    }
}
