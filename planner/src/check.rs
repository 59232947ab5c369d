//! Independent solution checker: recomputes every arrival, window, load and total from the
//! problem alone and compares every figure the solution states. It shares no feasibility
//! code with the search (only the travel model).
//!
//! Conventions (the solver's, see `README.md`):
//! - A route leaves its start at its stated `start_time` (not before the shift start); each
//!   stop's arrival, service start and departure follow from it: service starts at the
//!   earliest window start at or after the arrival among the windows still open; an arrival
//!   after every window is `LateArrival` and service then starts on arrival (as `retime`
//!   does), so later figures are still compared. The break is taken where the courier is
//!   (no travel) and starts at its window start at the earliest.
//! - Loads: everything jobs deliver is on board on leaving the start; each job adds its
//!   pickup and removes its delivery; a shipment's pickup adds its amount and its delivery
//!   removes it. A stop states the load after it, one number per dimension.
//! - Tasks: a stop's `job` is a task number (`model::Task`: jobs, then each shipment's
//!   pickup and delivery). A shipment is served whole by one route, pickup first, or is
//!   unassigned by its pickup's number.
//! - Route distance: the legs start → stops → end. Duration: `end_time - start_time`
//!   (travel, waiting, service and the break). Cost: `cost_per_distance · distance +
//!   cost_per_time · travel time` (waiting, service and the break are not costed), exactly
//!   as `route.rs` costs a route. Totals are the sums over the routes; `vehicles` is the
//!   number of routes, each of which must serve a job.
//!
//! Tolerance: relative 1e-6 (0.04 s at 40,000 s), at least 2e-3 absolute, so that times
//! rounded to the millisecond by a consumer still pass however close they are to the time
//! origin (a stated time and the route start it is recomputed from are each off by up to
//! half a millisecond).

use crate::model::{Problem, Solution, StepKind, Task, UnassignedReason};
use crate::travel::{self, Travel};
use std::collections::HashMap;

const TOL: f64 = 1e-6;
/// The absolute floor of the tolerance: two millisecond roundings with room to spare.
const ABS_TOL: f64 = 2e-3;

/// Which rule a violation breaks (the machine-readable part of a `Violation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckRule {
    /// The problem itself is invalid (nothing else is checked).
    InvalidProblem,
    /// A route names a vehicle index the problem does not have.
    UnknownVehicle,
    /// Two routes on one vehicle.
    VehicleTwice,
    /// A route that serves no job (solutions list only vehicles that serve one).
    EmptyRoute,
    /// A stop or an unassigned entry names a task the problem does not have (or a
    /// shipment's delivery in the unassigned list, where its pickup stands for it).
    UnknownJob,
    /// A shipment's steps are not both on one route (or one is served, the other not).
    ShipmentSplit,
    /// A shipment delivered before it is picked up.
    DeliveryBeforePickup,
    /// A stated `vehicle_id` or `job_id` is not the id of the index beside it.
    WrongId,
    /// A job on routes and in the unassigned list more than once in all.
    JobTwice,
    /// A job neither on a route nor unassigned.
    JobMissing,
    /// An unassigned reason that claims an impossibility which is not true.
    WrongUnassignedReason,
    /// A job needs a skill the vehicle lacks.
    MissingSkill,
    /// Load above capacity in dimension `dim` (on leaving the start, or after a stop).
    OverCapacity {
        dim: usize,
    },
    /// The route leaves before the vehicle's shift starts.
    ShiftStart,
    /// Back at the end after the shift end.
    ShiftOverrun,
    /// The route lasts longer than the vehicle's `max_duration`.
    MaxDuration,
    /// More tasks on the route than the vehicle's `max_tasks`.
    MaxTasks,
    /// Arrival after the end of every window of the job.
    LateArrival,
    /// A vehicle with a break serves jobs without taking it.
    BreakMissing,
    /// More than one break on a route.
    BreakTwice,
    /// The break starts after its window.
    BreakOutsideWindow,
    /// A break on a vehicle that has none.
    UnexpectedBreak,
    /// The vehicle's fixed jobs on its route are not its first jobs, in their order.
    FixedPrefix,
    /// A job fixed on another vehicle.
    FixedOnOtherVehicle,
    WrongArrival,
    WrongStart,
    WrongDeparture,
    /// A stated load (right number of dimensions) differs from the recomputed one.
    WrongLoad,
    /// A stated load with the wrong number of dimensions.
    LoadDimensions,
    WrongDistance,
    WrongDuration,
    WrongCost,
    WrongEndTime,
    WrongTotalDistance,
    WrongTotalDuration,
    WrongTotalCost,
    WrongVehicleCount,
}

