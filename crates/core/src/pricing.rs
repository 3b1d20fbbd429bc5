//! The one pricing function: a tariff version and a session's charging periods in, a priced charge
//! detail record out, line by line. The node bills with it and the ledger re-computes bills with it,
//! so it is deterministic: no clock, no floating point, the site's time zone passed in.
//!
//! Rounding rule: each line's amount is computed exactly and rounded once, half away from zero, to
//! the currency's minor unit (fen, cent); its tax is computed from that rounded amount and rounded
//! the same way. Totals are sums of rounded lines. The tariff's minimum and maximum price apply
//! last, as a line of their own.

use crate::decimal::div_round_half_away;
use crate::energy::Energy;
use crate::money::{Amount, Currency, Price};
use crate::tariff::{ComponentKind, MonthDay, Restrictions, Tariff, Tax, Weekday};
use jiff::Timestamp;
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Serialize};

/// An interval of a session: the energy delivered in it, and whether the vehicle charged (energy
/// flowed) or only occupied the charger. Intervals are at millisecond resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargingPeriod {
    pub start: Timestamp,
    pub end: Timestamp,
    pub energy: Energy,
}

impl ChargingPeriod {
    pub fn is_charging(&self) -> bool {
        self.energy > Energy::ZERO
    }

    pub fn millis(&self) -> i64 {
        self.end.as_millisecond() - self.start.as_millisecond()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("charging period {index}: {problem}")]
    Period { index: usize, problem: String },
    #[error("the amounts are beyond what can be represented")]
    OutOfRange,
}

/// What a line of a priced CDR charges for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Energy,
    ServiceFee,
    ChargingTime,
    IdleTime,
    Flat,
    /// Raises the session to the tariff's minimum price.
    MinimumPrice,
    /// Lowers the session to the tariff's maximum price.
    MaximumPrice,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Energy => "energy",
            LineKind::ServiceFee => "service_fee",
            LineKind::ChargingTime => "charging_time",
            LineKind::IdleTime => "idle_time",
            LineKind::Flat => "flat",
            LineKind::MinimumPrice => "minimum_price",
            LineKind::MaximumPrice => "maximum_price",
        }
    }
}

impl From<ComponentKind> for LineKind {
    fn from(kind: ComponentKind) -> LineKind {
        match kind {
            ComponentKind::Energy => LineKind::Energy,
            ComponentKind::ServiceFee => LineKind::ServiceFee,
            ComponentKind::ChargingTime => LineKind::ChargingTime,
            ComponentKind::IdleTime => LineKind::IdleTime,
            ComponentKind::Flat => LineKind::Flat,
        }
    }
}

/// What a line's quantity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantityUnit {
    MilliwattHours,
    Milliseconds,
    Sessions,
}

/// A period of the priced CDR: consecutive charging periods that the same tariff elements priced,
/// whether energy flowed in them or not, so that a pause in the middle of a tariff period never
/// splits its energy into separately rounded lines. Its time is counted apart: charging (energy
/// flowing) and idle (connected without energy flowing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredCdrPeriod")]
pub struct CdrPeriod {
    pub start: Timestamp,
    pub end: Timestamp,
    pub energy: Energy,
    pub charging_millis: i64,
    pub idle_millis: i64,
}

/// A CDR period as saved: CDRs priced before charging and idle time were counted apart say
/// whether the whole period charged instead, and still read.
#[derive(Deserialize)]
struct StoredCdrPeriod {
    start: Timestamp,
    end: Timestamp,
    energy: Energy,
    charging_millis: Option<i64>,
    idle_millis: Option<i64>,
    charging: Option<bool>,
}

