//! Who may call each route of the API: the one table of it, and the layer that enforces it before
//! any handler runs. A handler still decides *which* objects a caller sees (its operator's), but
//! never *whether* a role may call it.

use super::ApiState;
use super::auth::Caller;
use super::driver_account::DriverCaller;
use super::errors::ApiError;
use super::trail::{self, ClientAddress};
use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chargemesh_core::access::{Need, Role};
use std::sync::Arc;

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: logging in, the API's description.
    Public,
    /// A staff account (login or API key) whose role permits it.
    Staff(Need),
    /// A driver's login.
    Driver,
}

/// A route, what it is for (its name in the audit log) and who may call it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub action: &'static str,
    pub access: Access,
}

const fn route(method: &'static str, path: &'static str, action: &'static str, access: Access) -> Route {
    Route { method, path, action, access }
}

use Access::{Driver, Public, Staff};
use Need::{MemberAdmin, MemberFinance, MemberRead, OperatorAdmin, Read, Write};

/// Every route of the API under `/api/v1`, with the access it needs. The router, the OpenAPI
/// document and this table must name the same routes (a test holds them to it).
pub const ROUTES: &[Route] = &[
    route("POST", "/api/v1/auth/login", "auth.login", Public),
    route("GET", "/api/v1/map", "map.settings", Public),
    route("POST", "/api/v1/auth/logout", "auth.logout", Staff(Read)),
    route("GET", "/api/v1/me", "me.get", Staff(Read)),
    route("PUT", "/api/v1/me/password", "me.change_password", Staff(Read)),
    route("GET", "/api/v1/api-keys", "api_keys.list", Staff(Read)),
    route("POST", "/api/v1/api-keys", "api_keys.create", Staff(Read)),
    route("DELETE", "/api/v1/api-keys/{id}", "api_keys.revoke", Staff(Read)),
    route("GET", "/api/v1/staff", "staff.list", Staff(OperatorAdmin)),
    route("POST", "/api/v1/staff", "staff.create", Staff(OperatorAdmin)),
    route("GET", "/api/v1/staff/{id}", "staff.get", Staff(OperatorAdmin)),
    route("PATCH", "/api/v1/staff/{id}", "staff.update", Staff(OperatorAdmin)),
    route("DELETE", "/api/v1/staff/{id}", "staff.delete", Staff(OperatorAdmin)),
    route("GET", "/api/v1/audit", "audit.list", Staff(Read)),
    route("GET", "/api/v1/audit/export", "audit.export", Staff(Read)),
    route("GET", "/api/v1/operators", "operators.list", Staff(Read)),
    route("POST", "/api/v1/operators", "operators.create", Staff(MemberAdmin)),
    route("PATCH", "/api/v1/operators/{id}", "operators.update", Staff(MemberAdmin)),
    route("DELETE", "/api/v1/operators/{id}", "operators.delete", Staff(MemberAdmin)),
    route("PUT", "/api/v1/operators/{id}/wallets", "operators.set_wallets", Staff(OperatorAdmin)),
    route("PUT", "/api/v1/operators/{id}/driver-signup", "operators.set_driver_signup", Staff(MemberAdmin)),
    route("GET", "/api/v1/sites", "sites.list", Staff(Read)),
    route("POST", "/api/v1/sites", "sites.create", Staff(Write)),
    route("GET", "/api/v1/sites/{id}", "sites.get", Staff(Read)),
    route("PATCH", "/api/v1/sites/{id}", "sites.update", Staff(Write)),
    route("DELETE", "/api/v1/sites/{id}", "sites.delete", Staff(Write)),
    route("PUT", "/api/v1/sites/{id}/tariff", "sites.assign_tariff", Staff(Write)),
    route("DELETE", "/api/v1/sites/{id}/tariff", "sites.unassign_tariff", Staff(Write)),
    route("GET", "/api/v1/overview", "overview.get", Staff(Read)),
    route("GET", "/api/v1/overview/live", "overview.live", Staff(Read)),
    route("GET", "/api/v1/fleet", "fleet.get", Staff(Read)),
    route("GET", "/api/v1/chargers", "chargers.list", Staff(Read)),
    route("POST", "/api/v1/chargers", "chargers.create", Staff(Write)),
    route("GET", "/api/v1/chargers/{station_id}", "chargers.get", Staff(Read)),
    route("PATCH", "/api/v1/chargers/{station_id}", "chargers.update", Staff(Write)),
    route("DELETE", "/api/v1/chargers/{station_id}", "chargers.delete", Staff(Write)),
    route("GET", "/api/v1/chargers/{station_id}/status-history", "chargers.status_history", Staff(Read)),
    route("GET", "/api/v1/chargers/{station_id}/messages", "chargers.messages", Staff(Read)),
    route("POST", "/api/v1/chargers/{station_id}/commands", "chargers.command", Staff(Write)),
    route("PUT", "/api/v1/chargers/{station_id}/commissioning", "chargers.commission", Staff(Write)),
    route("GET", "/api/v1/chargers/{station_id}/commissioning", "chargers.get_commissioning", Staff(Read)),
    route("DELETE", "/api/v1/chargers/{station_id}/commissioning", "chargers.decommission", Staff(Write)),
    route("PUT", "/api/v1/chargers/{station_id}/tariff", "chargers.assign_tariff", Staff(Write)),
    route("DELETE", "/api/v1/chargers/{station_id}/tariff", "chargers.unassign_tariff", Staff(Write)),
    route(
        "PUT",
        "/api/v1/chargers/{station_id}/connectors/{connector_id}/tariff",
        "connectors.assign_tariff",
        Staff(Write),
    ),
    route(
        "DELETE",
        "/api/v1/chargers/{station_id}/connectors/{connector_id}/tariff",
        "connectors.unassign_tariff",
        Staff(Write),
    ),
    route("GET", "/api/v1/commands/{id}", "commands.get", Staff(Read)),
    route("GET", "/api/v1/tariffs", "tariffs.list", Staff(Read)),
    route("POST", "/api/v1/tariffs", "tariffs.create", Staff(Write)),
    route("POST", "/api/v1/tariffs/validate", "tariffs.validate", Staff(Read)),
    route("GET", "/api/v1/tariffs/{id}", "tariffs.get", Staff(Read)),
    route("POST", "/api/v1/tariffs/{id}/versions", "tariffs.create_version", Staff(Write)),
    route("POST", "/api/v1/tariffs/{id}/preview", "tariffs.preview", Staff(Read)),
    route("GET", "/api/v1/tariffs/{id}/versions/{version}/projection", "tariffs.projection", Staff(Read)),
    route("GET", "/api/v1/sessions", "sessions.list", Staff(Read)),
    route("GET", "/api/v1/sessions/{id}", "sessions.get", Staff(Read)),
    route("GET", "/api/v1/sessions/{id}/live", "sessions.live", Staff(Read)),
    route("GET", "/api/v1/sessions/{id}/receipt", "sessions.receipt", Staff(Read)),
    route("GET", "/api/v1/sessions/{id}/receipt.html", "sessions.receipt_page", Staff(Read)),
    route("GET", "/api/v1/sessions/{id}/cdr", "sessions.cdr", Staff(Read)),
    route("GET", "/api/v1/sessions/{id}/payment", "sessions.payment", Staff(Read)),
    route("POST", "/api/v1/sessions/{id}/refunds", "sessions.refund", Staff(Write)),
    route("GET", "/api/v1/payments/reconciliation", "payments.reconciliation", Staff(MemberRead)),
    route("GET", "/api/v1/tokens", "tokens.list", Staff(Read)),
    route("GET", "/api/v1/tokens/{id_token}", "tokens.get", Staff(Read)),
    route("PUT", "/api/v1/tokens/{id_token}", "tokens.put", Staff(Write)),
    route("DELETE", "/api/v1/tokens/{id_token}", "tokens.delete", Staff(Write)),
    route("GET", "/api/v1/tokens/{id_token}/wallet", "wallets.get", Staff(Read)),
    route("POST", "/api/v1/tokens/{id_token}/wallet/top-ups", "wallets.top_up", Staff(Write)),
    route("POST", "/api/v1/tokens/{id_token}/wallet/withdrawals", "wallets.withdraw", Staff(Write)),
    route("GET", "/api/v1/drivers", "drivers.list", Staff(Read)),
    route("POST", "/api/v1/drivers", "drivers.create", Staff(Write)),
    route("GET", "/api/v1/drivers/{id}", "drivers.get", Staff(Read)),
    route("PATCH", "/api/v1/drivers/{id}", "drivers.update", Staff(Write)),
    route("GET", "/api/v1/drivers/{id}/data", "drivers.personal_data", Staff(Read)),
    route("POST", "/api/v1/drivers/{id}/close", "drivers.close", Staff(OperatorAdmin)),
    route("GET", "/api/v1/ledger", "ledger.summary", Staff(Read)),
    route("GET", "/api/v1/ledger/blocks", "ledger.blocks", Staff(Read)),
    route("GET", "/api/v1/ledger/blocks/{height}", "ledger.block", Staff(Read)),
    route("POST", "/api/v1/ledger/transactions", "ledger.submit", Staff(MemberAdmin)),
    route("GET", "/api/v1/ledger/transactions/{id}", "ledger.transaction", Staff(Read)),
    route("GET", "/api/v1/ledger/members", "ledger.members", Staff(Read)),
    route("GET", "/api/v1/ledger/chargers", "ledger.chargers", Staff(Read)),
    route("GET", "/api/v1/ledger/chargers/{evse_id}", "ledger.charger", Staff(Read)),
    route("GET", "/api/v1/ledger/tariffs", "ledger.tariffs", Staff(Read)),
    route("GET", "/api/v1/ledger/cdrs/{cpo}/{cdr_id}", "ledger.cdr", Staff(Read)),
    route("GET", "/api/v1/ledger/status", "ledger.status", Staff(Read)),
    route("GET", "/api/v1/ledger/disputes", "ledger.disputes", Staff(MemberRead)),
    route("POST", "/api/v1/ledger/cdrs/{cpo}/{cdr_id}/resolution", "disputes.resolve", Staff(MemberAdmin)),
    route("GET", "/api/v1/ledger/obligations", "ledger.obligations", Staff(MemberRead)),
    route("GET", "/api/v1/ledger/clearing", "ledger.clearing", Staff(MemberRead)),
    route(
        "POST",
        "/api/v1/ledger/clearing/{period}/transfers/{index}/paid",
        "clearing.confirm_paid",
        Staff(MemberFinance),
    ),
    route(
        "POST",
        "/api/v1/ledger/clearing/{period}/transfers/{index}/received",
        "clearing.confirm_received",
        Staff(MemberFinance),
    ),
    route("GET", "/api/v1/ledger/feed", "ledger.feed", Staff(MemberRead)),
    route("GET", "/api/v1/ledger/governance", "governance.get", Staff(MemberRead)),
    route("POST", "/api/v1/ledger/governance/proposals", "governance.propose", Staff(MemberAdmin)),
    route("POST", "/api/v1/ledger/governance/proposals/{id}/votes", "governance.vote", Staff(MemberAdmin)),
    route("GET", "/api/v1/roaming/locations", "roaming.locations", Staff(Read)),
    route("GET", "/api/v1/roaming/tariffs", "roaming.tariffs", Staff(Read)),
    route("GET", "/api/v1/roaming/search", "roaming.search", Staff(Read)),
    route("GET", "/api/v1/roaming/starts", "roaming.list_starts", Staff(Read)),
    route("POST", "/api/v1/roaming/starts", "roaming.start", Staff(Write)),
    route("GET", "/api/v1/roaming/starts/{id}", "roaming.get", Staff(Read)),
    route("GET", "/api/v1/roaming/starts/{id}/live", "roaming.live", Staff(Read)),
    route("POST", "/api/v1/roaming/starts/{id}/stop", "roaming.stop", Staff(Write)),
    route("POST", "/api/v1/roaming/starts/{id}/unlock", "roaming.unlock", Staff(Write)),
    route("POST", "/api/v1/roaming/starts/{id}/start", "roaming.start_reserved", Staff(Write)),
    route("POST", "/api/v1/roaming/starts/{id}/cancel", "roaming.cancel", Staff(Write)),
    route("POST", "/api/v1/roaming/starts/{id}/dispute", "roaming.dispute", Staff(Write)),
    route("GET", "/api/v1/roaming/outbox", "roaming.outbox", Staff(MemberRead)),
    route("GET", "/api/v1/ocpi/partners", "partners.list", Staff(MemberAdmin)),
    route("POST", "/api/v1/ocpi/partners", "partners.create", Staff(MemberAdmin)),
    route("DELETE", "/api/v1/ocpi/partners/{id}", "partners.revoke", Staff(MemberAdmin)),
    route("POST", "/api/v1/driver/login", "driver.login", Public),
    route("POST", "/api/v1/driver/phone-code", "driver.phone_code", Public),
    route("POST", "/api/v1/driver/phone-login", "driver.phone_login", Public),
    route("POST", "/api/v1/driver/logout", "driver.logout", Driver),
    route("GET", "/api/v1/driver/me", "driver.me", Driver),
    route("GET", "/api/v1/driver/me/data", "driver.personal_data", Driver),
    route("POST", "/api/v1/driver/me/close", "driver.close", Driver),
    route("PUT", "/api/v1/driver/password", "driver.change_password", Driver),
    route("GET", "/api/v1/driver/favourites", "driver.favourites", Driver),
    route("PUT", "/api/v1/driver/favourites/{operator}/{evse_uid}", "driver.add_favourite", Driver),
    route("DELETE", "/api/v1/driver/favourites/{operator}/{evse_uid}", "driver.remove_favourite", Driver),
    route("GET", "/api/v1/driver/chargers", "driver.search", Driver),
    route("GET", "/api/v1/driver/chargers/{operator}/{evse_uid}", "driver.charger", Driver),
    route("GET", "/api/v1/driver/charges", "driver.history", Driver),
    route("POST", "/api/v1/driver/charges", "driver.start", Driver),
    route("GET", "/api/v1/driver/charges/{id}", "driver.charge", Driver),
    route("GET", "/api/v1/driver/charges/{id}/live", "driver.live", Driver),
    route("POST", "/api/v1/driver/charges/{id}/stop", "driver.stop", Driver),
    route("POST", "/api/v1/driver/charges/{id}/start", "driver.start_reserved", Driver),
    route("POST", "/api/v1/driver/charges/{id}/cancel", "driver.cancel", Driver),
    route("GET", "/api/v1/driver/charges/{id}/receipt", "driver.receipt", Driver),
    route("GET", "/api/v1/openapi.json", "openapi", Public),
];

