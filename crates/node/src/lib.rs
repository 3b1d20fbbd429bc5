//! The chargemesh node: configuration, the charger gateway, operations and the operator API, wired
//! together. `main.rs` is the command line around it.

pub mod config;
pub mod serving;
pub mod telemetry;

use crate::config::Config;
use chargemesh_gateway::{Gateway, Registry};
use chargemesh_operations::{Operations, Settings, ledger, passwords};
use chargemesh_store::{Store, StoreError};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running node.
pub struct Node {
    pub api_addr: SocketAddr,
    pub gateway_addr: SocketAddr,
    pub operations: Operations,
    pub ledger: Option<Arc<ledger::LedgerNode>>,
    tasks: Vec<JoinHandle<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot prepare {path} (the data directory and what is in it must be the node user's own): {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot prepare the database: {0}")]
    Records(#[from] chargemesh_operations::Error),
    #[error("cannot listen on {addr}: {source} (is another node running? change the port in the config)")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot start the ledger: {0}")]
    Ledger(String),
    #[error("cannot prepare federation: {0}")]
    Federation(String),
}

/// The sockets a node serves chargers and its API on, bound before it starts.
pub struct Listeners {
    pub gateway: TcpListener,
    pub api: TcpListener,
}

impl Node {
    /// Binds the configured addresses and starts the node on them ([`Node::start_on`]).
    pub async fn start(config: &Config) -> Result<Node, StartError> {
        let listeners = Listeners { gateway: bind(config.gateway.listen).await?, api: bind(config.api.listen).await? };
        Self::start_on(config, listeners).await
    }

    /// Opens the store, makes sure an administrator exists, and starts serving chargers and the API
    /// on `listeners` (bound already: whoever bound them knows their addresses, and nothing could
    /// take a port in between).
    pub async fn start_on(config: &Config, listeners: Listeners) -> Result<Node, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(data_dir_error(&config.data_dir))?;
        set_mode(&config.data_dir, 0o700).map_err(data_dir_error(&config.data_dir))?;
        let database_url = config.database_url();
        let sqlite_file = sqlite_file(&database_url);
        if let Some(file) = &sqlite_file {
            create_private(file).map_err(data_dir_error(file))?;
        }
        let store = Store::open(&database_url, config.database_max_connections).await?;
        if let Some(file) = &sqlite_file {
            // SQLite makes its journal files like the database, but an older node's may be looser.
            for suffix in ["", "-wal", "-shm"] {
                let path = std::path::PathBuf::from(format!("{}{suffix}", file.display()));
                if path.exists() {
                    set_mode(&path, 0o600).map_err(data_dir_error(&path))?;
                }
            }
        }
        let registry = Arc::new(Registry::default());
        let provider = Arc::new(chargemesh_operations::payments::SandboxProvider::new(store.clone()));
        let settings = Settings::new(&config.gateway, &config.payments);
        let operations = Operations::new(store, settings, registry.clone(), provider);
        ensure_admin(&operations, config).await?;
        let failed = operations.fail_commands_left_pending().await?;
        if failed > 0 {
            tracing::warn!(failed, "commands left pending by the previous run were marked failed");
        }

        let ledger = if config.ledger.enabled {
            Some(Arc::new(ledger::LedgerNode::start(&config.ledger, &config.ledger_dir()).map_err(StartError::Ledger)?))
        } else {
            None
        };
        let gateway =
            Arc::new(Gateway { config: config.gateway.clone(), sink: operations.clone(), registry: registry.clone() });
        let (gateway_listener, api_listener) = (listeners.gateway, listeners.api);
        let gateway_addr = gateway_listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr: config.gateway.listen, source })?;
        let api_addr =
            api_listener.local_addr().map_err(|source| StartError::Listen { addr: config.api.listen, source })?;
        let gateway_router = chargemesh_gateway::router(gateway);
        let http = chargemesh_federation::http::client(config.federation.extra_ca.as_deref())
            .map_err(StartError::Federation)?;
        let federation =
            Arc::new(chargemesh_federation::Federation::new(operations.clone(), ledger.clone(), api_addr, http));
        let api_state = Arc::new(chargemesh_api::ApiState {
            operations: operations.clone(),
            metrics: telemetry::metrics(),
            settings: config.api.clone(),
            logins_in_flight: Default::default(),
            ledger: ledger.clone(),
            federation: federation.clone(),
        });
        let api_router = chargemesh_api::router(api_state)
            .merge(chargemesh_federation::router(federation.clone()))
            .fallback(chargemesh_web::serve)
            .layer(axum::middleware::map_response(chargemesh_api::security_headers));
        let mut tasks = vec![
            tokio::spawn(serving::serve(gateway_listener, gateway_router, secs(config.gateway.handshake_timeout_secs))),
            tokio::spawn(serving::serve(api_listener, api_router, secs(config.api.header_timeout_secs))),
        ];
        tasks.push(tokio::spawn(operations.clone().forget_old_records(config.gateway.message_memory_days)));
        tasks.push(tokio::spawn(operations.clone().run_payments()));
        tasks.extend(chargemesh_federation::tasks(&federation, &config.federation));
        if let Some(ledger) = &ledger {
            let intervals = [config.ledger.feed_interval_ms, config.ledger.feed_everything_interval_ms]
                .map(std::time::Duration::from_millis);
            let feed = ledger::feed::run(ledger.clone(), operations.clone(), intervals, config.ledger.anchor_own_cdrs);
            tasks.push(tokio::spawn(feed));
        }
        let (console, driver_app) = (format!("http://{api_addr}/"), format!("http://{api_addr}/app/"));
        tracing::info!(%gateway_addr, %api_addr, path = %config.gateway.path, %console, %driver_app, "chargemesh node running");
        Ok(Node { api_addr, gateway_addr, operations, ledger, tasks })
    }

    /// The URL chargers connect to, without the station id.
    pub fn charger_url(&self, config: &Config) -> String {
        format!("ws://{}{}", self.gateway_addr, config.gateway.path)
    }

    /// Stops serving; open connections are dropped.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(ledger) = self.ledger {
            let _ = tokio::task::spawn_blocking(move || ledger.stop()).await;
        }
        self.operations.close().await;
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })
}

