//! Background work shared by the replicas. Each item of work is a database row claimed
//! through the database (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on
//! SQLite), so one process or ten behave the same.

pub mod auto;
pub mod eta;
pub mod outbox;
pub mod plans;
pub mod retention;
pub mod sla;
pub mod wal;

use actix_web::web;

use crate::db::{DbConnection, Pool};
use crate::state::AppState;

/// What can go wrong in a worker's own loop (a run's failures are `RunError`s, kept on the
/// plan for the dispatcher).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("blocking task failed: {0}")]
    Blocking(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Runs `f` in a write transaction on the blocking pool.
pub async fn write<T, F>(pool: &Pool, f: F) -> Result<T, WorkerError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, WorkerError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || crate::db::write(&pool, f)).await?
}

/// The database time `d` from now (lease ends, retry times); a span too long to represent
/// counts as none.
pub fn from_now(d: std::time::Duration) -> chrono::NaiveDateTime {
    crate::db::now() + chrono::Duration::from_std(d).unwrap_or_default()
}

/// A periodic sweep's lease from `at`: a little shorter than its interval `every`, so that
/// the next sweep (by any replica) finds it free.
pub fn sweep_lease_end(
    at: chrono::NaiveDateTime,
    every: std::time::Duration,
) -> chrono::NaiveDateTime {
    at + chrono::Duration::from_std(every.mul_f64(0.9)).unwrap_or_default()
}

/// Starts this process's workers: plan runs, notification delivery, the SLA, ETA and
/// retention sweeps.
pub fn start(state: web::Data<AppState>) -> anyhow::Result<()> {
    let settings = &state.settings;
    let deliverer = outbox::Deliverer::new(
        state.pool.clone(),
        settings.notify.clone(),
        &settings.data_dir,
        state.metrics.clone(),
    )?;
    outbox::start(std::sync::Arc::new(deliverer), settings.notify.poll);
    sla::start(
        state.pool.clone(),
        settings.sla_sweep,
        state.metrics.clone(),
    );
    wal::start(state.pool.clone());
    eta::start(state.pool.clone(), settings.dispatch.clone());
    if let Some(every) = settings.dispatch.auto_reoptimize {
        auto::start(state.pool.clone(), settings.dispatch.clone(), every);
    }
    retention::start(
        state.pool.clone(),
        settings.retention,
        settings.dispatch.instance.clone(),
    );
    plans::start(state);
    Ok(())
}
