//! Requests to other members' nodes: sent to the OCPI base URL the ledger's member registry gives
//! for the member, signed with this member's key.

use chargemesh_operations::ledger::LedgerNode;
use chargemesh_protocol::ocpi::{Envelope, status};
use std::sync::Arc;
use std::time::Duration;

/// How long a peer may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0} is not an active member with an OCPI endpoint in the registry")]
    UnknownPeer(String),
    #[error("{peer}'s endpoint {url} is not a URL: {why}")]
    BadEndpoint { peer: String, url: String, why: String },
    #[error("{0}")]
    Transport(String),
    #[error("the peer answered HTTP {http} with OCPI status {status_code:?}: {message}")]
    Refused { http: u16, status_code: Option<u16>, message: String },
}

pub struct Peers {
    http: reqwest::Client,
    ledger: Arc<LedgerNode>,
}

impl Peers {
    pub fn new(ledger: Arc<LedgerNode>, http: reqwest::Client) -> Peers {
        Peers { http, ledger }
    }

    /// The other active members, by party id.
    pub fn others(&self) -> Vec<String> {
        self.ledger
            .snapshot()
            .state()
            .members()
            .filter(|m| m.active && m.record.party_id != self.ledger.party_id)
            .map(|m| m.record.party_id.clone())
            .collect()
    }

    /// A member's OCPI base URL, as the registry gives it.
    pub fn endpoint(&self, peer: &str) -> Option<String> {
        let snapshot = self.ledger.snapshot();
        let member = snapshot.state().member(peer).filter(|m| m.active)?;
        Some(member.record.endpoint.trim_end_matches('/').to_owned()).filter(|e| e.starts_with("http"))
    }

    /// Sends a signed request to `peer` at `path` (after its OCPI base URL) and returns the
    /// response's `data`; anything but HTTP 2xx with OCPI status 1000 is an error.
    pub async fn send(
        &self,
        peer: &str,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Option<serde_json::Value>, SendError> {
        let base = self.endpoint(peer).ok_or_else(|| SendError::UnknownPeer(peer.to_owned()))?;
        let url = format!("{base}{path}");
        let parsed = reqwest::Url::parse(&url).map_err(|e| SendError::BadEndpoint {
            peer: peer.to_owned(),
            url: url.clone(),
            why: e.to_string(),
        })?;
        let signed_path = match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        let body = body.unwrap_or_default();
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| SendError::Transport(e.to_string()))?;
        let mut request = self.http.request(method.clone(), parsed).timeout(TIMEOUT);
        let (key, member, now) = (self.ledger.member_key(), &self.ledger.party_id, jiff::Timestamp::now());
        for (name, value) in crate::signature::sign(key, member, method.as_str(), &signed_path, body.as_bytes(), now) {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_owned());
        }
        let response = request.send().await.map_err(|e| SendError::Transport(e.to_string()))?;
        let http = response.status();
        let text = response.text().await.map_err(|e| SendError::Transport(e.to_string()))?;
        let envelope: Option<Envelope<serde_json::Value>> = serde_json::from_str(&text).ok();
        match envelope {
            Some(envelope) if http.is_success() && envelope.status_code == status::SUCCESS => Ok(envelope.data),
            Some(envelope) => Err(SendError::Refused {
                http: http.as_u16(),
                status_code: Some(envelope.status_code),
                message: envelope.status_message.unwrap_or_default(),
            }),
            None => Err(SendError::Refused {
                http: http.as_u16(),
                status_code: None,
                message: text.chars().take(200).collect(),
            }),
        }
    }
}
