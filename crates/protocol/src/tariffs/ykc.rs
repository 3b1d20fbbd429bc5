//! The YKC billing model (计费模型): four pairs of electricity and service prices per kWh in the fixed
//! order sharp, peak, flat, valley, scaled by 10⁵, a loss ratio, and 48 half-hour slots each naming
//! one of the four.

use super::{ProjectionError, Stretch, day_profile, refuse};
use chargemesh_core::money::Price;
use chargemesh_core::tariff::{Tariff, TouPeriod};
use jiff::civil::Date;
use serde::Serialize;

/// Prices are held in units of 10⁻⁵ yuan.
const PRICE_DECIMALS: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingModel {
    /// The model number the charger reports back with its transaction records.
    pub model_number: u16,
    /// `(electricity, service)` per kWh in 10⁻⁵ yuan, for sharp, peak, flat and valley; a period no
    /// slot names is sent as zeros.
    pub prices: [(u32, u32); 4],
    /// 计损比例, in percent.
    pub loss_ratio_percent: u8,
    /// For each half hour from 00:00, the period by its index in `prices` (0 sharp … 3 valley).
    /// Always 48 entries.
    pub slots: Vec<u8>,
}

/// The billing model for `date`. Refused when the day's prices change off the half-hour grid, take
/// more than four pairs of prices, or depend on anything but the time of day.
pub fn billing_model(
    tariff: &Tariff,
    date: Date,
    model_number: u16,
    loss_ratio_percent: u8,
) -> Result<BillingModel, ProjectionError> {
    let stretches = day_profile(tariff, date, "the YKC billing model")?;
    if let Some(off_grid) = stretches.iter().find(|s| s.start % 30 != 0) {
        return refuse(
            "elements",
            format!(
                "prices change at {:02}:{:02}, off the half-hour grid of YKC's 48 slots",
                off_grid.start / 60,
                off_grid.start % 60
            ),
        );
    }
    let mut pairs: Vec<(Price, Price)> = Vec::new();
    for stretch in &stretches {
        if !pairs.contains(&(stretch.electricity, stretch.service)) {
            pairs.push((stretch.electricity, stretch.service));
        }
    }
    if pairs.len() > 4 {
        return refuse(
            "elements",
            format!("{} different pairs of prices on {date}; YKC holds four (sharp, peak, flat, valley)", pairs.len()),
        );
    }
    let periods = assign_periods(&stretches, &pairs);
    let mut prices = [(0u32, 0u32); 4];
    for (pair, period) in pairs.iter().zip(&periods) {
        prices[*period as usize] = (scaled(pair.0, "electricity")?, scaled(pair.1, "service")?);
    }
    let mut slots = vec![0u8; 48];
    for (half_hour, slot) in slots.iter_mut().enumerate() {
        let minute = half_hour as u16 * 30;
        let stretch = stretches.iter().rev().find(|s| s.start <= minute).expect("the first stretch starts at 00:00");
        let pair = pairs
            .iter()
            .position(|p| *p == (stretch.electricity, stretch.service))
            .expect("every stretch's pair was collected");
        *slot = periods[pair] as u8;
    }
    if loss_ratio_percent > 100 {
        return refuse("loss_ratio_percent", format!("{loss_ratio_percent} % is not a ratio from 0 to 100 %"));
    }
    Ok(BillingModel { model_number, prices, loss_ratio_percent, slots })
}

/// Which of the four periods each pair of prices is sent as: by the elements' labels when they name
/// four distinct periods consistently, otherwise by price, dearest first.
fn assign_periods(stretches: &[Stretch], pairs: &[(Price, Price)]) -> Vec<TouPeriod> {
    let labelled: Vec<Option<TouPeriod>> = pairs
        .iter()
        .map(|pair| {
            let mut labels = stretches
                .iter()
                .filter(|s| (s.electricity, s.service) == *pair)
                .map(|s| s.label.as_deref().and_then(TouPeriod::named));
            let first = labels.next().flatten()?;
            labels.all(|l| l == Some(first)).then_some(first)
        })
        .collect();
    let distinct = labelled.iter().flatten().collect::<std::collections::BTreeSet<_>>().len();
    if labelled.iter().all(Option::is_some) && distinct == pairs.len() {
        return labelled.into_iter().flatten().collect();
    }
    let mut by_price: Vec<usize> = (0..pairs.len()).collect();
    by_price.sort_by_key(|&i| std::cmp::Reverse(pairs[i].0.micros() + pairs[i].1.micros()));
    let order: &[TouPeriod] = match pairs.len() {
        4 => &TouPeriod::ALL,
        3 => &[TouPeriod::Peak, TouPeriod::Flat, TouPeriod::Valley],
        2 => &[TouPeriod::Peak, TouPeriod::Valley],
        _ => &[TouPeriod::Flat],
    };
    let mut periods = vec![TouPeriod::Flat; pairs.len()];
    for (rank, &i) in by_price.iter().enumerate() {
        periods[i] = order[rank];
    }
    periods
}

fn scaled(price: Price, what: &str) -> Result<u32, ProjectionError> {
    let Some(scaled) = price.scaled_exactly(PRICE_DECIMALS) else {
        return refuse("elements", format!("the {what} price {price} has more than five decimals, YKC's precision"));
    };
    u32::try_from(scaled)
        .or_else(|_| refuse("elements", format!("the {what} price {price} is beyond YKC's four-byte field")))
}