impl From<StoredCdrPeriod> for CdrPeriod {
    fn from(stored: StoredCdrPeriod) -> CdrPeriod {
        let millis = stored.end.as_millisecond() - stored.start.as_millisecond();
        let (charging_millis, idle_millis) = match (stored.charging_millis, stored.idle_millis, stored.charging) {
            (Some(charging), Some(idle), _) => (charging, idle),
            (_, _, Some(false)) => (0, millis),
            _ => (millis, 0),
        };
        CdrPeriod { start: stored.start, end: stored.end, energy: stored.energy, charging_millis, idle_millis }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    /// The CDR period priced, by index; none for a per-session line.
    pub period: Option<usize>,
    pub kind: LineKind,
    /// The tariff element's label, e.g. `peak`.
    pub label: Option<String>,
    pub quantity: i64,
    pub unit: QuantityUnit,
    /// Per kWh, per hour or per session, in the tariff's tax basis.
    pub unit_price: Price,
    pub amount_excl_tax: Amount,
    pub tax: Amount,
    pub amount_incl_tax: Amount,
}

/// Sums of the lines: per kind including tax, and overall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub energy: Amount,
    pub service_fee: Amount,
    pub charging_time: Amount,
    pub idle_time: Amount,
    pub flat: Amount,
    /// The minimum or maximum price's correction.
    pub adjustment: Amount,
    pub excl_tax: Amount,
    pub tax: Amount,
    pub incl_tax: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedCdr {
    pub tariff_id: String,
    pub tariff_version: u32,
    pub currency: Currency,
    pub tax: Tax,
    pub energy: Energy,
    pub charging_millis: i64,
    pub idle_millis: i64,
    pub periods: Vec<CdrPeriod>,
    pub lines: Vec<PricedLine>,
    pub totals: Totals,
}

/// The session's charging periods cut at every instant where one of the tariff's restrictions may
/// change: local times of day (both occurrences in a repeated hour), local midnight, time-zone
/// transitions, energy thresholds and duration thresholds. Energy is shared out in proportion to
/// time, exactly: the pieces of a period add up to it.
pub fn cut_periods(
    tariff: &Tariff,
    zone: &TimeZone,
    periods: &[ChargingPeriod],
) -> Result<Vec<ChargingPeriod>, PricingError> {
    check_periods(periods)?;
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Vec::new());
    };
    Ok(cut(tariff, &LocalClock::new(zone, first.start, last.end), periods))
}

/// [`cut_periods`] of checked, non-empty periods.
fn cut(tariff: &Tariff, clock: &LocalClock<'_>, periods: &[ChargingPeriod]) -> Vec<ChargingPeriod> {
    let (first, last) = (periods[0], periods[periods.len() - 1]);
    let session_start = first.start.as_millisecond();
    let mut cuts = clock_cuts(tariff, clock, first.start, last.end);
    cuts.extend(
        tariff.duration_boundaries().into_iter().filter_map(|s| s.checked_mul(1000)?.checked_add(session_start)),
    );
    let energy_boundaries = tariff.energy_boundaries();
    let mut delivered = Energy::ZERO;
    for period in periods {
        let (s, e) = (period.start.as_millisecond(), period.end.as_millisecond());
        for &threshold in &energy_boundaries {
            let needed = (threshold - delivered).mwh();
            if needed > 0 && needed < period.energy.mwh() {
                let offset = ceil_div(i128::from(needed) * i128::from(e - s), i128::from(period.energy.mwh()));
                cuts.push(s + offset as i64);
            }
        }
        delivered = delivered + period.energy;
    }
    cuts.sort_unstable();
    cuts.dedup();

    let mut pieces = Vec::with_capacity(periods.len() + cuts.len());
    let mut next_cut = 0;
    for period in periods {
        let (s, e) = (period.start.as_millisecond(), period.end.as_millisecond());
        while next_cut < cuts.len() && cuts[next_cut] <= s {
            next_cut += 1;
        }
        let mut piece_start = s;
        let mut energy_before = 0i64;
        while next_cut < cuts.len() && cuts[next_cut] < e {
            let cut = cuts[next_cut];
            // The energy of the period up to the cut, shared linearly in time.
            let energy_to_cut = share(period.energy.mwh(), cut - s, e - s);
            pieces.push(piece(piece_start, cut, energy_to_cut - energy_before));
            piece_start = cut;
            energy_before = energy_to_cut;
            next_cut += 1;
        }
        pieces.push(piece(piece_start, e, period.energy.mwh() - energy_before));
    }
    pieces
}

