#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `planner::timing`: re-timing edited routes, violations reported instead of refused.

mod common;
use common::*;
use planner::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn assert_same_route(a: &Route, b: &Route) {
    assert_eq!(a.vehicle, b.vehicle);
    assert_eq!(a.stops.len(), b.stops.len(), "{a:#?}\n{b:#?}");
    for (x, y) in a.stops.iter().zip(&b.stops) {
        assert_eq!(x.job, y.job);
        assert_eq!(x.job_id, y.job_id);
        assert_eq!(x.load, y.load);
        assert!(
            close(x.arrival, y.arrival)
                && close(x.start, y.start)
                && close(x.departure, y.departure),
            "{x:?} vs {y:?}"
        );
    }
    for (x, y) in [
        (a.start_time, b.start_time),
        (a.end_time, b.end_time),
        (a.distance, b.distance),
        (a.duration, b.duration),
        (a.cost, b.cost),
    ] {
        assert!(close(x, y), "{x} vs {y}");
    }
}

fn jobs_of(r: &Route) -> Vec<usize> {
    r.stops.iter().filter_map(|s| s.job).collect()
}

fn kinds(t: &TimedRoute) -> Vec<&ViolationKind> {
    t.violations.iter().map(|v| &v.kind).collect()
}

#[test]
fn solved_routes_retime_identically() {
    // Without breaks the schedule is determined by the order alone.
    let mut p = planner::generate::city_day(60, 4, 3);
    for v in &mut p.vehicles {
        v.break_ = None;
    }
    let s = solve_checked(&p, &opts(300));
    assert!(!s.routes.is_empty());
    for r in &s.routes {
        let t = retime(&p, r.vehicle, &jobs_of(r)).unwrap();
        assert!(t.violations.is_empty(), "{:?}", t.violations);
        assert_same_route(&t.route, r);
    }
    let given: Vec<(usize, Vec<usize>)> =
        s.routes.iter().map(|r| (r.vehicle, jobs_of(r))).collect();
    let (sol, violations) = retime_solution(&p, &given).unwrap();
    assert!(violations.is_empty());
    check(&p, &sol).unwrap();
    assert_eq!(sol.unassigned, s.unassigned);
    assert!(close(sol.distance, s.distance) && close(sol.cost, s.cost));
}

#[test]
fn solved_routes_with_breaks_retime_identically() {
    let p = planner::generate::city_day(60, 4, 3);
    let s = solve_checked(&p, &opts(300));
    let mut given = Vec::new();
    for r in &s.routes {
        // The break where the solver put it: the same schedule.
        let stops: Vec<Option<usize>> = r.stops.iter().map(|s| s.job).collect();
        assert_eq!(stops.iter().filter(|s| s.is_none()).count(), 1);
        let t = retime_stops(&p, r.vehicle, &stops).unwrap();
        assert!(t.violations.is_empty(), "{:?}", t.violations);
        assert_same_route(&t.route, r);
        // Placed automatically: same jobs in the same order, still feasible.
        let t = retime(&p, r.vehicle, &jobs_of(r)).unwrap();
        assert!(t.violations.is_empty(), "{:?}", t.violations);
        assert_eq!(jobs_of(&t.route), jobs_of(r));
        assert!(t.route.end_time <= r.end_time + 1e-6, "earliest return");
        given.push((r.vehicle, jobs_of(r)));
    }
    let (sol, violations) = retime_solution(&p, &given).unwrap();
    assert!(violations.is_empty());
    check(&p, &sol).unwrap();
}

#[test]
fn swapped_stops_are_late() {
    let mut a = job("a", 10.0, 0.0);
    a.time_windows = vec![TimeWindow::new(0.0, 15.0)];
    let mut b = job("b", 20.0, 0.0);
    b.time_windows = vec![TimeWindow::new(0.0, 100.0)];
    let p = problem(vec![a, b], vec![vehicle("v", 10)]);
    let s = solve_checked(&p, &opts(50));
    assert_eq!(jobs_of(&s.routes[0]), vec![0, 1]);
    let t = retime(&p, 0, &[1, 0]).unwrap();
    assert_eq!(t.violations.len(), 1, "{:?}", t.violations);
    let v = &t.violations[0];
    assert_eq!((v.job, v.job_id.as_deref()), (Some(0), Some("a")));
    assert_eq!(
        v.kind,
        ViolationKind::Late {
            arrival: 30.0,
            window_end: 15.0,
            seconds: 15.0
        }
    );
    // Service starts on arrival; the checker rejects the route, as it should.
    assert_eq!(t.route.stops[1].start, 30.0);
    let (sol, vs) = retime_solution(&p, &[(0, vec![1, 0])]).unwrap();
    assert_eq!(vs, vec![(0, v.clone())]);
    assert!(check(&p, &sol).is_err());
}

