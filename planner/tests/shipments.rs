//! Paired pickup and delivery (shipments): generated days mixing jobs and shipments under
//! every objective, the constant-time price of a pair's insertion, the checker's pairing
//! rules, the Li & Lim reader and a Li & Lim instance solved to its best-known fleet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{loc, solve_checked};
use planner::check::CheckRule;
use planner::instance::Instance;
use planner::io::{lilim, ReadError};
use planner::rng::Rng;
use planner::route::Route;
use planner::*;
use std::process::Command;

fn step(x: f64, y: f64, window: Option<(f64, f64)>) -> ShipmentStep {
    ShipmentStep {
        id: None,
        location: loc(x, y),
        service: 5.0,
        time_windows: window
            .map(|(a, b)| vec![TimeWindow::new(a, b)])
            .unwrap_or_default(),
        pickup: vec![],
    }
}

/// A day on a 100 x 100 square: `jobs` deliveries from the depot and `shipments` pairs
/// carried between two points, half of them with windows (the delivery's after the
/// pickup's), two load dimensions, every fourth shipment an exchange (its delivery takes a
/// unit back to the end), a skill on some shipments and on half the vehicles, a break on one
/// vehicle and a maximum duration on another.
fn day(jobs: usize, shipments: usize, vehicles: usize, seed: u64) -> Problem {
    let mut rng = Rng::new(seed);
    let mut pt = || (rng.f64() * 100.0, rng.f64() * 100.0);
    let mut points: Vec<(f64, f64)> = (0..jobs + 2 * shipments).map(|_| pt()).collect();
    let mut rng = Rng::new(seed + 100);
    let jobs: Vec<Job> = (0..jobs)
        .map(|i| {
            let (x, y) = points.pop().unwrap();
            let mut j = common::job(&format!("j{i}"), x, y);
            j.service = 5.0;
            j.delivery = vec![1 + rng.below(3) as i32, rng.below(2) as i32];
            if rng.f64() < 0.5 {
                let s = rng.f64() * 600.0;
                j.time_windows = vec![TimeWindow::new(s, s + 150.0)];
            }
            j
        })
        .collect();
    let shipments: Vec<Shipment> = (0..shipments)
        .map(|i| {
            let ((px, py), (dx, dy)) = (points.pop().unwrap(), points.pop().unwrap());
            let windowed = rng.f64() < 0.5;
            let s = rng.f64() * 500.0;
            let mut delivery = step(dx, dy, windowed.then_some((s + 60.0, s + 300.0)));
            if i % 4 == 1 {
                delivery.pickup = vec![2, 1];
            }
            Shipment {
                id: format!("s{i}"),
                pickup: step(px, py, windowed.then_some((s, s + 120.0))),
                delivery,
                amount: vec![2 + rng.below(4) as i32, 1],
                skills: if i % 5 == 0 {
                    vec!["van".into()]
                } else {
                    vec![]
                },
                priority: (i % 3) as u32,
            }
        })
        .collect();
    let vehicles = (0..vehicles)
        .map(|v| {
            let mut veh = common::vehicle(&format!("v{v}"), 12);
            veh.start = loc(50.0, 50.0);
            veh.end = loc(50.0, 50.0);
            veh.capacity = vec![12, 4];
            if v % 2 == 0 {
                veh.skills = vec!["van".into()];
            }
            if v == 1 {
                veh.break_ = Some(Break {
                    duration: 30.0,
                    window: TimeWindow::new(300.0, 500.0),
                });
            }
            if v == 2 {
                veh.max_duration = Some(600.0);
            }
            veh
        })
        .collect();
    Problem {
        jobs,
        shipments,
        vehicles,
        travel: TravelSpec::Euclidean { speed: 1.0 },
    }
}

