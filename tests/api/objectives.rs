//! What a plan minimises is the dispatcher's choice: `cost` by default (paid hours, waiting
//! included), `fewest_couriers`, `balanced`, `earliest_finish` or `distance`; each run is
//! accepted by the independent checker and a re-optimisation keeps its plan's objective.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::TestApp;
use crate::plans::{approved_claim, approved_claim_in, check_plan, run_plan, tomorrow};

const OBJECTIVES: [&str; 5] = [
    "cost",
    "fewest_couriers",
    "balanced",
    "earliest_finish",
    "distance",
];

fn kpi(plan: &Value, name: &str) -> f64 {
    plan["kpis"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} in {plan}"))
}

backend_test!(
    the_dispatcher_chooses_what_a_plan_minimises,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        // One street: four customers want the courier between 8 and 10, three between 16 and
        // 18 (the eighth's unit is out of warranty). The fewest kilometres have one courier
        // wait there all day; paid hours do not.
        for customer in 1..=7 {
            let window = if customer <= 4 { (8, 10) } else { (16, 18) };
            let at = (52.5200 + customer as f64 * 0.0004, 13.4050);
            approved_claim(&app, customer, window, at).await;
        }

        let mut plans: HashMap<&str, Value> = HashMap::new();
        for objective in OBJECTIVES {
            let plan = run_plan(
                &app,
                &dispatcher,
                json!({"date": tomorrow(), "time_limit_ms": 600, "objective": objective}),
            )
            .await;
            assert_eq!(plan["status"], "draft", "{plan}");
            assert_eq!(plan["objective"], objective, "{plan}");
            let report = check_plan(&app, &dispatcher, plan["id"].as_i64().unwrap()).await;
            assert_eq!(report.unassigned, 0, "{objective}: {plan}");
            plans.insert(objective, plan);
        }
        let hours = |o: &str| kpi(&plans[o], "working_hours");
        let couriers = |o: &str| kpi(&plans[o], "vehicles_used");
        let km = |o: &str| kpi(&plans[o], "distance_km");
        println!(
            "{:?}",
            OBJECTIVES.map(|o| format!(
                "{o}: {:.1} h, {:.1} km, {} couriers",
                hours(o),
                km(o),
                couriers(o)
            ))
        );
        // Paying for waiting sends a second courier in the afternoon instead of a wait of
        // six hours; the distance objective saves the kilometres and pays the hours.
        assert!(hours("cost") + 3.0 < hours("distance"));
        assert!(km("distance") <= km("cost") + 1e-6);
        assert!(couriers("fewest_couriers") <= couriers("cost"));

        // The server's default is cost.
        let plan = run_plan(
            &app,
            &dispatcher,
            json!({"date": tomorrow(), "time_limit_ms": 300}),
        )
        .await;
        assert_eq!(plan["objective"], "cost", "{plan}");

        // An unknown objective names the field; nothing is queued.
        let (_, before) = app
            .get(&format!("/plans?date={}", tomorrow()), &dispatcher)
            .await;
        let (status, problem) = app
            .post(
                "/plans",
                &dispatcher,
                &json!({"date": tomorrow(), "objective": "cheapest"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "objective", "{problem}");
        let (_, after) = app
            .get(&format!("/plans?date={}", tomorrow()), &dispatcher)
            .await;
        assert_eq!(before["items"], after["items"]);

        // A re-optimisation keeps the published plan's objective unless told otherwise.
        let balanced = plans["balanced"]["id"].as_i64().unwrap();
        let (status, published) = app
            .post(
                &format!("/plans/{balanced}/publish"),
                &dispatcher,
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{published}");
        for (body, expected) in [
            (json!({}), "balanced"),
            (json!({"objective": "earliest_finish"}), "earliest_finish"),
        ] {
            let (status, queued) = app
                .post(&format!("/plans/{balanced}/reoptimize"), &dispatcher, &body)
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
            assert_eq!(queued["objective"], expected, "{queued}");
        }
    }
);

/// A server planning with `buffer_minutes` of plan buffer, its dispatcher's token, and a
/// depot by the cathedral whose one courier works 9:00-17:00 tomorrow.
async fn buffered_depot(
    backend: crate::helpers::Backend,
    buffer_minutes: u64,
) -> (TestApp, String, Value) {
    let app = TestApp::start(backend, |s| {
        s.dispatch.plan_buffer = std::time::Duration::from_secs(buffer_minutes * 60);
    })
    .await;
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (depot, courier) = crate::helpers::own_depot_and_courier(
        &app,
        &json!({"name": "Cathedral", "address": "Domkloster 4", "lat": 50.938,
                "lon": 6.958, "opens": "00:00", "closes": "23:59", "time_zone": "UTC"}),
        "cathedral.courier@demo.test",
        20,
    )
    .await;
    let at = |h: u32| tomorrow().and_hms_opt(h, 0, 0).unwrap().and_utc();
    crate::helpers::put_shift(&app, &courier, &depot, at(9), at(17)).await;
    (app, dispatcher, depot)
}

/// Plans tomorrow at `depot`; the plan passes the independent checker against the promised
/// windows with nothing left out. Its visits.
async fn planned_visits(app: &TestApp, dispatcher: &str, depot: &Value) -> Vec<Value> {
    let plan = run_plan(
        app,
        dispatcher,
        json!({"date": tomorrow(), "depot_id": depot["id"], "time_limit_ms": 500}),
    )
    .await;
    assert_eq!(plan["status"], "draft", "{plan}");
    let plan_id = plan["id"].as_i64().unwrap();
    let report = check_plan(app, dispatcher, plan_id).await;
    assert_eq!(report.unassigned, 0, "{plan}");
    let (_, routes) = app
        .get(&format!("/plans/{plan_id}/routes"), dispatcher)
        .await;
    routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["stops"].as_array().unwrap().clone())
        .filter(|s| s["kind"] == "job")
        .collect()
}

fn start_of(stop: &Value) -> chrono::DateTime<chrono::Utc> {
    stop["start_at"].as_str().unwrap().parse().unwrap()
}

backend_test!(
    a_visit_that_only_fits_in_the_buffer_is_still_planned,
    backend
        | backend
        | async move {
            // Each visit is planned to begin half an hour before its window ends, when it can.
            let (app, dispatcher, depot) = buffered_depot(backend, 30).await;
            // Three exchanges (20 minutes each) a street away, all wanted between 9 and 10:
            // two begin before 9:30, the third only fits in the last half hour.
            for customer in 1..=3 {
                let home = (50.951 + customer as f64 * 0.0003, 6.958);
                approved_claim(&app, customer, (9, 10), home).await;
            }
            let visits = planned_visits(&app, &dispatcher, &depot).await;
            let mut starts: Vec<_> = visits.iter().map(start_of).collect();
            starts.sort();
            assert_eq!(starts.len(), 3, "{visits:?}");
            let ten = tomorrow().and_hms_opt(10, 0, 0).unwrap().and_utc();
            let room = ten - chrono::Duration::minutes(30);
            assert!(starts[1] <= room, "{starts:?}");
            assert!(starts[2] > room, "{starts:?}");
            assert!(starts[2] <= ten, "{starts:?}");
        }
);

/// One street of four exchanges planned with `buffer_minutes` of plan buffer: when the
/// visit wanted until 11:00 begins, and 11:00.
async fn near_visit_start(
    backend: crate::helpers::Backend,
    buffer_minutes: u64,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let (app, dispatcher, depot) = buffered_depot(backend, buffer_minutes).await;
    let at = |h: u32, m: u32| tomorrow().and_hms_opt(h, m, 0).unwrap().and_utc();
    // Kilometres east of the depot on its street (a degree of longitude is 70 km here).
    let east = |km: f64| (50.938, 6.958 + km / 70.1);
    let window = |from: (u32, u32), to: (u32, u32)| json!([{"start": at(from.0, from.1), "end": at(to.0, to.1)}]);
    // The far customer must be first (he wants the courier before 10:00, 25 minutes'
    // drive away); two more halfway, any time; the near one before 11:00. The shortest day
    // drives out to the far one and serves the rest on the way back: the near one last, at
    // about 10:48. Served right after the far one instead, the near one costs 9 km more.
    approved_claim_in(&app, 1, window((9, 0), (10, 0)), east(9.5)).await;
    approved_claim_in(&app, 2, window((9, 0), (17, 0)), east(5.0)).await;
    approved_claim_in(&app, 3, window((9, 0), (17, 0)), east(5.0)).await;
    let (_, near) = approved_claim_in(&app, 4, window((9, 0), (11, 0)), east(0.5)).await;
    let visits = planned_visits(&app, &dispatcher, &depot).await;
    let stop = visits
        .iter()
        .find(|s| s["job_id"] == near["id"])
        .unwrap_or_else(|| panic!("the near visit is not on a route: {visits:?}"));
    (start_of(stop), at(11, 0))
}

backend_test!(
    a_buffer_moves_a_visit_out_of_the_last_part_of_its_window,
    backend
        | backend
        | async move {
            let room = chrono::Duration::minutes(30);
            // Planned to the window's end, the near visit comes last, in its last half hour.
            let (start, end) = near_visit_start(backend, 0).await;
            assert!(start > end - room && start <= end, "{start} (ends {end})");
            // With half an hour of buffer the plan pays the detour to keep that room.
            let (start, end) = near_visit_start(backend, 30).await;
            assert!(start <= end - room, "{start} (ends {end})");
        }
);
