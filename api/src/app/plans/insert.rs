//! One visit put into a day's plan without re-planning it: where the planner says the day's
//! routes can take it (`planner::insertion_points`: every other stop kept in place and on
//! time, the visits under way fixed at the head of their routes), and putting it there.
//! Used for the slots a customer books (`app::slots`) and for new visits placed into a
//! published day by themselves (`auto`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use domain::job::JobStatus;
use domain::plan::{PlanObjective, PlanStatus};
use planner::{PlanError, Problem, SolveOptions};

use super::edit;
use super::input::{couriers_on_shift, origin_of, problem_job, seconds, travel};
use super::run::objective_of;
use super::solution::{job_index, LoadedPlan};
use crate::config::DispatchSettings;
use crate::db::fleet::DepotRow;
use crate::db::jobs::{self, JobRow};
use crate::db::plans::{self, PlanRow};
use crate::db::types::JobId;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};

/// Where on a plan a visit can go: the route of `vehicle`, right after job `after` (first
/// after the visits under way if `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutePlace {
    pub vehicle: usize,
    pub after: Option<JobId>,
}

/// Where a late visit goes instead: a place on a route, or its own route put in another
/// order around it (the visits that can wait after those that cannot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relief {
    Place(RoutePlace),
    Order { vehicle: usize, order: Vec<JobId> },
}

/// The search budget of a route put in another order: a single route of a few dozen
/// visits, a fixed budget so a day gives the same answer every time.
const REORDER_ITERATIONS: u64 = 300;

/// How far behind his plan a courier may be and still take a late visit from another.
const BEHIND_PLAN_MINUTES: i64 = 10;

/// Where a late visit of a published plan can go instead, on time, with what is left of
/// its promised windows: on another courier's route whose day is not late itself (`places`
/// for those windows, its own route, every route with a late visit and every courier more
/// than `BEHIND_PLAN_MINUTES` behind his plan by the live ETAs left out), or else earlier on
/// its own route (`earlier_on_own_route`). `None` when the visit is no longer late on this
/// plan, its windows are all behind, or no place keeps it and every other stop on time.
pub fn relief(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: &JobRow,
    now: DateTime<Utc>,
) -> ApiResult<Option<(Relief, Vec<planner::TimeWindow>)>> {
    let loaded = LoadedPlan::load(conn, plan)?;
    let Some(windows) = late_windows(&loaded, job.id, now) else {
        return Ok(None);
    };
    let reading = Reading::of(conn, &loaded)?;
    let place = match relief_places(&loaded, &reading, plan, &[(job, windows.clone())], now)?
        .pop()
        .flatten()
    {
        Some(place) => Some(Relief::Place(place)),
        None => earlier_on_own_route(&loaded, &reading, job, &windows, now)?,
    };
    Ok(place.map(|place| (place, windows)))
}

/// Which of `late` (visits of published plan `plan`) `relief` would find a place for on
/// the plan as it stands, judged together on one reading of it: every candidate's own
/// route has a late visit and so no room, which is what `relief` gives it alone, so each
/// gets the answer `relief` would give it before any of them moves. Only these are worth
/// a relief under the plan's lock (which judges again on the plan as it is then).
pub fn relievable(
    conn: &mut DbConnection,
    plan: &PlanRow,
    late: &[JobId],
    now: DateTime<Utc>,
) -> ApiResult<Vec<JobId>> {
    let loaded = LoadedPlan::load(conn, plan)?;
    let rows = jobs::by_ids(conn, late)?;
    let candidates: Vec<(&JobRow, Vec<planner::TimeWindow>)> = rows
        .iter()
        .filter(|j| j.status == JobStatus::Assigned)
        .filter_map(|j| late_windows(&loaded, j.id, now).map(|w| (j, w)))
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let reading = Reading::of(conn, &loaded)?;
    let places = relief_places(&loaded, &reading, plan, &candidates, now)?;
    let mut movable = Vec::new();
    for ((job, windows), place) in candidates.iter().zip(places) {
        let place = match place {
            Some(place) => Some(Relief::Place(place)),
            None => earlier_on_own_route(&loaded, &reading, job, windows, now)?,
        };
        if place.is_some() {
            movable.push(job.id);
        }
    }
    Ok(movable)
}

