//! Checking a tariff before it is saved: every problem, each naming its field.

use super::{ComponentKind, MonthDay, Tariff, TimeOfDay, Weekday};
use crate::money::Price;
use serde::Serialize;
use std::fmt;

/// One problem with a tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariffError {
    /// Where, e.g. `elements[2].restrictions.start_time`.
    pub field: String,
    /// What kind of problem, stable for translations: `negative`, `gap`, `overlap`, ...
    pub code: &'static str,
    /// The problem in words (English), with the values involved.
    pub problem: String,
}

/// Every problem found with a tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct TariffErrors(pub Vec<TariffError>);

impl fmt::Display for TariffErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.problem)).collect();
        f.write_str(&all.join("; "))
    }
}

impl Tariff {
    /// Checks the tariff; a tariff that passes can be priced and published.
    pub fn validate(&self) -> Result<(), TariffErrors> {
        let mut errors = Vec::new();
        let mut error =
            |field: String, code: &'static str, problem: String| errors.push(TariffError { field, code, problem });
        if self.id.trim().is_empty() {
            error("id".into(), "empty", "must not be empty".into());
        }
        if self.owner.trim().is_empty() {
            error("owner".into(), "empty", "must not be empty".into());
        }
        if self.version == 0 {
            error("version".into(), "version_zero", "versions count from 1".into());
        }
        if self.tax.rate.ten_thousandths_percent() < 0 || self.tax.rate.ten_thousandths_percent() > 1_000_000 {
            error(
                "tax.rate".into(),
                "tax_rate_range",
                format!("{} % is not a tax rate from 0 to 100 %", self.tax.rate),
            );
        }
        for (field, price) in [("min_price", self.min_price), ("max_price", self.max_price)] {
            if let Some(price) = price
                && price < Price::ZERO
            {
                error(field.into(), "negative", format!("{price} is negative"));
            }
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price)
            && min > max
        {
            error("min_price".into(), "min_above_max", format!("{min} is above max_price {max}"));
        }
        if self.elements.is_empty() {
            error("elements".into(), "no_elements", "a tariff needs at least one element".into());
        }
        for (i, element) in self.elements.iter().enumerate() {
            let at = format!("elements[{i}]");
            if element.components.is_empty() {
                error(
                    format!("{at}.components"),
                    "no_components",
                    "an element needs at least one price component".into(),
                );
            }
            for (j, component) in element.components.iter().enumerate() {
                if component.price < Price::ZERO {
                    error(
                        format!("{at}.components[{j}].price"),
                        "negative",
                        format!("{} is negative", component.price),
                    );
                }
                if element.components[..j].iter().any(|c| c.kind == component.kind) {
                    error(
                        format!("{at}.components[{j}].kind"),
                        "priced_twice",
                        format!("{} is priced twice in this element", component.kind.as_str()),
                    );
                }
            }
            let r = &element.restrictions;
            let at = format!("{at}.restrictions");
            if let (Some(start), Some(end)) = (r.start_time, r.end_time)
                && start.minutes() == end.minutes()
            {
                error(
                    format!("{at}.end_time"),
                    "empty_window",
                    format!("the window from {start} to {end} is empty; leave both out for all day"),
                );
            }
            if r.start_time.is_some_and(|t| t.minutes() == TimeOfDay::MINUTES_PER_DAY) {
                error(format!("{at}.start_time"), "start_at_24", "24:00 can only end a window; start at 00:00".into());
            }
            if let (Some(start), Some(end)) = (r.start_date, r.end_date)
                && start >= end
            {
                error(format!("{at}.end_date"), "not_after_start", format!("{end} is not after start_date {start}"));
            }
            let mut bound = |name: &str, min: Option<i64>, max: Option<i64>| {
                if min.is_some_and(|v| v < 0) {
                    error(format!("{at}.min_{name}"), "negative", "must not be negative".into());
                }
                if let (Some(min), Some(max)) = (min, max)
                    && min >= max
                {
                    error(
                        format!("{at}.max_{name}"),
                        "max_not_above_min",
                        format!("{max} is not above min_{name} {min}"),
                    );
                }
            };
            bound("energy", r.min_energy.map(|e| e.mwh()), r.max_energy.map(|e| e.mwh()));
            bound("power_watts", r.min_power_watts, r.max_power_watts);
            bound("duration_seconds", r.min_duration_seconds, r.max_duration_seconds);
            for (k, weekday) in r.weekdays.iter().enumerate() {
                if r.weekdays[..k].contains(weekday) {
                    error(format!("{at}.weekdays[{k}]"), "listed_twice", format!("{weekday:?} is listed twice"));
                }
            }
        }
        if errors.is_empty() {
            errors.extend(self.coverage_errors());
        }
        if errors.is_empty() { Ok(()) } else { Err(TariffErrors(errors)) }
    }

