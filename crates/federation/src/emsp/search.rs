//! Chargers of the whole consortium for a driver: this node's own locations and the ones other
//! members pushed, one entry per EVSE, filtered (near a point, available now, power, connector
//! type, price, operator) and ordered by distance, each with what a kWh costs there now under the
//! tariff its connector names, tax included.

use crate::Federation;
use chargemesh_operations::Outcome;
use chargemesh_protocol::ocpi::locations::{ConnectorStandard, EvseStatus, Location};
use chargemesh_protocol::ocpi::tariffs::{Tariff, TariffDimensionType};
use chargemesh_store::locations::Which;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// What a driver looks for; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// (latitude, longitude): results are ordered by distance from it.
    pub near: Option<(f64, f64)>,
    pub radius_km: Option<f64>,
    pub available_now: bool,
    pub min_power_kw: Option<u32>,
    pub connector: Option<ConnectorStandard>,
    /// The most a kWh may cost now, tax included, in millionths of the currency unit.
    pub max_price_micros: Option<i64>,
    /// The member operating the charger (party id).
    pub operator: Option<String>,
    /// The code printed on the charger: its EVSE id (`CN*M01*E123`) or uid, however a driver types
    /// it (case, spaces, `*` and `-` do not matter).
    pub code: Option<String>,
    pub limit: usize,
}

/// A charger's code as compared: letters and digits only, upper case.
fn code_key(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Found {
    /// The member operating the charger (party id).
    pub operator: String,
    pub location_id: String,
    pub name: Option<String>,
    pub address: String,
    pub city: String,
    pub latitude: String,
    pub longitude: String,
    /// From the point searched near, in metres.
    pub distance_m: Option<u64>,
    pub evse_uid: String,
    pub evse_id: Option<String>,
    /// OCPI status: `AVAILABLE`, `CHARGING`, `UNKNOWN` (offline), …
    pub status: String,
    pub max_power_kw: u32,
    /// OCPI connector standards, e.g. `GBT_DC`.
    pub connectors: Vec<String>,
    pub tariff_id: Option<String>,
    /// What a kWh costs now (energy and service fee, tax included), e.g. `1.3560 CNY`.
    pub price_per_kwh_now: Option<String>,
    /// The tariff in words, as its operator explains it.
    pub tariff_explained: Option<String>,
}

/// One charger of the consortium for a driver: the search's entry, its location (OCPI, with every
/// connector) and the tariff its connector names (OCPI, each element with its restrictions).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChargerDetail {
    #[serde(flatten)]
    pub found: Found,
    #[schema(value_type = Object)]
    pub location: Location,
    #[schema(value_type = Option<Object>)]
    pub tariff: Option<Tariff>,
}

/// Every location of the consortium (with its operator) and every tariff (by operator and id).
type Catalog = (Vec<(String, Location)>, HashMap<(String, String), Tariff>);

impl Federation {
    /// The consortium's chargers that meet `criteria`, nearest first.
    pub async fn search(&self, criteria: &Criteria) -> Outcome<Vec<Found>> {
        let (locations, tariffs) = self.catalog().await?;
        Ok(select(&locations, &tariffs, criteria, Timestamp::now()))
    }

    /// The charger (EVSE) `evse_uid` of member `operator`, if it publishes one.
    pub async fn charger(&self, operator: &str, evse_uid: &str) -> Outcome<Option<ChargerDetail>> {
        let (locations, tariffs) = self.catalog().await?;
        let Some((_, location)) =
            locations.into_iter().find(|(o, l)| o == operator && l.evses.iter().any(|e| e.uid == evse_uid))
        else {
            return Ok(None);
        };
        let only = Criteria { operator: Some(operator.to_owned()), limit: usize::MAX, ..Criteria::default() };
        let entries = vec![(operator.to_owned(), location)];
        let found = select(&entries, &tariffs, &only, Timestamp::now()).into_iter().find(|f| f.evse_uid == evse_uid);
        let location = entries.into_iter().next().map(|(_, l)| l);
        Ok(found.zip(location).map(|(found, location)| {
            let tariff =
                found.tariff_id.as_ref().and_then(|id| tariffs.get(&(operator.to_owned(), id.clone()))).cloned();
            ChargerDetail { found, location, tariff }
        }))
    }

