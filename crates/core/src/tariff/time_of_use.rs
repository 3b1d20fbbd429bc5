//! The Chinese time-of-use shape as data: four periods — sharp, peak, flat, valley (尖峰平谷) — each
//! with an electricity price and a service price, and the local times each period covers, per season.

use super::{
    ComponentKind, PriceComponent, Restrictions, Season, Tariff, TariffElement, TariffError, TariffErrors, Tax,
    TimeOfDay, Weekday,
};
use crate::money::{Currency, Price};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TouPeriod {
    Sharp,
    Peak,
    Flat,
    Valley,
}

impl TouPeriod {
    /// In the order YKC chargers hold them.
    pub const ALL: [TouPeriod; 4] = [TouPeriod::Sharp, TouPeriod::Peak, TouPeriod::Flat, TouPeriod::Valley];

    pub fn as_str(self) -> &'static str {
        match self {
            TouPeriod::Sharp => "sharp",
            TouPeriod::Peak => "peak",
            TouPeriod::Flat => "flat",
            TouPeriod::Valley => "valley",
        }
    }

    pub fn named(name: &str) -> Option<TouPeriod> {
        TouPeriod::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// What a kWh costs in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouPrices {
    pub electricity: Price,
    pub service: Price,
}

/// A stretch of the day in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouSlot {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
    pub period: TouPeriod,
}

/// How one season's days (or, without a season, the rest of the year) divide into periods. The
/// slots cover the day from 00:00 to 24:00 exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouSchedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<Season>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<Weekday>,
    pub slots: Vec<TouSlot>,
}

/// A time-of-use tariff in the provincial shape. Schedules are tried in order: put seasonal ones
/// before the one for the rest of the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouPreset {
    pub id: String,
    pub version: u32,
    pub owner: String,
    pub currency: Currency,
    pub tax: Tax,
    pub valid_from: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharp: Option<TouPrices>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<TouPrices>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat: Option<TouPrices>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valley: Option<TouPrices>,
    pub schedules: Vec<TouSchedule>,
    /// Per hour a vehicle stays connected without charging (占位费).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_fee_per_hour: Option<Price>,
}

impl TouPreset {
    pub fn prices(&self, period: TouPeriod) -> Option<TouPrices> {
        match period {
            TouPeriod::Sharp => self.sharp,
            TouPeriod::Peak => self.peak,
            TouPeriod::Flat => self.flat,
            TouPeriod::Valley => self.valley,
        }
    }

    /// The tariff this preset describes: one element per slot, labelled with its period.
    pub fn build(&self) -> Result<Tariff, TariffErrors> {
        let mut errors = Vec::new();
        if self.schedules.is_empty() {
            errors.push(TariffError {
                field: "schedules".into(),
                code: "no_schedule",
                problem: "at least one schedule is needed".into(),
            });
        }
        let mut elements = Vec::new();
        // Where each element comes from, so that its problems are named by the preset's fields.
        let mut origins = Vec::new();
        for (i, schedule) in self.schedules.iter().enumerate() {
            errors.extend(slot_errors(i, &schedule.slots));
            for (j, slot) in schedule.slots.iter().enumerate() {
                let Some(prices) = self.prices(slot.period) else {
                    errors.push(TariffError {
                        field: format!("schedules[{i}].slots[{j}].period"),
                        code: "period_unpriced",
                        problem: format!("no prices are given for the {} period", slot.period.as_str()),
                    });
                    continue;
                };
                let whole_day = slot.start == TimeOfDay::MIDNIGHT && slot.end.minutes() == TimeOfDay::MINUTES_PER_DAY;
                origins.push(Origin::Slot { schedule: i, slot: j, period: slot.period });
                elements.push(TariffElement {
                    label: Some(slot.period.as_str().into()),
                    components: vec![
                        PriceComponent { kind: ComponentKind::Energy, price: prices.electricity },
                        PriceComponent { kind: ComponentKind::ServiceFee, price: prices.service },
                    ],
                    restrictions: Restrictions {
                        start_time: (!whole_day).then_some(slot.start),
                        end_time: (!whole_day).then_some(slot.end),
                        season: schedule.season,
                        weekdays: schedule.weekdays.clone(),
                        ..Restrictions::default()
                    },
                });
            }
        }
        if let Some(price) = self.idle_fee_per_hour {
            origins.push(Origin::IdleFee);
            elements.push(TariffElement {
                label: Some("idle".into()),
                components: vec![PriceComponent { kind: ComponentKind::IdleTime, price }],
                restrictions: Restrictions::default(),
            });
        }
        if !errors.is_empty() {
            return Err(TariffErrors(errors));
        }
        let tariff = Tariff {
            id: self.id.clone(),
            version: self.version,
            owner: self.owner.clone(),
            currency: self.currency,
            tax: self.tax,
            valid_from: self.valid_from,
            min_price: None,
            max_price: None,
            elements,
        };
        tariff.validate().map_err(|errors| {
            let mut named: Vec<TariffError> = Vec::new();
            for error in errors.0 {
                let error = TariffError { field: preset_field(&error.field, &origins), ..error };
                if !named.contains(&error) {
                    named.push(error);
                }
            }
            TariffErrors(named)
        })?;
        Ok(tariff)
    }
}

