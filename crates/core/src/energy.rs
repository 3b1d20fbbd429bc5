//! Energy as an exact integer number of milliwatt-hours.

use crate::decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of energy in milliwatt-hours. Integer so that sums and differences are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Energy(i64);

/// The unit a charger reported an energy reading in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnergyUnit {
    Wh,
    KWh,
}

impl EnergyUnit {
    fn scale_mwh(self) -> i128 {
        match self {
            EnergyUnit::Wh => 1_000,
            EnergyUnit::KWh => 1_000_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    #[error("energy reading {0:?} is not a decimal number")]
    NotANumber(String),
    #[error("energy reading {0:?} is out of range")]
    OutOfRange(String),
}

impl Energy {
    pub const ZERO: Energy = Energy(0);

    pub const fn from_mwh(mwh: i64) -> Self {
        Energy(mwh)
    }

    pub const fn from_wh(wh: i64) -> Self {
        Energy(wh * 1_000)
    }

    pub const fn mwh(self) -> i64 {
        self.0
    }

    /// Parses a decimal reading such as `"12.345"` in `unit` without going through floating point.
    /// Digits finer than one milliwatt-hour are rounded half away from zero.
    pub fn parse_reading(text: &str, unit: EnergyUnit) -> Result<Energy, ReadingError> {
        let decimal = Decimal::parse(text.trim()).ok_or_else(|| ReadingError::NotANumber(text.into()))?;
        let scaled = decimal.scale_rounded(unit.scale_mwh()).ok_or_else(|| ReadingError::OutOfRange(text.into()))?;
        i64::try_from(scaled).map(Energy).map_err(|_| ReadingError::OutOfRange(text.into()))
    }
}

impl std::ops::Add for Energy {
    type Output = Energy;
    fn add(self, rhs: Energy) -> Energy {
        Energy(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Energy {
    type Output = Energy;
    fn sub(self, rhs: Energy) -> Energy {
        Energy(self.0 - rhs.0)
    }
}

impl fmt::Display for Energy {
    /// Shown in kWh with all three decimals of the underlying Wh and the mWh remainder, e.g. `12.345678 kWh`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:06} kWh", abs / 1_000_000, abs % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wh_and_kwh_exactly() {
        assert_eq!(Energy::parse_reading("1234", EnergyUnit::Wh), Ok(Energy::from_mwh(1_234_000)));
        assert_eq!(Energy::parse_reading("12.345", EnergyUnit::KWh), Ok(Energy::from_mwh(12_345_000)));
        assert_eq!(Energy::parse_reading("0.1", EnergyUnit::Wh), Ok(Energy::from_mwh(100)));
        assert_eq!(Energy::parse_reading("1.5e3", EnergyUnit::Wh), Ok(Energy::from_mwh(1_500_000)));
        assert_eq!(Energy::parse_reading(" 7 ", EnergyUnit::KWh), Ok(Energy::from_mwh(7_000_000)));
        assert_eq!(Energy::parse_reading("-2.5", EnergyUnit::Wh), Ok(Energy::from_mwh(-2_500)));
    }

    #[test]
    fn rounds_sub_milliwatt_hours_half_away_from_zero() {
        assert_eq!(Energy::parse_reading("0.0005", EnergyUnit::Wh), Ok(Energy::from_mwh(1)));
        assert_eq!(Energy::parse_reading("0.0004", EnergyUnit::Wh), Ok(Energy::from_mwh(0)));
        assert_eq!(Energy::parse_reading("-0.0005", EnergyUnit::Wh), Ok(Energy::from_mwh(-1)));
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for bad in ["", "abc", "1,5", "1.2.3", "NaN", "inf", "--1", ".", "1e99999"] {
            assert!(Energy::parse_reading(bad, EnergyUnit::Wh).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn displays_in_kwh() {
        assert_eq!(Energy::from_mwh(12_345_678).to_string(), "12.345678 kWh");
        assert_eq!(Energy::from_mwh(-5).to_string(), "-0.000005 kWh");
    }

    proptest::proptest! {
        #[test]
        fn whole_watt_hours_round_trip(wh in -1_000_000_000i64..1_000_000_000) {
            proptest::prop_assert_eq!(Energy::parse_reading(&wh.to_string(), EnergyUnit::Wh), Ok(Energy::from_wh(wh)));
        }

        #[test]
        fn kwh_with_three_decimals_is_exact(milli in 0i64..1_000_000_000) {
            let text = format!("{}.{:03}", milli / 1000, milli % 1000);
            proptest::prop_assert_eq!(Energy::parse_reading(&text, EnergyUnit::KWh), Ok(Energy::from_wh(milli)));
        }
    }
}
