//! A dispatcher's edits of a draft plan: moving stops between routes and positions, locking
//! stops to their courier. Changed routes are re-timed by the planner and every problem it
//! finds (late, over capacity, missing skill...) is stored on the stop and reported back,
//! so a broken route is never accepted silently.

use std::collections::{HashMap, HashSet};

use domain::FieldError;
use planner::RouteViolation;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use validator::Validate;

use domain::job::Leg;
use domain::plan::PlanStatus;

use super::shipments;
use super::solution::{
    courier_of, job_index, route_row, stop_rows, unassigned_rows, LoadedPlan, StopExtras,
};
use crate::db::jobs::{self, JobRow};
use crate::db::plans::{self, PlanRow};
use crate::db::types::{CourierId, JobId};
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::messages;

pub const UNASSIGNED_BY_DISPATCHER: &str = "unassigned_by_dispatcher";
/// Why a job a plan had is out of it: it was called off (withdrawn, cancelled).
pub const CANCELLED: &str = "cancelled";
/// Why a job a plan had is out of it: its customer booked another slot.
pub const REBOOKED: &str = "rebooked";

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
pub struct EditPlanRequest {
    /// The plan version the edit was made on (from `GET /plans/{id}`).
    pub version: i32,
    #[serde(default)]
    #[validate(length(max = 500))]
    pub moves: Vec<MoveStop>,
    #[serde(default)]
    #[validate(length(max = 500))]
    pub locks: Vec<LockStop>,
}

/// Puts a job on a courier's route at a position (0 = first; past the end = last), or
/// takes it off every route with `courier_id: null`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct MoveStop {
    pub job_id: JobId,
    pub courier_id: Option<CourierId>,
    pub position: Option<usize>,
}

/// Locks a routed stop to its courier (re-optimisation leaves it where it is) or unlocks it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct LockStop {
    pub job_id: JobId,
    pub locked: bool,
}

/// A problem on a route, with the courier and (for stop problems) the job it concerns.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanViolation {
    pub courier_id: CourierId,
    pub job_id: Option<JobId>,
    /// `late`, `over_capacity`, `missing_skill`, `shift_overrun`, `break_missed`...
    /// with the numbers that show by how much.
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub detail: Value,
}

