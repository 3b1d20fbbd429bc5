//! The WebSocket handshake: station identity, charger authentication, subprotocol and extensions.

use crate::adapter::adapter_for;
use crate::{Admission, Credentials, EventSink, Gateway, GatewayConfig, connection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chargemesh_core::StationId;
use chargemesh_protocol::ocppj::OcppVersion;
use futures::SinkExt;
use std::sync::Arc;
use yawc::{DeflateOptions, Frame, IncomingUpgrade, Options};

pub async fn accept<S: EventSink>(
    State(gateway): State<Arc<Gateway<S>>>,
    Path(station_id): Path<String>,
    headers: HeaderMap,
    upgrade: IncomingUpgrade,
) -> Response {
    let station = match StationId::parse(&station_id) {
        Ok(station) => station,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &station_id, &e.to_string()),
    };
    if let Err(response) = admit(&gateway, &station, &headers).await {
        return response;
    }
    let offer = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let version = OcppVersion::negotiate(&offer);
    let (response, upgraded) = match upgrade.upgrade(socket_options(&gateway.config)) {
        Ok(pair) => pair,
        Err(e) => {
            return refuse(StatusCode::BAD_REQUEST, &station_id, &format!("bad WebSocket handshake: {e}"));
        }
    };
    let mut response = response.map(axum::body::Body::new);
    match version {
        Some(version) => {
            response
                .headers_mut()
                .insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(version.subprotocol()));
            tokio::spawn(async move {
                match upgraded.await {
                    Ok(socket) => connection::run(gateway, station, adapter_for(version), socket).await,
                    Err(e) => {
                        tracing::warn!(station = %station, error = %e, "WebSocket upgrade failed")
                    }
                }
            });
        }
        None => {
            // As OCPP-J says: finish the handshake without a subprotocol, then close.
            tracing::warn!(station = %station, offered = %offer, "no supported OCPP version offered; closing");
            metrics::counter!("chargemesh_ocpp_connections_refused_total", "reason" => "subprotocol").increment(1);
            tokio::spawn(async move {
                if let Ok(mut socket) = upgraded.await {
                    let reason = "no supported subprotocol: offer ocpp1.6";
                    let _ = socket.send(Frame::close(yawc::close::CloseCode::Protocol, reason)).await;
                }
            });
        }
    }
    response
}

/// Asks operations whether the station may connect; the error is the HTTP refusal.
async fn admit<S: EventSink>(gateway: &Gateway<S>, station: &StationId, headers: &HeaderMap) -> Result<(), Response> {
    let require_credentials = gateway.config.security_profile >= 1;
    let admission = gateway.sink.admit(station, require_credentials, basic_credentials(headers)).await;
    match admission {
        Ok(Admission::Admitted) => Ok(()),
        Ok(Admission::Unknown) => Err(refuse(StatusCode::NOT_FOUND, station.as_str(), "unknown charging station")),
        Ok(Admission::CredentialsRequired) => {
            let mut response = refuse(StatusCode::UNAUTHORIZED, station.as_str(), "HTTP Basic authentication required");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"chargemesh\""));
            Err(response)
        }
        Ok(Admission::WrongCredentials) => {
            Err(refuse(StatusCode::UNAUTHORIZED, station.as_str(), "wrong station, wrong key, or no key registered"))
        }
        Err(e) => {
            tracing::error!(station = %station, error = %e, "cannot decide on admission during handshake");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<Credentials> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    // The authorization key may be binary in OCPP; chargemesh issues printable keys.
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials { user: user.to_owned(), password: password.to_owned() })
}

fn refuse(status: StatusCode, station: &str, reason: &str) -> Response {
    tracing::warn!(station = %station, status = status.as_u16(), reason, "charger connection refused");
    metrics::counter!("chargemesh_ocpp_connections_refused_total", "reason" => status.as_str().to_owned()).increment(1);
    (status, reason.to_owned()).into_response()
}

/// Buffers sized for small OCPP messages: an idle charger should cost a few kilobytes, not the
/// library defaults sized for streaming.
fn socket_options(config: &GatewayConfig) -> Options {
    let max = config.max_message_bytes;
    let mut options = Options::default()
        .with_max_payload_read(max * 2)
        .with_max_read_buffer(max * 2)
        .with_read_buffer_capacity(1024)
        .with_write_buffer_capacity(1024)
        .with_utf8();
    if config.compression {
        // No context takeover: no compression window is kept between messages, so an idle connection
        // holds no zlib state.
        options.compression = Some(DeflateOptions {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..DeflateOptions::low_latency()
        });
    }
    options
}
