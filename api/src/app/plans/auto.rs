//! New visits into a published day by themselves (`AUTO_REOPTIMIZE=1`): a visit approved
//! or moved to a day whose plan is published goes at once on the route that can take it
//! at the least cost, without moving any other stop or making one late
//! (`insert::places`), and its customer hears when to expect the courier. One the day
//! cannot take is listed on the plan as left out (`no_room`) for the dispatcher's next
//! re-optimisation; a visit already tried once also waits for the dispatcher, who decides
//! when to come back.
//!
//! A visit flagged late by the live ETAs (`app::visits::eta`), not started and not locked,
//! moves to another courier whose day is not late and whose route can take it within its
//! promised window without making a stop late (`insert::relief`); when none can, it goes
//! earlier on its own route if every stop there is then on time by the live ETAs (or the
//! visits ahead on that route go in an order that keeps every window, when one move is not
//! enough), else it stays and its customer has been told of the delay.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use domain::dispatch::{visit_windows, Span};

use super::edit;
use super::input::{customer_slots, nearest_depot, opening_hours, origin_of, problem_job, seconds};
use super::insert;
use crate::app::claims::{self, PlannedVisit};
use crate::config::DispatchSettings;
use crate::db::fleet;
use crate::db::jobs::{self, JobRow};
use crate::db::plans::{self, PlanRow};
use crate::db::types::{JobId, PlanId};
use crate::db::DbConnection;
use crate::error::ApiResult;

/// Why a late visit is briefly off its route while it moves to another courier's.
const MOVING: &str = "moving";
/// Why a visit the day could not take is left out of its plan.
pub const NO_ROOM: &str = "no_room";
/// A visit placed today starts at least this long from now.
const LEAD_MINUTES: i64 = 15;

/// The new visits waiting for a published day (one under way, by any depot's local date, or
/// tomorrow), as (plan, job): never tried, with a window left on that day, and on no route
/// or left-out list of its plan.
/// Cheap when nothing is new: the day's published plans, then the unplanned jobs due by
/// then (none before tomorrow's plan is published, but today's new ones).
pub fn waiting(conn: &mut DbConnection, now: DateTime<Utc>) -> ApiResult<Vec<(PlanId, JobId)>> {
    // A depot's date is its local one: every date under way somewhere, and the day after
    // the last of them (a published tomorrow).
    let (first, last_under_way) = domain::eta::days_under_way(now.naive_utc());
    let published = plans::published_between(conn, first, last_under_way + Duration::days(1))?;
    let Some(last) = published.iter().map(|p| p.date).max() else {
        return Ok(Vec::new());
    };
    let fresh: Vec<JobRow> = jobs::unplanned_due(conn, last)?
        .into_iter()
        // A shipment's legs go into routes together, by a day's plan.
        .filter(|j| j.attempts == 0 && !j.is_paired())
        .collect();
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let depots = fleet::list_depots(conn)?;
    let mut out = Vec::new();
    for plan in published {
        let mut ours = Vec::new();
        for job in &fresh {
            let Some(depot) = nearest_depot(&depots, job.lat, job.lon) else {
                continue;
            };
            let due = job.date.is_none_or(|d| d <= plan.date);
            let in_scope = plan.depot_id.is_none_or(|d| d == depot.id);
            let open = opening_hours(depot, plan.date);
            if due && in_scope && day_windows(job, &plan, open, now).is_some() {
                ours.push(job.id);
            }
        }
        if ours.is_empty() {
            continue;
        }
        let held: HashSet<JobId> = plans::held_of(conn, plan.id, &ours)?.into_iter().collect();
        out.extend(
            ours.into_iter()
                .filter(|id| !held.contains(id))
                .map(|id| (plan.id, id)),
        );
    }
    Ok(out)
}

/// Plan `plan_id` if it is still published, its day locked against publications and
/// booked slots of the same scope until the transaction ends.
fn published_locked(conn: &mut DbConnection, plan_id: PlanId) -> ApiResult<Option<PlanRow>> {
    let Some(plan) = plans::find(conn, plan_id)? else {
        return Ok(None);
    };
    plans::lock_scope(conn, plan.date, &plan.scope)?;
    Ok(plans::find(conn, plan_id)?.filter(|p| p.status == domain::plan::PlanStatus::Published))
}

/// What happened to one waiting visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Placed,
    LeftOut,
    /// Not this day's any more (its window passed or moved, the plan changed).
    Skipped,
}