/// What is left of late visit `job`'s promised windows on `loaded` (the visit cannot
/// happen in the past); `None` when it is no longer late there, is locked or reported on,
/// or no window is left.
fn late_windows(
    loaded: &LoadedPlan,
    job: JobId,
    now: DateTime<Utc>,
) -> Option<Vec<planner::TimeWindow>> {
    let still_late = loaded
        .stops
        .iter()
        .any(|s| s.job_id == Some(job) && s.delayed && !s.locked && s.outcome.is_none());
    let from = seconds(loaded.origin, now);
    let id = job.to_string();
    let windows: Vec<planner::TimeWindow> = loaded
        .problem
        .jobs
        .iter()
        .find(|j| j.id == id)
        .map(|j| j.time_windows.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|w| w.end > from)
        .map(|w| planner::TimeWindow::new(w.start.max(from), w.end))
        .collect();
    (still_late && !windows.is_empty()).then_some(windows)
}

/// For each late visit with its windows left, where on another courier's spare route it
/// can go (see `relief`), each judged independently of the others.
fn relief_places(
    loaded: &LoadedPlan,
    reading: &Reading,
    plan: &PlanRow,
    candidates: &[(&JobRow, Vec<planner::TimeWindow>)],
    now: DateTime<Utc>,
) -> ApiResult<Vec<Option<RoutePlace>>> {
    let placing: Vec<JobId> = candidates.iter().map(|(j, _)| j.id).collect();
    let mut day = ahead_of(loaded, reading, &placing, now, plan.objective, true);
    let first = day.problem.jobs.len();
    for (i, (job, windows)) in candidates.iter().enumerate() {
        let mut candidate = problem_job(job, windows.clone());
        candidate.id = format!("candidate-{i}");
        day.problem.jobs.push(candidate);
    }
    day.insertion_places(first)
}

