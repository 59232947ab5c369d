//! A plan's routes as stored rows and as the planner's `Solution`, and the KPIs dispatchers
//! judge a plan by.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use planner::{Problem, Route, RouteViolation, Solution, Stop, Unassigned, UnassignedReason};
use serde::{Deserialize, Serialize};

use super::input::{instant, seconds};
use crate::db::plans::{self, NewRoute, NewStop, PlanRow, RouteRow, StopRow};
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};

/// What dispatchers judge a plan by.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Kpis {
    pub jobs_planned: usize,
    pub jobs_unassigned: usize,
    pub couriers_on_shift: usize,
    pub vehicles_used: usize,
    pub distance_km: f64,
    /// Sum of the routes' durations, depot to depot.
    pub working_hours: f64,
    /// Time between each visit's start and the end of its window: the smallest and the
    /// mean, in minutes (none when no stop has a window).
    pub min_slack_minutes: Option<f64>,
    pub mean_slack_minutes: Option<f64>,
    /// Problems a dispatcher's edits introduced (late, over capacity, missing skill...).
    pub violations: usize,
}

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

/// The plan's stored problem and time origin.
pub fn stored_problem(plan: &PlanRow) -> ApiResult<(Problem, DateTime<Utc>)> {
    let text = plan
        .problem
        .as_deref()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("plan {} has no problem", plan.id)))?;
    let problem: Problem = serde_json::from_str(text).map_err(anyhow::Error::from)?;
    let origin = plan
        .origin
        .map(|o| o.and_utc())
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("plan {} has no origin", plan.id)))?;
    Ok((problem, origin))
}

/// The job index of each job id in a problem.
pub fn job_index(problem: &Problem) -> HashMap<i64, usize> {
    problem
        .jobs
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.id.parse().ok().map(|id| (id, i)))
        .collect()
}

pub fn courier_of(problem: &Problem, vehicle: usize) -> ApiResult<i64> {
    problem
        .vehicles
        .get(vehicle)
        .and_then(|v| v.id.parse().ok())
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("vehicle {vehicle} has no courier")))
}

fn job_id_of(problem: &Problem, job: Option<usize>) -> Option<i64> {
    job.and_then(|j| problem.jobs.get(j))
        .and_then(|j| j.id.parse().ok())
}

/// What besides the planner's answer goes into the stored stops.
#[derive(Default)]
pub struct StopExtras<'a> {
    pub locked: Option<&'a HashSet<i64>>,
    pub outcomes: Option<&'a HashMap<i64, String>>,
    /// Per job id, the problems an edit introduced.
    pub violations: Option<&'a HashMap<i64, Vec<RouteViolation>>>,
}

pub fn route_row(
    plan_id: i64,
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
        violations: serde_json::to_string(route_violations).map_err(anyhow::Error::from)?,
    })
}

pub fn stop_rows(
    plan_id: i64,
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
            .map_or_else(|| Ok("[]".to_owned()), serde_json::to_string)
            .map_err(anyhow::Error::from)?;
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
        });
    }
    Ok(out)
}

pub fn unassigned_rows(plan_id: i64, jobs: &[(i64, String)]) -> ApiResult<Vec<NewStop>> {
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
                violations: "[]".to_owned(),
                outcome: None,
            })
        })
        .collect()
}

/// Stores a whole solution: one route row per courier on shift (idle ones with no stops),
/// its stops, then the unassigned jobs.
pub fn store(
    conn: &mut DbConnection,
    plan_id: i64,
    problem: &Problem,
    origin: DateTime<Utc>,
    solution: &Solution,
    skipped: &[(i64, &str)],
    extras: &StopExtras,
) -> ApiResult<()> {
    let by_vehicle: HashMap<usize, &Route> =
        solution.routes.iter().map(|r| (r.vehicle, r)).collect();
    let mut stops = Vec::new();
    for vehicle in 0..problem.vehicles.len() {
        let route = by_vehicle.get(&vehicle).copied();
        let row = plans::insert_route(
            conn,
            &route_row(plan_id, problem, origin, vehicle, route, &[])?,
        )?;
        if let Some(route) = route {
            stops.extend(stop_rows(plan_id, row.id, problem, origin, route, extras)?);
        }
    }
    let mut unassigned: Vec<(i64, String)> = solution
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

/// A stored plan read back.
pub struct LoadedPlan {
    pub problem: Problem,
    pub origin: DateTime<Utc>,
    pub routes: Vec<RouteRow>,
    pub stops: Vec<StopRow>,
}

impl LoadedPlan {
    pub fn load(conn: &mut DbConnection, plan: &PlanRow) -> ApiResult<Self> {
        let (problem, origin) = stored_problem(plan)?;
        Ok(Self {
            problem,
            origin,
            routes: plans::routes(conn, plan.id)?,
            stops: plans::stops(conn, plan.id)?,
        })
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
        let count = |text: &str| {
            serde_json::from_str::<Vec<serde_json::Value>>(text).map_or(0, |v| v.len())
        };
        self.stops
            .iter()
            .map(|s| count(&s.violations))
            .sum::<usize>()
            + self
                .routes
                .iter()
                .map(|r| count(&r.violations))
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