/// Each shipment is on one route, pickup first, or unassigned as a whole.
fn assert_pairs(p: &Problem, s: &Solution) {
    for (i, sh) in p.shipments.iter().enumerate() {
        let (pk, dl) = (
            p.step_task(i, StepKind::Pickup),
            p.step_task(i, StepKind::Delivery),
        );
        let at = |task: usize| {
            s.routes.iter().enumerate().find_map(|(r, route)| {
                let k = route.stops.iter().position(|st| st.job == Some(task))?;
                Some((r, k))
            })
        };
        match (at(pk), at(dl)) {
            (Some((ra, ka)), Some((rb, kb))) => {
                assert_eq!(ra, rb, "shipment {} split", sh.id);
                assert!(ka < kb, "shipment {} delivered first", sh.id);
            }
            (None, None) => assert!(
                s.unassigned
                    .iter()
                    .any(|u| u.job == pk && u.job_id == sh.id),
                "shipment {} neither served nor unassigned",
                sh.id
            ),
            _ => panic!("shipment {}: one step served", sh.id),
        }
    }
}

#[test]
fn mixed_days_are_planned_under_every_objective_and_pass_the_checker() {
    for seed in [1, 2] {
        let p = day(25, 20, 6, seed);
        for objective in [
            Objective::Hierarchical,
            Objective::Distance,
            Objective::Cost,
            Objective::Balanced,
            Objective::EarliestFinish,
        ] {
            let s = solve_checked(
                &p,
                &SolveOptions {
                    objective,
                    iterations: Some(400),
                    threads: 1,
                    seed,
                    ..Default::default()
                },
            );
            assert_pairs(&p, &s);
            let served = s.routes.iter().map(|r| r.stops.len()).sum::<usize>();
            assert!(
                served >= 60,
                "{objective:?}, seed {seed}: only {served} stops served of 65 tasks"
            );
            // Loads between a pickup and its delivery carry the amount.
            for route in &s.routes {
                for (k, st) in route.stops.iter().enumerate() {
                    let Some(Task::Step(sh, StepKind::Pickup)) = st.job.and_then(|j| p.task(j))
                    else {
                        continue;
                    };
                    let before = if k == 0 {
                        route.stops[0].load[0] - sh.amount[0]
                    } else {
                        route.stops[k - 1].load[0]
                    };
                    assert_eq!(st.load[0], before + sh.amount[0]);
                }
            }
        }
    }
}

/// Random pair insertions into growing routes: the price the search predicts is what the
/// route costs once both steps are in, and the route stays feasible.
#[test]
fn pair_insertion_prices_match_the_routes_prices_under_every_objective() {
    let mut p = day(0, 40, 6, 7);
    for v in &mut p.vehicles {
        v.cost_per_time = 0.5;
    }
    for objective in [
        Objective::Distance,
        Objective::Cost,
        Objective::Balanced,
        Objective::EarliestFinish,
    ] {
        let inst = Instance::new(&p).unwrap().for_objective(objective);
        let mut routes: Vec<Route> = (0..inst.m).map(|v| Route::new(&inst, v)).collect();
        let mut rng = Rng::new(11);
        let mut placed = vec![false; inst.n];
        let mut checked = 0;
        for _ in 0..3_000 {
            let j = 2 * rng.below(p.shipments.len());
            let r = rng.below(routes.len());
            if placed[j] || !inst.is_pickup(j) {
                continue;
            }
            let route = &routes[r];
            // Blinks pick positions other than the best now and then.
            let Some((delta, k, k2)) =
                route.best_insertion(&inst, j, f64::INFINITY, || rng.f64() < 0.3)
            else {
                continue;
            };
            assert!(k2 >= k);
            let mut after = route.clone();
            after.insert_unit(&inst, j, (k, k2));
            assert!(after.feasible(&inst), "{objective:?}: infeasible insertion");
            let pk = after.position(j).unwrap();
            let dl = after.position(inst.partner[j]).unwrap();
            assert!(pk < dl);
            let real = after.cost - route.cost;
            assert!(
                (delta - real).abs() <= 1e-6 * real.abs().max(1.0),
                "{objective:?}: predicted {delta}, real {real} (pickup after {k}, delivery after {k2})"
            );
            checked += 1;
            if rng.f64() < 0.6 {
                routes[r] = after;
                placed[j] = true;
            }
        }
        assert!(checked > 40, "{objective:?}: only {checked} insertions");
    }
}