    async fn catalog(&self) -> Outcome<Catalog> {
        let own = crate::cpo::locations::locations(self, Which::All).await?;
        let own_tariffs = crate::cpo::tariffs::published(self, &own).await?;
        let me = self.member();
        let (pushed_locations, pushed_tariffs) = self.operations.pushed_locations_and_tariffs().await?;
        let mut tariffs: HashMap<(String, String), Tariff> =
            own_tariffs.into_iter().map(|t| ((me.clone(), t.id.clone()), t)).collect();
        for kept in pushed_tariffs {
            if let Ok(tariff) = serde_json::from_str::<Tariff>(&kept.body) {
                tariffs.insert((kept.cpo, tariff.id.clone()), tariff);
            }
        }
        let mut locations: Vec<(String, Location)> = own.into_iter().map(|l| (me.clone(), l)).collect();
        locations.extend(
            pushed_locations
                .into_iter()
                .filter_map(|kept| Some((kept.cpo, serde_json::from_str::<Location>(&kept.body).ok()?))),
        );
        Ok((locations, tariffs))
    }
}

/// The EVSEs of `locations` (each with its operator) meeting `criteria` at `now`, nearest first.
pub fn select(
    locations: &[(String, Location)],
    tariffs: &HashMap<(String, String), Tariff>,
    criteria: &Criteria,
    now: Timestamp,
) -> Vec<Found> {
    let mut found = Vec::new();
    for (operator, location) in locations {
        if criteria.operator.as_ref().is_some_and(|wanted| wanted != operator) {
            continue;
        }
        let point = (location.coordinates.latitude.parse::<f64>(), location.coordinates.longitude.parse::<f64>());
        let distance = match (criteria.near, point) {
            (Some(near), (Ok(lat), Ok(lon))) => Some(distance_m(near, (lat, lon))),
            _ => None,
        };
        if let (Some(radius), Some(distance)) = (criteria.radius_km, distance)
            && distance as f64 > radius * 1_000.0
        {
            continue;
        }
        for evse in &location.evses {
            let power_kw = evse.connectors.iter().filter_map(|c| c.max_electric_power).max().unwrap_or(0) / 1_000;
            let tariff_id = evse.connectors.iter().find_map(|c| c.tariff_ids.first().cloned());
            let tariff = tariff_id.as_ref().and_then(|id| tariffs.get(&(operator.clone(), id.clone())));
            let price = tariff.and_then(|t| price_per_kwh(t, &location.time_zone, now));
            let meets = (!criteria.available_now || evse.status == EvseStatus::Available)
                && criteria.min_power_kw.is_none_or(|min| power_kw >= min)
                && criteria.connector.is_none_or(|wanted| evse.connectors.iter().any(|c| c.standard == wanted))
                && criteria.max_price_micros.is_none_or(|max| price.as_ref().is_some_and(|(micros, _)| *micros <= max))
                && criteria.code.as_deref().map(code_key).is_none_or(|wanted| {
                    code_key(&evse.uid) == wanted || evse.evse_id.as_deref().is_some_and(|id| code_key(id) == wanted)
                });
            if !meets {
                continue;
            }
            let connectors = evse
                .connectors
                .iter()
                .filter_map(|c| serde_json::to_value(c.standard).ok()?.as_str().map(str::to_owned))
                .collect();
            found.push(Found {
                operator: operator.clone(),
                location_id: location.id.clone(),
                name: location.name.clone(),
                address: location.address.clone(),
                city: location.city.clone(),
                latitude: location.coordinates.latitude.clone(),
                longitude: location.coordinates.longitude.clone(),
                distance_m: distance,
                evse_uid: evse.uid.clone(),
                evse_id: evse.evse_id.clone(),
                status: serde_json::to_value(evse.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                max_power_kw: power_kw,
                connectors,
                tariff_id,
                price_per_kwh_now: price.map(|(micros, currency)| format!("{} {currency}", decimal4(micros))),
                tariff_explained: tariff.and_then(|t| t.tariff_alt_text.first().map(|text| text.text.clone())),
            });
        }
    }
    found.sort_by_key(|f| (f.distance_m.unwrap_or(u64::MAX), f.operator.clone(), f.evse_uid.clone()));
    found.truncate(criteria.limit.max(1));
    found
}

/// Great-circle distance in metres (the coordinates' datum offset does not matter at this scale).
fn distance_m((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> u64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    (2.0 * 6_371_000.0 * a.sqrt().asin()).round() as u64
}

/// What a kWh costs at `now` under `tariff` in the location's time zone, tax included, in
/// millionths: the ENERGY price of the first element whose time, day and date restrictions hold
/// (elements restricted by the session's energy, power or duration are skipped: they depend on the
/// charge).
fn price_per_kwh(tariff: &Tariff, time_zone: &str, now: Timestamp) -> Option<(i64, String)> {
    let zone = jiff::tz::TimeZone::get(time_zone).ok()?;
    let local = now.to_zoned(zone);
    let hhmm = format!("{:02}:{:02}", local.hour(), local.minute());
    let date = local.date().to_string();
    let weekday = crate::cpo::tariffs::day_of_week(chargemesh_core::tariff::Weekday::of(local.date()));
    let applies = |element: &chargemesh_protocol::ocpi::tariffs::TariffElement| {
        let Some(r) = &element.restrictions else { return true };
        let conditional = r.min_kwh.is_some()
            || r.max_kwh.is_some()
            || r.min_power.is_some()
            || r.max_power.is_some()
            || r.min_duration.is_some()
            || r.max_duration.is_some();
        let in_time = match (&r.start_time, &r.end_time) {
            (Some(start), Some(end)) if start < end => start <= &hhmm && &hhmm < end,
            (Some(start), Some(end)) => &hhmm >= start || &hhmm < end,
            (Some(start), None) => &hhmm >= start,
            (None, Some(end)) => &hhmm < end,
            (None, None) => true,
        };
        let in_dates =
            r.start_date.as_ref().is_none_or(|d| &date >= d) && r.end_date.as_ref().is_none_or(|d| &date < d);
        !conditional && in_time && in_dates && (r.day_of_week.is_empty() || r.day_of_week.contains(&weekday))
    };
    let component = tariff
        .elements
        .iter()
        .filter(|e| applies(e))
        .find_map(|e| e.price_components.iter().find(|c| c.kind == TariffDimensionType::Energy))?;
    let excl = micros(&component.price)?;
    let vat = component.vat.as_ref().and_then(micros).unwrap_or(0);
    // excl × (100 + vat%) / 100, both in millionths, rounded half up.
    let incl = (i128::from(excl) * (100_000_000 + i128::from(vat)) + 50_000_000) / 100_000_000;
    Some((incl as i64, tariff.currency.clone()))
}

/// A JSON number as millionths, exactly (from its decimal text).
fn micros(number: &serde_json::Number) -> Option<i64> {
    chargemesh_core::money::Price::parse(&number.to_string()).ok().map(|price| price.micros())
}

/// Millionths with four decimals, e.g. `1_356_000` → `1.3560`.
fn decimal4(micros: i64) -> String {
    let rounded = (micros + 50) / 100;
    format!("{}.{:04}", rounded / 10_000, rounded % 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tariff() -> Tariff {
        serde_json::from_value(json!({
            "country_code": "CN", "party_id": "M02", "id": "tou", "currency": "CNY",
            "elements": [
                {"price_components": [{"type": "ENERGY", "price": 1.5, "vat": 13, "step_size": 1}],
                 "restrictions": {"start_time": "10:00", "end_time": "12:00"}},
                {"price_components": [{"type": "ENERGY", "price": 2, "vat": 13, "step_size": 1}],
                 "restrictions": {"min_kwh": 50}},
                {"price_components": [{"type": "ENERGY", "price": 0.5, "vat": 13, "step_size": 1}]}
            ],
            "last_updated": "2026-11-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn location(id: &str, lat: &str, status: &str) -> Location {
        serde_json::from_value(json!({
            "country_code": "CN", "party_id": "M02", "id": id, "publish": true, "address": "", "city": "Shenzhen",
            "country": "CHN", "coordinates": {"latitude": lat, "longitude": "114.100000"}, "time_zone": "Asia/Shanghai",
            "evses": [{"uid": format!("EV-{id}"), "status": status, "connectors": [{"id": "1", "standard": "GBT_DC",
                "format": "CABLE", "power_type": "DC", "max_voltage": 750, "max_amperage": 80, "max_electric_power": 60000,
                "tariff_ids": ["tou"], "last_updated": "2026-11-01T00:00:00Z"}], "last_updated": "2026-11-01T00:00:00Z"}],
            "last_updated": "2026-11-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn the_price_now_is_the_first_element_in_force_at_the_sites_local_time_tax_included() {
        // 03:30 UTC is 11:30 in Shanghai: the 10:00–12:00 element, 1.5 + 13 % = 1.695.
        let at = |utc: &str| utc.parse::<Timestamp>().unwrap();
        assert_eq!(
            price_per_kwh(&tariff(), "Asia/Shanghai", at("2026-11-30T03:30:00Z")),
            Some((1_695_000, "CNY".into()))
        );
        // 13:00 there: the energy-restricted element is skipped, the unrestricted one applies.
        assert_eq!(
            price_per_kwh(&tariff(), "Asia/Shanghai", at("2026-11-30T05:00:00Z")),
            Some((565_000, "CNY".into()))
        );
        assert_eq!(decimal4(565_000), "0.5650");
    }

    #[test]
    fn chargers_are_filtered_and_the_nearest_come_first() {
        let tariffs = HashMap::from([(("CN-M02".to_owned(), "tou".to_owned()), tariff())]);
        let locations = vec![
            ("CN-M02".to_owned(), location("far", "22.600000", "AVAILABLE")),
            ("CN-M02".to_owned(), location("near", "22.550000", "AVAILABLE")),
            ("CN-M02".to_owned(), location("busy", "22.551000", "CHARGING")),
        ];
        let now: Timestamp = "2026-11-30T05:00:00Z".parse().unwrap();
        let near = Criteria { near: Some((22.55, 114.1)), limit: 10, ..Criteria::default() };
        let all = select(&locations, &tariffs, &near, now);
        let order: Vec<&str> = all.iter().map(|f| f.location_id.as_str()).collect();
        assert_eq!(order, ["near", "busy", "far"]);
        assert_eq!((all[0].distance_m, all[0].price_per_kwh_now.as_deref()), (Some(0), Some("0.5650 CNY")));
        let available = Criteria { available_now: true, radius_km: Some(3.0), ..near.clone() };
        assert_eq!(
            select(&locations, &tariffs, &available, now).len(),
            1,
            "the busy one and the one 5.6 km away are out"
        );
        let cheap = Criteria { max_price_micros: Some(500_000), ..near.clone() };
        assert!(select(&locations, &tariffs, &cheap, now).is_empty());
        let strong = Criteria { min_power_kw: Some(120), ..near.clone() };
        assert!(select(&locations, &tariffs, &strong, now).is_empty());
        let other = Criteria { operator: Some("CN-M03".into()), ..near.clone() };
        assert!(select(&locations, &tariffs, &other, now).is_empty());
        // The code on the charger, typed loosely.
        let typed = Criteria { code: Some(" ev busy ".into()), ..near };
        let by_code: Vec<String> = select(&locations, &tariffs, &typed, now).into_iter().map(|f| f.evse_uid).collect();
        assert_eq!(by_code, ["EV-busy"]);
    }
}
