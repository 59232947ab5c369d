#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Random small instances (two capacity dimensions, skills, breaks, multiple windows,
//! pickups, priorities, per-vehicle costs, both objectives): every solution passes the
//! checker; with at most 7 jobs the checker's figures for it equal the optimum of an
//! exhaustive search with its own simple evaluator.

mod common;
use common::*;
use planner::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::collections::HashMap;

/// (x, y), (window start, length), (delivery, delivery, pickup, pickup), priority, service,
/// needs the `fridge` skill.
type JobSpec = ((f64, f64), (f64, f64), (i32, i32, i32, i32), u32, f64, bool);
/// (capacity, capacity), has `fridge`, break (window start, window length, duration),
/// cost per distance, cost per time.
type VehicleSpec = ((i32, i32), bool, Option<(f64, f64, f64)>, f64, f64);

#[derive(Debug, Clone)]
struct Case {
    jobs: Vec<JobSpec>,
    vehicles: Vec<VehicleSpec>,
    shift_end: f64,
    hierarchical: bool,
}

fn case(max_jobs: usize) -> impl Strategy<Value = Case> {
    let job = (
        (-50.0..50.0f64, -50.0..50.0f64),
        (0.0..150.0f64, 10.0..120.0f64),
        (0..5i32, 0..3i32, 0..5i32, 0..3i32),
        0..3u32,
        0.0..10.0f64,
        prop::bool::weighted(0.2),
    );
    let vehicle = (
        (3..12i32, 2..6i32),
        prop::bool::weighted(0.6),
        prop::option::weighted(0.5, (0.0..150.0f64, 0.0..60.0f64, 5.0..30.0f64)),
        prop::sample::select(vec![1.0, 1.5]),
        prop::sample::select(vec![0.0, 0.5]),
    );
    (
        prop::collection::vec(job, 1..=max_jobs),
        prop::collection::vec(vehicle, 1..=2),
        150.0..400.0f64,
        any::<bool>(),
    )
        .prop_map(|(jobs, vehicles, shift_end, hierarchical)| Case {
            jobs,
            vehicles,
            shift_end,
            hierarchical,
        })
}

fn build(c: &Case) -> Problem {
    let jobs = c
        .jobs
        .iter()
        .enumerate()
        .map(
            |(i, &((x, y), (ws, wl), (d0, d1, p0, p1), pr, sv, fridge))| {
                let mut j = job(&format!("j{i}"), x, y);
                j.time_windows = vec![TimeWindow::new(ws, ws + wl)];
                if i % 3 == 2 {
                    // Some jobs get a second window.
                    j.time_windows
                        .push(TimeWindow::new(ws + wl + 60.0, ws + wl + 120.0));
                }
                j.delivery = vec![d0, d1];
                j.pickup = vec![p0, p1];
                j.priority = pr;
                j.service = sv;
                if fridge {
                    j.skills = vec!["fridge".into()];
                }
                j
            },
        )
        .collect();
    let vehicles = c
        .vehicles
        .iter()
        .enumerate()
        .map(|(i, &((c0, c1), fridge, brk, cpd, cpt))| {
            let mut v = vehicle(&format!("v{i}"), c0);
            v.capacity = vec![c0, c1];
            v.shift = TimeWindow::new(0.0, c.shift_end);
            if fridge {
                v.skills = vec!["fridge".into()];
            }
            v.break_ = brk.map(|(ws, wl, duration)| Break {
                duration,
                window: TimeWindow::new(ws, ws + wl),
            });
            v.cost_per_distance = cpd;
            v.cost_per_time = cpt;
            v
        })
        .collect();
    problem(jobs, vehicles)
}

/// `None` for a job, or the break.
type Item = Option<usize>;

