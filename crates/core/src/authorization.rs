//! Whether an id token may charge now.

use crate::IdToken;
use crate::charger::{Authorization, AuthorizationStatus};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Whether an issued token may charge: the operator (or, for another member's driver, that member)
/// blocks and unblocks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Blocked,
}

impl TokenStatus {
    pub const ALL: [TokenStatus; 2] = [TokenStatus::Active, TokenStatus::Blocked];

    /// The name stored and shown (`active`, `blocked`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Blocked => "blocked",
        }
    }

    pub fn parse(text: &str) -> Option<TokenStatus> {
        TokenStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// A driver account's status: the operator blocks and unblocks it; the driver may close it for good
/// (nothing personal is left of it then).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriverStatus {
    Active,
    Blocked,
    Closed,
}

impl DriverStatus {
    pub const ALL: [DriverStatus; 3] = [DriverStatus::Active, DriverStatus::Blocked, DriverStatus::Closed];

    /// The name stored and shown (`active`, `blocked`, `closed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DriverStatus::Active => "active",
            DriverStatus::Blocked => "blocked",
            DriverStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<DriverStatus> {
        DriverStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// What the node knows about a token an operator issued.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenGrant {
    /// `false` when the operator blocked the token.
    pub active: bool,
    pub expires_at: Option<Timestamp>,
    pub parent_id_token: Option<IdToken>,
}

/// Decides the authorization for a token, `grant` being `None` for a token nobody issued.
/// `in_transaction_elsewhere` is true when the token already has a running transaction on another
/// connector; one token drives one car at a time.
pub fn authorize(grant: Option<&TokenGrant>, now: Timestamp, in_transaction_elsewhere: bool) -> Authorization {
    let status = match grant {
        None => AuthorizationStatus::Invalid,
        Some(g) if !g.active => AuthorizationStatus::Blocked,
        Some(g) if g.expires_at.is_some_and(|at| at <= now) => AuthorizationStatus::Expired,
        Some(_) if in_transaction_elsewhere => AuthorizationStatus::ConcurrentTx,
        Some(_) => AuthorizationStatus::Accepted,
    };
    Authorization {
        status,
        expires_at: grant.and_then(|g| g.expires_at),
        parent_id_token: grant.and_then(|g| g.parent_id_token.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn decides_each_status() {
        let now = at("2026-01-01T00:00:00Z");
        let grant = TokenGrant { active: true, expires_at: None, parent_id_token: None };
        assert_eq!(authorize(None, now, false).status, AuthorizationStatus::Invalid);
        assert_eq!(authorize(Some(&grant), now, false).status, AuthorizationStatus::Accepted);
        assert_eq!(authorize(Some(&grant), now, true).status, AuthorizationStatus::ConcurrentTx);
        let blocked = TokenGrant { active: false, ..grant.clone() };
        assert_eq!(authorize(Some(&blocked), now, false).status, AuthorizationStatus::Blocked);
        let expired = TokenGrant { expires_at: Some(at("2025-12-31T23:59:59Z")), ..grant };
        assert_eq!(authorize(Some(&expired), now, false).status, AuthorizationStatus::Expired);
    }

    #[test]
    fn token_statuses_round_trip_and_match_serde() {
        for status in super::TokenStatus::ALL {
            assert_eq!(super::TokenStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(super::TokenStatus::parse("expired"), None);
        for status in super::DriverStatus::ALL {
            assert_eq!(super::DriverStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(super::DriverStatus::parse("Active"), None);
    }
}