/// Applies an edit inside the caller's transaction and returns the updated plan with its
/// routes read back (the stored problem is parsed once for all of it).
pub fn apply(
    conn: &mut DbConnection,
    plan: &PlanRow,
    edit: &EditPlanRequest,
) -> ApiResult<(PlanRow, LoadedPlan)> {
    if plan.status != PlanStatus::Draft {
        return Err(ApiError::Conflict(messages::PLAN_NOT_DRAFT.to_owned()));
    }
    if plan.version != edit.version {
        return Err(ApiError::Conflict(messages::STALE_PLAN.to_owned()));
    }
    if edit.moves.is_empty() && edit.locks.is_empty() {
        return Err(ApiError::field("moves", messages::EMPTY_EDIT));
    }
    let mut loaded = LoadedPlan::load(conn, plan)?;
    let index = job_index(&loaded.problem);
    let vehicle_of: HashMap<CourierId, usize> = (0..loaded.problem.vehicles.len())
        .filter_map(|v| courier_of(&loaded.problem, v).ok().map(|c| (c, v)))
        .collect();
    let route_of_vehicle: HashMap<usize, i64> = loaded
        .routes
        .iter()
        .filter_map(|r| usize::try_from(r.vehicle).ok().map(|v| (v, r.id)))
        .collect();

    let mut sequences: HashMap<usize, Vec<JobId>> = HashMap::new();
    for route in &loaded.routes {
        let jobs = loaded.stops_of(route.id).filter_map(|s| s.job_id).collect();
        sequences.insert(usize::try_from(route.vehicle).unwrap_or(usize::MAX), jobs);
    }
    let mut unassigned: Vec<(JobId, String)> = loaded
        .unassigned()
        .filter_map(|s| {
            s.job_id
                .map(|id| (id, s.reason.clone().unwrap_or_default()))
        })
        .collect();
    let mut locked: HashSet<JobId> = loaded
        .stops
        .iter()
        .filter(|s| s.locked)
        .filter_map(|s| s.job_id)
        .collect();

    let mut errors = Vec::new();
    let mut changed: HashSet<usize> = HashSet::new();
    let mut unassigned_changed = false;
    for (i, m) in edit.moves.iter().enumerate() {
        if !index.contains_key(&m.job_id) {
            errors.push(FieldError::new(
                format!("moves[{i}].job_id"),
                messages::JOB_NOT_IN_PLAN,
            ));
            continue;
        }
        let target = match m.courier_id {
            Some(courier) => match vehicle_of.get(&courier) {
                Some(&v) => Some(v),
                None => {
                    errors.push(FieldError::new(
                        format!("moves[{i}].courier_id"),
                        messages::COURIER_NOT_IN_PLAN,
                    ));
                    continue;
                }
            },
            None => None,
        };
        for (&v, jobs) in sequences.iter_mut() {
            if let Some(at) = jobs.iter().position(|&j| j == m.job_id) {
                jobs.remove(at);
                changed.insert(v);
            }
        }
        if let Some(at) = unassigned.iter().position(|(j, _)| *j == m.job_id) {
            unassigned.remove(at);
            unassigned_changed = true;
        }
        match target {
            Some(v) => {
                let jobs = sequences.entry(v).or_default();
                let at = m.position.unwrap_or(usize::MAX).min(jobs.len());
                jobs.insert(at, m.job_id);
                changed.insert(v);
            }
            None => {
                unassigned.push((m.job_id, UNASSIGNED_BY_DISPATCHER.to_owned()));
                unassigned_changed = true;
                locked.remove(&m.job_id);
            }
        }
    }
    for (i, l) in edit.locks.iter().enumerate() {
        if !sequences.values().any(|jobs| jobs.contains(&l.job_id)) {
            errors.push(FieldError::new(
                format!("locks[{i}].job_id"),
                messages::LOCK_UNROUTED,
            ));
        } else if l.locked {
            locked.insert(l.job_id);
        } else {
            locked.remove(&l.job_id);
        }
    }
    // The shipment legs among the moved jobs and the changed routes' jobs, read once.
    let touched: Vec<JobId> = edit
        .moves
        .iter()
        .map(|m| m.job_id)
        .chain(
            changed
                .iter()
                .filter_map(|v| sequences.get(v))
                .flatten()
                .copied(),
        )
        .collect();
    let legs: HashMap<JobId, JobRow> = jobs::by_ids(conn, &touched)?
        .into_iter()
        .filter(JobRow::is_paired)
        .map(|j| (j.id, j))
        .collect();
    errors.extend(parted_shipments(&legs, edit, &sequences, &unassigned));
    if errors.is_empty() {
        errors.extend(units_over_capacity(
            &legs, &loaded, edit, &sequences, &changed,
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    for &v in &changed {
        let Some(&route_id) = route_of_vehicle.get(&v) else {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "plan {} has no route for vehicle {v}",
                plan.id
            )));
        };
        let jobs = sequences.get(&v).cloned().unwrap_or_default();
        rewrite_route(conn, &loaded, v, route_id, &jobs, &locked)?;
    }
    for l in &edit.locks {
        plans::set_locked(conn, plan.id, l.job_id, l.locked)?;
    }
    if unassigned_changed {
        plans::delete_unassigned(conn, plan.id)?;
        plans::insert_stops(conn, &unassigned_rows(plan.id, &unassigned)?)?;
    }
    loaded.reload_rows(conn)?;
    let updated = plans::update(
        conn,
        plan.id,
        plan.version,
        PlanStatus::Draft,
        loaded.kpis(),
    )?
    .ok_or_else(|| ApiError::Conflict(messages::STALE_PLAN.to_owned()))?;
    Ok((updated, loaded))
}