/// Cost of serving `seq` with vehicle `v` leaving at its shift start, if feasible (own
/// evaluator; travel time equals distance at speed 1).
fn route_cost(p: &Problem, v: usize, seq: &[Item]) -> Option<f64> {
    let veh = &p.vehicles[v];
    let d = |a: Location, b: Location| ((a.lat - b.lat).powi(2) + (a.lon - b.lon).powi(2)).sqrt();
    let jobs = || seq.iter().flatten().map(|&j| &p.jobs[j]);
    if jobs().any(|j| j.skills.iter().any(|s| !veh.skills.contains(s))) {
        return None;
    }
    let mut load = [0, 1].map(|k| jobs().map(|j| j.delivery[k]).sum::<i32>());
    if (0..2).any(|k| load[k] > veh.capacity[k]) {
        return None;
    }
    let (mut t, mut here, mut dist) = (veh.shift.start, veh.start, 0.0);
    for item in seq {
        let Some(j) = *item else {
            let b = veh.break_?;
            let start = t.max(b.window.start);
            if start > b.window.end {
                return None;
            }
            t = start + b.duration;
            continue;
        };
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
        for (k, l) in load.iter_mut().enumerate() {
            *l += job.pickup[k] - job.delivery[k];
            if *l > veh.capacity[k] {
                return None;
            }
        }
        here = job.location;
    }
    let step = d(here, veh.end);
    dist += step;
    (t + step <= veh.shift.end).then_some((veh.cost_per_distance + veh.cost_per_time) * dist)
}

