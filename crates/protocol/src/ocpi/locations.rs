//! The locations module (CPO → eMSP): sites as `Location`s, each charger an `EVSE` with its
//! connectors, with live status.

use super::date_time;
use chargemesh_core::charger::ConnectorStatus;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    pub publish: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
    pub city: String,
    /// ISO 3166-1 alpha-3 (`CHN`).
    pub country: String,
    pub coordinates: GeoLocation,
    #[serde(default)]
    pub evses: Vec<Evse>,
    pub time_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<BusinessDetails>,
    #[serde(with = "date_time")]
    pub last_updated: Timestamp,
}

/// WGS-84 or, in China, GCJ-02 degrees as OCPI writes them: decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoLocation {
    pub latitude: String,
    pub longitude: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessDetails {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evse {
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<String>,
    pub status: EvseStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    pub connectors: Vec<Connector>,
    #[serde(with = "date_time")]
    pub last_updated: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EvseStatus {
    Available,
    Blocked,
    Charging,
    Inoperative,
    Outoforder,
    Planned,
    Removed,
    Reserved,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub id: String,
    pub standard: ConnectorStandard,
    pub format: ConnectorFormat,
    pub power_type: PowerType,
    pub max_voltage: u32,
    pub max_amperage: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_electric_power: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tariff_ids: Vec<String>,
    #[serde(with = "date_time")]
    pub last_updated: Timestamp,
}

/// The connector standards chargemesh's chargers have (OCPI's `ConnectorType` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectorStandard {
    /// GB/T 20234.2 (AC).
    #[serde(rename = "GBT_AC")]
    GbtAc,
    /// GB/T 20234.3 (DC).
    #[serde(rename = "GBT_DC")]
    GbtDc,
    #[serde(rename = "IEC_62196_T1")]
    Type1,
    #[serde(rename = "IEC_62196_T1_COMBO")]
    Ccs1,
    #[serde(rename = "IEC_62196_T2")]
    Type2,
    #[serde(rename = "IEC_62196_T2_COMBO")]
    Ccs2,
    #[serde(rename = "CHADEMO")]
    Chademo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectorFormat {
    Socket,
    Cable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PowerType {
    #[serde(rename = "AC_1_PHASE")]
    Ac1Phase,
    #[serde(rename = "AC_3_PHASE")]
    Ac3Phase,
    #[serde(rename = "DC")]
    Dc,
}

impl ConnectorStandard {
    /// The standard of a connector as the ledger's charger identity names it (`gbt_dc`, ...).
    pub fn of_ledger_name(name: &str) -> Option<ConnectorStandard> {
        Some(match name {
            "gbt_ac" => ConnectorStandard::GbtAc,
            "gbt_dc" => ConnectorStandard::GbtDc,
            "type1" => ConnectorStandard::Type1,
            "ccs1" => ConnectorStandard::Ccs1,
            "type2" => ConnectorStandard::Type2,
            "ccs2" => ConnectorStandard::Ccs2,
            "chademo" => ConnectorStandard::Chademo,
            _ => return None,
        })
    }

    pub fn power_type(self) -> PowerType {
        match self {
            ConnectorStandard::Type1 => PowerType::Ac1Phase,
            ConnectorStandard::GbtAc | ConnectorStandard::Type2 => PowerType::Ac3Phase,
            ConnectorStandard::GbtDc
            | ConnectorStandard::Ccs1
            | ConnectorStandard::Ccs2
            | ConnectorStandard::Chademo => PowerType::Dc,
        }
    }

    /// DC connectors come on a cable; AC ones are sockets.
    pub fn format(self) -> ConnectorFormat {
        match self.power_type() {
            PowerType::Dc => ConnectorFormat::Cable,
            _ => ConnectorFormat::Socket,
        }
    }

    /// The nominal voltage of the standard: 750 V DC (GB/T 20234.3), 400 V three-phase AC, 230 V
    /// single-phase.
    pub fn nominal_voltage(self) -> u32 {
        match self.power_type() {
            PowerType::Dc => 750,
            PowerType::Ac3Phase => 400,
            PowerType::Ac1Phase => 230,
        }
    }
}

impl EvseStatus {
    /// The EVSE status of a connector's last reported status; `Unknown` while the charger is not
    /// connected (its last report may be stale).
    pub fn of_connector(status: ConnectorStatus, connected: bool) -> EvseStatus {
        if !connected {
            return EvseStatus::Unknown;
        }
        match status {
            ConnectorStatus::Available => EvseStatus::Available,
            ConnectorStatus::Preparing
            | ConnectorStatus::Charging
            | ConnectorStatus::SuspendedEvse
            | ConnectorStatus::SuspendedEv
            | ConnectorStatus::Finishing => EvseStatus::Charging,
            ConnectorStatus::Reserved => EvseStatus::Reserved,
            ConnectorStatus::Unavailable => EvseStatus::Inoperative,
            ConnectorStatus::Faulted => EvseStatus::Outoforder,
        }
    }
}
