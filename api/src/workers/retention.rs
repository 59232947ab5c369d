//! The retention sweep: what only grows (courier positions, stored idempotent answers,
//! expired refresh tokens and console sessions, notifications delivered long ago) is pruned once per
//! `RETENTION_SWEEP_SECONDS` by whichever replica takes the sweep's lease. Deletes go in
//! small batches, each its own transaction, so a long backlog never holds the write lock
//! for long.

use chrono::NaiveDateTime;

use super::{sweep_lease_end, write, WorkerError};
use crate::config::Retention;
use crate::db::{
    idempotency, now, outbox, page_sessions, positions, sweeps, tokens, DbConnection, Pool,
};

const SWEEP: &str = "retention";
/// Rows per delete: a few milliseconds of the write lock each.
const BATCH: i64 = 1000;

/// How many rows one sweep removed, per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub positions: usize,
    pub idempotency_keys: usize,
    pub refresh_tokens: usize,
    pub page_sessions: usize,
    pub notifications: usize,
}

pub fn start(pool: Pool, retention: Retention, holder: String) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(retention.every).await;
            match sweep(&pool, retention, &holder).await {
                Ok(Some(pruned)) if pruned != Pruned::default() => {
                    tracing::info!(?pruned, "retention sweep pruned old rows")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the retention sweep failed"),
            }
        }
    });
}

/// Runs the sweep if this replica takes its lease; `None` when another one holds it.
pub async fn sweep(
    pool: &Pool,
    retention: Retention,
    holder: &str,
) -> Result<Option<Pruned>, WorkerError> {
    let holder = holder.to_owned();
    let every = retention.every;
    let taken = write(pool, move |conn| {
        let at = now();
        let until = sweep_lease_end(at, every);
        Ok(sweeps::take_lease(conn, SWEEP, &holder, at, until)?)
    })
    .await?;
    if !taken {
        return Ok(None);
    }
    let at = now();
    Ok(Some(Pruned {
        positions: in_batches(pool, at - retention.positions, positions::prune).await?,
        idempotency_keys: in_batches(pool, at - retention.idempotency_keys, idempotency::prune)
            .await?,
        refresh_tokens: in_batches(pool, at, tokens::prune).await?,
        page_sessions: in_batches(pool, at, page_sessions::prune).await?,
        notifications: in_batches(pool, at - retention.outbox, outbox::prune).await?,
    }))
}

async fn in_batches(
    pool: &Pool,
    cutoff: NaiveDateTime,
    prune: fn(&mut DbConnection, NaiveDateTime, i64) -> diesel::QueryResult<usize>,
) -> Result<usize, WorkerError> {
    let mut total = 0;
    loop {
        let n = write(pool, move |conn| Ok(prune(conn, cutoff, BATCH)?)).await?;
        total += n;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}
