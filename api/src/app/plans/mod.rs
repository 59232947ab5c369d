//! Dispatch: a day's jobs become courier routes with the planner, dispatchers review and
//! edit them, and publish them to the couriers.
//!
//! - [`queue`] and [`reoptimize`] only add a queued plan; a worker (`workers::plans`) runs
//!   it with [`run::compute`], from the input [`input::build`] reads.
//! - [`solution`] stores a solution as rows and reads it back ([`solution::LoadedPlan`]).
//! - [`view`] is what dispatchers read; [`edit`] their changes; [`publish`] the hand-over.

pub mod auto;
pub mod edit;
pub mod input;
pub mod insert;
pub mod publish;
pub mod run;
pub mod shipments;
pub mod solution;
pub mod view;

use chrono::{DateTime, NaiveDate, Utc};
use domain::plan::{PlanObjective, PlanStatus};

use self::edit::{EditPlanRequest, PlanViolation};
use self::publish::PublishRequest;
use self::solution::LoadedPlan;
use self::view::PlanRoutes;
use crate::db::plans::{self, NewPlan, PlanRow};
use crate::db::types::{PlanId, UserId};
use crate::db::{fleet, now, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// A plan's scope: the whole city, or one depot's couriers and the jobs it serves.
pub fn scope_of(depot_id: Option<i64>) -> String {
    depot_id.map_or_else(|| "all".to_owned(), |d| format!("depot:{d}"))
}

/// A plan to queue for the workers.
struct QueuedPlan<'a> {
    date: NaiveDate,
    depot_id: Option<i64>,
    scope: &'a str,
    created_by: UserId,
    based_on_id: Option<PlanId>,
    reoptimizes_id: Option<PlanId>,
    time_limit_ms: i32,
    objective: PlanObjective,
}

impl QueuedPlan<'_> {
    fn insert(&self, conn: &mut DbConnection) -> ApiResult<PlanRow> {
        let at = now();
        Ok(plans::insert(
            conn,
            NewPlan {
                date: self.date,
                depot_id: self.depot_id,
                scope: self.scope,
                status: PlanStatus::Queued,
                created_by: self.created_by,
                based_on_id: self.based_on_id,
                reoptimizes_id: self.reoptimizes_id,
                time_limit_ms: self.time_limit_ms,
                objective: self.objective,
                created_at: at,
                updated_at: at,
            },
        )?)
    }
}

/// Queues a plan of a day (optionally of one depot) with a planner budget and objective;
/// the published plan of that day and scope, if any, is the one it may later replace.
pub fn queue(
    conn: &mut DbConnection,
    created_by: UserId,
    date: NaiveDate,
    depot_id: Option<i64>,
    time_limit_ms: i32,
    objective: PlanObjective,
) -> ApiResult<PlanRow> {
    if let Some(depot) = depot_id {
        fleet::find_depot(conn, depot)?
            .ok_or_else(|| ApiError::field("depot_id", messages::UNKNOWN_DEPOT))?;
    }
    let scope = scope_of(depot_id);
    let based_on = plans::published(conn, date, &scope)?.map(|p| p.id);
    QueuedPlan {
        date,
        depot_id,
        scope: &scope,
        created_by,
        based_on_id: based_on,
        reoptimizes_id: None,
        time_limit_ms,
        objective,
    }
    .insert(conn)
}

/// Queues the re-optimisation of a published plan of a day under way: visits started or
/// done and locked stops stay where they are, the other stops keep their courier and
/// order, and jobs approved since are inserted where they disturb least (priced by
/// `objective`, the published plan's when none is given).
pub fn reoptimize(
    conn: &mut DbConnection,
    created_by: UserId,
    id: PlanId,
    time_limit_ms: i32,
    objective: Option<PlanObjective>,
) -> ApiResult<PlanRow> {
    let source = find(conn, id)?;
    if source.status != PlanStatus::Published {
        return Err(ApiError::Conflict(messages::PLAN_NOT_PUBLISHED.to_owned()));
    }
    QueuedPlan {
        date: source.date,
        depot_id: source.depot_id,
        scope: &source.scope,
        created_by,
        based_on_id: Some(source.id),
        reoptimizes_id: Some(source.id),
        time_limit_ms,
        objective: objective.unwrap_or(source.objective),
    }
    .insert(conn)
}

pub fn find(conn: &mut DbConnection, id: PlanId) -> ApiResult<PlanRow> {
    plans::find(conn, id)?.ok_or(ApiError::NotFound)
}

pub fn list(
    conn: &mut DbConnection,
    date: Option<NaiveDate>,
    after_id: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<PlanRow>> {
    Ok(plans::list(conn, date, after_id, limit)?)
}

/// A computed plan with its stored routes; 409 while it is queued, running or failed.
fn computed(conn: &mut DbConnection, id: PlanId) -> ApiResult<(PlanRow, LoadedPlan)> {
    let plan = find(conn, id)?;
    if !plan.status.has_routes() {
        return Err(ApiError::Conflict(messages::PLAN_NOT_READY.to_owned()));
    }
    let loaded = LoadedPlan::load(conn, &plan)?;
    Ok((plan, loaded))
}

/// The routes of a computed plan per courier, with the unassigned jobs and why.
pub fn routes(conn: &mut DbConnection, id: PlanId) -> ApiResult<PlanRoutes> {
    let (plan, loaded) = computed(conn, id)?;
    view::routes(conn, &plan, &loaded)
}

/// The planner input a plan was computed from, with its time origin.
pub fn problem(
    conn: &mut DbConnection,
    id: PlanId,
) -> ApiResult<(planner::Problem, DateTime<Utc>)> {
    find(conn, id)?;
    let (problem, origin) = plans::problem(conn, id)?
        .ok_or_else(|| ApiError::Conflict(messages::PLAN_NOT_READY.to_owned()))?;
    Ok((problem, origin.and_utc()))
}

/// A dispatcher's edit, answered with the plan, every problem its routes now have, and
/// the routes.
pub struct Edited {
    pub plan: PlanRow,
    pub violations: Vec<PlanViolation>,
    pub routes: PlanRoutes,
}

pub fn edit(conn: &mut DbConnection, id: PlanId, request: &EditPlanRequest) -> ApiResult<Edited> {
    let plan = find(conn, id)?;
    let (plan, loaded) = edit::apply(conn, &plan, request)?;
    Ok(Edited {
        violations: edit::violations(&loaded),
        routes: view::routes(conn, &plan, &loaded)?,
        plan,
    })
}

pub fn publish(
    conn: &mut DbConnection,
    id: PlanId,
    actor: UserId,
    request: &PublishRequest,
) -> ApiResult<PlanRow> {
    publish::publish(conn, id, actor, request)
}

/// Courier jobs by claim, status and date (a manager's filter limits them to his claims).
pub fn jobs(
    conn: &mut DbConnection,
    filter: &crate::db::jobs::JobFilter,
) -> ApiResult<Vec<crate::db::jobs::JobRow>> {
    Ok(crate::db::jobs::list(conn, filter)?)
}
