//! The answers every operation may give apart from its own, declared in the OpenAPI document from
//! what produces them: the access layer (401, 403, and 413 for a body too large to audit), the
//! extractors (404 for a path parameter that names nothing, 422 for a body or query that does not
//! read, 400 for a plain request to a WebSocket endpoint) and a store failure (500). Each handler declares its own answers beside its code.

use super::access::{self, Access};
use chargemesh_core::access::{Need, Role};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

pub struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("GET", &mut item.get),
                ("PUT", &mut item.put),
                ("POST", &mut item.post),
                ("DELETE", &mut item.delete),
                ("PATCH", &mut item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let route = access::find(method, path)
                    .unwrap_or_else(|| panic!("{method} {path} is documented but has no access rule"));
                declare(operation, route.access, method, path);
            }
        }
    }
}

fn declare(operation: &mut Operation, route_access: Access, method: &str, path: &str) {
    let parameters = operation.parameters.iter().flatten();
    let has_query = parameters.clone().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let has_body = operation.request_body.is_some();
    let websocket = operation.responses.responses.contains_key("101");
    let mut add = |status: &str, description: &str| {
        let error = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        let response = ResponseBuilder::new().description(description).content("application/json", error).build();
        operation.responses.responses.entry(status.to_owned()).or_insert(RefOr::T(response));
    };
    if route_access != Access::Public {
        add("401", "`unauthorized`: no valid credential of the kind the route needs");
    }
    if let Access::Staff(need) = route_access
        && need != Need::Read
        && Role::ALL.iter().any(|role| !role.permits(need))
    {
        add("403", "`forbidden`: the caller's role may not (see the access matrix)");
    }
    if path.contains('{') {
        add("404", "`not_found`: a path parameter names nothing the caller sees");
    }
    if has_body || has_query {
        add("422", "`invalid_request`: the body or query does not read");
    }
    if websocket {
        add("400", "`invalid_request`: not a WebSocket upgrade");
    }
    if method != "GET" && route_access != Access::Public {
        add("413", "`invalid_request`: the body is larger than 2 MiB");
    }
    add("500", "`internal`: the node could not complete the request");
}
