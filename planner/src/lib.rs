//! A general vehicle-routing solver: time windows (several per job), capacity vectors with
//! simultaneous pickup and delivery, paired shipments (pickup before delivery on one
//! vehicle), skills, shifts, breaks, maximum route duration,
//! priorities; SISR ruin and recreate under simulated annealing, fleet minimisation,
//! local search, parallel searches with `rayon`. For dispatching: `timing` re-times edited
//! routes reporting violations, `extend` inserts new jobs into published routes without
//! reordering them. See `README.md` for the JSON format.

pub mod check;
pub mod construct;
pub mod extend;
pub mod generate;
pub mod instance;
pub mod io;
pub mod model;
pub mod neighbours;
pub mod osrm;
pub mod rng;
pub mod route;
pub mod search;
pub mod solver;
pub mod timing;
pub mod travel;

pub use check::{check, CheckReport, CheckRule, Violation};
pub use extend::{extend, insertion_points, InsertionPoint};
pub use model::*;
pub use solver::{solve, Progress, ProgressFn, SolveOptions};
pub use timing::{
    retime, retime_solution, retime_stops, RouteViolation, TimedRoute, ViolationKind,
};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("invalid problem: {0}")]
    Invalid(String),
    /// The road service gave no travel times (down, refusing, or no road between points).
    #[error("road travel times: {0}")]
    Travel(String),
}

/// Rejects what the search cannot handle (NaN, negative loads, inverted windows...).
pub fn validate(p: &Problem) -> Result<(), String> {
    let finite = |x: f64| x.is_finite();
    let mut ids = std::collections::HashSet::new();
    for i in 0..p.task_count() {
        let Some(task) = p.task(i) else { break };
        let id = task.id();
        let loc = task.location();
        if !finite(loc.lat) || !finite(loc.lon) {
            return Err(format!("task {id}: location is not a number"));
        }
        if !finite(task.service()) || task.service() < 0.0 {
            return Err(format!("task {id}: bad service duration"));
        }
        for tw in task.time_windows() {
            if tw.start.is_nan() || tw.end.is_nan() || tw.start > tw.end {
                return Err(format!("task {id}: bad time window"));
            }
        }
        if !ids.insert(id.clone()) {
            return Err(format!("duplicate job id {id}"));
        }
    }
    for j in &p.jobs {
        if j.delivery.iter().chain(&j.pickup).any(|&x| x < 0) {
            return Err(format!("job {}: negative load", j.id));
        }
    }
    let mut shipment_ids = std::collections::HashSet::new();
    for s in &p.shipments {
        if !shipment_ids.insert(s.id.as_str()) {
            return Err(format!("duplicate shipment id {}", s.id));
        }
        if s.amount.iter().chain(&s.delivery.pickup).any(|&x| x < 0) {
            return Err(format!("shipment {}: negative amount", s.id));
        }
        if s.pickup.pickup.iter().any(|&x| x != 0) {
            return Err(format!(
                "shipment {}: only the delivery picks up for the route's end",
                s.id
            ));
        }
    }
    for v in &p.vehicles {
        let locs = [v.start.lat, v.start.lon, v.end.lat, v.end.lon];
        if locs.iter().any(|x| !x.is_finite()) {
            return Err(format!("vehicle {}: location is not a number", v.id));
        }
        if !finite(v.shift.start) || !finite(v.shift.end) || v.shift.start > v.shift.end {
            return Err(format!("vehicle {}: bad shift", v.id));
        }
        if v.capacity.iter().any(|&x| x < 0) {
            return Err(format!("vehicle {}: negative capacity", v.id));
        }
        if let Some(b) = v.break_ {
            if !finite(b.duration) || b.duration < 0.0 || b.window.start > b.window.end {
                return Err(format!("vehicle {}: bad break", v.id));
            }
        }
        if v.max_duration.is_some_and(|d| d.is_nan() || d < 0.0) {
            return Err(format!("vehicle {}: bad max_duration", v.id));
        }
        if !finite(v.cost_per_distance) || !finite(v.cost_per_time) {
            return Err(format!("vehicle {}: bad costs", v.id));
        }
    }
    match &p.travel {
        TravelSpec::Euclidean { speed } | TravelSpec::Haversine { speed, .. }
            if !(*speed > 0.0 && speed.is_finite()) =>
        {
            Err("travel speed must be positive".into())
        }
        TravelSpec::Haversine { detour, .. } if !(*detour > 0.0 && detour.is_finite()) => {
            Err("travel detour must be positive".into())
        }
        TravelSpec::Matrix {
            distances,
            durations,
        } if distances
            .iter()
            .chain(durations)
            .flatten()
            .any(|x| !x.is_finite() || *x < 0.0) =>
        {
            Err("travel matrices must hold non-negative numbers".into())
        }
        _ => Ok(()),
    }
}
