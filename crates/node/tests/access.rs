//! Who may do what: every route of the OpenAPI document, called by every role at every scope (with
//! logins and with API keys), by a driver and by nobody, answers as the declared matrix
//! (`chargemesh_api::access::ROUTES` and `Role::permits`) says; credentials have a life cycle;
//! every change lands in the audit log, which each reader sees only as far as their scope.

mod common;

use chargemesh_api::access::{self, Access};
use chargemesh_core::access::Role;
use common::TestNode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// Someone calling the API: the credential they send and what the matrix says they are.
struct Principal {
    name: String,
    token: Option<String>,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Nobody,
    Driver,
    Staff(Role),
}

impl TestNode {
    async fn staff(&self, username: &str, role: &str, operator: Option<i64>) -> (i64, String) {
        let (status, created) = self
            .post("/staff", json!({"username": username, "password": PASSWORD, "role": role, "operator_id": operator}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        (created["id"].as_i64().unwrap(), self.login(username, PASSWORD).await)
    }

    async fn api_key(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, "/api-keys", token, Some(body)).await
    }
}

/// A request to every route, by everyone, answered as the matrix says: 401 without a credential of
/// the right kind, 403 for a role the route's need does not permit, anything else (the handler's
/// 200, 404, 422…) for one it permits.
#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_declares() {
    let node = TestNode::start("access-matrix").await;
    let operator = node.provision("North", &["N-1"], &[]).await;
    let mut principals = vec![
        Principal { name: "nobody".into(), token: None, kind: Kind::Nobody },
        Principal { name: "member_admin".into(), token: Some(node.token()), kind: Kind::Staff(Role::MemberAdmin) },
    ];
    for role in Role::ALL.into_iter().filter(|r| *r != Role::MemberAdmin) {
        let scope = (!role.is_member_role()).then_some(operator);
        let (_, token) = node.staff(&format!("login-{role}"), role.as_str(), scope).await;
        principals.push(Principal { name: format!("{role} (login)"), token: Some(token), kind: Kind::Staff(role) });
        // The same role as an API key the member's administrator minted.
        let (status, key) =
            node.api_key(&node.token(), json!({"name": "matrix", "role": role, "operator_id": scope})).await;
        assert_eq!(status, StatusCode::CREATED, "{key}");
        let key = key["key"].as_str().unwrap().to_owned();
        principals.push(Principal { name: format!("{role} (key)"), token: Some(key), kind: Kind::Staff(role) });
    }
    // Staff of every operator, and a key an operator's admin minted with less than its own role.
    let (_, everyone) = node.staff("all-operators", "operator", None).await;
    principals.push(Principal {
        name: "operator of all".into(),
        token: Some(everyone),
        kind: Kind::Staff(Role::Operator),
    });
    let (_, admin) = node.staff("north-admin", "admin", Some(operator)).await;
    let (status, lowered) = node.api_key(&admin, json!({"name": "reports", "role": "readonly"})).await;
    assert_eq!(status, StatusCode::CREATED, "{lowered}");
    let lowered = lowered["key"].as_str().unwrap().to_owned();
    principals.push(Principal {
        name: "readonly key of an admin".into(),
        token: Some(lowered),
        kind: Kind::Staff(Role::Readonly),
    });
    let (_, driver) = node.driver(operator, "13900000001").await;
    principals.push(Principal { name: "driver".into(), token: Some(driver), kind: Kind::Driver });

    let document = node.get("/openapi.json").await;
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push((method.to_uppercase(), path.clone()));
        }
    }
    for route in access::ROUTES.iter().filter(|r| r.path != "/api/v1/openapi.json") {
        assert!(
            routes.contains(&(route.method.to_owned(), route.path.to_owned())),
            "{} {} is not documented",
            route.method,
            route.path
        );
    }
    // Logging out ends the credential: last.
    routes.sort_by_key(|(_, path)| path.ends_with("/logout"));
    let mut checked = 0;
    for (method, path) in &routes {
        let route = access::find(method, path).unwrap_or_else(|| panic!("{method} {path} has no access rule"));
        let url = node.api(&fill(&path["/api/v1".len()..]));
        for principal in &principals {
            let mut request = node.client.request(method.parse().unwrap(), &url);
            if let Some(token) = &principal.token {
                request = request.bearer_auth(token);
            }
            if method != "GET" && method != "DELETE" {
                request = request.json(&json!({}));
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            common::assert_declared(method, &fill(&path["/api/v1".len()..]), status);
            let expected = expectation(route.access, principal.kind);
            let ok = match expected {
                Expected::Unauthorized => status == StatusCode::UNAUTHORIZED,
                Expected::Forbidden => status == StatusCode::FORBIDDEN,
                Expected::Allowed => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            };
            assert!(ok, "{method} {path} by {}: expected {expected:?}, got {status}: {body}", principal.name);
            if !body.is_empty() && !status.is_success() {
                let error: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|_| panic!("{method} {path} by {}: {status} is not JSON: {body}", principal.name));
                assert!(error["code"].is_string() && error["message"].is_string(), "{body}");
            }
            checked += 1;
        }
    }
    assert!(checked > 1_500, "{checked} calls");
    node.stop().await;
}