/// The moves that leave a shipment parted: its two legs on different routes, the delivery
/// first, or one routed and the other not.
fn parted_shipments(
    legs: &HashMap<JobId, JobRow>,
    edit: &EditPlanRequest,
    sequences: &HashMap<usize, Vec<JobId>>,
    unassigned: &[(JobId, String)],
) -> Vec<FieldError> {
    if legs.is_empty() {
        return Vec::new();
    }
    let place = |id: JobId| {
        sequences
            .iter()
            .find_map(|(&v, jobs)| jobs.iter().position(|&j| j == id).map(|at| (v, at)))
    };
    let mut errors = Vec::new();
    for (i, m) in edit.moves.iter().enumerate() {
        let Some(leg) = legs.get(&m.job_id) else {
            continue;
        };
        let Some(other) = leg.paired_job_id else {
            continue;
        };
        let other_here = place(other).is_some() || unassigned.iter().any(|(j, _)| *j == other);
        if !other_here {
            continue; // done, or not in this plan: this leg travels alone
        }
        let (pickup, delivery) = match leg.kind.leg() {
            Some(Leg::Pickup) => (leg.id, other),
            _ => (other, leg.id),
        };
        let intact = match (place(pickup), place(delivery)) {
            (Some((vp, p)), Some((vd, d))) => vp == vd && p < d,
            (None, None) => true,
            _ => false,
        };
        if !intact {
            errors.push(FieldError::new(
                format!("moves[{i}].job_id"),
                messages::shipment_parted(pickup.0, delivery.0),
            ));
        }
    }
    errors
}

/// The moves that put a route over its courier's capacity once the units it carries between
/// a shipment's legs are counted: the stored problem leaves them out (see
/// `plans::shipments`), so the re-timing would not say so.
fn units_over_capacity(
    legs: &HashMap<JobId, JobRow>,
    loaded: &LoadedPlan,
    edit: &EditPlanRequest,
    sequences: &HashMap<usize, Vec<JobId>>,
    changed: &HashSet<usize>,
) -> Vec<FieldError> {
    let index = job_index(&loaded.problem);
    let pickups: HashMap<JobId, (JobId, i32)> = legs
        .values()
        .filter(|j| j.kind.leg() == Some(Leg::Pickup))
        .filter_map(|j| Some((j.id, (j.paired_job_id?, j.pickup_load))))
        .collect();
    let mut errors = Vec::new();
    for &v in changed {
        let (Some(jobs), Some(vehicle)) = (sequences.get(&v), loaded.problem.vehicles.get(v))
        else {
            continue;
        };
        if !jobs.iter().any(|j| pickups.contains_key(j)) {
            continue;
        }
        let capacity = vehicle.capacity.first().copied().unwrap_or(i32::MAX);
        let stored = |id: &JobId| index.get(id).map(|&i| &loaded.problem.jobs[i]);
        let first = |load: &[i32]| load.first().copied().unwrap_or(0);
        let mut load: i32 = jobs
            .iter()
            .filter_map(stored)
            .map(|j| first(&j.delivery))
            .sum();
        let stops: Vec<Option<JobId>> = jobs.iter().copied().map(Some).collect();
        let in_transit = shipments::units_in_transit(&stops, &pickups);
        for (id, on_board) in jobs.iter().zip(in_transit) {
            if let Some(job) = stored(id) {
                load += first(&job.pickup) - first(&job.delivery);
            }
            if load + on_board > capacity {
                let at = edit
                    .moves
                    .iter()
                    .position(|m| jobs.contains(&m.job_id))
                    .unwrap_or(0);
                errors.push(FieldError::new(
                    format!("moves[{at}].courier_id"),
                    messages::units_over_capacity(load + on_board, capacity),
                ));
                break;
            }
        }
    }
    errors
}

