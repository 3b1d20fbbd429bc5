//! Projections of a tariff onto the wire formats that carry prices: the YKC billing model, the OCPI
//! 2.2.1 Tariff object and T/CEC 102 `PolicyInfos`. Each refuses, naming the field, what its format
//! cannot express, rather than sending a price that differs from the one billed.

pub mod ocpi;
pub mod tcec;
pub mod ykc;

use chargemesh_core::money::{Currency, Price};
use chargemesh_core::tariff::{ComponentKind, MonthDay, Tariff, TimeOfDay, Weekday};
use jiff::civil::Date;
use serde::Serialize;
use std::fmt;

/// What a wire format cannot express about a tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ProjectionError {
    /// The tariff field at fault, e.g. `elements[3].restrictions.min_energy`.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for ProjectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

pub(crate) fn refuse<T>(field: impl Into<String>, problem: impl Into<String>) -> Result<T, ProjectionError> {
    Err(ProjectionError { field: field.into(), problem: problem.into() })
}

/// A stretch of one local day at one pair of prices per kWh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stretch {
    pub start: u16,
    pub electricity: Price,
    pub service: Price,
    /// The label of the element pricing electricity, e.g. `peak`.
    pub label: Option<String>,
}

/// The day's electricity and service prices as stretches of the clock, for the Chinese formats,
/// which carry a per-kWh electricity price and service price by time of day and nothing else.
/// Seasons, dates and weekdays are evaluated for `date`: the charger or platform needs the
/// projection again when they change the day's prices.
pub(crate) fn day_profile(tariff: &Tariff, date: Date, format: &str) -> Result<Vec<Stretch>, ProjectionError> {
    if tariff.currency != Currency::CNY {
        return refuse("currency", format!("{format} carries prices in CNY only, not {}", tariff.currency.code()));
    }
    if !tariff.tax.included && tariff.tax.rate.ten_thousandths_percent() != 0 {
        return refuse("tax.included", format!("{format} prices include tax; this tariff's prices exclude it"));
    }
    for (field, price) in [("min_price", tariff.min_price), ("max_price", tariff.max_price)] {
        if price.is_some() {
            return refuse(field, format!("{format} has no minimum or maximum session price"));
        }
    }
    let (day, weekday) = (MonthDay::of(date), Weekday::of(date));
    let mut applicable = Vec::new();
    for (i, element) in tariff.elements.iter().enumerate() {
        for component in &element.components {
            if !matches!(component.kind, ComponentKind::Energy | ComponentKind::ServiceFee) {
                return refuse(
                    format!("elements[{i}].components"),
                    format!(
                        "{format} carries electricity and service prices per kWh only, not {}",
                        component.kind.as_str()
                    ),
                );
            }
        }
        let r = &element.restrictions;
        let conditions = [
            ("min_energy", r.min_energy.is_some()),
            ("max_energy", r.max_energy.is_some()),
            ("min_power_watts", r.min_power_watts.is_some()),
            ("max_power_watts", r.max_power_watts.is_some()),
            ("min_duration_seconds", r.min_duration_seconds.is_some()),
            ("max_duration_seconds", r.max_duration_seconds.is_some()),
        ];
        if let Some((name, _)) = conditions.iter().find(|(_, set)| *set) {
            return refuse(
                format!("elements[{i}].restrictions.{name}"),
                format!("{format} prices by time of day only"),
            );
        }
        if r.contains_day(day, weekday) && r.contains_date(date) {
            applicable.push(i);
        }
    }
    let mut bounds = vec![0u16];
    for &i in &applicable {
        let r = &tariff.elements[i].restrictions;
        bounds
            .extend([r.start_time, r.end_time].into_iter().flatten().map(|t| t.minutes() % TimeOfDay::MINUTES_PER_DAY));
    }
    bounds.sort_unstable();
    bounds.dedup();
    let price_at = |minute: u16, kind: ComponentKind| {
        applicable.iter().find_map(|&i| {
            let element = &tariff.elements[i];
            let component = element.components.iter().find(|c| c.kind == kind)?;
            element.restrictions.contains_minute(minute).then(|| (component.price, element.label.clone()))
        })
    };
    let priced_service =
        tariff.elements.iter().any(|e| e.components.iter().any(|c| c.kind == ComponentKind::ServiceFee));
    let mut stretches: Vec<Stretch> = Vec::new();
    for start in bounds {
        let Some((electricity, label)) = price_at(start, ComponentKind::Energy) else {
            return refuse(
                "elements",
                format!("no electricity price at {} on {date}", TimeOfDay::from_minutes(start).expect("within a day")),
            );
        };
        let service = match price_at(start, ComponentKind::ServiceFee) {
            Some((price, _)) => price,
            None if !priced_service => Price::ZERO,
            None => {
                return refuse(
                    "elements",
                    format!("no service price at {} on {date}", TimeOfDay::from_minutes(start).expect("within a day")),
                );
            }
        };
        match stretches.last() {
            Some(last) if last.electricity == electricity && last.service == service && last.label == label => {}
            _ => stretches.push(Stretch { start, electricity, service, label }),
        }
    }
    Ok(stretches)
}
