//! T/CEC 102 (the China Electricity Council's platform interconnection protocol): a charger's
//! business policy as `PolicyInfos`, one entry per period with its start `HHmmss`, electricity price
//! and service price (spelled `SevicePrice` in the standard), to four decimals.

use super::{ProjectionError, day_profile, refuse};
use chargemesh_core::money::Price;
use chargemesh_core::tariff::Tariff;
use jiff::civil::Date;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BusinessPolicy {
    pub sum_period: usize,
    pub policy_infos: Vec<PolicyInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyInfo {
    #[serde(rename = "StartTime")]
    pub start_time: String,
    #[serde(rename = "ElecPrice")]
    pub elec_price: serde_json::Number,
    #[serde(rename = "SevicePrice")]
    pub service_price: serde_json::Number,
}

/// The policy in force on `date`.
pub fn business_policy(tariff: &Tariff, date: Date) -> Result<BusinessPolicy, ProjectionError> {
    let stretches = day_profile(tariff, date, "T/CEC 102")?;
    let mut infos = Vec::with_capacity(stretches.len());
    for stretch in stretches {
        infos.push(PolicyInfo {
            start_time: format!("{:02}{:02}00", stretch.start / 60, stretch.start % 60),
            elec_price: four_decimals(stretch.electricity, "electricity")?,
            service_price: four_decimals(stretch.service, "service")?,
        });
    }
    Ok(BusinessPolicy { sum_period: infos.len(), policy_infos: infos })
}

fn four_decimals(price: Price, what: &str) -> Result<serde_json::Number, ProjectionError> {
    if price.scaled_exactly(4).is_none() {
        return refuse(
            "elements",
            format!("the {what} price {price} has more than four decimals, T/CEC 102's precision"),
        );
    }
    Ok(super::ocpi::decimal_number(&price.to_string()))
}
