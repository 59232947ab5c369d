//! The couriers' mobile API: the day's route (ETag, gzip), reports about visits (idempotent,
//! out of order, proof photos, failed visits back to planning), positions and ownership.

use std::io::Read;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{read, TestApp, PNG_1X1};
use crate::plans::tomorrow;

pub(crate) fn route_path() -> String {
    format!("/me/route?date={}", tomorrow())
}

/// Files a claim for demo customer `n` (a window tomorrow) and has the head decide it;
/// returns (claim id, job id).
pub(crate) async fn approved_job(app: &TestApp, n: usize, decision: &str) -> (i64, i64) {
    let customer = app.login(&format!("customer{n}@demo.test")).await;
    let claim = app.file_claim(&customer, &format!("DEMO-{n:04}")).await;
    let id = claim["id"].as_i64().unwrap();
    let head = app.login("head@demo.test").await;
    let (status, decided) = app
        .post(
            &format!("/claims/{id}/decision"),
            &head,
            &json!({"decision": decision}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["claim"]["status"], "approved");
    (id, decided["jobs"][0]["id"].as_i64().unwrap())
}

/// Plans tomorrow and publishes the draft; returns the plan's id.
pub(crate) async fn publish_tomorrow(app: &TestApp) -> i64 {
    let dispatcher = app.login("dispatcher@demo.test").await;
    crate::plans::publish_tomorrow(app, &dispatcher).await
}

/// The courier whose route tomorrow has the job: (email, token, his route).
pub(crate) async fn courier_of(app: &TestApp, job: i64) -> (String, String, Value) {
    for i in 1..=4 {
        let email = format!("courier{i}@demo.test");
        let token = app.login(&email).await;
        let (status, route) = app.get(&route_path(), &token).await;
        assert_eq!(status, StatusCode::OK, "{route}");
        if stop_of(&route, job).is_some() {
            return (email, token, route);
        }
    }
    panic!("no courier has job {job} tomorrow");
}

/// Another courier than `email`.
pub(crate) async fn other_courier(app: &TestApp, email: &str) -> String {
    let other = if email == "courier1@demo.test" {
        "courier2@demo.test"
    } else {
        "courier1@demo.test"
    };
    app.login(other).await
}

/// A courier's route of `date` with its `ETag`.
pub(crate) async fn route_of_day(
    app: &TestApp,
    courier: &str,
    date: chrono::NaiveDate,
) -> (String, Value) {
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("/me/route?date={date}"),
            Some(courier),
        )
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (etag, body)
}

