//! A plan's routes as stored rows and as the planner's `Solution`, and the KPIs dispatchers
//! judge a plan by.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use planner::{Problem, Route, RouteViolation, Solution, Stop, Unassigned, UnassignedReason};

use super::input::{instant, seconds};
pub use crate::db::plans::Kpis;
use crate::db::plans::{self, NewRoute, NewStop, PlanRow, RouteRow, StopRow};
use crate::db::types::{CourierId, JobId, PlanId};
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};

pub fn kpis(problem: &Problem, solution: &Solution, unassigned: usize, violations: usize) -> Kpis {
    let mut slacks = Vec::new();
    let mut planned = 0;
    for route in &solution.routes {
        for stop in &route.stops {
            let Some(job) = stop.job.and_then(|j| problem.jobs.get(j)) else {
                continue;
            };
            planned += 1;
            let window = job
                .time_windows
                .iter()
                .filter(|w| w.start <= stop.start + 1e-6)
                .map(|w| w.end - stop.start)
                .filter(|slack| *slack >= -1e-6)
                .reduce(f64::min);
            if let Some(slack) = window {
                slacks.push(slack / 60.0);
            }
        }
    }
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Kpis {
        jobs_planned: planned,
        jobs_unassigned: unassigned,
        couriers_on_shift: problem.vehicles.len(),
        vehicles_used: solution
            .routes
            .iter()
            .filter(|r| !r.stops.is_empty())
            .count(),
        distance_km: round(solution.routes.iter().map(|r| r.distance).sum::<f64>() / 1000.0),
        working_hours: round(
            solution
                .routes
                .iter()
                .filter(|r| r.stops.iter().any(|s| s.job.is_some()))
                .map(|r| r.end_time - r.start_time)
                .sum::<f64>()
                / 3600.0,
        ),
        min_slack_minutes: slacks.iter().copied().reduce(f64::min).map(round),
        mean_slack_minutes: (!slacks.is_empty())
            .then(|| round(slacks.iter().sum::<f64>() / slacks.len() as f64)),
        violations,
    }
}

/// A reason stored for an unassigned stop.
pub fn reason_text(reason: UnassignedReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "no_room".to_owned())
}

/// The job index of each job id in a problem.
pub fn job_index(problem: &Problem) -> HashMap<JobId, usize> {
    problem
        .jobs
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.id.parse().ok().map(|id| (JobId(id), i)))
        .collect()
}

pub fn courier_of(problem: &Problem, vehicle: usize) -> ApiResult<CourierId> {
    problem
        .vehicles
        .get(vehicle)
        .and_then(|v| v.id.parse().ok())
        .map(CourierId)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("vehicle {vehicle} has no courier")))
}

fn job_id_of(problem: &Problem, job: Option<usize>) -> Option<JobId> {
    job.and_then(|j| problem.jobs.get(j))
        .and_then(|j| j.id.parse().ok())
        .map(JobId)
}

/// What besides the planner's answer goes into the stored stops.
#[derive(Default)]
pub struct StopExtras<'a> {
    pub locked: Option<&'a HashSet<JobId>>,
    pub outcomes: Option<&'a HashMap<JobId, String>>,
    /// Per job id, the problems an edit introduced.
    pub violations: Option<&'a HashMap<JobId, Vec<RouteViolation>>>,
    /// When each visit's customer was last told of a delay (kept through edits, so an
    /// edit does not let a second notice go within the hour).
    pub noticed: Option<&'a HashMap<JobId, chrono::NaiveDateTime>>,
}

