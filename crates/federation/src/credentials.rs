//! The credentials module (OCPI 2.2.1, section 7), for platforms outside the consortium. An
//! administrator creates a partner and gives it a registration token (TOKEN_A) out of band; the
//! partner posts its credentials with it (its own token, TOKEN_B, and its versions URL), this node
//! checks that it can read the partner's versions with them and answers with its own credentials: a
//! new token (TOKEN_C) the partner calls with from then on. PUT renews them, DELETE ends them.

use crate::Federation;
use crate::auth::token_hash;
use crate::caller::Caller;
use crate::reply;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use chargemesh_operations::partner_credentials::PartnerCredentials;
use chargemesh_protocol::ocpi::credentials::{Credentials, CredentialsRole, Role};
use chargemesh_protocol::ocpi::locations::BusinessDetails;
use chargemesh_protocol::ocpi::status;
use std::sync::Arc;
use std::time::Duration;

/// How long the partner's versions endpoint may take to answer at registration.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// This node's credentials, as the partner calling with `token` is to use them.
fn ours(federation: &Federation, token: String) -> Credentials {
    let party = federation.party();
    let name = format!("chargemesh {}-{}", party.country_code, party.party_id);
    Credentials {
        token,
        url: format!("{}/versions", federation.base_url),
        roles: vec![CredentialsRole {
            role: Role::Cpo,
            business_details: BusinessDetails { name },
            party_id: party.party_id,
            country_code: party.country_code,
        }],
    }
}

pub async fn get(State(federation): State<Arc<Federation>>, Extension(caller): Extension<Caller>) -> Response {
    match caller {
        Caller::Partner { token, .. } => reply::ok(ours(&federation, token)),
        _ => not_registered(),
    }
}

fn not_registered() -> Response {
    reply::error(StatusCode::METHOD_NOT_ALLOWED, status::CLIENT_ERROR, "not registered: POST your credentials first")
}

/// POST (with the registration token) registers; PUT (registered) renews the credentials.
pub async fn register(
    State(federation): State<Arc<Federation>>,
    Extension(caller): Extension<Caller>,
    method: Method,
    body: Bytes,
) -> Response {
    let id = match (&caller, &method) {
        (Caller::Registering { id }, &Method::POST) | (Caller::Partner { id, .. }, &Method::PUT) => *id,
        (Caller::Partner { .. }, _) => {
            return reply::error(
                StatusCode::METHOD_NOT_ALLOWED,
                status::CLIENT_ERROR,
                "registered already: PUT to renew",
            );
        }
        _ => return not_registered(),
    };
    let theirs: Credentials = match serde_json::from_slice(&body) {
        Ok(credentials) => credentials,
        Err(e) => return reply::invalid(format!("the body is not OCPI Credentials: {e}")),
    };
    if theirs.token.is_empty() || theirs.token.len() > 64 || theirs.roles.is_empty() {
        return reply::invalid("token: 1 to 64 characters; roles: at least one");
    }
    if let Err(why) = fetch_versions(&federation.http, &theirs).await {
        return reply::error(
            StatusCode::BAD_REQUEST,
            status::UNABLE_TO_USE_CLIENT_API,
            format!("cannot read your versions at {} with your token: {why}", theirs.url),
        );
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    let (hash, roles) = (token_hash(&token), serde_json::to_string(&theirs.roles).expect("roles serialize"));
    let given = PartnerCredentials { token: theirs.token, versions_url: theirs.url, roles };
    let registered = federation.operations.record_partner_credentials(id, hash, given).await;
    match registered {
        Ok(true) => reply::ok(ours(&federation, token)),
        Ok(false) => not_registered(),
        Err(e) => {
            tracing::error!(error = %e, "cannot record a partner's credentials");
            reply::server_error("the credentials cannot be recorded now; try again")
        }
    }
}

/// The partner's versions list, read with its token: it must answer OCPI success.
async fn fetch_versions(client: &reqwest::Client, theirs: &Credentials) -> Result<(), String> {
    use base64::Engine as _;
    if !(theirs.url.starts_with("http://") || theirs.url.starts_with("https://")) {
        return Err("the url is not an http(s) URL".into());
    }
    let token = base64::engine::general_purpose::STANDARD.encode(&theirs.token);
    let response = client
        .get(&theirs.url)
        .timeout(FETCH_TIMEOUT)
        .header("authorization", format!("Token {token}"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let http = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| format!("HTTP {http}, not OCPI JSON: {e}"))?;
    match body["status_code"].as_u64() {
        Some(1000..=1999) if http.is_success() => Ok(()),
        code => Err(format!("HTTP {http}, OCPI status {code:?}")),
    }
}

/// DELETE: the partner ends its registration; its token stops working.
pub async fn unregister(State(federation): State<Arc<Federation>>, Extension(caller): Extension<Caller>) -> Response {
    let Caller::Partner { id, .. } = caller else { return not_registered() };
    let revoked = federation.operations.end_partner_registration(id).await;
    match revoked {
        Ok(_) => reply::ok(()),
        Err(e) => {
            tracing::error!(error = %e, "cannot revoke a partner");
            reply::server_error("the registration cannot be ended now; try again")
        }
    }
}