/// Where late visit `job` can go instead on its own route, earlier, on time with what is
/// left of its promised `windows` and with every other stop of that route on time too: the
/// reliefs' last resort, when no other courier can take it (a visit with a window closing
/// soon stuck behind visits that can wait). Judged by the live ETAs, not the plan: the
/// courier goes on from his last reported stop, free when its estimate says (not before
/// `now`), and every stop he has not reported on is still his to drive, however far behind
/// the plan he is. The cheapest such place; when no one move is enough (the visit would
/// make another urgent one late), the route's visits ahead in the order a one-route search
/// finds with every window kept. `None` when there is neither.
fn earlier_on_own_route(
    loaded: &LoadedPlan,
    reading: &Reading,
    job: &JobRow,
    windows: &[planner::TimeWindow],
    now: DateTime<Utc>,
) -> ApiResult<Option<Relief>> {
    let Some(route) = loaded
        .stops
        .iter()
        .find(|s| s.job_id == Some(job.id))
        .and_then(|s| s.route_id)
        .and_then(|id| loaded.routes.iter().find(|r| r.id == id))
    else {
        return Ok(None);
    };
    let Ok(vehicle) = usize::try_from(route.vehicle) else {
        return Ok(None);
    };
    let Reading { index, status } = reading;
    let stops: Vec<&plans::StopRow> = loaded.stops_of(route.id).collect();
    let ids: Vec<JobId> = stops.iter().filter_map(|s| s.job_id).collect();
    let cut = stops
        .iter()
        .rposition(|stop| reading.reported(stop))
        .map_or(0, |i| i + 1);
    let (behind, ahead) = stops.split_at(cut);

    // The route alone, its jobs numbered in its order (`routed[k]` is job k's index in the
    // plan's problem): a move is judged in time of the route, not of the day.
    let routed: Vec<usize> = ids.iter().filter_map(|id| index.get(id).copied()).collect();
    let local: HashMap<JobId, usize> = ids
        .iter()
        .filter(|id| index.contains_key(id))
        .enumerate()
        .map(|(k, id)| (*id, k))
        .collect();
    let Some(&late) = local.get(&job.id) else {
        return Ok(None);
    };
    let last_behind = behind.iter().rev().find_map(|s| s.job_id);
    // Timed from the depot as planned, and from the last stop reported on as it runs.
    let (Some(mut planned), Some(mut live)) = (
        route_only(&loaded.problem, vehicle, &routed, None),
        route_only(
            &loaded.problem,
            vehicle,
            &routed,
            last_behind.and_then(|id| index.get(&id).copied()),
        ),
    ) else {
        return Ok(None);
    };
    for route in [&mut planned, &mut live] {
        route.jobs[late].time_windows = windows.to_vec();
    }
    // A stop the dispatcher locked keeps its place among the others: no new order then.
    let may_reorder = !ahead.iter().any(|s| s.locked);
    let ahead: Vec<usize> = ahead
        .iter()
        .filter_map(|s| s.job_id)
        .filter(|id| status.get(id) == Some(&JobStatus::Assigned))
        .filter_map(|id| local.get(&id).copied())
        .collect();
    let Some(was) = ahead.iter().position(|&j| j == late) else {
        return Ok(None);
    };
    let rest: Vec<usize> = ahead.iter().copied().filter(|&j| j != late).collect();

    let v = &mut live.vehicles[0];
    // Free when the last reported stop's live estimate says: as late as its arrival runs.
    let free = behind.last().and_then(|stop| {
        let delay = stop
            .eta_at
            .zip(stop.arrival_at)
            .map_or(0, |(eta, planned)| (eta - planned).num_seconds().max(0));
        stop.departure_at
            .map(|at| seconds(loaded.origin, at.and_utc()) + delay as f64)
    });
    let from = seconds(loaded.origin, now);
    v.shift = not_before(v.shift, free.map_or(from, |free| free.max(from)));
    resume_after(v, behind, index, &loaded.problem.jobs);
    let break_window = v.break_.map(|b| b.window);

    // Judged as the route will be stored and its ETAs computed: the plan re-timed from its
    // start decides where the break goes and when it begins at the earliest (the live ETAs
    // keep both), the courier's day from now on is timed with that break.
    let behind_count = behind
        .iter()
        .filter(|s| s.job_id.is_some_and(|id| local.contains_key(&id)))
        .count();
    // `put` refuses a route that comes out of the plan's timing with more problems than it
    // had without the visit; such a place is no place.
    let without: Vec<usize> = (0..routed.len()).filter(|&k| k != late).collect();
    let problems_before = planner::retime(&planned, 0, &without)
        .map_err(insertion_error)?
        .violations
        .len();
    // The visits ahead alone, for a search of their order from where the courier is.
    let ahead_only = route_only(&live, 0, &ahead, None);
    // The distance of the route run as `whole` (its jobs, the `sequence` ahead among them)
    // when every customer's window is kept that way, `None` otherwise.
    let mut judge = |whole: &[usize], sequence: &[usize]| -> ApiResult<Option<f64>> {
        let stored = planner::retime(&planned, 0, whole).map_err(insertion_error)?;
        if stored.violations.len() > problems_before {
            return Ok(None);
        }
        let mut stops: Vec<Option<usize>> = Vec::new();
        let mut behind_passed = behind_count == 0;
        let mut seen = 0;
        if let (Some(b), Some(w)) = (live.vehicles[0].break_.as_mut(), break_window) {
            b.window = w;
        }
        for stop in &stored.route.stops {
            match stop.job {
                Some(k) if sequence.contains(&k) => stops.push(Some(k)),
                Some(_) => {
                    seen += 1;
                    behind_passed |= seen >= behind_count;
                }
                // A break the plan puts before a reported visit is taken.
                None if behind_passed => {
                    if let (Some(b), Some(w)) = (live.vehicles[0].break_.as_mut(), break_window) {
                        b.window = planner::TimeWindow::new(
                            stop.start.max(w.start),
                            w.end.max(stop.start),
                        );
                        stops.push(None);
                    }
                }
                None => {}
            }
        }
        let timed = planner::retime_stops(&live, 0, &stops).map_err(insertion_error)?;
        // Only a customer's window counts: a break taken late keeps every promise.
        let fits = timed
            .violations
            .iter()
            .all(|v| matches!(v.kind, planner::ViolationKind::BreakMissed { .. }));
        Ok(fits.then_some(timed.route.distance))
    };

    let last_behind_local = last_behind.and_then(|id| local.get(&id).copied());
    let mut best: Option<(f64, usize)> = None;
    for at in 0..was {
        // Where `put` places it: after the visit before it, or first after those behind.
        let after = at.checked_sub(1).map(|i| rest[i]).or(last_behind_local);
        let whole = edit::sequence_with(&without, late, after);
        let mut sequence = rest.clone();
        sequence.insert(at, late);
        if let Some(distance) = judge(&whole, &sequence)? {
            if best.is_none_or(|(cost, _)| distance < cost) {
                best = Some((distance, at));
            }
        }
    }
    if let Some((_, at)) = best {
        return Ok(Some(Relief::Place(RoutePlace {
            vehicle,
            after: match at.checked_sub(1) {
                Some(i) => job_id_of(&planned, rest[i]),
                None => last_behind,
            },
        })));
    }

    // No one move: the order a search of the route ahead finds with every window kept.
    let Some(ahead_only) = ahead_only.filter(|_| may_reorder) else {
        return Ok(None);
    };
    let options = SolveOptions {
        iterations: Some(REORDER_ITERATIONS),
        threads: 1,
        ..SolveOptions::default()
    };
    let found = planner::solve(&ahead_only, &options).map_err(insertion_error)?;
    let order: Vec<usize> = found
        .routes
        .first()
        .map(|r| {
            r.stops
                .iter()
                .filter_map(|s| s.job)
                .map(|k| ahead[k])
                .collect()
        })
        .unwrap_or_default();
    if !found.unassigned.is_empty() || order.len() != ahead.len() {
        return Ok(None);
    }
    // Behind the courier as it was, then the new order, then what is ahead but not his to
    // drive (not assigned), as it was.
    let mut whole: Vec<usize> = without[..behind_count.min(without.len())].to_vec();
    whole.extend(&order);
    whole.extend(
        without
            .iter()
            .skip(behind_count)
            .filter(|k| !order.contains(k)),
    );
    if judge(&whole, &order)?.is_none() {
        return Ok(None);
    }
    Ok(Some(Relief::Order {
        vehicle,
        order: whole
            .iter()
            .filter_map(|&k| job_id_of(&planned, k))
            .collect(),
    }))
}