pub fn route_row(
    plan_id: PlanId,
    problem: &Problem,
    origin: DateTime<Utc>,
    vehicle: usize,
    route: Option<&Route>,
    route_violations: &[RouteViolation],
) -> ApiResult<NewRoute> {
    let shift_start = problem.vehicles.get(vehicle).map_or(0.0, |v| v.shift.start);
    let (start, end, distance) = route.map_or((shift_start, shift_start, 0.0), |r| {
        (r.start_time, r.end_time, r.distance)
    });
    Ok(NewRoute {
        plan_id,
        courier_id: courier_of(problem, vehicle)?,
        vehicle: i32::try_from(vehicle).map_err(anyhow::Error::from)?,
        start_at: instant(origin, start).naive_utc(),
        end_at: instant(origin, end).naive_utc(),
        distance_m: distance,
        violations: route_violations.to_vec(),
    })
}

pub fn stop_rows(
    plan_id: PlanId,
    route_id: i64,
    problem: &Problem,
    origin: DateTime<Utc>,
    route: &Route,
    extras: &StopExtras,
) -> ApiResult<Vec<NewStop>> {
    let mut out = Vec::with_capacity(route.stops.len());
    for (seq, stop) in route.stops.iter().enumerate() {
        let job_id = job_id_of(problem, stop.job);
        let violations = job_id
            .and_then(|id| extras.violations.and_then(|v| v.get(&id)))
            .cloned()
            .unwrap_or_default();
        out.push(NewStop {
            plan_id,
            route_id: Some(route_id),
            seq: i32::try_from(seq).map_err(anyhow::Error::from)?,
            job_id,
            arrival_at: Some(instant(origin, stop.arrival).naive_utc()),
            start_at: Some(instant(origin, stop.start).naive_utc()),
            departure_at: Some(instant(origin, stop.departure).naive_utc()),
            load: stop.load.first().copied().unwrap_or(0),
            locked: job_id.is_some_and(|id| extras.locked.is_some_and(|l| l.contains(&id))),
            reason: None,
            violations,
            outcome: job_id.and_then(|id| extras.outcomes.and_then(|o| o.get(&id).cloned())),
            delay_noticed_at: job_id
                .and_then(|id| extras.noticed.and_then(|n| n.get(&id).copied())),
        });
    }
    Ok(out)
}

pub fn unassigned_rows(plan_id: PlanId, jobs: &[(JobId, String)]) -> ApiResult<Vec<NewStop>> {
    jobs.iter()
        .enumerate()
        .map(|(seq, (job_id, reason))| {
            Ok(NewStop {
                plan_id,
                route_id: None,
                seq: i32::try_from(seq).map_err(anyhow::Error::from)?,
                job_id: Some(*job_id),
                arrival_at: None,
                start_at: None,
                departure_at: None,
                load: 0,
                locked: false,
                reason: Some(reason.clone()),
                violations: Vec::new(),
                outcome: None,
                delay_noticed_at: None,
            })
        })
        .collect()
}

/// Stores a whole solution: one route row per courier on shift (idle ones with no stops),
/// its stops, then the unassigned jobs.
pub fn store(
    conn: &mut DbConnection,
    plan_id: PlanId,
    problem: &Problem,
    origin: DateTime<Utc>,
    solution: &Solution,
    skipped: &[(JobId, &str)],
    extras: &StopExtras,
) -> ApiResult<()> {
    let by_vehicle: HashMap<usize, &Route> =
        solution.routes.iter().map(|r| (r.vehicle, r)).collect();
    let mut stops = Vec::new();
    for vehicle in 0..problem.vehicles.len() {
        let route = by_vehicle.get(&vehicle).copied();
        let row = plans::insert_route(
            conn,
            route_row(plan_id, problem, origin, vehicle, route, &[])?,
        )?;
        if let Some(route) = route {
            stops.extend(stop_rows(plan_id, row.id, problem, origin, route, extras)?);
        }
    }
    let mut unassigned: Vec<(JobId, String)> = solution
        .unassigned
        .iter()
        .filter_map(|u| job_id_of(problem, Some(u.job)).map(|id| (id, reason_text(u.reason))))
        .collect();
    unassigned.extend(
        skipped
            .iter()
            .map(|(id, reason)| (*id, (*reason).to_owned())),
    );
    stops.extend(unassigned_rows(plan_id, &unassigned)?);
    plans::insert_stops(conn, &stops)?;
    Ok(())
}

