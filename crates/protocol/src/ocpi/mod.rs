//! OCPI 2.2.1 (platform ⇄ platform, JSON over HTTP): the response envelope and status codes, the
//! pagination and routing headers, and the module objects this node sends and receives. Wire
//! formats only: which data fills them is the node's business.

pub mod commands;
pub mod credentials;
pub mod locations;
pub mod sessions;
pub mod tariffs;
pub mod tokens;
pub mod versions;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The OCPI version this node speaks.
pub const VERSION: &str = "2.2.1";

/// OCPI status codes (the `status_code` of every response body).
pub mod status {
    pub const SUCCESS: u16 = 1000;
    pub const CLIENT_ERROR: u16 = 2000;
    pub const INVALID_PARAMETERS: u16 = 2001;
    pub const NOT_ENOUGH_INFORMATION: u16 = 2002;
    pub const UNKNOWN_LOCATION: u16 = 2003;
    pub const UNKNOWN_TOKEN: u16 = 2004;
    pub const SERVER_ERROR: u16 = 3000;
    pub const UNABLE_TO_USE_CLIENT_API: u16 = 3001;
    pub const UNKNOWN_RECEIVER: u16 = 4001;
}

/// Request and response headers OCPI names.
pub mod headers {
    pub const REQUEST_ID: &str = "x-request-id";
    pub const CORRELATION_ID: &str = "x-correlation-id";
    pub const TOTAL_COUNT: &str = "x-total-count";
    pub const LIMIT: &str = "x-limit";
    pub const LINK: &str = "link";
    pub const FROM_COUNTRY_CODE: &str = "ocpi-from-country-code";
    pub const FROM_PARTY_ID: &str = "ocpi-from-party-id";
    pub const TO_COUNTRY_CODE: &str = "ocpi-to-country-code";
    pub const TO_PARTY_ID: &str = "ocpi-to-party-id";
}

/// Every OCPI response body: the data, a status code, and the time the response was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    pub status_code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(with = "date_time")]
    pub timestamp: Timestamp,
}

impl<T> Envelope<T> {
    pub fn success(data: T, now: Timestamp) -> Envelope<T> {
        Envelope { data: Some(data), status_code: status::SUCCESS, status_message: None, timestamp: now }
    }

    pub fn error(status_code: u16, message: impl Into<String>, now: Timestamp) -> Envelope<T> {
        Envelope { data: None, status_code, status_message: Some(message.into()), timestamp: now }
    }
}

/// A party as OCPI names it: a two-letter country code and a three-character party id. A chargemesh
/// member `CN-M01` is country `CN`, party `M01`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyRef {
    pub country_code: String,
    pub party_id: String,
}

impl PartyRef {
    /// Splits a member's party id (`CN-M01`); `None` unless it is `CC-PPP` with letters and digits.
    pub fn of_member(member: &str) -> Option<PartyRef> {
        let (country, party) = member.split_once('-')?;
        let valid = country.len() == 2
            && party.len() == 3
            && country.bytes().all(|b| b.is_ascii_uppercase())
            && party.bytes().all(|b| b.is_ascii_alphanumeric());
        valid.then(|| PartyRef { country_code: country.to_owned(), party_id: party.to_owned() })
    }
}

/// OCPI's `DateTime`: UTC, `Z`, whole seconds when written; any RFC 3339 instant when read.
pub mod date_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(at: Timestamp) -> String {
        let whole = Timestamp::from_second(at.as_second()).expect("whole seconds of a valid instant are valid");
        whole.to_string()
    }

    /// Reads an OCPI `DateTime`. OCPI allows leaving out the zone (meaning UTC).
    pub fn parse(text: &str) -> Result<Timestamp, String> {
        text.parse::<Timestamp>()
            .or_else(|_| format!("{text}Z").parse::<Timestamp>())
            .map_err(|e| format!("`{text}` is not an OCPI DateTime: {e}"))
    }

    pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One page of a list: `offset` and `limit` as asked (the limit capped), the total, and the query
/// string of the next page if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
    pub total: usize,
}

impl Page {
    /// The page `offset`/`limit` asks for out of `total`, with the limit at most `max`.
    pub fn new(offset: Option<usize>, limit: Option<usize>, max: usize, total: usize) -> Page {
        Page { offset: offset.unwrap_or(0), limit: limit.unwrap_or(max).clamp(1, max), total }
    }

    /// The range of items on this page.
    pub fn range(&self) -> std::ops::Range<usize> {
        let start = self.offset.min(self.total);
        start..(start + self.limit).min(self.total)
    }

    /// The offset of the next page, if items remain after this one.
    pub fn next_offset(&self) -> Option<usize> {
        let end = self.range().end;
        (end < self.total).then_some(end)
    }

    /// The `Link` header of the next page of `url` (the list's URL without query), keeping the
    /// other query `parameters` (`date_from`, `date_to`) as given.
    pub fn link(&self, url: &str, parameters: &[(&str, String)]) -> Option<String> {
        let offset = self.next_offset()?;
        let mut query = format!("offset={offset}&limit={}", self.limit);
        for (name, value) in parameters {
            query.push_str(&format!("&{name}={}", encode_query_value(value)));
        }
        Some(format!("<{url}?{query}>; rel=\"next\""))
    }
}

fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_once_and_link_to_the_next() {
        let first = Page::new(None, Some(2), 50, 5);
        assert_eq!(first.range(), 0..2);
        let link = first.link("http://n/ocpi/2.2.1/locations", &[("date_from", "2026-01-01T00:00:00Z".into())]);
        assert_eq!(
            link.as_deref(),
            Some("<http://n/ocpi/2.2.1/locations?offset=2&limit=2&date_from=2026-01-01T00%3A00%3A00Z>; rel=\"next\"")
        );
        let last = Page::new(Some(4), Some(2), 50, 5);
        assert_eq!((last.range(), last.next_offset()), (4..5, None));
        assert_eq!(Page::new(Some(9), None, 50, 5).range(), 5..5, "past the end is empty");
        assert_eq!(Page::new(None, Some(1000), 50, 500).limit, 50, "capped");
        assert_eq!(Page::new(None, Some(0), 50, 5).limit, 1);
    }

    #[test]
    fn members_are_ocpi_parties_and_times_are_whole_utc_seconds() {
        assert_eq!(PartyRef::of_member("CN-M01"), Some(PartyRef { country_code: "CN".into(), party_id: "M01".into() }));
        for bad in ["CNM01", "C-M01", "CN-M0", "cn-M01", "CN-M0!"] {
            assert_eq!(PartyRef::of_member(bad), None, "{bad}");
        }
        let at: Timestamp = "2026-11-29T21:00:00.789Z".parse().unwrap();
        assert_eq!(date_time::format(at), "2026-11-29T21:00:00Z");
        assert_eq!(date_time::parse("2026-11-29T21:00:00").unwrap(), "2026-11-29T21:00:00Z".parse().unwrap());
        assert!(date_time::parse("yesterday").is_err());
        let body: Envelope<Vec<u8>> = Envelope::error(status::UNKNOWN_LOCATION, "no such location", at);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["status_code"], 2003);
        assert_eq!(json["timestamp"], "2026-11-29T21:00:00Z");
        assert!(json.get("data").is_none());
    }
}