/// Stores route `route_id` (the plan's vehicle `vehicle`) with `jobs` in that order,
/// re-timed against the plan's problem; every problem the re-timing finds is stored on its
/// stop or on the route. Bumps the route's revision, so its courier's phone refetches it.
fn rewrite_route(
    conn: &mut DbConnection,
    loaded: &LoadedPlan,
    vehicle: usize,
    route_id: i64,
    jobs: &[JobId],
    locked: &HashSet<JobId>,
) -> ApiResult<()> {
    let index = job_index(&loaded.problem);
    let positions: Vec<usize> = jobs
        .iter()
        .filter_map(|id| index.get(id).copied())
        .collect();
    let timed = planner::retime(&loaded.problem, vehicle, &positions)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("re-timing failed: {e}")))?;
    let mut per_job: HashMap<JobId, Vec<RouteViolation>> = HashMap::new();
    let mut route_level = Vec::new();
    for violation in timed.violations {
        match violation
            .job_id
            .as_deref()
            .and_then(|id| id.parse::<i64>().ok())
            .map(JobId)
        {
            Some(job) => per_job.entry(job).or_default().push(violation),
            None => route_level.push(violation),
        }
    }
    let route = (!timed.route.stops.is_empty()).then_some(&timed.route);
    plans::update_route(
        conn,
        route_id,
        route_row(
            loaded.plan_id,
            &loaded.problem,
            loaded.origin,
            vehicle,
            route,
            &route_level,
        )?,
    )?;
    plans::delete_route_stops(conn, route_id)?;
    if let Some(route) = route {
        let outcomes: HashMap<JobId, String> = loaded
            .stops
            .iter()
            .filter_map(|s| Some((s.job_id?, s.outcome.clone()?)))
            .collect();
        let noticed: HashMap<JobId, chrono::NaiveDateTime> = loaded
            .stops
            .iter()
            .filter_map(|s| Some((s.job_id?, s.delay_noticed_at?)))
            .collect();
        let rows = stop_rows(
            loaded.plan_id,
            route_id,
            &loaded.problem,
            loaded.origin,
            route,
            &StopExtras {
                locked: Some(locked),
                outcomes: Some(&outcomes),
                violations: Some(&per_job),
                noticed: Some(&noticed),
            },
        )?;
        plans::insert_stops(conn, &rows)?;
    }
    Ok(())
}

/// Takes jobs off every draft and published plan that has them (called off, or rebooked by
/// their customer): their routes are re-timed without them (a courier's phone sees the new
/// revision), the jobs are listed as left out with `reason` (the plan still accounts for
/// every job of its problem), and the plans' KPIs and versions follow (a dispatcher
/// reviewing a draft reloads it).
pub fn drop_jobs(conn: &mut DbConnection, ids: &[JobId], reason: &str) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let gone: HashSet<JobId> = ids.iter().copied().collect();
    let statuses = [PlanStatus::Draft, PlanStatus::Published];
    for plan_id in plans::holding_jobs(conn, ids, &statuses)? {
        let Some(plan) = plans::find(conn, plan_id)? else {
            continue;
        };
        let mut loaded = LoadedPlan::load(conn, &plan)?;
        let locked: HashSet<JobId> = loaded
            .stops
            .iter()
            .filter(|s| s.locked)
            .filter_map(|s| s.job_id)
            .filter(|id| !gone.contains(id))
            .collect();
        let mut changed = Vec::new();
        for route in &loaded.routes {
            let jobs: Vec<JobId> = loaded.stops_of(route.id).filter_map(|s| s.job_id).collect();
            if jobs.iter().any(|j| gone.contains(j)) {
                let kept: Vec<JobId> = jobs.into_iter().filter(|j| !gone.contains(j)).collect();
                let vehicle = usize::try_from(route.vehicle).map_err(anyhow::Error::from)?;
                changed.push((vehicle, route.id, kept));
            }
        }
        for (vehicle, route_id, jobs) in changed {
            rewrite_route(conn, &loaded, vehicle, route_id, &jobs, &locked)?;
        }
        let index = job_index(&loaded.problem);
        let mut unassigned: Vec<(JobId, String)> = loaded
            .unassigned()
            .filter_map(|s| Some((s.job_id?, s.reason.clone().unwrap_or_default())))
            .filter(|(j, _)| !gone.contains(j))
            .collect();
        unassigned.extend(
            ids.iter()
                .filter(|id| index.contains_key(id))
                .map(|id| (*id, reason.to_owned())),
        );
        plans::delete_unassigned(conn, plan.id)?;
        plans::insert_stops(conn, &unassigned_rows(plan.id, &unassigned)?)?;
        loaded.reload_rows(conn)?;
        plans::set_stats(conn, plan.id, loaded.kpis())?;
    }
    Ok(())
}

