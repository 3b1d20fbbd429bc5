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
    // Logging out revokes the token.
    let token = node.login("admin", common::ADMIN_PASSWORD).await;
    assert_eq!(node.request(Method::POST, "/auth/logout", &token, None).await.0, 204);
    assert_eq!(node.request(Method::GET, "/me", &token, None).await.0, 401);
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
