//! The ETA sweep: every `ETA_SWEEP_SECONDS` one replica (the one holding the sweep's
//! lease) re-times the routes under way (`app::visits::eta`), so a courier who reports
//! nothing still sees his day slip, and a visit that will be late is told before it is.
//! Each route is its own short write transaction.

use chrono::NaiveDateTime;

use super::{sweep_lease_end, write, WorkerError};
use crate::app::visits::eta::{self, Retiming};
use crate::config::DispatchSettings;
use crate::db::{now, plans, sweeps, Pool};

const SWEEP: &str = "eta";

pub fn start(pool: Pool, settings: DispatchSettings) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(settings.eta_sweep).await;
            match sweep(&pool, &settings, now()).await {
                Ok(Some(done)) if done != Retiming::default() => {
                    tracing::info!(
                        changed = done.changed,
                        notices = done.notices,
                        "live ETAs re-timed"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the ETA sweep failed"),
            }
        }
    });
}

/// Re-times every route under way at `at` if this replica takes the sweep's lease; `None`
/// when another one holds it.
pub async fn sweep(
    pool: &Pool,
    settings: &DispatchSettings,
    at: NaiveDateTime,
) -> Result<Option<Retiming>, WorkerError> {
    let holder = settings.instance.clone();
    let until = sweep_lease_end(at, settings.eta_sweep);
    let taken = write(pool, move |conn| {
        Ok(sweeps::take_lease(conn, SWEEP, &holder, at, until)?)
    })
    .await?;
    if !taken {
        return Ok(None);
    }
    let days = domain::eta::days_under_way(at);
    let routes = write(pool, move |conn| {
        Ok(plans::routes_under_way(conn, days, at)?)
    })
    .await?;
    let mut total = Retiming::default();
    for route_id in routes {
        let settings = settings.clone();
        let done = write(pool, move |conn| {
            eta::retime_route(conn, &settings, route_id, at)
                .map_err(|e| WorkerError::Internal(anyhow::anyhow!("{e}")))
        })
        .await?;
        total.changed += done.changed;
        total.notices += done.notices;
    }
    Ok(Some(total))
}