/// Every path parameter filled with a value that names nothing.
fn fill(path: &str) -> String {
    let mut filled = String::new();
    let mut in_parameter = false;
    for c in path.chars() {
        match c {
            '{' => in_parameter = true,
            '}' => {
                in_parameter = false;
                filled.push('0');
            }
            _ if !in_parameter => filled.push(c),
            _ => {}
        }
    }
    filled
}

#[derive(Debug, Clone, Copy)]
enum Expected {
    Unauthorized,
    Forbidden,
    Allowed,
}

fn expectation(access: Access, kind: Kind) -> Expected {
    match (access, kind) {
        (Access::Public, _) => Expected::Allowed,
        (Access::Staff(need), Kind::Staff(role)) => {
            if role.permits(need) {
                Expected::Allowed
            } else {
                Expected::Forbidden
            }
        }
        (Access::Driver, Kind::Driver) => Expected::Allowed,
        _ => Expected::Unauthorized,
    }
}

/// The critical boundary, named route by route and independent of the table: an operator's staff —
/// even its administrator, by login or key — cannot act for the member in the consortium (govern,
/// submit ledger transactions, admit OCPI partners, confirm clearing, read the member's books);
/// the member's finance confirms clearing but does not govern.
#[tokio::test]
async fn operator_staff_never_act_as_the_member() {
    let node = TestNode::start("access-member").await;
    let operator = node.provision("North", &[], &[]).await;
    let (_, admin) = node.staff("north-admin", "admin", Some(operator)).await;
    let (status, key) = node.api_key(&admin, json!({"name": "ops"})).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let admin_key = key["key"].as_str().unwrap().to_owned();
    let (_, finance) = node.staff("finance", "member_finance", None).await;
    let member_key = chargemesh_ledger::MemberKey::from_seed([9; 32]);
    let admit = json!({"admit_member": {"party_id": "CN-EVL", "public_key": member_key.public_key(),
        "roles": {"cpo": true, "emsp": true}, "endpoint": "http://127.0.0.1:1/ocpi", "validator": false, "p2p_endpoint": ""}});
    let member_acts: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::POST, "/ledger/governance/proposals", Some(admit.clone())),
        (Method::POST, "/ledger/governance/proposals/0/votes", Some(json!({"approve": true}))),
        (Method::POST, "/ledger/transactions", Some(json!({"transaction": "00"}))),
        (Method::POST, "/ocpi/partners", Some(json!({"name": "Fake hub"}))),
        (Method::GET, "/ocpi/partners", None),
        (Method::POST, "/ledger/clearing/0/transfers/0/paid", None),
        (Method::POST, "/ledger/clearing/0/transfers/0/received", None),
        (Method::GET, "/ledger/obligations", None),
        (Method::GET, "/ledger/clearing", None),
        (Method::GET, "/ledger/governance", None),
        (Method::GET, "/ledger/feed", None),
        (Method::GET, "/roaming/outbox", None),
        (Method::GET, "/payments/reconciliation", None),
        (Method::POST, "/operators", Some(json!({"name": "Shadow"}))),
    ];
    for (method, path, body) in &member_acts {
        for (who, token) in [("the operator's admin", &admin), ("its API key", &admin_key)] {
            let (status, answer) = node.request(method.clone(), path, token, body.clone()).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{method} {path} by {who}"
            );
        }
    }
    let (status, _) = node.request(Method::POST, "/ledger/clearing/0/transfers/0/paid", &finance, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "finance may confirm (there is no such transfer)");
    let (status, _) = node.request(Method::POST, "/ledger/governance/proposals", &finance, Some(admit.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "finance does not govern");
    let (status, proposed) = node.post("/ledger/governance/proposals", admit).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the member's administrator does: {proposed}");
    node.stop().await;
}

