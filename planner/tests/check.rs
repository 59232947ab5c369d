#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The independent checker: a correct solution passes; one defect at a time is reported as
//! that rule, at that route and stop, and nothing else.

mod common;
use common::*;
use planner::*;

// Job indices of `base()`.
const A: usize = 0;
const B: usize = 1;
const C: usize = 2;
const D: usize = 3;
const E: usize = 4;
const LATE: usize = 7;

/// Two capacity dimensions, skills, a break, a fixed job, two windows, costs per distance
/// and per time; three jobs no vehicle can take (skills, capacity, time).
fn base() -> Problem {
    let mut a = job("a", 10.0, 0.0);
    a.delivery = vec![3, 1];
    a.time_windows = vec![TimeWindow::new(0.0, 200.0)];
    a.service = 5.0;
    let mut b = job("b", 20.0, 0.0);
    b.delivery = vec![2, 0];
    b.pickup = vec![0, 2];
    b.time_windows = vec![TimeWindow::new(50.0, 400.0)];
    b.service = 5.0;
    b.skills = vec!["fridge".into()];
    let mut c = job("c", 20.0, 10.0);
    c.delivery = vec![1, 1];
    c.time_windows = vec![TimeWindow::new(0.0, 20.0), TimeWindow::new(100.0, 500.0)];
    c.service = 10.0;
    let mut d = job("d", 0.0, 30.0);
    d.delivery = vec![4, 2];
    let mut e = job("e", -10.0, 0.0);
    e.delivery = vec![];
    e.pickup = vec![1, 1];
    let mut sk = job("sk", 5.0, 5.0);
    sk.skills = vec!["crane".into()];
    let mut heavy = job("heavy", 5.0, 5.0);
    heavy.delivery = vec![20, 0];
    let mut late = job("late", 500.0, 0.0);
    late.time_windows = vec![TimeWindow::new(0.0, 10.0)];
    let mut v0 = vehicle("v0", 10);
    v0.capacity = vec![10, 5];
    v0.skills = vec!["fridge".into()];
    v0.break_ = Some(Break {
        duration: 20.0,
        window: TimeWindow::new(60.0, 150.0),
    });
    v0.max_duration = Some(200.0);
    v0.cost_per_distance = 2.0;
    v0.cost_per_time = 0.5;
    v0.fixed_jobs = vec!["a".into()];
    let mut v1 = vehicle("v1", 10);
    v1.capacity = vec![10, 5];
    (v1.start, v1.end) = (loc(0.0, 10.0), loc(0.0, -10.0));
    let mut v2 = vehicle("v2", 10);
    v2.capacity = vec![10, 5];
    problem(vec![a, b, c, d, e, sk, heavy, late], vec![v0, v1, v2])
}

/// `routes` re-timed on `p`; re-timing must report exactly `expected` (its own account of
/// the defect, if any).
fn timed(p: &Problem, routes: &[(usize, Vec<usize>)], expected: &[&ViolationKind]) -> Solution {
    let (s, vs) = retime_solution(p, routes).unwrap();
    let kinds: Vec<&ViolationKind> = vs.iter().map(|(_, v)| &v.kind).collect();
    assert_eq!(kinds, expected);
    s
}

fn good(p: &Problem) -> Solution {
    timed(p, &[(0, vec![A, B, C]), (1, vec![D, E])], &[])
}

/// (route, stop, rule) of every violation.
fn found(p: &Problem, s: &Solution) -> Vec<(Option<usize>, Option<usize>, CheckRule)> {
    match check(p, s) {
        Ok(_) => Vec::new(),
        Err(vs) => vs.iter().map(|v| (v.route, v.stop, v.kind)).collect(),
    }
}

fn stop_of(s: &Solution, route: usize, job: Option<usize>) -> usize {
    s.routes[route]
        .stops
        .iter()
        .position(|st| st.job == job)
        .unwrap()
}

