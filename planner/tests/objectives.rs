#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Each objective does what it says on generated city days: the same day solved under
//! `cost`, `balanced` and `earliest_finish` against the distance objective, every solution
//! accepted by the independent checker. And the search's constant-time insertion prices
//! agree with the routes' own prices under every objective.

mod common;

use common::solve_checked;
use planner::instance::Instance;
use planner::rng::Rng;
use planner::route::Route;
use planner::*;

const HOUR: f64 = 3600.0;

/// A city day with single windows (the insertion price is exact for those).
fn day(jobs: usize, couriers: usize, seed: u64) -> Problem {
    let mut p = generate::city_day(jobs, couriers, seed);
    for j in &mut p.jobs {
        j.time_windows.truncate(1);
    }
    p
}

fn solved(p: &Problem, objective: Objective) -> Solution {
    let o = SolveOptions {
        objective,
        iterations: Some(3_000),
        threads: 1,
        seed: 11,
        ..SolveOptions::default()
    };
    let s = solve_checked(p, &o);
    assert!(s.unassigned.is_empty(), "{objective:?}: {:?}", s.unassigned);
    s
}

/// Time spent waiting at doors for windows to open (arrival to service start).
fn waiting(s: &Solution) -> f64 {
    s.routes
        .iter()
        .flat_map(|r| &r.stops)
        .filter(|st| st.job.is_some())
        .map(|st| st.start - st.arrival)
        .sum()
}

fn durations(s: &Solution) -> Vec<f64> {
    s.routes.iter().map(|r| r.duration).collect()
}

fn longest(s: &Solution) -> f64 {
    durations(s).into_iter().fold(0.0, f64::max)
}

fn spread(s: &Solution) -> f64 {
    let d = durations(s);
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt()
}

/// Return times after the vehicles' shift starts: their sum and the latest.
fn finish(p: &Problem, s: &Solution) -> (f64, f64) {
    let f: Vec<f64> = s
        .routes
        .iter()
        .map(|r| r.end_time - p.vehicles[r.vehicle].shift.start)
        .collect();
    (f.iter().sum(), f.into_iter().fold(0.0, f64::max))
}

#[test]
fn cost_pays_for_waiting_so_couriers_wait_less_than_under_distance() {
    for seed in [1, 2] {
        let p = day(120, 10, seed);
        let (by_distance, by_cost) = (solved(&p, Objective::Distance), solved(&p, Objective::Cost));
        let (w_distance, w_cost) = (waiting(&by_distance), waiting(&by_cost));
        println!(
            "seed {seed}: waiting {:.1} h under distance, {:.1} h under cost; paid hours {:.1} / {:.1}",
            w_distance / HOUR,
            w_cost / HOUR,
            by_distance.duration / HOUR,
            by_cost.duration / HOUR,
        );
        assert!(
            w_cost < 0.8 * w_distance,
            "waiting {w_cost} under cost, {w_distance} under distance"
        );
        assert!(by_cost.duration < by_distance.duration);
    }
}

#[test]
fn balanced_evens_the_days_out_and_shortens_the_longest() {
    for seed in [1, 2] {
        let p = day(120, 10, seed);
        let (by_cost, balanced) = (solved(&p, Objective::Cost), solved(&p, Objective::Balanced));
        println!(
            "seed {seed}: longest {:.2} h / {:.2} h, spread {:.2} h / {:.2} h (cost / balanced)",
            longest(&by_cost) / HOUR,
            longest(&balanced) / HOUR,
            spread(&by_cost) / HOUR,
            spread(&balanced) / HOUR
        );
        assert!(spread(&balanced) < 0.7 * spread(&by_cost));
        assert!(longest(&balanced) < longest(&by_cost));
    }
}

#[test]
fn earliest_finish_brings_couriers_back_sooner() {
    for seed in [1, 2] {
        let p = day(120, 10, seed);
        let (by_cost, earliest) = (
            solved(&p, Objective::Cost),
            solved(&p, Objective::EarliestFinish),
        );
        let (c, e) = (finish(&p, &by_cost), finish(&p, &earliest));
        println!(
            "seed {seed}: returns after the shift's start sum {:.1} h / {:.1} h, latest {:.2} h / {:.2} h (cost / earliest_finish)",
            c.0 / HOUR,
            e.0 / HOUR,
            c.1 / HOUR,
            e.1 / HOUR
        );
        assert!(e.0 < c.0 && e.1 <= c.1);
    }
}

