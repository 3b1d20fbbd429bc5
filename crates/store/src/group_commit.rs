//! Group commit for SQLite: write jobs from many chargers run one after another in a single
//! transaction, each inside its own savepoint, and one commit (one fsync) makes the whole batch durable
//! before any of them is answered. SQLite allows one writer at a time anyway; batching is what lets
//! that writer keep up with thousands of chargers.

use crate::{Conn, Result, StoreError};
use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::{Any, Pool};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Most jobs in one transaction: bounds how long the first job of a batch waits for its commit.
const MAX_BATCH: usize = 512;

/// Delivers a job's result once its batch's commit succeeded or failed.
type Completion = Box<dyn FnOnce(std::result::Result<(), Arc<StoreError>>) + Send>;

/// A write job: runs against the batch's connection and says whether it succeeded (otherwise its
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
                    Err(e) if succeeded => Err(StoreError::Commit(e.to_string())),
                    Err(_) => result,
                };
                let _ = sender.send(delivered);
            });
            (succeeded, completion)
        })
    });
    (job, receiver)
}

/// Runs batches until every sender is gone.
pub(crate) async fn run(pool: Pool<Any>, writer: Arc<Semaphore>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let _permit = writer.acquire().await.expect("the writer semaphore is never closed");
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut completions = Vec::with_capacity(batch.len());
        let committed = run_batch(&pool, batch, &mut completions).await.map_err(Arc::new);
        if let Err(e) = &committed {
            tracing::error!(error = %e, jobs = completions.len(), "a batch of writes failed to commit");
        }
        for completion in completions {
            completion(committed.clone());
        }
    }
}

async fn run_batch(pool: &Pool<Any>, batch: Vec<Job>, completions: &mut Vec<Completion>) -> Result<()> {
    let mut conn = pool.acquire().await?;
    // Each call to the driver costs a thread hop, so transaction control is merged into few calls:
    // BEGIN with the first savepoint, each RELEASE with the next SAVEPOINT, the last RELEASE with COMMIT.
    sqlx::raw_sql("BEGIN IMMEDIATE; SAVEPOINT job").execute(&mut *conn).await?;
    let last = batch.len() - 1;
    let outcome = async {
        for (index, job) in batch.into_iter().enumerate() {
            // A job that panics (a bug) fails alone: its caller sees the store as closed, the batch goes on.
            let succeeded = match AssertUnwindSafe(job(&mut conn)).catch_unwind().await {
                Ok((succeeded, completion)) => {
                    completions.push(completion);
                    succeeded
                }
                Err(_) => {
                    tracing::error!("a write job panicked; its changes are rolled back");
                    false
                }
            };
            if !succeeded {
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT job").execute(&mut *conn).await?;
            }
            let next =
                if index == last { "RELEASE SAVEPOINT job; COMMIT" } else { "RELEASE SAVEPOINT job; SAVEPOINT job" };
            sqlx::raw_sql(next).execute(&mut *conn).await?;
        }
        Ok(())
    }
    .await;
    if outcome.is_err() {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    outcome
}