    /// Gaps (a time at which electricity or service has no price although the tariff prices it at
    /// other times) and elements that can never apply because earlier ones cover all their times.
    /// Energy, power, duration and date restrictions are treated as possibly holding, so neither check
    /// errs on a tariff that relies on them.
    fn coverage_errors(&self) -> Vec<TariffError> {
        let cells = Cells::of(self);
        let mut errors = Vec::new();
        for kind in ComponentKind::ALL {
            let pricing: Vec<usize> = (0..self.elements.len())
                .filter(|&i| self.elements[i].components.iter().any(|c| c.kind == kind))
                .collect();
            if pricing.is_empty() {
                continue;
            }
            let mut reachable = vec![false; self.elements.len()];
            let mut gap = None;
            for cell in cells.iter() {
                let matching: Vec<usize> =
                    pricing.iter().copied().filter(|&i| cell.matches(&self.elements[i].restrictions)).collect();
                if matching.is_empty() && gap.is_none() {
                    gap = Some(cell);
                }
                for &i in &matching {
                    reachable[i] = true;
                    if !self.elements[i].restrictions.is_conditional() {
                        break;
                    }
                }
            }
            if matches!(kind, ComponentKind::Energy | ComponentKind::ServiceFee)
                && let Some(cell) = gap
            {
                errors.push(TariffError {
                    field: "elements".into(),
                    code: "gap",
                    problem: format!(
                        "{} has no price {}; add an element for that time",
                        kind.as_str(),
                        cell.describe()
                    ),
                });
            }
            for &i in &pricing {
                if !reachable[i] {
                    errors.push(TariffError {
                        field: format!("elements[{i}]"),
                        code: "unreachable",
                        problem: format!(
                            "its {} price never applies: earlier elements cover all of its times (overlapping periods)",
                            kind.as_str()
                        ),
                    });
                }
            }
        }
        errors
    }
}

/// The local calendar cut into pieces within which no restriction on season, weekday or time of day
/// changes: one representative (day of year, weekday, minute) per piece.
struct Cells {
    days: Vec<(MonthDay, Option<MonthDay>)>,
    minutes: Vec<(u16, u16)>,
}

#[derive(Clone, Copy)]
struct Cell {
    day: MonthDay,
    until_day: Option<MonthDay>,
    weekday: Weekday,
    minute: u16,
    until_minute: u16,
}

impl Cells {
    fn of(tariff: &Tariff) -> Cells {
        let mut starts = vec![MonthDay::new(1, 1).expect("a valid day")];
        for season in tariff.elements.iter().filter_map(|e| e.restrictions.season) {
            starts.push(season.from);
            starts.extend(day_after(season.to));
        }
        starts.sort_unstable();
        starts.dedup();
        let days =
            starts.iter().enumerate().map(|(i, &day)| (day, starts.get(i + 1).and_then(|&d| day_before(d)))).collect();
        let mut cuts = vec![0];
        cuts.extend(tariff.minute_boundaries());
        let minutes = cuts
            .iter()
            .enumerate()
            .map(|(i, &m)| (m, cuts.get(i + 1).copied().unwrap_or(TimeOfDay::MINUTES_PER_DAY)))
            .collect();
        Cells { days, minutes }
    }

    fn iter(&self) -> impl Iterator<Item = Cell> + '_ {
        self.days.iter().flat_map(move |&(day, until_day)| {
            Weekday::ALL.into_iter().flat_map(move |weekday| {
                self.minutes.iter().map(move |&(minute, until_minute)| Cell {
                    day,
                    until_day,
                    weekday,
                    minute,
                    until_minute,
                })
            })
        })
    }
}

impl Cell {
    fn matches(&self, r: &super::Restrictions) -> bool {
        r.contains_day(self.day, self.weekday) && r.contains_minute(self.minute)
    }

    fn describe(&self) -> String {
        let days = match self.until_day {
            Some(until) => format!("from {} to {}", self.day, until),
            None => format!("from {} to 12-31", self.day),
        };
        let from = TimeOfDay::from_minutes(self.minute).expect("within a day");
        let to = TimeOfDay::from_minutes(self.until_minute).expect("within a day");
        format!("on {:?}s from {from} to {to} (days {days})", self.weekday)
    }
}

fn day_after(day: MonthDay) -> Option<MonthDay> {
    let date = jiff::civil::Date::new(2024, day.month() as i8, day.day() as i8).ok()?.tomorrow().ok()?;
    (date.year() == 2024).then(|| MonthDay::of(date))
}

fn day_before(day: MonthDay) -> Option<MonthDay> {
    let date = jiff::civil::Date::new(2024, day.month() as i8, day.day() as i8).ok()?.yesterday().ok()?;
    (date.year() == 2024).then(|| MonthDay::of(date))
}
