//! Node configuration: built-in defaults, then a TOML file, then `CHARGEMESH_*` environment variables.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use chargemesh_api::ApiConfig;
pub use chargemesh_federation::FederationConfig;
pub use chargemesh_gateway::{GatewayConfig, UnknownChargerPolicy};
pub use chargemesh_operations::config::{LedgerConfig, PaymentsConfig};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the node keeps its files (the SQLite database, the initial admin password).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means a SQLite file in the data directory.
    pub database_url: String,
    pub database_max_connections: u32,
    pub log: LogConfig,
    pub api: ApiConfig,
    pub gateway: GatewayConfig,
    pub payments: PaymentsConfig,
    pub ledger: LedgerConfig,
    pub federation: FederationConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (readable) or `json` (one object per line).
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `chargemesh=debug,sqlx=warn`.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The top-level keys, as environment variables may set them.
const SETTINGS: [&str; 9] = [
    "data_dir",
    "database_url",
    "database_max_connections",
    "log",
    "api",
    "gateway",
    "payments",
    "ledger",
    "federation",
];

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./chargemesh-data"),
            database_url: String::new(),
            database_max_connections: 8,
            log: LogConfig { format: LogFormat::Text, filter: "info".into() },
            api: ApiConfig::default(),
            gateway: GatewayConfig::default(),
            payments: PaymentsConfig::default(),
            ledger: LedgerConfig::default(),
            federation: FederationConfig::default(),
        }
    }
}

impl Config {
    /// Defaults, overridden by `file` (if given), overridden by `CHARGEMESH_*` variables, where `__`
    /// separates sections: `CHARGEMESH_GATEWAY__LISTEN=0.0.0.0:9000`.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} does not exist; create it or leave out --config",
                    file.display()
                ))));
            }
            figment = figment.merge(Toml::file(file));
        }
        // Other CHARGEMESH_* variables (the test suite's, say) are not settings; a misspelt key inside a
        // section still is an error.
        let env = Env::prefixed("CHARGEMESH_").split("__").filter(|key| {
            // Keys arrive here already split: `gateway.command_timeout_secs`.
            let first = key.as_str().split('.').next().unwrap_or_default();
            SETTINGS.iter().any(|setting| first.eq_ignore_ascii_case(setting))
        });
        let config: Config = figment.merge(env).extract().map_err(Box::new)?;
        config.validate().map_err(|e| Box::new(figment::Error::from(e)))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        self.api.validate()?;
        self.payments.validate()?;
        self.gateway.validate()?;
        self.ledger.validate()?;
        self.federation.validate()
    }

    /// The ledger's folder in the data directory: chain store, consensus journal, and the genesis and
    /// key of a consortium created on first start.
    pub fn ledger_dir(&self) -> PathBuf {
        self.data_dir.join("ledger")
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("chargemesh.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_environment_override_defaults() {
        let dir = std::env::temp_dir().join(format!("chargemesh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("node.toml");
        std::fs::write(&file, "[gateway]\nheartbeat_interval_secs = 60\nunknown_chargers = \"pending\"\n").unwrap();
        let config = Config::load(Some(&file)).unwrap();
        assert_eq!(config.gateway.heartbeat_interval_secs, 60);
        assert_eq!(config.gateway.unknown_chargers, UnknownChargerPolicy::Pending);
        assert_eq!(config.api.listen, Config::default().api.listen);
        // SAFETY: no other thread of this test binary reads or writes these variables.
        unsafe {
            std::env::set_var("CHARGEMESH_GATEWAY__COMMAND_TIMEOUT_SECS", "7");
            std::env::set_var("CHARGEMESH_NOT_A_SETTING", "ignored");
        }
        let config = Config::load(Some(&file)).unwrap();
        assert_eq!(config.gateway.command_timeout_secs, 7);
        unsafe { std::env::set_var("CHARGEMESH_GATEWAY__COMMAND_TIMEOUT", "7") };
        assert!(Config::load(Some(&file)).is_err(), "a misspelt key in a section is an error");
        unsafe {
            std::env::remove_var("CHARGEMESH_GATEWAY__COMMAND_TIMEOUT");
            std::env::remove_var("CHARGEMESH_GATEWAY__COMMAND_TIMEOUT_SECS");
            std::env::remove_var("CHARGEMESH_NOT_A_SETTING");
        }
        std::fs::write(&file, "[gateway]\nsecurity_profile = 3\n").unwrap();
        assert!(Config::load(Some(&file)).unwrap_err().to_string().contains("profiles 0 and 1"));
        std::fs::write(&file, "[payments]\nhold_estimate_kwh = 80\n").unwrap();
        assert_eq!(Config::load(Some(&file)).unwrap().payments.hold_estimate_kwh, 80);
        std::fs::write(&file, "[payments]\nhold_estimate_kwh = 0\n").unwrap();
        assert!(Config::load(Some(&file)).unwrap_err().to_string().contains("hold_estimate_kwh"));
        std::fs::write(&file, "[federation]\noutbox_interval_ms = 500\n").unwrap();
        assert_eq!(Config::load(Some(&file)).unwrap().federation.outbox_interval_ms, 500);
        std::fs::write(&file, "[federation]\noutbox_interval_ms = 0\n").unwrap();
        assert!(Config::load(Some(&file)).unwrap_err().to_string().contains("federation.outbox_interval_ms"));
        std::fs::write(&file, "[gateway]\nlisten_port = 1\n").unwrap();
        assert!(Config::load(Some(&file)).is_err());
        assert!(Config::load(Some(&dir.join("missing.toml"))).is_err());
    }
}