/// Prices a session under one tariff version: the periods are cut at the tariff's boundaries (see
/// [`cut_periods`]), each piece is matched to the first element pricing each kind, consecutive
/// pieces matched alike are merged into one CDR period (charging or idle alike), and each CDR
/// period gets one line per kind: energy and service fee on its energy, charging time on its
/// charging time, idle time on its idle time.
pub fn price(tariff: &Tariff, zone: &TimeZone, periods: &[ChargingPeriod]) -> Result<PricedCdr, PricingError> {
    check_periods(periods)?;
    let mut cdr = PricedCdr {
        tariff_id: tariff.id.clone(),
        tariff_version: tariff.version,
        currency: tariff.currency,
        tax: tariff.tax,
        energy: Energy::ZERO,
        charging_millis: 0,
        idle_millis: 0,
        periods: Vec::new(),
        lines: Vec::new(),
        totals: Totals::default(),
    };
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(cdr);
    };
    let mut clock = LocalClock::new(zone, first.start, last.end);
    let pieces = cut(tariff, &clock, periods);
    let first = &pieces[0];
    let session_start = first.start.as_millisecond();
    let kinds = ElementKinds::of(tariff);
    let mut matched_periods: Vec<(CdrPeriod, Matches)> = Vec::with_capacity(pieces.len());
    let mut delivered = Energy::ZERO;
    for piece in &pieces {
        let context = PieceContext::new(piece, &mut clock, delivered, piece.start.as_millisecond() - session_start);
        let matches = Matches::of(tariff, &kinds, &context);
        delivered = delivered + piece.energy;
        let (charging, idle) = if piece.is_charging() { (piece.millis(), 0) } else { (0, piece.millis()) };
        match matched_periods.last_mut() {
            Some((period, previous)) if *previous == matches && period.end == piece.start => {
                period.end = piece.end;
                period.energy = period.energy + piece.energy;
                period.charging_millis += charging;
                period.idle_millis += idle;
            }
            _ => matched_periods.push((
                CdrPeriod {
                    start: piece.start,
                    end: piece.end,
                    energy: piece.energy,
                    charging_millis: charging,
                    idle_millis: idle,
                },
                matches,
            )),
        }
    }
    let rounding = Rounding { currency: tariff.currency, tax: tariff.tax };
    cdr.lines.reserve(matched_periods.len() * 2 + 1);
    for (index, (period, matches)) in matched_periods.iter().enumerate() {
        let quantities: [(ComponentKind, i64, QuantityUnit); 4] = [
            (ComponentKind::Energy, period.energy.mwh(), QuantityUnit::MilliwattHours),
            (ComponentKind::ServiceFee, period.energy.mwh(), QuantityUnit::MilliwattHours),
            (ComponentKind::ChargingTime, period.charging_millis, QuantityUnit::Milliseconds),
            (ComponentKind::IdleTime, period.idle_millis, QuantityUnit::Milliseconds),
        ];
        for (kind, quantity, unit) in quantities {
            let Some((element, price)) = matches.get(kind) else { continue };
            if quantity == 0 {
                continue;
            }
            let priced = rounding.amount(price, quantity, unit)?;
            cdr.lines.push(rounding.line(
                Some(index),
                kind.into(),
                &tariff.elements[element].label,
                quantity,
                unit,
                price,
                priced,
            )?);
        }
        cdr.charging_millis += period.charging_millis;
        cdr.idle_millis += period.idle_millis;
        cdr.energy = cdr.energy + period.energy;
    }
    let first_context = PieceContext::new(first, &mut clock, Energy::ZERO, 0);
    if let Some((element, price)) = first_match(tariff, ComponentKind::Flat, &first_context) {
        let priced = rounding.amount(price, 1, QuantityUnit::Sessions)?;
        cdr.lines.push(rounding.line(
            None,
            LineKind::Flat,
            &tariff.elements[element].label,
            1,
            QuantityUnit::Sessions,
            price,
            priced,
        )?);
    }
    cdr.periods = matched_periods.into_iter().map(|(period, _)| period).collect();
    let basis_total = |lines: &[PricedLine]| -> Amount {
        lines.iter().map(|l| if tariff.tax.included { l.amount_incl_tax } else { l.amount_excl_tax }).sum()
    };
    let total = basis_total(&cdr.lines);
    let bound = |price: Option<Price>| price.map(|p| rounding.amount(p, 1, QuantityUnit::Sessions)).transpose();
    if let Some(min) = bound(tariff.min_price)?
        && total < min
    {
        let line = rounding.line(
            None,
            LineKind::MinimumPrice,
            &None,
            1,
            QuantityUnit::Sessions,
            tariff.min_price.unwrap_or_default(),
            min - total,
        )?;
        cdr.lines.push(line);
    } else if let Some(max) = bound(tariff.max_price)?
        && total > max
    {
        let line = rounding.line(
            None,
            LineKind::MaximumPrice,
            &None,
            1,
            QuantityUnit::Sessions,
            tariff.max_price.unwrap_or_default(),
            max - total,
        )?;
        cdr.lines.push(line);
    }
    cdr.totals = totals(&cdr.lines);
    Ok(cdr)
}

