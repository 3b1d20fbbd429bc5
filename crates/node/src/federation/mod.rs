//! How this node meets other platforms over OCPI 2.2.1: as CPO it publishes its locations to the
//! other members (and, later, outside partners); requests between members are signed with the
//! member key the ledger registers (see [`signature`]).

mod auth;
mod locations;
mod reply;
pub mod signature;
mod versions;

use crate::gateway::Registry;
use crate::ledger::LedgerNode;
use crate::operations::Operations;
use axum::Router;
use axum::routing::get;
use chargemesh_protocol::ocpi::PartyRef;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the OCPI endpoints serve from.
pub struct Federation {
    pub operations: Operations,
    pub registry: Arc<Registry>,
    pub ledger: Option<Arc<LedgerNode>>,
    verifier: signature::Verifier,
    /// The base URL of this node's OCPI endpoints (`…/ocpi`).
    base_url: String,
}

impl Federation {
    /// The OCPI base URL is the member's `endpoint` in the ledger's registry; without a ledger (or
    /// before this member is registered), this node's API address.
    pub fn new(
        operations: Operations,
        registry: Arc<Registry>,
        ledger: Option<Arc<LedgerNode>>,
        api_addr: SocketAddr,
    ) -> Federation {
        let registered = ledger.as_ref().and_then(|ledger| {
            let chain = ledger.chain.lock().expect("chain lock");
            chain.state().member(&ledger.party_id).map(|m| m.record.endpoint.clone())
        });
        let base_url = registered
            .filter(|url| url.starts_with("http"))
            .unwrap_or_else(|| format!("http://{api_addr}/ocpi"))
            .trim_end_matches('/')
            .to_owned();
        Federation { operations, registry, ledger, verifier: signature::Verifier::default(), base_url }
    }

    /// This node's party as OCPI names it; without a ledger, `CN-CMS` (a stand-alone node).
    fn party(&self) -> PartyRef {
        self.ledger
            .as_ref()
            .and_then(|ledger| PartyRef::of_member(&ledger.party_id))
            .unwrap_or_else(|| PartyRef { country_code: "CN".into(), party_id: "CMS".into() })
    }

    fn module_url(&self, module: &str) -> String {
        format!("{}/{}/{module}", self.base_url, chargemesh_protocol::ocpi::VERSION)
    }
}

pub fn router(federation: Arc<Federation>) -> Router {
    let version = Router::new()
        .route("/", get(versions::details))
        .route("/locations", get(locations::list))
        .route("/locations/{location_id}", get(locations::location))
        .route("/locations/{location_id}/{evse_uid}", get(locations::evse))
        .route("/locations/{location_id}/{evse_uid}/{connector_id}", get(locations::connector));
    let ocpi = Router::new()
        .route("/versions", get(versions::list))
        .nest(&format!("/{}", chargemesh_protocol::ocpi::VERSION), version)
        .fallback(reply::unknown_path)
        .layer(axum::middleware::from_fn_with_state(federation.clone(), auth::authenticate))
        .with_state(federation);
    Router::new().nest("/ocpi", ocpi)
}