/// One broken rule: where (route and stop indices into the solution, job index into the
/// problem, when they apply), which rule, and in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub route: Option<usize>,
    pub stop: Option<usize>,
    pub job: Option<usize>,
    pub kind: CheckRule,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.route, self.stop) {
            (Some(r), Some(k)) => write!(f, "route {r}, stop {k}: {}", self.message),
            (Some(r), None) => write!(f, "route {r}: {}", self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

/// The checker's own figures for a feasible solution.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub vehicles: usize,
    pub distance: f64,
    pub duration: f64,
    pub cost: f64,
    pub unassigned: usize,
}

/// The allowed difference between figures of magnitude `scale`.
fn slack(scale: f64) -> f64 {
    (TOL * scale.abs()).max(ABS_TOL)
}

/// `a` and `b` equal within the tolerance (false for NaN).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= slack(a.abs().max(b.abs()))
}

/// `a <= bound` within the tolerance (false for NaN).
fn le(a: f64, bound: f64) -> bool {
    a <= bound + slack(a.abs().max(bound.abs()))
}

fn dims_of(p: &Problem) -> usize {
    p.jobs
        .iter()
        .map(|j| j.delivery.len().max(j.pickup.len()))
        .chain(
            p.shipments
                .iter()
                .map(|s| s.amount.len().max(s.delivery.pickup.len())),
        )
        .chain(p.vehicles.iter().map(|v| v.capacity.len()))
        .max()
        .unwrap_or(0)
}

/// Entry `d` of a capacity vector, missing dimensions being 0.
fn at(v: &[i32], d: usize) -> i64 {
    v.get(d).copied().map_or(0, i64::from)
}

/// Collects violations with their location.
struct Out(Vec<Violation>);

impl Out {
    fn push(
        &mut self,
        route: Option<usize>,
        stop: Option<usize>,
        job: Option<usize>,
        kind: CheckRule,
        message: String,
    ) {
        self.0.push(Violation {
            route,
            stop,
            job,
            kind,
            message,
        });
    }
}