/// What a tariff element built from a preset stands for.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Slot { schedule: usize, slot: usize, period: TouPeriod },
    IdleFee,
}

/// The preset's own field for a problem found in the tariff built from it: `elements[3].components[0].price`
/// of a flat slot is `flat.electricity`, `elements[3].restrictions.end_time` is that slot, a gap in
/// the day is in the schedules.
fn preset_field(field: &str, origins: &[Origin]) -> String {
    let Some(rest) = field.strip_prefix("elements") else { return field.to_owned() };
    let Some((index, rest)) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) else {
        return "schedules".to_owned();
    };
    let Some(origin) = index.parse::<usize>().ok().and_then(|i| origins.get(i)) else { return field.to_owned() };
    match *origin {
        Origin::IdleFee => "idle_fee_per_hour".to_owned(),
        Origin::Slot { period, .. } if rest.starts_with(".components[0]") => format!("{}.electricity", period.as_str()),
        Origin::Slot { period, .. } if rest.starts_with(".components[1]") => format!("{}.service", period.as_str()),
        Origin::Slot { schedule, slot, .. } => format!("schedules[{schedule}].slots[{slot}]"),
    }
}

/// Slots must run from 00:00 to 24:00, each starting where the previous one ended.
fn slot_errors(schedule: usize, slots: &[TouSlot]) -> Vec<TariffError> {
    let mut errors = Vec::new();
    let mut expected = TimeOfDay::MIDNIGHT;
    for (j, slot) in slots.iter().enumerate() {
        let field = format!("schedules[{schedule}].slots[{j}]");
        if slot.end <= slot.start {
            errors.push(TariffError {
                field: format!("{field}.end"),
                code: "not_after_start",
                problem: format!("{} is not after start {}", slot.end, slot.start),
            });
        }
        if slot.start < expected {
            errors.push(TariffError {
                field: format!("{field}.start"),
                code: "overlap",
                problem: format!("{} overlaps the previous slot, which ends at {expected}", slot.start),
            });
        } else if slot.start > expected {
            errors.push(TariffError {
                field: format!("{field}.start"),
                code: "slot_gap",
                problem: format!("{} leaves {expected}–{} without a period", slot.start, slot.start),
            });
        }
        expected = expected.max(slot.end);
    }
    if expected.minutes() != TimeOfDay::MINUTES_PER_DAY {
        errors.push(TariffError {
            field: format!("schedules[{schedule}].slots"),
            code: "not_ending_at_24",
            problem: format!("the slots end at {expected}; the last must end at 24:00"),
        });
    }
    errors
}
