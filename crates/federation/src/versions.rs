//! The versions module: the one version this node speaks and its module endpoints.

use crate::Federation;
use crate::cpo::locations::SENDER;
use crate::cpo::publisher::RECEIVER;
use crate::cpo::tariffs;
use crate::emsp::starts::RESULTS;
use crate::reply;
use axum::extract::State;
use axum::response::Response;
use chargemesh_protocol::ocpi::VERSION;
use chargemesh_protocol::ocpi::versions::{Endpoint, InterfaceRole, Version, VersionDetails};
use std::sync::Arc;

pub async fn list(State(federation): State<Arc<Federation>>) -> Response {
    reply::ok(vec![Version { version: VERSION.into(), url: format!("{}/{VERSION}", federation.base_url) }])
}

pub async fn details(State(federation): State<Arc<Federation>>) -> Response {
    let endpoints = [
        ("credentials", InterfaceRole::Receiver, "credentials"),
        ("locations", InterfaceRole::Sender, SENDER),
        ("locations", InterfaceRole::Receiver, RECEIVER),
        ("tariffs", InterfaceRole::Sender, tariffs::SENDER),
        ("tariffs", InterfaceRole::Receiver, tariffs::RECEIVER),
        ("commands", InterfaceRole::Receiver, "cpo/commands"),
        ("commands", InterfaceRole::Sender, RESULTS),
        ("sessions", InterfaceRole::Receiver, "emsp/sessions"),
        ("cdrs", InterfaceRole::Receiver, "emsp/cdrs"),
    ]
    .map(|(module, role, path)| Endpoint { identifier: module.into(), role, url: federation.module_url(path) })
    .to_vec();
    reply::ok(VersionDetails { version: VERSION.into(), endpoints })
}
