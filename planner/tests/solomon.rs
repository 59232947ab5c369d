#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A few Solomon instances with a small iteration budget: feasible by the checker and within
//! a loose gap of the best known (never exact routes).

use planner::*;

/// The best known (vehicles, distance): fewest vehicles first, or for the distance objective
/// the distance-minimising one (its own columns in bks.csv), which may use more vehicles.
fn bks(name: &str, objective: Objective) -> (usize, f64) {
    let csv = include_str!("../data/solomon/bks.csv");
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{name},")))
        .unwrap();
    let f: Vec<&str> = line.split(',').collect();
    let (veh, dist) = match objective {
        Objective::Distance => (f[4], f[5]),
        _ => (f[1], f[2]),
    };
    (veh.parse().unwrap(), dist.parse().unwrap())
}

fn run(name: &str, objective: Objective, max_extra_vehicles: usize, max_gap: f64) {
    let path = format!("{}/data/solomon/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let p = io::solomon::parse(&text).unwrap();
    assert_eq!(p.jobs.len(), 100);
    let o = SolveOptions {
        objective,
        iterations: Some(3000),
        threads: 2,
        seed: 1,
        ..SolveOptions::default()
    };
    let s = solve(&p, &o).unwrap();
    // The checker's figures, not the solution's own.
    let r = check(&p, &s).unwrap_or_else(|v| panic!("{name}: {v:?}"));
    let (veh, dist) = bks(name, objective);
    assert_eq!(r.unassigned, 0);
    assert!(
        r.vehicles <= veh + max_extra_vehicles,
        "{name}: {} vehicles vs {veh}",
        r.vehicles
    );
    let gap = (r.distance - dist) / dist;
    assert!(gap <= max_gap, "{name}: distance {} vs {dist}", r.distance);
}

#[test]
fn c101() {
    run("C101", Objective::Hierarchical, 0, 0.02);
}

#[test]
fn r101() {
    run("R101", Objective::Hierarchical, 2, 0.08);
}

#[test]
fn rc201() {
    run("RC201", Objective::Hierarchical, 1, 0.15);
}

#[test]
fn r205_distance_objective() {
    run("R205", Objective::Distance, 2, 0.10);
}

#[test]
fn crlf_and_bad_files() {
    let path = format!("{}/data/solomon/C101.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("\r\n"));
    let p = io::solomon::parse(&text).unwrap();
    assert_eq!(p.vehicles.len(), 25);
    assert_eq!(p.vehicles[0].capacity, vec![200]);
    let broken = text.replacen("  912  ", "  9x2  ", 1);
    let err = io::solomon::parse(&broken).unwrap_err().to_string();
    assert!(err.contains("line 11"), "{err}");
    let short = text.replacen("       90   ", " ", 1);
    assert!(io::solomon::parse(&short).is_err());
    assert!(io::solomon::parse("").is_err());
}
