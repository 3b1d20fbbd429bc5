//! The operator and driver API: HTTP/JSON under `/api/v1`, described by an OpenAPI document, plus `/metrics`.

pub mod access;
mod api_keys;
mod audit;
mod auth;
mod browser;
mod chargers;
mod commissioning;
mod common_responses;
mod config;
mod driver_account;
mod driver_charges;
mod driver_favourites;
mod driver_privacy;
mod drivers;
mod errors;
mod extract;
mod fleet;
mod governance;
mod ledger;
pub mod login_throttle;
mod map;
mod operators;
mod overview;
mod partners;
mod payments;
mod phone_login;
mod receipts;
mod roaming;
mod sessions;
mod staff;
mod tariffs;
mod tokens;
mod trail;
mod views;

pub use config::ApiConfig;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post, put};
use chargemesh_operations::Operations;
use chargemesh_operations::passwords;
use common_responses::CommonResponses;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};

pub struct ApiState {
    pub operations: Operations,
    pub metrics: PrometheusHandle,
    pub settings: ApiConfig,
    /// The accounts whose login is being checked now.
    pub logins_in_flight: login_throttle::InFlight,
    pub ledger: Option<Arc<chargemesh_operations::ledger::LedgerNode>>,
    pub federation: Arc<chargemesh_federation::Federation>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "chargemesh operator and driver API", description = "Operators, sites, chargers, sessions, tokens and commands of one chargemesh node; and, under /api/v1/driver, its drivers' own API: chargers of the whole consortium, charges, live sessions, history and receipts."),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password, map::settings,
        api_keys::create, api_keys::list, api_keys::revoke,
        staff::create, staff::list, staff::get, staff::update, staff::delete,
        audit::list, audit::export,
        operators::create_operator, operators::list_operators, operators::update_operator, operators::delete_operator,
        operators::create_site, operators::list_sites, operators::get_site, operators::update_site, operators::delete_site,
        chargers::create_charger, chargers::list_chargers, chargers::get_charger, chargers::update_charger,
        overview::overview, overview::live_overview, fleet::page,
        chargers::delete_charger, chargers::status_history, chargers::messages, chargers::send_command, chargers::get_command,
        commissioning::put_commissioning, commissioning::get_commissioning, commissioning::decommission,
        sessions::list_sessions, sessions::get_session, sessions::live_session, receipts::get_receipt, receipts::get_receipt_page, receipts::get_cdr,
        tokens::put_token, tokens::list_tokens, tokens::get_token, tokens::delete_token,
        tariffs::create_tariff, tariffs::create_version, tariffs::validate_tariff, tariffs::list_tariffs, tariffs::get_tariff,
        tariffs::preview, tariffs::projection, tariffs::assign_site, tariffs::unassign_site, tariffs::assign_charger,
        tariffs::unassign_charger, tariffs::assign_connector, tariffs::unassign_connector,
        payments::get_payment, payments::refund, payments::get_wallet, payments::top_up, payments::withdraw,
        payments::set_wallets, payments::reconciliation, operators::set_driver_signup,
        ledger::summary, ledger::list_blocks, ledger::get_block, ledger::get_transaction, ledger::submit,
        ledger::list_members, ledger::list_chargers, ledger::get_charger, ledger::list_tariffs, ledger::get_cdr,
        ledger::list_disputes, ledger::resolve, ledger::list_obligations, ledger::list_clearing, ledger::confirm_paid, ledger::confirm_received,
        ledger::feed_status, ledger::status,
        governance::governance, governance::propose, governance::vote,
        roaming::list_locations, roaming::list_tariffs, roaming::search, roaming::start, roaming::list_starts, roaming::get_start, roaming::live_start, roaming::stop, roaming::unlock, roaming::start_reserved, roaming::cancel_reservation, roaming::dispute, roaming::outbox,
        partners::create, partners::list, partners::revoke,
        drivers::create, drivers::list, drivers::get, drivers::update, driver_privacy::driver_data, driver_privacy::close_driver,
        driver_privacy::my_data, driver_privacy::close_mine,
        phone_login::send_code, phone_login::log_in,
        driver_account::login, driver_account::logout, driver_account::me, driver_account::change_password,
        driver_charges::search, driver_charges::charger, driver_charges::start, driver_charges::history,
        driver_charges::get, driver_charges::live, driver_charges::stop, driver_charges::start_reserved,
        driver_charges::cancel_reservation, driver_charges::receipt,
        driver_favourites::list, driver_favourites::add, driver_favourites::remove,
    ),
    modifiers(&Security, &CommonResponses)
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))));
    }
}

pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes")
}

pub fn router(state: Arc<ApiState>) -> Router {
    let v1 = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/map", get(map::settings))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/me/password", put(auth::change_password))
        .route("/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api-keys/{id}", axum::routing::delete(api_keys::revoke))
        .route("/staff", get(staff::list).post(staff::create))
        .route("/staff/{id}", get(staff::get).patch(staff::update).delete(staff::delete))
        .route("/audit", get(audit::list))
        .route("/audit/export", get(audit::export))
        .route("/operators", get(operators::list_operators).post(operators::create_operator))
        .route("/operators/{id}", patch(operators::update_operator).delete(operators::delete_operator))
        .route("/sites", get(operators::list_sites).post(operators::create_site))
        .route("/sites/{id}", get(operators::get_site).patch(operators::update_site).delete(operators::delete_site))
        .route("/overview", get(overview::overview))
        .route("/overview/live", get(overview::live_overview))
        .route("/fleet", get(fleet::page))
        .route("/chargers", get(chargers::list_chargers).post(chargers::create_charger))
        .route(
            "/chargers/{station_id}",
            get(chargers::get_charger).patch(chargers::update_charger).delete(chargers::delete_charger),
        )
        .route("/chargers/{station_id}/status-history", get(chargers::status_history))
        .route("/chargers/{station_id}/messages", get(chargers::messages))
        .route("/chargers/{station_id}/commands", post(chargers::send_command))
        .route(
            "/chargers/{station_id}/commissioning",
            put(commissioning::put_commissioning)
                .get(commissioning::get_commissioning)
                .delete(commissioning::decommission),
        )
        .route("/commands/{id}", get(chargers::get_command))
        .route("/tariffs", get(tariffs::list_tariffs).post(tariffs::create_tariff))
        .route("/tariffs/validate", post(tariffs::validate_tariff))
        .route("/tariffs/{id}", get(tariffs::get_tariff))
        .route("/tariffs/{id}/versions", post(tariffs::create_version))
        .route("/tariffs/{id}/preview", post(tariffs::preview))
        .route("/tariffs/{id}/versions/{version}/projection", get(tariffs::projection))
        .route("/sites/{id}/tariff", put(tariffs::assign_site).delete(tariffs::unassign_site))
        .route("/chargers/{station_id}/tariff", put(tariffs::assign_charger).delete(tariffs::unassign_charger))
        .route(
            "/chargers/{station_id}/connectors/{connector_id}/tariff",
            put(tariffs::assign_connector).delete(tariffs::unassign_connector),
        )
        .route("/sessions", get(sessions::list_sessions))
        .route("/sessions/{id}", get(sessions::get_session))
        .route("/sessions/{id}/live", get(sessions::live_session))
        .route("/sessions/{id}/receipt", get(receipts::get_receipt))
        .route("/sessions/{id}/cdr", get(receipts::get_cdr))
        .route("/sessions/{id}/payment", get(payments::get_payment))
        .route("/sessions/{id}/refunds", post(payments::refund))
        .route("/tokens/{id_token}/wallet", get(payments::get_wallet))
        .route("/tokens/{id_token}/wallet/top-ups", post(payments::top_up))
        .route("/tokens/{id_token}/wallet/withdrawals", post(payments::withdraw))
        .route("/operators/{id}/wallets", put(payments::set_wallets))
        .route("/operators/{id}/driver-signup", put(operators::set_driver_signup))
        .route("/payments/reconciliation", get(payments::reconciliation))
        .route("/sessions/{id}/receipt.html", get(receipts::get_receipt_page))
        .route("/tokens", get(tokens::list_tokens))
        .route("/tokens/{id_token}", put(tokens::put_token).get(tokens::get_token).delete(tokens::delete_token))
        .route("/ledger", get(ledger::summary))
        .route("/ledger/blocks", get(ledger::list_blocks))
        .route("/ledger/blocks/{height}", get(ledger::get_block))
        .route("/ledger/transactions", post(ledger::submit))
        .route("/ledger/transactions/{id}", get(ledger::get_transaction))
        .route("/ledger/members", get(ledger::list_members))
        .route("/ledger/chargers", get(ledger::list_chargers))
        .route("/ledger/chargers/{evse_id}", get(ledger::get_charger))
        .route("/ledger/tariffs", get(ledger::list_tariffs))
        .route("/ledger/cdrs/{cpo}/{cdr_id}", get(ledger::get_cdr))
        .route("/ledger/disputes", get(ledger::list_disputes))
        .route("/ledger/cdrs/{cpo}/{cdr_id}/resolution", post(ledger::resolve))
        .route("/ledger/obligations", get(ledger::list_obligations))
        .route("/ledger/clearing", get(ledger::list_clearing))
        .route("/ledger/clearing/{period}/transfers/{index}/paid", post(ledger::confirm_paid))
        .route("/ledger/clearing/{period}/transfers/{index}/received", post(ledger::confirm_received))
        .route("/ledger/feed", get(ledger::feed_status))
        .route("/ledger/status", get(ledger::status))
        .route("/ledger/governance", get(governance::governance))
        .route("/ledger/governance/proposals", post(governance::propose))
        .route("/ledger/governance/proposals/{id}/votes", post(governance::vote))
        .route("/roaming/locations", get(roaming::list_locations))
        .route("/roaming/tariffs", get(roaming::list_tariffs))
        .route("/roaming/search", get(roaming::search))
        .route("/roaming/starts", get(roaming::list_starts).post(roaming::start))
        .route("/roaming/starts/{id}", get(roaming::get_start))
        .route("/roaming/starts/{id}/live", get(roaming::live_start))
        .route("/roaming/starts/{id}/stop", post(roaming::stop))
        .route("/roaming/starts/{id}/unlock", post(roaming::unlock))
        .route("/roaming/starts/{id}/start", post(roaming::start_reserved))
        .route("/roaming/starts/{id}/cancel", post(roaming::cancel_reservation))
        .route("/roaming/starts/{id}/dispute", post(roaming::dispute))
        .route("/roaming/outbox", get(roaming::outbox))
        .route("/ocpi/partners", post(partners::create).get(partners::list))
        .route("/ocpi/partners/{id}", axum::routing::delete(partners::revoke))
        .route("/drivers", get(drivers::list).post(drivers::create))
        .route("/drivers/{id}", get(drivers::get).patch(drivers::update))
        .route("/drivers/{id}/data", get(driver_privacy::driver_data))
        .route("/drivers/{id}/close", post(driver_privacy::close_driver))
        .route("/driver/me/data", get(driver_privacy::my_data))
        .route("/driver/me/close", post(driver_privacy::close_mine))
        .route("/driver/login", post(driver_account::login))
        .route("/driver/phone-code", post(phone_login::send_code))
        .route("/driver/phone-login", post(phone_login::log_in))
        .route("/driver/logout", post(driver_account::logout))
        .route("/driver/me", get(driver_account::me))
        .route("/driver/password", put(driver_account::change_password))
        .route("/driver/chargers", get(driver_charges::search))
        .route("/driver/favourites", get(driver_favourites::list))
        .route(
            "/driver/favourites/{operator}/{evse_uid}",
            put(driver_favourites::add).delete(driver_favourites::remove),
        )
        .route("/driver/chargers/{operator}/{evse_uid}", get(driver_charges::charger))
        .route("/driver/charges", get(driver_charges::history).post(driver_charges::start))
        .route("/driver/charges/{id}", get(driver_charges::get))
        .route("/driver/charges/{id}/live", get(driver_charges::live))
        .route("/driver/charges/{id}/stop", post(driver_charges::stop))
        .route("/driver/charges/{id}/start", post(driver_charges::start_reserved))
        .route("/driver/charges/{id}/cancel", post(driver_charges::cancel_reservation))
        .route("/driver/charges/{id}/receipt", get(driver_charges::receipt))
        .route("/openapi.json", get(openapi))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), access::enforce))
        .fallback(|| async { errors::ApiError::not_found("this API path") })
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", v1)
        .route("/metrics", get(metrics))
        .route("/health", get(|| async { "ok" }))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> errors::ApiError {
    errors::ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not answer {method} (see /api/v1/openapi.json)", uri.path()),
    )
}

/// The headers every answer of the node's HTTP port carries, HTML pages (receipts) first among
/// them: no script, style only inline, nothing framed, no sniffing, no referrer.
pub async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.entry(name).or_insert(axum::http::HeaderValue::from_static(value));
    }
    response
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

/// Prometheus metrics; with `api.metrics_token` set, only for `Authorization: Bearer <token>`.
async fn metrics(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, errors::ApiError> {
    let wanted = &state.settings.metrics_token;
    if !wanted.is_empty() {
        let presented = auth::presented_secret(&headers).unwrap_or_default();
        // Compared by digest: equal length, and no early exit that times where they differ.
        if passwords::digest(presented) != passwords::digest(wanted) {
            return Err(errors::ApiError::unauthorized("send `Authorization: Bearer <api.metrics_token>`"));
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()))
}
