//! Tariffs: what a charge costs, as data. A tariff is a list of elements in the style of OCPI 2.2.1,
//! each with price components and the restrictions under which they apply; for each kind of
//! component, the first element whose restrictions match wins. Chinese bills split the per-kWh price
//! into an electricity fee and a service fee, so the service fee is a component kind of its own.
//!
//! Restrictions on time of day, weekday, dates and seasons are evaluated in the site's time zone.

mod calendar;
mod time_of_use;
mod validation;

pub use calendar::{MonthDay, Season, TimeOfDay, Weekday};
pub use time_of_use::{TouPeriod, TouPreset, TouPrices, TouSchedule, TouSlot};
pub use validation::{TariffError, TariffErrors};

use crate::energy::Energy;
use crate::money::{Currency, Price, TaxRate};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// One version of a tariff. Versions are never edited: a change is a new version with its own
/// `valid_from`, and a session is priced by the version in force when it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    pub id: String,
    pub version: u32,
    /// Who publishes the tariff (an operator).
    pub owner: String,
    pub currency: Currency,
    pub tax: Tax,
    pub valid_from: Timestamp,
    /// The least a session costs, in the tariff's tax basis (see [`Tax::included`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<Price>,
    /// The most a session costs, in the tariff's tax basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<Price>,
    pub elements: Vec<TariffElement>,
}

/// The tax on every line of a tariff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tax {
    /// The rate in percent, e.g. `"13"` for China's VAT on electricity.
    pub rate: TaxRate,
    /// Whether the tariff's prices include the tax (as Chinese prices do) or exclude it (as OCPI's do).
    pub included: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffElement {
    /// A name shown on receipts, e.g. `"peak"` or `"峰"`; the time-of-use projections read the four
    /// period names `sharp`, `peak`, `flat` and `valley` from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub components: Vec<PriceComponent>,
    #[serde(default, skip_serializing_if = "Restrictions::is_empty")]
    pub restrictions: Restrictions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceComponent {
    pub kind: ComponentKind,
    /// Per kWh for energy and the service fee, per hour for charging and idle time, per session for flat.
    pub price: Price,
}

/// What a price is charged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// Electricity, per kWh (电费).
    Energy,
    /// The operator's service fee, per kWh (服务费).
    ServiceFee,
    /// Per hour while the vehicle is charging.
    ChargingTime,
    /// Per hour while the vehicle occupies the charger without charging (占位费, OCPI `PARKING_TIME`).
    IdleTime,
    /// Once per session.
    Flat,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 5] = [
        ComponentKind::Energy,
        ComponentKind::ServiceFee,
        ComponentKind::ChargingTime,
        ComponentKind::IdleTime,
        ComponentKind::Flat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Energy => "energy",
            ComponentKind::ServiceFee => "service_fee",
            ComponentKind::ChargingTime => "charging_time",
            ComponentKind::IdleTime => "idle_time",
            ComponentKind::Flat => "flat",
        }
    }
}

/// When an element applies. Every restriction given must hold; none given means always. Lower
/// bounds are inclusive and upper bounds exclusive, as in OCPI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restrictions {
    /// Local time of day from which the element applies; with `end_time` before it, the window
    /// wraps past midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<TimeOfDay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<TimeOfDay>,
    /// First local date on which the element applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Date>,
    /// First local date on which it no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Date>,
    /// Days of every year (e.g. summer, July to September), both ends included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<Season>,
    /// Local weekdays; empty means every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<Weekday>,
    /// Energy delivered in the session so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_energy: Option<Energy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_energy: Option<Energy>,
    /// Average charging power over a metering interval, in watts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_power_watts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_power_watts: Option<i64>,
    /// Time since the session started, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_seconds: Option<i64>,
}

impl Restrictions {
    pub fn is_empty(&self) -> bool {
        *self == Restrictions::default()
    }

    /// Restricted by something other than the calendar and the clock: the session's energy, power or
    /// duration, or absolute dates.
    pub(crate) fn is_conditional(&self) -> bool {
        self.start_date.is_some()
            || self.end_date.is_some()
            || self.min_energy.is_some()
            || self.max_energy.is_some()
            || self.min_power_watts.is_some()
            || self.max_power_watts.is_some()
            || self.min_duration_seconds.is_some()
            || self.max_duration_seconds.is_some()
    }

    /// Whether the local time-of-day window contains `minute` (minutes since local midnight).
    pub fn contains_minute(&self, minute: u16) -> bool {
        match (self.start_time, self.end_time) {
            (None, None) => true,
            (Some(start), None) => minute >= start.minutes(),
            (None, Some(end)) => minute < end.minutes(),
            (Some(start), Some(end)) if start.minutes() < end.minutes() => {
                start.minutes() <= minute && minute < end.minutes()
            }
            (Some(start), Some(end)) => minute >= start.minutes() || minute < end.minutes(),
        }
    }

    /// Whether the calendar restrictions (season, weekday) hold on a day.
    pub fn contains_day(&self, day: MonthDay, weekday: Weekday) -> bool {
        self.season.is_none_or(|season| season.contains(day))
            && (self.weekdays.is_empty() || self.weekdays.contains(&weekday))
    }

    pub fn contains_date(&self, date: Date) -> bool {
        self.start_date.is_none_or(|start| date >= start) && self.end_date.is_none_or(|end| date < end)
    }
}

impl Tariff {
    /// The instants, other than local midnight, at which restrictions on the time of day change.
    pub(crate) fn minute_boundaries(&self) -> Vec<u16> {
        let mut minutes: Vec<u16> = self
            .elements
            .iter()
            .flat_map(|e| [e.restrictions.start_time, e.restrictions.end_time])
            .flatten()
            .map(|t| t.minutes() % TimeOfDay::MINUTES_PER_DAY)
            .filter(|&m| m != 0)
            .collect();
        minutes.sort_unstable();
        minutes.dedup();
        minutes
    }

    /// The session energies at which energy restrictions change.
    pub(crate) fn energy_boundaries(&self) -> Vec<Energy> {
        let mut energies: Vec<Energy> = self
            .elements
            .iter()
            .flat_map(|e| [e.restrictions.min_energy, e.restrictions.max_energy])
            .flatten()
            .filter(|e| *e > Energy::ZERO)
            .collect();
        energies.sort_unstable();
        energies.dedup();
        energies
    }

    /// The session durations, in seconds, at which duration restrictions change.
    pub(crate) fn duration_boundaries(&self) -> Vec<i64> {
        let mut seconds: Vec<i64> = self
            .elements
            .iter()
            .flat_map(|e| [e.restrictions.min_duration_seconds, e.restrictions.max_duration_seconds])
            .flatten()
            .filter(|s| *s > 0)
            .collect();
        seconds.sort_unstable();
        seconds.dedup();
        seconds
    }
}
