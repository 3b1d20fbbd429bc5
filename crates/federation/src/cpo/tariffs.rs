//! The tariffs module, CPO side: the tariffs that apply at this node's published connectors (each
//! connector names its tariff in `tariff_ids`), in their latest version, as OCPI tariffs, pushed to
//! the other members with the locations and pullable with pagination.
//!
//! chargemesh's model is OCPI's shape, with three differences bridged here: electricity and the
//! service fee (both per kWh) are one ENERGY component in OCPI, which bills only the first component
//! of a type (the split is in the alternative text); OCPI prices exclude VAT, where Chinese prices
//! include it; and a recurring season (summer, every year) has no OCPI restriction, so a seasonal
//! element is given for each occurrence from last year to next.

use crate::Federation;
use crate::paging::{self, ListQuery};
use crate::reply;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use chargemesh_core::money::Price;
use chargemesh_core::tariff::{ComponentKind, Restrictions, Season, Tariff, Tax, TimeOfDay, Weekday};
use chargemesh_operations::Outcome;
use chargemesh_protocol::ocpi::PartyRef;
use chargemesh_protocol::ocpi::commands::DisplayText;
use chargemesh_protocol::ocpi::locations::Location;
use chargemesh_protocol::ocpi::sessions::{Price as OcpiPrice, number};
use chargemesh_protocol::ocpi::tariffs::{
    DayOfWeek, PriceComponent, Tariff as OcpiTariff, TariffDimensionType, TariffElement, TariffRestrictions,
};
use chargemesh_store::locations::Which;
use jiff::Timestamp;
use jiff::civil::Date;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Where other platforms read this node's tariffs, after the version's URL.
pub(crate) const SENDER: &str = "cpo/tariffs";
/// Where a member takes pushed tariffs.
pub(crate) const RECEIVER: &str = "emsp/tariffs";

/// The latest version of every tariff a connector of `locations` names, as OCPI tariffs.
pub(crate) async fn published(federation: &Federation, locations: &[Location]) -> Outcome<Vec<OcpiTariff>> {
    latest(federation, named_by(locations)).await
}

/// The tariffs the connectors of `locations` name.
pub(crate) fn named_by(locations: &[Location]) -> BTreeSet<String> {
    locations
        .iter()
        .flat_map(|l| &l.evses)
        .flat_map(|e| &e.connectors)
        .flat_map(|c| c.tariff_ids.iter().cloned())
        .collect()
}

/// The latest version of each of the tariffs `ids` that exists, as OCPI tariffs.
pub(crate) async fn latest(federation: &Federation, ids: BTreeSet<String>) -> Outcome<Vec<OcpiTariff>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let stored = federation.operations.latest_published_tariffs(ids).await?;
    let party = federation.party();
    Ok(stored.iter().map(|s| ocpi_tariff(&s.tariff, &party, s.created_at, Timestamp::now())).collect())
}

/// `GET /cpo/tariffs`, paginated.
pub async fn list(
    State(federation): State<Arc<Federation>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let found = match super::locations::locations(&federation, Which::All).await {
        Ok(locations) => published(&federation, &locations).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(tariffs) => paging::page(&federation, SENDER, tariffs, |t| t.last_updated, query),
        Err(error) => {
            tracing::error!(%error, "cannot read the published tariffs");
            reply::server_error("the tariffs cannot be read now; try again")
        }
    }
}

/// `tariff` as OCPI gives it; `last_updated` is when this version was stored; seasons unfold
/// around `now`.
pub fn ocpi_tariff(tariff: &Tariff, party: &PartyRef, last_updated: Timestamp, now: Timestamp) -> OcpiTariff {
    let this_year = now.to_zoned(jiff::tz::TimeZone::UTC).year();
    let elements = tariff
        .elements
        .iter()
        .flat_map(|element| {
            let components = components(&element.components, tariff.tax);
            restrictions(&element.restrictions, this_year)
                .into_iter()
                .map(move |restrictions| TariffElement { price_components: components.clone(), restrictions })
        })
        .collect();
    let price = |p: Price| OcpiPrice {
        excl_vat: decimal(excl_vat(p, tariff.tax)),
        incl_vat: Some(decimal(incl_vat(p, tariff.tax))),
    };
    OcpiTariff {
        country_code: party.country_code.clone(),
        party_id: party.party_id.clone(),
        id: tariff.id.clone(),
        currency: tariff.currency.code().to_owned(),
        tariff_alt_text: vec![DisplayText { language: "en".into(), text: explanation(tariff) }],
        min_price: tariff.min_price.map(price),
        max_price: tariff.max_price.map(price),
        elements,
        start_date_time: Some(tariff.valid_from),
        last_updated,
    }
}

