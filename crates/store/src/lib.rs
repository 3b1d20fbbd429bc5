//! The node's operational database: SQLite embedded by default, PostgreSQL in production, one set of
//! queries for both (`$n` placeholders, which both understand; see the `sql` module).
//!
//! Every function takes a `&mut Conn`, so the same query runs inside a write transaction
//! ([`Store::write`]) or for a read ([`Store::read`]). Instants are stored as milliseconds since the Unix epoch, energy as milliwatt-hours.

pub mod anchors;
pub mod audit;
pub mod chargers;
pub mod commands;
pub mod commissioning;
pub mod drivers;
pub mod favourites;
pub mod federation;
mod group_commit;
pub mod locations;
pub mod logins;
pub mod messages;
mod migrations;
pub mod operators;
pub mod partners;
pub mod payments;
pub mod phone_codes;
pub mod sessions;
pub mod settlements;
mod sql;
pub mod staff;
pub mod tariffs;
pub mod tokens;

pub use sql::{Conn, Row, query};

use futures::FutureExt;
use futures::future::BoxFuture;
use jiff::Timestamp;
use sql::Inner;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("unsupported database URL {0:?}: use sqlite://<file> or postgres://<user>@<host>/<database>")]
    UnsupportedUrl(String),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    #[error("the write could not be committed: {0}")]
    Commit(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("a store job failed: it panicked or waited for something other than the database (a bug)")]
    JobFailed,
}

impl StoreError {
    /// True when the statement broke a uniqueness rule (a duplicate name, id or key).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Postgres(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }

    /// True when the statement referred to a row that does not exist (an unknown operator or site).
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            StoreError::Postgres(sqlx::Error::Database(e)) => e.is_foreign_key_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            }
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The operational database: a SQLite file, or a PostgreSQL server.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<Sqlite>),
    Postgres(PgPool),
}

/// SQLite: one writer thread (group commit) and a pool of read-only connections.
struct Sqlite {
    path: String,
    writes: Mutex<Option<mpsc::Sender<group_commit::Job>>>,
    readers: Mutex<Vec<rusqlite::Connection>>,
    read_permits: Semaphore,
}

/// A store function's work: given a connection, a future of its result.
pub trait Work<T>: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T>> + Send + 'static {}
impl<T, F> Work<T> for F where F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T>> + Send + 'static {}

impl Store {
    /// Connects to `url` (`sqlite://path[?mode=rwc]` or `postgres://…`) and applies pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store> {
        let backend = if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = format!("file:{rest}");
            let writer = Conn(Inner::Sqlite(open_sqlite(&path, false)?));
            let (sender, receiver) = mpsc::channel();
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || group_commit::run(writer, receiver))
                .map_err(|e| StoreError::Commit(format!("cannot start the writer thread: {e}")))?;
            Backend::Sqlite(Arc::new(Sqlite {
                path,
                writes: Mutex::new(Some(sender)),
                readers: Mutex::new(Vec::new()),
                read_permits: Semaphore::new(max_connections.max(1) as usize),
            }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres(PgPoolOptions::new().max_connections(max_connections.max(1)).connect(url).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let store = Store { backend };
        migrations::apply(&store).await?;
        Ok(store)
    }

    /// Runs `work` in a write transaction and returns its result once committed; a failing `work`
    /// changes nothing. On SQLite, concurrent calls are committed together (group commit), and `work`
    /// must wait for nothing but the database.
    pub async fn write<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(sqlite) => {
                let (job, result) = group_commit::job(work);
                let queue = sqlite.writes.lock().expect("the writer queue lock is never poisoned").clone();
                queue.ok_or(StoreError::Closed)?.send(job).map_err(|_| StoreError::Closed)?;
                // The writer drains its queue before it stops, so a missing result means the job failed.
                result.await.map_err(|_| StoreError::JobFailed)?
            }
            Backend::Postgres(pool) => {
                let mut conn = Conn(Inner::PostgresTx(pool.begin().await?));
                let value = work(&mut conn).await?;
                let Conn(Inner::PostgresTx(tx)) = conn else { unreachable!("the connection is the transaction") };
                tx.commit().await?;
                Ok(value)
            }
        }
    }

    /// Runs `work` on a read connection. On SQLite it runs on a blocking thread, and must wait for
    /// nothing but the database.
    pub async fn read<T: Send + 'static>(&self, work: impl Work<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(sqlite) => {
                let _permit = sqlite.read_permits.acquire().await.map_err(|_| StoreError::Closed)?;
                let sqlite = Arc::clone(sqlite);
                tokio::task::spawn_blocking(move || {
                    let pooled = sqlite.readers.lock().expect("the reader pool lock is never poisoned").pop();
                    let mut conn = Conn(Inner::Sqlite(match pooled {
                        Some(conn) => conn,
                        None => open_sqlite(&sqlite.path, true)?,
                    }));
                    let result = work(&mut conn).now_or_never().unwrap_or(Err(StoreError::JobFailed));
                    if let Conn(Inner::Sqlite(conn)) = conn {
                        sqlite.readers.lock().expect("the reader pool lock is never poisoned").push(conn);
                    }
                    result
                })
                .await
                .map_err(|_| StoreError::JobFailed)?
            }
            Backend::Postgres(pool) => work(&mut Conn(Inner::Postgres(pool.acquire().await?))).await,
        }
    }

    /// Stops accepting work; writes already queued still commit.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(sqlite) => {
                sqlite.writes.lock().expect("the writer queue lock is never poisoned").take();
                sqlite.readers.lock().expect("the reader pool lock is never poisoned").clear();
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// Opens a SQLite connection. WAL lets readers run beside the writer; synchronous = FULL makes every
/// commit durable before the charger is answered, even across a power loss.
fn open_sqlite(path: &str, read_only: bool) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = 10000; PRAGMA cache_size = -65536;",
    )?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON")?;
    } else {
        // Checkpoint every ~40 MB of WAL instead of SQLite's 4 MB: a batch dirties a page or two per
        // charger message, and a page written by several batches is copied into the database once per
        // checkpoint, not once per batch (12 % more messages per second at saturation, BENCHMARKS.md).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 10000")?;
    }
    // Plans that do not depend on bound values: otherwise SQLite re-prepares a cached statement each
    // time a parameter it could plan around changes, which was a tenth of the writer's time.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

pub(crate) fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(crate) fn instant(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("instant {ms}: {e}")))
}

pub(crate) fn opt_instant(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(instant).transpose()
}