/// Totals restated from the routes' stated figures.
fn restate(s: &mut Solution) {
    s.distance = s.routes.iter().map(|r| r.distance).sum();
    s.duration = s.routes.iter().map(|r| r.duration).sum();
    s.cost = s.routes.iter().map(|r| r.cost).sum();
    s.vehicles = s.routes.len();
}

#[test]
fn a_correct_solution_passes_with_the_checkers_own_figures() {
    let p = base();
    let s = good(&p);
    // The break goes after b (the earliest return), and c uses its second window.
    let r0: Vec<Option<usize>> = s.routes[0].stops.iter().map(|st| st.job).collect();
    assert_eq!(r0, vec![Some(A), Some(B), None, Some(C)]);
    assert_eq!(s.routes[0].stops[3].start, 100.0);
    let reasons: Vec<(usize, UnassignedReason)> =
        s.unassigned.iter().map(|u| (u.job, u.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            (5, UnassignedReason::Skills),
            (6, UnassignedReason::Capacity),
            (LATE, UnassignedReason::TimeWindow)
        ]
    );
    let r = check(&p, &s).unwrap();
    // Figures worked out by hand: v0 travels 10 + 10 + 10 + √500, back at 110 + √500;
    // v1 travels 20 + √1000 + √200, without waiting.
    let (d0, d1) = (30.0 + 500f64.sqrt(), 20.0 + 1000f64.sqrt() + 200f64.sqrt());
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert_eq!((r.vehicles, r.unassigned), (2, 3));
    assert!(close(r.distance, d0 + d1), "{r:?}");
    assert!(close(r.cost, 2.5 * d0 + d1), "{r:?}");
    assert!(close(r.duration, 110.0 + 500f64.sqrt() + d1), "{r:?}");
}

#[test]
fn over_capacity_in_each_dimension() {
    // Leaving with [6, 2]; after a [3, 1], after b [1, 3], after c [0, 2].
    let mut p = base();
    p.vehicles[0].capacity = vec![5, 5];
    let over = ViolationKind::OverCapacity {
        dimension: 0,
        load: 6,
        capacity: 5,
    };
    let s = timed(&p, &[(0, vec![A, B, C]), (1, vec![D, E])], &[&over]);
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (v[0].route, v[0].stop, v[0].job, v[0].kind),
        (Some(0), None, None, CheckRule::OverCapacity { dim: 0 })
    );
    assert_eq!(v[0].to_string(), format!("route 0: {}", v[0].message));
    let mut p = base();
    p.vehicles[0].capacity = vec![10, 2];
    let over = ViolationKind::OverCapacity {
        dimension: 1,
        load: 3,
        capacity: 2,
    };
    let s = timed(&p, &[(0, vec![A, B, C]), (1, vec![D, E])], &[&over]);
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (v[0].route, v[0].stop, v[0].job, v[0].kind),
        (
            Some(0),
            Some(1),
            Some(B),
            CheckRule::OverCapacity { dim: 1 }
        )
    );
    assert_eq!(
        v[0].to_string(),
        format!("route 0, stop 1: {}", v[0].message)
    );
}

#[test]
fn missing_skill() {
    let mut p = base();
    p.vehicles[0].skills.clear();
    let s = good(&base());
    assert_eq!(
        found(&p, &s),
        vec![(Some(0), Some(1), CheckRule::MissingSkill)]
    );
}

#[test]
fn leaving_before_the_shift_and_returning_after_it() {
    let s = good(&base());
    let mut p = base();
    p.vehicles[1].shift.start = 10.0;
    assert_eq!(found(&p, &s), vec![(Some(1), None, CheckRule::ShiftStart)]);
    let mut p = base();
    // v1 is back at 20 + √1000 + √200 ≈ 65.8.
    p.vehicles[1].shift.end = 65.0;
    assert_eq!(
        found(&p, &s),
        vec![(Some(1), None, CheckRule::ShiftOverrun)]
    );
}

