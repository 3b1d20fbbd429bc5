//! Date-times as chargers write them.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

/// RFC 3339 with an offset; a date-time without one, which some chargers send, is taken as UTC.
pub fn parse(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        text.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// Millisecond precision, `Z` suffix: what every charger can read.
pub fn format(at: Timestamp) -> String {
    let millis = Timestamp::from_millisecond(at.as_millisecond()).unwrap_or(at);
    millis.to_string()
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format_args!("invalid type: date-time {text:?}")))
}

pub fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) => parse(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format_args!("invalid type: date-time {text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_offsets_fractions_and_missing_zone() {
        let want: jiff::Timestamp = "2024-03-01T10:00:00Z".parse().unwrap();
        assert_eq!(super::parse("2024-03-01T10:00:00Z"), Some(want));
        assert_eq!(super::parse("2024-03-01T18:00:00+08:00"), Some(want));
        assert_eq!(super::parse("2024-03-01T10:00:00"), Some(want));
        assert_eq!(super::parse("2024-03-01T10:00:00.000Z"), Some(want));
        assert_eq!(super::parse("yesterday"), None);
        assert_eq!(super::format(want), "2024-03-01T10:00:00Z");
    }
}