/// Vehicle `vehicle`'s route of `problem` alone: its `jobs` (indices of `problem`, now
/// numbered in that order) and the vehicle, starting at job `start_at`'s place when given.
/// On road matrices the rows and columns are those of the same points. `None` for a problem
/// with shipments (a route of the product has none).
fn route_only(
    problem: &Problem,
    vehicle: usize,
    jobs: &[usize],
    start_at: Option<usize>,
) -> Option<Problem> {
    if !problem.shipments.is_empty() {
        return None;
    }
    let mut v = problem.vehicles.get(vehicle)?.clone();
    v.fixed_jobs.clear();
    if let Some(at) = start_at {
        v.start = problem.jobs.get(at)?.location;
    }
    let travel = match &problem.travel {
        planner::TravelSpec::Matrix {
            distances,
            durations,
        } => {
            // Points: tasks first, then each vehicle's start and end.
            let tasks = problem.task_count();
            let start = start_at.unwrap_or(tasks + 2 * vehicle);
            let points: Vec<usize> = jobs
                .iter()
                .copied()
                .chain([start, tasks + 2 * vehicle + 1])
                .collect();
            let pick = |m: &Vec<Vec<f64>>| -> Option<Vec<Vec<f64>>> {
                points
                    .iter()
                    .map(|&r| points.iter().map(|&c| m.get(r)?.get(c).copied()).collect())
                    .collect()
            };
            planner::TravelSpec::Matrix {
                distances: pick(distances)?,
                durations: pick(durations)?,
            }
        }
        other => other.clone(),
    };
    Some(Problem {
        jobs: jobs
            .iter()
            .map(|&j| problem.jobs.get(j).cloned())
            .collect::<Option<_>>()?,
        shipments: Vec::new(),
        vehicles: vec![v],
        travel,
    })
}

/// The job id of problem job `index`.
fn job_id_of(problem: &Problem, index: usize) -> Option<JobId> {
    problem
        .jobs
        .get(index)
        .and_then(|j| j.id.parse().ok().map(JobId))
}

fn insertion_error(e: PlanError) -> ApiError {
    match e {
        PlanError::Travel(why) => ApiError::Unavailable(format!("road travel times: {why}")),
        PlanError::Invalid(why) => ApiError::Internal(anyhow::anyhow!("insertion: {why}")),
    }
}

