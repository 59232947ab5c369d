//! Re-timing of routes a person edited: the schedule of a given stop order, computed as the
//! checker (`check.rs`) computes it, with every broken constraint reported instead of the
//! route being refused.
//!
//! Times: the vehicle leaves its start at the shift start, delayed so as not to wait at the
//! first stop (as the solver reports routes); service starts at the earliest window start at
//! or after the arrival among the windows still open; an arrival after every window starts
//! service on arrival and is reported `Late`. The break is taken where the courier is (no
//! travel). Loads: everything delivered is on board at the start; each job adds its pickup
//! and removes its delivery.

use crate::model::{Job, Problem, Route, Solution, Stop, Unassigned, UnassignedReason};
use crate::travel::{self, TravelTable};
use crate::PlanError;
use serde::{Deserialize, Serialize};

/// The checker's tolerance (seconds).
const TOL: f64 = 1e-6;

/// One broken constraint of a re-timed route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteViolation {
    /// Index into `Problem::jobs` of the job concerned; `None` for the route as a whole (or
    /// the departure, for `OverCapacity`).
    pub job: Option<usize>,
    pub job_id: Option<String>,
    #[serde(flatten)]
    pub kind: ViolationKind,
}

/// What is broken. Serialised with a `"kind"` tag in snake case next to its numbers, e.g.
/// `{"job": 3, "job_id": "j4", "kind": "late", "arrival": 39700.0, "window_end": 39600.0,
/// "seconds": 100.0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ViolationKind {
    /// Arrival `seconds` after the end of the job's last window (service starts on arrival).
    Late {
        arrival: f64,
        window_end: f64,
        seconds: f64,
    },
    /// The break cannot start inside its window: it starts at `start`, `seconds` after the
    /// window end.
    BreakMissed {
        start: f64,
        window_end: f64,
        seconds: f64,
    },
    /// Load above capacity in `dimension`, after the job (or on leaving the start when
    /// `job` is `None`).
    OverCapacity {
        dimension: usize,
        load: i64,
        capacity: i64,
    },
    /// The job needs these skills, which the vehicle lacks.
    MissingSkill { skills: Vec<String> },
    /// Back at the end location at `end`, `seconds` after the shift end.
    ShiftOverrun {
        end: f64,
        shift_end: f64,
        seconds: f64,
    },
    /// The route lasts `duration`, `seconds` more than the vehicle's `max_duration`.
    MaxDuration {
        duration: f64,
        max_duration: f64,
        seconds: f64,
    },
    /// The vehicle's `fixed_jobs` on this route are not its first jobs in their order.
    FixedOrder,
}

/// A route in the given order with its schedule and what it breaks. With no violations the
/// route is accepted by `planner::check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedRoute {
    /// Stops include the break (`job: None`) when the vehicle has one and serves a job.
    pub route: Route,
    pub violations: Vec<RouteViolation>,
}

/// Re-times `jobs` (indices into `p.jobs`, in visit order) on `vehicle`. The vehicle's break,
/// if any, goes where it fits: inside its window without adding any lateness, shift or
/// duration overrun, at the position giving the earliest return (the first such position on
/// ties); if no position fits, at the position breaking the least (break window first, then
/// the fewest seconds of lateness and overrun), reported `BreakMissed` when it starts after
/// its window. Errors only for an invalid problem, an unknown vehicle or job, or a job listed
/// twice.
pub fn retime(p: &Problem, vehicle: usize, jobs: &[usize]) -> Result<TimedRoute, PlanError> {
    let tm = Timer::new(p)?;
    check_routes(p, &[(vehicle, jobs)])?;
    Ok(tm.retime(vehicle, jobs))
}

/// Like [`retime`], with the break where the caller puts it: `stops` are jobs (`Some(index)`)
/// and at most one `None` for the break (as in `Stop::job`). Without a `None` the break is
/// placed as by [`retime`]. A `None` for a vehicle without a break is an error.
pub fn retime_stops(
    p: &Problem,
    vehicle: usize,
    stops: &[Option<usize>],
) -> Result<TimedRoute, PlanError> {
    let tm = Timer::new(p)?;
    let jobs: Vec<usize> = stops.iter().flatten().copied().collect();
    check_routes(p, &[(vehicle, &jobs)])?;
    match stops.iter().filter(|s| s.is_none()).count() {
        0 => Ok(tm.retime(vehicle, &jobs)),
        1 if p.vehicles[vehicle].break_.is_some() => {
            Ok(tm.finish(vehicle, tm.simulate(vehicle, stops)))
        }
        1 => Err(PlanError::Invalid(format!(
            "vehicle {} has no break",
            p.vehicles[vehicle].id
        ))),
        _ => Err(PlanError::Invalid("more than one break on a route".into())),
    }
}