#[test]
fn max_duration() {
    let s = good(&base());
    let mut p = base();
    // v0's route lasts 110 + √500 ≈ 132.4.
    p.vehicles[0].max_duration = Some(132.0);
    assert_eq!(found(&p, &s), vec![(Some(0), None, CheckRule::MaxDuration)]);
    p.vehicles[0].max_duration = Some(133.0);
    assert!(check(&p, &s).is_ok());
    // Within the tolerance (1e-6 of the times).
    p.vehicles[0].max_duration = Some(s.routes[0].duration - 1e-5);
    assert!(check(&p, &s).is_ok());
}

#[test]
fn break_missing() {
    let mut no_break = base();
    no_break.vehicles[0].break_ = None;
    let s = good(&no_break);
    assert_eq!(
        found(&base(), &s),
        vec![(Some(0), None, CheckRule::BreakMissing)]
    );
}

#[test]
fn break_outside_its_window() {
    let mut p = base();
    p.vehicles[0].break_ = Some(Break {
        duration: 20.0,
        window: TimeWindow::new(60.0, 100.0),
    });
    let mut s = good(&p);
    assert!(check(&p, &s).is_ok());
    // After c (service ends at 110) the break starts after its window.
    let t = retime_stops(&p, 0, &[Some(A), Some(B), Some(C), None]).unwrap();
    assert!(matches!(
        t.violations[..],
        [RouteViolation {
            kind: ViolationKind::BreakMissed { .. },
            ..
        }]
    ));
    s.routes[0] = t.route;
    restate(&mut s);
    assert_eq!(
        found(&p, &s),
        vec![(Some(0), Some(3), CheckRule::BreakOutsideWindow)]
    );
}

#[test]
fn break_twice_and_a_break_on_a_vehicle_without_one() {
    // A break of no duration: a second one changes no other figure.
    let mut p = base();
    p.vehicles[0].break_.as_mut().unwrap().duration = 0.0;
    let mut s = good(&p);
    let k = stop_of(&s, 0, None);
    let again = s.routes[0].stops[k].clone();
    s.routes[0].stops.insert(k + 1, again);
    assert_eq!(found(&p, &s), vec![(Some(0), None, CheckRule::BreakTwice)]);

    let p = base();
    let mut s = good(&p);
    let mut pause = s.routes[1].stops[0].clone();
    (pause.job, pause.job_id) = (None, None);
    pause.arrival = pause.departure;
    pause.start = pause.departure;
    s.routes[1].stops.insert(1, pause);
    assert_eq!(
        found(&p, &s),
        vec![(Some(1), Some(1), CheckRule::UnexpectedBreak)]
    );
}

#[test]
fn a_job_twice() {
    let p = base();
    let mut s = good(&p);
    s.unassigned.push(Unassigned {
        job: D,
        job_id: "d".into(),
        reason: UnassignedReason::NoRoom,
    });
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (v[0].route, v[0].job, v[0].kind),
        (None, Some(D), CheckRule::JobTwice)
    );

    // On two routes.
    let mut s = good(&p);
    s.routes.push(retime(&p, 2, &[D]).unwrap().route);
    restate(&mut s);
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!((v[0].job, v[0].kind), (Some(D), CheckRule::JobTwice));
}

#[test]
fn a_job_missing() {
    let p = base();
    let mut s = good(&p);
    s.unassigned.retain(|u| u.job != LATE);
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!((v[0].job, v[0].kind), (Some(LATE), CheckRule::JobMissing));

    // Off its route and not unassigned either.
    let mut s = timed(&p, &[(0, vec![A, B, C]), (1, vec![D])], &[]);
    s.unassigned.retain(|u| u.job != E);
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!((v[0].job, v[0].kind), (Some(E), CheckRule::JobMissing));
}

