//! The OCPI 2.2.1 Tariff object. OCPI prices exclude VAT and have no service fee: the electricity
//! and service prices are sent as one `ENERGY` price, which requires the same elements to price both.

use super::{ProjectionError, refuse};
use chargemesh_core::money::{Price, TaxRate};
use chargemesh_core::tariff::{ComponentKind, Restrictions, Tariff, TimeOfDay};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// OCPI's `CiString(36)` for ids.
const MAX_ID_LENGTH: usize = 36;

/// The tariff as an OCPI 2.2.1 `Tariff` of the CPO `country_code`/`party_id`.
pub fn tariff(
    tariff: &Tariff,
    country_code: &str,
    party_id: &str,
    last_updated: Timestamp,
) -> Result<Value, ProjectionError> {
    if tariff.id.len() > MAX_ID_LENGTH {
        return refuse("id", format!("OCPI tariff ids have at most {MAX_ID_LENGTH} characters"));
    }
    let service_priced =
        tariff.elements.iter().any(|e| e.components.iter().any(|c| c.kind == ComponentKind::ServiceFee));
    let mut elements = Vec::with_capacity(tariff.elements.len());
    for (i, element) in tariff.elements.iter().enumerate() {
        let price_of = |kind| element.components.iter().find(|c| c.kind == kind).map(|c| c.price);
        let (electricity, service) = (price_of(ComponentKind::Energy), price_of(ComponentKind::ServiceFee));
        let energy = match (electricity, service) {
            (Some(e), Some(s)) => Some(Price::from_micros(e.micros() + s.micros())),
            (Some(e), None) if !service_priced => Some(e),
            (None, None) => None,
            _ => {
                return refuse(
                    format!("elements[{i}].components"),
                    "OCPI has one ENERGY price per element: an element must price both electricity and the service fee, or neither",
                );
            }
        };
        let mut components = Vec::new();
        let vat = decimal_number(&tariff.tax.rate.to_string());
        let mut component = |kind: &str, price: Price, field: String| -> Result<(), ProjectionError> {
            let excl = excluding_tax(price, tariff, &field)?;
            components
                .push(json!({"type": kind, "price": decimal_number(&excl.to_string()), "vat": vat, "step_size": 1}));
            Ok(())
        };
        if let Some(price) = energy {
            component("ENERGY", price, format!("elements[{i}].components"))?;
        }
        for (kind, name) in [
            (ComponentKind::ChargingTime, "TIME"),
            (ComponentKind::IdleTime, "PARKING_TIME"),
            (ComponentKind::Flat, "FLAT"),
        ] {
            if let Some(price) = price_of(kind) {
                component(name, price, format!("elements[{i}].components"))?;
            }
        }
        let mut object = Map::new();
        object.insert("price_components".into(), Value::Array(components));
        if !element.restrictions.is_empty() {
            object.insert("restrictions".into(), restrictions(&element.restrictions, i)?);
        }
        elements.push(Value::Object(object));
    }
    let mut object = Map::new();
    object.insert("country_code".into(), json!(country_code));
    object.insert("party_id".into(), json!(party_id));
    object.insert("id".into(), json!(tariff.id));
    object.insert("currency".into(), json!(tariff.currency.code()));
    for (name, price) in [("min_price", tariff.min_price), ("max_price", tariff.max_price)] {
        if let Some(price) = price {
            let excl = excluding_tax(price, tariff, name)?;
            let incl = if tariff.tax.included { price } else { including_tax(price, tariff.tax.rate, name)? };
            object.insert(
                name.into(),
                json!({"excl_vat": decimal_number(&excl.to_string()), "incl_vat": decimal_number(&incl.to_string())}),
            );
        }
    }
    object.insert("elements".into(), Value::Array(elements));
    object.insert("start_date_time".into(), json!(tariff.valid_from.to_string()));
    object.insert("last_updated".into(), json!(last_updated.to_string()));
    Ok(Value::Object(object))
}

fn restrictions(r: &Restrictions, i: usize) -> Result<Value, ProjectionError> {
    let at = |name: &str| format!("elements[{i}].restrictions.{name}");
    if r.season.is_some() {
        return refuse(
            at("season"),
            "OCPI 2.2.1 restrictions have no season that recurs every year; publish one tariff per season",
        );
    }
    let mut object = Map::new();
    let time = |t: TimeOfDay| {
        TimeOfDay::from_minutes(t.minutes() % TimeOfDay::MINUTES_PER_DAY).expect("within a day").to_string()
    };
    if let Some(t) = r.start_time {
        object.insert("start_time".into(), json!(time(t)));
    }
    if let Some(t) = r.end_time {
        object.insert("end_time".into(), json!(time(t)));
    }
    if let Some(d) = r.start_date {
        object.insert("start_date".into(), json!(d.to_string()));
    }
    if let Some(d) = r.end_date {
        object.insert("end_date".into(), json!(d.to_string()));
    }
    let kwh = |e: chargemesh_core::Energy| decimal_number(&format!("{}", e).replace(" kWh", ""));
    if let Some(e) = r.min_energy {
        object.insert("min_kwh".into(), kwh(e).into());
    }
    if let Some(e) = r.max_energy {
        object.insert("max_kwh".into(), kwh(e).into());
    }
    let kw = |w: i64| decimal_number(&format!("{}.{:03}", w / 1000, w % 1000));
    if let Some(w) = r.min_power_watts {
        object.insert("min_power".into(), kw(w).into());
    }
    if let Some(w) = r.max_power_watts {
        object.insert("max_power".into(), kw(w).into());
    }
    if let Some(s) = r.min_duration_seconds {
        object.insert("min_duration".into(), json!(s));
    }
    if let Some(s) = r.max_duration_seconds {
        object.insert("max_duration".into(), json!(s));
    }
    if !r.weekdays.is_empty() {
        object.insert("day_of_week".into(), json!(r.weekdays.iter().map(|d| d.ocpi_name()).collect::<Vec<_>>()));
    }
    Ok(Value::Object(object))
}

/// The price without tax, which OCPI carries; refused when that has no exact six-decimal form.
fn excluding_tax(price: Price, tariff: &Tariff, field: &str) -> Result<Price, ProjectionError> {
    let rate = i128::from(tariff.tax.rate.ten_thousandths_percent());
    if !tariff.tax.included || rate == 0 {
        return Ok(price);
    }
    let scaled = i128::from(price.micros()) * 1_000_000;
    let divisor = 1_000_000 + rate;
    if scaled % divisor != 0 {
        return refuse(
            field,
            format!(
                "{price} including {} % tax has no exact price excluding tax, which OCPI carries; publish prices excluding tax or ones that divide exactly",
                tariff.tax.rate
            ),
        );
    }
    Ok(Price::from_micros((scaled / divisor) as i64))
}

fn including_tax(price: Price, rate: TaxRate, field: &str) -> Result<Price, ProjectionError> {
    let scaled = i128::from(price.micros()) * (1_000_000 + i128::from(rate.ten_thousandths_percent()));
    if scaled % 1_000_000 != 0 {
        return refuse(field, format!("{price} plus {rate} % tax has more than six decimals"));
    }
    Ok(Price::from_micros((scaled / 1_000_000) as i64))
}

/// A JSON number with exactly the digits of `decimal`: the shortest form of the nearest double,
/// which is that text for anything up to 15 significant digits.
pub(crate) fn decimal_number(decimal: &str) -> serde_json::Number {
    let value: f64 = decimal.parse().expect("a decimal written by chargemesh");
    serde_json::Number::from_f64(value).expect("finite")
}