/// Puts `job` (as the planner sees it, with the windows its customer booked) on the route of
/// `vehicle` in `plan`, right after job `after` (first if `None`): the plan's stored
/// problem takes the job's new windows (or the job, new to that day), the route is re-timed
/// (its courier's phone sees the new revision) and the job leaves the plan's left-out list.
/// Returns `true`, having written nothing, when the route would come out with more
/// problems than it has.
pub fn place_job(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: planner::Job,
    vehicle: usize,
    after: Option<JobId>,
) -> ApiResult<bool> {
    place_in_route(conn, plan, job, vehicle, |id, others| {
        Some(sequence_with(others, id, after))
    })
}

/// Like `place_job`, with the whole route of `vehicle` given in its new `order` (the
/// route's jobs and `job`, each once): a route put in another order around the visit.
/// An order that is not of those jobs is an internal error.
pub fn place_in_order(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: planner::Job,
    vehicle: usize,
    order: &[JobId],
) -> ApiResult<bool> {
    place_in_route(conn, plan, job, vehicle, |id, others| {
        let mut given = order.to_vec();
        let mut routed = others.to_vec();
        routed.push(id);
        given.sort_unstable();
        routed.sort_unstable();
        (given == routed).then(|| order.to_vec())
    })
}

/// `job` put on `vehicle`'s route in the order `sequence` makes of it and the route's other
/// jobs (`None`: not an order of them); `true`, with nothing written, when the route would
/// come out with more problems than it has.
fn place_in_route(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: planner::Job,
    vehicle: usize,
    sequence: impl FnOnce(JobId, &[JobId]) -> Option<Vec<JobId>>,
) -> ApiResult<bool> {
    // One leg of a shipment alone could part it from the other or come before its pickup.
    // Callers pick single visits (`jobs::unplanned_due` filtered, `plans::late_visits`,
    // booked slots); this is the last word for any that did not, before the plan is loaded.
    if jobs::find(conn, job_id_of(&job)?)?.is_some_and(|j| j.is_paired()) {
        return Err(ApiError::Conflict(messages::SHIPMENT_LEG_ALONE.to_owned()));
    }
    let (id, mut loaded) = with_job(conn, plan, job)?;
    let route_id = loaded
        .routes
        .iter()
        .find(|r| usize::try_from(r.vehicle).ok() == Some(vehicle))
        .map(|r| r.id)
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("plan {} has no vehicle {vehicle}", plan.id))
        })?;
    let others: Vec<JobId> = loaded
        .stops_of(route_id)
        .filter_map(|s| s.job_id)
        .filter(|&j| j != id)
        .collect();
    let jobs = sequence(id, &others).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "plan {}: a new order of vehicle {vehicle}'s route lists other jobs",
            plan.id
        ))
    })?;
    // Re-timed first without writing: a route that would come out with more problems
    // than it has (one a dispatcher edited beyond what the planner builds) is left as it is.
    let before = loaded
        .routes
        .iter()
        .find(|r| r.id == route_id)
        .map_or(0, |r| r.violations.len())
        + loaded
            .stops_of(route_id)
            .map(|s| s.violations.len())
            .sum::<usize>();
    let index = job_index(&loaded.problem);
    let positions: Vec<usize> = jobs.iter().filter_map(|j| index.get(j).copied()).collect();
    let trial = planner::retime(&loaded.problem, vehicle, &positions)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("re-timing failed: {e}")))?;
    if trial.violations.len() > before {
        return Ok(true);
    }
    plans::replace_problem(conn, plan.id, &loaded.problem)?;
    let locked: HashSet<JobId> = loaded
        .stops
        .iter()
        .filter(|s| s.locked)
        .filter_map(|s| s.job_id)
        .collect();
    rewrite_route(conn, &loaded, vehicle, route_id, &jobs, &locked)?;
    let unassigned: Vec<(JobId, String)> = loaded
        .unassigned()
        .filter_map(|s| Some((s.job_id?, s.reason.clone().unwrap_or_default())))
        .filter(|(j, _)| *j != id)
        .collect();
    plans::delete_unassigned(conn, plan.id)?;
    plans::insert_stops(conn, &unassigned_rows(plan.id, &unassigned)?)?;
    loaded.reload_rows(conn)?;
    plans::set_stats(conn, plan.id, loaded.kpis())?;
    Ok(false)
}