#[test]
fn fixed_prefix_out_of_order() {
    let p = base();
    let s = timed(
        &p,
        &[(0, vec![B, A, C]), (1, vec![D, E])],
        &[&ViolationKind::FixedOrder],
    );
    assert_eq!(found(&p, &s), vec![(Some(0), None, CheckRule::FixedPrefix)]);
    // A fixed job that is not on the route (here unassigned) leaves the others in order.
    let mut p = base();
    p.vehicles[0].fixed_jobs = vec!["a".into(), "sk".into(), "b".into()];
    let s = timed(&p, &[(0, vec![A, B, C]), (1, vec![D, E])], &[]);
    assert!(check(&p, &s).is_ok());
    let s = timed(
        &p,
        &[(0, vec![A, C, B]), (1, vec![D, E])],
        &[&ViolationKind::FixedOrder],
    );
    assert_eq!(found(&p, &s), vec![(Some(0), None, CheckRule::FixedPrefix)]);
}

#[test]
fn a_job_fixed_on_another_vehicle() {
    let p = base();
    let s = timed(&p, &[(0, vec![B, C]), (1, vec![D, A, E])], &[]);
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (v[0].route, v[0].stop, v[0].job, v[0].kind),
        (Some(1), Some(1), Some(A), CheckRule::FixedOnOtherVehicle)
    );
}

#[test]
fn late_arrival_after_every_window() {
    let s = good(&base());
    let mut p = base();
    // d is reached at 20; service then starts on arrival, as stated.
    p.jobs[D].time_windows = vec![TimeWindow::new(0.0, 5.0), TimeWindow::new(10.0, 19.0)];
    let v = check(&p, &s).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (v[0].route, v[0].stop, v[0].job, v[0].kind),
        (Some(1), Some(0), Some(D), CheckRule::LateArrival)
    );
    // Within the tolerance of the window end: on time.
    p.jobs[D].time_windows = vec![TimeWindow::new(10.0, 20.0 - 1e-7)];
    assert!(check(&p, &s).is_ok());
}

#[test]
fn stated_stop_times_and_loads() {
    let p = base();
    let s0 = good(&p);
    type Edit = fn(&mut Stop);
    let cases: [(Edit, CheckRule); 7] = [
        (|st| st.arrival += 0.01, CheckRule::WrongArrival),
        (|st| st.start -= 0.01, CheckRule::WrongStart),
        (|st| st.departure += 1.0, CheckRule::WrongDeparture),
        (|st| st.load[1] += 1, CheckRule::WrongLoad),
        (|st| st.load[0] -= 1, CheckRule::WrongLoad),
        (|st| st.load.push(0), CheckRule::LoadDimensions),
        (|st| st.load.truncate(1), CheckRule::LoadDimensions),
    ];
    for (edit, rule) in cases {
        // A job stop and the break.
        for k in [1, 2] {
            let mut s = s0.clone();
            edit(&mut s.routes[0].stops[k]);
            assert_eq!(found(&p, &s), vec![(Some(0), Some(k), rule)], "{rule:?}");
        }
    }
}

#[test]
fn stated_route_figures() {
    let p = base();
    let s0 = good(&p);
    type Edit = fn(&mut Route);
    let cases: [(Edit, CheckRule); 4] = [
        (|r| r.distance += 0.01, CheckRule::WrongDistance),
        (|r| r.duration -= 0.01, CheckRule::WrongDuration),
        (|r| r.cost *= 1.001, CheckRule::WrongCost),
        (|r| r.end_time += 0.01, CheckRule::WrongEndTime),
    ];
    for (edit, rule) in cases {
        for r in [0, 1] {
            let mut s = s0.clone();
            edit(&mut s.routes[r]);
            assert_eq!(found(&p, &s), vec![(Some(r), None, rule)], "{rule:?}");
        }
    }
    // The cost is 2 · distance + 0.5 · travel time on v0: stating the distance is wrong.
    let mut s = s0.clone();
    s.routes[0].cost = s.routes[0].distance;
    s.cost = s.routes.iter().map(|r| r.cost).sum();
    assert_eq!(
        found(&p, &s),
        vec![
            (Some(0), None, CheckRule::WrongCost),
            (None, None, CheckRule::WrongTotalCost)
        ]
    );
}