#[test]
fn later_window_is_used_when_the_first_closed() {
    let mut a = job("a", 10.0, 0.0);
    a.time_windows = vec![TimeWindow::new(0.0, 5.0), TimeWindow::new(50.0, 60.0)];
    let p = problem(vec![a], vec![vehicle("v", 10)]);
    let t = retime(&p, 0, &[0]).unwrap();
    assert!(t.violations.is_empty());
    // Departure delayed so as not to wait.
    assert_eq!(t.route.start_time, 40.0);
    assert_eq!(t.route.stops[0].start, 50.0);
}

#[test]
fn over_capacity_at_departure_and_after_a_pickup() {
    let jobs: Vec<Job> = (0..3)
        .map(|i| {
            let mut j = job(&format!("d{i}"), 1.0 + i as f64, 0.0);
            j.delivery = vec![6];
            j
        })
        .collect();
    let p = problem(jobs, vec![vehicle("v", 10)]);
    let t = retime(&p, 0, &[0, 1, 2]).unwrap();
    let over: Vec<(Option<usize>, &ViolationKind)> =
        t.violations.iter().map(|v| (v.job, &v.kind)).collect();
    assert_eq!(
        over,
        vec![
            (
                None,
                &ViolationKind::OverCapacity {
                    dimension: 0,
                    load: 18,
                    capacity: 10
                }
            ),
            (
                Some(0),
                &ViolationKind::OverCapacity {
                    dimension: 0,
                    load: 12,
                    capacity: 10
                }
            ),
        ]
    );
    assert_eq!(t.route.stops[2].load, vec![0]);

    let mut pk = job("pk", 1.0, 0.0);
    pk.delivery = vec![0];
    pk.pickup = vec![0, 7];
    let mut v = vehicle("v", 10);
    v.capacity = vec![10, 5];
    let p = problem(vec![pk], vec![v]);
    let t = retime(&p, 0, &[0]).unwrap();
    assert_eq!(t.violations.len(), 1);
    assert_eq!(t.violations[0].job_id.as_deref(), Some("pk"));
    assert_eq!(
        t.violations[0].kind,
        ViolationKind::OverCapacity {
            dimension: 1,
            load: 7,
            capacity: 5
        }
    );
}

#[test]
fn missing_skill() {
    let mut a = job("a", 1.0, 0.0);
    a.skills = vec!["fridge".into(), "crane".into()];
    let mut v = vehicle("v", 10);
    v.skills = vec!["crane".into()];
    let p = problem(vec![a, job("b", 2.0, 0.0)], vec![v]);
    let t = retime(&p, 0, &[1, 0]).unwrap();
    assert_eq!(t.violations.len(), 1);
    assert_eq!(t.violations[0].job, Some(0));
    assert_eq!(
        t.violations[0].kind,
        ViolationKind::MissingSkill {
            skills: vec!["fridge".into()]
        }
    );
}

#[test]
fn shift_overrun_and_max_duration() {
    let p = problem(vec![job("far", 600.0, 0.0)], vec![vehicle("v", 10)]);
    let t = retime(&p, 0, &[0]).unwrap();
    assert_eq!(
        kinds(&t),
        vec![&ViolationKind::ShiftOverrun {
            end: 1200.0,
            shift_end: 1000.0,
            seconds: 200.0
        }]
    );
    assert_eq!(t.violations[0].job, None);

    let mut v = vehicle("v", 10);
    v.max_duration = Some(100.0);
    let p = problem(vec![job("a", 60.0, 0.0)], vec![v]);
    let t = retime(&p, 0, &[0]).unwrap();
    assert_eq!(
        kinds(&t),
        vec![&ViolationKind::MaxDuration {
            duration: 120.0,
            max_duration: 100.0,
            seconds: 20.0
        }]
    );
}

