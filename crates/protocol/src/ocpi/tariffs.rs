//! The tariffs module's objects (OCPI 2.2.1, section 11): a tariff as elements of price components,
//! each element applying under its restrictions. Prices exclude VAT; `vat` is the percentage on top.

use super::commands::DisplayText;
use super::date_time;
use super::sessions::Price;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tariff {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tariff_alt_text: Vec<DisplayText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<Price>,
    pub elements: Vec<TariffElement>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::sessions::optional_date_time")]
    pub start_date_time: Option<Timestamp>,
    #[serde(with = "date_time")]
    pub last_updated: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TariffElement {
    pub price_components: Vec<PriceComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<TariffRestrictions>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceComponent {
    #[serde(rename = "type")]
    pub kind: TariffDimensionType,
    /// Per kWh (ENERGY), per hour (TIME, PARKING_TIME) or per session (FLAT), excluding VAT.
    pub price: serde_json::Number,
    /// Percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat: Option<serde_json::Number>,
    /// The smallest unit billed: Wh for ENERGY, seconds for TIME and PARKING_TIME, 1 for FLAT.
    pub step_size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TariffDimensionType {
    Energy,
    Flat,
    ParkingTime,
    Time,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TariffRestrictions {
    /// Local time, `HH:MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Local date, `YYYY-MM-DD`; `end_date` is the first day it no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kwh: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_kwh: Option<serde_json::Number>,
    /// kW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_power: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_power: Option<serde_json::Number>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub day_of_week: Vec<DayOfWeek>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}
