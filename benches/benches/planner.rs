#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hot paths: insertion evaluation on a real route, one ruin-and-recreate step, and the
//! route cache update.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
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
        let prm = RuinParams::default();
        let rc = Recreate {
            allow_empty: false,
            blink: 0.01,
            urgency: None,
            open_bias: 1.0,
        };
        b.iter(|| {
            cand.clone_from(&st);
            let removed = ruin(&inst, &mut cand, &mut rng, &prm);
            recreate(&inst, &mut cand, removed, &mut rng, &rc);
            black_box(cand.cost())
        })
    });

    let day = planner::generate::city_day(1000, 30, 1);
    let dinst = Instance::new(&day).unwrap();
    let dst = planner::construct::build(&dinst, &mut rng);
    c.bench_function("ruin and recreate step (city day, 1000 jobs)", |b| {
        let mut cand = dst.clone();
        let prm = RuinParams::default();
        let rc = Recreate {
            allow_empty: true,
            blink: 0.01,
            urgency: None,
            open_bias: 1.0,
        };
        b.iter(|| {
            cand.clone_from(&dst);
            let removed = ruin(&dinst, &mut cand, &mut rng, &prm);
            recreate(&dinst, &mut cand, removed, &mut rng, &rc);
            black_box(cand.cost())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