/// Route `sequence` with `item` put right after `after` (last when `after` is not on it),
/// or first without one: where a visit placed on a route lands.
pub(super) fn sequence_with<T: Copy + PartialEq>(
    sequence: &[T],
    item: T,
    after: Option<T>,
) -> Vec<T> {
    let at = after.map_or(0, |a| {
        sequence
            .iter()
            .position(|&j| j == a)
            .map_or(sequence.len(), |p| p + 1)
    });
    let mut placed = sequence.to_vec();
    placed.insert(at, item);
    placed
}

/// The claim job a planner job stands for (its id is the job's number).
fn job_id_of(job: &planner::Job) -> ApiResult<JobId> {
    job.id
        .parse()
        .map(JobId)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("job id {} is not a number", job.id)))
}

/// The plan loaded with `job` (as the planner sees it) in its problem: its windows
/// replaced, or the job added when it is new to the plan (not stored yet).
fn with_job(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: planner::Job,
) -> ApiResult<(JobId, LoadedPlan)> {
    let id = job_id_of(&job)?;
    let mut loaded = LoadedPlan::load(conn, plan)?;
    match loaded.problem.jobs.iter().position(|j| j.id == job.id) {
        Some(at) => loaded.problem.jobs[at] = job,
        None => loaded.problem.jobs.push(job),
    }
    Ok((id, loaded))
}

/// Lists `job` (as the planner sees it) as left out of `plan` with `reason`, so the plan
/// accounts for it and a dispatcher sees it (the plan's stored problem takes it too).
pub fn leave_out(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: planner::Job,
    reason: &str,
) -> ApiResult<()> {
    let (id, mut loaded) = with_job(conn, plan, job)?;
    plans::replace_problem(conn, plan.id, &loaded.problem)?;
    let mut unassigned: Vec<(JobId, String)> = loaded
        .unassigned()
        .filter_map(|s| Some((s.job_id?, s.reason.clone().unwrap_or_default())))
        .filter(|(j, _)| *j != id)
        .collect();
    unassigned.push((id, reason.to_owned()));
    plans::delete_unassigned(conn, plan.id)?;
    plans::insert_stops(conn, &unassigned_rows(plan.id, &unassigned)?)?;
    loaded.reload_rows(conn)?;
    plans::set_stats(conn, plan.id, loaded.kpis())?;
    Ok(())
}

/// Every problem stored on a plan's routes and stops.
pub fn violations(loaded: &LoadedPlan) -> Vec<PlanViolation> {
    let mut out = Vec::new();
    for route in &loaded.routes {
        // The planner's own job index and id are internal; the job is named by `job_id`.
        let parse = |list: &[RouteViolation]| {
            let mut list = serde_json::to_value(list)
                .ok()
                .and_then(|v| serde_json::from_value::<Vec<Value>>(v).ok())
                .unwrap_or_default();
            for detail in &mut list {
                if let Some(fields) = detail.as_object_mut() {
                    fields.remove("job");
                    fields.remove("job_id");
                }
            }
            list
        };
        for detail in parse(&route.violations) {
            out.push(PlanViolation {
                courier_id: route.courier_id,
                job_id: None,
                detail,
            });
        }
        for stop in loaded.stops_of(route.id) {
            for detail in parse(&stop.violations) {
                out.push(PlanViolation {
                    courier_id: route.courier_id,
                    job_id: stop.job_id,
                    detail,
                });
            }
        }
    }
    out
}
