//! Local calendar and clock values that tariff restrictions are written in.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A local time of day to the minute, `"HH:MM"`; `"24:00"` ends a window at midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MINUTES_PER_DAY: u16 = 24 * 60;
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);

    /// `None` past 24:00.
    pub fn from_minutes(minutes: u16) -> Option<TimeOfDay> {
        (minutes <= Self::MINUTES_PER_DAY).then_some(TimeOfDay(minutes))
    }

    pub fn hm(hour: u16, minute: u16) -> Option<TimeOfDay> {
        if minute >= 60 {
            return None;
        }
        Self::from_minutes(hour.checked_mul(60)?.checked_add(minute)?)
    }

    /// Minutes since local midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let (hour, minute) = text.split_once(':')?;
        if hour.len() != 2 || minute.len() != 2 {
            return None;
        }
        TimeOfDay::hm(hour.parse().ok()?, minute.parse().ok()?)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TimeOfDay::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not a time of day \"HH:MM\" from 00:00 to 24:00"))
        })
    }
}

/// A day of every year, `"MM-DD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthDay {
    month: u8,
    day: u8,
}

impl MonthDay {
    pub fn new(month: u8, day: u8) -> Option<MonthDay> {
        // A leap year has every month-day there is.
        jiff::civil::Date::new(2024, month as i8, day as i8).ok()?;
        Some(MonthDay { month, day })
    }

    pub fn of(date: jiff::civil::Date) -> MonthDay {
        MonthDay { month: date.month() as u8, day: date.day() as u8 }
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Reads `"MM-DD"`; single digits (`"4-30"`) are accepted as written in some published tariffs.
    pub fn parse(text: &str) -> Option<MonthDay> {
        let (month, day) = text.split_once('-')?;
        if month.is_empty() || month.len() > 2 || day.is_empty() || day.len() > 2 {
            return None;
        }
        MonthDay::new(month.parse().ok()?, day.parse().ok()?)
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl Serialize for MonthDay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MonthDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        MonthDay::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a day of the year \"MM-DD\"")))
    }
}

/// Days of every year from `from` to `to`, both included; `to` before `from` wraps past New Year
/// (a winter from 11-01 to 04-30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Season {
    pub from: MonthDay,
    pub to: MonthDay,
}

impl Season {
    pub fn contains(self, day: MonthDay) -> bool {
        if self.from <= self.to { self.from <= day && day <= self.to } else { day >= self.from || day <= self.to }
    }
}

/// A local weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    pub const WORKDAYS: [Weekday; 5] =
        [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday];
    pub const WEEKEND: [Weekday; 2] = [Weekday::Saturday, Weekday::Sunday];

    pub fn of(date: jiff::civil::Date) -> Weekday {
        Weekday::ALL[date.weekday().to_monday_zero_offset() as usize]
    }

    /// The OCPI 2.2.1 name, e.g. `MONDAY`.
    pub fn ocpi_name(self) -> &'static str {
        ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"][self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_read_and_print() {
        assert_eq!(TimeOfDay::parse("08:30").map(TimeOfDay::minutes), Some(510));
        assert_eq!(TimeOfDay::parse("24:00").map(TimeOfDay::minutes), Some(1440));
        for bad in ["24:01", "8:30", "08:60", "0830", "aa:bb"] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
        assert_eq!(TimeOfDay::hm(21, 30).unwrap().to_string(), "21:30");
    }

    #[test]
    fn seasons_wrap_past_new_year() {
        let winter = Season { from: MonthDay::parse("11-01").unwrap(), to: MonthDay::parse("4-30").unwrap() };
        assert!(winter.contains(MonthDay::new(12, 31).unwrap()));
        assert!(winter.contains(MonthDay::new(4, 30).unwrap()));
        assert!(!winter.contains(MonthDay::new(5, 1).unwrap()));
        assert_eq!(MonthDay::parse("02-30"), None);
        assert!(MonthDay::parse("02-29").is_some());
    }
}
