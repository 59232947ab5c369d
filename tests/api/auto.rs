//! `AUTO_REOPTIMIZE`: a visit approved for a published day goes on a route by itself,
//! without a dispatcher and without moving the other stops; one the day cannot take is
//! left out on the plan for the dispatcher.
//!
//! A depot of its own open around the clock (UTC) and one courier on shift until 20:00;
//! the day is today, or tomorrow from the afternoon on (so the new visit's window stays
//! in his shift).

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::courier::{route_of_day, stop_of};
use crate::helpers::read;
use crate::plans::{approved_claim_in, tracking_path};
use crate::sinks::SmtpSink;

const DEPOT: (f64, f64) = (53.551, 9.993);
const COURIER: &str = "auto.courier@demo.test";

fn window(from: DateTime<Utc>, minutes: i64) -> Value {
    json!([{"start": from, "end": from + chrono::Duration::minutes(minutes)}])
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap()
}

/// The day and when in it the new visits are wanted.
fn day() -> (NaiveDate, DateTime<Utc>) {
    let now = Utc::now();
    if now.hour() < 14 {
        (now.date_naive(), now + chrono::Duration::minutes(30))
    } else {
        let tomorrow = now.date_naive() + chrono::Duration::days(1);
        (tomorrow, tomorrow.and_hms_opt(10, 0, 0).unwrap().and_utc())
    }
}

backend_test!(
    a_visit_approved_for_a_published_day_goes_on_a_route_by_itself,
    backend
        | backend
        | async move {
            let (app, smtp) = SmtpSink::app(backend, |s| {
                s.dispatch.auto_reoptimize = Some(Duration::from_millis(200));
            })
            .await;
            let (date, wanted) = day();
            let dispatcher = app.login("dispatcher@demo.test").await;
            let (depot, courier) = crate::helpers::own_depot_and_courier(
                &app,
                &json!({"name": "Harbour", "address": "Hafenstrasse 1", "lat": DEPOT.0,
                        "lon": DEPOT.1, "opens": "00:00", "closes": "23:59", "time_zone": "UTC"}),
                COURIER,
                40,
            )
            .await;
            let midnight = date.and_hms_opt(0, 0, 0).unwrap().and_utc();
            crate::helpers::put_shift(
                &app,
                &courier,
                &depot,
                midnight,
                date.and_hms_opt(20, 0, 0).unwrap().and_utc(),
            )
            .await;
            let (_, first) = approved_claim_in(&app, 3, window(wanted, 120), (53.556, 9.987)).await;
            let plan_id = crate::plans::publish_plan(
                &app,
                &dispatcher,
                json!({"date": date, "depot_id": depot["id"], "time_limit_ms": 300}),
            )
            .await;
            let courier = app.login(COURIER).await;
            let (etag, before) = route_of_day(&app, &courier, date).await;
            assert!(
                stop_of(&before, first["id"].as_i64().unwrap()).is_some(),
                "{before}"
            );

            // A claim approved now for later today: on the courier's route within a
            // second or two, in its window, the first visit still there; its customer
            // hears when to expect him.
            let approved = Instant::now();
            let (claim, job) = approved_claim_in(
                &app,
                4,
                window(wanted + chrono::Duration::minutes(60), 120),
                (53.548, 10.001),
            )
            .await;
            let job_id = job["id"].as_i64().unwrap();
            let (etag_after, after, stop) = loop {
                let (etag_now, route) = route_of_day(&app, &courier, date).await;
                if let Some(stop) = stop_of(&route, job_id) {
                    break (etag_now, route, stop);
                }
                assert!(
                    approved.elapsed() < Duration::from_secs(20),
                    "not placed: {route}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            eprintln!("placed {:?} after the approval", approved.elapsed());
            assert_ne!(etag_after, etag);
            assert!(
                stop_of(&after, first["id"].as_i64().unwrap()).is_some(),
                "{after}"
            );
            let arrive = time(&stop["arrive"]).max(wanted + chrono::Duration::minutes(60));
            assert!(arrive <= wanted + chrono::Duration::minutes(180), "{stop}");
            let report = crate::plans::check_plan(&app, &dispatcher, plan_id).await;
            assert_eq!(report.unassigned, 0, "{report:?}");
            let (status, tracked) = read(
                app.request(Method::GET, &tracking_path(&claim), None)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{tracked}");
            // The courier's route shows times to the second, the tracking link to the
            // millisecond.
            let gap = time(&tracked["visit"]["eta"]) - time(&stop["arrive"]);
            assert!(gap.num_milliseconds().abs() < 1000, "{tracked}");
            smtp.wait_for("customer4@demo.test", "courier visit on")
                .await;

            // One wanted after the courier's shift cannot be taken: left out on the plan
            // for the dispatcher, still waiting for a route.
            let evening = date.and_hms_opt(21, 0, 0).unwrap().and_utc();
            let (_, far) = approved_claim_in(&app, 5, window(evening, 60), (53.552, 9.995)).await;
            let far_id = far["id"].as_i64().unwrap();
            let started = Instant::now();
            loop {
                let (_, routes) = app
                    .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
                    .await;
                let left = routes["unassigned"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["job_id"] == far_id)
                    .cloned();
                if let Some(left) = left {
                    assert_eq!(left["reason"], "no_room", "{left}");
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(20), "{routes}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let (_, now) = route_of_day(&app, &courier, date).await;
            assert!(stop_of(&now, far_id).is_none(), "{now}");
            assert_eq!(now["stops"], after["stops"], "nothing else moved");
            let job = crate::courier::job_of_claim(&app, far["claim_id"].as_i64().unwrap()).await;
            assert_eq!(job["status"], "unplanned", "{job}");
        }
);
