//! The API's section of the node's configuration (`[api]`).

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Password of the `admin` account created on first start; empty means a random one, written to
    /// `<data_dir>/initial-admin-password`.
    pub admin_password: String,
    /// How long a login token stays valid.
    pub login_ttl_hours: u32,
    /// Behind a reverse proxy that sets `X-Forwarded-For`: take the client's address from its last
    /// entry (for login throttling and the audit log) instead of the connection's peer.
    pub forwarded_for: bool,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this token>`.
    pub metrics_token: String,
    /// How long a client may take to send a request's headers before it is dropped.
    pub header_timeout_secs: u64,
    /// The console and driver app are reached over HTTPS (a TLS proxy in front of the node): their
    /// login cookies are marked `Secure`, so a browser never sends them over plain HTTP.
    pub secure_cookies: bool,
    /// Map tiles under the console's and the app's markers: an HTTPS URL template with `{z}`, `{x}`
    /// and `{y}` (Web Mercator tiles, e.g. AMap's in China, OpenStreetMap's elsewhere). Empty: markers
    /// on a plain ground. Tiles must match the coordinates kept (GCJ-02 in China: AMap's do).
    pub map_tiles: String,
    /// The credit the tile provider requires, shown on the map.
    pub map_attribution: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: ([127, 0, 0, 1], 8080).into(),
            admin_password: String::new(),
            login_ttl_hours: 12,
            forwarded_for: false,
            metrics_token: String::new(),
            header_timeout_secs: 5,
            secure_cookies: false,
            map_tiles: String::new(),
            map_attribution: String::new(),
        }
    }
}

impl ApiConfig {
    /// What is wrong with these settings, named by their keys.
    pub fn validate(&self) -> Result<(), String> {
        let tiles = &self.map_tiles;
        if !tiles.is_empty()
            && (!(tiles.starts_with("https://") || tiles.starts_with("http://"))
                || !["{z}", "{x}", "{y}"].iter().all(|part| tiles.contains(part)))
        {
            return Err("api.map_tiles must be an http(s) URL template with {z}, {x} and {y}, or empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ApiConfig;

    #[test]
    fn map_tiles_are_a_url_template_or_nothing() {
        let with = |tiles: &str| ApiConfig { map_tiles: tiles.into(), ..ApiConfig::default() }.validate();
        assert!(with("").is_ok());
        assert!(with("https://tile.openstreetmap.org/{z}/{x}/{y}.png").is_ok());
        assert!(with("https://tile.openstreetmap.org/{z}/{x}.png").is_err(), "no {{y}}");
        assert!(with("ftp://tiles/{z}/{x}/{y}").is_err());
    }
}