fn totals(lines: &[PricedLine]) -> Totals {
    let mut totals = Totals::default();
    for line in lines {
        let slot = match line.kind {
            LineKind::Energy => &mut totals.energy,
            LineKind::ServiceFee => &mut totals.service_fee,
            LineKind::ChargingTime => &mut totals.charging_time,
            LineKind::IdleTime => &mut totals.idle_time,
            LineKind::Flat => &mut totals.flat,
            LineKind::MinimumPrice | LineKind::MaximumPrice => &mut totals.adjustment,
        };
        *slot = *slot + line.amount_incl_tax;
        totals.excl_tax = totals.excl_tax + line.amount_excl_tax;
        totals.tax = totals.tax + line.tax;
        totals.incl_tax = totals.incl_tax + line.amount_incl_tax;
    }
    totals
}

/// Exact amounts and the one rounding rule.
struct Rounding {
    currency: Currency,
    tax: Tax,
}

impl Rounding {
    /// `price × quantity` in minor units, rounded half away from zero.
    fn amount(&self, price: Price, quantity: i64, unit: QuantityUnit) -> Result<Amount, PricingError> {
        // Price is in millionths of a unit; energy in mWh (10⁻⁶ kWh); time in ms (1/3,600,000 h).
        let per = match unit {
            QuantityUnit::MilliwattHours => 1_000_000_000_000i128,
            QuantityUnit::Milliseconds => 1_000_000 * 3_600_000,
            QuantityUnit::Sessions => 1_000_000,
        };
        let exact = i128::from(price.micros())
            .checked_mul(i128::from(quantity))
            .and_then(|v| v.checked_mul(self.currency.minor_per_major()))
            .ok_or(PricingError::OutOfRange)?;
        i64::try_from(div_round_half_away(exact, per)).map(Amount).map_err(|_| PricingError::OutOfRange)
    }

    /// A line from its amount in the tariff's tax basis; the tax part is rounded once.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        period: Option<usize>,
        kind: LineKind,
        label: &Option<String>,
        quantity: i64,
        unit: QuantityUnit,
        unit_price: Price,
        priced: Amount,
    ) -> Result<PricedLine, PricingError> {
        let rate = i128::from(self.tax.rate.ten_thousandths_percent());
        const HUNDRED_PERCENT: i128 = 1_000_000;
        let (excl, tax, incl) = if self.tax.included {
            let tax = div_round_half_away(i128::from(priced.0) * rate, HUNDRED_PERCENT + rate);
            let tax = i64::try_from(tax).map_err(|_| PricingError::OutOfRange)?;
            (priced.0 - tax, tax, priced.0)
        } else {
            let tax = div_round_half_away(i128::from(priced.0) * rate, HUNDRED_PERCENT);
            let tax = i64::try_from(tax).map_err(|_| PricingError::OutOfRange)?;
            (priced.0, tax, priced.0.checked_add(tax).ok_or(PricingError::OutOfRange)?)
        };
        Ok(PricedLine {
            period,
            kind,
            label: label.clone(),
            quantity,
            unit,
            unit_price,
            amount_excl_tax: Amount(excl),
            tax: Amount(tax),
            amount_incl_tax: Amount(incl),
        })
    }
}

/// Where a piece of a session stands when its restrictions are evaluated: at its start.
struct PieceContext {
    date: jiff::civil::Date,
    day: MonthDay,
    weekday: Weekday,
    minute: u16,
    delivered_before: Energy,
    millis_since_start: i64,
    power_watts: i64,
}

impl PieceContext {
    fn new(
        piece: &ChargingPeriod,
        clock: &mut LocalClock<'_>,
        delivered_before: Energy,
        millis_since_start: i64,
    ) -> PieceContext {
        let (day, minute) = clock.local(piece.start);
        let millis = piece.millis();
        // mWh per ms × 3,600,000 ms/h ÷ 1000 mW/W = watts.
        let power_watts = if millis > 0 { share(piece.energy.mwh(), 3_600, millis) } else { 0 };
        PieceContext {
            date: day.date,
            day: day.month_day,
            weekday: day.weekday,
            minute,
            delivered_before,
            millis_since_start,
            power_watts,
        }
    }