/// For each window list of `candidates`, where the day could take `job` visited within it:
/// on `plan`'s routes, or (without a plan) on the empty routes of the couriers on shift on
/// `date` from `depot`. Nothing goes before `now`: each route is judged from where its
/// courier stands at `now` by the plan (or by his reports, when he is ahead of it).
#[allow(clippy::too_many_arguments)]
pub fn places(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    job: &JobRow,
    depot: &DepotRow,
    date: NaiveDate,
    plan: Option<&PlanRow>,
    candidates: &[Vec<planner::TimeWindow>],
    now: DateTime<Utc>,
) -> ApiResult<Vec<Option<RoutePlace>>> {
    let mut day = match plan {
        Some(plan) => {
            let loaded = LoadedPlan::load(conn, plan)?;
            let reading = Reading::of(conn, &loaded)?;
            ahead_of(&loaded, &reading, &[job.id], now, plan.objective, false)
        }
        None => {
            let objective = PlanObjective::default();
            let (mut vehicles, _) =
                couriers_on_shift(conn, date, Some(depot.id), objective, settings)?;
            let from = seconds(origin_of(date), now);
            for vehicle in &mut vehicles {
                vehicle.shift = not_before(vehicle.shift, from);
            }
            Ahead {
                problem: Problem {
                    jobs: Vec::new(),
                    shipments: Vec::new(),
                    vehicles,
                    travel: travel(settings),
                },
                routes: Vec::new(),
                ids: Vec::new(),
                last_behind: HashMap::new(),
                objective,
            }
        }
    };
    if day.problem.vehicles.is_empty() {
        return Ok(vec![None; candidates.len()]);
    }
    let first = day.problem.jobs.len();
    for (i, windows) in candidates.iter().enumerate() {
        let mut candidate = problem_job(job, windows.clone());
        candidate.id = format!("candidate-{i}");
        day.problem.jobs.push(candidate);
    }
    day.insertion_places(first)
}

/// A visit put on a plan's route.
#[derive(Debug, Clone, Copy)]
pub struct Put {
    /// The planned arrival, on a published plan.
    pub eta: Option<DateTime<Utc>>,
    /// The window of the visit that holds it.
    pub window: Option<crate::db::types::TimeWindow>,
}

/// Puts `job`, visited within `windows` (seconds from the plan's origin), on `plan` at
/// `place`; on a published plan the job becomes its courier's. `None`, with nothing
/// written, when the route would come out with more problems than it has (a route edited
/// beyond what the planner would build).
pub fn put(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: &JobRow,
    windows: Vec<planner::TimeWindow>,
    place: RoutePlace,
) -> ApiResult<Option<Put>> {
    put_relief(conn, plan, job, windows, Relief::Place(place))
}

/// Like `put`, where `relief` says: a place, or the visit's route in a new `order`.
pub fn put_relief(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: &JobRow,
    windows: Vec<planner::TimeWindow>,
    relief: Relief,
) -> ApiResult<Option<Put>> {
    let problem_job = problem_job(job, windows);
    let worse = match relief {
        Relief::Place(place) => {
            edit::place_job(conn, plan, problem_job.clone(), place.vehicle, place.after)?
        }
        Relief::Order { vehicle, order } => {
            edit::place_in_order(conn, plan, problem_job.clone(), vehicle, &order)?
        }
    };
    if worse {
        return Ok(None);
    }
    put_done(conn, plan, job, &problem_job).map(Some)
}

/// What follows a visit put on `plan`: on a published plan it becomes its courier's, with
/// the planned arrival and the window that holds it.
fn put_done(
    conn: &mut DbConnection,
    plan: &PlanRow,
    job: &JobRow,
    problem_job: &planner::Job,
) -> ApiResult<Put> {
    if plan.status != PlanStatus::Published {
        return Ok(Put {
            eta: None,
            window: None,
        });
    }
    let placed = plans::stops(conn, plan.id)?
        .into_iter()
        .find(|s| s.job_id == Some(job.id));
    let courier = match placed.as_ref().and_then(|s| s.route_id) {
        Some(route) => plans::route(conn, route)?.map(|r| r.courier_id),
        None => None,
    };
    if let Some(courier) = courier {
        jobs::assign(conn, &[job.id], courier, plan.id)?;
    }
    let start = placed.as_ref().and_then(|s| s.start_at);
    let origin = plan
        .origin
        .map_or_else(|| origin_of(plan.date), |o| o.and_utc());
    let window = start.and_then(|t| {
        let at = seconds(origin, t.and_utc());
        problem_job
            .time_windows
            .iter()
            .find(|w| w.start <= at + 1e-6 && at <= w.end + 1e-6)
            .map(|w| crate::db::types::TimeWindow {
                start: super::input::instant(origin, w.start),
                end: super::input::instant(origin, w.end),
            })
    });
    Ok(Put {
        eta: placed.and_then(|s| s.arrival_at).map(|t| t.and_utc()),
        window,
    })
}