/// Checks `s` against `p`: feasibility and every stated figure. `Ok` gives the checker's
/// own totals; `Err` every violation found.
pub fn check(p: &Problem, s: &Solution) -> Result<CheckReport, Vec<Violation>> {
    let invalid = |message: String| {
        vec![Violation {
            route: None,
            stop: None,
            job: None,
            kind: CheckRule::InvalidProblem,
            message,
        }]
    };
    if let Err(e) = crate::validate(p) {
        return Err(invalid(e));
    }
    let tr = match travel::model(p) {
        Ok((t, _)) => t,
        Err(e) => return Err(invalid(e.to_string())),
    };
    let n = p.task_count();
    let dims = dims_of(p);
    let mut out = Out(Vec::new());
    let index: HashMap<&str, usize> = p
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id.as_str(), i))
        .collect();
    // The vehicle each job is fixed on (a job fixed twice: the first).
    let mut fixed_on: Vec<Option<usize>> = vec![None; n];
    for (v, veh) in p.vehicles.iter().enumerate() {
        for id in &veh.fixed_jobs {
            if let Some(&j) = index.get(id.as_str()) {
                fixed_on[j].get_or_insert(v);
            }
        }
    }
    let mut seen = vec![0u32; n];
    // Where each task is served: (route, stop).
    let mut served_at: Vec<Option<(usize, usize)>> = vec![None; n];
    let mut used = vec![false; p.vehicles.len()];
    let (mut tot_dist, mut tot_dur, mut tot_cost) = (0.0, 0.0, 0.0);
    // Magnitude of the times the total duration is made of, for its tolerance.
    let mut dur_scale = 0.0;
    for (ri, route) in s.routes.iter().enumerate() {
        let r = Some(ri);
        for st in &route.stops {
            if let Some(j) = st.job.filter(|&j| j < n) {
                seen[j] += 1;
            }
        }
        let Some(veh) = p.vehicles.get(route.vehicle) else {
            out.push(
                r,
                None,
                None,
                CheckRule::UnknownVehicle,
                format!("unknown vehicle index {}", route.vehicle),
            );
            continue;
        };
        let v = route.vehicle;
        if route.vehicle_id != veh.id {
            out.push(
                r,
                None,
                None,
                CheckRule::WrongId,
                format!(
                    "states vehicle id {:?} for vehicle {v} ({})",
                    route.vehicle_id, veh.id
                ),
            );
        }
        if std::mem::replace(&mut used[v], true) {
            out.push(
                r,
                None,
                None,
                CheckRule::VehicleTwice,
                format!("vehicle {} has a route already", veh.id),
            );
        }
        let jobs_on: Vec<usize> = route
            .stops
            .iter()
            .filter_map(|st| st.job)
            .filter(|&j| j < n)
            .collect();
        if jobs_on.is_empty() {
            out.push(
                r,
                None,
                None,
                CheckRule::EmptyRoute,
                format!("vehicle {} serves no job", veh.id),
            );
        }
        let t0 = route.start_time;
        if !le(veh.shift.start, t0) {
            out.push(
                r,
                None,
                None,
                CheckRule::ShiftStart,
                format!(
                    "leaves at {t0}, before the shift starts at {}",
                    veh.shift.start
                ),
            );
        }
        let cap: Vec<i64> = (0..dims).map(|d| at(&veh.capacity, d)).collect();
        let tasks_on: Vec<Task> = jobs_on.iter().filter_map(|&j| p.task(j)).collect();
        let mut load: Vec<i64> = (0..dims)
            .map(|d| tasks_on.iter().map(|t| t.initial(d)).sum())
            .collect();
        for d in 0..dims {
            if load[d] > cap[d] {
                out.push(
                    r,
                    None,
                    None,
                    CheckRule::OverCapacity { dim: d },
                    format!(
                        "leaves with load {} > capacity {} in dimension {d}",
                        load[d], cap[d]
                    ),
                );
            }
        }
        let mut t = t0;
        let mut here = n + 2 * v;
        let (mut dist, mut ttime) = (0.0, 0.0);
        let mut breaks = 0;
        for (k, stop) in route.stops.iter().enumerate() {
            let at_stop = Some(k);
            let (arrival, start);
            match stop.job {
                Some(j) if j < n => {
                    let Some(job) = p.task(j) else { continue };
                    let id = job.id();
                    let on_job = Some(j);
                    served_at[j].get_or_insert((ri, k));
                    if stop.job_id.as_deref() != Some(&*id) {
                        out.push(
                            r,
                            at_stop,
                            on_job,
                            CheckRule::WrongId,
                            format!("states job id {:?} for job {j} ({id})", stop.job_id),
                        );
                    }
                    if let Some(f) = fixed_on[j].filter(|&f| f != v) {
                        out.push(
                            r,
                            at_stop,
                            on_job,
                            CheckRule::FixedOnOtherVehicle,
                            format!("job {id} is fixed on vehicle {}", p.vehicles[f].id),
                        );
                    }
                    let missing: Vec<&str> = job
                        .skills()
                        .iter()
                        .filter(|s| !veh.skills.contains(s))
                        .map(String::as_str)
                        .collect();
                    if !missing.is_empty() {
                        out.push(
                            r,
                            at_stop,
                            on_job,
                            CheckRule::MissingSkill,
                            format!("job {id} needs skills {missing:?} vehicle {} lacks", veh.id),
                        );
                    }
                    dist += tr.distance(here, j);
                    let tt = tr.duration(here, j);
                    ttime += tt;
                    arrival = t + tt;
                    let open = job
                        .time_windows()
                        .iter()
                        .filter(|w| le(arrival, w.end))
                        .map(|w| arrival.max(w.start))
                        .reduce(f64::min);
                    start = match open {
                        Some(s) => s,
                        None if job.time_windows().is_empty() => arrival,
                        None => {
                            out.push(
                                r,
                                at_stop,
                                on_job,
                                CheckRule::LateArrival,
                                format!("job {id}: arrival {arrival} after every window"),
                            );
                            arrival
                        }
                    };
                    t = start + job.service();
                    here = j;
                    for d in 0..dims {
                        load[d] += job.change(d);
                        if load[d] > cap[d] {
                            out.push(
                                r,
                                at_stop,
                                on_job,
                                CheckRule::OverCapacity { dim: d },
                                format!(
                                    "load {} > capacity {} in dimension {d} after job {id}",
                                    load[d], cap[d]
                                ),
                            );
                        }
                    }
                }
                Some(j) => {
                    out.push(
                        r,
                        at_stop,
                        None,
                        CheckRule::UnknownJob,
                        format!("unknown job index {j}"),
                    );
                    continue;
                }
                None => {
                    breaks += 1;
                    if stop.job_id.is_some() {
                        out.push(
                            r,
                            at_stop,
                            None,
                            CheckRule::WrongId,
                            format!("a break states job id {:?}", stop.job_id),
                        );
                    }
                    let Some(b) = veh.break_ else {
                        out.push(
                            r,
                            at_stop,
                            None,
                            CheckRule::UnexpectedBreak,
                            format!("a break on vehicle {}, which has none", veh.id),
                        );
                        continue;
                    };
                    arrival = t;
                    start = arrival.max(b.window.start);
                    if !le(start, b.window.end) {
                        out.push(
                            r,
                            at_stop,
                            None,
                            CheckRule::BreakOutsideWindow,
                            format!(
                                "break starts at {start}, after its window ends at {}",
                                b.window.end
                            ),
                        );
                    }
                    t = start + b.duration;
                }
            }
            let on_job = stop.job;
            for (rule, what, stated, computed) in [
                (CheckRule::WrongArrival, "arrival", stop.arrival, arrival),
                (CheckRule::WrongStart, "start", stop.start, start),
                (CheckRule::WrongDeparture, "departure", stop.departure, t),
            ] {
                if !close(stated, computed) {
                    out.push(
                        r,
                        at_stop,
                        on_job,
                        rule,
                        format!("states {what} {stated} but it is {computed}"),
                    );
                }
            }
            if stop.load.len() != dims {
                out.push(
                    r,
                    at_stop,
                    on_job,
                    CheckRule::LoadDimensions,
                    format!(
                        "states a load of {} dimensions, the problem has {dims}",
                        stop.load.len()
                    ),
                );
            } else if stop
                .load
                .iter()
                .zip(&load)
                .any(|(&a, &b)| i64::from(a) != b)
            {
                out.push(
                    r,
                    at_stop,
                    on_job,
                    CheckRule::WrongLoad,
                    format!("states load {:?} but it is {load:?}", stop.load),
                );
            }
        }
        let end = n + 2 * v + 1;
        dist += tr.distance(here, end);
        let tt = tr.duration(here, end);
        ttime += tt;
        t += tt;
        let duration = t - t0;
        let cost = veh.cost_per_distance * dist + veh.cost_per_time * ttime;
        if !le(t, veh.shift.end) {
            out.push(
                r,
                None,
                None,
                CheckRule::ShiftOverrun,
                format!("back at {t}, after the shift ends at {}", veh.shift.end),
            );
        }
        if let Some(md) = veh.max_duration {
            // The tolerance of the times the duration is the difference of.
            if duration > md + slack(t.abs().max(t0.abs())) {
                out.push(
                    r,
                    None,
                    None,
                    CheckRule::MaxDuration,
                    format!("lasts {duration}, more than the maximum {md}"),
                );
            }
        }
        if let Some(m) = veh.max_tasks.filter(|&m| jobs_on.len() > m) {
            out.push(
                r,
                None,
                None,
                CheckRule::MaxTasks,
                format!("serves {} tasks, more than the maximum {m}", jobs_on.len()),
            );
        }
        if breaks > 1 {
            out.push(
                r,
                None,
                None,
                CheckRule::BreakTwice,
                format!("{breaks} breaks"),
            );
        } else if breaks == 0 && veh.break_.is_some() && !jobs_on.is_empty() {
            out.push(
                r,
                None,
                None,
                CheckRule::BreakMissing,
                format!("vehicle {} serves jobs without its break", veh.id),
            );
        }
        let ids: Vec<String> = tasks_on.iter().map(|t| t.id().into_owned()).collect();
        let fixed_here: Vec<&str> = veh
            .fixed_jobs
            .iter()
            .map(String::as_str)
            .filter(|id| ids.iter().any(|x| x == id))
            .collect();
        if !ids.iter().zip(&fixed_here).all(|(a, b)| a == b) || ids.len() < fixed_here.len() {
            out.push(
                r,
                None,
                None,
                CheckRule::FixedPrefix,
                format!("fixed jobs {fixed_here:?} are not the first jobs of {ids:?}, in order"),
            );
        }
        let scale = t.abs().max(t0.abs());
        for (rule, what, stated, computed, ok) in [
            (
                CheckRule::WrongDistance,
                "distance",
                route.distance,
                dist,
                close(route.distance, dist),
            ),
            (
                CheckRule::WrongDuration,
                "duration",
                route.duration,
                duration,
                (route.duration - duration).abs() <= slack(scale),
            ),
            (
                CheckRule::WrongCost,
                "cost",
                route.cost,
                cost,
                close(route.cost, cost),
            ),
            (
                CheckRule::WrongEndTime,
                "end time",
                route.end_time,
                t,
                close(route.end_time, t),
            ),
        ] {
            if !ok {
                out.push(
                    r,
                    None,
                    None,
                    rule,
                    format!("states {what} {stated} but it is {computed}"),
                );
            }
        }
        tot_dist += dist;
        tot_dur += duration;
        tot_cost += cost;
        dur_scale += scale.max(1.0);
    }
    for u in &s.unassigned {
        // A shipment is unassigned by its pickup, which stands for both steps.
        let (job, delivery) = match p.task(u.job) {
            Some(t @ Task::Job(_)) => (t, None),
            Some(t @ Task::Step(_, StepKind::Pickup)) => (t, Some(u.job + 1)),
            _ => {
                out.push(
                    None,
                    None,
                    None,
                    CheckRule::UnknownJob,
                    format!("unknown unassigned job index {}", u.job),
                );
                continue;
            }
        };
        seen[u.job] += 1;
        if let Some(d) = delivery {
            seen[d] += 1;
        }
        let j = Some(u.job);
        let id = match job {
            Task::Step(sh, _) => sh.id.clone(),
            Task::Job(jb) => jb.id.clone(),
        };
        if u.job_id != id {
            out.push(
                None,
                None,
                j,
                CheckRule::WrongId,
                format!(
                    "states job id {:?} for unassigned job {} ({id})",
                    u.job_id, u.job
                ),
            );
        }
        if !reason_holds(p, tr.as_ref(), u.job, fixed_on[u.job].is_some(), u.reason) {
            out.push(
                None,
                None,
                j,
                CheckRule::WrongUnassignedReason,
                format!("job {id}: the reason {:?} is not true", u.reason),
            );
        }
    }
    for (si, sh) in p.shipments.iter().enumerate() {
        let (pk, dl) = (
            p.step_task(si, StepKind::Pickup),
            p.step_task(si, StepKind::Delivery),
        );
        match (served_at[pk], served_at[dl]) {
            (Some((ra, ka)), Some((rb, kb))) if ra == rb => {
                if kb < ka {
                    out.push(
                        Some(ra),
                        Some(kb),
                        Some(dl),
                        CheckRule::DeliveryBeforePickup,
                        format!("shipment {} is delivered before it is picked up", sh.id),
                    );
                }
            }
            (None, None) => {}
            (a, b) => out.push(
                a.or(b).map(|x| x.0),
                None,
                Some(pk),
                CheckRule::ShipmentSplit,
                format!(
                    "shipment {}: pickup on route {:?}, delivery on route {:?}",
                    sh.id,
                    a.map(|x| x.0),
                    b.map(|x| x.0)
                ),
            ),
        }
    }
    for (j, &c) in seen.iter().enumerate() {
        if c == 0 {
            out.push(
                None,
                None,
                Some(j),
                CheckRule::JobMissing,
                format!("job {} is neither served nor unassigned", task_id(p, j)),
            );
        } else if c > 1 {
            out.push(
                None,
                None,
                Some(j),
                CheckRule::JobTwice,
                format!(
                    "job {} appears {c} times (routes and unassigned)",
                    task_id(p, j)
                ),
            );
        }
    }
    let routes = s.routes.len();
    for (rule, what, stated, computed, ok) in [
        (
            CheckRule::WrongTotalDistance,
            "total distance",
            s.distance,
            tot_dist,
            close(s.distance, tot_dist),
        ),
        (
            CheckRule::WrongTotalDuration,
            "total duration",
            s.duration,
            tot_dur,
            (s.duration - tot_dur).abs() <= slack(dur_scale),
        ),
        (
            CheckRule::WrongTotalCost,
            "total cost",
            s.cost,
            tot_cost,
            close(s.cost, tot_cost),
        ),
        (
            CheckRule::WrongVehicleCount,
            "vehicles",
            s.vehicles as f64,
            routes as f64,
            s.vehicles == routes,
        ),
    ] {
        if !ok {
            out.push(
                None,
                None,
                None,
                rule,
                format!("states {what} {stated} but it is {computed}"),
            );
        }
    }
    if !out.0.is_empty() {
        return Err(out.0);
    }
    Ok(CheckReport {
        vehicles: routes,
        distance: tot_dist,
        duration: tot_dur,
        cost: tot_cost,
        unassigned: s.unassigned.len(),
    })
}

