//! Replay of the Perth & Kinross sessions (contains public sector information licensed under the Open
//! Government Licence v3.0) priced under a UK-style time-of-use tariff, against an independent
//! minute-by-minute computation written here.

use chargemesh_core::money::{Currency, Price, TaxRate};
use chargemesh_core::pricing::{ChargingPeriod, price};
use chargemesh_core::tariff::*;
use chargemesh_sim::datasets::perth::{self, Refusal};
use jiff::tz::TimeZone;

/// Night 00:00–07:00 £0.20, day £0.35, evening peak 16:00–19:00 £0.45 per kWh, VAT 20 % included.
const BANDS: [(u16, u16, i64); 4] =
    [(0, 420, 200_000), (420, 960, 350_000), (960, 1140, 450_000), (1140, 1440, 350_000)];

fn tariff() -> Tariff {
    let elements = BANDS
        .iter()
        .map(|&(start, end, price)| TariffElement {
            label: None,
            components: vec![PriceComponent { kind: ComponentKind::Energy, price: Price::from_micros(price) }],
            restrictions: Restrictions {
                start_time: TimeOfDay::from_minutes(start),
                end_time: TimeOfDay::from_minutes(end),
                ..Restrictions::default()
            },
        })
        .collect();
    Tariff {
        id: "uk-tou".into(),
        version: 1,
        owner: "member-uk".into(),
        currency: Currency::from_code("GBP").unwrap(),
        tax: Tax { rate: TaxRate::parse_percent("20").unwrap(), included: true },
        valid_from: "2016-01-01T00:00:00Z".parse().unwrap(),
        min_price: None,
        max_price: None,
        elements,
    }
}

/// The session's price in pence as an exact fraction: each millisecond at the band its local minute
/// falls in, the energy spread evenly over the session.
fn independent_pence(session: &perth::Session, zone: &TimeZone) -> (i128, i128) {
    let (start, end) = (session.start.as_millisecond(), session.end.as_millisecond());
    let mut weighted: i128 = 0;
    let mut at = start;
    while at < end {
        let offset_ms = i64::from(zone.to_offset(jiff::Timestamp::from_millisecond(at).unwrap()).seconds()) * 1000;
        let local_ms = (at + offset_ms).rem_euclid(86_400_000);
        let minute = (local_ms / 60_000) as u16;
        let next = (at - local_ms % 60_000 + 60_000).min(end);
        let band = BANDS.iter().find(|b| b.0 <= minute && minute < b.1).unwrap();
        weighted += i128::from(band.2) * i128::from(next - at);
        at = next;
    }
    // pence = Σ price (10⁻⁶ £) × share of the session × energy (10⁻⁶ kWh) × 100 p/£
    (weighted * i128::from(session.energy.mwh()) * 100, i128::from(end - start) * 1_000_000_000_000)
}

#[test]
fn perth_sessions_priced_match_an_independent_computation() {
    let zone = TimeZone::get("Europe/London").unwrap();
    let tariff = tariff();
    tariff.validate().unwrap();
    let dir = format!("{}/data/perth", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 3);
    let (mut priced, mut total, mut independent_total, mut swapped) = (0usize, 0i64, 0i128, 0usize);
    let mut refused = std::collections::BTreeMap::new();
    for file in files {
        let replay = perth::read(&file).unwrap();
        swapped += replay.swapped_dates;
        for (reason, count) in replay.refused {
            *refused.entry(reason).or_insert(0) += count;
        }
        for session in &replay.sessions {
            let periods = [ChargingPeriod { start: session.start, end: session.end, energy: session.energy }];
            let cdr = price(&tariff, &zone, &periods).unwrap();
            let (numerator, denominator) = independent_pence(session, &zone);
            let expected = (2 * numerator + denominator) / (2 * denominator);
            // One rounding per line, half a penny at most each, against one rounding of the whole.
            let tolerance = cdr.lines.len().div_ceil(2) as i128;
            assert!(
                (i128::from(cdr.totals.incl_tax.0) - expected).abs() <= tolerance,
                "session {} ({} to {}, {}): priced {} vs {expected}",
                session.id,
                session.start,
                session.end,
                session.energy,
                cdr.totals.incl_tax.0
            );
            assert_eq!(cdr.energy, session.energy);
            priced += 1;
            total += cdr.totals.incl_tax.0;
            independent_total += expected;
        }
    }
    assert!(priced > 50_000, "only {priced} sessions read");
    assert!(swapped > 10_000, "the swapped dates were not recognised ({swapped})");
    for reason in [Refusal::NoEnd, Refusal::UnderMinimumEnergy, Refusal::EndsBeforeStart] {
        assert!(refused.get(&reason).is_some_and(|n| *n > 0), "no row refused for {reason:?}: {refused:?}");
    }
    let difference = (i128::from(total) - independent_total).abs();
    assert!(difference <= priced as i128 / 2, "total {total} vs {independent_total}");
    eprintln!("{priced} sessions priced, £{} in all; refused: {refused:?}; {swapped} dates swapped back", total / 100);
}