    fn satisfies(&self, r: &Restrictions) -> bool {
        let seconds = |s: i64| s.saturating_mul(1000);
        r.contains_minute(self.minute)
            && r.contains_day(self.day, self.weekday)
            && r.contains_date(self.date)
            && r.min_energy.is_none_or(|e| self.delivered_before >= e)
            && r.max_energy.is_none_or(|e| self.delivered_before < e)
            && r.min_power_watts.is_none_or(|w| self.power_watts >= w)
            && r.max_power_watts.is_none_or(|w| self.power_watts < w)
            && r.min_duration_seconds.is_none_or(|s| self.millis_since_start >= seconds(s))
            && r.max_duration_seconds.is_none_or(|s| self.millis_since_start < seconds(s))
    }
}

/// The time-based kinds each element prices, and all the tariff prices, as bits of [`Matches::KINDS`].
struct ElementKinds {
    of_element: Vec<u8>,
    all: u8,
}

impl ElementKinds {
    fn of(tariff: &Tariff) -> ElementKinds {
        let of_element: Vec<u8> = tariff
            .elements
            .iter()
            .map(|e| e.components.iter().filter_map(|c| Matches::slot(c.kind)).fold(0, |bits, s| bits | 1 << s))
            .collect();
        let all = of_element.iter().fold(0, |all, bits| all | bits);
        ElementKinds { of_element, all }
    }
}

/// For each time-based kind, the element and price that apply to a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Matches([Option<(usize, Price)>; 4]);

impl Matches {
    const KINDS: [ComponentKind; 4] =
        [ComponentKind::Energy, ComponentKind::ServiceFee, ComponentKind::ChargingTime, ComponentKind::IdleTime];

    fn slot(kind: ComponentKind) -> Option<usize> {
        Matches::KINDS.iter().position(|k| *k == kind)
    }

    /// One pass over the elements, each element's restrictions evaluated once and only while a kind
    /// it prices is still unmatched; it ends as soon as every kind the tariff prices is matched.
    fn of(tariff: &Tariff, kinds: &ElementKinds, context: &PieceContext) -> Matches {
        let mut found = [None; 4];
        let mut unmatched = kinds.all;
        for (i, element) in tariff.elements.iter().enumerate() {
            if kinds.of_element[i] & unmatched == 0 || !context.satisfies(&element.restrictions) {
                continue;
            }
            for component in &element.components {
                if let Some(s) = Matches::slot(component.kind)
                    && found[s].is_none()
                {
                    found[s] = Some((i, component.price));
                    unmatched &= !(1 << s);
                }
            }
            if unmatched == 0 {
                break;
            }
        }
        Matches(found)
    }

    fn get(&self, kind: ComponentKind) -> Option<(usize, Price)> {
        match kind {
            ComponentKind::Energy => self.0[0],
            ComponentKind::ServiceFee => self.0[1],
            ComponentKind::ChargingTime => self.0[2],
            ComponentKind::IdleTime => self.0[3],
            ComponentKind::Flat => None,
        }
    }
}

fn first_match(tariff: &Tariff, kind: ComponentKind, context: &PieceContext) -> Option<(usize, Price)> {
    tariff.elements.iter().enumerate().find_map(|(i, element)| {
        let component = element.components.iter().find(|c| c.kind == kind)?;
        context.satisfies(&element.restrictions).then_some((i, component.price))
    })
}

fn check_periods(periods: &[ChargingPeriod]) -> Result<(), PricingError> {
    for (index, period) in periods.iter().enumerate() {
        let problem = if period.end < period.start {
            Some("ends before it starts".to_owned())
        } else if period.energy < Energy::ZERO {
            Some(format!("negative energy {}", period.energy))
        } else if index > 0 && period.start < periods[index - 1].end {
            Some("starts before the previous period ends".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(PricingError::Period { index, problem });
        }
    }
    Ok(())
}

/// A session's local calendar and clock in the site's time zone.
struct LocalClock<'a> {
    zone: &'a TimeZone,
    /// The session's clock changes, as Unix milliseconds.
    transitions: Vec<i64>,
    /// Without a clock change in the session (always, in China) the offset, in milliseconds, is
    /// fixed and local times are an addition away.
    fixed_offset: Option<i64>,
    /// The last local day looked up, by its number since the epoch (fixed offset only).
    last_day: Option<(i64, LocalDay)>,
}