#[test]
fn cost_counts_travel_time_not_waiting_or_service() {
    let p = base();
    let s = good(&p);
    let r = &s.routes[0];
    // v0 waits at b and c, serves 20 s and breaks 20 s: none of it costed.
    assert!(r.duration > r.distance + 60.0);
    assert!((r.cost - 2.5 * r.distance).abs() < 1e-9);
    let mut p2 = base();
    p2.vehicles[0].cost_per_time = 0.0;
    assert_eq!(
        found(&p2, &s),
        vec![
            (Some(0), None, CheckRule::WrongCost),
            (None, None, CheckRule::WrongTotalCost)
        ]
    );
}

#[test]
fn stated_totals() {
    let p = base();
    let s0 = good(&p);
    type Edit = fn(&mut Solution);
    let cases: [(Edit, CheckRule); 5] = [
        (|s| s.distance += 0.01, CheckRule::WrongTotalDistance),
        (|s| s.duration -= 0.01, CheckRule::WrongTotalDuration),
        (|s| s.cost += 0.01, CheckRule::WrongTotalCost),
        (|s| s.vehicles += 1, CheckRule::WrongVehicleCount),
        (|s| s.vehicles -= 1, CheckRule::WrongVehicleCount),
    ];
    for (edit, rule) in cases {
        let mut s = s0.clone();
        edit(&mut s);
        assert_eq!(found(&p, &s), vec![(None, None, rule)], "{rule:?}");
    }
}

#[test]
fn unknown_vehicle_vehicle_twice_and_empty_route() {
    let p = base();
    let mut s = good(&p);
    s.routes[1].vehicle = 3;
    // The route cannot be recomputed: the totals stated without it.
    let (d, t, c) = (s.routes[1].distance, s.routes[1].duration, s.routes[1].cost);
    (s.distance, s.duration, s.cost) = (s.distance - d, s.duration - t, s.cost - c);
    assert_eq!(
        found(&p, &s),
        vec![(Some(1), None, CheckRule::UnknownVehicle)]
    );

    let mut s = good(&p);
    s.routes[1] = retime(&p, 1, &[D]).unwrap().route;
    s.routes.push(retime(&p, 1, &[E]).unwrap().route);
    restate(&mut s);
    assert_eq!(
        found(&p, &s),
        vec![(Some(2), None, CheckRule::VehicleTwice)]
    );

    let mut s = good(&p);
    let empty = retime(&p, 2, &[]).unwrap().route;
    assert!(empty.stops.is_empty());
    s.routes.push(empty);
    restate(&mut s);
    assert_eq!(found(&p, &s), vec![(Some(2), None, CheckRule::EmptyRoute)]);
}

#[test]
fn unknown_jobs_and_wrong_ids() {
    let p = base();
    let mut s = good(&p);
    let mut ghost = s.routes[1].stops[0].clone();
    // The first index past the jobs.
    ghost.job = Some(p.jobs.len());
    s.routes[1].stops.insert(1, ghost);
    assert_eq!(
        found(&p, &s),
        vec![(Some(1), Some(1), CheckRule::UnknownJob)]
    );
    let mut s = good(&p);
    s.unassigned.push(Unassigned {
        job: p.jobs.len(),
        job_id: "x".into(),
        reason: UnassignedReason::NoRoom,
    });
    assert_eq!(found(&p, &s), vec![(None, None, CheckRule::UnknownJob)]);

    let s0 = good(&p);
    type Edit = fn(&mut Solution);
    let cases: [(Edit, Option<usize>, Option<usize>); 4] = [
        (|s| s.routes[1].vehicle_id = "v0".into(), Some(1), None),
        (
            |s| s.routes[0].stops[0].job_id = Some("b".into()),
            Some(0),
            Some(0),
        ),
        (
            |s| s.routes[0].stops[2].job_id = Some("b".into()),
            Some(0),
            Some(2),
        ),
        (|s| s.unassigned[0].job_id = "heavy".into(), None, None),
    ];
    for (edit, route, stop) in cases {
        let mut s = s0.clone();
        edit(&mut s);
        assert_eq!(found(&p, &s), vec![(route, stop, CheckRule::WrongId)]);
    }
}