/// Re-times whole routes (`(vehicle, jobs in order)`, each vehicle at most once, each job on
/// at most one route) into a `Solution`: routes in the given order, empty ones dropped; every
/// job on no route unassigned with the solver's reason (`skills`, `time_window`, `capacity`),
/// else `fixed` for a vehicle's fixed job, else `no_room`. The violations are paired with the
/// vehicle index.
pub fn retime_solution(
    p: &Problem,
    routes: &[(usize, Vec<usize>)],
) -> Result<(Solution, Vec<(usize, RouteViolation)>), PlanError> {
    let tm = Timer::new(p)?;
    let refs: Vec<(usize, &[usize])> = routes.iter().map(|(v, j)| (*v, j.as_slice())).collect();
    check_routes(p, &refs)?;
    let mut out = Vec::new();
    let mut violations = Vec::new();
    let mut routed = vec![false; p.jobs.len()];
    for &(v, jobs) in &refs {
        if jobs.is_empty() {
            continue;
        }
        for &j in jobs {
            routed[j] = true;
        }
        let t = tm.retime(v, jobs);
        violations.extend(t.violations.into_iter().map(|x| (v, x)));
        out.push(t.route);
    }
    let mut unassigned = Vec::new();
    if routed.iter().any(|r| !r) {
        // The solver's reasons (an empty route tried on every vehicle).
        let unrouted: Vec<usize> = (0..p.jobs.len()).filter(|&j| !routed[j]).collect();
        let inst = crate::instance::Instance::lean(p, &unrouted)?;
        for j in unrouted {
            let reason = inst.reason[j].unwrap_or(if inst.is_fixed[j] {
                UnassignedReason::Fixed
            } else {
                UnassignedReason::NoRoom
            });
            unassigned.push(Unassigned {
                job: j,
                job_id: p.jobs[j].id.clone(),
                reason,
            });
        }
    }
    let sol = Solution {
        // `+ 0.0`: an empty f64 sum is -0.0.
        distance: out.iter().map(|r| r.distance).sum::<f64>() + 0.0,
        duration: out.iter().map(|r| r.duration).sum::<f64>() + 0.0,
        cost: out.iter().map(|r| r.cost).sum::<f64>() + 0.0,
        vehicles: out.len(),
        routes: out,
        unassigned,
        iterations: 0,
    };
    Ok((sol, violations))
}

/// Vehicles known and used once, jobs known and listed once over all routes.
pub(crate) fn check_routes<J: AsRef<[usize]>>(
    p: &Problem,
    routes: &[(usize, J)],
) -> Result<(), PlanError> {
    let mut veh_seen = vec![false; p.vehicles.len()];
    let mut job_seen = vec![false; p.jobs.len()];
    for (v, jobs) in routes {
        match veh_seen.get_mut(*v) {
            None => return Err(PlanError::Invalid(format!("unknown vehicle index {v}"))),
            Some(s) if *s => {
                return Err(PlanError::Invalid(format!(
                    "vehicle {} has two routes",
                    p.vehicles[*v].id
                )))
            }
            Some(s) => *s = true,
        }
        for &j in jobs.as_ref() {
            match job_seen.get_mut(j) {
                None => return Err(PlanError::Invalid(format!("unknown job index {j}"))),
                Some(s) if *s => {
                    return Err(PlanError::Invalid(format!(
                        "job {} is listed twice",
                        p.jobs[j].id
                    )))
                }
                Some(s) => *s = true,
            }
        }
    }
    Ok(())
}

/// The checker's service start: the earliest window start at or after `arrival` among the
/// windows still open (with its tolerance); `None` when every window has closed.
fn service_start(job: &Job, arrival: f64) -> Option<f64> {
    if job.time_windows.is_empty() {
        return Some(arrival);
    }
    let mut best = f64::INFINITY;
    for w in &job.time_windows {
        if arrival <= w.end + TOL {
            best = best.min(arrival.max(w.start));
        }
    }
    best.is_finite().then_some(best)
}

