//! The node's operational database: SQLite embedded by default, PostgreSQL in production, one set of
//! queries for both (sqlx's `Any` driver, `$n` placeholders, which both understand).
//!
//! Every function takes a `&mut Conn`, so the same query runs inside a write transaction or on a plain
//! read connection. Instants are stored as milliseconds since the Unix epoch, energy as milliwatt-hours.

pub mod chargers;
pub mod commands;
mod group_commit;
pub mod messages;
pub mod operators;
pub mod sessions;
pub mod staff;
pub mod tokens;

use futures::future::BoxFuture;
use jiff::Timestamp;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, SqlSafeStr, Transaction};
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

pub use sqlx::AnyConnection as Conn;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://<file> or postgres://<user>@<host>/<database>")]
    UnsupportedUrl(String),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    #[error("the write could not be committed: {0}")]
    Commit(String),
    #[error("the store is shutting down")]
    Closed,
}

impl StoreError {
    /// True when the statement broke a uniqueness rule (a duplicate name, id or key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// True when the statement referred to a row that does not exist (an unknown operator or site).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to the operational database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; queueing writers here avoids its busy-retry loop.
    sqlite_writer: Arc<Semaphore>,
    /// SQLite only: the queue of the group-commit writer.
    batched_writes: Option<mpsc::UnboundedSender<group_commit::Job>>,
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _writer: Option<OwnedSemaphorePermit>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`) and applies pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyConnectOptions::from_str(url)?;
        let mut pool_options = AnyPoolOptions::new().max_connections(max_connections.max(1));
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the writer; synchronous=FULL makes every commit durable
            // before the charger is answered, even across a power loss.
            pool_options = pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                         PRAGMA busy_timeout = 10000; PRAGMA cache_size = -65536;",
                    )
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = pool_options.connect_with(options).await?;
        let sqlite_writer = Arc::new(Semaphore::new(1));
        let batched_writes = (backend == Backend::Sqlite).then(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(group_commit::run(pool.clone(), sqlite_writer.clone(), receiver));
            sender
        });
        let store = Store { pool, backend, sqlite_writer, batched_writes };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let migrations = match self.backend {
            Backend::Sqlite => [
                (1, "initial", include_str!("../migrations/sqlite/0001_initial.sql")),
                (2, "session lookups", include_str!("../migrations/sqlite/0002_session_lookups.sql")),
            ],
            Backend::Postgres => [
                (1, "initial", include_str!("../migrations/postgres/0001_initial.sql")),
                (2, "session lookups", include_str!("../migrations/postgres/0002_session_lookups.sql")),
            ],
        };
        let migrations = migrations
            .into_iter()
            .map(|(version, description, sql)| {
                Migration::new(version, description.into(), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect();
        Migrator::with_migrations(migrations).run(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<WriteTx> {
        let writer = match self.backend {
            Backend::Sqlite => Some(
                Arc::clone(&self.sqlite_writer).acquire_owned().await.expect("the writer semaphore is never closed"),
            ),
            Backend::Postgres => None,
        };
        Ok(WriteTx { tx: self.pool.begin().await?, _writer: writer })
    }

    /// Runs `work` in a write transaction and returns its result once committed. On SQLite, concurrent
    /// calls are committed together (group commit); a failing `work` changes nothing either way.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        match &self.batched_writes {
            Some(queue) => {
                let (job, result) = group_commit::job(work);
                queue.send(job).map_err(|_| StoreError::Closed)?;
                result.await.map_err(|_| StoreError::Closed)?
            }
            None => {
                let mut tx = self.begin().await?;
                let value = work(&mut tx).await?;
                tx.commit().await?;
                Ok(value)
            }
        }
    }

    /// A connection for reading.
    pub async fn read(&self) -> Result<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
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