/// The route a request matched, by method and path template.
pub fn find(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// Enforces [`ROUTES`] before the handler: authenticates the caller the route needs, refuses a
/// role the route's need does not permit (403), and hands the caller to the handler. A route
/// missing from the table is refused: access is never open by omission. Every request that
/// changes something, or is refused the right to, is appended to the audit log.
pub async fn enforce(
    State(state): State<Arc<ApiState>>,
    matched: MatchedPath,
    mut request: Request,
    next: Next,
) -> Response {
    // HEAD is answered as GET, and allowed as GET is.
    let method = match request.method().as_str() {
        "HEAD" => "GET",
        other => other,
    };
    let Some(route) = find(method, matched.as_str()) else {
        tracing::error!(method = %request.method(), path = matched.as_str(), "a route has no access rule");
        return ApiError::forbidden("this route has no access rule (a bug): it is refused").into_response();
    };
    let address = ClientAddress::of(request.extensions(), request.headers(), &state);
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path().to_owned(), |uri| uri.path().to_owned());
    let actor = match route.access {
        Access::Public => return next.run(request).await,
        Access::Staff(need) => {
            let caller = match Caller::authenticate(&state, request.method(), request.headers()).await {
                Ok(caller) => caller,
                Err(error) => return error.into_response(),
            };
            if !caller.role().permits(need) {
                let refusal = ApiError::forbidden(format!(
                    "{} needs {}; this {} acts as {}",
                    route.action,
                    describe(need),
                    caller.grant.kind.as_str().replace('_', " "),
                    caller.role()
                ))
                .into_response();
                return match route.method {
                    "GET" => refusal,
                    _ => {
                        trail::record_change(&state, route.action, &caller.actor(), address, (&path, None), refusal)
                            .await
                    }
                };
            }
            request.extensions_mut().insert(caller.clone());
            Authenticated::Staff(caller)
        }
        Access::Driver => match DriverCaller::authenticate(&state, request.method(), request.headers()).await {
            Ok(driver) => {
                request.extensions_mut().insert(driver.clone());
                Authenticated::Driver(driver)
            }
            Err(error) => return error.into_response(),
        },
    };
    // Reads change nothing; a change is recorded with what was asked (its body, read only now that
    // the caller is known).
    if route.method == "GET" {
        return next.run(request).await;
    }
    let (request, asked) = match trail::take_request_body(request).await {
        Ok(taken) => taken,
        Err(refusal) => return refusal,
    };
    let response = next.run(request).await;
    let actor = match &actor {
        Authenticated::Staff(caller) => caller.actor(),
        Authenticated::Driver(driver) => driver.actor(),
    };
    trail::record_change(&state, route.action, &actor, address, (&path, asked), response).await
}