#[derive(Clone, Copy)]
struct LocalDay {
    date: jiff::civil::Date,
    month_day: MonthDay,
    weekday: Weekday,
}

impl LocalDay {
    fn of(date: jiff::civil::Date) -> LocalDay {
        LocalDay { date, month_day: MonthDay::of(date), weekday: Weekday::of(date) }
    }
}

impl<'a> LocalClock<'a> {
    fn new(zone: &'a TimeZone, from: Timestamp, to: Timestamp) -> LocalClock<'a> {
        let transitions: Vec<i64> =
            zone.following(from).map(|t| t.timestamp()).take_while(|t| *t < to).map(|t| t.as_millisecond()).collect();
        let fixed_offset = transitions.is_empty().then(|| i64::from(zone.to_offset(from).seconds()) * 1000);
        LocalClock { zone, transitions, fixed_offset, last_day: None }
    }

    /// The local day of an instant and its minute of the day.
    fn local(&mut self, at: Timestamp) -> (LocalDay, u16) {
        const DAY: i64 = 86_400_000;
        let Some(offset) = self.fixed_offset else {
            let local = self.zone.to_datetime(at);
            return (LocalDay::of(local.date()), local.hour() as u16 * 60 + local.minute() as u16);
        };
        let local = at.as_millisecond() + offset;
        let (number, minute) = (local.div_euclid(DAY), (local.rem_euclid(DAY) / 60_000) as u16);
        match self.last_day {
            Some((known, day)) if known == number => (day, minute),
            _ => {
                let day = LocalDay::of(self.zone.to_datetime(at).date());
                self.last_day = Some((number, day));
                (day, minute)
            }
        }
    }
}

/// Instants between `from` and `to` at which the local date or a time-of-day boundary changes.
fn clock_cuts(tariff: &Tariff, clock: &LocalClock<'_>, from: Timestamp, to: Timestamp) -> Vec<i64> {
    let zone = clock.zone;
    let mut minutes = vec![0u16];
    minutes.extend(tariff.minute_boundaries());
    let (first_day, last_day) = (zone.to_datetime(from).date(), zone.to_datetime(to).date());
    let days = usize::try_from((last_day - first_day).get_days()).unwrap_or(0) + 1;
    let mut cuts = Vec::with_capacity(days * minutes.len() + clock.transitions.len() + 8);
    let mut day = first_day;
    while day <= last_day {
        for &minute in &minutes {
            let local = day.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
            if let Some(offset) = clock.fixed_offset {
                let Ok(as_utc) = jiff::tz::Offset::UTC.to_timestamp(local) else { continue };
                cuts.push(as_utc.as_millisecond() - offset);
                continue;
            }
            let offsets = match zone.to_ambiguous_timestamp(local).offset() {
                AmbiguousOffset::Unambiguous { offset } => [Some(offset), None],
                AmbiguousOffset::Fold { before, after } => [Some(before), Some(after)],
                // A time that a clock change skips is passed at the change itself, a cut below.
                AmbiguousOffset::Gap { .. } => [None, None],
            };
            cuts.extend(
                offsets.into_iter().flatten().filter_map(|o| o.to_timestamp(local).ok()).map(|t| t.as_millisecond()),
            );
        }
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    cuts.extend(&clock.transitions);
    let (from, to) = (from.as_millisecond(), to.as_millisecond());
    cuts.retain(|&c| from < c && c < to);
    cuts
}

/// `value × part ÷ whole`, truncated; in 64 bits when the product fits, which is several times faster.
fn share(value: i64, part: i64, whole: i64) -> i64 {
    match value.checked_mul(part) {
        Some(product) => product / whole,
        None => (i128::from(value) * i128::from(part) / i128::from(whole)) as i64,
    }
}

fn ceil_div(numerator: i128, denominator: i128) -> i128 {
    (numerator + denominator - 1) / denominator
}

fn piece(start: i64, end: i64, energy: i64) -> ChargingPeriod {
    ChargingPeriod {
        start: Timestamp::from_millisecond(start).expect("within the session's own range"),
        end: Timestamp::from_millisecond(end).expect("within the session's own range"),
        energy: Energy::from_mwh(energy),
    }
}
