//! The node's web pages: the operators' console at `/` and the drivers' app at `/app/`, single-page
//! applications built from `web/` and embedded at build time. Any path of the console or app that is
//! not a file is its page (the page's own router shows it); paths of the API and OCPI never are.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// A file of the built bundle, as it is and gzipped.
struct Asset {
    path: &'static str,
    body: &'static [u8],
    gzip: &'static [u8],
}

static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// What the pages may load: their own scripts and styles (Element Plus and Vant set inline styles),
/// images from the map tile servers (any HTTPS host, the tile source being configurable), and
/// connections to this node only.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob: https:; connect-src 'self'; font-src 'self' data:; manifest-src 'self'; \
     worker-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Answers a request no API or OCPI route took: a file of the bundle, or the console's or app's page.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let not_a_page = ["/api/", "/ocpi/"].iter().any(|prefix| path.starts_with(prefix));
    if not_a_page || !matches!(method, Method::GET | Method::HEAD) {
        return not_found();
    }
    if path == "/app" {
        return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, "/app/")]).into_response();
    }
    let asset = find(path).or_else(|| {
        // A page of the app or console: its router shows it; a missing file is not a page.
        let page = if path.starts_with("/app/") { "/app/index.html" } else { "/index.html" };
        (!path.starts_with("/assets/")).then(|| find(page)).flatten()
    });
    match asset {
        Some(asset) => respond(asset, &headers),
        None => not_found(),
    }
}

fn find(path: &str) -> Option<&'static Asset> {
    let path = if path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
    ASSETS.iter().find(|asset| asset.path == path)
}

fn respond(asset: &'static Asset, request: &HeaderMap) -> Response {
    let gzip = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|coding| coding.trim().split(';').next() == Some("gzip")))
        && asset.gzip.len() < asset.body.len();
    let mut response = Response::new(Body::from(if gzip { asset.gzip } else { asset.body }));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(asset.path)));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    // Built files are named by their content, so they never change; pages must be asked for anew
    // so that a new bundle is seen.
    let cache = if asset.path.starts_with("/assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if asset.path.ends_with(".html") {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    }
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The API's way of saying a path does not exist, for paths that are no page either.
fn not_found() -> Response {
    let body = r#"{"code":"not_found","message":"no such path: the API is under /api/v1, the console at /, the driver app at /app/"}"#;
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(path: &str, accept: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        }
        serve(Method::GET, path.parse().unwrap(), headers).await
    }

    async fn body(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()
    }

    #[tokio::test]
    async fn pages_are_the_console_or_the_app_with_their_policy() {
        let console = get("/", None).await;
        assert_eq!(console.status(), StatusCode::OK);
        assert_eq!(console.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(console.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self'"));
        let console = body(console).await;
        assert_eq!(body(get("/chargers/ST-1", None).await).await, console, "a console route is its page");
        let app = body(get("/app/", None).await).await;
        assert_ne!(app, console);
        assert_eq!(body(get("/app/charges/7", None).await).await, app);
        assert_eq!(get("/app", None).await.headers()[header::LOCATION], "/app/");
    }

    #[tokio::test]
    async fn built_files_are_served_gzipped_to_who_accepts_it_and_kept() {
        let script = ASSETS.iter().find(|a| a.path.starts_with("/assets/") && a.path.ends_with(".js")).unwrap();
        let plain = get(script.path, None).await;
        assert_eq!(plain.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(plain.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(plain).await, script.body);
        let zipped = get(script.path, Some("br, gzip;q=0.9")).await;
        assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(body(zipped).await, script.gzip);
    }

    #[tokio::test]
    async fn api_paths_changes_and_missing_files_are_not_found() {
        for path in ["/api/v2/x", "/ocpi/nothing", "/assets/missing.js"] {
            let response = get(path, None).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(String::from_utf8(body(response).await).unwrap().contains(r#""code":"not_found""#));
        }
        let post = serve(Method::POST, "/".parse().unwrap(), HeaderMap::new()).await;
        assert_eq!(post.status(), StatusCode::NOT_FOUND);
    }
}