/// A schedule and what it breaks.
struct Sim {
    route: Route,
    violations: Vec<RouteViolation>,
    /// Seconds of lateness, shift overrun and excess duration.
    excess: f64,
    /// Seconds the break starts after its window (0 when inside or absent).
    break_late: f64,
}

struct Timer<'a> {
    p: &'a Problem,
    /// On the fly, with the solver's arithmetic (duration = distance x 1 / speed): the same
    /// numbers as the solver's dense table, without building it.
    tr: TravelTable,
    n: usize,
    dims: usize,
}

impl<'a> Timer<'a> {
    fn new(p: &'a Problem) -> Result<Self, PlanError> {
        crate::validate(p).map_err(PlanError::Invalid)?;
        let (model, factor) = travel::model(p)?;
        let dims = p
            .jobs
            .iter()
            .map(|j| j.delivery.len().max(j.pickup.len()))
            .chain(p.vehicles.iter().map(|v| v.capacity.len()))
            .max()
            .unwrap_or(0);
        Ok(Timer {
            p,
            tr: TravelTable::Lazy(model, factor),
            // Vehicles' points follow every task's (shipment steps included).
            n: p.task_count(),
            dims,
        })
    }

    /// Jobs in order, the break placed automatically.
    fn retime(&self, v: usize, jobs: &[usize]) -> TimedRoute {
        let mut seq: Vec<Option<usize>> = jobs.iter().map(|&j| Some(j)).collect();
        if self.p.vehicles[v].break_.is_none() || jobs.is_empty() {
            return self.finish(v, self.simulate(v, &seq));
        }
        // The break after `k` jobs, for every `k`; keep the best (see `retime`).
        let mut best: Option<(usize, Sim)> = None;
        for k in 0..=jobs.len() {
            seq.insert(k, None);
            let s = self.simulate(v, &seq);
            seq.remove(k);
            let better = match &best {
                None => true,
                Some((_, b)) => {
                    let (missed, b_missed) = (s.break_late > TOL, b.break_late > TOL);
                    if missed != b_missed {
                        !missed
                    } else if (s.excess - b.excess).abs() > TOL {
                        s.excess < b.excess
                    } else if (s.break_late - b.break_late).abs() > TOL {
                        s.break_late < b.break_late
                    } else {
                        s.route.end_time < b.route.end_time - TOL
                    }
                }
            };
            if better {
                best = Some((k, s));
            }
        }
        match best {
            Some((_, s)) => self.finish(v, s),
            None => self.finish(v, self.simulate(v, &seq)),
        }
    }

    /// Adds the route-level checks that do not depend on times.
    fn finish(&self, v: usize, s: Sim) -> TimedRoute {
        let mut violations = s.violations;
        let veh = &self.p.vehicles[v];
        if !veh.fixed_jobs.is_empty() {
            let ids: Vec<&str> = s
                .route
                .stops
                .iter()
                .filter_map(|st| st.job)
                .map(|j| self.p.jobs[j].id.as_str())
                .collect();
            let fixed_here: Vec<&str> = veh
                .fixed_jobs
                .iter()
                .map(String::as_str)
                .filter(|id| ids.contains(id))
                .collect();
            if !ids.starts_with(&fixed_here) {
                violations.push(RouteViolation {
                    job: None,
                    job_id: None,
                    kind: ViolationKind::FixedOrder,
                });
            }
        }
        TimedRoute {
            route: s.route,
            violations,
        }
    }

