//! US utility time-of-use tariffs as published with the `acnportal` package (BSD licence): a list of
//! schedules, each for a season (`effective_start`/`effective_end`, month-day, wrapping past New Year)
//! and weekdays (`dow_mask`), with prices per kWh from each of its `times` (hours, `8.5` is 08:30).
//! Demand charges (per kW of monthly peak) are not a price of a charging session and are left out.

use chargemesh_core::money::{Currency, Price, TaxRate};
use chargemesh_core::tariff::{
    ComponentKind, MonthDay, PriceComponent, Restrictions, Season, Tariff, TariffElement, Tax, TimeOfDay, Weekday,
};
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct AcnTariff {
    name: String,
    effective: String,
    schedule: Vec<AcnSchedule>,
}

#[derive(Debug, Deserialize)]
struct AcnSchedule {
    id: String,
    effective_start: String,
    effective_end: String,
    dow_mask: String,
    times: Vec<serde_json::Number>,
    tariffs: Vec<serde_json::Number>,
}

/// The tariff, one element per (schedule, time band), in the file's order. It is not validated: a
/// published file may contain schedules that can never apply, which validation reports.
pub fn read(json: &str, owner: &str) -> Result<Tariff, String> {
    let acn: AcnTariff = serde_json::from_str(json).map_err(|e| format!("not an acnportal tariff: {e}"))?;
    let mut elements = Vec::new();
    for schedule in &acn.schedule {
        let at = |what: &str| format!("schedule {:?}: {what}", schedule.id);
        let day = |text: &str| MonthDay::parse(text).ok_or_else(|| at(&format!("{text:?} is not a month-day")));
        let season = Season { from: day(&schedule.effective_start)?, to: day(&schedule.effective_end)? };
        let weekdays = match schedule.dow_mask.as_str() {
            "ALL" => Vec::new(),
            "WEEKDAYS" => Weekday::WORKDAYS.to_vec(),
            "WEEKENDS" => Weekday::WEEKEND.to_vec(),
            other => return Err(at(&format!("unknown dow_mask {other:?}"))),
        };
        if schedule.times.len() != schedule.tariffs.len() || schedule.times.is_empty() {
            return Err(at("times and tariffs differ in length"));
        }
        let starts = schedule
            .times
            .iter()
            .map(|t| minutes(t).ok_or_else(|| at(&format!("{t} is not a time in whole minutes"))))
            .collect::<Result<Vec<u16>, String>>()?;
        for (i, (start, price)) in starts.iter().zip(&schedule.tariffs).enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(TimeOfDay::MINUTES_PER_DAY);
            let price = Price::parse(&price.to_string()).map_err(|e| at(&e.to_string()))?;
            let whole_day = *start == 0 && end == TimeOfDay::MINUTES_PER_DAY;
            elements.push(TariffElement {
                label: Some(schedule.id.clone()),
                components: vec![PriceComponent { kind: ComponentKind::Energy, price }],
                restrictions: Restrictions {
                    start_time: if whole_day { None } else { TimeOfDay::from_minutes(*start) },
                    end_time: if whole_day { None } else { TimeOfDay::from_minutes(end) },
                    season: Some(season),
                    weekdays: weekdays.clone(),
                    ..Restrictions::default()
                },
            });
        }
    }
    let valid_from =
        effective_date(&acn.effective).ok_or_else(|| format!("effective date {:?} is not a date", acn.effective))?;
    Ok(Tariff {
        id: acn.name.to_lowercase().replace([' ', '&'], "-"),
        version: 1,
        owner: owner.into(),
        currency: Currency::from_code("USD").expect("a known currency"),
        tax: Tax { rate: TaxRate::ZERO, included: false },
        valid_from,
        min_price: None,
        max_price: None,
        elements,
    })
}

/// Hours such as `8.5` in minutes, when whole.
fn minutes(hours: &serde_json::Number) -> Option<u16> {
    let minutes = Price::parse(&hours.to_string()).ok()?.micros().checked_mul(60)?;
    (minutes % 1_000_000 == 0)
        .then(|| u16::try_from(minutes / 1_000_000).ok())
        .flatten()
        .filter(|m| *m < TimeOfDay::MINUTES_PER_DAY)
}

/// `2019-3-1` (unpadded) as the start of that day in Pacific time, where these utilities bill.
fn effective_date(text: &str) -> Option<Timestamp> {
    let mut parts = text.split('-');
    let date =
        jiff::civil::Date::new(parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?)
            .ok()?;
    date.to_zoned(jiff::tz::TimeZone::get("America/Los_Angeles").ok()?).ok().map(|z| z.timestamp())
}
