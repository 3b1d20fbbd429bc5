//! The operator API: authentication, roles, operator scope, errors, OpenAPI, and commands to chargers.

mod common;

use common::TestNode;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn requests_need_valid_credentials_and_errors_are_json() {
    let node = TestNode::start("api-auth").await;
    let (status, body) = node.request(Method::GET, "/chargers", "not-a-token", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthorized");
    assert!(body["message"].as_str().unwrap().len() > 10);
    let response = node.client.get(node.api("/chargers")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let response = node
        .client
        .post(node.api("/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "unauthorized");
    // Malformed JSON, unknown paths and invalid values: JSON errors with stable codes.
    let response = node
        .client
        .post(node.api("/operators"))
        .bearer_auth(&node.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "invalid_request");
    assert_eq!(node.request(Method::GET, "/nowhere", &node.token.clone(), None).await.1["code"], "not_found");
    let (status, body) = node.post("/sites", json!({"operator_id": 1, "name": "x", "time_zone": "Mars/Olympus"})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (422, Some("invalid_request")));
    // A path parameter that does not parse, a method a path does not answer, a plain request to a
    // WebSocket endpoint: JSON too.
    for (method, path, status, code) in [
        (Method::PUT, "/operators/abc/wallets", 404, "not_found"),
        (Method::DELETE, "/tariffs", 405, "method_not_allowed"),
        (Method::GET, "/sessions/1/live", 400, "invalid_request"),
    ] {
        let response = node.client.request(method.clone(), node.api(path)).bearer_auth(&node.token).json(&json!({}));
        let response = response.send().await.unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e})"));
        assert_eq!(body["code"], code, "{method} {path}: {body}");
    }
    // HEAD is answered as GET, to whom GET is.
    let head = node.client.head(node.api("/sites")).bearer_auth(&node.token).send().await.unwrap();
    assert_eq!(head.status(), 200);
    // Every answer carries the security headers, the HTML receipt page's first among them.
    let response = node.client.get(node.api("/sessions/1/receipt.html")).bearer_auth(&node.token).send().await.unwrap();
    for header in ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"] {
        assert!(response.headers().contains_key(header), "{header}: {:?}", response.headers());
    }
    assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    // The data directory and the database are the node user's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&node.config.data_dir), 0o700);
    assert_eq!(mode(&node.config.data_dir.join("chargemesh.db")), 0o600);
    // Logging out revokes the token.
    let token = node.login("admin", common::ADMIN_PASSWORD).await;
    assert_eq!(node.request(Method::POST, "/auth/logout", &token, None).await.0, 204);
    assert_eq!(node.request(Method::GET, "/me", &token, None).await.0, 401);
    node.stop().await;
}

/// `/metrics` behind `api.metrics_token`: refused without it, served with it.
#[tokio::test]
async fn the_pages_learn_the_map_tiles_configured() {
    let mut config = common::test_config("api-map");
    config.api.map_tiles = "https://webrd01.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}".into();
    config.api.map_attribution = "© AMap".into();
    let node = TestNode::start_with(config).await;
    let (status, settings) = node.request(Method::GET, "/map", "", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (settings["tiles"].as_str().map(|t| t.contains("{z}")), settings["attribution"].as_str()),
        (Some(true), Some("© AMap"))
    );
    node.stop().await;
    let node = TestNode::start("api-map-none").await;
    assert_eq!(node.get("/map").await, json!({}), "no tiles: markers on a plain ground");
    node.stop().await;
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let mut config = common::test_config("metrics-token");
    config.api.metrics_token = "scrape-secret-1".into();
    let node = TestNode::start_with(config).await;
    let url = format!("http://{}/metrics", node.node().api_addr);
    let refused = node.client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "unauthorized");
    let wrong = node.client.get(&url).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let served = node.client.get(&url).bearer_auth("scrape-secret-1").send().await.unwrap();
    assert_eq!(served.status(), 200);
    node.stop().await;
}

