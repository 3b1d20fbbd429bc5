//! Bad input from chargers gets OCPP's own error (or an HTTP refusal), changes nothing, and leaves the
//! node and other chargers' sessions alone.

mod common;

use chargemesh_node::config::UnknownChargerPolicy;
use chargemesh_sim::{ChargePoint, Connection, SimError};
use common::{TestNode, at, test_config};
use serde_json::{Value, json};

fn error_of(text: &str) -> (String, String) {
    let frame: Value = serde_json::from_str(text).unwrap();
    assert_eq!(frame[0], 4, "a CALLERROR: {text}");
    (frame[1].as_str().unwrap().to_owned(), frame[2].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn malformed_messages_get_ocpp_1_6_errors_and_change_nothing() {
    let node = TestNode::start("bad-frames").await;
    node.provision("Bad Input Co", &["GOOD-1", "BAD-1"], &["GOOD-CARD"]).await;
    let mut good = node.charger("GOOD-1").await;
    good.boot().await.unwrap();
    let tx = good.start_transaction(1, "GOOD-CARD", 0, at("2026-04-01T10:00:00Z")).await.unwrap();

    let mut bad = node.charger("BAD-1").await;
    bad.boot().await.unwrap();
    let cases = [
        ("[2, \"m1\", \"Heartbeat\"", ("-1", "FormationViolation")),
        ("not json at all", ("-1", "FormationViolation")),
        ("{\"a\": 1}", ("-1", "FormationViolation")),
        ("[2, \"m2\", \"Heartbeat\", []]", ("m2", "FormationViolation")),
        ("[7, \"m3\", {}]", ("m3", "NotSupported")),
        ("[2, \"m4\", \"FlyToTheMoon\", {}]", ("m4", "NotImplemented")),
        ("[2, \"m5\", \"Authorize\", {\"idTag\": 42}]", ("m5", "TypeConstraintViolation")),
        ("[2, \"m6\", \"Authorize\", {}]", ("m6", "OccurenceConstraintViolation")),
        (
            "[2, \"m7\", \"StatusNotification\", {\"connectorId\": 1, \"errorCode\": \"NoError\", \"status\": \"Dancing\"}]",
            ("m7", "PropertyConstraintViolation"),
        ),
        ("[2, \"m8\", \"Reset\", {\"type\": \"Hard\"}]", ("m8", "NotSupported")),
    ];
    for (text, (id, code)) in cases {
        let reply = bad.send_raw(text).await.unwrap();
        assert_eq!(error_of(&reply), (id.to_owned(), code.to_owned()), "for {text}");
    }
    let oversized = json!([2, "big", "DataTransfer", {"vendorId": "x", "data": "y".repeat(70_000)}]).to_string();
    assert_eq!(error_of(&bad.send_raw(oversized).await.unwrap()), ("big".to_owned(), "FormationViolation".to_owned()));
    // A duplicate message id with the same payload is answered again, identically.
    let start = json!({"connectorId": 1, "idTag": "GOOD-CARD", "meterStart": 5, "timestamp": "2026-04-01T10:01:00Z"});
    let first = bad.call_with_id("same", "StartTransaction", start.clone()).await.unwrap();
    let second = bad.call_with_id("same", "StartTransaction", start).await.unwrap();
    assert_eq!(first, second);
    // The misbehaving charger is still served, and the other charger's session goes on untouched.
    bad.heartbeat().await.unwrap();
    good.meter_values(1, tx, 1_000, 7_000, at("2026-04-01T10:10:00Z")).await.unwrap();
    good.stop_transaction(tx, 2_000, at("2026-04-01T10:20:00Z"), "Local").await.unwrap();
    let sessions = node.sessions_of("GOOD-1").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["energy_mwh"], 2_000_000);
    assert_eq!(node.sessions_of("BAD-1").await.len(), 1);
    // More than twice the limit is not even read: the connection closes (WebSocket status 1009,
    // message too big), and the charger may connect again.
    let huge = json!([2, "huge", "DataTransfer", {"vendorId": "x", "data": "y".repeat(140_000)}]).to_string();
    assert!(matches!(bad.send_raw(huge).await, Err(SimError::Closed)));
    let mut again = node.charger("BAD-1").await;
    again.heartbeat().await.unwrap();
    node.stop().await;
}

#[tokio::test]
async fn unknown_stations_are_refused_or_held_pending() {
    let node = TestNode::start("unknown-refused").await;
    match ChargePoint::connect("NOBODY", node.connection()).await {
        Err(SimError::Refused(404)) => {}
        other => panic!("expected HTTP 404, got {:?}", other.map(|cp| cp.station_id)),
    }
    node.stop().await;

    let mut config = test_config("unknown-pending");
    config.gateway.unknown_chargers = UnknownChargerPolicy::Pending;
    let node = TestNode::start_with(config).await;
    let mut cp = node.charger("NEWCOMER").await;
    assert_eq!(cp.boot().await.unwrap()["status"], "Pending");
    cp.heartbeat().await.unwrap();
    match cp.authorize("ANY").await {
        Err(SimError::CallError { code, .. }) => assert_eq!(code, "SecurityError"),
        other => panic!("a pending charger may not authorize: {other:?}"),
    }
    assert_eq!(node.get("/chargers/NEWCOMER").await["registration"], "Pending");
    // An operator accepts it; the charger's next boot is accepted.
    let operator_id = node.provision("Adopters", &[], &[]).await;
    let (status, body) = node
        .request(
            reqwest::Method::PATCH,
            "/chargers/NEWCOMER",
            &node.token.clone(),
            Some(json!({"operator_id": operator_id, "registration": "Accepted"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cp.boot().await.unwrap()["status"], "Accepted");
    node.stop().await;
}

#[tokio::test]
async fn security_profile_1_checks_the_authorization_key() {
    let mut config = test_config("profile-1");
    config.gateway.security_profile = 1;
    let node = TestNode::start_with(config).await;
    let operator_id = node.provision("Keyed Co", &[], &["KEY-CARD"]).await;
    let (status, body) = node
        .post(
            "/chargers",
            json!({"station_id": "KEYED-1", "operator_id": operator_id, "auth_key": "0123456789abcdef-secret"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["has_auth_key"], true);
    assert!(body.get("auth_key_hash").is_none(), "the hash is never shown");

    let with_key = |key: Option<&str>| Connection { auth_key: key.map(str::to_owned), ..node.connection() };
    // An unknown station is refused exactly as a known one with no key or a wrong one: nobody
    // learns which station ids exist.
    for station in ["KEYED-1", "NOBODY-1"] {
        for (key, expected) in [(None, 401), (Some("wrong-key-0123456789"), 401)] {
            match ChargePoint::connect(station, with_key(key)).await {
                Err(SimError::Refused(status)) => assert_eq!(status, expected, "{station}"),
                other => panic!("expected a refusal, got {:?}", other.map(|cp| cp.station_id)),
            }
        }
    }
    let refusal = |station: &str| {
        let request = format!(
            "GET /ocpp/{station} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\
             Authorization: Basic {}\r\n\r\n",
            base64_of(&format!("{station}:wrong-key-0123456789"))
        );
        raw_response(&node, request)
    };
    // Everything but the Date header, which may tick between the two requests.
    let undated =
        |response: String| response.lines().filter(|line| !line.starts_with("date:")).collect::<Vec<_>>().join("\n");
    let (known, unknown) = (undated(refusal("KEYED-1").await), undated(refusal("NOBODY-1").await));
    assert_eq!(known.replace("keyed-1", "x"), unknown.replace("nobody-1", "x"), "the same refusal");
    let mut cp = ChargePoint::connect("KEYED-1", with_key(Some("0123456789abcdef-secret"))).await.unwrap();
    assert_eq!(cp.boot().await.unwrap()["status"], "Accepted");
    node.stop().await;
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The handshake response to a raw upgrade request offering `protocols` and permessage-deflate.
async fn handshake_response(node: &TestNode, station: &str, protocols: &str) -> String {
    let request = format!(
        "GET /ocpp/{station} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocols}\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    );
    raw_response(node, request).await
}

/// The gateway's response head to a raw HTTP request, lower-cased.
async fn raw_response(node: &TestNode, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(node.node().gateway_addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 1024];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed during the handshake");
        response.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&response).to_lowercase()
}

#[tokio::test]
async fn the_handshake_negotiates_ocpp_1_6_and_permessage_deflate() {
    let node = TestNode::start("handshake").await;
    node.provision("Deflate Co", &["ZIP-1"], &[]).await;
    let response = handshake_response(&node, "ZIP-1", "ocpp2.0.1, ocpp1.6").await;
    assert!(response.starts_with("http/1.1 101"), "{response}");
    assert!(response.contains("sec-websocket-protocol: ocpp1.6"), "{response}");
    assert!(response.contains("sec-websocket-extensions: permessage-deflate"), "{response}");
    // Nothing we speak: the handshake completes without a subprotocol (and the node then closes).
    let response = handshake_response(&node, "ZIP-1", "ocpp2.1").await;
    assert!(response.starts_with("http/1.1 101"), "{response}");
    assert!(!response.contains("sec-websocket-protocol"), "{response}");

    // A compressed conversation works end to end.
    let connection = Connection { compression: true, ..node.connection() };
    let mut cp = ChargePoint::connect("ZIP-1", connection).await.unwrap();
    assert_eq!(cp.boot().await.unwrap()["status"], "Accepted");
    let big = json!({"vendorId": "acme", "data": "compressible ".repeat(2_000)});
    assert_eq!(cp.call("DataTransfer", big).await.unwrap()["status"], "UnknownVendorId");
    node.stop().await;
}

/// A connection that never completes its WebSocket handshake is dropped after the handshake
/// timeout, on the gateway and the API alike: half-open connections cannot pile up.
#[tokio::test]
async fn a_handshake_that_never_completes_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = test_config("slow-handshake");
    config.gateway.handshake_timeout_secs = 1;
    config.api.header_timeout_secs = 1;
    let node = TestNode::start_with(config).await;
    for address in [node.node().gateway_addr, node.node().api_addr] {
        let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        tcp.write_all(b"GET /ocpp/SLOW-1 HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(std::time::Duration::from_secs(15), tcp.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(_)) | Ok(Err(_))), "still open after 15 s");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    }
    node.stop().await;
}
