#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hot paths: insertion evaluation on a real route, one ruin-and-recreate step, and the
//! route cache update; the same step with straight lines tabled or computed inline.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use planner::generate::SolomonClass;
use planner::instance::Instance;
use planner::rng::Rng;
use planner::search::recreate::{recreate, Recreate};
use planner::search::ruin::{ruin, RuinParams};
use planner::search::State;

fn problem(name: &str) -> planner::Problem {
    let path = format!(
        "{}/../planner/data/solomon/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    planner::io::solomon::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One ruin-and-recreate step from `start`, on a copy of it in `cand`.
fn step(inst: &Instance, start: &State, cand: &mut State, rng: &mut Rng, allow_empty: bool) -> f64 {
    cand.clone_from(start);
    let removed = ruin(inst, cand, rng, &RuinParams::default());
    let rc = Recreate {
        allow_empty,
        blink: 0.01,
        urgency: None,
        open_bias: 1.0,
    };
    recreate(inst, cand, removed, rng, &rc);
    cand.cost()
}

fn bench(c: &mut Criterion) {
    let p = problem("R201");
    let inst = Instance::new(&p).unwrap();
    let mut rng = Rng::new(1);
    let st: State = planner::construct::build(&inst, &mut rng);
    let longest = st.routes.iter().max_by_key(|r| r.jobs).unwrap().clone();
    let absent: Vec<usize> = (0..inst.n)
        .filter(|j| longest.position(*j).is_none())
        .collect();

    c.bench_function("insert_cost: one job, every position of a route", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % absent.len();
            black_box(longest.best_insertion(&inst, absent[i], f64::INFINITY, || false))
        })
    });

    c.bench_function("route update (forward/backward caches)", |b| {
        let mut r = longest.clone();
        b.iter(|| {
            r.update(&inst);
            black_box(r.cost)
        })
    });

    c.bench_function("ruin and recreate step (R201, SISR + greedy blinks)", |b| {
        let mut cand = st.clone();
        b.iter(|| black_box(step(&inst, &st, &mut cand, &mut rng, false)))
    });

    let day = planner::generate::city_day(1000, 30, 1);
    let dinst = Instance::new(&day).unwrap();
    let dst = planner::construct::build(&dinst, &mut rng);
    c.bench_function("ruin and recreate step (city day, 1000 jobs)", |b| {
        let mut cand = dst.clone();
        b.iter(|| black_box(step(&dinst, &dst, &mut cand, &mut rng, true)))
    });
}

/// Where `travel::PLANE_ABOVE` comes from: the same ruin-and-recreate step on straight-line
/// problems of growing size, travel looked up in the dense table or computed inline (both
/// give the same bits, so only the time differs).
fn straight_lines(c: &mut Criterion) {
    let mut group = c.benchmark_group("ruin and recreate step, straight lines");
    let generated = |customers| {
        let text = planner::generate::solomon_like(SolomonClass::R2, customers, 1);
        planner::io::solomon::parse(&text).unwrap()
    };
    let sizes = [
        ("R201", problem("R201")),
        ("R2-like 200", generated(200)),
        ("R2-like 300", generated(300)),
        ("R2-like 1000", generated(1000)),
    ];
    for (name, p) in &sizes {
        let points = planner::travel::point_count(p);
        for (variant, table) in [
            ("table", planner::travel::tabled(p).unwrap()),
            ("inline", planner::travel::plane(p).unwrap()),
        ] {
            let mut inst = Instance::new(p).unwrap();
            inst.travel = table;
            let mut rng = Rng::new(1);
            let st = planner::construct::build(&inst, &mut rng);
            let mut cand = st.clone();
            let id = BenchmarkId::new(variant, format!("{name} ({points} points)"));
            group.bench_function(id, |b| {
                b.iter(|| black_box(step(&inst, &st, &mut cand, &mut rng, false)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench, straight_lines);
criterion_main!(benches);