#[tokio::test]
async fn staff_see_and_touch_only_their_operator() {
    let node = TestNode::start("api-scope").await;
    let red = node.provision("Red Charging", &["RED-1"], &["RED-CARD"]).await;
    let blue = node.provision("Blue Charging", &["BLUE-1"], &["BLUE-CARD"]).await;
    for (username, role, operator) in [("red-ops", "operator", red), ("red-viewer", "readonly", red)] {
        let (status, body) = node
            .post(
                "/staff",
                json!({"username": username, "password": "a-long-password-1", "role": role, "operator_id": operator}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let ops = node.login("red-ops", "a-long-password-1").await;
    let viewer = node.login("red-viewer", "a-long-password-1").await;

    let (_, chargers) = node.request(Method::GET, "/chargers", &ops, None).await;
    let ids: Vec<&str> = chargers.as_array().unwrap().iter().map(|c| c["station_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["RED-1"]);
    assert_eq!(node.request(Method::GET, "/chargers/BLUE-1", &ops, None).await.0, 404);
    let (status, _) = node.request(Method::PUT, "/tokens/BLUE-CARD", &ops, Some(json!({}))).await;
    assert_eq!(status, 409, "another operator's card cannot be taken over");
    let (status, body) =
        node.request(Method::POST, "/chargers", &ops, Some(json!({"station_id": "RED-2", "operator_id": blue}))).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = node.request(Method::POST, "/chargers", &ops, Some(json!({"station_id": "RED-2"}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["operator_id"], red);
    // Read-only staff read, and nothing more.
    assert_eq!(node.request(Method::GET, "/chargers/RED-2", &viewer, None).await.0, 200);
    let (status, body) = node.request(Method::DELETE, "/chargers/RED-2", &viewer, None).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(node.request(Method::POST, "/operators", &ops, Some(json!({"name": "Mine"}))).await.0, 403);
    // API keys act as their account.
    let (status, key) = node.request(Method::POST, "/api-keys", &viewer, Some(json!({"name": "dashboard"}))).await;
    assert_eq!(status, 201);
    let response =
        node.client.get(node.api("/chargers")).header("X-Api-Key", key["key"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(response.json::<Value>().await.unwrap().as_array().unwrap().len(), 2);
    node.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let node = TestNode::start("api-openapi").await;
    let document: Value = node.client.get(node.api("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/chargers",
        "/api/v1/sessions/{id}",
        "/api/v1/chargers/{station_id}/commands",
        "/api/v1/tokens/{id_token}",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} missing");
    }
    node.stop().await;
}

#[tokio::test]
async fn commands_reach_the_charger_and_come_back_with_its_answer() {
    let node = TestNode::start("api-commands").await;
    node.provision("Command Co", &["CMD-1"], &["CMD-CARD"]).await;
    let (status, body) = node.post("/chargers/CMD-1/commands", json!({"command": "reset", "hard": false})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (409, Some("charger_not_connected")));

    let mut cp = node.charger("CMD-1").await;
    cp.boot().await.unwrap();
    cp.status(1, "Available").await.unwrap();
    let charger = tokio::spawn(async move {
        cp.serve_for(Duration::from_secs(5)).await.unwrap();
        cp
    });
    let commands = [
        json!({"command": "reset", "hard": false}),
        json!({"command": "get_configuration", "keys": []}),
        json!({"command": "remote_start", "connector": 1, "id_token": "CMD-CARD"}),
        json!({"command": "change_configuration", "key": "HeartbeatInterval", "value": "120"}),
        json!({"command": "trigger_message", "message": "StatusNotification", "connector": null}),
        json!({"command": "unlock_connector", "connector": 1}),
        json!({"command": "remote_stop", "transaction_id": 7}),
        json!({"command": "change_availability", "connector": 0, "operative": false}),
        json!({"command": "clear_cache"}),
        json!({"command": "data_transfer", "vendor_id": "acme", "message_id": "hello", "data": "{}"}),
    ];
    let mut records = Vec::new();
    for command in commands {
        let (status, record) = node.post("/chargers/CMD-1/commands", command).await;
        assert_eq!(status, 200, "{record}");
        assert_eq!(record["state"], "answered", "{record}");
        records.push(record);
    }
    assert_eq!(records[0]["outcome"], json!({"outcome": "status", "status": "Accepted"}));
    assert_eq!(records[1]["outcome"]["known"][0]["key"], "HeartbeatInterval");
    assert_eq!(records[5]["outcome"]["status"], "Unlocked");
    assert_eq!(records[9]["outcome"], json!({"outcome": "data_transfer", "status": "UnknownVendorId", "data": null}));
    let stored = node.get(&format!("/commands/{}", records[0]["id"])).await;
    assert_eq!(stored["state"], "answered");
    let (status, _) = node.post("/chargers/CMD-1/commands", json!({"command": "self_destruct"})).await;
    assert_eq!(status, 422);
    let cp = charger.await.unwrap();
    let actions: Vec<&str> = cp.commands_received.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "Reset",
            "GetConfiguration",
            "RemoteStartTransaction",
            "ChangeConfiguration",
            "TriggerMessage",
            "UnlockConnector",
            "RemoteStopTransaction",
            "ChangeAvailability",
            "ClearCache",
            "DataTransfer",
        ]
    );
    // What the charger sent, newest first, with the node's replies.
    let messages = node.get("/chargers/CMD-1/messages?limit=10").await;
    let status = &messages[0];
    assert_eq!(
        (status["action"].as_str(), status["reply"].as_str()),
        (Some("StatusNotification"), Some(r#"{"kind":"acknowledged"}"#))
    );
    assert_eq!(node.request(reqwest::Method::GET, "/chargers/NOBODY/messages", &node.token(), None).await.0, 404);
    node.stop().await;
}

#[tokio::test]
async fn a_command_the_charger_ignores_times_out() {
    let mut config = common::test_config("api-timeout");
    config.gateway.command_timeout_secs = 1;
    let node = TestNode::start_with(config).await;
    node.provision("Silent Co", &["MUTE-1"], &[]).await;
    let mut cp = node.charger("MUTE-1").await;
    cp.boot().await.unwrap();
    // The charger is connected but does not read: the command is never answered.
    let (status, record) = node.post("/chargers/MUTE-1/commands", json!({"command": "clear_cache"})).await;
    assert_eq!(status, 200);
    assert_eq!(record["state"], "timed_out");
    drop(cp);
    node.stop().await;
}

#[tokio::test]
async fn sites_and_operators_change_and_go_only_when_nothing_depends_on_them() {
    let node = TestNode::start("api-sites").await;
    let admin = node.token.clone();
    let (status, operator) = node.post("/operators", json!({"name": "Green Charging"})).await;
    assert_eq!(status, 201, "{operator}");
    let operator_id = operator["id"].as_i64().unwrap();
    let (status, site) =
        node.post("/sites", json!({"operator_id": operator_id, "name": "Depot", "time_zone": "Asia/Shanghai"})).await;
    assert_eq!(status, 201, "{site}");
    let site_path = format!("/sites/{}", site["id"]);

    let (status, changed) = node
        .request(
            Method::PATCH,
            &site_path,
            &admin,
            Some(json!({"time_zone": "Asia/Urumqi", "address": "1 Depot Road"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!((changed["time_zone"].as_str(), changed["name"].as_str()), (Some("Asia/Urumqi"), Some("Depot")));
    let (status, body) =
        node.request(Method::PATCH, &site_path, &admin, Some(json!({"time_zone": "Mars/Olympus"}))).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (422, Some("invalid_request")));
    assert_eq!(node.get(&site_path).await["time_zone"], "Asia/Urumqi", "a refused change changes nothing");

    // Another operator's staff neither see nor change the site.
    let other = node.provision("Other Charging", &[], &[]).await;
    let (status, _) = node
        .post(
            "/staff",
            json!({"username": "other-ops", "password": "a-long-password-1", "role": "operator", "operator_id": other}),
        )
        .await;
    assert_eq!(status, 201);
    let stranger = node.login("other-ops", "a-long-password-1").await;
    assert_eq!(node.request(Method::PATCH, &site_path, &stranger, Some(json!({"name": "Mine"}))).await.0, 404);
    assert_eq!(node.request(Method::DELETE, &site_path, &stranger, None).await.0, 404);
    assert_eq!(node.request(Method::DELETE, &format!("/operators/{operator_id}"), &stranger, None).await.0, 403);

    // A site with a charger, and an operator with a site, stay.
    let (status, _) = node
        .post("/chargers", json!({"station_id": "GREEN-1", "operator_id": operator_id, "site_id": site["id"]}))
        .await;
    assert_eq!(status, 201);
    let (status, body) = node.request(Method::DELETE, &site_path, &admin, None).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (409, Some("conflict")));
    let operator_path = format!("/operators/{operator_id}");
    assert_eq!(node.request(Method::DELETE, &operator_path, &admin, None).await.0, 409);

    let (status, renamed) =
        node.request(Method::PATCH, &operator_path, &admin, Some(json!({"name": "Green Power"}))).await;
    assert_eq!((status.as_u16(), renamed["name"].as_str()), (200, Some("Green Power")));
    let (status, _) =
        node.request(Method::PATCH, &operator_path, &admin, Some(json!({"name": "Other Charging"}))).await;
    assert_eq!(status, 409, "operator names are unique");

    // Once nothing depends on them, they go.
    assert_eq!(node.request(Method::DELETE, "/chargers/GREEN-1", &admin, None).await.0, 204);
    assert_eq!(node.request(Method::DELETE, &site_path, &admin, None).await.0, 204);
    assert_eq!(node.request(Method::DELETE, &operator_path, &admin, None).await.0, 204);
    assert_eq!(node.request(Method::DELETE, &operator_path, &admin, None).await.0, 404);
    node.stop().await;
}

/// A driver of an operator on this node, with an account the operator's staff made: logs in (a
/// wrong password is refused), starts at the operator's own charger through the driver API (the
/// charger is told to start for the driver's app token), sees the charge in their history and
/// detail, stops it, reads the receipt; another driver sees none of it; blocking the account ends
/// its logins, and a changed password ends the other logins but the one that changed it.
#[tokio::test]
async fn a_driver_charges_at_its_operators_charger_through_the_driver_api_and_sees_only_its_own() {
    let mut config = common::test_config("driver-own");
    config.api.forwarded_for = true;
    let node = TestNode::start_with(config).await;
    let operator = node.provision("Own Co", &["OWN-1"], &[]).await;
    let site = node.get("/sites").await[0]["id"].as_i64().unwrap();
    let draft = common::guangdong_draft(operator, "gd-tou", "2025-01-01T00:00:00+08:00", "0.6");
    assert_eq!(node.post("/tariffs", draft).await.0, 201);
    let assigned = Some(json!({"tariff_id": "gd-tou"}));
    let (status, _) = node.request(Method::PUT, &format!("/sites/{site}/tariff"), &node.token(), assigned).await;
    assert_eq!(status, 204);
    let (app_token, driver) = node.driver(operator, "13800000002").await;
    let (_, other) = node.driver(operator, "13800000003").await;
    let wrong = json!({"username": "13800000002", "password": "not the password"});
    let response = node.client.post(node.api("/driver/login")).json(&wrong).send().await.unwrap();
    assert_eq!(response.status(), 401);
    // Wrong passwords make further logins wait, counted by account, by address and by both: a few
    // are free, then each earns a longer wait. Staff see the account's wait and lift it.
    let (_, guessed) = node.driver(operator, "13800000004").await;
    let login_from = |address: &'static str, password: &str| {
        let body = json!({"username": "13800000004", "password": password});
        node.client.post(node.api("/driver/login")).header("x-forwarded-for", address).json(&body).send()
    };
    for attempt in 1..=4 {
        let response = login_from("203.0.113.7", "a wrong guess").await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "attempt {attempt}");
    }
    let response = login_from("203.0.113.7", common::DRIVER_PASSWORD).await.unwrap();
    assert_eq!(response.status().as_u16(), 429, "waiting, even with the right password");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let response = login_from("198.51.100.2", common::DRIVER_PASSWORD).await.unwrap();
    assert_eq!(response.status().as_u16(), 429, "the account waits from anywhere (a minute at most)");
    assert_eq!(node.request(Method::GET, "/driver/me", &guessed, None).await.0, 200, "logins made before stay");
    let waiting = node.get("/drivers").await;
    let waiting = waiting.as_array().unwrap().iter().find(|d| d["username"] == "13800000004").unwrap().clone();
    assert!(waiting["locked_until"].is_string(), "{waiting}");
    let unlock = Some(json!({"status": "active"}));
    let path = format!("/drivers/{}", waiting["id"]);
    assert_eq!(node.request(Method::PATCH, &path, &node.token(), unlock).await.0, 200);
    let response = login_from("198.51.100.2", common::DRIVER_PASSWORD).await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "lifted by the operator");
    // An address that tries account after account waits too, but only after many (addresses are
    // shared) and never more than a minute.
    let login_as = |username: String, password: &'static str| {
        let body = json!({"username": username, "password": password});
        node.client.post(node.api("/driver/login")).header("x-forwarded-for", "203.0.113.7").json(&body).send()
    };
    let elsewhere = login_as("13800000003".into(), common::DRIVER_PASSWORD).await.unwrap();
    assert_eq!(elsewhere.status().as_u16(), 200, "a shared address is not locked by a few failures");
    for n in 0..17 {
        let response = login_as(format!("1390000{n:04}"), "a wrong guess").await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "guess {n}");
    }
    let response = login_as("13800000003".into(), common::DRIVER_PASSWORD).await.unwrap();
    assert_eq!(response.status().as_u16(), 429, "the spraying address waits for any account");
    let wait: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let audit = node.get("/audit?action=driver.login_failed&limit=1000").await;
    let failed = audit.as_array().unwrap();
    let why = |entry: &Value| (entry["actor_name"].clone(), entry["address"].clone(), entry["detail"].clone());
    let wrong = json!("wrong username or password");
    assert_eq!(
        failed.len(),
        22,
        "a wrong password, four guesses, seventeen more (refusals while waiting are only logged)"
    );
    assert_eq!(why(&failed[17]), (json!("13800000004"), json!("203.0.113.7"), wrong));

    let (status, taken) = node
        .post(
            "/drivers",
            json!({"username": "13800000002", "password": common::DRIVER_PASSWORD, "operator_id": operator}),
        )
        .await;
    assert_eq!((status.as_u16(), taken["code"].as_str()), (409, Some("conflict")), "{taken}");

    let mut charger = node.charger("OWN-1").await;
    charger.boot().await.unwrap();
    charger.status(1, "Available").await.unwrap();
    let serving = tokio::spawn(async move {
        charger.serve_for(Duration::from_secs(2)).await.unwrap();
        charger
    });
    let member = node.get("/ledger").await["party_id"].as_str().unwrap().to_owned();
    let request =
        json!({"operator": member, "location_id": site.to_string(), "evse_uid": "OWN-1", "connector_id": "1"});
    let (status, accepted) = node.request(Method::POST, "/driver/charges", &driver, Some(request)).await;
    assert_eq!((status.as_u16(), accepted["state"].as_str()), (202, Some("accepted")), "{accepted}");
    let mut charger = serving.await.unwrap();
    let (action, payload) = charger.commands_received.last().unwrap().clone();
    assert_eq!((action.as_str(), payload["idTag"].as_str()), ("RemoteStartTransaction", Some(app_token.as_str())));

    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(20);
    let tx = charger.start_transaction(1, &app_token, 0, started).await.unwrap();
    let (_, history) = node.request(Method::GET, "/driver/charges", &driver, None).await;
    let id = format!("session-{tx}");
    assert_eq!((history[0]["id"].as_str(), history[0]["state"].as_str()), (Some(id.as_str()), Some("active")));
    let path = format!("/driver/charges/{id}");
    let (status, detail) = node.request(Method::GET, &path, &driver, None).await;
    assert_eq!(
        (status.as_u16(), detail["kind"].as_str(), detail["state"].as_str()),
        (200, Some("own"), Some("active"))
    );
    for hidden in [path.clone(), format!("{path}/receipt")] {
        let (status, _) = node.request(Method::GET, &hidden, &other, None).await;
        assert_eq!(status, 404, "{hidden}");
    }
    let (_, theirs) = node.request(Method::GET, "/driver/charges", &other, None).await;
    assert_eq!(theirs, json!([]));

    let serving = tokio::spawn(async move {
        charger.serve_for(Duration::from_secs(2)).await.unwrap();
        charger
    });
    let (status, stopping) = node.request(Method::POST, &format!("{path}/stop"), &driver, None).await;
    assert_eq!((status.as_u16(), stopping["state"].as_str()), (200, Some("stopping")), "{stopping}");
    let mut charger = serving.await.unwrap();
    let (action, payload) = charger.commands_received.last().unwrap().clone();
    assert_eq!((action.as_str(), payload["transactionId"].as_i64()), ("RemoteStopTransaction", Some(tx)));
    charger.stop_transaction(tx, 20_000, jiff::Timestamp::now(), "Remote").await.unwrap();
    let (status, receipt) = node.request(Method::GET, &format!("{path}/receipt"), &driver, None).await;
    assert_eq!(
        (status.as_u16(), receipt["kind"].as_str(), receipt["energy_kwh"].as_str()),
        (200, Some("own"), Some("20.000"))
    );
    assert_eq!(receipt["currency"], "CNY", "{receipt}");
    assert_ne!(receipt["totals"]["total"], "0.00", "{receipt}");
    let (status, ended) = node.request(Method::POST, &format!("{path}/stop"), &driver, None).await;
    assert_eq!((status.as_u16(), ended["code"].as_str()), (409, Some("not_charging")), "{ended}");

    // A password change keeps the login that made it and ends the others.
    let second_login = json!({"username": "13800000003", "password": common::DRIVER_PASSWORD});
    let response = node.client.post(node.api("/driver/login")).json(&second_login).send().await.unwrap();
    let second = response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let change = json!({"current_password": common::DRIVER_PASSWORD, "new_password": "a new password 2"});
    let (status, _) = node.request(Method::PUT, "/driver/password", &other, Some(change)).await;
    assert_eq!(status, 204);
    assert_eq!(node.request(Method::GET, "/driver/me", &other, None).await.0, 200);
    assert_eq!(node.request(Method::GET, "/driver/me", &second, None).await.0, 401);

    // Blocked by the operator: the driver's logins end and a new one is refused.
    let driver_id = node.get("/drivers").await[0]["id"].as_i64().unwrap();
    let (status, blocked) = node
        .request(Method::PATCH, &format!("/drivers/{driver_id}"), &node.token(), Some(json!({"status": "blocked"})))
        .await;
    assert_eq!((status.as_u16(), blocked["status"].as_str()), (200, Some("blocked")), "{blocked}");
    assert_eq!(node.request(Method::GET, "/driver/me", &driver, None).await.0, 401);
    let login = json!({"username": "13800000002", "password": common::DRIVER_PASSWORD});
    let response = node.client.post(node.api("/driver/login")).json(&login).send().await.unwrap();
    assert_eq!(response.status(), 403);
    node.stop().await;
}

/// The driver app's phone sign-up over HTTP: closed until the member's administrator opens it for
/// an operator (the operators' list shows which), a number that is no mobile number is refused at
/// its field, a number is not sent a second code within a minute, and a wrong code is refused.
/// (Logging in with the code sent is in operations' tests, with a phone that keeps its messages, and
/// in the browser tests, with the development provider's log.)
#[tokio::test]
async fn phone_sign_up_opens_per_operator_and_refuses_bad_numbers_floods_and_wrong_codes() {
    let node = TestNode::start("phone-signup").await;
    let admin = node.token();
    let operator = node.provision("Phone Co", &[], &[]).await;
    let ask = |phone: &str| node.request(Method::POST, "/driver/phone-code", "", Some(json!({"phone": phone})));

    let (status, closed) = ask("13800138001").await;
    assert_eq!((status.as_u16(), closed["code"].as_str()), (403, Some("signup_closed")), "{closed}");
    let signup = format!("/operators/{operator}/driver-signup");
    let (status, _) = node.request(Method::PUT, &signup, &admin, Some(json!({"open": true}))).await;
    assert_eq!(status, 204);
    let listed = node.get("/operators").await;
    assert_eq!(listed[0]["driver_signup"], true, "{listed}");
    assert_eq!(listed[0]["wallets_enabled"], false, "{listed}");

    let (status, refused) = ask("0755-1234567").await;
    assert_eq!((status.as_u16(), refused["code"].as_str()), (422, Some("invalid_phone")), "{refused}");
    assert_eq!(refused["details"][0]["field"], "phone");

    let (status, sent) = ask("+86 138 0013 8001").await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(sent["phone"], "+8613800138001");
    let response =
        node.client.post(node.api("/driver/phone-code")).json(&json!({"phone": "13800138001"})).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "too_many_codes");

    let wrong = json!({"phone": "13800138001", "code": "12345x", "cookie": true});
    let (status, body) = node.request(Method::POST, "/driver/phone-login", "", Some(wrong)).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (401, Some("wrong_code")), "{body}");
    node.stop().await;
}

#[tokio::test]
async fn the_fleet_is_counted_searched_filtered_and_paged_on_the_node() {
    let node = TestNode::start("api-fleet").await;
    let red = node.provision("Red Charging", &["F-1", "F-2", "F-3", "F-4", "F-5"], &[]).await;
    node.provision("Blue Charging", &["BLUE-1"], &[]).await;
    let mut held = Vec::new();
    for (station, status) in [("F-2", "Available"), ("F-3", "Charging"), ("F-4", "Available")] {
        let mut cp = node.charger(station).await;
        cp.boot().await.unwrap();
        cp.status(1, status).await.unwrap();
        held.push(cp);
    }
    let fault = json!({"connectorId": 2, "errorCode": "GroundFailure", "status": "Faulted"});
    held[2].call("StatusNotification", fault).await.unwrap();
    let (status, body) = node
        .post(
            "/staff",
            json!({"username": "red-ops", "password": "a-long-password-1", "role": "operator", "operator_id": red}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ops = node.login("red-ops", "a-long-password-1").await;
    let fleet = |query: &'static str| {
        let (node, ops) = (&node, &ops);
        async move {
            let (status, body) = node.request(Method::GET, &format!("/fleet{query}"), ops, None).await;
            assert_eq!(status, 200, "{body}");
            let ids: Vec<String> =
                body["chargers"].as_array().unwrap().iter().map(|c| c["station_id"].as_str().unwrap().into()).collect();
            (body, ids)
        }
    };

    let (all, ids) = fleet("?limit=2").await;
    assert_eq!(all["counts"], json!({"online": 1, "charging": 1, "faulted": 1, "offline": 2}));
    assert_eq!((all["total"].as_u64(), ids), (Some(5), vec!["F-1".to_owned(), "F-2".into()]));
    assert_eq!(
        (all["chargers"][1]["condition"].as_str(), all["chargers"][1]["connected"].as_bool()),
        (Some("online"), Some(true))
    );
    assert_eq!(fleet("?offset=4").await.1, ["F-5"]);
    let (offline, ids) = fleet("?condition=offline").await;
    assert_eq!((offline["total"].as_u64(), ids), (Some(2), vec!["F-1".to_owned(), "F-5".into()]));
    assert_eq!(offline["counts"], all["counts"], "the counts are of every condition");
    let (found, ids) = fleet("?q=f-4&condition=faulted").await;
    assert_eq!((ids, found["counts"]["faulted"].as_i64()), (vec!["F-4".to_owned()], Some(1)));
    assert_eq!(found["chargers"][0]["connectors"].as_array().unwrap().len(), 2);
    assert_eq!(fleet("?q=BLUE").await.0["total"], 0, "another operator's chargers are not found");

    let (status, body) = node.request(Method::GET, "/fleet?condition=broken", &ops, None).await;
    assert_eq!((status.as_u16(), body["details"][0]["field"].as_str()), (422, Some("condition")), "{body}");
    let (status, _) = node.request(Method::GET, "/fleet?limit=ten", &ops, None).await;
    assert_eq!(status, 422);

    // The dashboard counts the same way and lists the fault.
    let (status, overview) = node.request(Method::GET, "/overview", &ops, None).await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["chargers"], all["counts"]);
    assert_eq!(
        (overview["fault_count"].as_i64(), overview["faults"][0]["error"].as_str()),
        (Some(1), Some("GroundFailure"))
    );
    assert_eq!(overview["faults"][0]["station_id"], "F-4");
    let everyone = node.get("/fleet").await;
    assert_eq!(everyone["total"], 6, "the member's administrator sees every operator's chargers");
    drop(held);
    node.stop().await;
}
