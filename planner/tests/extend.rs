#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `planner::extend`: new jobs inserted into published routes without reordering them.

mod common;
use common::*;
use planner::*;

fn jobs_of(r: &Route) -> Vec<usize> {
    r.stops.iter().filter_map(|s| s.job).collect()
}

fn checked(p: &Problem, s: Solution) -> Solution {
    if let Err(v) = check(p, &s) {
        panic!("checker rejected the solution: {v:?}\n{s:#?}");
    }
    s
}

/// The jobs of the route of `vehicle` (empty if it has none).
fn route_of(s: &Solution, vehicle: usize) -> Vec<usize> {
    s.routes
        .iter()
        .find(|r| r.vehicle == vehicle)
        .map(jobs_of)
        .unwrap_or_default()
}

/// Whether `sub` is a subsequence of `seq`.
fn subsequence(sub: &[usize], seq: &[usize]) -> bool {
    let mut it = seq.iter();
    sub.iter().all(|x| it.any(|y| y == x))
}

/// The given jobs `extend` keeps on `vehicle`'s route, by its documented rule: each one that
/// can follow (feasibly, the break placed where it fits) the jobs kept before it.
fn followable(p: &Problem, vehicle: usize, jobs: &[usize]) -> Vec<usize> {
    let mut kept = Vec::new();
    for &j in jobs {
        kept.push(j);
        if !retime(p, vehicle, &kept).unwrap().violations.is_empty() {
            kept.pop();
        }
    }
    kept
}

/// Routes as `(vehicle, jobs in order)`.
type Given = Vec<(usize, Vec<usize>)>;

/// A solved day with every 10th job held back, mapped to the full problem's indices.
fn day_with_held_back(jobs: usize, couriers: usize, seed: u64) -> (Problem, Given, Vec<usize>) {
    let p = planner::generate::city_day(jobs, couriers, seed);
    let held: Vec<usize> = (0..p.jobs.len()).filter(|j| j % 10 == 0).collect();
    let kept: Vec<usize> = (0..p.jobs.len()).filter(|j| j % 10 != 0).collect();
    let mut sub = p.clone();
    sub.jobs = kept.iter().map(|&j| p.jobs[j].clone()).collect();
    let s = solve_checked(&sub, &opts(300));
    let given = s
        .routes
        .iter()
        .map(|r| (r.vehicle, jobs_of(r).iter().map(|&j| kept[j]).collect()))
        .collect();
    (p, given, held)
}

#[test]
fn held_back_jobs_are_inserted_without_reordering() {
    let (p, given, held) = day_with_held_back(80, 5, 11);
    let s = checked(&p, extend(&p, &given, &opts(0)).unwrap());
    for (v, jobs) in &given {
        let now = route_of(&s, *v);
        assert!(
            subsequence(jobs, &now),
            "vehicle {v}: {jobs:?} not kept in {now:?}"
        );
    }
    let inserted = held
        .iter()
        .filter(|&&j| s.unassigned.iter().all(|u| u.job != j))
        .count();
    assert_eq!(inserted, held.len(), "unassigned: {:?}", s.unassigned);
    assert_eq!(s.iterations, 0);
    // Deterministic.
    let again = extend(&p, &given, &opts(0)).unwrap();
    assert_eq!(again, s);
}

#[test]
fn from_nothing_it_is_a_construction() {
    let p = planner::generate::city_day(40, 3, 2);
    let s = checked(&p, extend(&p, &[], &opts(0)).unwrap());
    assert!(s.routes.iter().map(|r| jobs_of(r).len()).sum::<usize>() > 30);
}

#[test]
fn fixed_jobs_stay_the_prefix() {
    let (mut p, mut given, _) = day_with_held_back(60, 4, 5);
    let (v, jobs) = given.iter().find(|(_, j)| j.len() >= 3).cloned().unwrap();
    p.vehicles[v].fixed_jobs = vec![p.jobs[jobs[0]].id.clone(), p.jobs[jobs[1]].id.clone()];
    let s = checked(&p, extend(&p, &given, &opts(0)).unwrap());
    assert_eq!(&route_of(&s, v)[..2], &jobs[..2]);
    assert!(subsequence(&jobs, &route_of(&s, v)));

    // The fixed jobs come first even when the given route lists them elsewhere.
    for (w, js) in &mut given {
        if *w == v {
            js.rotate_left(1);
        }
    }
    let s = checked(&p, extend(&p, &given, &opts(0)).unwrap());
    assert_eq!(&route_of(&s, v)[..2], &jobs[..2]);
}