fn task_id(p: &Problem, j: usize) -> String {
    p.task(j).map(|t| t.id().into_owned()).unwrap_or_default()
}

/// Whether an unassigned reason is true. `NoRoom` ("not in this plan") always is: a
/// consumer maps reasons it does not know to it. The others claim an impossibility:
/// - `Skills`: no vehicle has all the job's skills;
/// - `Capacity`: some vehicle has the skills, and each that does is too small for the
///   job's delivery or its pickup in some dimension;
/// - `TimeWindow`: some vehicle has the skills and the room, and none of those can serve
///   the job alone in time (see `fits_alone_in_time`);
/// - `Fixed`: the job is one of a vehicle's `fixed_jobs`. Whether it really could not be
///   kept depends on the fixed jobs before it and their order, which is not verified.
fn reason_holds(
    p: &Problem,
    tr: &dyn Travel,
    j: usize,
    is_fixed: bool,
    reason: UnassignedReason,
) -> bool {
    let Some(task) = p.task(j) else {
        return false;
    };
    // A job alone, or a shipment's pickup then delivery.
    let seq: Vec<usize> = match task {
        Task::Step(..) => vec![j, j + 1],
        Task::Job(_) => vec![j],
    };
    let dims = dims_of(p);
    let skilled: Vec<usize> = (0..p.vehicles.len())
        .filter(|&v| {
            task.skills()
                .iter()
                .all(|s| p.vehicles[v].skills.contains(s))
        })
        .collect();
    let roomy: Vec<usize> = skilled
        .iter()
        .copied()
        .filter(|&v| {
            let cap = &p.vehicles[v].capacity;
            (0..dims).all(|d| match task {
                Task::Job(job) => {
                    at(&job.delivery, d) <= at(cap, d) && at(&job.pickup, d) <= at(cap, d)
                }
                Task::Step(sh, _) => {
                    at(&sh.amount, d) <= at(cap, d) && at(&sh.delivery.pickup, d) <= at(cap, d)
                }
            })
        })
        .collect();
    match reason {
        UnassignedReason::NoRoom => true,
        UnassignedReason::Skills => skilled.is_empty(),
        UnassignedReason::Capacity => !skilled.is_empty() && roomy.is_empty(),
        UnassignedReason::TimeWindow => {
            !roomy.is_empty() && roomy.iter().all(|&v| !fits_alone_in_time(p, tr, &seq, v))
        }
        UnassignedReason::Fixed => is_fixed,
    }
}

