//! The sessions and CDRs modules (CPO → eMSP): a charge while it runs, and its charge detail record
//! once it is priced. Between chargemesh members the CDR also carries, byte for byte, the priced
//! CDR whose hash the ledger anchors (`chargemesh_cdr`), so the driver's member can check the price
//! and prove the charge to its driver.

use super::date_time;
use super::locations::{ConnectorFormat, ConnectorStandard, GeoLocation, PowerType};
use super::tokens::TokenType;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    #[serde(with = "date_time")]
    pub start_date_time: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_date_time")]
    pub end_date_time: Option<Timestamp>,
    pub kwh: serde_json::Number,
    pub cdr_token: CdrToken,
    pub auth_method: AuthMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
    pub location_id: String,
    pub evse_uid: String,
    pub connector_id: String,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<Price>,
    pub status: SessionStatus,
    /// What was charged when: energy per period, and the average power of the latest one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charging_periods: Vec<ChargingPeriod>,
    #[serde(with = "date_time")]
    pub last_updated: Timestamp,
}

/// A period of a session or CDR, from `start_date_time` until the next period starts (or the end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingPeriod {
    #[serde(with = "date_time")]
    pub start_date_time: Timestamp,
    pub dimensions: Vec<CdrDimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdrDimension {
    #[serde(rename = "type")]
    pub kind: CdrDimensionType,
    pub volume: serde_json::Number,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CdrDimensionType {
    Current,
    Energy,
    EnergyExport,
    EnergyImport,
    MaxCurrent,
    MinCurrent,
    MaxPower,
    MinPower,
    ParkingTime,
    /// Average power in the period, kW.
    Power,
    ReservationTime,
    StateOfCharge,
    /// Charging time, hours.
    Time,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdrToken {
    pub country_code: String,
    pub party_id: String,
    pub uid: String,
    #[serde(rename = "type")]
    pub kind: TokenType,
    pub contract_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthMethod {
    AuthRequest,
    Command,
    Whitelist,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionStatus {
    Active,
    Completed,
    Invalid,
    Pending,
    Reservation,
}

/// An amount in the session's currency, major units, without and with VAT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub excl_vat: serde_json::Number,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incl_vat: Option<serde_json::Number>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cdr {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    #[serde(with = "date_time")]
    pub start_date_time: Timestamp,
    #[serde(with = "date_time")]
    pub end_date_time: Timestamp,
    pub session_id: String,
    pub cdr_token: CdrToken,
    pub auth_method: AuthMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
    pub cdr_location: CdrLocation,
    pub currency: String,
    pub total_cost: Price,
    pub total_energy: serde_json::Number,
    /// Hours.
    pub total_time: serde_json::Number,
    #[serde(default)]
    pub charging_periods: Vec<ChargingPeriod>,
    /// The priced CDR as the CPO saved and anchored it (its hash is the ledger's `cdr_hash`).
    pub chargemesh_cdr: String,
    #[serde(with = "date_time")]
    pub last_updated: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdrLocation {
    pub id: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub coordinates: GeoLocation,
    pub evse_uid: String,
    pub evse_id: String,
    pub connector_id: String,
    pub connector_standard: ConnectorStandard,
    pub connector_format: ConnectorFormat,
    pub connector_power_type: PowerType,
}

pub(super) mod optional_date_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<Timestamp>, serializer: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::date_time::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| super::date_time::parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A decimal written by chargemesh (`12.34`) as an OCPI number.
pub fn number(decimal: &str) -> serde_json::Number {
    serde_json::from_str(decimal).expect("a decimal written by chargemesh")
}