pub(crate) fn stop_of(route: &Value, job: i64) -> Option<Value> {
    route["stops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["job"] == job)
        .cloned()
}

pub(crate) fn event(kind: &str) -> Value {
    json!({"type": kind, "at": Utc::now().to_rfc3339(), "lat": 52.53, "lon": 13.38})
}

pub(crate) fn failed(reason: &str) -> Value {
    let mut body = event("failed");
    body["reason"] = json!(reason);
    body
}

pub(crate) async fn report(
    app: &TestApp,
    token: &str,
    job: i64,
    key: &str,
    body: &Value,
) -> (StatusCode, Value) {
    read(
        app.request(Method::POST, &format!("/me/jobs/{job}/events"), Some(token))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(crate) async fn upload_proof(app: &TestApp, token: &str, job: i64) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(PNG_1X1.to_vec())
        .file_name("unit.png")
        .mime_str("application/octet-stream")
        .unwrap();
    read(
        app.request(Method::POST, &format!("/me/jobs/{job}/proof"), Some(token))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The claim as the head sees it (with history).
pub(crate) async fn claim(app: &TestApp, id: i64) -> Value {
    let head = app.login("head@demo.test").await;
    let (status, claim) = app.get(&format!("/claims/{id}"), &head).await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    claim
}

/// The job as dispatchers see it.
pub(crate) async fn job_of_claim(app: &TestApp, claim_id: i64) -> Value {
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (status, jobs) = app
        .get(&format!("/jobs?claim_id={claim_id}"), &dispatcher)
        .await;
    assert_eq!(status, StatusCode::OK, "{jobs}");
    jobs["items"][0].clone()
}

pub(crate) fn history_of<'a>(claim: &'a Value, kind: &str) -> Vec<&'a Value> {
    claim["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == kind)
        .collect()
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(fields) => fields.values().any(has_null),
        _ => false,
    }
}

/// The outbox as (event, payload), read straight from the test's own database (a SQLite
/// file or a PostgreSQL database the harness created for this test alone).
fn outbox(app: &TestApp) -> Vec<(String, Value)> {
    let pool = api::db::connect_pool(&app.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    api::db::outbox::all(&mut conn, 10_000)
        .unwrap()
        .into_iter()
        .map(|row| (row.event, row.payload))
        .collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

backend_test!(
    courier_route_is_compact_cached_and_gzipped,
    |app: TestApp| async move {
        let (claim_id, job) = approved_job(&app, 5, "replacement").await;
        let plan_id = publish_tomorrow(&app).await;
        let (email, courier, route) = courier_of(&app, job).await;

        // The route: his stops in order, what each visit is about, and no nulls anywhere.
        assert_eq!(route["date"], tomorrow().to_string());
        assert_eq!(route["plan"], plan_id);
        assert!(!has_null(&route), "{route}");
        let stops = route["stops"].as_array().unwrap();
        let seqs: Vec<i64> = stops.iter().map(|s| s["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ordered: {seqs:?}");
        let stop = stop_of(&route, job).unwrap();
        let filed = claim(&app, claim_id).await;
        assert_eq!(stop["kind"], "exchange");
        assert_eq!(stop["claim"], filed["number"]);
        assert_eq!(stop["status"], "assigned");
        assert_eq!(
            stop["bring"],
            json!({"sku": "WM-700", "product": "Washing machine W700"})
        );
        assert_eq!(stop["take"], json!({"serial": "DEMO-0005"}));
        assert_eq!(stop["addr"], filed["address"]);
        assert_eq!(stop["lat"], filed["lat"]);
        assert_eq!(stop["name"], "Customer 5");
        assert_eq!(stop["phone"], "+49 30 5550000");
        assert_eq!(
            stop["windows"],
            json!([{"from": format!("{}T10:00:00Z", tomorrow()), "to": format!("{}T12:00:00Z", tomorrow())}])
        );
        for field in ["arrive", "start", "depart"] {
            assert!(stop[field].as_str().unwrap().ends_with('Z'), "{stop}");
        }
        assert!(stop["load"].as_i64().unwrap() >= 0);
        // The break is a stop of its own, with times and nothing to deliver.
        let breaks: Vec<&Value> = stops.iter().filter(|s| s["kind"] == "break").collect();
        assert_eq!(breaks.len(), 1, "{route}");
        assert!(breaks[0].get("job").is_none() && breaks[0].get("claim").is_none());
        assert!(breaks[0]["start"].is_string() && breaks[0]["depart"].is_string());

        // The ETag: an unchanged route is a 304 without a body.
        let get = |headers: Vec<(&'static str, String)>| {
            let mut request = app.request(Method::GET, &route_path(), Some(&courier));
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.send()
        };
        let first = get(vec![]).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(first.headers().get("content-encoding").is_none());
        let plain = first.bytes().await.unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&plain).unwrap(), route);
        let again = get(vec![("If-None-Match", etag.clone())]).await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        assert!(again.bytes().await.unwrap().is_empty());
        let stale = get(vec![("If-None-Match", "W/\"not-it\"".to_owned())])
            .await
            .unwrap();
        assert_eq!(stale.status(), StatusCode::OK);

        // Gzip for clients that take it: the same JSON, the same ETag.
        let zipped = get(vec![("Accept-Encoding", "gzip".to_owned())])
            .await
            .unwrap();
        assert_eq!(zipped.status(), StatusCode::OK);
        assert_eq!(zipped.headers()["content-encoding"], "gzip");
        assert_eq!(zipped.headers()["etag"].to_str().unwrap(), etag);
        let packed = zipped.bytes().await.unwrap();
        assert_eq!(gunzip(&packed), plain.to_vec());
        let refused = get(vec![("Accept-Encoding", "gzip;q=0, identity".to_owned())])
            .await
            .unwrap();
        assert!(refused.headers().get("content-encoding").is_none());

        // A report changes the route, and so its ETag.
        let (status, answer) = report(&app, &courier, job, "dep-1", &event("departed")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let changed = get(vec![("If-None-Match", etag.clone())]).await.unwrap();
        assert_eq!(changed.status(), StatusCode::OK);
        assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
        let changed: Value = changed.json().await.unwrap();
        assert_eq!(stop_of(&changed, job).unwrap()["status"], "en_route");
        assert!(changed["rev"].as_i64().unwrap() > route["rev"].as_i64().unwrap());

        // A day without a published route: no stops, not a 404; today is the default day.
        let (status, empty) = app
            .get(
                &format!("/me/route?date={}", tomorrow() + chrono::Duration::days(5)),
                &courier,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(empty["stops"], json!([]));
        let (status, today) = app.get("/me/route", &courier).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(today["date"], Utc::now().date_naive().to_string());
        let (status, _) = app.get("/me/route?date=tomorrow", &courier).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // Other couriers do not see his stop; other roles may not ask.
        let other = other_courier(&app, &email).await;
        let (_, theirs) = app.get(&route_path(), &other).await;
        assert!(stop_of(&theirs, job).is_none());
        for who in [
            "customer5@demo.test",
            "dispatcher@demo.test",
            "manager1@demo.test",
        ] {
            let token = app.login(who).await;
            assert_eq!(
                app.get(&route_path(), &token).await.0,
                StatusCode::FORBIDDEN,
                "{who}"
            );
        }
    }
);

backend_test!(
    reports_move_the_job_and_the_claim,
    |app: TestApp| async move {
        let (claim_id, job) = approved_job(&app, 3, "replacement").await;
        publish_tomorrow(&app).await;
        let (email, courier, _) = courier_of(&app, job).await;
        let courier_user = app.user_id(&email).await;

        // Bad reports are refused field by field, and a key is required.
        let (status, problem) = read(
            app.request(
                Method::POST,
                &format!("/me/jobs/{job}/events"),
                Some(&courier),
            )
            .json(&event("departed"))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
        let (status, problem) = report(&app, &courier, job, "bad-1", &event("failed")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "reason");
        let mut future = event("arrived");
        future["at"] = json!((Utc::now() + chrono::Duration::minutes(30)).to_rfc3339());
        let (status, problem) = report(&app, &courier, job, "bad-2", &future).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "at");
        let mut far = event("arrived");
        far["lat"] = json!(95.0);
        far["type"] = json!("teleported");
        let (status, problem) = report(&app, &courier, job, "bad-3", &far).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "type");

        // Departed: the claim goes into fulfilment, recorded as the courier's step.
        let departed = event("departed");
        let (status, answer) = report(&app, &courier, job, "k-departed", &departed).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            answer,
            json!({"id": job, "status": "en_route", "attempts": 0, "applied": true})
        );
        let seen = claim(&app, claim_id).await;
        assert_eq!(seen["status"], "in_fulfilment");
        let steps = history_of(&seen, "transition");
        let last = steps.last().unwrap();
        assert_eq!(
            (&last["from"], &last["to"]),
            (&json!("approved"), &json!("in_fulfilment"))
        );
        assert_eq!(last["actor_id"], courier_user);
        // A retry gets the first answer; the same key for another report is refused.
        let (status, again) = report(&app, &courier, job, "k-departed", &departed).await;
        assert_eq!((status, &again), (StatusCode::OK, &answer));
        let (status, problem) = report(&app, &courier, job, "k-departed", &event("arrived")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");

        // The dispatchers' map shows where he is and the visit he is on.
        let (status, accepted) = app
            .post(
                "/me/positions",
                &courier,
                &json!({"points": [{"at": Utc::now().to_rfc3339(), "lat": 52.52, "lon": 13.39}]}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        let dispatcher = app.login("dispatcher@demo.test").await;
        let (_, live) = app.get("/couriers/positions", &dispatcher).await;
        let mine = live["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["job"]["job_id"] == job)
            .unwrap_or_else(|| panic!("{live}"));
        assert_eq!(mine["job"]["status"], "en_route");
        assert_eq!(mine["lat"], 52.52);

        // Completing takes the defective unit back: not without its photo first.
        let arrived = event("arrived");
        let (status, answer) = report(&app, &courier, job, "k-arrived", &arrived).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "arrived");
        let completed = event("completed");
        let (status, problem) = report(&app, &courier, job, "k-completed", &completed).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("photo"),
            "{problem}"
        );
        assert_eq!(job_of_claim(&app, claim_id).await["status"], "arrived");
        let (status, photo) = upload_proof(&app, &courier, job).await;
        assert_eq!(status, StatusCode::CREATED, "{photo}");
        assert_eq!(photo["content_type"], "image/png");
        // The refused report was not kept: its retry, now with the photo, goes through.
        let (status, answer) = report(&app, &courier, job, "k-completed", &completed).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            answer,
            json!({"id": job, "status": "done", "attempts": 0, "applied": true})
        );

        let done = job_of_claim(&app, claim_id).await;
        assert_eq!(done["status"], "done");
        let seen = claim(&app, claim_id).await;
        assert_eq!(seen["status"], "quality_control");
        let steps = history_of(&seen, "transition");
        let last = steps.last().unwrap();
        assert_eq!(
            (&last["from"], &last["to"]),
            (&json!("in_fulfilment"), &json!("quality_control"))
        );
        assert_eq!(last["actor_id"], courier_user);
        assert_eq!(history_of(&seen, "job.completed").len(), 1);
        let events = outbox(&app);
        let of_claim: Vec<&(String, Value)> = events
            .iter()
            .filter(|(_, p)| p["claim_id"] == claim_id)
            .collect();
        let count = |name: &str| of_claim.iter().filter(|(e, _)| e == name).count();
        assert_eq!(count("job.completed"), 1, "{of_claim:?}");
        // decided -> approved, then in_fulfilment and quality_control.
        assert_eq!(count("claim.status_changed"), 3, "{of_claim:?}");
        assert!(
            seen["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == photo["id"]),
            "the proof is on the claim: {seen}"
        );
        let (_, route) = app.get(&route_path(), &courier).await;
        assert_eq!(stop_of(&route, job).unwrap()["status"], "done");

        // A visit that ended cannot end the other way.
        let (status, problem) = report(&app, &courier, job, "k-fail", &failed("nobody home")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(job_of_claim(&app, claim_id).await["status"], "done");
    }
);

backend_test!(
    reports_delivered_out_of_order_keep_the_latest_step,
    |app: TestApp| async move {
        let (claim_id, job) = approved_job(&app, 4, "repair").await;
        publish_tomorrow(&app).await;
        let (_, courier, _) = courier_of(&app, job).await;
        let (status, _) = upload_proof(&app, &courier, job).await;
        assert_eq!(status, StatusCode::CREATED);

        // The phone was offline: the completion arrives first, then the arrival it made before.
        let mut arrived = event("arrived");
        arrived["at"] = json!((Utc::now() - chrono::Duration::minutes(20)).to_rfc3339());
        let (status, answer) =
            report(&app, &courier, job, "late-completed", &event("completed")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "done");
        assert_eq!(answer["applied"], true);
        let (status, answer) = report(&app, &courier, job, "late-arrived", &arrived).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            answer,
            json!({"id": job, "status": "done", "attempts": 0, "applied": false})
        );

        assert_eq!(job_of_claim(&app, claim_id).await["status"], "done");
        // The repair's pickup is done: the unit is at the workshop.
        let seen = claim(&app, claim_id).await;
        assert_eq!(seen["status"], "in_repair");
        let moves: Vec<(Value, Value)> = history_of(&seen, "transition")
            .iter()
            .map(|h| (h["from"].clone(), h["to"].clone()))
            .collect();
        assert!(
            moves.ends_with(&[
                (json!("approved"), json!("in_fulfilment")),
                (json!("in_fulfilment"), json!("in_repair")),
            ]),
            "each step recorded: {moves:?}"
        );
    }
);

backend_test!(
    a_failed_visit_goes_back_to_planning,
    |app: TestApp| async move {
        let (claim_id, job) = approved_job(&app, 6, "replacement").await;
        let first_plan = publish_tomorrow(&app).await;
        let (email, courier, _) = courier_of(&app, job).await;
        let other = other_courier(&app, &email).await;

        // Others cannot report on or attach to his job; other roles may not use /me at all.
        let (status, _) = report(&app, &other, job, "theirs-1", &event("departed")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            upload_proof(&app, &other, job).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, _) = report(&app, &courier, 999_999, "nobody", &event("departed")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let customer = app.login("customer6@demo.test").await;
        let (status, _) = report(&app, &customer, job, "cust-1", &event("departed")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            upload_proof(&app, &customer, job).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(job_of_claim(&app, claim_id).await["status"], "assigned");

        let (status, answer) = report(&app, &courier, job, "fail-1", &failed("nobody home")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            answer,
            json!({"id": job, "status": "unplanned", "attempts": 1, "applied": true})
        );
        let back = job_of_claim(&app, claim_id).await;
        assert_eq!(back["status"], "unplanned");
        assert_eq!(back["attempts"], 1);
        assert!(back["courier_id"].is_null(), "{back}");
        let seen = claim(&app, claim_id).await;
        assert_eq!(seen["status"], "approved", "nothing was handed over yet");
        let notes = history_of(&seen, "job.failed");
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0]["note"].as_str().unwrap().contains("nobody home"),
            "{seen}"
        );
        let events = outbox(&app);
        let failures: Vec<&Value> = events
            .iter()
            .filter(|(e, p)| e == "job.failed" && p["claim_id"] == claim_id)
            .map(|(_, p)| p)
            .collect();
        assert_eq!(failures.len(), 1, "{events:?}");
        assert_eq!(failures[0]["reason"], "nobody home");
        assert_eq!(failures[0]["job_id"], job);
        assert_eq!(failures[0]["attempts"], 1);
        let (_, route) = app.get(&route_path(), &courier).await;
        assert_eq!(stop_of(&route, job).unwrap()["status"], "failed");

        // A late report about that visit is still his, recorded and not applied.
        let (status, answer) = report(&app, &courier, job, "late-arrived", &event("arrived")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["applied"], false);
        assert_eq!(answer["status"], "unplanned");
        let (status, _) = report(&app, &courier, job, "late-done", &event("completed")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = report(&app, &other, job, "theirs-2", &event("arrived")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The next plan of the day routes it again.
        let second_plan = publish_tomorrow(&app).await;
        assert_ne!(second_plan, first_plan);
        let again = job_of_claim(&app, claim_id).await;
        assert_eq!(again["status"], "assigned", "{again}");
        assert_eq!(again["attempts"], 1);
        let (_, courier_now, route) = courier_of(&app, job).await;
        assert_eq!(stop_of(&route, job).unwrap()["status"], "assigned");
        assert_eq!(route["plan"], second_plan);
        let (status, answer) =
            report(&app, &courier_now, job, "retry-visit", &event("departed")).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "en_route");
    }
);

backend_test!(
    concurrent_identical_reports_apply_once,
    |app: TestApp| async move {
        let (claim_id, job) = approved_job(&app, 5, "repair").await;
        publish_tomorrow(&app).await;
        let (_, courier, _) = courier_of(&app, job).await;
        let body = failed("customer refused");
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let request = app
                .request(
                    Method::POST,
                    &format!("/me/jobs/{job}/events"),
                    Some(&courier),
                )
                .header("Idempotency-Key", "same-report")
                .json(&body);
            tasks.push(tokio::spawn(async move {
                read(request.send().await.unwrap()).await
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        let expected = json!({"id": job, "status": "unplanned", "attempts": 1, "applied": true});
        for (status, answer) in &answers {
            assert_eq!((*status, answer), (StatusCode::OK, &expected));
        }
        assert_eq!(job_of_claim(&app, claim_id).await["attempts"], 1);
        let seen = claim(&app, claim_id).await;
        assert_eq!(history_of(&seen, "job.failed").len(), 1);
    }
);

backend_test!(
    positions_feed_the_dispatchers_map,
    |app: TestApp| async move {
        let courier = app.login("courier2@demo.test").await;
        let dispatcher = app.login("dispatcher@demo.test").await;
        let now = Utc::now();
        let at = |minutes_ago: i64| (now - chrono::Duration::minutes(minutes_ago)).to_rfc3339();
        // Nobody has reported yet.
        let (status, live) = app.get("/couriers/positions", &dispatcher).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(live["items"], json!([]));

        // A batch in any order: the newest fix is his position.
        let batch = json!({"points": [
            {"at": at(10), "lat": 52.50, "lon": 13.30, "accuracy_m": 12.5},
            {"at": at(1), "lat": 52.51, "lon": 13.31},
            {"at": at(5), "lat": 52.52, "lon": 13.32},
        ]});
        let (status, accepted) = app.post("/me/positions", &courier, &batch).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        assert_eq!(accepted, json!({"accepted": 3}));
        // An older batch delivered late does not move him back.
        let late = json!({"points": [{"at": at(30), "lat": 52.40, "lon": 13.20}]});
        assert_eq!(
            app.post("/me/positions", &courier, &late).await.0,
            StatusCode::ACCEPTED
        );

        let (status, live) = app.get("/couriers/positions", &dispatcher).await;
        assert_eq!(status, StatusCode::OK, "{live}");
        let items = live["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{live}");
        assert_eq!(items[0]["name"], "Courier 2");
        assert_eq!(
            (items[0]["lat"].as_f64(), items[0]["lon"].as_f64()),
            (Some(52.51), Some(13.31))
        );
        let seen: chrono::DateTime<Utc> =
            items[0]["last_seen_at"].as_str().unwrap().parse().unwrap();
        assert!(
            (seen - (now - chrono::Duration::minutes(1)))
                .num_seconds()
                .abs()
                <= 1,
            "{seen}"
        );
        assert!(items[0].get("job").is_none(), "not on a visit: {live}");
        let admin = app.login("admin@demo.test").await;
        assert_eq!(
            app.get("/couriers/positions", &admin).await.0,
            StatusCode::OK
        );

        // Bad batches are refused by field; other roles may not report or read.
        let (status, problem) = app
            .post("/me/positions", &courier, &json!({"points": []}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "points");
        let too_many: Vec<Value> = (0..1001)
            .map(|_| json!({"at": at(1), "lat": 52.5, "lon": 13.4}))
            .collect();
        let (status, problem) = app
            .post("/me/positions", &courier, &json!({"points": too_many}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "points");
        let bad = json!({"points": [
            {"at": at(1), "lat": 91.0, "lon": 13.4},
            {"at": (now + chrono::Duration::hours(1)).to_rfc3339(), "lat": 52.5, "lon": 13.4},
        ]});
        let (status, problem) = app.post("/me/positions", &courier, &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "points[0].lat");
        let bad = json!({"points": [
            {"at": (now + chrono::Duration::hours(1)).to_rfc3339(), "lat": 52.5, "lon": 13.4},
        ]});
        let (status, problem) = app.post("/me/positions", &courier, &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "points[0].at");
        let customer = app.login("customer1@demo.test").await;
        assert_eq!(
            app.post("/me/positions", &customer, &batch).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/couriers/positions", &customer).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/couriers/positions", &courier).await.0,
            StatusCode::FORBIDDEN
        );

        // A full batch of 1000 is taken whole.
        let full: Vec<Value> = (0..1000)
        .map(|i| json!({"at": (now - chrono::Duration::seconds(3600 - i)).to_rfc3339(), "lat": 52.5, "lon": 13.4}))
        .collect();
        let (status, accepted) = app
            .post("/me/positions", &courier, &json!({"points": full}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
        assert_eq!(accepted["accepted"], 1000);
    }
);

backend_test!(
    courier_api_is_documented_and_signed_in,
    |app: TestApp| async move {
        let doc: Value = app
            .client
            .get(app.url("/api-docs/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for (path, method) in [
            ("/api/v1/me/route", "get"),
            ("/api/v1/me/jobs/{id}/events", "post"),
            ("/api/v1/me/jobs/{id}/proof", "post"),
            ("/api/v1/me/positions", "post"),
            ("/api/v1/couriers/positions", "get"),
        ] {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} documented"
            );
        }
        let events = &doc["paths"]["/api/v1/me/jobs/{id}/events"]["post"];
        assert!(
            events["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "Idempotency-Key" && p["required"] == true),
            "{events}"
        );
        // Without a token: 401, before anything else is looked at.
        for (method, path) in [
            (Method::GET, "/me/route".to_owned()),
            (Method::POST, "/me/jobs/1/events".to_owned()),
            (Method::POST, "/me/positions".to_owned()),
            (Method::GET, "/couriers/positions".to_owned()),
        ] {
            let response = app.request(method, &path, None).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
    }
);