/// Puts `job` on published plan `plan_id` if a route can take it (see the module).
pub fn place(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    plan_id: PlanId,
    job_id: JobId,
    now: DateTime<Utc>,
) -> ApiResult<Outcome> {
    let Some(plan) = published_locked(conn, plan_id)? else {
        return Ok(Outcome::Skipped);
    };
    if !plans::held_of(conn, plan.id, &[job_id])?.is_empty() {
        return Ok(Outcome::Skipped);
    }
    let Some(job) = jobs::find(conn, job_id)?.filter(|j| {
        j.status == domain::job::JobStatus::Unplanned
            && j.attempts == 0
            && j.date.is_none_or(|d| d <= plan.date)
    }) else {
        return Ok(Outcome::Skipped);
    };
    let depots = fleet::list_depots(conn)?;
    let Some(depot) = nearest_depot(&depots, job.lat, job.lon).cloned() else {
        return Ok(Outcome::Skipped);
    };
    let Some(windows) = day_windows(&job, &plan, opening_hours(&depot, plan.date), now) else {
        return Ok(Outcome::Skipped);
    };
    let place = insert::places(
        conn,
        settings,
        &job,
        &depot,
        plan.date,
        Some(&plan),
        std::slice::from_ref(&windows),
        now,
    )?
    .pop()
    .flatten();
    if let Some(place) = place {
        if let Some(put) = insert::put(conn, &plan, &job, windows.clone(), place)? {
            tell(conn, &plan, &job, put)?;
            return Ok(Outcome::Placed);
        }
    }
    edit::leave_out(conn, &plan, problem_job(&job, windows), NO_ROOM)?;
    Ok(Outcome::LeftOut)
}

/// The job's windows on the plan's day still ahead (from a few minutes from now), in
/// seconds from the plan's origin; `None` when none is left.
fn day_windows(
    job: &JobRow,
    plan: &PlanRow,
    open: Span,
    now: DateTime<Utc>,
) -> Option<Vec<planner::TimeWindow>> {
    let earliest = now + Duration::minutes(LEAD_MINUTES);
    let origin = origin_of(plan.date);
    let windows: Vec<planner::TimeWindow> = visit_windows(&customer_slots(job), open)?
        .into_iter()
        .filter(|s| s.end > earliest)
        .map(|s| {
            planner::TimeWindow::new(
                seconds(origin, s.start.max(earliest)),
                seconds(origin, s.end),
            )
        })
        .collect();
    (!windows.is_empty()).then_some(windows)
}

/// The late visits of the published plans under way that may move, as (plan, job): the
/// days the ETA sweep re-times, since a depot's local date may be UTC's day before or after.
pub fn late(conn: &mut DbConnection, now: DateTime<Utc>) -> ApiResult<Vec<(PlanId, JobId)>> {
    Ok(plans::late_visits(
        conn,
        domain::eta::days_under_way(now.naive_utc()),
    )?)
}

/// Of `late` (as `late` lists them), in the same order, the visits a relief would move now:
/// judged in one pass per plan (`insert::relievable`) and without a write, so a sweep
/// takes the plan's lock only for the visits that will move. A day slipping everywhere
/// has hundreds of late visits and few spare couriers; judging each under the lock read
/// the whole plan once per visit. All are judged on the plan before any of them moves:
/// a route one move frees of its late visit takes no other in the same sweep (it is
/// judged again with the visits retried five minutes later).
pub fn relievable(
    conn: &mut DbConnection,
    late: &[(PlanId, JobId)],
    now: DateTime<Utc>,
) -> ApiResult<Vec<(PlanId, JobId)>> {
    let mut by_plan: BTreeMap<PlanId, Vec<JobId>> = BTreeMap::new();
    for &(plan, job) in late {
        by_plan.entry(plan).or_default().push(job);
    }
    let mut movable = HashSet::new();
    for (plan_id, jobs) in by_plan {
        let Some(plan) =
            plans::find(conn, plan_id)?.filter(|p| p.status == domain::plan::PlanStatus::Published)
        else {
            continue;
        };
        movable.extend(
            insert::relievable(conn, &plan, &jobs, now)?
                .into_iter()
                .map(|job| (plan_id, job)),
        );
    }
    Ok(late
        .iter()
        .copied()
        .filter(|v| movable.contains(v))
        .collect())
}

/// Moves late visit `job_id` of published plan `plan_id` to a courier who can make it in
/// time, or earlier on its own route, if either keeps it and every other stop on time (see
/// the module). An error leaves everything as it was.
pub fn relieve(
    conn: &mut DbConnection,
    plan_id: PlanId,
    job_id: JobId,
    now: DateTime<Utc>,
) -> ApiResult<Outcome> {
    let Some(plan) = published_locked(conn, plan_id)? else {
        return Ok(Outcome::Skipped);
    };
    let Some(job) =
        jobs::find(conn, job_id)?.filter(|j| j.status == domain::job::JobStatus::Assigned)
    else {
        return Ok(Outcome::Skipped);
    };
    let Some((place, promised)) = insert::relief(conn, &plan, &job, now)? else {
        return Ok(Outcome::Skipped);
    };
    edit::drop_jobs(conn, &[job.id], MOVING)?;
    let Some(put) = insert::put_relief(conn, &plan, &job, promised, place)? else {
        return Err(crate::error::ApiError::Conflict(
            "the late visit's new route would break a stop".to_owned(),
        ));
    };
    tell(conn, &plan, &job, put)?;
    Ok(Outcome::Placed)
}

/// The customer hears when to expect the courier now (history, mail, webhook).
fn tell(conn: &mut DbConnection, plan: &PlanRow, job: &JobRow, put: insert::Put) -> ApiResult<()> {
    claims::visits_planned(
        conn,
        None,
        &[PlannedVisit {
            job_id: job.id,
            claim_id: job.claim_id,
            date: plan.date,
            eta: put.eta,
            windows: put.window,
        }],
    )
}