#[test]
fn an_invalid_problem_is_reported_as_such() {
    let s = good(&base());
    let mut p = base();
    p.jobs[0].service = -1.0;
    assert_eq!(found(&p, &s), vec![(None, None, CheckRule::InvalidProblem)]);
    let mut p = base();
    p.travel = TravelSpec::Matrix {
        distances: vec![vec![0.0]],
        durations: vec![vec![0.0]],
    };
    assert_eq!(found(&p, &s), vec![(None, None, CheckRule::InvalidProblem)]);
}

#[test]
fn times_rounded_to_the_millisecond_pass() {
    // Times around 40,000 s, as a consumer storing milliseconds sees them, and times a few
    // minutes from the origin (a day whose routes end just after the origin's midnight),
    // where the relative tolerance alone is below the rounding.
    for offset in [40_000.0, 0.0] {
        let mut p = base();
        for j in &mut p.jobs {
            for w in &mut j.time_windows {
                (w.start, w.end) = (w.start + offset, w.end + offset);
            }
        }
        for v in &mut p.vehicles {
            v.shift = TimeWindow::new(offset, offset + 1_000.0);
            if let Some(b) = &mut v.break_ {
                b.window = TimeWindow::new(b.window.start + offset, b.window.end + offset);
            }
        }
        let mut s = good(&p);
        let ms = |x: &mut f64| *x = (*x * 1000.0).round() / 1000.0;
        for r in &mut s.routes {
            for st in &mut r.stops {
                ms(&mut st.arrival);
                ms(&mut st.start);
                ms(&mut st.departure);
            }
            // Rounded the other way than the end: up to 1 ms off on a short duration.
            r.start_time += 0.000_5;
            ms(&mut r.start_time);
            ms(&mut r.end_time);
            r.duration = r.end_time - r.start_time;
        }
        restate(&mut s);
        check(&p, &s).unwrap();
        s.routes[1].stops[0].arrival += 0.05;
        assert_eq!(
            found(&p, &s),
            vec![(Some(1), Some(0), CheckRule::WrongArrival)],
            "offset {offset}"
        );
    }
}

#[test]
fn a_nan_figure_is_never_right() {
    let p = base();
    let mut s = good(&p);
    s.routes[1].start_time = f64::NAN;
    let rules: Vec<CheckRule> = found(&p, &s).into_iter().map(|(_, _, r)| r).collect();
    assert!(rules.contains(&CheckRule::ShiftStart), "{rules:?}");
    let mut s = good(&p);
    s.cost = f64::NAN;
    assert_eq!(found(&p, &s), vec![(None, None, CheckRule::WrongTotalCost)]);
}

/// Checks `reason` for the only job of `p`, unassigned.
fn reason_ok(p: &Problem, reason: UnassignedReason) -> bool {
    let mut s = retime_solution(p, &[]).unwrap().0;
    s.unassigned[0].reason = reason;
    match check(p, &s) {
        Ok(_) => true,
        Err(v) if v.iter().all(|v| v.kind == CheckRule::WrongUnassignedReason) => false,
        Err(v) => panic!("{v:?}"),
    }
}

/// What the solver says of the only job of `p` (`NoRoom`: it can be served).
fn solver_reason(p: &Problem) -> UnassignedReason {
    retime_solution(p, &[]).unwrap().0.unassigned[0].reason
}

