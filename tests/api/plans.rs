//! Plans of a day: approved claims planned into routes, every stored route checked by the
//! planner's independent checker, edited, published and re-optimised.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{claim_body, TestApp};

/// The demo's tomorrow (see `helpers::test_day`).
pub fn tomorrow() -> NaiveDate {
    crate::helpers::test_day() + chrono::Duration::days(1)
}

/// Files a claim for a demo customer's unit with one window tomorrow and has the head
/// approve a replacement; returns (claim, its job).
pub async fn approved_claim(
    app: &TestApp,
    customer: usize,
    window: (u32, u32),
    at: (f64, f64),
) -> (Value, Value) {
    let day = tomorrow();
    let windows = json!([{
        "start": format!("{day}T{:02}:00:00Z", window.0),
        "end": format!("{day}T{:02}:00:00Z", window.1),
    }]);
    approved_claim_in(app, customer, windows, at).await
}

/// Files a claim for a demo customer's unit with these preferred windows at `at` and has
/// the head approve a replacement; returns (claim, its job).
pub async fn approved_claim_in(
    app: &TestApp,
    customer: usize,
    windows: Value,
    at: (f64, f64),
) -> (Value, Value) {
    approved_claim_with(
        app,
        customer,
        windows,
        at,
        json!({"decision": "replacement"}),
    )
    .await
}

/// Files a claim as `approved_claim_in` does and has the head take `decision`; returns
/// (claim, its first job).
pub async fn approved_claim_with(
    app: &TestApp,
    customer: usize,
    windows: Value,
    at: (f64, f64),
    decision: Value,
) -> (Value, Value) {
    let token = app.login(&format!("customer{customer}@demo.test")).await;
    let mut body = claim_body(&format!("DEMO-{customer:04}"));
    body["preferred_windows"] = windows;
    body["lat"] = json!(at.0);
    body["lon"] = json!(at.1);
    let (status, claim) = app.post("/claims", &token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let id = claim["id"].as_i64().unwrap();
    let head = app.login("head@demo.test").await;
    let (status, decided) = app
        .post(&format!("/claims/{id}/decision"), &head, &decision)
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    (decided["claim"].clone(), decided["jobs"][0].clone())
}

/// The path of a claim's tracking link (`/track/...`).
pub fn tracking_path(claim: &Value) -> String {
    let url = claim["tracking_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no tracking link: {claim}"));
    url[url.find("/track/").unwrap()..].to_owned()
}