fn small() -> Problem {
    let mut p = day(3, 4, 2, 3);
    for v in &mut p.vehicles {
        v.break_ = None;
        v.max_duration = None;
        v.skills = vec!["van".into()];
    }
    p
}

fn solved(p: &Problem) -> Solution {
    solve_checked(
        p,
        &SolveOptions {
            iterations: Some(200),
            threads: 1,
            ..Default::default()
        },
    )
}

fn rules(p: &Problem, s: &Solution) -> Vec<CheckRule> {
    check(p, s)
        .unwrap_err()
        .into_iter()
        .map(|v| v.kind)
        .collect()
}

#[test]
fn the_checker_refuses_a_reversed_or_split_shipment() {
    let p = small();
    let s = solved(&p);
    assert!(s.unassigned.is_empty(), "{:?}", s.unassigned);
    let pickup = p.step_task(0, StepKind::Pickup);
    let delivery = p.step_task(0, StepKind::Delivery);
    let r = s
        .routes
        .iter()
        .position(|r| r.stops.iter().any(|st| st.job == Some(pickup)))
        .unwrap();
    let k_p = s.routes[r]
        .stops
        .iter()
        .position(|st| st.job == Some(pickup))
        .unwrap();
    let k_d = s.routes[r]
        .stops
        .iter()
        .position(|st| st.job == Some(delivery))
        .unwrap();

    // Delivered before it is picked up.
    let mut reversed = s.clone();
    reversed.routes[r].stops.swap(k_p, k_d);
    assert!(rules(&p, &reversed).contains(&CheckRule::DeliveryBeforePickup));

    // The delivery left out: the shipment is split (and the delivery missing).
    let mut split = s.clone();
    split.routes[r].stops.remove(k_d);
    let found = rules(&p, &split);
    assert!(found.contains(&CheckRule::ShipmentSplit), "{found:?}");

    // A shipment unassigned by its delivery's number: unknown.
    let mut by_delivery = s.clone();
    by_delivery.routes[r]
        .stops
        .retain(|st| st.job != Some(pickup) && st.job != Some(delivery));
    by_delivery.unassigned.push(Unassigned {
        job: delivery,
        job_id: p.shipments[0].id.clone(),
        reason: UnassignedReason::NoRoom,
    });
    assert!(rules(&p, &by_delivery).contains(&CheckRule::UnknownJob));
}

#[test]
fn an_unservable_shipment_is_unassigned_with_a_true_reason() {
    let mut p = small();
    // Nobody has the skill; too heavy for everyone; delivery window closes before the
    // pickup's opens.
    p.shipments[0].skills = vec!["crane".into()];
    p.shipments[1].amount = vec![13, 0];
    p.shipments[2].pickup.time_windows = vec![TimeWindow::new(500.0, 600.0)];
    p.shipments[2].delivery.time_windows = vec![TimeWindow::new(0.0, 400.0)];
    let s = solved(&p);
    let reason = |i: usize| {
        s.unassigned
            .iter()
            .find(|u| u.job_id == p.shipments[i].id)
            .map(|u| u.reason)
    };
    assert_eq!(reason(0), Some(UnassignedReason::Skills));
    assert_eq!(reason(1), Some(UnassignedReason::Capacity));
    assert_eq!(reason(2), Some(UnassignedReason::TimeWindow));
    assert_eq!(reason(3), None);
    assert_pairs(&p, &s);
    // The checker would refuse a false one: shipment 3 fits alone in time.
    let mut wrong = s.clone();
    let (pk, dl) = (
        p.step_task(3, StepKind::Pickup),
        p.step_task(3, StepKind::Delivery),
    );
    for r in &mut wrong.routes {
        r.stops
            .retain(|st| st.job != Some(pk) && st.job != Some(dl));
    }
    wrong.unassigned.push(Unassigned {
        job: pk,
        job_id: p.shipments[3].id.clone(),
        reason: UnassignedReason::TimeWindow,
    });
    assert!(rules(&p, &wrong).contains(&CheckRule::WrongUnassignedReason));
}

