#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use planner::*;
use std::sync::{Arc, Mutex};

pub type Reports = Arc<Mutex<Vec<Progress>>>;

/// `o` with a progress callback that keeps every report, and the reports.
pub fn recording(o: SolveOptions) -> (SolveOptions, Reports) {
    let reports: Reports = Arc::default();
    let sink = reports.clone();
    let o = SolveOptions {
        progress: Some(Arc::new(move |p: &Progress| sink.lock().unwrap().push(*p))),
        ..o
    };
    (o, reports)
}

pub fn loc(x: f64, y: f64) -> Location {
    Location { lat: y, lon: x }
}

pub fn job(id: &str, x: f64, y: f64) -> Job {
    Job {
        id: id.into(),
        location: loc(x, y),
        service: 0.0,
        time_windows: vec![],
        delivery: vec![1],
        pickup: vec![0],
        skills: vec![],
        priority: 0,
    }
}

pub fn vehicle(id: &str, cap: i32) -> Vehicle {
    Vehicle {
        id: id.into(),
        start: loc(0.0, 0.0),
        end: loc(0.0, 0.0),
        shift: TimeWindow::new(0.0, 1000.0),
        capacity: vec![cap],
        skills: vec![],
        max_duration: None,
        break_: None,
        cost_per_distance: 1.0,
        cost_per_time: 0.0,
        fixed_jobs: vec![],
        max_tasks: None,
    }
}

pub fn problem(jobs: Vec<Job>, vehicles: Vec<Vehicle>) -> Problem {
    Problem {
        jobs,
        shipments: Vec::new(),
        vehicles,
        travel: TravelSpec::Euclidean { speed: 1.0 },
    }
}

pub fn opts(iterations: u64) -> SolveOptions {
    SolveOptions {
        iterations: Some(iterations),
        threads: 1,
        seed: 7,
        ..SolveOptions::default()
    }
}

/// Solves and asserts the independent checker accepts the result.
pub fn solve_checked(p: &Problem, o: &SolveOptions) -> Solution {
    let s = solve(p, o).expect("valid problem");
    if let Err(v) = check(p, &s) {
        panic!("checker rejected the solution: {v:?}\n{s:#?}");
    }
    s
}

pub fn route_ids(s: &Solution) -> Vec<Vec<String>> {
    s.routes
        .iter()
        .map(|r| r.stops.iter().filter_map(|st| st.job_id.clone()).collect())
        .collect()
}

pub fn reason_of(s: &Solution, id: &str) -> Option<UnassignedReason> {
    s.unassigned
        .iter()
        .find(|u| u.job_id == id)
        .map(|u| u.reason)
}
