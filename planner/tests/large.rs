#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Generated city days at scale, checked by the independent checker. Slow (wall-clock
//! budgets): run explicitly with
//! `cargo test --release -p planner --test large -- --ignored --nocapture`.

mod common;
use common::recording;
use planner::*;
use std::time::{Duration, Instant};

fn day(jobs: usize, couriers: usize, seconds: u64) {
    let p = generate::city_day(jobs, couriers, 1);
    let (o, trace) = recording(SolveOptions {
        time_limit: Some(Duration::from_secs(seconds)),
        ..SolveOptions::default()
    });
    let t = Instant::now();
    let s = solve(&p, &o).unwrap();
    let wall = t.elapsed().as_secs_f64();
    let report = check(&p, &s).unwrap();
    let trace = trace.lock().unwrap();
    println!(
        "{jobs} jobs / {couriers} couriers, {seconds} s: wall {wall:.1} s, {} routes, cost {:.1}, {} unassigned, {} iterations",
        report.vehicles, report.cost, report.unassigned, s.iterations
    );
    for p in trace.iter() {
        println!(
            "  t={:6.1}s cost {:.1} vehicles {} unassigned {}",
            p.elapsed, p.cost, p.vehicles, p.unassigned
        );
    }
    assert!(
        s.unassigned.len() * 100 < jobs,
        "{} unassigned",
        s.unassigned.len()
    );
    assert!(trace.last().unwrap().cost <= trace[0].cost);
}

#[test]
#[ignore]
fn city_1000() {
    day(1000, 30, 30);
}

#[test]
#[ignore]
fn city_10000() {
    day(10_000, 300, 60);
}
