#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Random small instances: every solution passes the checker; with at most 6 jobs the
//! result equals the optimum of an exhaustive search (its own simple evaluator).

mod common;
use common::*;
use planner::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// x, y, window start, window length, delivery, pickup, priority, service.
type JobSpec = (f64, f64, f64, f64, i32, i32, u32, f64);

#[derive(Debug, Clone)]
struct Case {
    jobs: Vec<JobSpec>,
    caps: Vec<i32>,
    shift_end: f64,
}

fn case(max_jobs: usize) -> impl Strategy<Value = Case> {
    let job = (
        -50.0..50.0f64,
        -50.0..50.0f64,
        0.0..150.0f64,
        10.0..120.0f64,
        0..5i32,
        0..5i32,
        0..3u32,
        0.0..10.0f64,
    );
    (
        prop::collection::vec(job, 1..=max_jobs),
        prop::collection::vec(3..12i32, 1..=2),
        150.0..400.0f64,
    )
        .prop_map(|(jobs, caps, shift_end)| Case {
            jobs,
            caps,
            shift_end,
        })
}

fn build(c: &Case) -> Problem {
    let jobs = c
        .jobs
        .iter()
        .enumerate()
        .map(|(i, &(x, y, ws, wl, d, pk, pr, sv))| {
            let mut j = job(&format!("j{i}"), x, y);
            j.time_windows = vec![TimeWindow::new(ws, ws + wl)];
            if i % 3 == 2 {
                // Some jobs get a second window.
                j.time_windows
                    .push(TimeWindow::new(ws + wl + 60.0, ws + wl + 120.0));
            }
            j.delivery = vec![d];
            j.pickup = vec![pk];
            j.priority = pr;
            j.service = sv;
            j
        })
        .collect();
    let vehicles = c
        .caps
        .iter()
        .enumerate()
        .map(|(i, &cap)| {
            let mut v = vehicle(&format!("v{i}"), cap);
            v.shift = TimeWindow::new(0.0, c.shift_end);
            v
        })
        .collect();
    problem(jobs, vehicles)
}

/// Cost of serving `seq` with vehicle `v`, if feasible (own evaluator).
fn route_cost(p: &Problem, v: usize, seq: &[usize]) -> Option<f64> {
    let veh = &p.vehicles[v];
    let d = |a: Location, b: Location| ((a.lat - b.lat).powi(2) + (a.lon - b.lon).powi(2)).sqrt();
    let mut load: i32 = seq.iter().map(|&j| p.jobs[j].delivery[0]).sum();
    if load > veh.capacity[0] {
        return None;
    }
    let (mut t, mut here, mut dist) = (veh.shift.start, veh.start, 0.0);
    for &j in seq {
        let job = &p.jobs[j];
        let step = d(here, job.location);
        dist += step;
        let arr = t + step;
        let start = job
            .time_windows
            .iter()
            .filter(|w| arr <= w.end)
            .map(|w| arr.max(w.start))
            .fold(f64::INFINITY, f64::min);
        if !start.is_finite() {
            return None;
        }
        t = start + job.service;
        load += job.pickup[0] - job.delivery[0];
        if load > veh.capacity[0] {
            return None;
        }
        here = job.location;
    }
    let step = d(here, veh.end);
    dist += step;
    (t + step <= veh.shift.end).then_some(dist)
}

/// Best (unassigned weight, cost) over all assignments and orders.
fn optimum(p: &Problem) -> (f64, f64) {
    let n = p.jobs.len();
    let m = p.vehicles.len();
    let mut best = (f64::INFINITY, f64::INFINITY);
    // Label each job with a vehicle or "unassigned" (m).
    let mut label = vec![0usize; n];
    loop {
        let weight: f64 = (0..n)
            .filter(|&j| label[j] == m)
            .map(|j| 1.0 + p.jobs[j].priority as f64)
            .sum();
        if weight <= best.0 {
            let mut total = 0.0;
            let mut ok = true;
            for v in 0..m {
                let mut js: Vec<usize> = (0..n).filter(|&j| label[j] == v).collect();
                match best_order(p, v, &mut js) {
                    Some(c) => total += c,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok && (weight < best.0 || total < best.1) {
                best = (weight, total);
            }
        }
        // Next labelling.
        let mut i = 0;
        while i < n {
            label[i] += 1;
            if label[i] <= m {
                break;
            }
            label[i] = 0;
            i += 1;
        }
        if i == n {
            return best;
        }
    }
}

fn best_order(p: &Problem, v: usize, js: &mut [usize]) -> Option<f64> {
    if js.is_empty() {
        return Some(0.0);
    }
    let mut best: Option<f64> = None;
    permute(js, 0, &mut |s| {
        if let Some(c) = route_cost(p, v, s) {
            best = Some(best.map_or(c, |b: f64| b.min(c)));
        }
    });
    best
}

fn permute(a: &mut [usize], k: usize, f: &mut dyn FnMut(&[usize])) {
    if k == a.len() {
        f(a);
        return;
    }
    for i in k..a.len() {
        a.swap(k, i);
        permute(a, k + 1, f);
        a.swap(k, i);
    }
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20_240_601),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(100))]
    #[test]
    fn solutions_are_feasible(c in case(20)) {
        let p = build(&c);
        let s = solve_checked(&p, &opts(300));
        prop_assert_eq!(s.routes.iter().map(|r| r.stops.len()).sum::<usize>() + s.unassigned.len(), p.jobs.len());
    }
}

proptest! {
    #![proptest_config(config(300))]
    #[test]
    fn small_instances_are_solved_optimally(c in case(7)) {
        let p = build(&c);
        let s = solve_checked(&p, &opts(400));
        let weight: f64 = s.unassigned.iter().map(|u| 1.0 + p.jobs[u.job].priority as f64).sum();
        let (w, cost) = optimum(&p);
        prop_assert_eq!(weight, w, "unassigned weight");
        prop_assert!(
            (s.cost - cost).abs() < 1e-6,
            "cost {} vs optimum {}: {:?} in {}",
            s.cost,
            cost,
            route_ids(&s),
            serde_json::to_string(&p).unwrap()
        );
    }
}