/// Best (unassigned weight, vehicles used or 0, cost) over all assignments, orders and
/// break positions; vehicles count only for the hierarchical objective.
fn optimum(p: &Problem, hierarchical: bool) -> (f64, usize, f64) {
    let n = p.jobs.len();
    let m = p.vehicles.len();
    let mut memo: HashMap<(usize, u32), Option<f64>> = HashMap::new();
    let mut best = (f64::INFINITY, usize::MAX, f64::INFINITY);
    // Label each job with a vehicle or "unassigned" (m).
    let mut label = vec![0usize; n];
    loop {
        let weight: f64 = (0..n)
            .filter(|&j| label[j] == m)
            .map(|j| 1.0 + p.jobs[j].priority as f64)
            .sum();
        if weight <= best.0 {
            let (mut total, mut used) = (0.0, 0);
            let mut ok = true;
            for v in 0..m {
                let set = (0..n)
                    .filter(|&j| label[j] == v)
                    .fold(0u32, |s, j| s | 1 << j);
                used += usize::from(set != 0);
                let c = *memo
                    .entry((v, set))
                    .or_insert_with(|| best_order(p, v, set));
                match c {
                    Some(c) => total += c,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            let used = if hierarchical { used } else { 0 };
            if ok && (weight, used, total) < best {
                best = (weight, used, total);
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

/// Cheapest feasible order of the jobs in `set` on `v`, the break (if any) at every place.
fn best_order(p: &Problem, v: usize, set: u32) -> Option<f64> {
    let mut js: Vec<Item> = (0..p.jobs.len())
        .filter(|j| set & 1 << j != 0)
        .map(Some)
        .collect();
    if js.is_empty() {
        return Some(0.0);
    }
    let with_break = p.vehicles[v].break_.is_some();
    let mut best: Option<f64> = None;
    permute(&mut js, 0, &mut |s| {
        let places = if with_break { s.len() + 1 } else { 1 };
        for k in 0..places {
            let mut seq = s.to_vec();
            if with_break {
                seq.insert(k, None);
            }
            if let Some(c) = route_cost(p, v, &seq) {
                best = Some(best.map_or(c, |b: f64| b.min(c)));
            }
        }
    });
    best
}

fn permute(a: &mut [Item], k: usize, f: &mut dyn FnMut(&[Item])) {
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

fn objective(c: &Case) -> SolveOptions {
    SolveOptions {
        objective: if c.hierarchical {
            Objective::Hierarchical
        } else {
            Objective::Distance
        },
        ..opts(400)
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
        let s = solve_checked(&p, &objective(&c));
        let served = s.routes.iter().flat_map(|r| &r.stops).filter(|st| st.job.is_some()).count();
        prop_assert_eq!(served + s.unassigned.len(), p.jobs.len());
    }
}

proptest! {
    #![proptest_config(config(300))]
    #[test]
    fn small_instances_are_solved_optimally(c in case(7)) {
        let p = build(&c);
        let s = solve(&p, &objective(&c)).unwrap();
        // The checker's figures, not the solution's own.
        let r = check(&p, &s).unwrap();
        let weight: f64 = s.unassigned.iter().map(|u| 1.0 + p.jobs[u.job].priority as f64).sum();
        let (w, vehicles, cost) = optimum(&p, c.hierarchical);
        prop_assert_eq!(weight, w, "unassigned weight");
        if c.hierarchical {
            prop_assert_eq!(r.vehicles, vehicles, "vehicles");
        }
        prop_assert!(
            (r.cost - cost).abs() < 1e-6,
            "cost {} vs optimum {}: {:?} in {}",
            r.cost,
            cost,
            route_ids(&s),
            serde_json::to_string(&p).unwrap()
        );
    }
}

/// Vehicle 0's route built by cheapest insertion from the units (jobs, shipment pickups) that
/// fit, each third one left out on purpose; returns it with the units left out.
fn route_of_most_units(inst: &planner::instance::Instance) -> (planner::route::Route, Vec<usize>) {
    let mut route = planner::route::Route::new(inst, 0);
    let mut left = Vec::new();
    for j in (0..inst.n).filter(|&j| inst.is_unit(j)) {
        match route.best_insertion(inst, j, f64::INFINITY, || false) {
            Some((_, k, k2)) if j % 3 != 0 => route.insert_unit(inst, j, (k, k2)),
            _ => left.push(j),
        }
    }
    (route, left)
}

proptest! {
    #![proptest_config(config(3000))]
    /// The constant-time insertion check against the route rebuilt with the job in place, at
    /// every place of a route built from the case's jobs (with its break, windows, loads):
    /// the same verdict and cost, and `best_insertion` (whose walk stops once departures pass
    /// the job's last window) finds the cheapest of them.
    #[test]
    fn insertion_checks_agree_with_the_rebuilt_route(c in case(12)) {
        let p = build(&c);
        let inst = planner::instance::Instance::new(&p).unwrap();
        let (route, left) = route_of_most_units(&inst);
        // (An empty route may be "infeasible": its break alone may not fit in the shift.)
        prop_assert!(route.is_empty() || route.feasible(&inst));
        for &j in &left {
            if !inst.compatible(j, route.v) {
                // Skills are `best_insertion`'s test, not the per-place check's.
                prop_assert_eq!(route.best_insertion(&inst, j, f64::INFINITY, || false), None);
                continue;
            }
            let mut cheapest: Option<(f64, usize, usize)> = None;
            for k in route.locked..route.nodes.len() - 1 {
                let mut rebuilt = route.clone();
                rebuilt.insert(&inst, j, k);
                let fits = rebuilt.feasible(&inst);
                let checked = route.insert_cost(&inst, j, k, f64::INFINITY);
                prop_assert_eq!(checked.is_some(), fits, "job {} after position {}", j, k);
                if let Some(delta) = checked {
                    prop_assert!((delta - (rebuilt.cost - route.cost)).abs() < 1e-6);
                    if cheapest.is_none_or(|b| delta < b.0) {
                        cheapest = Some((delta, k, k));
                    }
                }
            }
            prop_assert_eq!(route.best_insertion(&inst, j, f64::INFINITY, || false), cheapest);
        }
    }
}

/// Pickup (x, y), delivery (x, y), pickup window (start, length), delivery window (start
/// after the pickup's, length), amount carried, load taken back at the delivery (an
/// exchange), needs `fridge`.
type ShipmentSpec = (
    ((f64, f64), (f64, f64)),
    ((f64, f64), (f64, f64)),
    (i32, i32),
    Option<(i32, i32)>,
    bool,
);

fn shipments(max: usize) -> impl Strategy<Value = Vec<ShipmentSpec>> {
    let shipment = (
        (
            (-30.0..30.0f64, -30.0..30.0f64),
            (-30.0..30.0f64, -30.0..30.0f64),
        ),
        (
            (0.0..150.0f64, 20.0..250.0f64),
            (0.0..80.0f64, 20.0..250.0f64),
        ),
        (1..3i32, 0..2i32),
        prop::option::weighted(0.25, (0..3i32, 0..2i32)),
        prop::bool::weighted(0.2),
    );
    prop::collection::vec(shipment, 1..=max)
}

fn with_shipments(c: &Case, specs: &[ShipmentSpec]) -> Problem {
    let mut p = build(c);
    let step = |(x, y): (f64, f64), (start, length): (f64, f64), service: f64| ShipmentStep {
        id: None,
        location: loc(x, y),
        service,
        time_windows: vec![TimeWindow::new(start, start + length)],
        pickup: vec![],
    };
    p.shipments = specs
        .iter()
        .enumerate()
        .map(|(i, &((from, to), (pw, dw), (a0, a1), back, fridge))| {
            let mut delivery = step(to, (pw.0 + dw.0, dw.1), 3.0);
            if let Some((b0, b1)) = back {
                delivery.pickup = vec![b0, b1];
            }
            Shipment {
                id: format!("s{i}"),
                pickup: step(from, pw, 5.0),
                delivery,
                amount: vec![a0, a1],
                skills: if fridge {
                    vec!["fridge".into()]
                } else {
                    vec![]
                },
                priority: 0,
            }
        })
        .collect();
    p
}

proptest! {
    #![proptest_config(config(5000))]
    /// The pair insertion (the pickup's place, then one walk of the route after it for the
    /// delivery's) against every pair of places tried by rebuilding the route with both steps
    /// in: the same verdict, the cheapest cost, and a place whose rebuilt route is feasible at
    /// that cost. The route holds jobs and other shipments (loads on board across the places
    /// tried, exchanges, the vehicle's break and windows).
    #[test]
    fn pair_insertion_agrees_with_every_rebuilt_route(c in case(8), specs in shipments(6)) {
        let p = with_shipments(&c, &specs);
        let inst = planner::instance::Instance::new(&p).unwrap();
        let (route, left) = route_of_most_units(&inst);
        prop_assert!(route.is_empty() || route.feasible(&inst));
        for &s in left.iter().filter(|&&j| inst.is_pickup(j)) {
            let found = route.best_insertion(&inst, s, f64::INFINITY, || false);
            if !inst.compatible(s, route.v) {
                prop_assert_eq!(found, None);
                continue;
            }
            let mut cheapest: Option<f64> = None;
            for k in route.locked..route.nodes.len() - 1 {
                for k2 in k..route.nodes.len() - 1 {
                    let mut rebuilt = route.clone();
                    rebuilt.insert_unit(&inst, s, (k, k2));
                    if rebuilt.feasible(&inst) {
                        let delta = rebuilt.cost - route.cost;
                        cheapest = Some(cheapest.map_or(delta, |b| b.min(delta)));
                    }
                }
            }
            prop_assert_eq!(found.is_some(), cheapest.is_some(), "shipment pickup {}", s);
            if let (Some((delta, k, k2)), Some(best)) = (found, cheapest) {
                prop_assert!((delta - best).abs() < 1e-6, "{} found, {} by rebuilding", delta, best);
                let mut rebuilt = route.clone();
                rebuilt.insert_unit(&inst, s, (k, k2));
                prop_assert!(rebuilt.feasible(&inst));
                prop_assert!((rebuilt.cost - route.cost - delta).abs() < 1e-6);
            }
        }
    }
}
