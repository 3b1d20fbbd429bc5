//! The node's face to browsers: the console at `/` and the driver app at `/app/` from the API's
//! port, and logins kept in cookies that another site cannot make a browser use.

mod common;

use common::TestNode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn the_console_and_the_app_are_served_beside_the_api() {
    let node = TestNode::start("browser-pages").await;
    let client = reqwest::Client::new();
    let base = format!("http://{}", node.node().api_addr);
    for (path, root) in [("/", "id=\"console\""), ("/chargers/ST-1", "id=\"console\""), ("/app/", "id=\"app\"")] {
        let page = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(page.headers()["x-content-type-options"], "nosniff", "the node's headers are on pages too");
        assert!(page.text().await.unwrap().contains(root), "{path}");
    }
    // The API's paths stay the API's: an unknown one is a JSON error, never a page.
    let unknown = client.get(format!("{base}/api/v1/no-such-thing")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["code"], "not_found");
    assert_eq!(client.get(format!("{base}/health")).send().await.unwrap().text().await.unwrap(), "ok");
    node.stop().await;
}

#[tokio::test]
async fn a_browser_login_is_a_cookie_that_needs_its_csrf_token_and_our_origin() {
    let node = TestNode::start("browser-cookies").await;
    let client = reqwest::Client::new();
    let login = json!({"username": "admin", "password": common::ADMIN_PASSWORD, "cookie": true});
    let response = client.post(node.api("/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookies: Vec<String> =
        response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let body: Value = response.json().await.unwrap();
    assert!(body.get("token").is_none(), "the token stays out of the scripts' reach: {body}");
    assert_eq!(body["staff"]["username"], "admin");
    let value = |name: &str| {
        let cookie = cookies.iter().find(|c| c.starts_with(&format!("{name}="))).expect(name);
        cookie.split(';').next().unwrap()[name.len() + 1..].to_owned()
    };
    let (secret, csrf) = (value("cm_staff"), value("cm_staff_csrf"));
    assert!(
        cookies.iter().any(|c| c.starts_with("cm_staff=") && c.contains("HttpOnly") && c.contains("SameSite=Strict"))
    );
    let jar = format!("cm_staff={secret}; cm_staff_csrf={csrf}");
    let call = |method: Method, path: &str| client.request(method, node.api(path)).header(COOKIE, jar.clone());

    let me = call(Method::GET, "/me").send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "reads need the cookie only");
    let site = json!({"operator_id": node.provision("North", &[], &[]).await, "name": "Nanshan P2"});
    let forged = call(Method::POST, "/sites").json(&site).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a change without the CSRF token is another site's");
    let foreign = call(Method::GET, "/me").header(ORIGIN, "https://evil.example").send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN, "nor may another origin read with it");
    let made = call(Method::POST, "/sites").header("x-csrf-token", &csrf).json(&site).send().await.unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let sites = node.get("/sites").await;
    let made = sites.as_array().unwrap().iter().filter(|s| s["name"] == "Nanshan P2").count();
    assert_eq!(made, 1, "the forged request changed nothing: {sites}");

    // A bearer token is no cookie: it needs no CSRF token.
    let (status, _) = node.request(Method::GET, "/me", &node.token(), None).await;
    assert_eq!(status, StatusCode::OK);

    let out = call(Method::POST, "/auth/logout").header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let forget: Vec<_> = out.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(forget.iter().any(|c| c.starts_with("cm_staff=;") && c.contains("Max-Age=0")), "{forget:?}");
    assert_eq!(call(Method::GET, "/me").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // A driver's login cookie opens the driver API only.
    let operator = node.get("/operators").await[0]["id"].as_i64().unwrap();
    node.driver(operator, "wei").await;
    let login = json!({"username": "wei", "password": common::DRIVER_PASSWORD, "cookie": true});
    let response = client.post(node.api("/driver/login")).json(&login).send().await.unwrap();
    let driver_cookie = response.headers().get_all(SET_COOKIE).iter().next().unwrap().to_str().unwrap().to_owned();
    let driver_jar = driver_cookie.split(';').next().unwrap().to_owned();
    assert!(driver_jar.starts_with("cm_driver="));
    let mine = client.get(node.api("/driver/me")).header(COOKIE, &driver_jar).send().await.unwrap();
    assert_eq!(mine.status(), StatusCode::OK);
    let staff = client.get(node.api("/me")).header(COOKIE, &driver_jar).send().await.unwrap();
    assert_eq!(staff.status(), StatusCode::UNAUTHORIZED);
    node.stop().await;
}
