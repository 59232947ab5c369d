#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Solomon-style instances of any size (`planner generate --solomon-like`): Solomon's text
//! format, each class's shape, every customer servable alone, the same text for the same
//! seed; solved and accepted by the checker.

use planner::generate::{solomon_like, SolomonClass};
use planner::*;

#[test]
fn each_class_has_its_shape_and_every_customer_fits_alone() {
    for class in SolomonClass::ALL {
        let text = solomon_like(class, 400, 3);
        assert_eq!(text, solomon_like(class, 400, 3), "{class:?} same seed");
        assert_ne!(text, solomon_like(class, 400, 4), "{class:?} other seed");
        let p = io::solomon::parse(&text).unwrap();
        assert_eq!(p.jobs.len(), 400, "{class:?}");
        assert_eq!(p.vehicles.len(), 100, "{class:?}");
        let capacity = p.vehicles[0].capacity[0];
        let horizon = p.vehicles[0].shift.end;
        let depot = p.vehicles[0].start;
        let (want_capacity, solomon_horizon) = match class {
            SolomonClass::C1 => (200, 1236.0),
            SolomonClass::C2 => (700, 3390.0),
            SolomonClass::R1 => (200, 230.0),
            SolomonClass::R2 => (1000, 1000.0),
            SolomonClass::Rc1 => (200, 240.0),
            SolomonClass::Rc2 => (1000, 960.0),
        };
        assert_eq!(capacity, want_capacity, "{class:?}");
        // 400 customers: twice Solomon's grid side, twice his horizon.
        assert_eq!(horizon, 2.0 * solomon_horizon, "{class:?}");
        for job in &p.jobs {
            let w = job.time_windows[0];
            let d = ((job.location.lat - depot.lat).powi(2)
                + (job.location.lon - depot.lon).powi(2))
            .sqrt();
            assert!(w.start <= w.end, "{class:?} {}", job.id);
            assert!(
                d <= w.end,
                "{class:?} {}: reachable by its due time",
                job.id
            );
            assert!(
                d.max(w.start) + job.service + d <= horizon + 1e-9,
                "{class:?} {}: home in time",
                job.id
            );
        }
    }
}

#[test]
fn a_generated_instance_is_solved_and_checked() {
    let text = solomon_like(SolomonClass::Rc1, 200, 1);
    let p = io::solomon::parse(&text).unwrap();
    let s = solve(
        &p,
        &SolveOptions {
            objective: Objective::Hierarchical,
            iterations: Some(500),
            threads: 1,
            seed: 1,
            ..SolveOptions::default()
        },
    )
    .unwrap();
    let r = check(&p, &s).unwrap_or_else(|v| panic!("{v:?}"));
    assert_eq!(r.unassigned, 0);
    assert!(r.vehicles < 50, "{} vehicles", r.vehicles);
}