/// A plan's day from `now` on, as the planner's problem and given routes: each route
/// without the stops behind its courier (those planned to be over by `now`, and every one
/// up to his last report), starting where the last of them is, when it is left (not
/// before `now`), with the room the units picked up there take, and without its break if
/// that is behind too.
struct Ahead {
    problem: Problem,
    routes: Vec<(usize, Vec<usize>)>,
    /// Per problem job index, its job id.
    ids: Vec<Option<JobId>>,
    /// Per vehicle, the last job behind its courier (a new visit goes after it).
    last_behind: HashMap<usize, JobId>,
    objective: PlanObjective,
}

impl Ahead {
    /// Where the day can take each of its jobs from index `first` on, each judged alone.
    fn insertion_places(&self, first: usize) -> ApiResult<Vec<Option<RoutePlace>>> {
        let indices: Vec<usize> = (first..self.problem.jobs.len()).collect();
        let options = SolveOptions {
            objective: objective_of(self.objective),
            ..SolveOptions::default()
        };
        let points = planner::insertion_points(&self.problem, &self.routes, &indices, &options)
            .map_err(insertion_error)?;
        Ok(points
            .into_iter()
            .map(|point| {
                point.map(|p| RoutePlace {
                    vehicle: p.vehicle,
                    after: p
                        .after
                        .and_then(|j| self.ids.get(j).copied().flatten())
                        .or_else(|| self.last_behind.get(&p.vehicle).copied()),
                })
            })
            .collect())
    }
}

/// `placing`: the visits being placed, taken off their routes. With `spare_only`, their
/// routes and those with a late visit get no room (their couriers are behind already).
fn ahead_of(
    loaded: &LoadedPlan,
    reading: &Reading,
    placing: &[JobId],
    now: DateTime<Utc>,
    objective: PlanObjective,
    spare_only: bool,
) -> Ahead {
    let index = &reading.index;
    let mut ids: Vec<Option<JobId>> = vec![None; loaded.problem.jobs.len()];
    for (id, &i) in index {
        ids[i] = Some(*id);
    }
    let placing: HashSet<JobId> = placing.iter().copied().collect();
    let mut stops_of: HashMap<i64, Vec<&plans::StopRow>> = HashMap::new();
    for stop in &loaded.stops {
        if let Some(route) = stop.route_id {
            stops_of.entry(route).or_default().push(stop);
        }
    }
    let mut problem = loaded.problem.clone();
    let now_secs = seconds(loaded.origin, now);
    let mut routes = Vec::new();
    let mut last_behind = HashMap::new();
    for route in &loaded.routes {
        let Ok(vehicle) = usize::try_from(route.vehicle) else {
            continue;
        };
        let stops = stops_of.remove(&route.id).unwrap_or_default();
        // Behind the courier: up to the last stop reported on or planned over by now.
        let cut = stops
            .iter()
            .rposition(|stop| {
                let over = stop
                    .departure_at
                    .is_some_and(|t| seconds(loaded.origin, t.and_utc()) <= now_secs);
                reading.reported(stop) || over
            })
            .map_or(0, |i| i + 1);
        let (behind, ahead) = stops.split_at(cut);
        let mut sequence = Vec::new();
        for id in ahead.iter().filter_map(|s| s.job_id) {
            if let Some(&i) = index.get(&id).filter(|_| !placing.contains(&id)) {
                sequence.push(i);
            }
        }
        let Some(v) = problem.vehicles.get_mut(vehicle) else {
            continue;
        };
        v.fixed_jobs.clear();
        v.shift = not_before(v.shift, now_secs);
        if let Some(at) = behind.last().and_then(|last| last.departure_at) {
            v.shift = not_before(v.shift, seconds(loaded.origin, at.and_utc()));
        }
        if let Some(id) = resume_after(v, behind, index, &loaded.problem.jobs) {
            last_behind.insert(vehicle, id);
        }
        // A courier running behind his plan has no spare time, whatever the plan says.
        let behind_plan = |s: &&plans::StopRow| {
            s.outcome.is_none()
                && s.eta_at.zip(s.arrival_at).is_some_and(|(eta, planned)| {
                    eta - planned > chrono::Duration::minutes(BEHIND_PLAN_MINUTES)
                })
        };
        let behind_already = stops.iter().any(|s| {
            s.job_id.is_some_and(|id| placing.contains(&id))
                || (s.delayed && s.outcome.is_none())
                || behind_plan(s)
        });
        if spare_only && behind_already {
            v.shift.end = v.shift.start;
        }
        routes.push((vehicle, sequence));
    }
    Ahead {
        problem,
        routes,
        ids,
        last_behind,
        objective,
    }
}