#[test]
fn unassigned_reasons_must_be_true() {
    use UnassignedReason::{Capacity, Fixed, NoRoom, Skills};
    const TW: UnassignedReason = UnassignedReason::TimeWindow;
    let all = [Skills, Capacity, TW, Fixed, NoRoom];
    let accepted = |p: &Problem| -> Vec<UnassignedReason> {
        all.into_iter().filter(|&r| reason_ok(p, r)).collect()
    };
    let one = |j: Job, v: Vehicle| problem(vec![j], vec![v]);
    let mut fridge = vehicle("v", 5);
    fridge.skills = vec!["fridge".into()];

    // Servable: only "no room".
    let p = one(job("j", 1.0, 0.0), vehicle("v", 5));
    assert_eq!((accepted(&p), solver_reason(&p)), (vec![NoRoom], NoRoom));
    // No vehicle has the skill (too heavy too: the skill comes first).
    let mut j = job("j", 1.0, 0.0);
    j.skills = vec!["crane".into()];
    j.delivery = vec![9];
    let p = one(j.clone(), fridge.clone());
    assert_eq!(
        (accepted(&p), solver_reason(&p)),
        (vec![Skills, NoRoom], Skills)
    );
    // Too heavy for every vehicle with the skills (in the second dimension, by its pickup).
    j.skills = vec!["fridge".into()];
    j.delivery = vec![1];
    j.pickup = vec![0, 3];
    let mut roomy = vehicle("w", 9);
    roomy.capacity = vec![9, 9];
    let mut small = fridge.clone();
    small.capacity = vec![5, 2];
    let p = problem(vec![j.clone()], vec![small.clone(), roomy]);
    assert_eq!(
        (accepted(&p), solver_reason(&p)),
        (vec![Capacity, NoRoom], Capacity)
    );
    // ... but not when one with the skills has room.
    small.capacity = vec![5, 3];
    let p = problem(vec![j], vec![small]);
    assert_eq!((accepted(&p), solver_reason(&p)), (vec![NoRoom], NoRoom));
    // Too far for its first window; the second ends too late to be back (at 1000).
    let mut j = job("j", 10.0, 0.0);
    j.time_windows = vec![TimeWindow::new(0.0, 9.0), TimeWindow::new(991.0, 995.0)];
    let p = one(j.clone(), vehicle("v", 5));
    assert_eq!((accepted(&p), solver_reason(&p)), (vec![TW, NoRoom], TW));
    // A second window early enough: servable.
    j.time_windows[1] = TimeWindow::new(980.0, 989.0);
    let p = one(j, vehicle("v", 5));
    assert_eq!((accepted(&p), solver_reason(&p)), (vec![NoRoom], NoRoom));
    // Fixed: only a job some vehicle has among its fixed jobs.
    let mut v = vehicle("v", 5);
    v.fixed_jobs = vec!["j".into()];
    let p = one(job("j", 1.0, 0.0), v);
    assert_eq!(accepted(&p), vec![Fixed, NoRoom]);
}

#[test]
fn time_window_reasons_with_max_duration_and_breaks() {
    use UnassignedReason::NoRoom;
    let mut j = job("j", 10.0, 0.0);
    j.time_windows = vec![TimeWindow::new(100.0, 110.0)];
    // Leaving at the shift start it would wait 90 s; leaving later it lasts 20 s.
    let mut v = vehicle("v", 5);
    v.max_duration = Some(25.0);
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(!reason_ok(&p, UnassignedReason::TimeWindow));
    assert_eq!(solver_reason(&p), NoRoom);
    v.max_duration = Some(19.0);
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(reason_ok(&p, UnassignedReason::TimeWindow));
    assert_eq!(solver_reason(&p), UnassignedReason::TimeWindow);

    // The break only fits before the job: leave at 80, break, arrive at 100.
    v.max_duration = Some(40.0);
    v.break_ = Some(Break {
        duration: 10.0,
        window: TimeWindow::new(0.0, 95.0),
    });
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(!reason_ok(&p, UnassignedReason::TimeWindow));
    v.max_duration = Some(29.0);
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(reason_ok(&p, UnassignedReason::TimeWindow));

    // Only after the job, and the shift must leave room for it.
    let mut v = vehicle("v", 5);
    v.break_ = Some(Break {
        duration: 30.0,
        window: TimeWindow::new(105.0, 200.0),
    });
    j.time_windows = vec![TimeWindow::new(0.0, 50.0)];
    j.service = 10.0;
    v.shift = TimeWindow::new(0.0, 150.0);
    // j 10-20, break 105-135, back at 145.
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(!reason_ok(&p, UnassignedReason::TimeWindow));
    assert_eq!(solver_reason(&p), NoRoom);
    v.shift = TimeWindow::new(0.0, 140.0);
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(reason_ok(&p, UnassignedReason::TimeWindow));
    assert_eq!(solver_reason(&p), UnassignedReason::TimeWindow);
    // A break window closing before the shift could start it: never servable.
    v.shift = TimeWindow::new(250.0, 1000.0);
    j.time_windows.clear();
    let p = problem(vec![j], vec![v]);
    assert!(reason_ok(&p, UnassignedReason::TimeWindow));
    assert_eq!(solver_reason(&p), UnassignedReason::TimeWindow);
}

