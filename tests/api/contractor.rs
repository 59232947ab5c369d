//! A repair at a contract workshop: the decision names a workshop that takes the product, the
//! unit travels there and back as shipments (two jobs of one courier, the pickup first), the
//! plan keeps each pair on one route in order, edits cannot part it, the courier cannot hand
//! over what he has not taken, a failed pickup takes its hand-over off his route, and the claim
//! follows the unit into the workshop and out again.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::courier::{
    claim, courier_of, event, failed, history_of, publish_tomorrow, report, route_path, stop_of,
};
use crate::documents::{fetch, pdf_text};
use crate::helpers::{new_courier, put_shift, TestApp};
use crate::partners::fields;
use crate::plans::{check_plan, draft_tomorrow, publish, tracking_path};
use crate::remedies::{assert_came_back_from_repair, visit};
use crate::slots::public;

/// The demo's workshop (washing machines and fridges) and supplier, as (id, row).
pub(crate) async fn partners(app: &TestApp, token: &str) -> (Value, Value) {
    let (status, list) = app.get("/partners", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let find = |kind: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} in {list}"))
    };
    (find("workshop"), find("supplier"))
}

/// A workshop in Berlin, 09:00-17:00, that takes `categories` (none: every one).
pub(crate) async fn new_workshop(
    app: &TestApp,
    token: &str,
    name: &str,
    categories: &[&str],
) -> Value {
    let (status, workshop) = app
        .post(
            "/partners",
            token,
            &json!({"kind": "workshop", "name": name, "address": "Alt 1",
                    "lat": 52.5, "lon": 13.4, "opens": "09:00", "closes": "17:00",
                    "time_zone": "Europe/Berlin", "categories": categories}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workshop}");
    workshop
}

/// Demo customer `n` files a claim for her unit; returns its id.
pub(crate) async fn filed(app: &TestApp, n: usize) -> i64 {
    let customer = app.login(&format!("customer{n}@demo.test")).await;
    app.file_claim(&customer, &format!("DEMO-{n:04}")).await["id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn decide(app: &TestApp, claim: i64, body: Value) -> (StatusCode, Value) {
    let head = app.login("head@demo.test").await;
    app.post(&format!("/claims/{claim}/decision"), &head, &body)
        .await
}

fn contractor(partner: &Value) -> Value {
    json!({"decision": "repair", "logistics": "contractor", "partner_id": partner["id"]})
}

pub(crate) fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// The jobs of a claim as a dispatcher sees them, in creation order.
pub(crate) async fn jobs_of(app: &TestApp, claim: i64) -> Vec<Value> {
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (status, jobs) = app
        .get(&format!("/jobs?claim_id={claim}"), &dispatcher)
        .await;
    assert_eq!(status, StatusCode::OK, "{jobs}");
    jobs["items"].as_array().unwrap().clone()
}

/// The courier and position of a job on a plan's routes.
pub(crate) fn place_of(routes: &Value, job: i64) -> Option<(i64, usize)> {
    routes["routes"].as_array().unwrap().iter().find_map(|r| {
        r["stops"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "job")
            .position(|s| s["job_id"] == job)
            .map(|at| (r["courier_id"].as_i64().unwrap(), at))
    })
}

/// Asserts the pair is on one route, the pickup first.
pub(crate) fn assert_carried(routes: &Value, pickup: i64, delivery: i64) -> i64 {
    let (Some((cp, p)), Some((cd, d))) = (place_of(routes, pickup), place_of(routes, delivery))
    else {
        panic!("jobs {pickup} and {delivery} are not both routed: {routes}");
    };
    assert_eq!(cp, cd, "one courier carries the unit");
    assert!(p < d, "the unit is taken before it is handed over");
    cp
}

/// The mail templates sent about a claim, once one of `template` is among them.
pub(crate) async fn mails_once(app: &TestApp, claim: i64, template: &str) -> Vec<String> {
    let head = app.login("head@demo.test").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, sent) = app
            .get(&format!("/claims/{claim}/notifications"), &head)
            .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let templates: Vec<String> = sent["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["template"].as_str().map(str::to_owned))
            .collect();
        if templates.iter().any(|t| t == template) {
            return templates;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {template}: {templates:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Asserts the courier carrying the pair has room for the unit between its legs: the
/// stated loads leave out a unit in transit, so it is added where it is on board.
pub(crate) async fn assert_room(
    app: &TestApp,
    plan: i64,
    routes: &Value,
    legs: (i64, i64),
    amount: i64,
) {
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (_, doc) = app
        .get(&format!("/plans/{plan}/problem"), &dispatcher)
        .await;
    let (courier, _) = place_of(routes, legs.0).unwrap();
    let capacity = doc["problem"]["vehicles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"].as_str().and_then(|id| id.parse().ok()) == Some(courier))
        .unwrap()["capacity"][0]
        .as_i64()
        .unwrap();
    let route = routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["courier_id"] == courier)
        .unwrap();
    let mut on_board = false;
    for stop in route["stops"].as_array().unwrap() {
        if stop["job_id"] == legs.0 {
            on_board = true;
        }
        if stop["job_id"] == legs.1 {
            on_board = false;
        }
        let load = stop["load"].as_i64().unwrap() + if on_board { amount } else { 0 };
        assert!(load <= capacity, "{load} > {capacity} at {stop}");
    }
}

/// Asserts the decision `body` on `claim_id` is a 422 on `partner_id` or `logistics` only,
/// saying `says`.
pub(crate) async fn assert_refused(app: &TestApp, claim_id: i64, body: &Value, says: &str) {
    let (status, problem) = decide(app, claim_id, body.clone()).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{body}: {problem}"
    );
    let fields = fields(&problem);
    assert!(
        !fields.is_empty()
            && fields
                .iter()
                .all(|f| ["partner_id", "logistics"].contains(f)),
        "{body}: {problem}"
    );
    assert!(problem.to_string().contains(says), "{body}: {problem}");
}

/// `job`'s stop on a plan's routes.
pub(crate) fn planned_stop(routes: &Value, job: i64) -> &Value {
    routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["stops"].as_array().unwrap())
        .find(|s| s["job_id"] == job)
        .unwrap_or_else(|| panic!("job {job} is not routed: {routes}"))
}

/// Asserts `job`'s stop starts within `(opens, closes)` o'clock in Berlin (a partner's hours).
pub(crate) fn assert_in_hours(routes: &Value, job: i64, (opens, closes): (u32, u32)) {
    let stop = planned_stop(routes, job);
    let at: chrono::DateTime<chrono::Utc> = stop["start_at"].as_str().unwrap().parse().unwrap();
    let local = at.with_timezone(&chrono_tz::Europe::Berlin).time();
    let hours = chrono::NaiveTime::from_hms_opt(opens, 0, 0).unwrap()
        ..=chrono::NaiveTime::from_hms_opt(closes, 0, 0).unwrap();
    assert!(hours.contains(&local), "job {job} served at {local}");
}

/// Asserts her tracking link offers no slots for a visit tied to a partner trip: a 409
/// saying `says`.
pub(crate) async fn assert_slots_refused(app: &TestApp, claim: &Value, says: &str) {
    let path = format!("{}/slots", tracking_path(claim));
    let (status, problem) = public(app, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains(says),
        "{problem}"
    );
}

/// The courier's route sheet for tomorrow, in English, as text.
pub(crate) async fn route_sheet(app: &TestApp, courier: &str) -> String {
    let sheet = format!(
        "/me/route/sheet.pdf?date={}&lang=en",
        crate::plans::tomorrow()
    );
    let (status, _, pdf) = fetch(app, &sheet, courier, None).await;
    assert_eq!(status, StatusCode::OK);
    pdf_text(&pdf)
}

/// Asserts the courier cannot start the hand-over `delivery` before its `pickup` is done:
/// a 409 naming the pickup.
pub(crate) async fn assert_pickup_first(app: &TestApp, courier: &str, delivery: i64, pickup: i64) {
    let (status, problem) = report(app, courier, delivery, "early", &event("arrived")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem.to_string().contains(&pickup.to_string()),
        "{problem}"
    );
}

/// Asserts she had one "visit done" mail by the time one of `template` was sent: her
/// visit's, none for the courier's stop at a partner.
pub(crate) async fn assert_one_visit_done(app: &TestApp, claim_id: i64, template: &str) {
    let templates = mails_once(app, claim_id, template).await;
    let done_mails = templates.iter().filter(|t| *t == "visit_done").count();
    assert_eq!(done_mails, 1, "{templates:?}");
}

backend_test!(
    a_workshop_must_take_the_unit_and_nothing_is_written_otherwise,
    |app: TestApp| async move {
        let manager = app.login("manager1@demo.test").await;
        let (workshop, supplier) = partners(&app, &manager).await;
        // DEMO-0003 is a vacuum cleaner, which the workshop does not take.
        let vacuum = filed(&app, 3).await;
        let washer = filed(&app, 1).await;
        let before = claim(&app, washer).await;

        let cases = [
            (vacuum, contractor(&workshop), "vacuum"),
            (washer, contractor(&supplier), "supplier"),
            (
                washer,
                json!({"decision": "repair", "logistics": "contractor", "partner_id": 999_999}),
                "no partner",
            ),
            (
                washer,
                json!({"decision": "repair", "logistics": "contractor"}),
                "needs the workshop",
            ),
            (
                washer,
                json!({"decision": "repair", "partner_id": workshop["id"]}),
                "only applies",
            ),
            (
                washer,
                json!({"decision": "replacement", "logistics": "contractor", "partner_id": workshop["id"]}),
                "for repairs",
            ),
        ];
        for (claim_id, body, says) in cases {
            assert_refused(&app, claim_id, &body, says).await;
        }
        // A retired workshop takes nothing new.
        let spare = new_workshop(&app, &manager, "Old Repair Shop", &[]).await;
        let (status, _) = app
            .patch(
                &format!("/partners/{}", id(&spare)),
                &manager,
                &json!({"active": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, problem) = decide(&app, washer, contractor(&spare)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("retired"), "{problem}");

        // Nothing was decided, no job was made.
        let after = claim(&app, washer).await;
        assert_eq!(after["status"], before["status"]);
        assert_eq!(after["decision"], Value::Null);
        assert!(jobs_of(&app, washer).await.is_empty());
        assert!(jobs_of(&app, vacuum).await.is_empty());
    }
);

backend_test!(
    a_contract_workshop_repair_travels_there_and_back_with_one_courier_each_way,
    |app: TestApp| async move {
        let manager = app.login("manager1@demo.test").await;
        let dispatcher = app.login("dispatcher@demo.test").await;
        let head = app.login("head@demo.test").await;
        let (workshop, _) = partners(&app, &manager).await;
        let claim_id = filed(&app, 1).await;
        let (status, decided) = decide(&app, claim_id, contractor(&workshop)).await;
        assert_eq!(status, StatusCode::OK, "{decided}");
        assert_eq!(decided["claim"]["decision"]["logistics"], "contractor");
        let seen_claim = decided["claim"].clone();
        assert_eq!(decided["claim"]["decision"]["partner_id"], workshop["id"]);
        let jobs = decided["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), 2, "{decided}");
        let (pickup, drop_off) = (&jobs[0], &jobs[1]);
        assert_eq!(pickup["kind"], "pickup");
        assert_eq!(pickup["partner_id"], Value::Null);
        assert_eq!(pickup["address"], decided["claim"]["address"]);
        assert_eq!(pickup["paired_job_id"], drop_off["id"]);
        assert_eq!(drop_off["kind"], "drop_off");
        assert_eq!(drop_off["partner_id"], workshop["id"]);
        assert_eq!(drop_off["address"], workshop["address"]);
        assert_eq!(drop_off["lat"], workshop["lat"]);
        assert_eq!(drop_off["paired_job_id"], pickup["id"]);
        assert_eq!(drop_off["delivery_load"], pickup["pickup_load"]);
        let (pickup, drop_off) = (id(pickup), id(drop_off));
        // Her slots are her visits'; this one goes with the workshop trip.
        assert_slots_refused(&app, &seen_claim, "workshop").await;

        // The plan carries the unit on one route, pickup first, in the workshop's hours
        // (09:00-18:00 in Berlin), and passes the checker.
        let plan = draft_tomorrow(&app, &dispatcher).await;
        check_plan(&app, &dispatcher, plan).await;
        let (status, routes) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
        assert_eq!(status, StatusCode::OK, "{routes}");
        let courier = assert_carried(&routes, pickup, drop_off);
        let amount = decided["jobs"][0]["pickup_load"].as_i64().unwrap();
        assert_room(&app, plan, &routes, (pickup, drop_off), amount).await;
        assert_in_hours(&routes, drop_off, (9, 18));

        // Edits cannot part the pair: the hand-over to another courier, or before the pickup.
        let (_, current) = app.get(&format!("/plans/{plan}"), &dispatcher).await;
        let other = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["courier_id"].as_i64().unwrap())
            .find(|c| *c != courier)
            .expect("a second courier on shift");
        for moves in [
            json!([{"job_id": drop_off, "courier_id": other, "position": 0}]),
            json!([{"job_id": drop_off, "courier_id": courier, "position": 0}]),
            json!([{"job_id": pickup, "courier_id": null}]),
        ] {
            let (status, problem) = app
                .patch(
                    &format!("/plans/{plan}"),
                    &dispatcher,
                    &json!({"version": current["version"], "moves": moves}),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{moves}: {problem}"
            );
            assert!(problem.to_string().contains("moves[0].job_id"), "{problem}");
        }
        // Both together, pickup first, to the other courier: accepted.
        let (status, edited) = app
            .patch(
                &format!("/plans/{plan}"),
                &dispatcher,
                &json!({"version": current["version"], "moves": [
                    {"job_id": pickup, "courier_id": other, "position": 0},
                    {"job_id": drop_off, "courier_id": other, "position": 1}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        let (_, routes) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
        assert_eq!(assert_carried(&routes, pickup, drop_off), other);
        publish(&app, &dispatcher, plan).await;
        // She hears of the courier's visit to her, not of his stop at the workshop.
        let seen = claim(&app, claim_id).await;
        let planned = history_of(&seen, "visit_planned");
        assert_eq!(planned.len(), 1, "{planned:?}");

        // The courier sees whom he meets at the workshop and what he brings there; he cannot
        // hand over what he has not taken.
        let (_, token, route) = courier_of(&app, drop_off).await;
        let there = stop_of(&route, drop_off).unwrap();
        assert_eq!(there["kind"], "drop_off");
        assert_eq!(there["name"], workshop["name"]);
        assert_eq!(there["phone"], workshop["phone"]);
        assert_eq!(there["addr"], workshop["address"]);
        assert_eq!(there["bring"]["serial"], "DEMO-0001");
        // His route sheet says what the stop at the workshop is for.
        let text = route_sheet(&app, &token).await;
        assert!(text.contains("Bring: unit for repair,"), "{text}");
        assert!(text.contains("hand over at the workshop"), "{text}");
        assert!(text.contains(workshop["name"].as_str().unwrap()), "{text}");
        assert_pickup_first(&app, &token, drop_off, pickup).await;
        visit(&app, pickup, true).await;
        assert_eq!(claim(&app, claim_id).await["status"], "in_fulfilment");
        visit(&app, drop_off, false).await;
        assert_eq!(
            claim(&app, claim_id).await["status"],
            "in_repair",
            "at the workshop"
        );
        // Her mails: the pickup's "visit done" and "in repair", none for the workshop stop.
        assert_one_visit_done(&app, claim_id, "in_repair").await;

        // Repaired: collected at the workshop and brought back, again one courier.
        let (status, done) = app
            .post(
                &format!("/claims/{claim_id}/repair-done"),
                &head,
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        let back = done["jobs"].as_array().unwrap();
        assert_eq!(back.len(), 2, "{done}");
        assert_eq!(
            (&back[0]["kind"], &back[1]["kind"]),
            (&json!("collect"), &json!("return"))
        );
        assert_eq!(back[0]["partner_id"], workshop["id"]);
        assert_eq!(back[0]["paired_job_id"], back[1]["id"]);
        assert_eq!(back[1]["address"], decided["claim"]["address"]);
        let (collect, give_back) = (id(&back[0]), id(&back[1]));
        let plan = publish_tomorrow(&app).await;
        check_plan(&app, &dispatcher, plan).await;
        let (_, routes) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
        assert_carried(&routes, collect, give_back);
        assert_room(&app, plan, &routes, (collect, give_back), amount).await;
        // Her tracking link shows the visit to her, not the courier's stop at the workshop.
        let path = tracking_path(&seen_claim);
        let (status, tracked) = public(&app, reqwest::Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{tracked}");
        assert_eq!(tracked["visit"]["kind"], "return", "{tracked}");
        visit(&app, collect, true).await;
        assert_eq!(claim(&app, claim_id).await["status"], "in_fulfilment");
        visit(&app, give_back, false).await;
        let seen = claim(&app, claim_id).await;
        assert_eq!(seen["status"], "quality_control");
        assert_came_back_from_repair(&seen);
    }
);

backend_test!(
    a_failed_pickup_takes_its_hand_over_off_the_route_and_a_cancelled_leg_takes_the_other,
    |app: TestApp| async move {
        let manager = app.login("manager1@demo.test").await;
        let (workshop, _) = partners(&app, &manager).await;
        // DEMO-0001 and DEMO-0002: a washing machine and a fridge.
        let failing = filed(&app, 1).await;
        let (status, decided) = decide(&app, failing, contractor(&workshop)).await;
        assert_eq!(status, StatusCode::OK, "{decided}");
        let (pickup, drop_off) = (id(&decided["jobs"][0]), id(&decided["jobs"][1]));
        let called_off = filed(&app, 2).await;
        let (status, other) = decide(&app, called_off, contractor(&workshop)).await;
        assert_eq!(status, StatusCode::OK, "{other}");
        publish_tomorrow(&app).await;

        let (_, token, route) = courier_of(&app, pickup).await;
        assert!(stop_of(&route, drop_off).is_some(), "{route}");
        let (status, body) =
            report(&app, &token, pickup, "nobody-home", &failed("nobody home")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "unplanned");
        let jobs = jobs_of(&app, failing).await;
        let hand_over = jobs.iter().find(|j| id(j) == drop_off).unwrap();
        assert_eq!(hand_over["status"], "unplanned", "{hand_over}");
        assert_eq!(hand_over["courier_id"], Value::Null);
        let (status, route) = app.get(&route_path(), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            stop_of(&route, drop_off).is_none(),
            "off his route: {route}"
        );

        // Calling off one leg calls off the other.
        let head = app.login("head@demo.test").await;
        let leg = id(&other["jobs"][1]);
        let (status, body) = app
            .post(
                &format!("/jobs/{leg}/cancel"),
                &head,
                &json!({"reason": "customer repaired it"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for job in jobs_of(&app, called_off).await {
            assert_eq!(job["status"], "cancelled", "{job}");
        }
    }
);

backend_test!(
    an_edit_cannot_overfill_a_courier_with_a_unit_on_board,
    |app: TestApp| async move {
        let manager = app.login("manager1@demo.test").await;
        let dispatcher = app.login("dispatcher@demo.test").await;
        let (workshop, _) = partners(&app, &manager).await;
        // A courier with room for three units, on shift tomorrow: a washing machine takes four.
        let (_, depots) = app.get("/depots", &dispatcher).await;
        let depot = depots["items"][0].clone();
        let small = new_courier(&app, &depot, "small.courier@demo.test", 3).await;
        let day = crate::plans::tomorrow();
        let at = |h| day.and_hms_opt(h, 0, 0).unwrap().and_utc();
        put_shift(&app, &small, &depot, at(7), at(17)).await;
        let claim_id = filed(&app, 1).await;
        let (status, decided) = decide(&app, claim_id, contractor(&workshop)).await;
        assert_eq!(status, StatusCode::OK, "{decided}");
        let (pickup, drop_off) = (id(&decided["jobs"][0]), id(&decided["jobs"][1]));
        let plan = draft_tomorrow(&app, &dispatcher).await;
        let (_, routes) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
        assert_ne!(assert_carried(&routes, pickup, drop_off), id(&small));
        let (_, current) = app.get(&format!("/plans/{plan}"), &dispatcher).await;
        let (status, problem) = app
            .patch(
                &format!("/plans/{plan}"),
                &dispatcher,
                &json!({"version": current["version"], "moves": [
                    {"job_id": pickup, "courier_id": id(&small), "position": 0},
                    {"job_id": drop_off, "courier_id": id(&small), "position": 1}]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["moves[0].courier_id"], "{problem}");
        assert!(problem.to_string().contains("takes 3"), "{problem}");
        // Nothing moved.
        let (_, after) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
        assert_eq!(place_of(&after, pickup), place_of(&routes, pickup));
    }
);
