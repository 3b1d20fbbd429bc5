//! Money, exactly: unit prices as integer millionths of a currency unit, amounts as integer minor
//! units (fen, cents), tax rates as integer ten-thousandths of a percent. No floating point anywhere.

use crate::decimal::{Decimal, format_scaled};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An ISO 4217 currency chargemesh knows the minor unit of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    minor_digits: u32,
}

/// Currencies of the markets chargemesh serves, with their ISO 4217 minor units.
const CURRENCIES: &[(&str, u32)] = &[
    ("AUD", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("MOP", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TWD", 2),
    ("USD", 2),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency {0:?}: use an ISO 4217 code such as \"CNY\", \"EUR\" or \"USD\"")]
    UnknownCurrency(String),
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    #[error("{0:?} has more than {1} decimal places")]
    TooPrecise(String, u32),
    #[error("{0:?} is out of range")]
    OutOfRange(String),
}

impl Currency {
    pub const CNY: Currency = Currency { code: "CNY", minor_digits: 2 };

    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == code)
            .map(|&(code, minor_digits)| Currency { code, minor_digits })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.into()))
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    /// Decimal places of the minor unit: 2 for CNY (fen), 0 for JPY.
    pub fn minor_digits(self) -> u32 {
        self.minor_digits
    }

    /// Minor units per major unit.
    pub fn minor_per_major(self) -> i128 {
        10i128.pow(self.minor_digits)
    }

    /// An amount in this currency as decimal text, e.g. `12.30`.
    pub fn format(self, amount: Amount) -> String {
        let digits = self.minor_digits as usize;
        let abs = amount.0.unsigned_abs();
        let sign = if amount.0 < 0 { "-" } else { "" };
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10u64.pow(self.minor_digits);
        format!("{sign}{}.{:0digits$}", abs / unit, abs % unit)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount of money in a currency's minor unit (fen for CNY, cents for USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(pub i64);

impl std::ops::Add for Amount {
    type Output = Amount;
    fn add(self, rhs: Amount) -> Amount {
        Amount(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Amount {
    type Output = Amount;
    fn sub(self, rhs: Amount) -> Amount {
        Amount(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        Amount(iter.map(|a| a.0).sum())
    }
}

/// Decimal places a unit price may have: YKC chargers hold 5, OCPI tariffs commonly 4.
pub const PRICE_DECIMALS: u32 = 6;

/// A unit price (per kWh, per hour or per session) in millionths of a currency unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(i64);

impl Price {
    pub const ZERO: Price = Price(0);

    pub const fn from_micros(micros: i64) -> Price {
        Price(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Reads a decimal price such as `"0.14903"` exactly; more than six decimal places is an error,
    /// not a rounding.
    pub fn parse(text: &str) -> Result<Price, MoneyError> {
        let decimal = Decimal::parse(text.trim()).ok_or_else(|| MoneyError::NotANumber(text.into()))?;
        let micros =
            decimal.scale_exact(1_000_000).ok_or_else(|| MoneyError::TooPrecise(text.into(), PRICE_DECIMALS))?;
        i64::try_from(micros).map(Price).map_err(|_| MoneyError::OutOfRange(text.into()))
    }

    /// The price in units of 10^-`decimals` of the currency unit, when that is exact (YKC: 5).
    pub fn scaled_exactly(self, decimals: u32) -> Option<i64> {
        if decimals >= PRICE_DECIMALS {
            return self.0.checked_mul(10i64.checked_pow(decimals - PRICE_DECIMALS)?);
        }
        let divisor = 10i64.pow(PRICE_DECIMALS - decimals);
        (self.0 % divisor == 0).then_some(self.0 / divisor)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(i128::from(self.0), PRICE_DECIMALS))
    }
}

/// Prices travel as decimal strings; a JSON number is accepted through its shortest decimal form.
impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = DecimalText::deserialize(deserializer)?.0;
        Price::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A tax rate in ten-thousandths of a percent: 13 % is 130,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TaxRate(i64);

impl TaxRate {
    pub const ZERO: TaxRate = TaxRate(0);

    /// Reads a percentage such as `"13"` or `"6.5"` (at most four decimal places).
    pub fn parse_percent(text: &str) -> Result<TaxRate, MoneyError> {
        let decimal = Decimal::parse(text.trim()).ok_or_else(|| MoneyError::NotANumber(text.into()))?;
        let scaled = decimal.scale_exact(10_000).ok_or_else(|| MoneyError::TooPrecise(text.into(), 4))?;
        i64::try_from(scaled).map(TaxRate).map_err(|_| MoneyError::OutOfRange(text.into()))
    }

    /// The rate in ten-thousandths of a percent.
    pub const fn ten_thousandths_percent(self) -> i64 {
        self.0
    }
}

impl fmt::Display for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(i128::from(self.0), 4))
    }
}

impl Serialize for TaxRate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaxRate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = DecimalText::deserialize(deserializer)?.0;
        TaxRate::parse_percent(&text).map_err(serde::de::Error::custom)
    }
}

/// A decimal given as a string or as a JSON number (read back through its shortest decimal form,
/// which is the text that was written for any price with fewer than 16 significant digits).
struct DecimalText(String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DecimalText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal number, as a string such as \"1.25\" or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(v.into()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DecimalText, E> {
                if !v.is_finite() {
                    return Err(E::custom("not a finite number"));
                }
                Ok(DecimalText(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_exact_or_refused() {
        assert_eq!(Price::parse("0.14903"), Ok(Price::from_micros(149_030)));
        assert_eq!(Price::parse("1.2"), Ok(Price::from_micros(1_200_000)));
        assert!(matches!(Price::parse("0.1234567"), Err(MoneyError::TooPrecise(..))));
        assert!(matches!(Price::parse("abc"), Err(MoneyError::NotANumber(_))));
        assert_eq!(Price::from_micros(149_030).to_string(), "0.14903");
        assert_eq!(Price::from_micros(149_030).scaled_exactly(5), Some(14_903));
        assert_eq!(Price::from_micros(149_031).scaled_exactly(5), None);
    }

    #[test]
    fn prices_read_from_strings_and_numbers() {
        let from_number: Price = serde_json::from_str("0.14903").unwrap();
        let from_string: Price = serde_json::from_str("\"0.14903\"").unwrap();
        assert_eq!(from_number, from_string);
        assert_eq!(serde_json::to_string(&from_number).unwrap(), "\"0.14903\"");
    }

    #[test]
    fn currencies_format_their_minor_unit() {
        assert_eq!(Currency::CNY.format(Amount(1230)), "12.30");
        assert_eq!(Currency::from_code("JPY").unwrap().format(Amount(1230)), "1230");
        assert_eq!(Currency::CNY.format(Amount(-5)), "-0.05");
        assert!(Currency::from_code("XXX").is_err());
    }

    #[test]
    fn tax_rates_are_percentages() {
        assert_eq!(TaxRate::parse_percent("13").unwrap().ten_thousandths_percent(), 130_000);
        assert_eq!(TaxRate::parse_percent("6.5").unwrap().to_string(), "6.5");
    }
}