#[test]
fn time_window_reasons_at_their_bounds() {
    let tw = UnassignedReason::TimeWindow;
    // Out 10, back 20 (the end depot is further on): with a shift ending at 31, a second to
    // spare is clearly enough.
    let mut v = vehicle("v", 5);
    v.end = loc(30.0, 0.0);
    v.shift = TimeWindow::new(0.0, 31.0);
    let j = job("j", 10.0, 0.0);
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(!reason_ok(&p, tw));
    // Two seconds of service: back after the shift.
    let mut long = j.clone();
    long.service = 2.0;
    let p = problem(vec![long], vec![v.clone()]);
    assert!(reason_ok(&p, tw));
    // Exactly on the bound: counted impossible (only clearly false claims are reported).
    v.shift.end = 30.0;
    let p = problem(vec![j.clone()], vec![v.clone()]);
    assert!(reason_ok(&p, tw));

    // Only leaving as late as the shift allows keeps the route short enough (on the second
    // vehicle: the first has no room).
    let mut w = j.clone();
    w.time_windows = vec![TimeWindow::new(100.0, 2000.0)];
    v.shift = TimeWindow::new(0.0, 200.0);
    v.max_duration = Some(40.0);
    let full = vehicle("full", 0);
    let p = problem(vec![w.clone()], vec![full.clone(), v.clone()]);
    assert!(!reason_ok(&p, tw));
    v.max_duration = Some(29.0);
    let p = problem(vec![w], vec![full, v.clone()]);
    assert!(reason_ok(&p, tw));

    // The break after the job (before it, the job's window would be over): leaving at 490
    // the job is served 500-505 and the break starts at 505, the end of its window.
    let mut w = job("j", 10.0, 0.0);
    w.time_windows = vec![TimeWindow::new(0.0, 515.0)];
    w.service = 5.0;
    let mut v = vehicle("v", 5);
    v.shift = TimeWindow::new(0.0, 1000.0);
    v.max_duration = Some(40.0);
    v.break_ = Some(Break {
        duration: 10.0,
        window: TimeWindow::new(500.0, 505.0),
    });
    let p = problem(vec![w.clone()], vec![v.clone()]);
    assert!(!reason_ok(&p, tw));
    v.max_duration = Some(34.0);
    let p = problem(vec![w.clone()], vec![v.clone()]);
    assert!(reason_ok(&p, tw));
    // ... and leaving at 492.5 for the shift end: served 502.5-507.5, break until 517.5,
    // back at 527.5.
    v.break_ = Some(Break {
        duration: 10.0,
        window: TimeWindow::new(500.0, 600.0),
    });
    v.shift = TimeWindow::new(0.0, 527.5);
    v.max_duration = Some(40.0);
    let p = problem(vec![w.clone()], vec![v.clone()]);
    assert!(!reason_ok(&p, tw));
    v.max_duration = Some(34.0);
    let p = problem(vec![w], vec![v]);
    assert!(reason_ok(&p, tw));
}