/// Whether vehicle `v` can serve the tasks `seq` alone, in this order (a job, or a
/// shipment's pickup and delivery), with its break anywhere among them, within the tasks'
/// windows, the break window, the shift and the maximum duration, leaving at any time from
/// its shift start on, with twice the tolerance to spare on every upper bound: a borderline
/// case counts as impossible, so that only a clearly wrong claim is reported.
///
/// Exact: every time of the schedule is non-decreasing in the departure `d`, so the bounds
/// on them (window ends, break window end, shift end) leave an interval of departures; the
/// duration `end(d) - d` does not increase with `d` except where an arrival passes a window
/// end (the service moves to a later window). So if any departure works, one where some time
/// meets one of those bounds without waiting before it works too, or the shift start:
/// `d = bound - (travel, service and break before that time)`. Those are tried.
fn fits_alone_in_time(p: &Problem, tr: &dyn Travel, seq: &[usize], v: usize) -> bool {
    let veh = &p.vehicles[v];
    let n = p.task_count();
    let Some(tasks) = seq.iter().map(|&j| p.task(j)).collect::<Option<Vec<_>>>() else {
        return false;
    };
    let shrink = |b: f64| b - 2.0 * slack(b);
    let shift_end = shrink(veh.shift.end);
    let max_dur = veh.max_duration.map(shrink);
    let brk = veh
        .break_
        .map(|b| (b.window.start, shrink(b.window.end), b.duration));
    // Travel into each task, and from the last back to the end.
    let mut legs: Vec<f64> = Vec::with_capacity(seq.len() + 1);
    let mut here = n + 2 * v;
    for &j in seq {
        legs.push(tr.duration(here, j));
        here = j;
    }
    let t_out = tr.duration(here, n + 2 * v + 1);
    // The schedule leaving at `d`, the break before task `bp` (after the last if
    // `bp == seq.len()`; no break if `None`).
    let fits = |d: f64, bp: Option<usize>| {
        let mut t = d;
        for (i, task) in tasks.iter().enumerate() {
            if let (Some(b), Some((b_start, b_end, b_dur))) = (bp, brk) {
                if b == i {
                    let s = t.max(b_start);
                    if !le(s, b_end) {
                        return false;
                    }
                    t = s + b_dur;
                }
            }
            let arrival = t + legs[i];
            let windows = task.time_windows();
            let start = if windows.is_empty() {
                Some(arrival)
            } else {
                windows
                    .iter()
                    .filter(|w| le(arrival, shrink(w.end)))
                    .map(|w| arrival.max(w.start))
                    .reduce(f64::min)
            };
            let Some(start) = start else { return false };
            t = start + task.service();
        }
        if let (Some(b), Some((b_start, b_end, b_dur))) = (bp, brk) {
            if b == tasks.len() {
                let s = t.max(b_start);
                if !le(s, b_end) {
                    return false;
                }
                t = s + b_dur;
            }
        }
        let end = t + t_out;
        le(end, shift_end) && max_dur.is_none_or(|md| le(end - d, md))
    };
    let placements: Vec<Option<usize>> = if brk.is_some() {
        (0..=tasks.len()).map(Some).collect()
    } else {
        vec![None]
    };
    placements.into_iter().any(|bp| {
        // Departures where a time meets its bound without waiting before it.
        let mut departures = vec![veh.shift.start];
        let mut offset = 0.0;
        for (i, task) in tasks.iter().enumerate() {
            if let (Some(b), Some((_, b_end, b_dur))) = (bp, brk) {
                if b == i {
                    departures.push(b_end - offset);
                    offset += b_dur;
                }
            }
            offset += legs[i];
            departures.extend(task.time_windows().iter().map(|w| shrink(w.end) - offset));
            offset += task.service();
        }
        if let (Some(b), Some((_, b_end, b_dur))) = (bp, brk) {
            if b == tasks.len() {
                departures.push(b_end - offset);
                offset += b_dur;
            }
        }
        departures.push(shift_end - offset - t_out);
        departures
            .into_iter()
            .filter(|&d| d >= veh.shift.start)
            .any(|d| fits(d, bp))
    })
}
