//! Slots a customer chooses from her tracking link: only where the day's routes can take
//! the visit, booked into a published route at once or into the day's next plan run, and
//! refused with the fresh list once the route has no room left.
//!
//! A depot of its own far from the demo city, open 08:00-18:00 UTC, one courier with room
//! for C's exchange and one more on shift tomorrow (D) and the day after (E). Claim C
//! wants D and is planned and published there; claims A and B want E 10:00-12:00, where
//! nothing is planned yet. Today nobody works from that depot.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::courier::stop_of;
use crate::helpers::{claim_body, read, TestApp};
use crate::sinks::SmtpSink;

const DEPOT: (f64, f64) = (53.551, 9.993);
const HOMES: [(f64, f64); 3] = [(53.556, 9.987), (53.548, 10.001), (53.560, 9.999)];
const COURIER: &str = "slots.courier@demo.test";

struct Day {
    dispatcher: String,
    depot: i64,
    d: NaiveDate,
    e: NaiveDate,
    /// Tracking paths of A, B and C (`/track/...`), and their jobs.
    tracking: Vec<String>,
    jobs: Vec<i64>,
    plan_d: i64,
}

fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    date.and_hms_opt(hour, 0, 0).unwrap().and_utc()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap()
}

pub(crate) async fn public(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = app.request(method, path, None);
    if let Some(body) = body {
        request = request.json(body);
    }
    read(request.send().await.unwrap()).await
}

/// The offered slots as (date, start, end).
fn slots_of(answer: &Value) -> Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    answer["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("no slots: {answer}"))
        .iter()
        .map(|s| {
            (
                s["date"].as_str().unwrap().parse().unwrap(),
                time(&s["start"]),
                time(&s["end"]),
            )
        })
        .collect()
}

fn slot(date: NaiveDate, from: u32, to: u32) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    (date, at(date, from), at(date, to))
}

fn body(date: NaiveDate, from: u32, to: u32) -> Value {
    json!({"start": at(date, from), "end": at(date, to)})
}

async fn set_up(app: &TestApp) -> Day {
    let today = Utc::now().date_naive();
    let (d, e) = (today + Duration::days(1), today + Duration::days(2));
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (mut tracking, mut jobs, mut loads) = (Vec::new(), Vec::new(), Vec::new());
    for (i, home) in HOMES.iter().enumerate() {
        let day = if i == 2 { d } else { e };
        let windows = json!([{"start": at(day, 10), "end": at(day, 12)}]);
        let (claim, job) = crate::plans::approved_claim_in(app, 3 + i, windows, *home).await;
        tracking.push(crate::plans::tracking_path(&claim));
        jobs.push(job["id"].as_i64().unwrap());
        loads.push(job["delivery_load"].as_i64().unwrap());
    }
    // Room for C and the larger of A and B: once one of them joins C, the other cannot.
    let (depot, courier) = crate::helpers::own_depot_and_courier(
        app,
        &json!({"name": "Harbour", "address": "Hafenstrasse 1", "lat": DEPOT.0,
                "lon": DEPOT.1, "opens": "08:00", "closes": "18:00", "time_zone": "UTC"}),
        COURIER,
        loads[2] + loads[0].max(loads[1]),
    )
    .await;
    for date in [d, e] {
        crate::helpers::put_shift(app, &courier, &depot, at(date, 8), at(date, 18)).await;
    }

    let depot = depot["id"].as_i64().unwrap();
    let plan_d = crate::plans::publish_plan(
        app,
        &dispatcher,
        json!({"date": d, "depot_id": depot, "time_limit_ms": 300}),
    )
    .await;
    Day {
        dispatcher,
        depot,
        d,
        e,
        tracking,
        jobs,
        plan_d,
    }
}