/// The element's prices as OCPI components: electricity and service fee summed into ENERGY.
fn components(components: &[chargemesh_core::tariff::PriceComponent], tax: Tax) -> Vec<PriceComponent> {
    let sum = |kinds: &[ComponentKind]| {
        let prices: Vec<i64> =
            components.iter().filter(|c| kinds.contains(&c.kind)).map(|c| c.price.micros()).collect();
        (!prices.is_empty()).then(|| Price::from_micros(prices.iter().sum()))
    };
    let dimensions = [
        (TariffDimensionType::Energy, &[ComponentKind::Energy, ComponentKind::ServiceFee][..]),
        (TariffDimensionType::Time, &[ComponentKind::ChargingTime]),
        (TariffDimensionType::ParkingTime, &[ComponentKind::IdleTime]),
        (TariffDimensionType::Flat, &[ComponentKind::Flat]),
    ];
    dimensions
        .into_iter()
        .filter_map(|(kind, kinds)| {
            let price = sum(kinds)?;
            Some(PriceComponent {
                kind,
                price: decimal(excl_vat(price, tax)),
                vat: Some(number(&tax.rate.to_string())),
                step_size: 1,
            })
        })
        .collect()
}

/// The OCPI restrictions of an element: one set, or one per occurrence of its season.
fn restrictions(r: &Restrictions, this_year: i16) -> Vec<Option<TariffRestrictions>> {
    if r.is_empty() {
        return vec![None];
    }
    let kwh = |e: chargemesh_core::Energy| decimal(e.mwh());
    let kw = |watts: i64| decimal(watts * 1_000);
    let base = TariffRestrictions {
        start_time: r.start_time.map(time_of_day),
        end_time: r.end_time.map(time_of_day),
        start_date: r.start_date.map(|d| d.to_string()),
        end_date: r.end_date.map(|d| d.to_string()),
        min_kwh: r.min_energy.map(kwh),
        max_kwh: r.max_energy.map(kwh),
        min_power: r.min_power_watts.map(kw),
        max_power: r.max_power_watts.map(kw),
        min_duration: r.min_duration_seconds,
        max_duration: r.max_duration_seconds,
        day_of_week: r.weekdays.iter().map(|d| day_of_week(*d)).collect(),
    };
    let Some(season) = r.season else { return vec![Some(base)] };
    (this_year - 1..=this_year + 1)
        .filter_map(|year| {
            let (from, until) = occurrence(season, year)?;
            let start = r.start_date.map_or(from, |d| d.max(from));
            let end = r.end_date.map_or(until, |d| d.min(until));
            (start < end).then(|| {
                Some(TariffRestrictions {
                    start_date: Some(start.to_string()),
                    end_date: Some(end.to_string()),
                    ..base.clone()
                })
            })
        })
        .collect()
}

/// The season's days starting in `year`: its first day and the first day after it.
fn occurrence(season: Season, year: i16) -> Option<(Date, Date)> {
    let from = Date::new(year, season.from.month() as i8, season.from.day() as i8).ok()?;
    let to_year =
        if (season.to.month(), season.to.day()) < (season.from.month(), season.from.day()) { year + 1 } else { year };
    let to = Date::new(to_year, season.to.month() as i8, season.to.day() as i8).ok()?;
    Some((from, to.tomorrow().ok()?))
}

