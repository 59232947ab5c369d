//! Every decision ends with the unit back or the money paid: the repair path through the
//! workshop, the three ways a unit travels, the warranty override, the limit on failed
//! visits, withdrawal and cancelled jobs leaving the routes.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::courier::{
    claim, courier_of, event, failed, history_of, publish_tomorrow, report, route_path, stop_of,
    upload_proof,
};
use crate::helpers::TestApp;
use crate::plans::{run_plan, tomorrow};
use crate::sinks::SmtpSink;

/// Demo customer `n` files a claim for her unit and the head decides it with `decision`;
/// returns the decision's answer.
async fn decided(app: &TestApp, n: usize, decision: Value) -> Value {
    let customer = app.login(&format!("customer{n}@demo.test")).await;
    let filed = app.file_claim(&customer, &format!("DEMO-{n:04}")).await;
    let id = filed["id"].as_i64().unwrap();
    let head = app.login("head@demo.test").await;
    let (status, body) = app
        .post(&format!("/claims/{id}/decision"), &head, &decision)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The claim went out to the workshop, waited there, and came back to quality control.
pub(crate) fn assert_came_back_from_repair(seen: &Value) {
    let steps: Vec<(Value, Value)> = history_of(seen, "transition")
        .iter()
        .map(|h| (h["from"].clone(), h["to"].clone()))
        .collect();
    assert!(
        steps.ends_with(&[
            (json!("approved"), json!("in_fulfilment")),
            (json!("in_fulfilment"), json!("in_repair")),
            (json!("in_repair"), json!("in_fulfilment")),
            (json!("in_fulfilment"), json!("quality_control")),
        ]),
        "{steps:?}"
    );
}

fn job_id(decided: &Value, i: usize) -> i64 {
    decided["jobs"][i]["id"].as_i64().unwrap()
}

fn claim_id(decided: &Value) -> i64 {
    decided["claim"]["id"].as_i64().unwrap()
}

/// Reports the visit steps of `job` as its courier and completes it.
pub(crate) async fn visit(app: &TestApp, job: i64, with_proof: bool) -> String {
    let (_, courier, _) = courier_of(app, job).await;
    for kind in ["departed", "arrived"] {
        let (status, body) =
            report(app, &courier, job, &format!("{job}-{kind}"), &event(kind)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    if with_proof {
        let (status, body) = upload_proof(app, &courier, job).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = report(
        app,
        &courier,
        job,
        &format!("{job}-done"),
        &event("completed"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "done");
    courier
}

backend_test!(
    a_repair_goes_to_the_workshop_and_comes_back,
    |app: TestApp| async move {
        let head = app.login("head@demo.test").await;
        let decided = decided(&app, 3, json!({"decision": "repair"})).await;
        let id = claim_id(&decided);
        assert_eq!(decided["jobs"][0]["kind"], "pickup");
        assert_eq!(decided["claim"]["decision"]["logistics"], "courier");
        publish_tomorrow(&app).await;
        visit(&app, job_id(&decided, 0), true).await;
        let seen = claim(&app, id).await;
        assert_eq!(seen["status"], "in_repair", "the unit is at the workshop");

        // Nobody closes it while the unit is away, nor finishes a repair twice.
        let (status, _) = app
            .post(
                &format!("/claims/{id}/transition"),
                &head,
                &json!({"to": "closed"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, done) = app
            .post(
                &format!("/claims/{id}/repair-done"),
                &head,
                &json!({"note": "new pump"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["claim"]["status"], "in_repair");
        assert_eq!(done["jobs"][0]["kind"], "return");
        assert_eq!(done["jobs"][0]["status"], "unplanned");
        assert_eq!(
            done["jobs"][0]["delivery_load"],
            decided["jobs"][0]["pickup_load"]
        );
        let (status, _) = app
            .post(&format!("/claims/{id}/repair-done"), &head, &json!({}))
            .await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "the return job was made already"
        );

        // The return visit is planned, under way, done: quality control, then closed.
        let back = done["jobs"][0]["id"].as_i64().unwrap();
        publish_tomorrow(&app).await;
        let courier = visit(&app, back, false).await;
        let seen = claim(&app, id).await;
        assert_eq!(seen["status"], "quality_control");
        assert_came_back_from_repair(&seen);
        assert_eq!(
            history_of(&seen, "repair_done")[0]["note"],
            "repair finished: new pump"
        );
        let (status, closed) = app
            .post(
                &format!("/claims/{id}/transition"),
                &head,
                &json!({"to": "closed"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{closed}");
        let (_, route) = app.get(&route_path(), &courier).await;
        assert_eq!(stop_of(&route, back).unwrap()["status"], "done");
    }
);

backend_test!(
    the_customer_brings_the_unit_or_a_technician_comes,
    |app: TestApp| async move {
        let head = app.login("head@demo.test").await;
        // An exchange at the counter: no courier job; the unit handed in ends it.
        let counter = decided(
            &app,
            1,
            json!({"decision": "replacement", "logistics": "customer_brings"}),
        )
        .await;
        assert_eq!(counter["jobs"], json!([]));
        let id = claim_id(&counter);
        let (status, body) = app
            .post(
                &format!("/claims/{id}/received"),
                &head,
                &json!({"note": "desk 2"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "quality_control");
        let (status, _) = app
            .post(&format!("/claims/{id}/received"), &head, &json!({}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);

        // A repair brought in: workshop, then collected at the depot.
        let workshop = decided(
            &app,
            3,
            json!({"decision": "repair", "logistics": "customer_brings"}),
        )
        .await;
        let id = claim_id(&workshop);
        let (_, body) = app
            .post(&format!("/claims/{id}/received"), &head, &json!({}))
            .await;
        assert_eq!(body["status"], "in_repair", "{body}");
        let (status, body) = app
            .post(&format!("/claims/{id}/repair-done"), &head, &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["claim"]["status"], "quality_control");
        assert_eq!(body["jobs"], json!([]));

        // A courier claim is not waiting for anything at the counter.
        let courier = decided(&app, 4, json!({"decision": "replacement"})).await;
        let (status, _) = app
            .post(
                &format!("/claims/{}/received", claim_id(&courier)),
                &head,
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        // On-site is for repairs.
        let customer = app.login("customer5@demo.test").await;
        let filed = app.file_claim(&customer, "DEMO-0005").await;
        let (status, problem) = app
            .post(
                &format!("/claims/{}/decision", filed["id"]),
                &head,
                &json!({"decision": "replacement", "logistics": "onsite"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "logistics");

        // An on-site repair needs a technician: none in the demo, then one on shift.
        let onsite = decided(
            &app,
            2,
            json!({"decision": "repair", "logistics": "onsite"}),
        )
        .await;
        let job = &onsite["jobs"][0];
        assert_eq!(job["kind"], "onsite_repair");
        assert_eq!(job["skills"], json!(["technician"]));
        assert_eq!(
            (job["delivery_load"].clone(), job["pickup_load"].clone()),
            (json!(0), json!(0))
        );
        let job = job["id"].as_i64().unwrap();
        let dispatcher = app.login("dispatcher@demo.test").await;
        let plan = run_plan(
            &app,
            &dispatcher,
            json!({"date": tomorrow(), "time_limit_ms": 300}),
        )
        .await;
        let (_, routes) = app
            .get(&format!("/plans/{}/routes", plan["id"]), &dispatcher)
            .await;
        let out = routes["unassigned"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["job_id"] == job)
            .unwrap()
            .clone();
        assert_eq!(out["reason"], "skills", "{routes}");

        let admin = app.login("admin@demo.test").await;
        let (status, user) = app
            .post(
                "/users",
                &admin,
                &json!({"email": "tech@demo.test", "name": "Tess Technician", "role": "courier",
                        "password": "demo-password-1"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        let (_, depots) = app.get("/depots", &dispatcher).await;
        let depot = depots["items"][0]["id"].clone();
        let (status, tech) = app
            .post(
                "/couriers",
                &dispatcher,
                &json!({"user_id": user["id"], "capacity": 2, "skills": ["technician"],
                        "home_depot_id": depot}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{tech}");
        let day = tomorrow();
        let (status, shift) = app
            .put(
                &format!("/couriers/{}/shifts/{day}", tech["id"]),
                &dispatcher,
                &json!({"start": format!("{day}T06:00:00Z"), "end": format!("{day}T18:00:00Z"),
                        "start_depot_id": depot, "end_depot_id": depot}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{shift}");
        let plan = run_plan(
            &app,
            &dispatcher,
            json!({"date": day, "time_limit_ms": 300}),
        )
        .await;
        let (_, routes) = app
            .get(&format!("/plans/{}/routes", plan["id"]), &dispatcher)
            .await;
        let tech_route = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["courier_id"] == tech["id"])
            .unwrap()
            .clone();
        assert!(
            tech_route["stops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["job_id"] == job),
            "{routes}"
        );
    }
);

backend_test!(
    approving_outside_the_warranty_needs_an_override,
    |app: TestApp| async move {
        // The demo's last unit is out of warranty.
        let customer = app.login("customer8@demo.test").await;
        let filed = app.file_claim(&customer, "DEMO-0008").await;
        assert_eq!(filed["warranty"]["status"], "expired");
        let id = filed["id"].as_i64().unwrap();
        let head = app.login("head@demo.test").await;
        let (status, problem) = app
            .post(
                &format!("/claims/{id}/decision"),
                &head,
                &json!({"decision": "replacement"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "override");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("expired"),
            "{problem}"
        );
        let (_, seen) = app.get(&format!("/claims/{id}"), &head).await;
        assert_eq!(seen["status"], "new", "nothing half-written");
        let (status, body) = app
            .post(
                &format!("/claims/{id}/decision"),
                &head,
                &json!({"decision": "replacement",
                        "override": {"reason": "Goodwill: a month past the warranty."}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["claim"]["decision"]["override_reason"],
            "Goodwill: a month past the warranty."
        );
        let seen = claim(&app, id).await;
        let note = history_of(&seen, "warranty_override")[0]["note"].clone();
        assert!(note.as_str().unwrap().contains("Goodwill"), "{note}");
        // A rejection needs no override.
        let other = app.file_claim(&customer, "DEMO-0008").await;
        let (status, body) = app
            .post(
                &format!("/claims/{}/decision", other["id"]),
                &head,
                &json!({"decision": "reject", "reason_code": "expired", "reason": "Ended in May."}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
);

backend_test!(
    a_job_stops_after_its_last_failed_visit,
    backend
        | backend
        | async move {
            let smtp = SmtpSink::start().await;
            let url = smtp.url.clone();
            let app = TestApp::start(backend, |s| {
                s.max_visit_attempts = 2;
                s.notify.smtp_url = Some(url);
            })
            .await;
            let decided = decided(&app, 6, json!({"decision": "replacement"})).await;
            let (id, job) = (claim_id(&decided), job_id(&decided, 0));
            for attempt in 1..=2 {
                publish_tomorrow(&app).await;
                let (_, courier, _) = courier_of(&app, job).await;
                let (status, answer) = report(
                    &app,
                    &courier,
                    job,
                    &format!("fail-{attempt}"),
                    &failed(&format!("nobody home ({attempt})")),
                )
                .await;
                assert_eq!(status, StatusCode::OK, "{answer}");
                assert_eq!(answer["attempts"], attempt);
                let expected = if attempt < 2 { "unplanned" } else { "failed" };
                assert_eq!(answer["status"], expected, "{answer}");
            }
            // No third plan picks it up; the claim is back with its manager, who is told.
            let seen = claim(&app, id).await;
            assert_eq!(seen["status"], "decision", "{seen}");
            let back = (*history_of(&seen, "transition").last().unwrap()).clone();
            assert!(
                back["note"].as_str().unwrap().contains("nobody home (1)"),
                "{back}"
            );
            assert!(
                back["note"].as_str().unwrap().contains("nobody home (2)"),
                "{back}"
            );
            let dispatcher = app.login("dispatcher@demo.test").await;
            let plan = run_plan(
                &app,
                &dispatcher,
                json!({"date": tomorrow(), "time_limit_ms": 300}),
            )
            .await;
            let (_, routes) = app
                .get(&format!("/plans/{}/routes", plan["id"]), &dispatcher)
                .await;
            assert!(
                !routes.to_string().contains(&format!("\"job_id\":{job}")),
                "{routes}"
            );
            let head = app.login("head@demo.test").await;
            let manager = seen["assignee_id"].clone();
            let (_, users) = app
                .get("/users?limit=200", &app.login("admin@demo.test").await)
                .await;
            let email = users["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["id"] == manager)
                .unwrap()["email"]
                .as_str()
                .unwrap()
                .to_owned();
            let number = seen["number"].as_str().unwrap();
            smtp.wait_for(&email, &format!("Claim {number}: every visit failed"))
                .await;
            // The manager decides again: a refund this time.
            let (status, body) = app
                .post(
                    &format!("/claims/{id}/decision"),
                    &head,
                    &json!({"decision": "refund", "refund_amount_cents": 19900}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
);

backend_test!(
    withdrawal_takes_the_visit_off_the_route,
    |app: TestApp| async move {
        let decided = decided(&app, 1, json!({"decision": "replacement"})).await;
        let (id, job) = (claim_id(&decided), job_id(&decided, 0));
        let plan_id = publish_tomorrow(&app).await;
        let (_, courier, before) = courier_of(&app, job).await;
        let response = app
            .request(reqwest::Method::GET, &route_path(), Some(&courier))
            .send()
            .await
            .unwrap();
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let stops_before = before["stops"].as_array().unwrap().len();

        // Another customer cannot, the customer herself can.
        let other = app.login("customer2@demo.test").await;
        let (status, _) = app
            .post(
                &format!("/claims/{id}/withdraw"),
                &other,
                &json!({"reason": "no"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let customer = app.login("customer1@demo.test").await;
        let (status, body) = app
            .post(
                &format!("/claims/{id}/withdraw"),
                &customer,
                &json!({"reason": "The unit works again."}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "withdrawn");
        let (status, _) = app
            .post(
                &format!("/claims/{id}/withdraw"),
                &customer,
                &json!({"reason": "again"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);

        // The job is cancelled and gone from the courier's route, whose ETag changed.
        let seen = claim(&app, id).await;
        assert_eq!(seen["jobs"][0]["status"], "cancelled");
        let response = app
            .request(reqwest::Method::GET, &route_path(), Some(&courier))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "the route changed");
        let route: Value = crate::helpers::read(response).await.1;
        assert!(stop_of(&route, job).is_none(), "{route}");
        assert_eq!(route["stops"].as_array().unwrap().len(), stops_before - 1);
        let dispatcher = app.login("dispatcher@demo.test").await;
        assert_left_out_cancelled(&app, &dispatcher, plan_id, job).await;

        // Once a visit is under way, it is too late to withdraw.
        let under_way = decided_published(&app).await;
        let (_, courier, _) = courier_of(&app, under_way.1).await;
        let (status, _) = report(&app, &courier, under_way.1, "go", &event("departed")).await;
        assert_eq!(status, StatusCode::OK);
        let customer = app.login("customer4@demo.test").await;
        let (status, body) = app
            .post(
                &format!("/claims/{}/withdraw", under_way.0),
                &customer,
                &json!({"reason": "too late"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
);

/// The plan routes the job no more, lists it as left out because cancelled, and still
/// passes the checker.
async fn assert_left_out_cancelled(app: &TestApp, dispatcher: &str, plan_id: i64, job: i64) {
    let (_, routes) = app
        .get(&format!("/plans/{plan_id}/routes"), dispatcher)
        .await;
    let routed = routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["stops"].as_array().unwrap().iter())
        .any(|s| s["job_id"] == job);
    assert!(!routed, "{routes}");
    let out = routes["unassigned"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["job_id"] == job)
        .unwrap()
        .clone();
    assert_eq!(out["reason"], "cancelled", "{routes}");
    crate::plans::check_plan(app, dispatcher, plan_id).await;
}

/// A replacement for customer 4, planned and published tomorrow: (claim, job).
async fn decided_published(app: &TestApp) -> (i64, i64) {
    let decided = decided(app, 4, json!({"decision": "replacement"})).await;
    publish_tomorrow(app).await;
    (claim_id(&decided), job_id(&decided, 0))
}

backend_test!(
    a_cancelled_job_leaves_the_draft,
    |app: TestApp| async move {
        let decided = decided(&app, 5, json!({"decision": "replacement"})).await;
        let job = job_id(&decided, 0);
        let dispatcher = app.login("dispatcher@demo.test").await;
        let plan = run_plan(
            &app,
            &dispatcher,
            json!({"date": tomorrow(), "time_limit_ms": 300}),
        )
        .await;
        let plan_id = plan["id"].as_i64().unwrap();
        let customer = app.login("customer5@demo.test").await;
        let (status, _) = app
            .post(
                &format!("/jobs/{job}/cancel"),
                &customer,
                &json!({"reason": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = app
            .post(
                &format!("/jobs/{job}/cancel"),
                &dispatcher,
                &json!({"reason": " "}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, body) = app
            .post(
                &format!("/jobs/{job}/cancel"),
                &dispatcher,
                &json!({"reason": "the customer moved"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "cancelled");
        let (_, after) = app.get(&format!("/plans/{plan_id}"), &dispatcher).await;
        assert_eq!(
            after["version"],
            plan["version"].as_i64().unwrap() + 1,
            "{after}"
        );
        assert_left_out_cancelled(&app, &dispatcher, plan_id, job).await;
        let seen = claim(&app, claim_id(&decided)).await;
        assert_eq!(history_of(&seen, "job.cancelled").len(), 1);
        let (status, _) = app
            .post(
                &format!("/jobs/{job}/cancel"),
                &dispatcher,
                &json!({"reason": "again"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
);
