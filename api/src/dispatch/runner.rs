//! Plan runs in the background. `POST /plans` only queues a plan; every server process runs
//! a worker that claims queued plans one at a time (on PostgreSQL with `SKIP LOCKED`, so
//! each plan runs on exactly one replica), solves on the blocking pool while a heartbeat
//! records progress, and stores the routes as a draft. A run whose process died stops
//! beating and is marked failed by any worker's sweep.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web;
use serde::{Deserialize, Serialize};

use super::input::{self, PlanInput};
use super::solution::{self, StopExtras};
use crate::config::DispatchSettings;
use crate::db::plans::{self, PlanRow};
use crate::db::{now, Pool};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::state::AppState;

/// How often a worker looks for queued plans when nobody wakes it.
const POLL: Duration = Duration::from_secs(2);
/// How often a running plan reports its progress.
const HEARTBEAT: Duration = Duration::from_millis(500);
/// The progress curve keeps at most this many points.
const MAX_POINTS: usize = 240;

/// One point of the best-cost-over-time curve a dispatcher watches.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProgressPoint {
    pub elapsed_ms: u64,
    /// Share of the time budget used, 0..1.
    pub fraction: f64,
    pub cost: f64,
    pub vehicles: usize,
    pub unassigned: usize,
}

pub fn start_worker(state: web::Data<AppState>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "plan sweep failed");
            }
            loop {
                match state
                    .write({
                        let runner = state.settings.dispatch.instance.clone();
                        move |conn| Ok(plans::claim_next(conn, &runner)?)
                    })
                    .await
                {
                    Ok(Some(plan)) => run(&state, plan).await,
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

async fn sweep(state: &AppState) -> ApiResult<()> {
    let silent_since = now()
        - chrono::Duration::from_std(state.settings.dispatch.stale_after)
            .map_err(anyhow::Error::from)?;
    let failed = state
        .write(move |conn| {
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

async fn run(state: &web::Data<AppState>, plan: PlanRow) {
    let id = plan.id;
    tracing::info!(plan = id, date = %plan.date, "planning");
    let progress: Arc<Mutex<Vec<ProgressPoint>>> = Arc::default();
    let heartbeat = tokio::spawn({
        let state = state.clone();
        let progress = progress.clone();
        async move {
            let runner = state.settings.dispatch.instance.clone();
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let curve = curve_json(&progress);
                let runner = runner.clone();
                let beat = state
                    .write(move |conn| Ok(plans::heartbeat(conn, id, &runner, &curve)?))
                    .await;
                if let Err(e) = beat {
                    tracing::warn!(plan = id, error = %e, "heartbeat failed");
                }
            }
        }
    });
    let pool = state.pool.clone();
    let settings = state.settings.dispatch.clone();
    let computed = web::block({
        let progress = progress.clone();
        move || compute(&pool, &plan, &settings, progress)
    })
    .await
    .map_err(ApiError::from)
    .and_then(|r| r);
    heartbeat.abort();
    if let Err(e) = computed {
        tracing::warn!(plan = id, error = %e, "planning failed");
        let message = match &e {
            ApiError::Internal(_) => messages::PLAN_FAILED.to_owned(),
            other => other.to_string(),
        };
        if let Err(e) = state
            .write(move |conn| Ok(plans::fail(conn, id, &message)?))
            .await
        {
            tracing::warn!(plan = id, error = %e, "could not mark the plan failed");
        }
    }
}

fn curve_json(progress: &Mutex<Vec<ProgressPoint>>) -> String {
    let points = progress.lock().map(|p| p.clone()).unwrap_or_default();
    serde_json::to_string(&points).unwrap_or_else(|_| "[]".to_owned())
}

/// Reads the input, solves and stores the draft, all on the blocking pool.
fn compute(
    pool: &Pool,
    plan: &PlanRow,
    settings: &DispatchSettings,
    progress: Arc<Mutex<Vec<ProgressPoint>>>,
) -> ApiResult<()> {
    let mut conn = pool.get()?;
    let PlanInput {
        problem,
        origin,
        skipped,
        given,
        locked,
        outcomes,
    } = input::build(&mut conn, plan, settings)?;
    let problem_json = serde_json::to_string(&problem).map_err(anyhow::Error::from)?;
    plans::store_problem(&mut conn, plan.id, &problem_json, origin.naive_utc())?;
    // The search may take minutes: give the connection back meanwhile.
    drop(conn);

    let sink = progress.clone();
    let options = planner::SolveOptions {
        time_limit: Some(Duration::from_millis(
            u64::try_from(plan.time_limit_ms).unwrap_or(0),
        )),
        seed: u64::try_from(plan.id).unwrap_or(1),
        threads: settings.threads,
        progress: Some(Arc::new(move |p: &planner::Progress| {
            if let Ok(mut points) = sink.lock() {
                if points.len() >= MAX_POINTS {
                    // Keep the curve's shape: drop every other point of the older half.
                    let half = points.len() / 2;
                    let mut i = 0;
                    points.retain(|_| {
                        i += 1;
                        i > half || i % 2 == 0
                    });
                }
                points.push(ProgressPoint {
                    elapsed_ms: (p.elapsed * 1000.0) as u64,
                    fraction: p.fraction,
                    cost: p.cost,
                    vehicles: p.vehicles,
                    unassigned: p.unassigned,
                });
            }
        })),
        ..planner::SolveOptions::default()
    };
    let solved = if problem.jobs.is_empty() || problem.vehicles.is_empty() {
        // Nothing to search: every job (if any) is unassigned with its reason.
        planner::retime_solution(&problem, &[]).map(|(s, _)| s)
    } else if plan.reoptimizes_id.is_some() {
        planner::extend(&problem, &given, &options)
    } else {
        planner::solve(&problem, &options)
    }
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;

    let unassigned = solved.unassigned.len() + skipped.len();
    let kpis = solution::kpis(&problem, &solved, unassigned, 0);
    let stats = serde_json::to_string(&kpis).map_err(anyhow::Error::from)?;
    let curve = curve_json(&progress);
    let runner = settings.instance.clone();
    let plan_id = plan.id;
    let mut conn = pool.get()?;
    crate::db::write_tx(&mut conn, |conn| {
        if !plans::finish(conn, plan_id, &runner, &curve, &stats)? {
            // Declared lost meanwhile: the failure stands, the result is dropped.
            return Err(ApiError::Conflict(messages::PLAN_RUNNER_LOST.to_owned()));
        }
        solution::store(
            conn,
            plan_id,
            &problem,
            origin,
            &solved,
            &skipped,
            &StopExtras {
                locked: Some(&locked),
                outcomes: Some(&outcomes),
                violations: None,
            },
        )
    })
}