/// What a plan's day needs beyond its rows to judge a move: each routed job's place in the
/// plan's problem and its status. Read once and shared by every visit judged on the plan.
struct Reading {
    index: HashMap<JobId, usize>,
    status: HashMap<JobId, JobStatus>,
}

impl Reading {
    fn of(conn: &mut DbConnection, loaded: &LoadedPlan) -> ApiResult<Self> {
        let routed: Vec<JobId> = loaded.stops.iter().filter_map(|s| s.job_id).collect();
        let status = jobs::states(conn, &routed)?
            .into_iter()
            .map(|s| (s.id, s.status))
            .collect();
        Ok(Self {
            index: job_index(&loaded.problem),
            status,
        })
    }

    /// Whether the courier has reported on `stop`: its outcome, or its job en route,
    /// arrived or done. Every stop up to the last such one is behind him.
    fn reported(&self, stop: &plans::StopRow) -> bool {
        stop.outcome.is_some()
            || stop
                .job_id
                .and_then(|id| self.status.get(&id))
                .is_some_and(|s| {
                    matches!(s, JobStatus::EnRoute | JobStatus::Arrived | JobStatus::Done)
                })
    }
}

/// Sets vehicle `v` to go on after the stops `behind` its courier: from where the last
/// visit of them is, without its break if that is behind too, with the room the units
/// picked up there take. The last job behind (a new visit goes after it), if any.
fn resume_after(
    v: &mut planner::Vehicle,
    behind: &[&plans::StopRow],
    index: &HashMap<JobId, usize>,
    jobs: &[planner::Job],
) -> Option<JobId> {
    let visited = || {
        behind
            .iter()
            .filter_map(|s| s.job_id.and_then(|id| index.get(&id)))
            .map(|&i| &jobs[i])
    };
    // The break was last: the courier is where the stop before it was.
    if let Some(job) = visited().next_back() {
        v.start = job.location;
    }
    if behind.iter().any(|s| s.job_id.is_none()) {
        v.break_ = None;
    }
    let picked: i32 = visited()
        .map(|j| j.pickup.first().copied().unwrap_or(0))
        .sum();
    if let Some(room) = v.capacity.first_mut() {
        *room = (*room - picked).max(0);
    }
    behind.iter().rev().find_map(|s| s.job_id)
}

/// A shift that cannot start before `from`: what is left of it, zero-long (no room) once
/// it is over, never inverted (the planner refuses a shift that ends before it starts).
fn not_before(shift: planner::TimeWindow, from: f64) -> planner::TimeWindow {
    planner::TimeWindow::new(shift.start.max(from).min(shift.end), shift.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_from_now_is_what_is_left_of_it_and_never_inverted() {
        let shift = planner::TimeWindow::new(8.0 * 3600.0, 18.0 * 3600.0);
        let at = |h: f64| not_before(shift, h * 3600.0);
        assert_eq!((at(7.0).start, at(7.0).end), (shift.start, shift.end));
        assert_eq!((at(12.0).start, at(12.0).end), (12.0 * 3600.0, shift.end));
        // Over: no room, but still a shift the planner accepts.
        assert_eq!((at(19.0).start, at(19.0).end), (shift.end, shift.end));
    }
}
