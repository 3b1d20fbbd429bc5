//! Identifiers that arrive from outside and must be validated once, at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A charging station's identity as it appears in its connection URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StationId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a station id must be 1 to 48 characters, got {0}")]
    StationIdLength(usize),
    #[error("a station id may contain only printable ASCII other than ':', '/', '?', '#' and '%', got {0:?}")]
    StationIdCharacters(String),
    #[error("an id token must be 1 to 36 characters, got {0}")]
    IdTokenLength(usize),
    #[error("an id token may contain only printable ASCII, got {0:?}")]
    IdTokenCharacters(String),
}

impl StationId {
    /// OCPP-J allows at most 48 characters and forbids ':' (it would break Basic auth); '/', '?', '#'
    /// and '%' would break the URL the id is carried in.
    pub fn parse(text: &str) -> Result<StationId, IdError> {
        if text.is_empty() || text.len() > 48 {
            return Err(IdError::StationIdLength(text.chars().count()));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b':' | b'/' | b'?' | b'#' | b'%')) {
            return Err(IdError::StationIdCharacters(text.into()));
        }
        Ok(StationId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StationId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        StationId::parse(&value)
    }
}

impl From<StationId> for String {
    fn from(id: StationId) -> String {
        id.0
    }
}

impl fmt::Display for StationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a driver presents to start charging: an RFID card UID, an app account token, a VIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdToken(String);

impl IdToken {
    /// OCPP 1.6 caps idTag at 20 characters and 2.0.1 idToken at 36; the core accepts the larger.
    pub fn parse(text: &str) -> Result<IdToken, IdError> {
        if text.is_empty() || text.len() > 36 {
            return Err(IdError::IdTokenLength(text.chars().count()));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdError::IdTokenCharacters(text.into()));
        }
        Ok(IdToken(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdToken {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        IdToken::parse(&value)
    }
}

impl From<IdToken> for String {
    fn from(id: IdToken) -> String {
        id.0
    }
}

impl fmt::Display for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_ids() {
        assert!(StationId::parse("CP-001").is_ok());
        assert!(StationId::parse(&"x".repeat(48)).is_ok());
        assert_eq!(StationId::parse(&"x".repeat(49)), Err(IdError::StationIdLength(49)));
        assert_eq!(StationId::parse(""), Err(IdError::StationIdLength(0)));
        for bad in ["a:b", "a/b", "a b", "a%20", "é"] {
            assert!(StationId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn id_tokens() {
        assert!(IdToken::parse("04E91C5A123456").is_ok());
        assert!(IdToken::parse(&"t".repeat(37)).is_err());
        assert!(IdToken::parse("has space").is_err());
    }
}