backend_test!(
    a_customer_books_only_what_the_day_can_take_and_a_gone_slot_is_refused_with_the_fresh_list,
    backend
        | backend
        | async move {
            let (app, smtp) = SmtpSink::app(backend, |_| {}).await;
            let day = set_up(&app).await;
            let (a, b) = (&day.tracking[0], &day.tracking[1]);
            let courier = app.login(COURIER).await;
            let (etag, before) = crate::courier::route_of_day(&app, &courier, day.d).await;
            let (_, plan) = app
                .get(&format!("/plans/{}/routes", day.plan_d), &day.dispatcher)
                .await;
            assert!(
                stop_of(&before, day.jobs[2]).is_some(),
                "C is planned on D: {before} {plan}"
            );

            // Nobody works from the depot today; on D the route with C has
            // room from opening, on E nothing is planned but the courier is on shift:
            // the first three slots of each day, earliest first.
            let (status, offer) = public(&app, Method::GET, &format!("{a}/slots"), None).await;
            assert_eq!(status, StatusCode::OK, "{offer}");
            let expected = vec![
                slot(day.d, 8, 10),
                slot(day.d, 10, 12),
                slot(day.d, 12, 14),
                slot(day.e, 8, 10),
                slot(day.e, 10, 12),
                slot(day.e, 12, 14),
            ];
            assert_eq!(slots_of(&offer), expected, "{offer}");
            let (_, offer_b) = public(&app, Method::GET, &format!("{b}/slots?days=3"), None).await;
            assert_eq!(slots_of(&offer_b), expected, "{offer_b}");
            // Today and tomorrow: only D.
            let (_, short) = public(&app, Method::GET, &format!("{a}/slots?days=2"), None).await;
            assert_eq!(slots_of(&short), expected[..3].to_vec(), "{short}");

            // A books D 10:00-12:00: the published route takes it at once, re-timed, and
            // the courier's phone sees a new revision.
            let (status, booked) = public(
                &app,
                Method::POST,
                &format!("{a}/slot"),
                Some(&body(day.d, 10, 12)),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{booked}");
            assert_eq!(booked["planned"], true, "{booked}");
            let eta = time(&booked["eta"]);
            assert!(at(day.d, 10) <= eta && eta <= at(day.d, 12), "{booked}");
            let (etag_after, after) = crate::courier::route_of_day(&app, &courier, day.d).await;
            assert_ne!(etag_after, etag, "the route changed");
            let stop = stop_of(&after, day.jobs[0]).unwrap_or_else(|| panic!("A on D: {after}"));
            assert_eq!(time(&stop["arrive"]), eta, "{stop}");
            assert_eq!(stop["windows"][0]["from"], json!(at(day.d, 10)), "{stop}");
            assert!(stop_of(&after, day.jobs[2]).is_some(), "C stays: {after}");
            let report = crate::plans::check_plan(&app, &day.dispatcher, day.plan_d).await;
            assert_eq!(report.unassigned, 0, "{report:?}");
            let (_, tracked) = public(&app, Method::GET, a, None).await;
            assert_eq!(tracked["visit"]["date"], json!(day.d), "{tracked}");
            assert_eq!(time(&tracked["visit"]["eta"]), eta, "{tracked}");
            assert_eq!(
                tracked["visit"]["windows"],
                json!([{"start": at(day.d, 10), "end": at(day.d, 12)}]),
                "{tracked}"
            );
            assert!(
                tracked["history"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|h| h["kind"] == "visit_rebooked"),
                "{tracked}"
            );
            let mail = smtp
                .wait_for("customer3@demo.test", "your new visit time")
                .await;
            assert!(mail.body().contains("10:00 – 12:00"), "{}", mail.body());
            assert!(mail.body().contains(a.as_str()), "{}", mail.body());

            // The courier's van is now full on D: B's slot there, offered a moment
            // ago, is gone; the answer lists what B can book now (only E).
            let (status, gone) = public(
                &app,
                Method::POST,
                &format!("{b}/slot"),
                Some(&body(day.d, 8, 10)),
            )
            .await;
            assert_eq!(status, StatusCode::CONFLICT, "{gone}");
            assert_eq!(gone["type"], "/problems/conflict", "{gone}");
            assert_eq!(slots_of(&gone), expected[3..].to_vec(), "{gone}");
            let (_, unchanged) = crate::courier::route_of_day(&app, &courier, day.d).await;
            assert!(stop_of(&unchanged, day.jobs[1]).is_none(), "{unchanged}");
            assert_eq!(unchanged["stops"], after["stops"], "nothing written");
            let (_, offer_b) = public(&app, Method::GET, &format!("{b}/slots"), None).await;
            assert_eq!(offer_b["slots"], gone["slots"], "the list a new look gives");

            // B books E 12:00-14:00, where no plan runs yet: the next run of E visits
            // her then, not in the window she first asked for.
            let (status, booked) = public(
                &app,
                Method::POST,
                &format!("{b}/slot"),
                Some(&body(day.e, 12, 14)),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{booked}");
            assert_eq!(booked["planned"], false, "{booked}");
            assert!(booked["eta"].is_null(), "{booked}");
            let plan_e = crate::plans::publish_plan(
                &app,
                &day.dispatcher,
                json!({"date": day.e, "depot_id": day.depot, "time_limit_ms": 300}),
            )
            .await;
            let (_, on_e) = crate::courier::route_of_day(&app, &courier, day.e).await;
            let stop = stop_of(&on_e, day.jobs[1]).unwrap_or_else(|| panic!("B on E: {on_e}"));
            let arrive = time(&stop["arrive"]).max(at(day.e, 12));
            assert!(arrive <= at(day.e, 14), "{stop}");
            assert!(
                stop_of(&on_e, day.jobs[0]).is_none(),
                "A moved to D: {on_e}"
            );
            let report = crate::plans::check_plan(&app, &day.dispatcher, plan_e).await;
            assert_eq!(report.unassigned, 0, "{report:?}");
        }
);

backend_test!(
    slots_refuse_bad_input_and_claims_without_a_waiting_visit,
    |app: TestApp| async move {
        let (claim, _) = crate::plans::approved_claim(&app, 3, (10, 12), (48.14, 11.58)).await;
        let track = crate::plans::tracking_path(&claim);

        for days in ["0", "8", "x"] {
            let (status, problem) = public(
                &app,
                Method::GET,
                &format!("{track}/slots?days={days}"),
                None,
            )
            .await;
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
                "days={days}: {status} {problem}"
            );
            if days != "x" {
                assert_eq!(problem["errors"][0]["field"], "days", "{problem}");
            }
        }
        let (status, problem) = public(
            &app,
            Method::POST,
            &format!("{track}/slot"),
            Some(&json!({"start": "2030-01-01T12:00:00Z", "end": "2030-01-01T10:00:00Z"})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "end", "{problem}");
        // Not a slot that was offered (not on the two-hour grid): refused with the list.
        let (status, problem) = public(
            &app,
            Method::POST,
            &format!("{track}/slot"),
            Some(&json!({"start": "2030-01-01T09:17:00Z", "end": "2030-01-01T11:17:00Z"})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(problem["slots"].is_array(), "{problem}");
        let (status, _) = public(&app, Method::GET, "/track/not-a-token/slots", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A claim not yet decided has no visit to give a time to.
        let customer = app.login("customer4@demo.test").await;
        let (status, filed) = app
            .post("/claims", &customer, &claim_body("DEMO-0004"))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{filed}");
        let (status, problem) = public(
            &app,
            Method::GET,
            &format!("{}/slots", crate::plans::tracking_path(&filed)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    }
);