    /// The schedule of `seq` (jobs and the break as `None`) on vehicle `v`.
    fn simulate(&self, v: usize, seq: &[Option<usize>]) -> Sim {
        let p = self.p;
        let (n, dims, tr) = (self.n, self.dims, &self.tr);
        let veh = &p.vehicles[v];
        let (start_pt, end_pt) = (n + 2 * v, n + 2 * v + 1);
        let mut violations = Vec::new();
        let mut excess = 0.0;
        let mut break_late = 0.0;
        let route_level = |kind| RouteViolation {
            job: None,
            job_id: None,
            kind,
        };
        let on_job = |j: usize, kind| RouteViolation {
            job: Some(j),
            job_id: Some(p.jobs[j].id.clone()),
            kind,
        };
        let break_start = |t: f64| veh.break_.map_or(t, |b| t.max(b.window.start));

        // Leave late enough not to wait at the first stop (as the solver reports routes).
        let s0 = veh.shift.start;
        let start_time = match seq.first() {
            Some(Some(j)) => {
                let tt = tr.time(start_pt, *j);
                match service_start(&p.jobs[*j], s0 + tt) {
                    Some(s) => s0.max(s - tt),
                    None => s0,
                }
            }
            Some(None) => s0.max(break_start(s0)),
            None => s0,
        };

        let get = |x: &[i32], d: usize| x.get(d).copied().unwrap_or(0) as i64;
        let cap: Vec<i64> = (0..dims).map(|d| get(&veh.capacity, d)).collect();
        let mut load: Vec<i64> = (0..dims)
            .map(|d| {
                seq.iter()
                    .flatten()
                    .map(|&j| get(&p.jobs[j].delivery, d))
                    .sum()
            })
            .collect();
        for d in 0..dims {
            if load[d] > cap[d] {
                violations.push(route_level(ViolationKind::OverCapacity {
                    dimension: d,
                    load: load[d],
                    capacity: cap[d],
                }));
            }
        }

        let mut t = start_time;
        let mut here = start_pt;
        let (mut dist, mut ttime) = (0.0, 0.0);
        let mut stops = Vec::with_capacity(seq.len());
        for item in seq {
            let (arrival, start, job);
            match *item {
                Some(j) => {
                    let jb = &p.jobs[j];
                    let missing: Vec<String> = jb
                        .skills
                        .iter()
                        .filter(|s| !veh.skills.contains(s))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        violations.push(on_job(j, ViolationKind::MissingSkill { skills: missing }));
                    }
                    let (dd, tt) = tr.both(here, j);
                    dist += dd;
                    ttime += tt;
                    arrival = t + tt;
                    start = match service_start(jb, arrival) {
                        Some(s) => s,
                        None => {
                            let window_end = jb
                                .time_windows
                                .iter()
                                .map(|w| w.end)
                                .fold(f64::NEG_INFINITY, f64::max);
                            excess += arrival - window_end;
                            violations.push(on_job(
                                j,
                                ViolationKind::Late {
                                    arrival,
                                    window_end,
                                    seconds: arrival - window_end,
                                },
                            ));
                            arrival
                        }
                    };
                    t = start + jb.service;
                    here = j;
                    for d in 0..dims {
                        load[d] += get(&jb.pickup, d) - get(&jb.delivery, d);
                        if load[d] > cap[d] {
                            violations.push(on_job(
                                j,
                                ViolationKind::OverCapacity {
                                    dimension: d,
                                    load: load[d],
                                    capacity: cap[d],
                                },
                            ));
                        }
                    }
                    job = Some(j);
                }
                None => {
                    arrival = t;
                    start = break_start(t);
                    if let Some(b) = veh.break_ {
                        if start > b.window.end + TOL {
                            break_late += start - b.window.end;
                            violations.push(route_level(ViolationKind::BreakMissed {
                                start,
                                window_end: b.window.end,
                                seconds: start - b.window.end,
                            }));
                        }
                        t = start + b.duration;
                    }
                    job = None;
                }
            }
            stops.push(Stop {
                job,
                job_id: job.map(|j| p.jobs[j].id.clone()),
                arrival,
                start,
                departure: t,
                load: load
                    .iter()
                    .map(|&l| l.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
                    .collect(),
            });
        }
        let (dd, tt) = tr.both(here, end_pt);
        dist += dd;
        ttime += tt;
        let end_time = t + tt;
        if end_time > veh.shift.end + TOL {
            excess += end_time - veh.shift.end;
            violations.push(route_level(ViolationKind::ShiftOverrun {
                end: end_time,
                shift_end: veh.shift.end,
                seconds: end_time - veh.shift.end,
            }));
        }
        let duration = end_time - start_time;
        if let Some(md) = veh.max_duration {
            if duration > md + TOL {
                excess += duration - md;
                violations.push(route_level(ViolationKind::MaxDuration {
                    duration,
                    max_duration: md,
                    seconds: duration - md,
                }));
            }
        }
        Sim {
            route: Route {
                vehicle: v,
                vehicle_id: veh.id.clone(),
                start_time,
                end_time,
                stops,
                distance: dist,
                duration,
                cost: veh.cost_per_distance * dist + veh.cost_per_time * ttime,
            },
            violations,
            excess,
            break_late,
        }
    }
}
