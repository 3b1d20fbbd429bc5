//! Requests between members are signed with the sender's member key, the one the ledger's member
//! registry holds, instead of carrying exchanged OCPI tokens: a member admitted by governance can
//! talk to every other at once, and one removed (or whose key was rotated) is refused at once.
//!
//! The signature covers the method, the path with its query, a SHA-256 digest of the body and the
//! time of signing. A receiver refuses a request signed more than [`MAX_SKEW`] away from its own
//! clock and, within that window, one whose signature it has seen already (a replay: the receiver
//! keeps the signatures it accepted in its database, so that a restart forgets none).

use chargemesh_ledger::keys::Signature;
use chargemesh_ledger::{MemberKey, PublicKey};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

/// The sending member's party id (`CN-M01`).
pub const MEMBER_HEADER: &str = "x-chargemesh-member";
/// When the request was signed, RFC 3339 UTC.
pub const TIMESTAMP_HEADER: &str = "x-chargemesh-timestamp";
/// The ed25519 signature, 128 hex digits.
pub const SIGNATURE_HEADER: &str = "x-chargemesh-signature";

/// How far a request's signing time may be from the receiver's clock.
pub const MAX_SKEW: SignedDuration = SignedDuration::from_secs(300);

/// Why a member request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the request has no {0} header")]
    Missing(&'static str),
    #[error("the {header} header is malformed: {why}")]
    Malformed { header: &'static str, why: String },
    #[error("{0} is not a member of the consortium")]
    UnknownMember(String),
    #[error("{0} is no longer an active member")]
    Inactive(String),
    #[error("the signature does not verify with {0}'s registered key")]
    BadSignature(String),
    #[error("the request was signed at {signed_at}, more than five minutes from this node's clock ({now})")]
    Stale { signed_at: Timestamp, now: Timestamp },
    #[error("this request was received already (a replay)")]
    Replayed,
    #[error("this node cannot check requests now; try again")]
    Unavailable,
    #[error("this node takes part in no consortium ledger: it has no members to hear from")]
    NoConsortium,
    #[error("the token is not one this node issued, or it was revoked")]
    UnknownToken,
    #[error(
        "platforms outside the consortium may read versions, locations and tariffs and manage their credentials (with the registration token: read versions and register) only"
    )]
    NotForPartners,
}

/// The three headers a signed request carries.
pub fn sign(
    key: &MemberKey,
    member: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: Timestamp,
) -> [(&'static str, String); 3] {
    // Milliseconds: the same request sent twice within a second (a real-time authorization asked
    // again) is two requests, not a replay.
    let timestamp =
        Timestamp::from_millisecond(now.as_millisecond()).expect("whole milliseconds of a valid instant").to_string();
    let signature = key.sign(&message(member, method, path_and_query, body, &timestamp));
    [(MEMBER_HEADER, member.to_owned()), (TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, hex::encode(signature.0))]
}

fn message(member: &str, method: &str, path_and_query: &str, body: &[u8], timestamp: &str) -> Vec<u8> {
    let digest = hex::encode(Sha256::digest(body));
    format!("chargemesh/ocpi-request/1\n{member}\n{}\n{path_and_query}\n{digest}\n{timestamp}", method.to_uppercase())
        .into_bytes()
}

/// What a member is, as the registry says.
pub struct Registered {
    pub key: PublicKey,
    pub active: bool,
}

/// A member request whose headers prove its sender: the sender, and what to look for among the
/// requests already seen before serving it: the digest of what was signed (not the signature, so
/// that no other encoding of the same signature passes as a new request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub member: String,
    pub replay_key: [u8; 32],
    pub signed_at: Timestamp,
}

