//! How this node meets other platforms over OCPI 2.2.1: as CPO it publishes its locations to the
//! other members (pushed on change through a durable outbox, and pullable), as eMSP it keeps the
//! locations they push; requests between members are signed with the member key the ledger
//! registers (see [`signature`]).

pub mod auth;
mod authorization;
mod caller;
pub mod client;
mod config;
pub mod cpo;
mod credentials;
pub mod emsp;
pub mod http;
mod outbox;
mod paging;
mod reply;
pub mod signature;
mod versions;

pub use config::FederationConfig;

use cpo::{commands, locations, publisher, tariffs};
use emsp::{roaming, settlement};

use axum::Router;
use axum::routing::{get, post, put};
use chargemesh_operations::Operations;
use chargemesh_operations::ledger::LedgerNode;
use chargemesh_protocol::ocpi::PartyRef;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the OCPI endpoints serve from.
pub struct Federation {
    pub operations: Operations,
    pub ledger: Option<Arc<LedgerNode>>,
    /// The other members' nodes (none without a ledger).
    peers: Option<Arc<client::Peers>>,
    /// The base URL of this node's OCPI endpoints (`…/ocpi`).
    pub base_url: String,
    /// The client for members and partners (HTTPS, see [`http::client`]).
    http: reqwest::Client,
}

impl Federation {
    /// The OCPI base URL is the member's `endpoint` in the ledger's registry; without a ledger (or
    /// before this member is registered), this node's API address.
    pub fn new(
        operations: Operations,
        ledger: Option<Arc<LedgerNode>>,
        api_addr: SocketAddr,
        http: reqwest::Client,
    ) -> Federation {
        let registered = ledger
            .as_ref()
            .and_then(|ledger| ledger.snapshot().state().member(&ledger.party_id).map(|m| m.record.endpoint.clone()));
        let base_url = registered
            .filter(|url| url.starts_with("http"))
            .unwrap_or_else(|| format!("http://{api_addr}/ocpi"))
            .trim_end_matches('/')
            .to_owned();
        let peers = ledger.clone().map(|ledger| Arc::new(client::Peers::new(ledger, http.clone())));
        Federation { operations, ledger, peers, base_url, http }
    }

    /// This node's party as OCPI names it; without a ledger, `CN-CMS` (a stand-alone node).
    pub(crate) fn party(&self) -> PartyRef {
        self.ledger
            .as_ref()
            .and_then(|ledger| PartyRef::of_member(&ledger.party_id))
            .unwrap_or_else(|| PartyRef { country_code: "CN".into(), party_id: "CMS".into() })
    }

    /// This node's member as the consortium names it (party id); `self` for a node without a ledger.
    pub fn member(&self) -> String {
        self.ledger.as_ref().map_or_else(|| "self".to_owned(), |l| l.party_id.clone())
    }

    pub(crate) fn module_url(&self, module: &str) -> String {
        format!("{}/{}/{module}", self.base_url, chargemesh_protocol::ocpi::VERSION)
    }
}

/// The background work of federation: pushing locations, delivering the outbox and settling the
/// charges of this node's drivers at other members. Nothing without a ledger (no members to
/// federate with).
pub fn tasks(federation: &Arc<Federation>, config: &FederationConfig) -> Vec<tokio::task::JoinHandle<()>> {
    let Some(peers) = &federation.peers else { return Vec::new() };
    let authority = authorization::RealTimeAuthority(Arc::downgrade(federation));
    federation.operations.set_token_authority(Arc::new(authority));
    vec![
        tokio::spawn(publisher::run(federation.clone(), peers.clone(), config.publish_intervals())),
        tokio::spawn(outbox::run(federation.operations.clone(), peers.clone(), config.outbox_interval())),
        tokio::spawn(settlement::run(federation.clone(), config.settlement_interval())),
    ]
}

pub fn router(federation: Arc<Federation>) -> Router {
    let version = Router::new()
        .route("/", get(versions::details))
        .route("/cpo/locations", get(locations::list))
        .route("/cpo/locations/{location_id}", get(locations::location))
        .route("/cpo/locations/{location_id}/{evse_uid}", get(locations::evse))
        .route("/cpo/locations/{location_id}/{evse_uid}/{connector_id}", get(locations::connector))
        .route("/emsp/locations/{country_code}/{party_id}/{location_id}", put(roaming::receive_location))
        .route("/cpo/tariffs", get(tariffs::list))
        .route(
            "/credentials",
            get(credentials::get)
                .post(credentials::register)
                .put(credentials::register)
                .delete(credentials::unregister),
        )
        .route("/emsp/tariffs/{country_code}/{party_id}/{tariff_id}", put(roaming::receive_tariff))
        .route("/cpo/commands/{command}", post(commands::receive))
        .route("/emsp/commands/{command}/{id}", post(roaming::receive_command_result))
        .route("/emsp/sessions/{country_code}/{party_id}/{session_id}", put(roaming::receive_session))
        .route("/emsp/cdrs", post(roaming::receive_cdr))
        .route("/emsp/tokens/{token_uid}/authorize", post(authorization::authorize));
    let ocpi = Router::new()
        .route("/versions", get(versions::list))
        .nest(&format!("/{}", chargemesh_protocol::ocpi::VERSION), version)
        .fallback(reply::unknown_path)
        .layer(axum::middleware::from_fn_with_state(federation.clone(), auth::authenticate))
        .with_state(federation);
    Router::new().nest("/ocpi", ocpi)
}
