//! New visits into the published day by themselves (`AUTO_REOPTIMIZE=1`, see
//! `app::plans::auto`): every second one replica (the one holding the lease) looks for
//! visits waiting for a published day with a read, and places each in its own short write
//! transaction, so a day with nothing new costs no write.

use std::time::Duration;

use chrono::Utc;

use super::{write, WorkerError};
use crate::app::plans::auto::{self, Outcome};
use crate::config::DispatchSettings;
use crate::db::{now, sweeps, Pool};

const SWEEP: &str = "auto_reoptimize";
/// How often new visits are looked for: a claim approved for today is on a route within
/// about this long.
pub const EVERY: Duration = Duration::from_secs(1);

pub fn start(pool: Pool, settings: DispatchSettings, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match sweep(&pool, &settings, every).await {
                Ok((0, 0)) => {}
                Ok((placed, left_out)) => {
                    tracing::info!(placed, left_out, "new visits into the published day")
                }
                Err(e) => tracing::warn!(error = %e, "placing new visits failed"),
            }
        }
    });
}

/// Places the visits waiting for a published day if this replica takes the lease; how many
/// were placed and left out.
pub async fn sweep(
    pool: &Pool,
    settings: &DispatchSettings,
    every: Duration,
) -> Result<(usize, usize), WorkerError> {
    let waiting = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || -> Result<_, WorkerError> {
            let mut conn = pool.get()?;
            auto::waiting(&mut conn, Utc::now())
                .map_err(|e| WorkerError::Internal(anyhow::anyhow!("{e}")))
        })
        .await??
    };
    if waiting.is_empty() {
        return Ok((0, 0));
    }
    let holder = settings.instance.clone();
    let at = now();
    let lease = chrono::Duration::from_std(every.mul_f64(0.9)).unwrap_or_default();
    let taken = write(pool, move |conn| {
        Ok(sweeps::take_lease(conn, SWEEP, &holder, at, at + lease)?)
    })
    .await?;
    if !taken {
        return Ok((0, 0));
    }
    let (mut placed, mut left_out) = (0, 0);
    for (plan, job) in waiting {
        let settings = settings.clone();
        let outcome = write(pool, move |conn| {
            auto::place(conn, &settings, plan, job, Utc::now())
                .map_err(|e| WorkerError::Internal(anyhow::anyhow!("{e}")))
        })
        .await?;
        match outcome {
            Outcome::Placed => placed += 1,
            Outcome::LeftOut => left_out += 1,
            Outcome::Skipped => {}
        }
    }
    Ok((placed, left_out))
}