/// Who a request is made by, once authenticated.
enum Authenticated {
    Staff(Caller),
    Driver(DriverCaller),
}

/// What a need asks for, in words.
pub fn describe(need: Need) -> &'static str {
    match need {
        Need::Read => "any staff account",
        Need::Write => "a role that writes (member_admin, admin, operator)",
        Need::OperatorAdmin => "an administrator (member_admin, or admin of the operator)",
        Need::MemberRead => "a role of the member (member_admin, member_finance, member_readonly)",
        Need::MemberFinance => "the member's finance (member_finance or member_admin)",
        Need::MemberAdmin => "the member's administrator (member_admin)",
    }
}

/// The table, as the README prints it: which role has which need, then the routes by need.
pub fn matrix_markdown() -> String {
    let mut text = String::from("| need | ");
    text.push_str(&Role::ALL.map(Role::as_str).join(" | "));
    text.push_str(" |\n|---|");
    text.push_str(&"---|".repeat(Role::ALL.len()));
    text.push('\n');
    for need in Need::ALL {
        text.push_str(&format!("| `{}` |", need.as_str()));
        for role in Role::ALL {
            text.push_str(if role.permits(need) { " ✓ |" } else { " |" });
        }
        text.push('\n');
    }
    text.push('\n');
    let groups = std::iter::once((Access::Public, "anyone".to_owned()))
        .chain(Need::ALL.map(|need| (Access::Staff(need), format!("`{}`", need.as_str()))))
        .chain([(Access::Driver, "a driver's login (a staff credential opens none of these)".to_owned())]);
    for (access, title) in groups {
        let names: Vec<String> = ROUTES
            .iter()
            .filter(|r| r.access == access)
            .map(|r| format!("`{} {}`", r.method, &r.path["/api/v1".len()..]))
            .collect();
        text.push_str(&format!("- {title}: {}\n", names.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(a.path.starts_with("/api/v1/"), "{}", a.path);
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {} twice", a.method, a.path);
                assert_ne!(a.action, b.action, "action {} twice", a.action);
            }
        }
    }

    #[test]
    fn the_readme_prints_the_matrix() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        let matrix = matrix_markdown();
        assert!(readme.contains(&matrix), "the README's access matrix is stale; it should read:\n\n{matrix}");
    }
}