/// Staff accounts are created within their creator's rights, change and reset passwords (ending
/// logins), are disabled and deleted; API keys are named, scoped, never above their creator,
/// expire and are revoked; passwords must be long enough, not too long and not guessable; wrong
/// passwords slow logins down.
#[tokio::test]
async fn credentials_have_a_life_cycle() {
    let mut config = common::test_config("access-credentials");
    config.api.forwarded_for = true;
    let node = TestNode::start_with(config).await;
    let north = node.provision("North", &[], &[]).await;
    let south = node.provision("South", &[], &[]).await;
    let (_, admin) = node.staff("north-admin", "admin", Some(north)).await;

    // Within the creator's rights.
    let create = |username: &str, role: &str, operator: Option<i64>| json!({"username": username, "password": PASSWORD, "role": role, "operator_id": operator});
    let (status, reader) =
        node.request(Method::POST, "/staff", &admin, Some(create("north-reader", "readonly", None))).await;
    assert_eq!((status, reader["operator_id"].as_i64()), (StatusCode::CREATED, Some(north)), "{reader}");
    for (body, why) in [
        (create("x1", "member_finance", None), "a member role"),
        (create("x2", "readonly", Some(south)), "another operator"),
    ] {
        let (status, _) = node.request(Method::POST, "/staff", &admin, Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
    }
    for (password, problem) in
        [("password1234", "too easy to guess"), ("north-reader-2", "too easy to guess"), ("short", "at least 12")]
    {
        let body = json!({"username": "north-reader-2", "password": password, "role": "readonly"});
        let (status, refused) = node.request(Method::POST, "/staff", &admin, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert!(refused["message"].as_str().unwrap().contains(problem), "{refused}");
    }
    let huge = json!({"username": "north-reader-2", "password": "horse ".repeat(30), "role": "readonly"});
    let (status, refused) = node.request(Method::POST, "/staff", &admin, Some(huge)).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && refused["message"].as_str().unwrap().contains("at most 128"));
    let reader_id = reader["id"].as_i64().unwrap();
    let reader_token = node.login("north-reader", PASSWORD).await;

    // A readonly account mints keys that read, never ones that write; keys do not mint keys.
    let (status, _) = node.api_key(&reader_token, json!({"name": "w", "role": "operator"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, key) = node.api_key(&reader_token, json!({"name": "nightly export"})).await;
    assert_eq!(
        (status, key["role"].as_str(), key["operator_id"].as_i64()),
        (StatusCode::CREATED, Some("readonly"), None),
        "{key}"
    );
    let reader_key = key["key"].as_str().unwrap().to_owned();
    let (status, _) = node.api_key(&reader_key, json!({"name": "child"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a key cannot mint keys");
    let (status, _) = node.api_key(&admin, json!({"name": "s", "operator_id": south})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a key reaches no operator its creator does not");
    let past = json!({"name": "old", "expires_at": "2020-01-01T00:00:00Z"});
    assert_eq!(node.api_key(&admin, past).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, listed) = node.request(Method::GET, "/api-keys", &reader_token, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let (_, listed) = node.request(Method::GET, "/api-keys", &admin, None).await;
    assert!(listed.as_array().unwrap().iter().any(|k| k["name"] == "nightly export"), "its admin sees it: {listed}");
    assert_eq!(node.request(Method::GET, "/sites", &reader_key, None).await.0, StatusCode::OK);
    assert_eq!(
        node.request(Method::POST, "/sites", &reader_key, Some(json!({"name": "x"}))).await.0,
        StatusCode::FORBIDDEN
    );

    // An expiring key stops working when it expires.
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1500)).to_string();
    let (status, expiring) = node.api_key(&admin, json!({"name": "soon", "expires_at": soon})).await;
    assert_eq!(status, StatusCode::CREATED);
    let expiring = expiring["key"].as_str().unwrap().to_owned();
    assert_eq!(node.request(Method::GET, "/me", &expiring, None).await.0, StatusCode::OK);
    common::eventually("the key expires", || async {
        node.request(Method::GET, "/me", &expiring, None).await.0 == StatusCode::UNAUTHORIZED
    })
    .await;

    // Changing one's password ends one's other logins; a reset ends all; keys stay until disabled.
    let other_login = node.login("north-reader", PASSWORD).await;
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, _) = node
        .request(Method::PUT, "/me/password", &reader_token, Some(change("wrong", "a new horse staple battery")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        node.request(Method::PUT, "/me/password", &reader_token, Some(change(PASSWORD, "qwertyuiop12"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = node
        .request(Method::PUT, "/me/password", &reader_key, Some(change(PASSWORD, "a new horse staple battery")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not with a key");
    let (status, _) = node
        .request(Method::PUT, "/me/password", &reader_token, Some(change(PASSWORD, "a new horse staple battery")))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(node.request(Method::GET, "/me", &reader_token, None).await.0, StatusCode::OK, "this login stays");
    assert_eq!(node.request(Method::GET, "/me", &other_login, None).await.0, StatusCode::UNAUTHORIZED, "others end");
    let path = format!("/staff/{reader_id}");
    let reset = json!({"password": "another long horse battery"});
    assert_eq!(node.request(Method::PATCH, &path, &admin, Some(reset)).await.0, StatusCode::OK);
    assert_eq!(
        node.request(Method::GET, "/me", &reader_token, None).await.0,
        StatusCode::UNAUTHORIZED,
        "a reset ends all"
    );
    assert_eq!(node.request(Method::GET, "/me", &reader_key, None).await.0, StatusCode::OK, "keys stay");
    let reader_token = node.login("north-reader", "another long horse battery").await;

    // No password is ever written to the audit log, not even a refused change's current one.
    let changes = node.get("/audit?action=me.change_password").await;
    assert_eq!(changes.as_array().unwrap().len(), 4, "{changes}");
    let logged = changes.to_string();
    assert!(!logged.contains(PASSWORD) && !logged.contains("a new horse staple battery"), "{logged}");
    assert_eq!(changes[0]["request"]["current_password"], "[secret]");

    // Disabled: no login, no key, until enabled; deleted: gone with its keys.
    let (status, disabled) = node.request(Method::PATCH, &path, &admin, Some(json!({"status": "disabled"}))).await;
    assert_eq!((status, disabled["status"].as_str()), (StatusCode::OK, Some("disabled")));
    assert_eq!(node.request(Method::GET, "/me", &reader_token, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(node.request(Method::GET, "/me", &reader_key, None).await.0, StatusCode::UNAUTHORIZED);
    let login = json!({"username": "north-reader", "password": "another long horse battery"});
    let response = node.client.post(node.api("/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(node.request(Method::PATCH, &path, &admin, Some(json!({"status": "active"}))).await.0, StatusCode::OK);
    assert_eq!(node.request(Method::GET, "/me", &reader_key, None).await.0, StatusCode::OK);
    let (_, keys) = node.request(Method::GET, "/api-keys", &admin, None).await;
    let key_id =
        keys.as_array().unwrap().iter().find(|k| k["name"] == "nightly export").unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        node.request(Method::DELETE, &format!("/api-keys/{key_id}"), &admin, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(node.request(Method::GET, "/me", &reader_key, None).await.0, StatusCode::UNAUTHORIZED, "revoked");
    assert_eq!(node.request(Method::DELETE, &path, &admin, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(node.request(Method::GET, &path, &admin, None).await.0, StatusCode::NOT_FOUND);

    // Nobody manages an account above their own or outside their operator; the last member
    // administrator stays.
    let (member_admin_id, _) = (node.get("/me").await["id"].as_i64().unwrap(), ());
    let admin_path = format!("/staff/{member_admin_id}");
    assert_eq!(node.request(Method::GET, &admin_path, &admin, None).await.0, StatusCode::NOT_FOUND);
    let (status, last) =
        node.request(Method::PATCH, &admin_path, &node.token(), Some(json!({"status": "disabled"}))).await;
    assert_eq!((status, last["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{last}");

    // Wrong passwords slow logins down: per account from anywhere (a minute at most), per address.
    let login_from = |address: &'static str, password: &str| {
        let body = json!({"username": "north-admin", "password": password});
        node.client.post(node.api("/auth/login")).header("x-forwarded-for", address).json(&body).send()
    };
    for attempt in 1..=4 {
        assert_eq!(
            login_from("203.0.113.9", "wrong guess").await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "{attempt}"
        );
    }
    let waiting = login_from("192.0.2.44", PASSWORD).await.unwrap();
    assert_eq!(waiting.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(waiting.headers().contains_key("retry-after"));
    let body: Value = waiting.json().await.unwrap();
    assert_eq!(body["code"], "too_many_attempts");
    common::eventually("the account's wait ends", || async {
        login_from("192.0.2.44", PASSWORD).await.unwrap().status() == StatusCode::OK
    })
    .await;
    node.stop().await;
}

/// Every change through the API — and every refusal to change — is in the audit log with who, role,
/// operator, credential, address, what was asked and the object before and after; logins are too;
/// secrets never are. The member's roles read it all, an operator's staff only their operator's;
/// it exports as CSV or JSON lines and nothing edits it.
#[tokio::test]
async fn every_change_is_audited_and_each_reader_sees_its_scope() {
    let node = TestNode::start("access-audit").await;
    let north = node.provision("North", &[], &[]).await;
    let south = node.provision("South", &[], &[]).await;
    let (_, north_admin) = node.staff("north-admin", "admin", Some(north)).await;
    let (_, north_reader) = node.staff("north-reader", "readonly", Some(north)).await;
    let (_, south_admin) = node.staff("south-admin", "admin", Some(south)).await;
    let (_, auditor) = node.staff("auditor", "member_readonly", None).await;
    let site = node.request(Method::GET, "/sites", &north_admin, None).await.1[0]["id"].as_i64().unwrap();

    let change = json!({"name": "North Plaza", "city": "Shenzhen"});
    let (status, _) = node.request(Method::PATCH, &format!("/sites/{site}"), &north_admin, Some(change)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = node.request(Method::POST, "/operators", &north_admin, Some(json!({"name": "Shadow"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = node.api_key(&north_admin, json!({"name": "exports", "role": "readonly"})).await;
    assert_eq!(status, StatusCode::CREATED);

    let entries = |token: String, query: &'static str| {
        let node = &node;
        async move {
            let (status, entries) = node.request(Method::GET, &format!("/audit{query}"), &token, None).await;
            assert_eq!(status, StatusCode::OK, "{entries}");
            entries.as_array().unwrap().clone()
        }
    };
    let updated = entries(north_reader.clone(), "?action=sites.update").await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    let entry = &updated[0];
    assert_eq!(
        (&entry["actor_kind"], &entry["actor_name"], &entry["actor_role"], &entry["actor_operator_id"]),
        (&json!("staff"), &json!("north-admin"), &json!("admin"), &json!(north))
    );
    assert_eq!(
        (&entry["credential"], &entry["address"], &entry["status"]),
        (&json!("login"), &json!("127.0.0.1"), &json!(200))
    );
    assert_eq!(entry["object"], format!("/api/v1/sites/{site}"));
    assert_eq!((&entry["operator_id"], &entry["request"]["name"]), (&json!(north), &json!("North Plaza")));
    assert_eq!((&entry["before"]["name"], &entry["after"]["name"]), (&json!("North site"), &json!("North Plaza")));
    assert!(entry["at"].is_string());

    let refused = entries(north_admin.clone(), "?action=operators.create").await;
    assert_eq!((&refused[0]["status"], refused[0]["detail"].as_str().is_some()), (&json!(403), true), "{refused:?}");
    let minted = entries(north_admin.clone(), "?action=api_keys.create").await;
    assert_eq!(minted[0]["after"]["key"], "[secret]", "the key itself is never logged");
    assert_eq!(minted[0]["after"]["name"], "exports");
    let logins = entries(node.token(), "?action=auth.login&actor=north-admin").await;
    assert_eq!(logins.len(), 1, "{logins:?}");

    // Each reader sees its scope.
    let south_sees = entries(south_admin.clone(), "").await;
    assert!(south_sees.iter().all(|e| e["operator_id"] == json!(south)), "{south_sees:?}");
    assert!(!south_sees.is_empty());
    let auditor_sees = entries(auditor.clone(), "?limit=1000").await;
    assert!(auditor_sees.iter().any(|e| e["operator_id"].is_null()), "the member's own business too");
    assert!(
        auditor_sees.iter().any(|e| e["operator_id"] == json!(north))
            && auditor_sees.iter().any(|e| e["operator_id"] == json!(south))
    );
    let first_page = entries(auditor.clone(), "?limit=2").await;
    let next = format!("?limit=2&before_id={}", first_page[1]["id"]);
    let (_, second_page) = node.request(Method::GET, &format!("/audit{next}"), &auditor, None).await;
    assert!(second_page[0]["id"].as_i64().unwrap() < first_page[1]["id"].as_i64().unwrap());

    // Exports.
    let export = |format: &str| {
        node.client.get(node.api(&format!("/audit/export?format={format}"))).bearer_auth(&auditor).send()
    };
    let csv = export("csv").await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,at,actor_kind,") && header.contains(",request,before,after,"), "{header}");
    assert_eq!(lines.count(), auditor_sees.len(), "every entry, a line each (reads are not logged)");
    let jsonl = export("jsonl").await.unwrap().text().await.unwrap();
    let exported: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(exported.len(), auditor_sees.len());
    assert_eq!(
        node.request(Method::GET, "/audit/export?format=xml", &auditor, None).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    node.stop().await;
}