/// On first start, creates the `admin` account with the configured password or a random one written
/// to the data directory (readable by the owner only).
async fn ensure_admin(operations: &Operations, config: &Config) -> Result<(), StartError> {
    let (password, generated) = if config.api.admin_password.is_empty() {
        (passwords::random_secret(""), true)
    } else {
        (config.api.admin_password.clone(), false)
    };
    if operations.create_first_admin(&password).await? && generated {
        let path = config.data_dir.join("initial-admin-password");
        write_private(&path, &password)
            .map_err(|source| StartError::Write { path: path.display().to_string(), source })?;
        tracing::warn!(file = %path.display(), "created account `admin`; its password is in this file");
    }
    Ok(())
}

fn secs(seconds: u64) -> std::time::Duration {
    std::time::Duration::from_secs(seconds.max(1))
}

fn data_dir_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StartError + '_ {
    move |source| StartError::DataDir { path: path.display().to_string(), source }
}

/// The file of a `sqlite://` database URL.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// Creates `path` empty and readable by the node's user only, unless it exists.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

fn set_mode(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Starts a node as `chargemesh node` does, and tells on standard error where to reach it.
pub async fn start_announced(config: &Config) -> Result<Node, StartError> {
    let node = Node::start(config).await?;
    eprintln!("chargemesh node: chargers connect to {}/<station id>", node.charger_url(config));
    eprintln!("chargemesh node: operator API at http://{}/api/v1 (OpenAPI at /api/v1/openapi.json)", node.api_addr);
    Ok(node)
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

/// Runs a command line's work on a multi-threaded runtime and turns its outcome into the exit code,
/// printing the error, if any, for the person who ran it.
pub fn run_to_exit(work: impl std::future::Future<Output = Result<(), String>>) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
