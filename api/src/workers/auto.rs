//! The published day mended by itself (`AUTO_REOPTIMIZE=1`, see `app::plans::auto`):
//! every second one replica (the one holding the lease) looks with a read for new visits
//! waiting for a published day and for late visits that may move, and handles each in its
//! own short write transaction, so a day with nothing new or late costs no write.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{sweep_lease_end, write, WorkerError};
use crate::app::plans::auto::{self, Outcome};
use crate::config::DispatchSettings;
use crate::db::types::{JobId, PlanId};
use crate::db::{now, sweeps, Pool};

const SWEEP: &str = "auto_reoptimize";
/// A late visit no courier could take waits this long before it is tried again.
const RETRY_LATE: Duration = Duration::from_secs(300);

/// When each late visit was last tried, in this process.
pub type Tried = HashMap<(PlanId, JobId), Instant>;
/// How often new visits are looked for: a claim approved for today is on a route within
/// about this long.
pub const EVERY: Duration = Duration::from_secs(1);

pub fn start(pool: Pool, settings: DispatchSettings, every: Duration) {
    tokio::spawn(async move {
        let mut tried = Tried::new();
        loop {
            tokio::time::sleep(every).await;
            match sweep(&pool, &settings, every, &mut tried).await {
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
    tried: &mut Tried,
) -> Result<(usize, usize), WorkerError> {
    let (waiting, late) = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || -> Result<_, WorkerError> {
            let mut conn = pool.get()?;
            let now = Utc::now();
            let internal =
                |e: crate::error::ApiError| WorkerError::Internal(anyhow::anyhow!("{e}"));
            let waiting = auto::waiting(&mut conn, now).map_err(internal)?;
            let late = auto::late(&mut conn, now).map_err(internal)?;
            Ok((waiting, late))
        })
        .await??
    };
    // A late visit no courier could take is tried again only after a while.
    tried.retain(|_, at| at.elapsed() < RETRY_LATE);
    let late: Vec<_> = late
        .into_iter()
        .filter(|v| !tried.contains_key(v))
        .collect();
    if waiting.is_empty() && late.is_empty() {
        return Ok((0, 0));
    }
    let holder = settings.instance.clone();
    let at = now();
    let until = sweep_lease_end(at, every);
    let taken = write(pool, move |conn| {
        Ok(sweeps::take_lease(conn, SWEEP, &holder, at, until)?)
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
    for &visit in &late {
        tried.insert(visit, Instant::now());
    }
    let movable = if late.is_empty() {
        Vec::new()
    } else {
        let pool = pool.clone();
        let judged = tokio::task::spawn_blocking(move || -> Result<_, WorkerError> {
            let mut conn = pool.get()?;
            auto::relievable(&mut conn, &late, Utc::now())
                .map_err(|e| WorkerError::Internal(anyhow::anyhow!("{e}")))
        })
        .await?;
        // The new visits placed above are counted whatever happens to the late ones.
        judged.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "judging the late visits failed");
            Vec::new()
        })
    };
    for (plan, job) in movable {
        let moved = write(pool, move |conn| {
            auto::relieve(conn, plan, job, Utc::now())
                .map_err(|e| WorkerError::Internal(anyhow::anyhow!("{e}")))
        })
        .await;
        match moved {
            Ok(Outcome::Placed) => {
                tracing::info!(
                    plan = plan.0,
                    job = job.0,
                    "a late visit moved where it is on time"
                );
            }
            Ok(_) => {}
            // One visit that cannot move does not hold up the others.
            Err(e) => tracing::warn!(error = %e, job = job.0, "moving a late visit failed"),
        }
    }
    Ok((placed, left_out))
}