#[test]
fn break_goes_where_it_fits_or_is_reported_missed() {
    let jobs: Vec<Job> = (0..4)
        .map(|i| {
            let mut j = job(&format!("j{i}"), 10.0 * (i + 1) as f64, 0.0);
            j.service = 30.0;
            j
        })
        .collect();
    let mut v = vehicle("v", 100);
    v.break_ = Some(Break {
        duration: 50.0,
        window: TimeWindow::new(60.0, 90.0),
    });
    let p = problem(jobs.clone(), vec![v.clone()]);
    let t = retime(&p, 0, &[0, 1, 2, 3]).unwrap();
    assert!(t.violations.is_empty(), "{:?}", t.violations);
    let b = t.route.stops.iter().position(|s| s.job.is_none()).unwrap();
    // j0 ends at 40, j1 at 80: the break right after j1 needs no waiting.
    assert_eq!(b, 2);
    assert_eq!(t.route.stops[b].start, 80.0);
    assert_eq!(t.route.stops[b].departure, 130.0);
    let (sol, _) = retime_solution(&p, &[(0, vec![0, 1, 2, 3])]).unwrap();
    check(&p, &sol).unwrap();

    // A shift starting after the break window: the break is missed.
    v.shift = TimeWindow::new(100.0, 1000.0);
    let p = problem(jobs, vec![v]);
    let t = retime(&p, 0, &[0, 1]).unwrap();
    assert_eq!(t.violations.len(), 1, "{:?}", t.violations);
    assert!(matches!(
        t.violations[0].kind,
        ViolationKind::BreakMissed { window_end, seconds, .. }
            if window_end == 90.0 && seconds > 0.0
    ));
    assert_eq!(t.route.stops.iter().filter(|s| s.job.is_none()).count(), 1);
}

#[test]
fn fixed_jobs_out_of_order() {
    let mut v = vehicle("v", 10);
    v.fixed_jobs = vec!["a".into()];
    let p = problem(vec![job("a", 1.0, 0.0), job("b", 2.0, 0.0)], vec![v]);
    assert!(retime(&p, 0, &[0, 1]).unwrap().violations.is_empty());
    let t = retime(&p, 0, &[1, 0]).unwrap();
    assert_eq!(kinds(&t), vec![&ViolationKind::FixedOrder]);
}

#[test]
fn violations_serialise_with_snake_case_tags() {
    let v = RouteViolation {
        job: Some(3),
        job_id: Some("j4".into()),
        kind: ViolationKind::Late {
            arrival: 39700.0,
            window_end: 39600.0,
            seconds: 100.0,
        },
    };
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"job": 3, "job_id": "j4", "kind": "late", "arrival": 39700.0,
                           "window_end": 39600.0, "seconds": 100.0})
    );
    let back: RouteViolation = serde_json::from_value(json).unwrap();
    assert_eq!(back, v);
    let over = RouteViolation {
        job: None,
        job_id: None,
        kind: ViolationKind::ShiftOverrun {
            end: 1.0,
            shift_end: 0.0,
            seconds: 1.0,
        },
    };
    assert_eq!(
        serde_json::to_value(&over).unwrap()["kind"],
        "shift_overrun"
    );
}

#[test]
fn retime_solution_drops_empty_routes_and_gives_reasons() {
    let mut cold = job("cold", 1.0, 0.0);
    cold.skills = vec!["fridge".into()];
    let jobs = vec![job("a", 1.0, 0.0), job("b", 2.0, 0.0), cold];
    let p = problem(jobs, vec![vehicle("v1", 10), vehicle("v2", 10)]);
    let (sol, vs) = retime_solution(&p, &[(1, vec![1, 0]), (0, vec![])]).unwrap();
    assert!(vs.is_empty());
    assert_eq!(sol.routes.len(), 1);
    assert_eq!(sol.routes[0].vehicle_id, "v2");
    assert_eq!(reason_of(&sol, "cold"), Some(UnassignedReason::Skills));
    check(&p, &sol).unwrap();

    let (_, vs) = retime_solution(&p, &[(1, vec![2])]).unwrap();
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].0, 1);
    assert!(matches!(vs[0].1.kind, ViolationKind::MissingSkill { .. }));

    // Bad input is an error, not a panic.
    assert!(retime(&p, 2, &[0]).is_err());
    assert!(retime(&p, 0, &[3]).is_err());
    assert!(retime(&p, 0, &[0, 0]).is_err());
    assert!(retime_solution(&p, &[(0, vec![0]), (1, vec![0])]).is_err());
    assert!(retime_solution(&p, &[(0, vec![0]), (0, vec![1])]).is_err());
    assert!(retime_stops(&p, 0, &[Some(0), None]).is_err(), "no break");
}
