//! Logins kept by a browser: the console's and the driver app's login lives in an `HttpOnly`,
//! `SameSite=Strict` cookie that scripts cannot read, so a script injected into a page cannot carry
//! it away. Because a browser sends cookies by itself, a request authenticated by one must also prove
//! it comes from our own pages: a change carries the login's CSRF token (from a second cookie, which
//! our scripts read, in the `X-CSRF-Token` header), and any request naming another `Origin` than the
//! node's host is refused — WebSocket upgrades included, which cannot carry headers of their own.

use super::errors::ApiError;
use super::login_throttle::Realm;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use chargemesh_operations::passwords;
use jiff::Timestamp;

/// The header a change authenticated by cookie carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The cookie holding a realm's login, and the one holding its CSRF token (readable by scripts).
fn cookie_names(realm: Realm) -> (&'static str, &'static str) {
    match realm {
        Realm::Staff => ("cm_staff", "cm_staff_csrf"),
        Realm::Driver => ("cm_driver", "cm_driver_csrf"),
    }
}

/// A login secret a request presents, and how.
pub struct Presented<'a> {
    pub secret: &'a str,
    pub by_cookie: bool,
}

/// The secret of a request: its `X-Api-Key` or bearer token, else the realm's login cookie.
pub fn presented(headers: &HeaderMap, realm: Realm) -> Option<Presented<'_>> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(Presented { secret: key.trim(), by_cookie: false });
    }
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
        return Some(Presented { secret: token.trim(), by_cookie: false });
    }
    cookie(headers, cookie_names(realm).0).map(|secret| Presented { secret, by_cookie: true })
}

/// Refuses a cookie-authenticated request that another site could have made the browser send: one
/// from another origin, or a change without the login's CSRF token.
pub fn check_browser_request(method: &Method, headers: &HeaderMap, presented: &Presented<'_>) -> Result<(), ApiError> {
    if !presented.by_cookie {
        return Ok(());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, rest)| rest);
        if origin_host != Some(host) {
            return Err(ApiError::forbidden("a browser login is used from this node's own pages only"));
        }
    }
    let reads = matches!(*method, Method::GET | Method::HEAD);
    let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !reads && passwords::digest(token) != passwords::digest(&csrf_token(presented.secret)) {
        return Err(ApiError::forbidden(
            "a change made with a browser login needs the X-CSRF-Token header (the page's CSRF cookie); reload the page",
        ));
    }
    Ok(())
}

/// The CSRF token of a login: derived from its secret, so the node keeps nothing more.
fn csrf_token(secret: &str) -> String {
    passwords::digest(&format!("csrf {secret}"))[..32].to_owned()
}

/// The `Set-Cookie` headers that keep a new login in the browser until it expires.
pub fn login_cookies(
    realm: Realm,
    secret: &str,
    expires_at: Timestamp,
    now: Timestamp,
    secure: bool,
) -> [HeaderValue; 2] {
    let max_age = (expires_at - now).get_seconds().max(0);
    let (login, csrf) = cookie_names(realm);
    [set_cookie(login, secret, max_age, true, secure), set_cookie(csrf, &csrf_token(secret), max_age, false, secure)]
}

/// The `Set-Cookie` headers that make the browser forget a realm's login.
pub fn logout_cookies(realm: Realm, secure: bool) -> [HeaderValue; 2] {
    let (login, csrf) = cookie_names(realm);
    [set_cookie(login, "", 0, true, secure), set_cookie(csrf, "", 0, false, secure)]
}

fn set_cookie(name: &str, value: &str, max_age: i64, http_only: bool, secure: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
    if http_only {
        text.push_str("; HttpOnly");
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("login secrets and CSRF tokens are cookie-safe")
}

/// The value of the cookie `name` in a request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_bearer_token_wins_over_the_cookie_and_needs_no_csrf() {
        let map = headers(&[("authorization", "Bearer tok"), ("cookie", "cm_staff=cookie")]);
        let found = presented(&map, Realm::Staff).unwrap();
        assert_eq!((found.secret, found.by_cookie), ("tok", false));
        assert!(check_browser_request(&Method::POST, &map, &found).is_ok());
    }

    #[test]
    fn each_realm_reads_its_own_cookie() {
        let map = headers(&[("cookie", "other=1; cm_driver=d-secret"), ("cookie", "cm_staff=s-secret")]);
        assert_eq!(presented(&map, Realm::Staff).unwrap().secret, "s-secret");
        assert_eq!(presented(&map, Realm::Driver).unwrap().secret, "d-secret");
        assert!(presented(&headers(&[("cookie", "cm_staff=")]), Realm::Staff).is_none());
    }

    #[test]
    fn a_cookie_change_needs_the_csrf_token_of_its_login() {
        let secret = "s-secret";
        let cookie = format!("cm_staff={secret}");
        let map = headers(&[("cookie", &cookie), ("host", "node:8080")]);
        let found = presented(&map, Realm::Staff).unwrap();
        assert!(check_browser_request(&Method::GET, &map, &found).is_ok(), "reads need no token");
        assert!(check_browser_request(&Method::POST, &map, &found).is_err());
        let wrong = headers(&[("cookie", &cookie), ("x-csrf-token", &csrf_token("another"))]);
        assert!(check_browser_request(&Method::POST, &wrong, &presented(&wrong, Realm::Staff).unwrap()).is_err());
        let right = headers(&[("cookie", &cookie), ("x-csrf-token", &csrf_token(secret))]);
        assert!(check_browser_request(&Method::DELETE, &right, &presented(&right, Realm::Staff).unwrap()).is_ok());
    }

    #[test]
    fn another_origin_is_refused_even_for_reads() {
        let map = headers(&[("cookie", "cm_staff=s"), ("host", "node:8080"), ("origin", "https://evil.example")]);
        assert!(check_browser_request(&Method::GET, &map, &presented(&map, Realm::Staff).unwrap()).is_err());
        let same = headers(&[("cookie", "cm_staff=s"), ("host", "node:8080"), ("origin", "http://node:8080")]);
        assert!(check_browser_request(&Method::GET, &same, &presented(&same, Realm::Staff).unwrap()).is_ok());
    }

    #[test]
    fn login_cookies_are_http_only_strict_and_expire_with_the_login() {
        let now: Timestamp = "2026-12-06T00:00:00Z".parse().unwrap();
        let [login, csrf] = login_cookies(Realm::Driver, "abc", now + jiff::SignedDuration::from_hours(1), now, true);
        assert_eq!(login, "cm_driver=abc; Path=/; Max-Age=3600; SameSite=Strict; HttpOnly; Secure");
        assert!(csrf.to_str().unwrap().starts_with(&format!("cm_driver_csrf={}; ", csrf_token("abc"))));
        assert!(!csrf.to_str().unwrap().contains("HttpOnly"), "the pages' scripts read the CSRF token");
        let [gone, _] = logout_cookies(Realm::Staff, false);
        assert_eq!(gone, "cm_staff=; Path=/; Max-Age=0; SameSite=Strict; HttpOnly");
    }
}