/// `HH:MM` from 00:00 to 23:59: the end of the day (24:00) is midnight, 00:00, which OCPI reads as
/// the end of a window that started earlier in the day.
fn time_of_day(time: TimeOfDay) -> String {
    let minutes = time.minutes() % TimeOfDay::MINUTES_PER_DAY;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

pub(crate) fn day_of_week(day: Weekday) -> DayOfWeek {
    match day {
        Weekday::Monday => DayOfWeek::Monday,
        Weekday::Tuesday => DayOfWeek::Tuesday,
        Weekday::Wednesday => DayOfWeek::Wednesday,
        Weekday::Thursday => DayOfWeek::Thursday,
        Weekday::Friday => DayOfWeek::Friday,
        Weekday::Saturday => DayOfWeek::Saturday,
        Weekday::Sunday => DayOfWeek::Sunday,
    }
}

/// The tariff in words: what each element charges, electricity and service fee apart.
fn explanation(tariff: &Tariff) -> String {
    let included = if tariff.tax.included { "include" } else { "exclude" };
    let mut lines = vec![format!("Prices in {} {included} {}% VAT.", tariff.currency.code(), tariff.tax.rate)];
    for element in &tariff.elements {
        let r = &element.restrictions;
        let when = match (r.start_time, r.end_time) {
            (Some(start), Some(end)) => format!("{start}-{end}"),
            (Some(start), None) => format!("from {start}"),
            (None, Some(end)) => format!("until {end}"),
            (None, None) => "all day".to_owned(),
        };
        let label = element.label.as_deref().map_or_else(String::new, |l| format!("{l} "));
        let parts: Vec<String> = element
            .components
            .iter()
            .map(|c| {
                let unit = match c.kind {
                    ComponentKind::Energy | ComponentKind::ServiceFee => "per kWh",
                    ComponentKind::ChargingTime | ComponentKind::IdleTime => "per hour",
                    ComponentKind::Flat => "per session",
                };
                format!("{} {} {unit}", c.kind.as_str().replace('_', " "), c.price)
            })
            .collect();
        lines.push(format!("{label}({when}): {}.", parts.join(", ")));
    }
    lines.join(" ")
}

/// `micros` millionths as an OCPI number.
fn decimal(micros: i64) -> serde_json::Number {
    number(&Price::from_micros(micros).to_string())
}

/// The price without VAT, in millionths, rounded half up.
fn excl_vat(price: Price, tax: Tax) -> i64 {
    if !tax.included {
        return price.micros();
    }
    let rate = i128::from(tax.rate.ten_thousandths_percent());
    let scaled = i128::from(price.micros()) * 1_000_000;
    let divisor = 1_000_000 + rate;
    ((scaled + divisor / 2) / divisor) as i64
}

/// The price with VAT, in millionths, rounded half up.
fn incl_vat(price: Price, tax: Tax) -> i64 {
    if tax.included {
        return price.micros();
    }
    let rate = i128::from(tax.rate.ten_thousandths_percent());
    ((i128::from(price.micros()) * (1_000_000 + rate) + 500_000) / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargemesh_core::money::{Currency, TaxRate};
    use chargemesh_core::tariff::{MonthDay, PriceComponent as Component, TariffElement as Element};

    fn price(text: &str) -> Price {
        Price::parse(text).unwrap()
    }

    #[test]
    fn a_time_of_use_tariff_becomes_ocpi_energy_prices_without_vat_with_its_seasons_unfolded() {
        let component = |kind, text| Component { kind, price: price(text) };
        let summer = Restrictions {
            start_time: TimeOfDay::parse("10:00"),
            end_time: TimeOfDay::parse("12:00"),
            season: Some(Season { from: MonthDay::new(7, 1).unwrap(), to: MonthDay::new(9, 30).unwrap() }),
            ..Restrictions::default()
        };
        let tariff = Tariff {
            id: "gd".into(),
            version: 1,
            owner: "op".into(),
            currency: Currency::CNY,
            tax: Tax { rate: TaxRate::parse_percent("13").unwrap(), included: true },
            valid_from: "2026-01-01T00:00:00Z".parse().unwrap(),
            min_price: None,
            max_price: Some(price("200")),
            elements: vec![
                Element {
                    label: Some("sharp".into()),
                    components: vec![
                        component(ComponentKind::Energy, "1.13"),
                        component(ComponentKind::ServiceFee, "0.565"),
                    ],
                    restrictions: summer,
                },
                Element {
                    label: None,
                    components: vec![
                        component(ComponentKind::Energy, "0.565"),
                        component(ComponentKind::IdleTime, "2.26"),
                    ],
                    restrictions: Restrictions::default(),
                },
            ],
        };
        let party = PartyRef { country_code: "CN".into(), party_id: "M02".into() };
        let now: Timestamp = "2026-11-30T00:00:00Z".parse().unwrap();
        let ocpi = ocpi_tariff(&tariff, &party, now, now);
        let json = serde_json::to_value(&ocpi).unwrap();
        // 1.695 incl. 13% VAT is 1.5 without; the season of 2025, 2026 and 2027.
        assert_eq!(json["elements"].as_array().unwrap().len(), 4, "{json}");
        assert_eq!(json["elements"][0]["price_components"][0]["price"], 1.5);
        assert_eq!(json["elements"][0]["price_components"][0]["type"], "ENERGY");
        assert_eq!(json["elements"][0]["price_components"][0]["vat"], 13);
        let first = &json["elements"][0]["restrictions"];
        assert_eq!(
            (first["start_date"].as_str(), first["end_date"].as_str()),
            (Some("2025-07-01"), Some("2025-10-01"))
        );
        assert_eq!(first["start_time"], "10:00");
        assert_eq!(time_of_day(TimeOfDay::parse("24:00").unwrap()), "00:00", "OCPI has no 24:00");
        assert_eq!(json["elements"][3]["price_components"][1]["type"], "PARKING_TIME");
        assert_eq!(json["elements"][3]["price_components"][1]["price"], 2);
        assert!(json["elements"][3].get("restrictions").is_none());
        assert_eq!(json["max_price"]["incl_vat"], 200);
        let text = json["tariff_alt_text"][0]["text"].as_str().unwrap();
        assert!(text.contains("energy 1.13 per kWh, service fee 0.565 per kWh"), "{text}");
    }

    #[test]
    fn a_season_across_new_year_ends_in_the_next_year() {
        let winter = Season { from: MonthDay::new(12, 1).unwrap(), to: MonthDay::new(2, 28).unwrap() };
        let (from, until) = occurrence(winter, 2026).unwrap();
        assert_eq!((from.to_string(), until.to_string()), ("2026-12-01".into(), "2027-03-01".into()));
    }
}