/// Checks a member request's headers: the member a request comes from, if its headers prove it.
/// `header` reads a request header; `registry` looks a member up in the ledger's member registry.
/// Whether the request is a replay is for the caller to check, with [`Verified::replay_key`].
pub fn verify(
    header: impl Fn(&'static str) -> Option<String>,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: Timestamp,
    registry: impl FnOnce(&str) -> Option<Registered>,
) -> Result<Verified, Refusal> {
    let member = header(MEMBER_HEADER).ok_or(Refusal::Missing(MEMBER_HEADER))?;
    let timestamp = header(TIMESTAMP_HEADER).ok_or(Refusal::Missing(TIMESTAMP_HEADER))?;
    let signature = header(SIGNATURE_HEADER).ok_or(Refusal::Missing(SIGNATURE_HEADER))?;
    let signed_at: Timestamp = timestamp
        .parse()
        .map_err(|e: jiff::Error| Refusal::Malformed { header: TIMESTAMP_HEADER, why: e.to_string() })?;
    let signature: [u8; 64] = hex::decode(&signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| Refusal::Malformed { header: SIGNATURE_HEADER, why: "not 128 hex digits".into() })?;
    if now.duration_since(signed_at).abs() > MAX_SKEW {
        return Err(Refusal::Stale { signed_at, now });
    }
    let registered = registry(&member).ok_or_else(|| Refusal::UnknownMember(member.clone()))?;
    if !registered.active {
        return Err(Refusal::Inactive(member));
    }
    let message = message(&member, method, path_and_query, body, &timestamp);
    if !registered.key.verifies(&message, &Signature(signature)) {
        return Err(Refusal::BadSignature(member));
    }
    Ok(Verified { member, replay_key: Sha256::digest(&message).into(), signed_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> MemberKey {
        MemberKey::from_seed([seed; 32])
    }

    fn now() -> Timestamp {
        "2026-11-29T12:00:00Z".parse().unwrap()
    }

    fn check(
        headers: &[(&'static str, String)],
        path: &str,
        body: &[u8],
        at: Timestamp,
        registered: Option<(PublicKey, bool)>,
    ) -> Result<String, Refusal> {
        let header = |name: &'static str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        verify(header, "POST", path, body, at, |_| registered.map(|(key, active)| Registered { key, active }))
            .map(|verified| verified.member)
    }

    #[test]
    fn a_signed_request_is_accepted_and_any_change_refuses_it() {
        let a = key(1);
        let registered = Some((a.public_key(), true));
        let path = "/ocpi/2.2.1/commands/START_SESSION";
        let body = br#"{"token":{"uid":"0B817118553387B22FA5"}}"#;
        let headers = sign(&a, "CN-M01", "post", path, body, now());
        let later = now() + SignedDuration::from_secs(30);
        assert_eq!(check(&headers, path, body, later, registered), Ok("CN-M01".into()));

        let fresh = || sign(&a, "CN-M01", "post", path, body, now());
        let refused = |headers: &[(&'static str, String)], path: &str, body: &[u8], at, registered| {
            check(headers, path, body, at, registered).unwrap_err()
        };
        assert_eq!(
            refused(&fresh(), "/ocpi/2.2.1/commands/STOP_SESSION", body, now(), registered),
            Refusal::BadSignature("CN-M01".into())
        );
        assert_eq!(refused(&fresh(), path, b"{}", now(), registered), Refusal::BadSignature("CN-M01".into()));
        let mut other_member = fresh();
        other_member[0].1 = "CN-M02".into();
        assert_eq!(refused(&other_member, path, body, now(), registered), Refusal::BadSignature("CN-M02".into()));
        let by_another_key = Some((key(2).public_key(), true));
        assert_eq!(refused(&fresh(), path, body, now(), by_another_key), Refusal::BadSignature("CN-M01".into()));
        assert_eq!(refused(&fresh(), path, body, now(), None), Refusal::UnknownMember("CN-M01".into()));
        assert_eq!(
            refused(&fresh(), path, body, now(), Some((a.public_key(), false))),
            Refusal::Inactive("CN-M01".into())
        );
        let too_late = now() + SignedDuration::from_secs(301);
        assert!(matches!(refused(&fresh(), path, body, too_late, registered), Refusal::Stale { .. }));
        let too_early = now() - SignedDuration::from_secs(301);
        assert!(matches!(refused(&fresh(), path, body, too_early, registered), Refusal::Stale { .. }));
        assert_eq!(refused(&fresh()[..2], path, body, now(), registered), Refusal::Missing(SIGNATURE_HEADER));
        let mut garbled = fresh();
        garbled[2].1 = "zz".into();
        assert!(matches!(refused(&garbled, path, body, now(), registered), Refusal::Malformed { .. }));
    }
}