/// Queues a plan and waits until it is computed; returns the finished plan.
pub async fn run_plan(app: &TestApp, dispatcher: &str, body: Value) -> Value {
    let (status, plan) = app.post("/plans", dispatcher, &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{plan}");
    assert_eq!(plan["status"], "queued");
    wait_for_plan(app, dispatcher, plan["id"].as_i64().unwrap()).await
}

/// Plans tomorrow with a short budget and returns the draft's id.
pub async fn draft_tomorrow(app: &TestApp, dispatcher: &str) -> i64 {
    let plan = run_plan(
        app,
        dispatcher,
        json!({"date": tomorrow(), "time_limit_ms": 300}),
    )
    .await;
    assert_eq!(plan["status"], "draft", "{plan}");
    plan["id"].as_i64().unwrap()
}

/// Plans tomorrow and publishes the draft; returns the plan's id.
pub async fn publish_tomorrow(app: &TestApp, dispatcher: &str) -> i64 {
    publish_plan(
        app,
        dispatcher,
        json!({"date": tomorrow(), "time_limit_ms": 300}),
    )
    .await
}

/// Runs a plan (`POST /plans` with `body`) and publishes the draft; returns its id.
pub async fn publish_plan(app: &TestApp, dispatcher: &str, body: Value) -> i64 {
    let plan = run_plan(app, dispatcher, body).await;
    assert_eq!(plan["status"], "draft", "{plan}");
    let id = plan["id"].as_i64().unwrap();
    publish(app, dispatcher, id).await;
    id
}

/// Publishes draft `id`.
pub async fn publish(app: &TestApp, dispatcher: &str, id: i64) {
    let (status, published) = app
        .post(&format!("/plans/{id}/publish"), dispatcher, &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["status"], "published");
}

/// Asserts each courier of `before` keeps his jobs in their order in `after`, apart from
/// the jobs `added`.
pub fn assert_routes_kept(before: &Value, after: &Value, added: &[i64]) {
    for old in before["routes"].as_array().unwrap() {
        let old_jobs = stop_jobs(old);
        if old_jobs.is_empty() {
            continue;
        }
        let new = after["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["courier_id"] == old["courier_id"])
            .unwrap();
        let kept: Vec<i64> = stop_jobs(new)
            .into_iter()
            .filter(|j| !added.contains(j))
            .collect();
        assert_eq!(kept, old_jobs, "courier {}", old["courier_id"]);
    }
}

/// Re-optimises published plan `id` (half a second) and waits for its draft; the draft's id.
pub async fn reoptimize(app: &TestApp, dispatcher: &str, id: i64) -> i64 {
    let (status, queued) = app
        .post(
            &format!("/plans/{id}/reoptimize"),
            dispatcher,
            &json!({"time_limit_ms": 500}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let draft = wait_for_plan(app, dispatcher, queued["id"].as_i64().unwrap()).await;
    assert_eq!(draft["status"], "draft", "{draft}");
    assert_eq!(draft["reoptimizes_id"], id);
    draft["id"].as_i64().unwrap()
}

pub async fn wait_for_plan(app: &TestApp, dispatcher: &str, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, plan) = app.get(&format!("/plans/{id}"), dispatcher).await;
        assert_eq!(status, StatusCode::OK, "{plan}");
        if !matches!(plan["status"].as_str(), Some("queued" | "running")) {
            return plan;
        }
        assert!(
            Instant::now() < deadline,
            "plan {id} still {}",
            plan["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn seconds(origin: DateTime<Utc>, at: &Value) -> f64 {
    let at: DateTime<Utc> = at.as_str().unwrap().parse().unwrap();
    (at - origin).num_milliseconds() as f64 / 1000.0
}

/// Rebuilds the planner's solution from the routes the API serves and runs the planner's
/// independent checker on it against the stored problem.
pub async fn check_plan(app: &TestApp, dispatcher: &str, plan_id: i64) -> planner::CheckReport {
    let (status, doc) = app
        .get(&format!("/plans/{plan_id}/problem"), dispatcher)
        .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let (status, routes) = app
        .get(&format!("/plans/{plan_id}/routes"), dispatcher)
        .await;
    assert_eq!(status, StatusCode::OK, "{routes}");
    let origin: DateTime<Utc> = doc["origin"].as_str().unwrap().parse().unwrap();
    let problem: planner::Problem = serde_json::from_value(doc["problem"].clone()).unwrap();
    let job_index = |id: &Value| {
        let id = id.as_i64().unwrap().to_string();
        problem.jobs.iter().position(|j| j.id == id)
    };
    let mut solution = planner::Solution {
        routes: Vec::new(),
        unassigned: Vec::new(),
        distance: 0.0,
        duration: 0.0,
        cost: 0.0,
        vehicles: 0,
        iterations: 0,
    };
    for route in routes["routes"].as_array().unwrap() {
        let stops = route["stops"].as_array().unwrap();
        if stops.is_empty() {
            continue;
        }
        let courier = route["courier_id"].as_i64().unwrap().to_string();
        let vehicle = problem
            .vehicles
            .iter()
            .position(|v| v.id == courier)
            .unwrap();
        let start_time = seconds(origin, &route["start_at"]);
        let end_time = seconds(origin, &route["end_at"]);
        let distance = route["distance_m"].as_f64().unwrap();
        solution.distance += distance;
        // The API does not state a route's price: take the planner's for the same sequence
        // (distance and travel time at the courier's prices; the checker recomputes it).
        let sequence: Vec<usize> = stops
            .iter()
            .filter(|s| s["kind"] == "job")
            .map(|s| job_index(&s["job_id"]).unwrap())
            .collect();
        let cost = planner::retime(&problem, vehicle, &sequence)
            .unwrap()
            .route
            .cost;
        solution.routes.push(planner::Route {
            vehicle,
            vehicle_id: courier,
            start_time,
            end_time,
            distance,
            duration: end_time - start_time,
            cost,
            stops: stops
                .iter()
                .map(|s| planner::Stop {
                    job: if s["kind"] == "job" {
                        Some(job_index(&s["job_id"]).unwrap())
                    } else {
                        None
                    },
                    job_id: s["job_id"].as_i64().map(|j| j.to_string()),
                    arrival: seconds(origin, &s["arrival_at"]),
                    start: seconds(origin, &s["start_at"]),
                    departure: seconds(origin, &s["departure_at"]),
                    load: vec![s["load"].as_i64().unwrap() as i32],
                })
                .collect(),
        });
    }
    for u in routes["unassigned"].as_array().unwrap() {
        if let Some(job) = job_index(&u["job_id"]) {
            let reason = serde_json::from_value(u["reason"].clone())
                .unwrap_or(planner::UnassignedReason::NoRoom);
            solution.unassigned.push(planner::Unassigned {
                job,
                job_id: problem.jobs[job].id.clone(),
                reason,
            });
        }
    }
    // The totals the plan states are its routes' sums.
    solution.duration = solution.routes.iter().map(|r| r.duration).sum();
    solution.cost = solution.routes.iter().map(|r| r.cost).sum();
    solution.vehicles = solution.routes.len();
    match planner::check(&problem, &solution) {
        Ok(report) => report,
        Err(violations) => panic!("plan {plan_id} fails the checker: {violations:?}"),
    }
}

fn route_of(routes: &Value, job_id: i64) -> Option<&Value> {
    routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| stop_jobs(r).contains(&job_id))
}

pub fn stop_jobs(route: &Value) -> Vec<i64> {
    route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["job_id"].as_i64())
        .collect()
}

async fn couriers(app: &TestApp, dispatcher: &str) -> Vec<Value> {
    let (status, body) = app.get("/couriers", dispatcher).await;
    assert_eq!(status, StatusCode::OK);
    body["items"].as_array().unwrap().clone()
}

async fn jobs_of_day(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/jobs?date={}&limit=200", tomorrow()), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

backend_test!(
    a_day_is_planned_edited_and_published,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        // Five more approved replacements spread over the city, on top of the demo's three
        // approved claims (an exchange, a cash refund and a repair pickup).
        let places = [
            (52.5200, 13.4050),
            (52.4900, 13.3500),
            (52.5450, 13.4200),
            (52.5000, 13.4500),
            (52.5300, 13.3000),
        ];
        let mut new_jobs = Vec::new();
        for (i, place) in places.iter().enumerate() {
            let window = (8 + i as u32, 11 + i as u32);
            new_jobs.push(approved_claim(&app, i + 1, window, *place).await.1);
        }
        let day_jobs = jobs_of_day(&app, &dispatcher).await;
        assert_eq!(day_jobs.len(), 8, "{day_jobs:?}");

        // Only dispatchers plan.
        for email in [
            "courier1@demo.test",
            "customer1@demo.test",
            "manager1@demo.test",
        ] {
            let token = app.login(email).await;
            let (status, _) = app
                .post("/plans", &token, &json!({"date": tomorrow()}))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
        }
        let (status, problem) = app
            .post(
                "/plans",
                &dispatcher,
                &json!({"date": tomorrow(), "time_limit_ms": 5, "depot_id": 999}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "time_limit_ms", "{problem}");

        let plan = run_plan(
            &app,
            &dispatcher,
            json!({"date": tomorrow(), "time_limit_ms": 1000}),
        )
        .await;
        assert_eq!(plan["status"], "draft", "{plan}");
        let plan_id = plan["id"].as_i64().unwrap();
        assert_eq!(plan["kpis"]["jobs_planned"], 8, "{plan}");
        assert_eq!(plan["kpis"]["jobs_unassigned"], 0);
        assert!(plan["kpis"]["distance_km"].as_f64().unwrap() > 0.0);
        assert!(plan["kpis"]["min_slack_minutes"].as_f64().unwrap() >= 0.0);
        assert!(!plan["progress"].as_array().unwrap().is_empty());
        let report = check_plan(&app, &dispatcher, plan_id).await;
        assert_eq!(report.unassigned, 0);

        // Every visit starts inside the customer's own slot and the refund goes to a courier
        // who may carry cash.
        let (_, routes) = app
            .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
            .await;
        let cash_couriers: Vec<i64> = couriers(&app, &dispatcher)
            .await
            .iter()
            .filter(|c| c["skills"].as_array().unwrap().contains(&json!("cash")))
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        for job in &day_jobs {
            let id = job["id"].as_i64().unwrap();
            let route = route_of(&routes, id).unwrap_or_else(|| panic!("job {id} not routed"));
            let stop = route["stops"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["job_id"] == id)
                .unwrap();
            let start: DateTime<Utc> = stop["start_at"].as_str().unwrap().parse().unwrap();
            let fits = job["windows"].as_array().unwrap().iter().any(|w| {
                let from: DateTime<Utc> = w["start"].as_str().unwrap().parse().unwrap();
                let to: DateTime<Utc> = w["end"].as_str().unwrap().parse().unwrap();
                from <= start && start <= to
            });
            assert!(
                fits,
                "job {id} starts at {start}, outside {}",
                job["windows"]
            );
            assert!(stop["claim_number"].as_str().unwrap().starts_with("CLM-"));
            if job["kind"] == "refund" {
                assert!(cash_couriers.contains(&route["courier_id"].as_i64().unwrap()));
            }
        }

        // The same routes as GeoJSON: a line per used route, a point per visit.
        let response = app
            .request(
                reqwest::Method::GET,
                &format!("/plans/{plan_id}/routes?format=geojson"),
                Some(&dispatcher),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/geo+json");
        let geo: Value = response.json().await.unwrap();
        assert_eq!(geo["type"], "FeatureCollection");
        let features = geo["features"].as_array().unwrap();
        let lines = features
            .iter()
            .filter(|f| f["geometry"]["type"] == "LineString")
            .count();
        let points: Vec<&Value> = features
            .iter()
            .filter(|f| f["geometry"]["type"] == "Point")
            .collect();
        let used = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !stop_jobs(r).is_empty())
            .count();
        assert_eq!(lines, used);
        assert_eq!(points.len(), 8);
        for p in points {
            let job = day_jobs
                .iter()
                .find(|j| j["id"] == p["properties"]["job_id"])
                .unwrap();
            assert_eq!(
                p["geometry"]["coordinates"],
                json!([job["lon"], job["lat"]])
            );
        }

        // The dispatcher moves the refund to a courier without the cash skill: accepted as a
        // draft, but re-timed and reported, and publishing refuses it.
        let refund = day_jobs.iter().find(|j| j["kind"] == "refund").unwrap();
        let refund_id = refund["id"].as_i64().unwrap();
        let planned_route = route_of(&routes, refund_id).unwrap();
        let planned_courier = planned_route["courier_id"].as_i64().unwrap();
        let planned_position = stop_jobs(planned_route)
            .iter()
            .position(|&j| j == refund_id)
            .unwrap();
        let non_cash = couriers(&app, &dispatcher)
            .await
            .iter()
            .find(|c| !cash_couriers.contains(&c["id"].as_i64().unwrap()))
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (status, problem) = app
        .patch(
            &format!("/plans/{plan_id}"),
            &dispatcher,
            &json!({"version": plan["version"], "moves": [{"job_id": refund_id, "courier_id": 999_999}]}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "moves[0].courier_id");
        let (status, edited) = app
        .patch(
            &format!("/plans/{plan_id}"),
            &dispatcher,
            &json!({"version": plan["version"], "moves": [{"job_id": refund_id, "courier_id": non_cash, "position": 0}]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        let violations = edited["violations"].as_array().unwrap();
        assert!(
            violations
                .iter()
                .any(|v| v["kind"] == "missing_skill" && v["job_id"] == refund_id),
            "{violations:?}"
        );
        let moved_route = route_of(&edited["routes"], refund_id).unwrap();
        assert_eq!(moved_route["courier_id"], non_cash);
        assert_eq!(
            stop_jobs(moved_route)[0],
            refund_id,
            "placed first as asked"
        );
        assert_eq!(edited["plan"]["kpis"]["violations"], violations.len());
        let version = edited["plan"]["version"].as_i64().unwrap();
        assert_eq!(version, plan["version"].as_i64().unwrap() + 1);
        // An edit on the old version is stale.
        let (status, _) = app
        .patch(
            &format!("/plans/{plan_id}"),
            &dispatcher,
            &json!({"version": plan["version"], "locks": [{"job_id": refund_id, "locked": true}]}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, refused) = app
            .post(
                &format!("/plans/{plan_id}/publish"),
                &dispatcher,
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");

        // Back where the planner had put it, and locked there.
        let (status, edited) = app
            .patch(
                &format!("/plans/{plan_id}"),
                &dispatcher,
                &json!({"version": version,
                    "moves": [{"job_id": refund_id, "courier_id": planned_courier,
                               "position": planned_position}],
                    "locks": [{"job_id": refund_id, "locked": true}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["violations"], json!([]), "{edited}");
        let route = route_of(&edited["routes"], refund_id).unwrap();
        assert_eq!(route["courier_id"], planned_courier);
        assert_eq!(stop_jobs(route)[planned_position], refund_id);
        let stop = route["stops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["job_id"] == refund_id)
            .unwrap();
        assert_eq!(stop["locked"], true);
        // The re-timed routes still pass the independent checker.
        check_plan(&app, &dispatcher, plan_id).await;

        // Publishing hands every job to its courier and tells each customer when to expect him.
        let (status, published) = app
            .post(
                &format!("/plans/{plan_id}/publish"),
                &dispatcher,
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{published}");
        assert_eq!(published["status"], "published");
        let (_, routes) = app
            .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
            .await;
        for job in jobs_of_day(&app, &dispatcher).await {
            assert_eq!(job["status"], "assigned", "{job}");
            let route = route_of(&routes, job["id"].as_i64().unwrap()).unwrap();
            assert_eq!(job["courier_id"], route["courier_id"]);
        }
        let first_claim = new_jobs[0]["claim_id"].as_i64().unwrap();
        let customer = app.login("customer1@demo.test").await;
        let (status, claim) = app.get(&format!("/claims/{first_claim}"), &customer).await;
        assert_eq!(status, StatusCode::OK);
        let history = claim["history"].as_array().unwrap();
        assert!(
            history.iter().any(|e| e["kind"] == "visit_planned"
                && e["note"]
                    .as_str()
                    .unwrap()
                    .contains("courier visit planned")),
            "{history:?}"
        );
        let (status, _) = app
            .post(
                &format!("/plans/{plan_id}/publish"),
                &dispatcher,
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "published once only");

        // The day starts: a courier finishes his first visit (with the proof photo of the unit
        // he took back).
        let refund_courier = route_of(&routes, refund_id).unwrap()["courier_id"].clone();
        let busy = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| !stop_jobs(r).is_empty() && r["courier_id"] != refund_courier)
            .unwrap()
            .clone();
        let done_id = stop_jobs(&busy)[0];
        let mut courier = None;
        for n in 1..=4 {
            let token = app.login(&format!("courier{n}@demo.test")).await;
            let (_, mine) = app
                .get(&format!("/me/route?date={}", tomorrow()), &token)
                .await;
            if mine["stops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["job"] == done_id)
            {
                courier = Some(token);
            }
        }
        let courier = courier.expect("a courier has the job on his phone");
        let report = |kind: &'static str, key: &'static str| {
            let app = &app;
            let courier = courier.clone();
            async move {
                crate::helpers::read(
                app.request(reqwest::Method::POST, &format!("/me/jobs/{done_id}/events"), Some(&courier))
                    .header("Idempotency-Key", key)
                    .json(&json!({"type": kind, "at": Utc::now().to_rfc3339(), "lat": 52.5, "lon": 13.4}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
            }
        };
        assert_eq!(report("arrived", "arrive-1").await.0, StatusCode::OK);
        let part =
            reqwest::multipart::Part::bytes(crate::helpers::PNG_1X1.to_vec()).file_name("unit.png");
        let response = app
            .request(
                reqwest::Method::POST,
                &format!("/me/jobs/{done_id}/proof"),
                Some(&courier),
            )
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let (status, done) = report("completed", "complete-1").await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "done");

        // A claim approved after publishing is inserted by re-optimising; the locked stop keeps
        // its courier and everything before it.
        let (_, late_job) = approved_claim(&app, 6, (9, 17), (52.5100, 13.3900)).await;
        let late_id = late_job["id"].as_i64().unwrap();
        let before = route_of(&routes, refund_id).unwrap().clone();
        let before_jobs = stop_jobs(&before);
        let locked_at = before_jobs.iter().position(|&j| j == refund_id).unwrap();
        let new_id = reoptimize(&app, &dispatcher, plan_id).await;
        check_plan(&app, &dispatcher, new_id).await;
        let (_, new_routes) = app
            .get(&format!("/plans/{new_id}/routes"), &dispatcher)
            .await;
        assert!(
            route_of(&new_routes, late_id).is_some(),
            "the new job is planned"
        );
        let after = route_of(&new_routes, refund_id).unwrap();
        assert_eq!(after["courier_id"], before["courier_id"]);
        assert_eq!(
            stop_jobs(after)[..=locked_at],
            before_jobs[..=locked_at],
            "the locked stop and those before it stay where they were"
        );
        // The finished visit stays first on its courier's route, marked done.
        let busy_after = route_of(&new_routes, done_id).unwrap();
        assert_eq!(busy_after["courier_id"], busy["courier_id"]);
        assert_eq!(busy_after["stops"][0]["job_id"], done_id);
        assert_eq!(busy_after["stops"][0]["outcome"], "done");
        // Every other job keeps its courier and order (least disruption).
        assert_routes_kept(&routes, &new_routes, &[late_id]);
        let (status, republished) = app
            .post(&format!("/plans/{new_id}/publish"), &dispatcher, &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{republished}");
        let (_, old) = app.get(&format!("/plans/{plan_id}"), &dispatcher).await;
        assert_eq!(old["status"], "superseded");
        let jobs = jobs_of_day(&app, &dispatcher).await;
        let late = jobs.iter().find(|j| j["id"] == late_id).unwrap();
        assert_eq!(late["status"], "assigned");
        let done = jobs.iter().find(|j| j["id"] == done_id).unwrap();
        assert_eq!(
            done["status"], "done",
            "publishing leaves finished visits alone"
        );
    }
);

backend_test!(
    two_plans_of_a_day_cannot_both_publish,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        let body = json!({"date": tomorrow(), "time_limit_ms": 300});
        let first = run_plan(&app, &dispatcher, body.clone()).await;
        let second = run_plan(&app, &dispatcher, body).await;
        assert_eq!(first["status"], "draft", "{first}");
        assert_eq!(second["status"], "draft", "{second}");
        let publish = |id: i64| {
            let app = &app;
            let dispatcher = dispatcher.clone();
            async move {
                app.post(&format!("/plans/{id}/publish"), &dispatcher, &json!({}))
                    .await
            }
        };
        let (a, b) = futures_util::future::join(
            publish(first["id"].as_i64().unwrap()),
            publish(second["id"].as_i64().unwrap()),
        )
        .await;
        let statuses = [a.0, b.0];
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{a:?} {b:?}"
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CONFLICT)
                .count(),
            1
        );
        let (_, plans) = app
            .get(&format!("/plans?date={}", tomorrow()), &dispatcher)
            .await;
        let published: Vec<&Value> = plans["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "published")
            .collect();
        assert_eq!(published.len(), 1);
        // The jobs belong to the winner's routes.
        let winner = published[0]["id"].as_i64().unwrap();
        let (_, routes) = app
            .get(&format!("/plans/{winner}/routes"), &dispatcher)
            .await;
        for job in jobs_of_day(&app, &dispatcher).await {
            let route = route_of(&routes, job["id"].as_i64().unwrap()).unwrap();
            assert_eq!(job["courier_id"], route["courier_id"]);
        }
    }
);

backend_test!(
    the_dispatcher_watches_a_run_progress,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        let (status, plan) = app
            .post(
                "/plans",
                &dispatcher,
                &json!({"date": tomorrow(), "time_limit_ms": 3000}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let id = plan["id"].as_i64().unwrap();
        let mut seen_running_with_progress = false;
        let plan = loop {
            let (_, plan) = app.get(&format!("/plans/{id}"), &dispatcher).await;
            match plan["status"].as_str().unwrap() {
                "queued" => {}
                "running" => {
                    if !plan["progress"].as_array().unwrap().is_empty() {
                        seen_running_with_progress = true;
                    }
                }
                _ => break plan,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(plan["status"], "draft", "{plan}");
        assert!(seen_running_with_progress, "progress visible while running");
        // The search kept to its budget by the planner's own clock, give or take the step
        // it was in when time ran out (how long a run takes on this machine is the
        // benchmarks' business, not a functional fact).
        let curve = plan["progress"].as_array().unwrap();
        assert!(curve.len() >= 2, "{plan}");
        for point in curve {
            assert!(point["elapsed_ms"].as_u64().unwrap() <= 3300, "{point}");
            assert!(point["fraction"].as_f64().unwrap() <= 1.0 + 1e-9, "{point}");
        }
        let finished: DateTime<Utc> = plan["finished_at"].as_str().unwrap().parse().unwrap();
        let began: DateTime<Utc> = plan["started_at"].as_str().unwrap().parse().unwrap();
        assert!(began <= finished, "{plan}");
        // The best solution only improves: fewer unassigned jobs first, then lower cost.
        let keys: Vec<(u64, f64)> = curve
            .iter()
            .map(|p| {
                (
                    p["unassigned"].as_u64().unwrap(),
                    p["cost"].as_f64().unwrap(),
                )
            })
            .collect();
        for w in keys.windows(2) {
            let ((u0, c0), (u1, c1)) = (w[0], w[1]);
            assert!(
                u1 < u0 || (u1 == u0 && c1 <= c0 + 1e-9),
                "the best got worse: {keys:?}"
            );
        }
    }
);

backend_test!(
    a_run_whose_process_died_is_marked_failed,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        let dispatcher_id = app.user_id("dispatcher@demo.test").await;
        // A plan another process claimed and then stopped reporting on (it crashed).
        let url = app.database_url.clone();
        let id = tokio::task::spawn_blocking(move || {
            use diesel::RunQueryDsl;
            let pool = api::db::connect_pool(&url, 1).unwrap();
            let mut conn = pool.get().unwrap();
            let silent = (Utc::now() - chrono::Duration::minutes(10)).naive_utc();
            let sql = format!(
                "INSERT INTO plans (date, scope, status, created_by, time_limit_ms, runner, \
             heartbeat_at, started_at, progress, version, created_at, updated_at) VALUES \
             ('{}', 'all', 'running', {dispatcher_id}, 1000, 'crashed-replica', '{silent}', \
             '{silent}', '[]', 1, '{silent}', '{silent}')",
                tomorrow()
            );
            diesel::sql_query(sql).execute(&mut conn).unwrap();
            #[derive(diesel::QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            diesel::sql_query("SELECT MAX(id) AS id FROM plans")
                .get_result::<Id>(&mut conn)
                .unwrap()
                .id
        })
        .await
        .unwrap();
        let plan = wait_for_plan(&app, &dispatcher, id).await;
        assert_eq!(plan["status"], "failed", "{plan}");
        assert!(plan["error"]
            .as_str()
            .unwrap()
            .contains("stopped reporting"));
        let (status, _) = app.get(&format!("/plans/{id}/routes"), &dispatcher).await;
        assert_eq!(status, StatusCode::CONFLICT);
        // A new run for the day still works.
        let plan = run_plan(
            &app,
            &dispatcher,
            json!({"date": tomorrow(), "time_limit_ms": 300}),
        )
        .await;
        assert_eq!(plan["status"], "draft");
    }
);

backend_test!(
    replicas_sharing_a_database_run_each_plan_once,
    |app: TestApp| async move {
        let replica = app.spawn_replica().await;
        let dispatcher = app.login("dispatcher@demo.test").await;
        let body = json!({"date": tomorrow(), "time_limit_ms": 200});
        // Plans queued through both processes; both workers poll the same queue.
        let mut ids = Vec::new();
        for i in 0..6 {
            let via = if i % 2 == 0 { &app } else { &replica };
            let (status, plan) = via.post("/plans", &dispatcher, &body).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{plan}");
            ids.push(plan["id"].as_i64().unwrap());
        }
        let (_, couriers) = app.get("/couriers", &dispatcher).await;
        let on_shift = couriers["items"].as_array().unwrap().len();
        let mut runners = std::collections::BTreeSet::new();
        for id in ids {
            let plan = wait_for_plan(&app, &dispatcher, id).await;
            assert_eq!(plan["status"], "draft", "{plan}");
            // Computed once, by one of the two processes.
            assert_eq!(plan["runs"], 1, "taken by a worker once: {plan}");
            let runner = plan["runner"].as_str().unwrap().to_owned();
            assert!(
                runner == app.instance || runner == replica.instance,
                "{runner} is neither {} nor {}",
                app.instance,
                replica.instance
            );
            runners.insert(runner);
            // Stored once: one route per courier on shift, each job once.
            let (_, routes) = app.get(&format!("/plans/{id}/routes"), &dispatcher).await;
            assert_eq!(routes["routes"].as_array().unwrap().len(), on_shift);
            let report = check_plan(&app, &dispatcher, id).await;
            assert_eq!(report.unassigned, 0);
        }
        assert_eq!(
            runners.len(),
            2,
            "both processes computed plans: {runners:?}"
        );
    }
);

backend_test!(
    publish_and_reoptimize_refuse_mistyped_bodies,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        let id = draft_tomorrow(&app, &dispatcher).await;
        let publish = format!("/plans/{id}/publish");
        for (body, field) in [
            (json!({"version": "7"}), "version"),
            (json!({"accept_violations": "yes"}), "accept_violations"),
            (json!({"version": 1, "accept_violation": true}), ""),
        ] {
            let (status, problem) = app.post(&publish, &dispatcher, &body).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {problem}"
            );
            assert!(
                problem["errors"][0]["field"]
                    .as_str()
                    .unwrap()
                    .contains(field),
                "{body}: {problem}"
            );
        }
        // Nothing was published by the refused requests; a stale version is still a 409.
        let (_, unchanged) = app.get(&format!("/plans/{id}"), &dispatcher).await;
        assert_eq!(unchanged["status"], "draft");
        let (status, stale) = app
            .post(&publish, &dispatcher, &json!({"version": 99}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{stale}");
        let (status, published) = app
            .post(
                &publish,
                &dispatcher,
                &json!({"version": unchanged["version"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{published}");

        let (status, problem) = app
            .post(
                &format!("/plans/{id}/reoptimize"),
                &dispatcher,
                &json!({"time_limit_ms": "fast"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "time_limit_ms", "{problem}");
    }
);
