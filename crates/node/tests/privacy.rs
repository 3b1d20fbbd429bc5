//! A driver's rights over their personal data (China's PIPL): a copy of everything the node holds
//! about them, and closing the account, after which nothing personal is left while the charge it
//! paid for stays in the books under an anonymous id. On SQLite and on PostgreSQL.

mod common;

use common::TestNode;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_driver_gets_their_data_and_closes_their_account() {
    exercise(TestNode::start("privacy").await).await;
}

#[tokio::test]
async fn a_driver_gets_their_data_and_closes_their_account_on_postgres() {
    let url = common::postgres_database("privacy").await;
    let mut config = common::test_config("privacy-pg");
    config.database_url = url.clone();
    exercise(TestNode::start_with(config).await).await;
    common::drop_postgres_database(&url).await;
}

async fn exercise(node: TestNode) {
    let operator = node.provision("Own Co", &["OWN-1"], &[]).await;
    let site = node.get("/sites").await[0]["id"].as_i64().unwrap();
    let draft = common::guangdong_draft(operator, "gd-tou", "2025-01-01T00:00:00+08:00", "0.6");
    assert_eq!(node.post("/tariffs", draft).await.0, 201);
    let assigned = Some(json!({"tariff_id": "gd-tou"}));
    assert_eq!(node.request(Method::PUT, &format!("/sites/{site}/tariff"), &node.token(), assigned).await.0, 204);
    let (app_token, driver) = node.driver(operator, "13800000077").await;
    let account = node.get("/drivers").await[0].clone();
    let id = account["id"].as_i64().unwrap();

    // A charge, paid after charging through the sandbox.
    let mut charger = node.charger("OWN-1").await;
    charger.boot().await.unwrap();
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(20);
    let tx = charger.start_transaction(1, &app_token, 0, started).await.unwrap();
    let close = |password: &str| {
        let body = Some(json!({"password": password}));
        node.request(Method::POST, "/driver/me/close", &driver, body)
    };
    let (status, running) = close(common::DRIVER_PASSWORD).await;
    assert_eq!((status.as_u16(), running["code"].as_str()), (409, Some("conflict")), "{running}");
    assert!(running["message"].as_str().unwrap().contains("running"), "{running}");
    charger.stop_transaction(tx, 20_000, jiff::Timestamp::now(), "Local").await.unwrap();
    let payment = format!("/sessions/{tx}/payment");
    common::eventually("the charge paid", || async { node.get(&payment).await["payment"]["state"] == "captured" })
        .await;
    let captured = node.get(&payment).await["payment"]["captured"].as_i64().unwrap();
    assert!(captured > 0);

    // A favourite charger (of another member), marked twice: kept once.
    for _ in 0..2 {
        let (status, _) = node.request(Method::PUT, "/driver/favourites/CN-M02/FT-1", &driver, None).await;
        assert_eq!(status, 204);
    }
    let (status, marked) = node.request(Method::GET, "/driver/favourites", &driver, None).await;
    assert_eq!((status.as_u16(), marked.as_array().map(Vec::len)), (200, Some(1)), "{marked}");

    // Their data: the account, the token, the charge and its payment, the login, the favourite.
    let (status, data) = node.request(Method::GET, "/driver/me/data", &driver, None).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!((data["account"]["username"].as_str(), data["account"]["id"].as_i64()), (Some("13800000077"), Some(id)));
    assert_eq!(data["tokens"][0]["id_token"], app_token);
    assert_eq!(
        (data["sessions"][0]["id"].as_i64(), data["payments"][0]["captured"].as_i64()),
        (Some(tx), Some(captured))
    );
    assert_eq!(data["logins"].as_array().unwrap().len(), 1, "{data}");
    assert_eq!(
        (data["favourites"][0]["operator"].as_str(), data["favourites"][0]["evse_uid"].as_str()),
        (Some("CN-M02"), Some("FT-1"))
    );
    let (status, for_staff) = node.request(Method::GET, &format!("/drivers/{id}/data"), &node.token(), None).await;
    assert_eq!((status.as_u16(), &for_staff["tokens"]), (200, &data["tokens"]));

    // Closing: confirmed with the password; then nothing personal is left.
    assert_eq!(close("not the password").await.0, 401);
    let (status, closed) = close(common::DRIVER_PASSWORD).await;
    assert_eq!(status, 200, "{closed}");
    let anonymous = closed["anonymous_tokens"][0].as_str().unwrap().to_owned();
    assert!(anonymous.starts_with("ANON-") && anonymous != app_token);
    assert_eq!(node.request(Method::GET, "/driver/me", &driver, None).await.0, 401, "the login ended");
    let account = node.get(&format!("/drivers/{id}")).await;
    assert_eq!(
        (account["username"].as_str(), &account["name"], account["status"].as_str()),
        (Some(format!("closed-{id}").as_str()), &Value::Null, Some("closed"))
    );
    assert_eq!(account["tokens"][0]["id_token"], anonymous.as_str());
    assert_eq!(node.request(Method::GET, &format!("/tokens/{app_token}"), &node.token(), None).await.0, 404);
    let store = node.database().await;
    let favourites = store.read(move |conn| Box::pin(chargemesh_store::favourites::of_driver(conn, id))).await.unwrap();
    assert!(favourites.is_empty(), "the favourites went with the account");
    let everything = format!(
        "{}{}{}",
        node.get("/sessions?limit=500").await,
        node.get("/tokens").await,
        node.get("/audit?limit=1000").await
    );
    assert!(!everything.contains(&app_token) && !everything.contains("13800000077"), "{everything}");
    // The username logs nobody in any more (whoever types it is logged as any failed login is).
    let login = json!({"username": "13800000077", "password": common::DRIVER_PASSWORD});
    let response = node.client.post(node.api("/driver/login")).json(&login).send().await.unwrap();
    assert_eq!(response.status(), 401);
    // What accounting keeps stays: the charge, its energy and its payment, under the anonymous id.
    let session = node.get(&format!("/sessions/{tx}")).await;
    assert_eq!(
        (session["id_token"].as_str(), session["energy_mwh"].as_i64()),
        (Some(anonymous.as_str()), Some(20_000_000))
    );
    assert_eq!(node.get(&payment).await["payment"]["captured"].as_i64(), Some(captured));
    let (status, again) = node.request(Method::POST, &format!("/drivers/{id}/close"), &node.token(), None).await;
    assert_eq!((status.as_u16(), again["code"].as_str()), (409, Some("conflict")), "closed already");
    assert!(node.get("/payments/reconciliation").await["problems"].as_array().unwrap().is_empty(), "the books agree");
    node.stop().await;
}