#[test]
fn fewest_couriers_uses_no_more_couriers_than_cost() {
    let p = day(120, 14, 3);
    let (by_cost, fewest) = (
        solved(&p, Objective::Cost),
        solved(&p, Objective::FewestCouriers),
    );
    println!(
        "couriers: {} under cost, {} under fewest_couriers",
        by_cost.vehicles, fewest.vehicles
    );
    assert!(fewest.vehicles <= by_cost.vehicles);
}

#[test]
fn the_api_names_of_the_objectives_are_read() {
    for (name, o) in [
        ("\"fewest_couriers\"", Objective::FewestCouriers),
        ("\"hierarchical\"", Objective::Hierarchical),
        ("\"cost\"", Objective::Cost),
        ("\"balanced\"", Objective::Balanced),
        ("\"earliest_finish\"", Objective::EarliestFinish),
        ("\"distance\"", Objective::Distance),
    ] {
        assert_eq!(serde_json::from_str::<Objective>(name).unwrap(), o);
    }
}

/// Random insertions into growing routes: the price the search predicts for an insertion is
/// what the route costs once the job is in.
#[test]
fn insertion_prices_match_the_routes_prices_under_every_objective() {
    let p = day(60, 4, 5);
    for objective in [
        Objective::Distance,
        Objective::Cost,
        Objective::Balanced,
        Objective::EarliestFinish,
    ] {
        let inst = Instance::new(&p).unwrap().for_objective(objective);
        let mut routes: Vec<Route> = (0..inst.m).map(|v| Route::new(&inst, v)).collect();
        let mut rng = Rng::new(3);
        let mut placed = vec![false; inst.n];
        let mut checked = 0;
        for _ in 0..4_000 {
            let j = rng.below(inst.n);
            let r = rng.below(routes.len());
            if placed[j] {
                continue;
            }
            let route = &routes[r];
            let k = rng.below(route.nodes.len() - 1);
            let Some(delta) = route.insert_cost(&inst, j, k, f64::INFINITY) else {
                continue;
            };
            let mut after = route.clone();
            after.insert(&inst, j, k);
            assert!(after.feasible(&inst));
            let real = after.cost - route.cost;
            assert!(
                (delta - real).abs() <= 1e-6 * real.abs().max(1.0),
                "{objective:?}: predicted {delta}, real {real} (job {j} after position {k})"
            );
            checked += 1;
            if rng.f64() < 0.5 {
                routes[r] = after;
                placed[j] = true;
            }
        }
        assert!(
            checked > 100,
            "{objective:?}: only {checked} insertions checked"
        );
    }
}

/// The distance objective's walk sometimes weighs an empty route at a share of its cost
/// (`Recreate::open_bias`), so that it reaches days with more routes: weighed at a hundredth,
/// the second job takes a route of its own though the open route would take it for less; at
/// its true cost or half of it, it joins the open route.
#[test]
fn recreate_opens_a_route_when_empty_ones_are_weighed_down() {
    use planner::search::recreate::{recreate, Recreate};
    use planner::search::State;
    let p = common::problem(
        vec![common::job("a", 10.0, 0.0), common::job("b", 12.0, 3.0)],
        vec![common::vehicle("v1", 10), common::vehicle("v2", 10)],
    );
    let inst = Instance::new(&p)
        .unwrap()
        .for_objective(Objective::Distance);
    for (open_bias, routes) in [(1.0, 1), (0.5, 1), (0.01, 2)] {
        for seed in 0..8 {
            let mut st = State::new(&inst);
            let rc = Recreate {
                allow_empty: true,
                blink: 0.0,
                urgency: None,
                open_bias,
            };
            recreate(&inst, &mut st, Vec::new(), &mut Rng::new(seed), &rc);
            let s = solver::to_solution(&inst, &st);
            check(&p, &s).expect("the checker accepts the recreated day");
            assert!(s.unassigned.is_empty());
            assert_eq!(s.routes.len(), routes, "open_bias {open_bias}, seed {seed}");
        }
    }
}