#[test]
fn an_infeasible_given_route_is_trimmed() {
    // Given b then a: a is late there, so it is taken off and inserted again where it fits.
    let mut a = job("a", 10.0, 0.0);
    a.time_windows = vec![TimeWindow::new(0.0, 15.0)];
    let mut b = job("b", 20.0, 0.0);
    b.time_windows = vec![TimeWindow::new(50.0, 100.0)];
    let p = problem(vec![a, b], vec![vehicle("v", 10)]);
    assert!(!retime(&p, 0, &[1, 0]).unwrap().violations.is_empty());
    let s = checked(&p, extend(&p, &[(0, vec![1, 0])], &opts(0)).unwrap());
    assert_eq!(route_of(&s, 0), vec![0, 1]);

    // Over capacity: the last delivery goes to the other vehicle; with one vehicle it is left
    // out.
    let jobs: Vec<Job> = (0..3)
        .map(|i| {
            let mut j = job(&format!("d{i}"), 1.0 + i as f64, 0.0);
            j.delivery = vec![5];
            j
        })
        .collect();
    let p = problem(jobs, vec![vehicle("v1", 10), vehicle("v2", 10)]);
    let s = checked(&p, extend(&p, &[(0, vec![0, 1, 2])], &opts(0)).unwrap());
    assert_eq!(route_of(&s, 0), vec![0, 1]);
    assert_eq!(route_of(&s, 1), vec![2]);
    let p1 = problem(p.jobs.clone(), vec![p.vehicles[0].clone()]);
    let s = checked(&p1, extend(&p1, &[(0, vec![0, 1, 2])], &opts(0)).unwrap());
    assert_eq!(route_of(&s, 0), vec![0, 1]);
    assert_eq!(reason_of(&s, "d2"), Some(UnassignedReason::NoRoom));

    // A whole published day made infeasible by a shorter shift: trimmed, still checked.
    let (mut p, given, _) = day_with_held_back(60, 4, 9);
    for v in &mut p.vehicles {
        v.shift.end -= 3.0 * 3600.0;
    }
    let s = checked(&p, extend(&p, &given, &opts(0)).unwrap());
    for (v, jobs) in &given {
        let now = route_of(&s, *v);
        // A job taken off may come back on the same route, at another place: only the jobs
        // that could follow those kept before them must stay, in their order.
        let kept = followable(&p, *v, jobs);
        assert!(!kept.is_empty());
        assert!(
            subsequence(&kept, &now),
            "vehicle {v}: kept {kept:?}, now {now:?}"
        );
    }
}

#[test]
fn skills_and_bad_input() {
    let mut cold = job("cold", 1.0, 0.0);
    cold.skills = vec!["fridge".into()];
    let mut v2 = vehicle("v2", 10);
    v2.skills = vec!["fridge".into()];
    let p = problem(vec![cold, job("b", 2.0, 0.0)], vec![vehicle("v1", 10), v2]);
    // Given on a vehicle without the skill: moved to the one that has it.
    let s = checked(&p, extend(&p, &[(0, vec![0, 1])], &opts(0)).unwrap());
    assert_eq!(route_of(&s, 0), vec![1]);
    assert_eq!(route_of(&s, 1), vec![0]);
    assert!(extend(&p, &[(2, vec![0])], &opts(0)).is_err());
    assert!(extend(&p, &[(0, vec![5])], &opts(0)).is_err());
    assert!(extend(&p, &[(0, vec![0]), (1, vec![0])], &opts(0)).is_err());
}

#[test]
fn progress_is_reported() {
    let (p, given, _) = day_with_held_back(40, 3, 4);
    let (o, seen) = recording(opts(0));
    checked(&p, extend(&p, &given, &o).unwrap());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].fraction, 1.0);
}

/// Every way to put `j` on a given route (vehicle, position) that re-times without a
/// violation, found by trying them all.
fn feasible_places(p: &Problem, given: &Given, j: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for v in 0..p.vehicles.len() {
        let jobs = given
            .iter()
            .find(|(gv, _)| *gv == v)
            .map(|(_, jobs)| jobs.clone())
            .unwrap_or_default();
        for at in 0..=jobs.len() {
            let mut trial = jobs.clone();
            trial.insert(at, j);
            if retime(p, v, &trial).unwrap().violations.is_empty() {
                out.push((v, at));
            }
        }
    }
    out
}

#[test]
fn insertion_points_are_exactly_where_a_job_fits_without_making_a_stop_late() {
    let (mut p, given, held) = day_with_held_back(150, 2, 5);
    // Ten-minute windows over the day, some of which the routes cannot take.
    let day = p.vehicles[0].shift;
    for (n, &j) in held.iter().enumerate() {
        let start = day.start + (day.end - day.start) * (n as f64 / held.len() as f64);
        p.jobs[j].time_windows = vec![TimeWindow::new(start, start + 600.0)];
    }
    let points = insertion_points(&p, &given, &held, &opts(0)).unwrap();
    let (mut fits, mut refused) = (0, 0);
    for (&j, point) in held.iter().zip(&points) {
        let places = feasible_places(&p, &given, j);
        match point {
            Some(point) => {
                let route = &given.iter().find(|(v, _)| *v == point.vehicle).unwrap().1;
                let at = point
                    .after
                    .map_or(0, |a| route.iter().position(|&x| x == a).unwrap() + 1);
                let place = (point.vehicle, at);
                assert!(
                    places.contains(&place),
                    "job {j}: {place:?} not in {places:?}"
                );
                fits += 1;
            }
            None => {
                assert!(places.is_empty(), "job {j}: refused but fits at {places:?}");
                refused += 1;
            }
        }
    }
    assert!(fits > 0 && refused > 0, "fits {fits}, refused {refused}");
    // The routes were judged as given: asking again gives the same answer.
    assert_eq!(
        insertion_points(&p, &given, &held, &opts(0)).unwrap(),
        points
    );
}
