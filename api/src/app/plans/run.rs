//! One plan run: read the day's input, search, store the routes as a draft. A worker
//! (`workers::plans`) claims the plan and calls [`compute`] on the blocking pool; the
//! database connection is given back while the planner searches, which can take minutes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::plan::PlanObjective;

use super::input::{self, PlanInput};
use super::shipments;
use super::solution::{self, StopExtras};
use crate::config::DispatchSettings;
use crate::db::plans::{self, PlanRow, ProgressPoint};
use crate::db::Pool;
use crate::messages;

/// The progress curve keeps at most this many points.
const MAX_POINTS: usize = 240;

/// Why a run did not produce a draft.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The planner refused the day's problem; the dispatcher reads why.
    #[error("{0}")]
    Planner(String),
    /// Another worker declared this run lost (its heartbeat stopped) and failed it.
    #[error("the run was declared lost meanwhile")]
    Lost,
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::error::ApiError> for RunError {
    fn from(e: crate::error::ApiError) -> Self {
        Self::Internal(anyhow::anyhow!("{e}"))
    }
}

/// The best-cost-over-time curve of a run, shared with its heartbeat.
#[derive(Debug, Clone, Default)]
pub struct Curve(Arc<Mutex<Vec<ProgressPoint>>>);

impl Curve {
    pub fn points(&self) -> Vec<ProgressPoint> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn push(&self, p: &planner::Progress) {
        if let Ok(mut points) = self.0.lock() {
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
    }
}

/// The planner's objective for a plan's.
pub fn objective_of(o: PlanObjective) -> planner::Objective {
    match o {
        PlanObjective::Cost => planner::Objective::Cost,
        PlanObjective::FewestCouriers => planner::Objective::FewestCouriers,
        PlanObjective::Balanced => planner::Objective::Balanced,
        PlanObjective::EarliestFinish => planner::Objective::EarliestFinish,
        PlanObjective::Distance => planner::Objective::Distance,
    }
}

/// A new day's routes, planned for each visit to begin the buffer before its window
/// ends (`input::with_buffer`). The visits only that room left out are then added where
/// they fit in their promised windows, the other stops kept as planned: the buffer never
/// costs a visit.
fn solve_with_buffer(
    problem: &planner::Problem,
    buffer: input::PlanBuffer,
    options: &planner::SolveOptions,
) -> Result<planner::Solution, planner::PlanError> {
    if buffer.is_none() {
        return planner::solve(problem, options);
    }
    let buffered = planner::solve(&input::with_buffer(problem, buffer), options)?;
    // `extend` inserts single visits only: with shipments the buffered plan stands.
    if buffered.unassigned.is_empty() || !problem.shipments.is_empty() {
        return Ok(buffered);
    }
    let given: Vec<(usize, Vec<usize>)> = buffered
        .routes
        .iter()
        .map(|r| (r.vehicle, r.stops.iter().filter_map(|s| s.job).collect()))
        .collect();
    let quiet = planner::SolveOptions {
        progress: None,
        ..options.clone()
    };
    let completed = planner::extend(problem, &given, &quiet)?;
    Ok(if completed.unassigned.len() < buffered.unassigned.len() {
        completed
    } else {
        buffered
    })
}

/// Reads the input, solves and stores the draft, all on the blocking pool, as `runner`;
/// how many jobs the draft leaves unassigned.
pub fn compute(
    pool: &Pool,
    plan: &PlanRow,
    runner: &str,
    settings: &DispatchSettings,
    curve: &Curve,
) -> Result<usize, RunError> {
    let mut conn = pool.get()?;
    let PlanInput {
        mut problem,
        origin,
        skipped,
        given,
        locked,
        outcomes,
        pairs,
    } = input::build(&mut conn, plan, settings)?;
    if settings.osrm.is_some() {
        // Road times are asked for once, without holding a connection; the plan keeps them
        // as matrices, so edits re-time against the same roads without asking again.
        drop(conn);
        if let Err(reason) = planner::osrm::resolve(&mut problem) {
            // The service's address and answer are for the operators, not the dispatcher.
            tracing::warn!(plan = %plan.id, %reason, "no road travel times");
            return Err(RunError::Planner(
                messages::ROAD_TIMES_UNAVAILABLE.to_owned(),
            ));
        }
        conn = pool.get()?;
    }
    if !plans::store_problem(
        &mut conn,
        plan.id,
        runner,
        problem.clone(),
        origin.naive_utc(),
    )? {
        return Err(RunError::Lost);
    }
    // The search may take minutes: give the connection back meanwhile.
    drop(conn);

    let sink = curve.clone();
    let options = planner::SolveOptions {
        time_limit: Some(Duration::from_millis(
            u64::try_from(plan.time_limit_ms).unwrap_or(0),
        )),
        iterations: settings.iterations,
        objective: objective_of(plan.objective),
        seed: u64::try_from(plan.id.0).unwrap_or(1),
        threads: settings.threads,
        progress: Some(Arc::new(move |p: &planner::Progress| sink.push(p))),
    };
    let solved = if problem.jobs.is_empty() || problem.vehicles.is_empty() {
        // Nothing to search: every job (if any) is unassigned with its reason.
        planner::retime_solution(&problem, &[]).map(|(s, _)| s)
    } else if plan.reoptimizes_id.is_some() && pairs.is_empty() {
        planner::extend(&problem, &given, &options)
    } else if plan.reoptimizes_id.is_some() {
        // New pairs go in after the routes' fixed prefixes; the given routes hold no new leg.
        let (searched, plain_of) = shipments::with_shipments(&problem, &pairs);
        let given = shipments::given_in(&searched, &plain_of, &given);
        planner::extend(&searched, &given, &options)
            .and_then(|solved| shipments::as_jobs(&problem, &plain_of, &pairs, &solved))
    } else if pairs.is_empty() {
        solve_with_buffer(&problem, input::PlanBuffer::of(settings), &options)
    } else {
        let (searched, plain_of) = shipments::with_shipments(&problem, &pairs);
        solve_with_buffer(&searched, input::PlanBuffer::of(settings), &options)
            .and_then(|solved| shipments::as_jobs(&problem, &plain_of, &pairs, &solved))
    }
    .map_err(|e| RunError::Planner(e.to_string()))?;

    let unassigned = solved.unassigned.len() + skipped.len();
    let kpis = solution::kpis(&problem, &solved, unassigned, 0);
    crate::db::write(pool, |conn| {
        if !plans::finish(conn, plan.id, runner, curve.points(), kpis)? {
            return Err(RunError::Lost);
        }
        solution::store(
            conn,
            plan.id,
            &problem,
            origin,
            &solved,
            &skipped,
            &StopExtras {
                locked: Some(&locked),
                outcomes: Some(&outcomes),
                violations: None,
                noticed: None,
            },
        )?;
        Ok(unassigned)
    })
}
