//! The plan worker. `POST /plans` only queues a plan; every server process runs this worker,
//! which claims queued plans one at a time (on PostgreSQL with `SKIP LOCKED`, so each plan
//! runs on exactly one replica), computes each on the blocking pool while a heartbeat
//! records its progress, and leaves a draft. A run whose process died stops beating and is
//! marked failed by any worker's sweep.

use std::time::Duration;

use actix_web::web;

use super::{write, WorkerError};
use crate::app::plans::run::{self, Curve, RunError};
use crate::db::now;
use crate::db::plans::{self, PlanRow};
use crate::messages;
use crate::metrics::PlanOutcome;
use crate::state::AppState;

/// How often a worker looks for queued plans when nobody wakes it.
const POLL: Duration = Duration::from_secs(2);
/// How often a running plan reports its progress.
const HEARTBEAT: Duration = Duration::from_millis(500);

pub fn start(state: web::Data<AppState>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "plan sweep failed");
            }
            loop {
                let runner = state.settings.dispatch.instance.clone();
                let claimed = write(&state.pool, move |conn| {
                    Ok(plans::claim_next(conn, &runner)?)
                })
                .await;
                match claimed {
                    Ok(Some(plan)) => run_plan(&state, plan).await,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming a plan failed");
                        break;
                    }
                }
            }
            let _ = tokio::time::timeout(POLL, state.plan_wakeup.notified()).await;
        }
    });
}

/// Fails the runs whose runner stopped reporting.
async fn sweep(state: &AppState) -> Result<(), WorkerError> {
    let silent_since = now()
        - chrono::Duration::from_std(state.settings.dispatch.stale_after)
            .map_err(anyhow::Error::from)?;
    let failed = write(&state.pool, move |conn| {
        Ok(plans::fail_stale(
            conn,
            silent_since,
            messages::PLAN_RUNNER_LOST,
        )?)
    })
    .await?;
    if failed > 0 {
        tracing::warn!(failed, "marked plans failed whose runner stopped reporting");
    }
    Ok(())
}

async fn run_plan(state: &web::Data<AppState>, plan: PlanRow) {
    let id = plan.id;
    let runner = state.settings.dispatch.instance.clone();
    tracing::info!(plan = %id, date = %plan.date, "planning");
    let curve = Curve::default();
    let started = std::time::Instant::now();
    let heartbeat = tokio::spawn({
        let (state, curve, runner) = (state.clone(), curve.clone(), runner.clone());
        async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let (points, runner) = (curve.points(), runner.clone());
                let beat = write(&state.pool, move |conn| {
                    Ok(plans::heartbeat(conn, id, &runner, points)?)
                })
                .await;
                if let Err(e) = beat {
                    tracing::warn!(plan = %id, error = %e, "heartbeat failed");
                }
            }
        }
    });
    let computed = tokio::task::spawn_blocking({
        let (pool, settings) = (state.pool.clone(), state.settings.dispatch.clone());
        let (curve, runner) = (curve.clone(), runner.clone());
        move || run::compute(&pool, &plan, &runner, &settings, &curve)
    })
    .await
    .map_err(|e| RunError::Internal(e.into()))
    .and_then(|r| r);
    heartbeat.abort();
    let record = |outcome, unassigned| {
        state
            .metrics
            .plan_run(outcome, started.elapsed(), unassigned)
    };
    let message = match computed {
        Ok(unassigned) => return record(PlanOutcome::Finished, Some(unassigned)),
        Err(RunError::Lost) => {
            tracing::warn!(plan = %id, "the run was declared lost; its result is dropped");
            return record(PlanOutcome::Lost, None);
        }
        Err(RunError::Planner(reason)) => {
            tracing::warn!(plan = %id, %reason, "the planner refused the day");
            record(PlanOutcome::Refused, None);
            reason
        }
        Err(e) => {
            tracing::error!(plan = %id, error = %e, "planning failed");
            record(PlanOutcome::Failed, None);
            messages::PLAN_FAILED.to_owned()
        }
    };
    let failed = write(&state.pool, move |conn| {
        Ok(plans::fail(conn, id, &runner, &message)?)
    })
    .await;
    if let Err(e) = failed {
        tracing::warn!(plan = %id, error = %e, "could not mark the plan failed");
    }
}