/// A stored plan read back: its problem (parsed once per request: it can be megabytes)
/// and its routes and stops.
pub struct LoadedPlan {
    pub plan_id: PlanId,
    pub problem: Problem,
    pub origin: DateTime<Utc>,
    pub routes: Vec<RouteRow>,
    pub stops: Vec<StopRow>,
}

impl LoadedPlan {
    pub fn load(conn: &mut DbConnection, plan: &PlanRow) -> ApiResult<Self> {
        let (problem, origin) = plans::problem(conn, plan.id)?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("plan {} has no stored problem", plan.id))
        })?;
        Ok(Self {
            plan_id: plan.id,
            problem,
            origin: origin.and_utc(),
            routes: plans::routes(conn, plan.id)?,
            stops: plans::stops(conn, plan.id)?,
        })
    }

    /// Reads the routes and stops again after they were written (the problem stays).
    pub fn reload_rows(&mut self, conn: &mut DbConnection) -> ApiResult<()> {
        self.routes = plans::routes(conn, self.plan_id)?;
        self.stops = plans::stops(conn, self.plan_id)?;
        Ok(())
    }

    pub fn stops_of(&self, route_id: i64) -> impl Iterator<Item = &StopRow> {
        self.stops
            .iter()
            .filter(move |s| s.route_id == Some(route_id))
    }

    pub fn unassigned(&self) -> impl Iterator<Item = &StopRow> {
        self.stops.iter().filter(|s| s.route_id.is_none())
    }

    /// The stored routes as the planner's solution, for re-timing and checking.
    pub fn solution(&self) -> Solution {
        let index = job_index(&self.problem);
        let mut routes = Vec::new();
        for row in &self.routes {
            let stops: Vec<Stop> = self
                .stops_of(row.id)
                .map(|s| {
                    let at = |t: Option<chrono::NaiveDateTime>| {
                        t.map_or(0.0, |t| seconds(self.origin, t.and_utc()))
                    };
                    Stop {
                        job: s.job_id.and_then(|id| index.get(&id).copied()),
                        job_id: s.job_id.map(|id| id.to_string()),
                        arrival: at(s.arrival_at),
                        start: at(s.start_at),
                        departure: at(s.departure_at),
                        load: vec![s.load],
                    }
                })
                .collect();
            if stops.is_empty() {
                continue;
            }
            let start_time = seconds(self.origin, row.start_at.and_utc());
            let end_time = seconds(self.origin, row.end_at.and_utc());
            routes.push(Route {
                vehicle: usize::try_from(row.vehicle).unwrap_or(usize::MAX),
                vehicle_id: row.courier_id.to_string(),
                start_time,
                end_time,
                stops,
                distance: row.distance_m,
                duration: end_time - start_time,
                cost: row.distance_m,
            });
        }
        let unassigned = self
            .unassigned()
            .filter_map(|s| {
                let id = s.job_id?;
                let job = *index.get(&id)?;
                Some(Unassigned {
                    job,
                    job_id: id.to_string(),
                    reason: UnassignedReason::NoRoom,
                })
            })
            .collect();
        Solution {
            distance: routes.iter().map(|r| r.distance).sum(),
            duration: routes.iter().map(|r| r.duration).sum(),
            cost: routes.iter().map(|r| r.cost).sum(),
            vehicles: routes.len(),
            routes,
            unassigned,
            iterations: 0,
        }
    }

    /// Number of stored problems (stop and route violations).
    pub fn violation_count(&self) -> usize {
        self.stops.iter().map(|s| s.violations.len()).sum::<usize>()
            + self
                .routes
                .iter()
                .map(|r| r.violations.len())
                .sum::<usize>()
    }

    pub fn kpis(&self) -> Kpis {
        kpis(
            &self.problem,
            &self.solution(),
            self.unassigned().count(),
            self.violation_count(),
        )
    }
}
