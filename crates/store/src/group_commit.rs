//! Group commit for SQLite: write jobs from many chargers run one after another in a single
//! transaction, each inside its own savepoint, and one commit (one fsync) makes the whole batch durable
//! before any of them is answered. SQLite allows one writer at a time anyway; batching is what lets
//! that writer keep up with thousands of chargers.
//!
//! The writer is a thread of its own that owns the write connection and runs every statement itself:
//! a job's future only ever waits for SQLite, which answers at once in this thread, so it is polled to
//! completion without an executor, and no statement pays for a hop between threads.

use crate::sql::{Conn, Inner};
use crate::{Result, StoreError};
use futures::FutureExt;
use futures::future::BoxFuture;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Most jobs in one transaction: bounds how long the first job of a batch waits for its commit (tens
/// of microseconds each). Batches only grow this large when the writer falls behind, and then a large
/// one spreads its commit, and the pages it shares with other jobs, over more messages.
const MAX_BATCH: usize = 4096;

/// Delivers a job's result once its batch's commit succeeded or failed.
type Completion = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;

/// A write job: runs against the writer's connection and says whether it succeeded (otherwise its
/// savepoint is rolled back) and how to deliver its result.
pub(crate) type Job = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, (bool, Completion)> + Send>;

/// Wraps `work` into a job and a receiver of its result.
pub(crate) fn job<T, F>(work: F) -> (Job, oneshot::Receiver<Result<T>>)
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    let (sender, receiver) = oneshot::channel();
    let job: Job = Box::new(move |conn| {
        Box::pin(async move {
            let result = work(conn).await;
            let succeeded = result.is_ok();
            let completion: Completion = Box::new(move |committed| {
                let delivered = match committed {
                    Ok(()) => result,
                    Err(e) if succeeded => Err(StoreError::Commit(e)),
                    Err(_) => result,
                };
                let _ = sender.send(delivered);
            });
            (succeeded, completion)
        })
    });
    (job, receiver)
}

/// Runs batches on `conn` until every sender is gone.
pub(crate) fn run(mut conn: Conn, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter().take(MAX_BATCH - 1));
        let mut completions = Vec::with_capacity(batch.len());
        let committed = run_batch(&mut conn, batch, &mut completions).map_err(|e| e.to_string());
        if let Err(e) = &committed {
            tracing::error!(error = %e, jobs = completions.len(), "a batch of writes failed to commit");
        }
        for completion in completions {
            completion(committed.clone());
        }
    }
}

fn run_batch(conn: &mut Conn, batch: Vec<Job>, completions: &mut Vec<Completion>) -> Result<()> {
    script(conn, "BEGIN IMMEDIATE")?;
    let outcome = (|| {
        for job in batch {
            script(conn, "SAVEPOINT job")?;
            // A job that panics (a bug) fails alone: its caller gets `JobFailed`, the batch goes on.
            let succeeded = match std::panic::catch_unwind(AssertUnwindSafe(|| job(conn).now_or_never())) {
                Ok(Some((succeeded, completion))) => {
                    completions.push(completion);
                    succeeded
                }
                Ok(None) => {
                    tracing::error!("a write job waited for something other than the database; it is rolled back");
                    false
                }
                Err(_) => {
                    tracing::error!("a write job panicked; its changes are rolled back");
                    false
                }
            };
            if !succeeded {
                script(conn, "ROLLBACK TO SAVEPOINT job")?;
            }
            script(conn, "RELEASE SAVEPOINT job")?;
        }
        script(conn, "COMMIT")
    })();
    if outcome.is_err() {
        let _ = script(conn, "ROLLBACK");
    }
    outcome
}

/// Runs a transaction-control statement, prepared once: they run three times per job.
fn script(conn: &mut Conn, sql: &str) -> Result<()> {
    match &mut conn.0 {
        Inner::Sqlite(sqlite) => {
            sqlite.prepare_cached(sql)?.raw_execute()?;
            Ok(())
        }
        _ => unreachable!("group commit runs on SQLite only"),
    }
}