/// One vehicle with room for one unit, a shipment of one unit and a job picking one up:
/// both fit on the route, unless the shipment's delivery takes a unit back (an exchange).
fn exchange_day(taken_back: i32) -> Problem {
    let mut old = common::job("old", 30.0, 0.0);
    (old.delivery, old.pickup) = (vec![0], vec![1]);
    let mut delivery = step(20.0, 10.0, None);
    if taken_back > 0 {
        delivery.pickup = vec![taken_back];
    }
    let shipment = Shipment {
        id: "swap".into(),
        pickup: step(10.0, 0.0, None),
        delivery,
        amount: vec![1],
        skills: vec![],
        priority: 0,
    };
    let mut p = common::problem(vec![old], vec![common::vehicle("v", 1)]);
    p.shipments = vec![shipment];
    p
}

#[test]
fn an_exchange_carries_the_unit_it_takes_back_to_the_end() {
    let plain = exchange_day(0);
    let both = solved(&plain);
    assert!(both.unassigned.is_empty(), "{:?}", both.unassigned);
    assert_pairs(&plain, &both);

    // The unit taken back fills the van from the exchange on: one of the two waits.
    let exchange = exchange_day(1);
    let one = solved(&exchange);
    assert_eq!(one.unassigned.len(), 1, "{:?}", one.unassigned);
    assert_pairs(&exchange, &one);
    // The route that served both is over capacity once the exchange is counted.
    let found = rules(&exchange, &both);
    assert!(
        found.contains(&CheckRule::OverCapacity { dim: 0 }),
        "{found:?}"
    );

    // Only a delivery takes something back.
    let mut wrong = exchange_day(0);
    wrong.shipments[0].pickup.pickup = vec![1];
    assert!(solve(&wrong, &SolveOptions::default()).is_err());
}

#[test]
fn the_lilim_reader_names_the_line_of_a_bad_pair() {
    let good = "2 10 1\n0 0 0 0 0 100 0 0 0\n1 1 1 5 0 100 1 0 2\n2 2 2 -5 0 100 1 1 0\n";
    let p = lilim::parse(good).unwrap();
    assert_eq!(p.shipments.len(), 1);
    assert_eq!(p.shipments[0].step_id(StepKind::Delivery), "2");
    assert!(lilim::detect(good));
    for (text, line) in [
        // The delivery names another pickup.
        (
            "2 10 1\n0 0 0 0 0 100 0 0 0\n1 1 1 5 0 100 1 0 2\n2 2 2 -5 0 100 1 3 0\n",
            4,
        ),
        // Amounts differ.
        (
            "2 10 1\n0 0 0 0 0 100 0 0 0\n1 1 1 5 0 100 1 0 2\n2 2 2 -4 0 100 1 1 0\n",
            3,
        ),
        // Eight columns.
        ("2 10 1\n0 0 0 0 0 100 0 0 0\n1 1 1 5 0 100 1 0\n", 3),
    ] {
        match lilim::parse(text) {
            Err(ReadError::At { line: l, .. }) => assert_eq!(l, line, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

fn data(name: &str) -> String {
    format!("{}/data/lilim/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// lc101 (53 pairs) reaches its best-known fleet of 10 through the binary, auto-detected,
/// and the planner's checker accepts the result.
#[test]
fn a_lilim_instance_is_solved_to_its_best_known_fleet_through_the_binary() {
    let planner = env!("CARGO_BIN_EXE_planner");
    let file = data("lc101.txt");
    let out = Command::new(planner)
        .args(["solve", &file, "--iterations", "1500", "--threads", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bks = std::fs::read_to_string(data("bks.csv")).unwrap();
    let best: usize = bks
        .lines()
        .find(|l| l.starts_with("lc101,"))
        .and_then(|l| l.split(',').nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(v["vehicles"].as_u64().unwrap() as usize <= best + 1, "{v}");
    // Ids are the file's task numbers, every one served once.
    let mut ids: Vec<u64> = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=106).collect::<Vec<u64>>());
    let dir = tempfile_dir();
    let sol = dir.join("lc101.json");
    std::fs::write(&sol, &out.stdout).unwrap();
    let checked = Command::new(planner)
        .args(["check", &file, sol.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("planner-shipments-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
