//! OCPI between members: a member's requests are signed with its registered key and anything else
//! is refused in OCPI's terms; the node publishes its sites as locations, with commissioned
//! chargers as EVSEs and their live status, paginated.

mod common;

use chargemesh_federation::signature;
use common::{
    TestNode, down_until_started, federated_consortium, federated_consortium_clearing, guangdong_draft, member_key,
    test_config, two_member_consortium,
};
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// A GET signed by `member` with `key_of`'s key, at `at`.
fn signed_get(node: &TestNode, path: &str, member: &str, key_of: &str, at: Timestamp) -> reqwest::RequestBuilder {
    let mut request = node.client.get(format!("http://{}{path}", node.node().api_addr));
    for (name, value) in signature::sign(&member_key(key_of), member, "GET", path, b"", at) {
        request = request.header(name, value);
    }
    request
}

async fn body(response: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

async fn get(node: &TestNode, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    body(signed_get(node, path, "CN-M02", "CN-M02", Timestamp::now()).send().await.unwrap()).await
}

#[tokio::test]
async fn members_read_each_others_locations_with_signed_requests_and_nobody_else_does() {
    let config = test_config("federation-locations");
    two_member_consortium(&config);
    let node = TestNode::start_with(config).await;
    let operator = node.provision("Pearl River Charging", &["FED-1", "FED-2"], &[]).await;
    let first_site = node.get("/sites").await[0]["id"].as_i64().unwrap();
    let (status, site) = node
        .request(
            Method::PATCH,
            &format!("/sites/{first_site}"),
            &node.token(),
            Some(json!({"latitude": 22.5431, "longitude": 114.0579, "address": "1 Fuhua Road", "city": "Shenzhen"})),
        )
        .await;
    assert_eq!((status, site["city"].as_str()), (StatusCode::OK, Some("Shenzhen")), "{site}");
    let (status, second) = node
        .post("/sites", json!({"operator_id": operator, "name": "Nanshan", "latitude": 22.53, "longitude": 113.93, "city": "Shenzhen"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (status, body_) =
        node.post("/chargers", json!({"station_id": "FED-3", "operator_id": operator, "site_id": second["id"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body_}");
    let next_year = (Timestamp::now() + SignedDuration::from_hours(24 * 365)).to_string();
    for (station, connectors, watts) in [
        ("FED-1", json!(["gbt_dc", "ccs2"]), 120_000),
        ("FED-2", json!(["gbt_ac"]), 7_000),
        ("FED-3", json!(["gbt_dc"]), 60_000),
    ] {
        let (status, record) = node
            .request(
                Method::PUT,
                &format!("/chargers/{station}/commissioning"),
                &node.token(),
                Some(json!({
                    "max_power_watts": watts, "connectors": connectors, "metering_certificate": "CPA-2025-0001",
                    "calibration_certificate": "CAL-1", "calibration_expires_at": next_year,
                })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{record}");
    }
    let mut charger = node.charger("FED-1").await;
    charger.boot().await.unwrap();
    charger.status(1, "Charging").await.unwrap();
    charger.status(2, "Available").await.unwrap();

    // The versions module points at the modules.
    let (status, headers, versions) = get(&node, "/ocpi/versions").await;
    assert_eq!((status, versions["status_code"].as_i64()), (StatusCode::OK, Some(1000)), "{versions}");
    assert!(headers.contains_key("x-request-id") && headers.contains_key("x-correlation-id"));
    assert_eq!(versions["data"][0]["version"], "2.2.1");
    let (_, _, details) = get(&node, "/ocpi/2.2.1").await;
    let locations_url =
        details["data"]["endpoints"].as_array().unwrap().iter().find(|e| e["identifier"] == "locations");
    assert_eq!(locations_url.unwrap()["role"], "SENDER", "{details}");

    // Two locations, one per page, with the link to the next.
    let (status, headers, page) = get(&node, "/ocpi/2.2.1/cpo/locations?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(headers["x-total-count"], "2");
    assert_eq!(headers["x-limit"], "1");
    assert!(headers["link"].to_str().unwrap().contains("offset=1&limit=1>; rel=\"next\""), "{headers:?}");
    let location = &page["data"][0];
    assert_eq!((location["country_code"].as_str(), location["party_id"].as_str()), (Some("CN"), Some("M01")));
    assert_eq!((location["city"].as_str(), location["country"].as_str()), (Some("Shenzhen"), Some("CHN")));
    assert_eq!(location["coordinates"]["latitude"], "22.543100");
    let evses = location["evses"].as_array().unwrap();
    assert_eq!(evses.len(), 2, "{location}");
    let fed1 = evses.iter().find(|e| e["uid"] == "FED-1").unwrap();
    assert_eq!(fed1["status"], "CHARGING", "connected, one connector in use: {fed1}");
    assert_eq!(fed1["connectors"][0]["standard"], "GBT_DC");
    assert_eq!(fed1["connectors"][1]["standard"], "IEC_62196_T2_COMBO");
    assert_eq!(fed1["connectors"][0]["max_electric_power"], 120_000);
    let fed2 = evses.iter().find(|e| e["uid"] == "FED-2").unwrap();
    assert_eq!(
        (fed2["status"].as_str(), fed2["connectors"][0]["power_type"].as_str()),
        (Some("UNKNOWN"), Some("AC_3_PHASE"))
    );
    let (_, headers, last) = get(&node, "/ocpi/2.2.1/cpo/locations?offset=1&limit=1").await;
    assert_eq!(last["data"].as_array().unwrap().len(), 1);
    assert!(!headers.contains_key("link"), "the last page links nowhere");
    let (_, _, none) = get(&node, "/ocpi/2.2.1/cpo/locations?date_from=2100-01-01T00:00:00Z").await;
    assert_eq!(none["data"], json!([]), "nothing updated after 2100");

    // One object at a time, and an unknown one in OCPI's terms.
    let id = location["id"].as_str().unwrap();
    let (status, _, connector) = get(&node, &format!("/ocpi/2.2.1/cpo/locations/{id}/FED-1/2")).await;
    assert_eq!((status, connector["data"]["standard"].as_str()), (StatusCode::OK, Some("IEC_62196_T2_COMBO")));
    let (status, _, unknown) = get(&node, "/ocpi/2.2.1/cpo/locations/999").await;
    assert_eq!((status, unknown["status_code"].as_i64()), (StatusCode::NOT_FOUND, Some(2003)), "{unknown}");
    let (status, _, bad) = get(&node, "/ocpi/2.2.1/cpo/locations?date_from=yesterday").await;
    assert_eq!((status, bad["status_code"].as_i64()), (StatusCode::BAD_REQUEST, Some(2001)), "{bad}");

    // Refused: no proof, a replay, a member not registered, another member's key, a stale time.
    let path = "/ocpi/2.2.1/cpo/locations";
    let plain = node.client.get(format!("http://{}{path}", node.node().api_addr)).send().await.unwrap();
    let once = signed_get(&node, path, "CN-M02", "CN-M02", Timestamp::now());
    let replay = once.try_clone().unwrap();
    assert_eq!(once.send().await.unwrap().status(), StatusCode::OK);
    let hour_ago = Timestamp::now() - SignedDuration::from_hours(1);
    for (response, why) in [
        (plain, "no signature"),
        (replay.send().await.unwrap(), "replayed"),
        (signed_get(&node, path, "CN-M09", "CN-M09", Timestamp::now()).send().await.unwrap(), "not a member"),
        (signed_get(&node, path, "CN-M02", "CN-M01", Timestamp::now()).send().await.unwrap(), "another key"),
        (signed_get(&node, path, "CN-M02", "CN-M02", hour_ago).send().await.unwrap(), "stale"),
    ] {
        let (status, _, refused) = body(response).await;
        assert_eq!(
            (status, refused["status_code"].as_i64()),
            (StatusCode::UNAUTHORIZED, Some(2000)),
            "{why}: {refused}"
        );
        assert!(refused.get("data").is_none(), "{why}: nothing served");
    }

    // A restart forgets no signature it accepted: a replay is still refused after it.
    let signed_at = Timestamp::now();
    assert_eq!(signed_get(&node, path, "CN-M02", "CN-M02", signed_at).send().await.unwrap().status(), StatusCode::OK);
    let mut node = node;
    let config = node.config.clone();
    node.node.take().unwrap().stop().await;
    let node = TestNode::start_with(config).await;
    let (status, _, refused) = body(signed_get(&node, path, "CN-M02", "CN-M02", signed_at).send().await.unwrap()).await;
    assert_eq!(
        (status, refused["status_message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("this request was received already (a replay)")),
        "{refused}"
    );
    let (status, _, _) = get(&node, path).await;
    assert_eq!(status, StatusCode::OK, "a new request is served");
    node.stop().await;
}

/// Polls `path` on `node`'s API until `done` holds for its body (90 s at most: a clearing period is
/// a minute).
async fn eventually(node: &TestNode, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    eventually_as(node, &node.token(), path, what, done).await
}

/// [`eventually`] with the bearer token `token` (a driver's).
async fn eventually_as(node: &TestNode, token: &str, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..1_800 {
        let (status, body) = node.request(Method::GET, path, token, None).await;
        if status == StatusCode::OK && done(&body) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (feed, ledger) = (node.get("/ledger/feed").await, node.get("/ledger/status").await);
    panic!("{what}: GET {path} never showed it; last {last}; the ledger feed: {feed}; the ledger: {ledger}");
}

#[tokio::test]
async fn a_member_pushes_its_locations_to_the_others_until_they_take_them_and_again_when_they_change() {
    let configs = federated_consortium(&["federation-cpo", "federation-emsp"]);
    let cpo = TestNode::start_with(configs[0].clone()).await;
    cpo.provision("Pearl River Charging", &["PUSH-1"], &[]).await;
    let site = cpo.get("/sites").await[0]["id"].as_i64().unwrap();
    let (status, _) = cpo
        .request(
            Method::PATCH,
            &format!("/sites/{site}"),
            &cpo.token(),
            Some(json!({"latitude": 22.54, "longitude": 114.06, "city": "Shenzhen"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let next_year = (Timestamp::now() + SignedDuration::from_hours(24 * 365)).to_string();
    let commissioning = json!({"max_power_watts": 60_000, "connectors": ["gbt_dc"], "metering_certificate": "CPA-1",
        "calibration_certificate": "CAL-1", "calibration_expires_at": next_year});
    let (status, body_) =
        cpo.request(Method::PUT, "/chargers/PUSH-1/commissioning", &cpo.token(), Some(commissioning)).await;
    assert_eq!(status, StatusCode::OK, "{body_}");

    // The eMSP member's node is down: the push waits in the outbox and is retried.
    down_until_started(&configs[1]);
    let waiting =
        eventually(&cpo, "/roaming/outbox", "a push tried and waiting", |b| b[0]["attempts"].as_i64() >= Some(1)).await;
    assert_eq!(
        (waiting[0]["peer"].as_str(), waiting[0]["method"].as_str()),
        (Some("CN-M02"), Some("PUT")),
        "{waiting}"
    );
    assert!(waiting[0]["attempts"].as_i64() >= Some(1) && waiting[0]["last_error"].is_string(), "{waiting}");
    let emsp = TestNode::start_with(configs[1].clone()).await;
    let path = "/roaming/locations?cpo=CN-M01";
    let pushed = eventually(&emsp, path, "the location pushed once the eMSP is up", |b| {
        b.as_array().is_some_and(|l| l.len() == 1)
    })
    .await;
    assert_eq!(pushed[0]["evses"][0]["uid"], "PUSH-1");
    assert_eq!(pushed[0]["evses"][0]["status"], "UNKNOWN");

    // A change at the charger reaches the other member by itself.
    let mut charger = cpo.charger("PUSH-1").await;
    charger.boot().await.unwrap();
    charger.status(1, "Available").await.unwrap();
    eventually(&emsp, path, "the live status", |b| b[0]["evses"][0]["status"] == "AVAILABLE").await;
    eventually(&cpo, "/roaming/outbox", "every push acknowledged", |b| b == &json!([])).await;

    // A member may push only its own locations, and only as itself.
    let mut forged = pushed[0].clone();
    forged["party_id"] = json!("M01");
    let target = "/ocpi/2.2.1/emsp/locations/CN/M01/77";
    forged["id"] = json!("77");
    let body = forged.to_string();
    let mut request = emsp.client.put(format!("http://{}{target}", emsp.node().api_addr)).body(body.clone());
    for (name, value) in
        signature::sign(&member_key("CN-M01"), "CN-M01", "PUT", target, body.as_bytes(), Timestamp::now())
    {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK, "CN-M01 pushing its own");
    let mut as_other = emsp.client.put(format!("http://{}{target}", emsp.node().api_addr)).body(body.clone());
    for (name, value) in
        signature::sign(&member_key("CN-M02"), "CN-M02", "PUT", target, body.as_bytes(), Timestamp::now())
    {
        as_other = as_other.header(name, value);
    }
    let (status, _, refused) = self::body(as_other.send().await.unwrap()).await;
    assert_eq!((status, refused["status_code"].as_i64()), (StatusCode::FORBIDDEN, Some(2000)), "{refused}");
    cpo.stop().await;
    emsp.stop().await;
}

/// The charger's member asks the driver's member in real time whether the driver may charge when
/// the charger asks (OCPP Authorize): allowed while the driver's token is active, blocked once the
/// driver's member blocks it; when the driver's member cannot be reached, its last answer stands.
/// A member asking about a pseudonym it was never sent learns nothing.
#[tokio::test]
async fn the_charger_member_authorizes_the_roaming_driver_in_real_time_with_the_drivers_member() {
    let (_configs, emsp, cpo, charger, location_id) =
        roaming_pair(federated_consortium(&["realtime-emsp", "realtime-cpo"])).await;
    let (_, mut charger, pseudonym) = roaming_start(&emsp, charger, &location_id, None).await;
    assert_eq!(charger.authorize(&pseudonym).await.unwrap(), "Accepted");

    let operator = emsp.get("/tokens/DRIVER-CARD-1").await["operator_id"].clone();
    let block = |status: &str| json!({"operator_id": operator, "status": status});
    let (status, _) = emsp.request(Method::PUT, "/tokens/DRIVER-CARD-1", &emsp.token(), Some(block("blocked"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(charger.authorize(&pseudonym).await.unwrap(), "Blocked", "asked in real time");
    assert_eq!(cpo.get(&format!("/tokens/{pseudonym}")).await["status"], "blocked");
    let (status, _) = emsp.request(Method::PUT, "/tokens/DRIVER-CARD-1", &emsp.token(), Some(block("active"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(charger.authorize(&pseudonym).await.unwrap(), "Accepted");

    // Only the member the pseudonym was sent to learns anything about it.
    let path = "/ocpi/2.2.1/emsp/tokens/NOT-A-PSEUDONYM/authorize?type=APP_USER";
    let body = r#"{"location_id":"1"}"#;
    let mut post = emsp.client.post(format!("http://{}{path}", emsp.node().api_addr)).body(body);
    for (name, value) in
        signature::sign(&member_key("CN-M02"), "CN-M02", "POST", path, body.as_bytes(), Timestamp::now())
    {
        post = post.header(name, value);
    }
    let (status, _, answer) = self::body(post.send().await.unwrap()).await;
    assert_eq!((status, answer["status_code"].as_u64()), (StatusCode::NOT_FOUND, Some(2004)), "{answer}");

    emsp.stop().await;
    assert_eq!(charger.authorize(&pseudonym).await.unwrap(), "Accepted", "the last answer stands");
    cpo.stop().await;
}

/// A driver reserves another member's charger through the driver API (the charger is told to hold
/// it for the driver's pseudonym, under an id of its own), cancels, reserves again and starts the
/// reserved charge.
#[tokio::test]
async fn a_driver_reserves_another_members_charger_cancels_and_starts_a_reserved_charge() {
    let (_configs, emsp, cpo, charger, location_id) =
        roaming_pair(federated_consortium(&["reserve-emsp", "reserve-cpo"])).await;
    let operator = emsp.get("/tokens/DRIVER-CARD-1").await["operator_id"].as_i64().unwrap();
    let (app_token, driver) = emsp.driver(operator, "13800000009").await;
    let mut charger = Some(charger);
    // Runs `act` while the charger answers, and gives its answer and the charger's last command.
    macro_rules! with_charger {
        ($act:expr) => {{
            let mut serving = charger.take().unwrap();
            let serve = tokio::spawn(async move {
                serving.serve_for(Duration::from_secs(3)).await.unwrap();
                serving
            });
            let answer = $act;
            let served = serve.await.unwrap();
            let last = served.commands_received.last().cloned().unwrap();
            charger = Some(served);
            (answer, last)
        }};
    }
    let reserve =
        json!({"operator": "CN-M02", "location_id": location_id, "evse_uid": "ROAM-1", "reserve_minutes": 15});
    let mut too_short = reserve.clone();
    too_short["reserve_minutes"] = json!(0);
    let (status, refused) = emsp.request(Method::POST, "/driver/charges", &driver, Some(too_short)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let ((status, reserved), (action, held)) =
        with_charger!(emsp.request(Method::POST, "/driver/charges", &driver, Some(reserve.clone())).await);
    assert_eq!(status, StatusCode::CREATED, "{reserved}");
    assert_eq!(action, "ReserveNow");
    let pseudonym = held["idTag"].as_str().unwrap().to_owned();
    assert_ne!(pseudonym, app_token, "the member holds it for the pseudonym");
    assert_eq!(held["connectorId"], 1);
    let first_reservation = held["reservationId"].as_i64().unwrap();
    let path = format!("/driver/charges/{}", reserved["id"].as_str().unwrap());
    eventually_as(&emsp, &driver, &path, "the charger reserved", |c| c["state"] == "reserved").await;

    let ((status, cancelling), (action, cancelled)) =
        with_charger!(emsp.request(Method::POST, &format!("{path}/cancel"), &driver, None).await);
    assert_eq!((status, cancelling["state"].as_str()), (StatusCode::OK, Some("cancelling")), "{cancelling}");
    assert_eq!((action.as_str(), cancelled["reservationId"].as_i64()), ("CancelReservation", Some(first_reservation)));
    eventually_as(&emsp, &driver, &path, "the reservation cancelled", |c| c["state"] == "reservation_cancelled").await;
    let (status, again) = emsp.request(Method::POST, &format!("{path}/start"), &driver, None).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("not_reserved")), "{again}");

    let ((status, reserved), (_, held)) =
        with_charger!(emsp.request(Method::POST, "/driver/charges", &driver, Some(reserve)).await);
    assert_eq!(status, StatusCode::CREATED, "{reserved}");
    assert_ne!(held["reservationId"].as_i64(), Some(first_reservation), "a new reservation, a new id");
    let path = format!("/driver/charges/{}", reserved["id"].as_str().unwrap());
    eventually_as(&emsp, &driver, &path, "the charger reserved", |c| c["state"] == "reserved").await;
    let ((status, starting), (action, started)) =
        with_charger!(emsp.request(Method::POST, &format!("{path}/start"), &driver, None).await);
    assert_eq!(status, StatusCode::OK, "{starting}");
    assert_eq!((action.as_str(), started["idTag"].as_str()), ("RemoteStartTransaction", Some(pseudonym.as_str())));
    eventually_as(&emsp, &driver, &path, "the reserved charge started", |c| c["state"] == "started").await;
    drop(charger.take());
    cpo.stop().await;
    emsp.stop().await;
}

#[tokio::test]
async fn a_driver_starts_at_another_members_charger_which_never_learns_the_drivers_token() {
    let (configs, emsp, mut cpo, mut charger, location_id) =
        roaming_pair(federated_consortium(&["start-emsp", "start-cpo"])).await;

    // The driver of CN-M01 starts at CN-M02's charger through CN-M01's API.
    let serving = tokio::spawn(async move {
        charger.serve_for(Duration::from_secs(3)).await.unwrap();
        charger
    });
    let request = json!({"id_token": "DRIVER-CARD-1", "cpo": "CN-M02", "location_id": location_id, "evse_uid": "ROAM-1", "connector_id": "1"});
    let (status, start) = emsp.post("/roaming/starts", request.clone()).await;
    assert_eq!((status, start["state"].as_str()), (StatusCode::CREATED, Some("accepted")), "{start}");
    let id = start["id"].as_str().unwrap();
    eventually(&emsp, &format!("/roaming/starts/{id}"), "the charger's result", |s| s["state"] == "started").await;
    let mut charger = serving.await.unwrap();
    let (action, payload) = charger.commands_received.last().unwrap().clone();
    assert_eq!(action, "RemoteStartTransaction");
    // The start belongs to the operator of the driver's token: another operator's staff at this
    // member neither see nor command it, nor charge that operator's driver.
    let (status, other) = emsp.post("/operators", json!({"name": "Other Ops"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let account = json!({"username": "other-admin", "password": "correct horse battery staple", "role": "admin",
        "operator_id": other["id"]});
    assert_eq!(emsp.post("/staff", account).await.0, StatusCode::CREATED);
    let stranger = emsp.login("other-admin", "correct horse battery staple").await;
    for (method, path) in [
        (Method::GET, format!("/roaming/starts/{id}")),
        (Method::POST, format!("/roaming/starts/{id}/stop")),
        (Method::POST, format!("/roaming/starts/{id}/unlock")),
        (Method::POST, format!("/roaming/starts/{id}/start")),
        (Method::POST, format!("/roaming/starts/{id}/cancel")),
        (Method::POST, format!("/roaming/starts/{id}/dispute")),
    ] {
        let body = (method == Method::POST).then(|| json!({"reason": "other"}));
        let (status, answer) = emsp.request(method.clone(), &path, &stranger, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    let (status, _) = emsp.request(Method::POST, "/roaming/starts", &stranger, Some(request.clone())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another operator's driver's token");
    let pseudonym = payload["idTag"].as_str().unwrap().to_owned();
    let pseudonym = pseudonym.as_str();
    assert_eq!(pseudonym.len(), 20, "{payload}");
    assert_ne!(pseudonym, "DRIVER-CARD-1");

    // The charger charges for the pseudonym; CN-M01 follows the session, then gets the priced CDR.
    let started = Timestamp::now() - SignedDuration::from_mins(30);
    let tx = charger.start_transaction(1, pseudonym, 1_000, started).await.unwrap();
    let path = format!("/roaming/starts/{id}");
    let live = eventually(&emsp, &path, "the live session", |s| s["session"]["status"] == "ACTIVE").await;
    assert_eq!(
        (live["session"]["authorization_reference"].as_str(), live["session"]["cdr_token"]["uid"].as_str()),
        (Some(id), Some(pseudonym))
    );
    // The driver stops through CN-M01: CN-M02's charger is told to stop that transaction.
    let serving = tokio::spawn(async move {
        charger.serve_for(Duration::from_secs(2)).await.unwrap();
        charger
    });
    let (status, stopping) = emsp.post(&format!("/roaming/starts/{id}/stop"), json!({})).await;
    assert_eq!((status, stopping["state"].as_str()), (StatusCode::OK, Some("stopping")), "{stopping}");
    eventually(&emsp, &path, "the charger's answer to the stop", |s| s["state"] == "stopped").await;
    let mut charger = serving.await.unwrap();
    let (action, payload) = charger.commands_received.last().unwrap().clone();
    assert_eq!((action.as_str(), payload["transactionId"].as_i64()), ("RemoteStopTransaction", Some(tx)));
    charger.stop_transaction(tx, 21_000, started + SignedDuration::from_mins(20), "Remote").await.unwrap();
    let done =
        eventually(&emsp, &path, "the CDR", |s| s["session"]["status"] == "COMPLETED" && s["cdr"].is_object()).await;
    let cdr = &done["cdr"];
    assert_eq!(
        (cdr["total_energy"].as_f64(), cdr["cdr_location"]["evse_uid"].as_str()),
        (Some(20.0), Some("ROAM-1")),
        "{cdr}"
    );
    assert_eq!(cdr["total_cost"], done["session"]["total_cost"]);
    let saved: Value = serde_json::from_str(cdr["chargemesh_cdr"].as_str().unwrap()).unwrap();
    assert_eq!(saved["energy"], 20_000_000, "the priced CDR CN-M02 anchors, byte for byte: {saved}");

    // The cable is stuck after the charge: the driver's member has CN-M02 unlock the connector.
    let serving = tokio::spawn(async move {
        charger.serve_for(Duration::from_secs(2)).await.unwrap();
        charger
    });
    let (status, unlocking) = emsp.post(&format!("{path}/unlock"), json!({})).await;
    assert_eq!((status, unlocking["state"].as_str()), (StatusCode::OK, Some("unlocking")), "{unlocking}");
    eventually(&emsp, &path, "the connector unlocked", |s| s["state"] == "unlocked").await;
    let charger = serving.await.unwrap();
    let (action, payload) = charger.commands_received.last().unwrap();
    assert_eq!((action.as_str(), payload["connectorId"].as_u64()), ("UnlockConnector", Some(1)));

    // CN-M02 knows the driver only as CN-M01's pseudonym, which CN-M01 pays for.
    let tokens = cpo.get("/tokens").await;
    assert!(!tokens.to_string().contains("DRIVER-CARD-1"), "{tokens}");
    let roaming = tokens.as_array().unwrap().iter().find(|t| t["id_token"] == pseudonym).unwrap();
    assert_eq!(roaming["emsp_party"], "CN-M01");

    // Bad starts are refused here and send nothing: an unknown token, a member that is not one.
    let (status, unknown) = emsp
        .post(
            "/roaming/starts",
            json!({"id_token": "NOBODY", "cpo": "CN-M02", "location_id": location_id, "evse_uid": "ROAM-1"}),
        )
        .await;
    assert_eq!((status, unknown["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{unknown}");
    let (status, stranger) = emsp
        .post(
            "/roaming/starts",
            json!({"id_token": "DRIVER-CARD-1", "cpo": "CN-M09", "location_id": location_id, "evse_uid": "ROAM-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{stranger}");

    // Privacy: nothing CN-M02 keeps — its database, its ledger, anything in its data directory —
    // holds the driver's token.
    let cpo_dir = cpo.config.data_dir.clone();
    // The charger's member is down: the driver is told so at once, and nothing starts.
    cpo.node.take().unwrap().stop().await;
    let leaked = files_containing(&cpo_dir, b"DRIVER-CARD-1");
    assert!(leaked.is_empty(), "the driver's token is in {leaked:?}");
    assert!(!files_containing(&configs[0].data_dir, b"DRIVER-CARD-1").is_empty(), "the check can find it");
    let (status, down) = emsp.post("/roaming/starts", request).await;
    assert_eq!((status, down["code"].as_str()), (StatusCode::BAD_GATEWAY, Some("member_unreachable")), "{down}");
    assert!(down["message"].as_str().unwrap().contains("nothing will be charged"), "{down}");
    emsp.stop().await;
    let _ = std::fs::remove_dir_all(&cpo_dir);
}

/// CN-M01 (an eMSP with the driver `DRIVER-CARD-1`) and CN-M02 (a CPO with the priced, commissioned,
/// connected charger `ROAM-1`, available) of the consortium `configs`, once CN-M01 has CN-M02's
/// location; and its id.
async fn roaming_pair(
    configs: Vec<chargemesh_node::config::Config>,
) -> (Vec<chargemesh_node::config::Config>, TestNode, TestNode, chargemesh_sim::ChargePoint, String) {
    let emsp = TestNode::start_with(configs[0].clone()).await;
    let cpo = TestNode::start_with(configs[1].clone()).await;
    emsp.provision("Driver Mobility", &[], &["DRIVER-CARD-1"]).await;
    let charger = charging_site(&cpo, "ROAM-1", &[]).await;
    let locations = eventually(&emsp, "/roaming/locations?cpo=CN-M02", "the charger, available", |b| {
        b.as_array().is_some_and(|l| l.len() == 1) && b[0]["evses"][0]["status"] == "AVAILABLE"
    })
    .await;
    let location_id = locations[0]["id"].as_str().unwrap().to_owned();
    // The tariff the connector names comes with it: electricity and service fee as one OCPI energy
    // price without VAT.
    assert_eq!(locations[0]["evses"][0]["connectors"][0]["tariff_ids"], json!(["gd-tou"]), "{locations}");
    let tariffs = eventually(&emsp, "/roaming/tariffs?cpo=CN-M02", "the tariff", |t| t[0]["id"] == "gd-tou").await;
    let energy = &tariffs[0]["elements"][0]["price_components"][0];
    assert_eq!((energy["type"].as_str(), energy["vat"].as_f64()), (Some("ENERGY"), Some(13.0)), "{tariffs}");
    // The driver's member finds it near the site, available, with what a kWh costs there now.
    let found = emsp.get("/roaming/search?lat=22.551&lon=114.1&radius_km=5&available=true&connector=GBT_DC").await;
    let first = &found[0];
    assert_eq!((first["operator"].as_str(), first["evse_uid"].as_str()), (Some("CN-M02"), Some("ROAM-1")), "{found}");
    assert!(first["distance_m"].as_u64().unwrap() < 200, "{found}");
    assert!(first["price_per_kwh_now"].as_str().unwrap().ends_with(" CNY"), "{found}");
    assert!(first["tariff_explained"].as_str().unwrap().contains("service fee"), "{found}");
    let (status, refused) = emsp.request(Method::GET, "/roaming/search?lat=22.5", &emsp.token(), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, headers, pulled) = get(&cpo, "/ocpi/2.2.1/cpo/tariffs").await;
    assert_eq!((status, headers["x-total-count"].to_str().unwrap()), (StatusCode::OK, "1"), "{pulled}");
    assert_eq!(pulled["data"][0], tariffs[0]);

    (configs, emsp, cpo, charger, location_id)
}

/// The files under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)) {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn the_charger_member_restarting_mid_charge_loses_nothing_and_sends_the_cdr_once() {
    let (configs, emsp, mut cpo, charger, location_id) =
        roaming_pair(federated_consortium(&["restart-emsp", "restart-cpo"])).await;
    let (path, mut charger, pseudonym) = roaming_start(&emsp, charger, &location_id, None).await;
    let started = Timestamp::now() - SignedDuration::from_mins(30);
    let tx = charger.start_transaction(1, &pseudonym, 1_000, started).await.unwrap();
    eventually(&emsp, &path, "the live session", |s| s["session"]["status"] == "ACTIVE").await;

    // CN-M02's node goes down mid-charge; the charger keeps charging and queues its stop.
    cpo.node.take().unwrap().stop().await;
    charger.go_offline();
    charger.stop_transaction(tx, 11_000, started + SignedDuration::from_mins(10), "EVDisconnected").await.unwrap();
    let cpo = TestNode::start_with(configs[1].clone()).await;
    charger.come_back().await.unwrap();
    let done = eventually(&emsp, &path, "the CDR after the restart", |s| s["cdr"].is_object()).await;
    assert_eq!(
        (done["session"]["status"].as_str(), done["cdr"]["total_energy"].as_f64()),
        (Some("COMPLETED"), Some(10.0))
    );
    assert_eq!(done["cdr"]["id"], done["session"]["id"]);
    assert_eq!(cpo.sessions_of("ROAM-1").await.len(), 1, "one session, not two");
    cpo.stop().await;
    emsp.stop().await;
}

/// The roaming charge settled, all through the driver API at the driver's member: the driver logs
/// in, finds CN-M02's charger and its tariff, starts there and follows the charge live; CN-M02
/// anchors the CDR and the ledger prices it again; CN-M01 checks the CDR it received against the
/// anchor and charges its driver the ledger's amount; the driver's receipt carries a proof that
/// `chargemesh ledger check-proof` accepts; the clearing period closes with CN-M01 owing CN-M02
/// exactly that, and both confirm the transfer. Another driver sees none of it.
#[tokio::test]
async fn a_roaming_charge_is_checked_against_the_ledger_charged_to_the_driver_and_cleared() {
    let configs = federated_consortium_clearing(&["settle-emsp", "settle-cpo"], Duration::from_secs(30), 2_000);
    let (configs, emsp, cpo, charger, location_id) = roaming_pair(configs).await;
    let operator = emsp.get("/tokens/DRIVER-CARD-1").await["operator_id"].as_i64().unwrap();
    let (app_token, driver) = emsp.driver(operator, "+86 138 0000 0001").await;
    let (_, other_driver) = emsp.driver(operator, "other@example.cn").await;

    // Staff and driver tokens each open their own API only.
    let (status, _) = emsp.request(Method::GET, "/driver/me", &emsp.token(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = emsp.request(Method::GET, "/tokens", &driver, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, me) = emsp.request(Method::GET, "/driver/me", &driver, None).await;
    assert_eq!((status, me["tokens"][0]["id_token"].as_str()), (StatusCode::OK, Some(app_token.as_str())), "{me}");

    // The driver finds the charger near them, and its tariff explained.
    let (status, found) =
        emsp.request(Method::GET, "/driver/chargers?lat=22.551&lon=114.1&available=true", &driver, None).await;
    assert_eq!((status, found[0]["evse_uid"].as_str()), (StatusCode::OK, Some("ROAM-1")), "{found}");
    let (status, detail) = emsp.request(Method::GET, "/driver/chargers/CN-M02/ROAM-1", &driver, None).await;
    assert_eq!((status, detail["tariff"]["id"].as_str()), (StatusCode::OK, Some("gd-tou")), "{detail}");
    assert_eq!(detail["location"]["id"].as_str(), Some(location_id.as_str()), "{detail}");
    assert!(detail["tariff_explained"].as_str().unwrap().contains("service fee"), "{detail}");

    let (path, mut charger, tx) = charging_on_the_ledger(&emsp, &cpo, charger, &location_id, Some(&driver)).await;
    // The driver's app follows the charge live, until it is settled.
    let url: url::Url = format!("ws://{}/api/v1{path}/live", emsp.node().api_addr).parse().unwrap();
    let tcp = tokio::net::TcpStream::connect(emsp.node().api_addr).await.unwrap();
    let request = yawc::HttpRequest::builder().header("Authorization", format!("Bearer {driver}"));
    let mut live = yawc::WebSocket::handshake_with_request(url, tcp, yawc::Options::default(), request).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Two readings half a second apart, 500 Wh between them: the driver sees 3,600 kW now.
    let now = Timestamp::now();
    charger.meter_values(1, tx, 1_500, 0, now - SignedDuration::from_millis(500)).await.unwrap();
    charger.meter_values(1, tx, 2_000, 0, now).await.unwrap();
    let power = |s: &Value| {
        let periods = s["session"]["charging_periods"].as_array().cloned().unwrap_or_default();
        let dimensions = periods.last().map(|p| p["dimensions"].as_array().cloned().unwrap_or_default());
        dimensions.unwrap_or_default().iter().find(|d| d["type"] == "POWER").and_then(|d| d["volume"].as_f64())
    };
    eventually_as(&emsp, &driver, &path, "the power now", |s| power(s) == Some(3_600.0)).await;
    charger.stop_transaction(tx, 31_000, Timestamp::now(), "Local").await.unwrap();
    let mut updates = Vec::new();
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(90), futures::StreamExt::next(&mut live)).await
    {
        if frame.opcode() == yawc::OpCode::Text {
            updates.push(serde_json::from_slice::<Value>(frame.payload()).unwrap());
        }
    }
    let states: Vec<&str> = updates.iter().filter_map(|u| u["session"]["status"].as_str()).collect();
    assert!(states.contains(&"ACTIVE") && states.contains(&"COMPLETED"), "{states:?}");
    assert_eq!(updates.last().unwrap()["settlement"]["state"], "charged", "the last update, then closed");
    assert!(updates.iter().any(|u| power(u) == Some(3_600.0)), "the live view showed the power");

    let charged =
        eventually_as(&emsp, &driver, &path, "the driver charged", |s| s["settlement"]["state"] == "charged").await;
    let settlement = &charged["settlement"];
    let priced: Value = serde_json::from_str(charged["cdr"]["chargemesh_cdr"].as_str().unwrap()).unwrap();
    let amount = priced["totals"]["incl_tax"].as_i64().unwrap();
    assert!(amount > 0, "{priced}");
    assert_eq!((settlement["amount"].as_i64(), settlement["currency"].as_str()), (Some(amount), Some("CNY")));
    assert!(settlement["payment_reference"].is_string(), "{settlement}");
    let anchored = cpo.get(&format!("/ledger/cdrs/CN-M02/{}", settlement["cdr_id"].as_str().unwrap())).await;
    assert_eq!(anchored["entry"]["anchor"]["claimed"]["incl_tax"].as_i64(), Some(amount), "{anchored}");
    let periods = charged["cdr"]["charging_periods"].as_array().unwrap();
    assert_eq!(periods.len(), priced["periods"].as_array().unwrap().len(), "{periods:?}");
    assert_eq!(periods[0]["tariff_id"], "gd-tou");

    // The history and the receipt; the receipt's proof, checked offline against the genesis alone,
    // with the CDR it covers.
    let (_, history) = emsp.request(Method::GET, "/driver/charges", &driver, None).await;
    assert_eq!(format!("/driver/charges/{}", history[0]["id"].as_str().unwrap()), path, "{history}");
    assert_eq!(history[0]["operator"], "CN-M02", "{history}");
    let (status, receipt) = emsp.request(Method::GET, &format!("{path}/receipt"), &driver, None).await;
    assert_eq!((status, receipt["kind"].as_str()), (StatusCode::OK, Some("roaming")), "{receipt}");
    assert_eq!(
        (receipt["payment"]["state"].as_str(), receipt["energy_kwh"].as_str()),
        (Some("charged"), Some("30.000"))
    );
    assert_eq!(receipt["time_zone"], "Asia/Shanghai", "{receipt}");
    let dir = configs[0].data_dir.join("receipt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("proof.json"), receipt["ledger"]["proof"].to_string()).unwrap();
    std::fs::write(dir.join("cdr.json"), receipt["ledger"]["cdr"].as_str().unwrap()).unwrap();
    let genesis = configs[0].ledger_dir().join("genesis.json");
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_chargemesh"))
        .args(["ledger", "check-proof"])
        .arg(dir.join("proof.json"))
        .arg("--genesis")
        .arg(&genesis)
        .arg("--cdr")
        .arg(dir.join("cdr.json"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success() && said.contains("the CDR given is the one anchored"), "{said}");

    // Nothing of the driver's account reached the charger's member.
    for personal in [app_token.as_bytes(), b"+86 138 0000 0001".as_slice()] {
        let leaked = files_containing(&configs[1].data_dir, personal);
        assert!(leaked.is_empty(), "{leaked:?}");
        assert!(!files_containing(&configs[0].data_dir, personal).is_empty(), "the check can find it");
    }

    // Another driver of the same operator sees none of it.
    for hidden in [path.clone(), format!("{path}/receipt")] {
        let (status, _) = emsp.request(Method::GET, &hidden, &other_driver, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{hidden}");
    }
    let (status, _) = emsp.request(Method::POST, &format!("{path}/stop"), &other_driver, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = emsp.request(Method::GET, "/driver/charges", &other_driver, None).await;
    assert_eq!(theirs, json!([]));

    // The period closes: one transfer, the CDR's amount from CN-M01 to CN-M02; each side confirms
    // its part.
    let with_transfer = |clearing: &Value| {
        clearing
            .as_array()
            .and_then(|periods| periods.iter().find(|p| !p["transfers"].as_array().unwrap().is_empty()))
            .cloned()
    };
    let cleared = eventually(&cpo, "/ledger/clearing", "the period closed", |c| with_transfer(c).is_some()).await;
    let period = with_transfer(&cleared).unwrap();
    assert_eq!(period["obligations"], json!([["CNY", "CN-M01", "CN-M02", amount]]), "{period}");
    let transfer = &period["transfers"][0];
    assert_eq!(
        (transfer["from"].as_str(), transfer["to"].as_str(), transfer["amount"].as_i64()),
        (Some("CN-M01"), Some("CN-M02"), Some(amount))
    );
    let number = period["period"].as_u64().unwrap();
    let (status, _) = emsp.post(&format!("/ledger/clearing/{number}/transfers/0/paid"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, refused) = emsp.post(&format!("/ledger/clearing/{number}/transfers/0/received"), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "only the payee confirms receipt: {refused}");
    let (status, _) = cpo.post(&format!("/ledger/clearing/{number}/transfers/0/received"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let confirmed = |c: &Value| {
        c.as_array().unwrap().iter().any(|p| {
            p["period"] == number && p["transfers"][0]["paid"] == true && p["transfers"][0]["received"] == true
        })
    };
    eventually(&emsp, "/ledger/clearing", "the transfer confirmed by both", confirmed).await;
    let start_id = path.rsplit("roaming-").next().unwrap();
    let dispute = format!("/roaming/starts/{start_id}/dispute");
    let (status, late) = emsp.post(&dispute, json!({"reason": "charger_fault"})).await;
    assert_eq!((status, late["code"].as_str()), (StatusCode::CONFLICT, Some("dispute_window_closed")), "{late}");
    cpo.stop().await;
    emsp.stop().await;
}

/// A CDR that is not the one the charger's member anchored — here its amounts altered on the way,
/// posted as CN-M02 before the genuine one — is not charged to the driver; the driver's member
/// disputes it through its API and the ledger holds the dispute, keeping the charge out of clearing.
#[tokio::test]
async fn an_altered_cdr_is_not_charged_and_the_driver_member_disputes_it_on_the_ledger() {
    let (_configs, emsp, cpo, charger, location_id) =
        roaming_pair(federated_consortium(&["dispute-emsp", "dispute-cpo"])).await;
    let (path, mut charger, tx) = charging_on_the_ledger(&emsp, &cpo, charger, &location_id, None).await;
    let live = eventually(&emsp, &path, "the live session", |s| s["session"]["status"] == "ACTIVE").await;

    // The altered CDR: the session's, with a priced CDR ten times dearer.
    let session = &live["session"];
    let location = &emsp.get("/roaming/locations?cpo=CN-M02").await[0];
    let connector = &location["evses"][0]["connectors"][0];
    let forged = json!({
        "country_code": "CN", "party_id": "M02", "id": session["id"], "session_id": session["id"],
        "start_date_time": session["start_date_time"], "end_date_time": Timestamp::now().to_string(),
        "cdr_token": session["cdr_token"], "auth_method": session["auth_method"],
        "authorization_reference": session["authorization_reference"],
        "cdr_location": {"id": location["id"], "address": location["address"], "city": location["city"],
            "country": location["country"], "coordinates": location["coordinates"], "evse_uid": "ROAM-1",
            "evse_id": location["evses"][0]["evse_id"], "connector_id": connector["id"],
            "connector_standard": connector["standard"], "connector_format": connector["format"],
            "connector_power_type": connector["power_type"]},
        "currency": "CNY", "total_cost": {"excl_vat": 300.0, "incl_vat": 300.0}, "total_energy": 30.0,
        "total_time": 0.001, "chargemesh_cdr": "{\"totals\":{\"incl_tax\":30000}}",
        "last_updated": Timestamp::now().to_string(),
    });
    let body = forged.to_string();
    let cdrs = "/ocpi/2.2.1/emsp/cdrs";
    let mut post = emsp.client.post(format!("http://{}{cdrs}", emsp.node().api_addr)).body(body.clone());
    for (name, value) in
        signature::sign(&member_key("CN-M02"), "CN-M02", "POST", cdrs, body.as_bytes(), Timestamp::now())
    {
        post = post.header(name, value);
    }
    let (status, _, answer) = self::body(post.send().await.unwrap()).await;
    assert_eq!((status, answer["status_code"].as_u64()), (StatusCode::OK, Some(1000)), "{answer}");

    charger.stop_transaction(tx, 31_000, Timestamp::now(), "Local").await.unwrap();
    let refused = eventually(&emsp, &path, "the CDR refused", |s| s["settlement"]["state"] == "mismatch").await;
    let settlement = &refused["settlement"];
    assert!(settlement["problem"].as_str().unwrap().contains("hash differs"), "{settlement}");
    assert!(settlement["payment_reference"].is_null(), "the driver was not charged: {settlement}");
    let cdr_id = settlement["cdr_id"].as_str().unwrap().to_owned();
    let anchored = emsp.get(&format!("/ledger/cdrs/CN-M02/{cdr_id}")).await;
    assert_eq!(settlement["amount"], anchored["entry"]["anchor"]["claimed"]["incl_tax"], "{anchored}");

    // Disputed through the driver's member's API: recorded, then held by the ledger.
    let dispute = format!("{path}/dispute");
    let (status, bad) = emsp.post(&dispute, json!({"reason": "too_dear"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (status, disputed) = emsp.post(&dispute, json!({"reason": "metering_differs"})).await;
    assert_eq!((status, disputed["state"].as_str()), (StatusCode::ACCEPTED, Some("disputed")), "{disputed}");
    let (status, again) = emsp.post(&dispute, json!({"reason": "metering_differs"})).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("already_disputed")), "{again}");
    let on_ledger = format!("/ledger/cdrs/CN-M02/{cdr_id}");
    let held =
        eventually(&cpo, &on_ledger, "the dispute on the ledger", |c| c["entry"]["status"]["status"] == "disputed")
            .await;
    assert_eq!(held["entry"]["status"]["reason"], "metering_differs");
    let obligations = cpo.get("/ledger/obligations").await;
    assert_eq!(obligations, json!([]), "a disputed charge is held out of clearing");
    cpo.stop().await;
    emsp.stop().await;
}

/// A charge the driver paid, disputed by the driver's member and settled by the two members for
/// less — CN-M02 proposes an amount through its API, CN-M01 accepts it through its own — gives the
/// driver the difference back through the payment it came from, with the reason; the ledger owes
/// CN-M02 the agreed amount.
#[tokio::test]
async fn a_disputed_charge_settled_for_less_refunds_the_driver_the_difference() {
    let (_configs, emsp, cpo, charger, location_id) =
        roaming_pair(federated_consortium(&["resolve-emsp", "resolve-cpo"])).await;
    let operator = emsp.get("/tokens/DRIVER-CARD-1").await["operator_id"].as_i64().unwrap();
    let (_, driver) = emsp.driver(operator, "+86 138 0000 0042").await;
    let (path, mut charger, tx) = charging_on_the_ledger(&emsp, &cpo, charger, &location_id, Some(&driver)).await;
    charger.stop_transaction(tx, 31_000, Timestamp::now(), "Local").await.unwrap();
    let charged =
        eventually_as(&emsp, &driver, &path, "the driver charged", |s| s["settlement"]["state"] == "charged").await;
    let amount = charged["settlement"]["amount"].as_i64().unwrap();
    let cdr_id = charged["settlement"]["cdr_id"].as_str().unwrap().to_owned();
    let start_id = path.rsplit("roaming-").next().unwrap();
    let (status, _) =
        emsp.post(&format!("/roaming/starts/{start_id}/dispute"), json!({"reason": "metering_differs"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let on_ledger = format!("/ledger/cdrs/CN-M02/{cdr_id}");
    eventually(&cpo, &on_ledger, "the dispute on the ledger", |c| c["entry"]["status"]["status"] == "disputed").await;

    // The charger's member proposes half; the driver's member sees it and accepts.
    let agreed = amount / 2;
    let resolution = format!("{on_ledger}/resolution");
    let (status, refused) = cpo.post(&resolution, json!({"agreed_incl_tax": amount + 1})).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("dispute")), "{refused}");
    let (status, proposed) = cpo.post(&resolution, json!({"agreed_incl_tax": agreed})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{proposed}");
    let disputes = eventually(&emsp, "/ledger/disputes", "the proposal", |d| {
        d[0]["status"]["proposals"]["CN-M02"].as_i64() == Some(agreed)
    })
    .await;
    assert_eq!(disputes[0]["anchor"]["cdr_id"], cdr_id.as_str());
    let (status, accepted) = emsp.post(&resolution, json!({"agreed_incl_tax": agreed})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let resolved =
        eventually(&cpo, &on_ledger, "the dispute resolved", |c| c["entry"]["status"]["status"] == "resolved").await;
    assert_eq!(resolved["entry"]["status"]["agreed_incl_tax"].as_i64(), Some(agreed));

    // The driver gets the difference back, with the reason; CN-M01 owes CN-M02 what was agreed.
    let settled = eventually_as(&emsp, &driver, &path, "the refund", |s| s["settlement"]["state"] == "resolved").await;
    let settlement = &settled["settlement"];
    assert_eq!((settlement["amount"].as_i64(), settlement["refunded"].as_i64()), (Some(agreed), Some(amount - agreed)));
    assert!(settlement["problem"].as_str().unwrap().contains("refunded"), "{settlement}");
    let refunds = emsp.get("/audit?action=money.roaming_refund").await;
    assert_eq!(refunds.as_array().unwrap().len(), 1, "{refunds}");
    assert_eq!(refunds[0]["after"]["amount"].as_i64(), Some(amount - agreed));
    assert!(refunds[0]["after"]["provider_reference"].is_string(), "through the payment it came from: {refunds}");
    assert!(emsp.get("/payments/reconciliation").await["problems"].as_array().unwrap().is_empty());
    let owed = eventually(&cpo, "/ledger/obligations", "the agreed amount owed", |o| {
        o.as_array().is_some_and(|o| o.iter().any(|o| o["amount"].as_i64() == Some(agreed)))
    })
    .await;
    assert_eq!(owed.as_array().unwrap().len(), 1, "{owed}");
    cpo.stop().await;
    emsp.stop().await;
}

/// Once CN-M02's charger and tariff are on the ledger (which prices the charge with it), CN-M01's
/// driver starts at the charger and it starts a transaction, now: the start's API path, the
/// charger, and the transaction. `driver`: see [`roaming_start`].
async fn charging_on_the_ledger(
    emsp: &TestNode,
    cpo: &TestNode,
    charger: chargemesh_sim::ChargePoint,
    location_id: &str,
    driver: Option<&str>,
) -> (String, chargemesh_sim::ChargePoint, i64) {
    eventually(cpo, "/ledger/chargers", "the charger, active", |c| c[0]["status"] == "active").await;
    eventually(cpo, "/ledger/tariffs", "the tariff", |t| t.as_array().is_some_and(|t| !t.is_empty())).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (path, mut charger, pseudonym) = roaming_start(emsp, charger, location_id, driver).await;
    let tx = charger.start_transaction(1, &pseudonym, 1_000, Timestamp::now()).await.unwrap();
    (path, charger, tx)
}

/// CN-M01's driver starts at CN-M02's charger `ROAM-1`, which accepts: the start's API path, the
/// charger, and the pseudonym it was told to start for. The driver starts it through the driver
/// API with their bearer token `driver` (the path is then the driver API's); without one, the
/// operator's staff start it for the card `DRIVER-CARD-1`.
async fn roaming_start(
    emsp: &TestNode,
    mut charger: chargemesh_sim::ChargePoint,
    location_id: &str,
    driver: Option<&str>,
) -> (String, chargemesh_sim::ChargePoint, String) {
    let serving = tokio::spawn(async move {
        charger.serve_for(Duration::from_secs(2)).await.unwrap();
        charger
    });
    let path = match driver {
        Some(driver) => {
            let request = json!({"operator": "CN-M02", "location_id": location_id, "evse_uid": "ROAM-1"});
            let (status, charge) = emsp.request(Method::POST, "/driver/charges", driver, Some(request)).await;
            assert_eq!(status, StatusCode::CREATED, "{charge}");
            let path = format!("/driver/charges/{}", charge["id"].as_str().unwrap());
            eventually_as(emsp, driver, &path, "the start", |s| s["state"] == "started").await;
            path
        }
        None => {
            let request = json!({"id_token": "DRIVER-CARD-1", "cpo": "CN-M02", "location_id": location_id,
                "evse_uid": "ROAM-1"});
            let (status, start) = emsp.post("/roaming/starts", request).await;
            assert_eq!(status, StatusCode::CREATED, "{start}");
            let path = format!("/roaming/starts/{}", start["id"].as_str().unwrap());
            eventually(emsp, &path, "the start", |s| s["state"] == "started").await;
            path
        }
    };
    let charger = serving.await.unwrap();
    let pseudonym = charger.commands_received.last().unwrap().1["idTag"].as_str().unwrap().to_owned();
    (path, charger, pseudonym)
}

/// A platform outside the consortium: an administrator creates it with a registration token; it
/// registers through OCPI's credentials module (this node first reads the platform's versions with
/// the platform's own token) and gets the token it calls with from then on, base64-encoded or not;
/// it reads locations and tariffs but nothing else, and its tokens stop working when it leaves.
#[tokio::test]
async fn an_outside_platform_registers_with_ocpi_credentials_and_reads_with_its_token() {
    let platform = outside_platform().await;
    let node = TestNode::start_with(federated_consortium(&["partner-cpo"]).remove(0)).await;
    let (status, created) = node.post("/ocpi/partners", json!({"name": "Outside Platform"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token_a = created["token_a"].as_str().unwrap().to_owned();
    let base = format!("http://{}", node.node().api_addr);
    assert_eq!(created["versions_url"], format!("{base}/ocpi/versions"));
    let call = |method: Method, path: &str, token: String, body: Option<Value>| {
        let mut request = node.client.request(method, format!("{base}{path}")).header("authorization", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { self::body(request.send().await.unwrap()).await }
    };
    let with = |token: &str| format!("Token {}", encode(token));

    // The registration token reads the versions and registers, nothing else.
    let (status, _, _) = call(Method::GET, "/ocpi/versions", with(&token_a), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, refused) = call(Method::GET, "/ocpi/2.2.1/cpo/locations", with(&token_a), None).await;
    assert_eq!((status, refused["status_code"].as_u64()), (StatusCode::UNAUTHORIZED, Some(2000)), "{refused}");
    let unreachable = Some(credentials("http://127.0.0.1:9/versions"));
    let (status, _, refused) = call(Method::POST, "/ocpi/2.2.1/credentials", with(&token_a), unreachable).await;
    assert_eq!(refused["status_code"].as_u64(), Some(3001), "{status} {refused}");
    let (status, _, registered) =
        call(Method::POST, "/ocpi/2.2.1/credentials", with(&token_a), Some(credentials(&platform))).await;
    assert_eq!((status, registered["status_code"].as_u64()), (StatusCode::OK, Some(1000)), "{registered}");
    let token_c = registered["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(registered["data"]["url"], format!("{base}/ocpi/versions"));
    assert_eq!(registered["data"]["roles"][0]["role"], "CPO");
    let (status, _, _) = call(Method::GET, "/ocpi/versions", with(&token_a), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the registration token is spent");

    // Token C, encoded or plain, reads locations and tariffs (with OCPI's paging headers), and
    // nothing members alone may call.
    for authorization in [with(&token_c), format!("Token {token_c}")] {
        let (status, headers, listed) = call(Method::GET, "/ocpi/2.2.1/cpo/locations", authorization, None).await;
        assert_eq!((status, listed["status_code"].as_u64()), (StatusCode::OK, Some(1000)), "{listed}");
        assert!(headers.contains_key("x-total-count") && headers.contains_key("x-request-id"));
    }
    let (status, _, _) = call(Method::GET, "/ocpi/2.2.1/cpo/tariffs", with(&token_c), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, ours) = call(Method::GET, "/ocpi/2.2.1/credentials", with(&token_c), None).await;
    assert_eq!((status, ours["data"]["token"].as_str()), (StatusCode::OK, Some(token_c.as_str())));
    let (status, _, _) = call(Method::POST, "/ocpi/2.2.1/emsp/cdrs", with(&token_c), Some(json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "members only");
    let listed = node.get("/ocpi/partners").await;
    assert_eq!(
        (listed[0]["registered"].as_bool(), listed[0]["versions_url"].as_str()),
        (Some(true), Some(platform.as_str()))
    );

    // It leaves: its token stops working.
    let (status, _, _) = call(Method::DELETE, "/ocpi/2.2.1/credentials", with(&token_c), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(Method::GET, "/ocpi/2.2.1/cpo/locations", with(&token_c), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    node.stop().await;
}

fn encode(token: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(token)
}

/// What a platform outside the consortium registers with: its token `PLATFORM-TOKEN-B` and its
/// versions `url`.
fn credentials(url: &str) -> Value {
    json!({"token": "PLATFORM-TOKEN-B", "url": url, "roles": [{"role": "EMSP",
        "business_details": {"name": "Outside Platform"}, "party_id": "OUT", "country_code": "DE"}]})
}

/// A platform outside the consortium: its versions endpoint, answering its own token only; its URL.
async fn outside_platform() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/versions", listener.local_addr().unwrap());
    let expected = format!("Token {}", encode("PLATFORM-TOKEN-B"));
    let versions = axum::Router::new().route(
        "/versions",
        axum::routing::get(move |headers: axum::http::HeaderMap| async move {
            let ok = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str());
            let code = if ok { 1000 } else { 2000 };
            axum::Json(json!({"status_code": code, "data": [], "timestamp": "2026-11-30T00:00:00Z"}))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, versions).await.unwrap() });
    url
}

/// An independent check: the conformance runner of the `ocpi-kit` crate (built by `scripts/test`,
/// named by CHARGEMESH_OCPI_CONFORMANCE) reads CN-M02's versions, version details, locations and
/// tariffs as a registered outside platform, tries two requests that must be refused, and finds
/// nothing against the specification.
#[tokio::test]
async fn an_independent_ocpi_conformance_runner_finds_nothing_against_the_specification() {
    let runner = std::env::var("CHARGEMESH_OCPI_CONFORMANCE").expect(
        "CHARGEMESH_OCPI_CONFORMANCE names no ocpi-kit runner: run scripts/test, which builds it (once) and sets it",
    );
    let (_configs, emsp, cpo, _charger, _location) =
        roaming_pair(federated_consortium(&["conformance-emsp", "conformance-cpo"])).await;
    let platform = outside_platform().await;
    let (status, created) = cpo.post("/ocpi/partners", json!({"name": "Conformance runner"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let versions_url = created["versions_url"].as_str().unwrap().to_owned();
    let token_a = created["token_a"].as_str().unwrap();
    let registration = cpo
        .client
        .post(format!("http://{}/ocpi/2.2.1/credentials", cpo.node().api_addr))
        .header("authorization", format!("Token {}", encode(token_a)))
        .json(&credentials(&platform))
        .send()
        .await
        .unwrap();
    let (_, _, registered) = body(registration).await;
    let token_c = registered["data"]["token"].as_str().unwrap().to_owned();

    let output = tokio::process::Command::new(&runner)
        .args(["--insecure", "conformance", &versions_url, "--token", &token_c])
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {runner}: {e}"));
    let report = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    eprintln!("{report}");
    assert!(output.status.success() && report.contains(" 0 failed"), "{report}\n{errors}");
    assert!(report.contains("checked against OCPI 2.2.1"), "{report}");
    cpo.stop().await;
    emsp.stop().await;
}

/// A charging operator at `node` with a Shenzhen site priced by the Guangdong tariff, its charger
/// `station` commissioned, connected and available, and drivers `cards`: the charger.
async fn charging_site(node: &TestNode, station: &str, cards: &[&str]) -> chargemesh_sim::ChargePoint {
    let charger_co = node.provision("Charger Co", &[station], cards).await;
    let site = node.get("/sites").await[0]["id"].as_i64().unwrap();
    let (status, tariff) =
        node.post("/tariffs", guangdong_draft(charger_co, "gd-tou", "2025-01-01T00:00:00+08:00", "0.6")).await;
    assert_eq!(status, StatusCode::CREATED, "{tariff}");
    let (status, _) = node
        .request(Method::PUT, &format!("/sites/{site}/tariff"), &node.token(), Some(json!({"tariff_id": "gd-tou"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let change = json!({"latitude": 22.55, "longitude": 114.1, "city": "Shenzhen"});
    let (status, _) = node.request(Method::PATCH, &format!("/sites/{site}"), &node.token(), Some(change)).await;
    assert_eq!(status, StatusCode::OK);
    let next_year = (Timestamp::now() + SignedDuration::from_hours(24 * 365)).to_string();
    let commissioning = json!({"max_power_watts": 60_000, "connectors": ["gbt_dc"], "metering_certificate": "CPA-1",
        "calibration_certificate": "CAL-1", "calibration_expires_at": next_year});
    let path = format!("/chargers/{station}/commissioning");
    let (status, body_) = node.request(Method::PUT, &path, &node.token(), Some(commissioning)).await;
    assert_eq!(status, StatusCode::OK, "{body_}");
    let mut charger = node.charger(station).await;
    charger.boot().await.unwrap();
    charger.status(1, "Available").await.unwrap();
    charger
}

/// Three members whose drivers charge at each other's chargers: every charge is checked and paid,
/// and the clearing transfers settle exactly what each member owes and is owed for the period's
/// charges, netted.
#[tokio::test]
async fn charges_among_three_members_clear_into_netted_transfers() {
    let configs = federated_consortium_clearing(&["net-a", "net-b", "net-c"], Duration::from_secs(50), 2_000);
    let a = TestNode::start_with(configs[0].clone()).await;
    let b = TestNode::start_with(configs[1].clone()).await;
    let c = TestNode::start_with(configs[2].clone()).await;
    a.provision("Driver Mobility", &[], &["A-CARD"]).await;
    let mut b_charger = charging_site(&b, "B-CP", &["B-CARD"]).await;
    let mut c_charger = charging_site(&c, "C-CP", &["C-CARD"]).await;
    for (node, card) in [(&a, "A-CARD"), (&b, "B-CARD"), (&c, "C-CARD")] {
        let driver = node.get(&format!("/tokens/{card}")).await;
        let paying = json!({"operator_id": driver["operator_id"], "payment_method": "sandbox:visa-4242"});
        let (status, _) = node.request(Method::PUT, &format!("/tokens/{card}"), &node.token(), Some(paying)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let two_active =
        |c: &Value| c.as_array().is_some_and(|c| c.iter().filter(|c| c["status"] == "active").count() == 2);
    eventually(&a, "/ledger/chargers", "both chargers on the ledger", two_active).await;
    eventually(&a, "/ledger/tariffs", "both tariffs", |t| t.as_array().is_some_and(|t| t.len() == 2)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A's driver and C's at B's charger, one after the other; B's driver and A's at C's.
    let mut settled = Vec::new();
    let mut seen = Vec::new();
    let charges =
        [(&a, "A-CARD", "CN-M02"), (&c, "C-CARD", "CN-M02"), (&b, "B-CARD", "CN-M03"), (&a, "A-CARD", "CN-M03")];
    for (driver, card, cpo) in charges {
        let charger = if cpo == "CN-M02" { &mut b_charger } else { &mut c_charger };
        let station = charger.station_id.clone();
        let locations = eventually(driver, &format!("/roaming/locations?cpo={cpo}"), "the charger", |l| {
            l[0]["evses"][0]["status"] == "AVAILABLE"
        })
        .await;
        let request = json!({"id_token": card, "cpo": cpo, "location_id": locations[0]["id"], "evse_uid": station});
        let (status, start) = driver.post("/roaming/starts", request).await;
        assert_eq!(status, StatusCode::CREATED, "{start}");
        let path = format!("/roaming/starts/{}", start["id"].as_str().unwrap());
        let payload = charger.serve_until("RemoteStartTransaction", Duration::from_secs(10)).await.unwrap().unwrap();
        let pseudonym = payload["idTag"].as_str().unwrap().to_owned();
        seen.push((card, cpo, pseudonym.clone()));
        let tx = charger.start_transaction(1, &pseudonym, 1_000, Timestamp::now()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        charger.stop_transaction(tx, 11_000, Timestamp::now(), "Local").await.unwrap();
        charger.status(1, "Available").await.unwrap();
        settled.push((driver, path));
    }
    // Privacy: the two charger members know A's driver by pseudonyms that have nothing in common,
    // so that pooling what they saw links nothing.
    let known_as = |cpo: &str| seen.iter().find(|(card, at, _)| *card == "A-CARD" && *at == cpo).unwrap().2.clone();
    let (at_b, at_c) = (known_as("CN-M02"), known_as("CN-M03"));
    assert_ne!(at_b, at_c, "one driver, one pseudonym per member");
    for (node, other) in [(&b, &at_c), (&c, &at_b)] {
        assert!(!node.get("/tokens").await.to_string().contains(other.as_str()), "a member holds only its own");
    }
    let mut owed: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (driver, path) in &settled {
        let charged = eventually(driver, path, "the driver charged", |s| s["settlement"]["state"] == "charged").await;
        let (settlement, amount) = (&charged["settlement"], charged["settlement"]["amount"].as_i64().unwrap());
        let emsp = driver.node().ledger.as_ref().unwrap().party_id.clone();
        *owed.entry(emsp).or_default() -= amount;
        *owed.entry(settlement["cpo"].as_str().unwrap().to_owned()).or_default() += amount;
    }

    // Every charge cleared (in whichever periods they fell): each member's transfers in minus out
    // equal what it is owed minus what it owes.
    let all_cleared = |periods: &Value| {
        periods.as_array().unwrap().iter().map(|p| p["obligations"].as_array().unwrap().len()).sum::<usize>() == 4
    };
    let periods = eventually(&a, "/ledger/clearing", "all four charges cleared", all_cleared).await;
    let mut net: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    let mut transfers = 0;
    for transfer in periods.as_array().unwrap().iter().flat_map(|p| p["transfers"].as_array().unwrap()) {
        let amount = transfer["amount"].as_i64().unwrap();
        *net.entry(transfer["from"].as_str().unwrap().to_owned()).or_default() -= amount;
        *net.entry(transfer["to"].as_str().unwrap().to_owned()).or_default() += amount;
        transfers += 1;
    }
    owed.retain(|_, v| *v != 0);
    net.retain(|_, v| *v != 0);
    assert_eq!(net, owed, "transfers settle the charges exactly: {periods}");
    assert!(transfers <= 4, "netted: no more transfers than charges ({transfers})");
    for node in [a, b, c] {
        node.stop().await;
    }
}
