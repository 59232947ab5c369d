//! The fleet: depots, couriers and shifts.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{read, TestApp};

fn depot_body() -> Value {
    json!({"name": "East depot", "address": "Hauptstrasse 1", "lat": 52.51, "lon": 13.5,
           "opens": "07:30", "closes": "19:00", "time_zone": "Europe/Berlin"})
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    read(
        app.request(Method::PUT, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

backend_test!(dispatchers_manage_the_fleet, |app: TestApp| async move {
    let dispatcher = app.login("dispatcher@demo.test").await;
    let admin = app.login("admin@demo.test").await;
    for email in [
        "courier1@demo.test",
        "customer1@demo.test",
        "manager1@demo.test",
        "head@demo.test",
    ] {
        let token = app.login(email).await;
        assert_eq!(
            app.post("/depots", &token, &depot_body()).await.0,
            StatusCode::FORBIDDEN,
            "{email}"
        );
        assert_eq!(
            app.get("/couriers", &token).await.0,
            StatusCode::FORBIDDEN,
            "{email}"
        );
    }
    let (status, depot) = app.post("/depots", &dispatcher, &depot_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{depot}");
    assert_eq!(depot["opens"], "07:30");
    assert_eq!(depot["closes"], "19:00");
    let (_, depots) = app.get("/depots", &admin).await;
    assert_eq!(
        depots["items"].as_array().unwrap().len(),
        3,
        "two demo depots and the new one"
    );

    let mut bad = depot_body();
    bad["closes"] = json!("06:00");
    bad["lat"] = json!(91);
    let (status, problem) = app.post("/depots", &dispatcher, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "lat");
    let mut bad = depot_body();
    bad["time_zone"] = json!("Mars/Olympus");
    let (status, problem) = app.post("/depots", &dispatcher, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "time_zone");

    // A new courier account gets a courier record; other accounts cannot.
    let (status, user) = app
        .post("/users", &admin, &json!({"email": "courier9@demo.test", "name": "Courier Nine", "role": "courier", "password": "long-enough-pw"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let body = json!({"user_id": user["id"], "capacity": 8, "skills": ["cash", "cash"], "home_depot_id": depot["id"]});
    let (status, courier) = app.post("/couriers", &dispatcher, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{courier}");
    assert_eq!(courier["skills"], json!(["cash"]));
    assert_eq!(courier["name"], "Courier Nine");
    let (status, problem) = app.post("/couriers", &dispatcher, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "user_id");
    let customer_user = app.user_id("customer1@demo.test").await;
    let (status, problem) = app
        .post(
            "/couriers",
            &dispatcher,
            &json!({"user_id": customer_user, "capacity": 8, "home_depot_id": depot["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "user_id");
    let (status, problem) = app
        .post("/couriers", &dispatcher, &json!({"user_id": user["id"], "capacity": 8, "skills": ["Cash!"], "home_depot_id": depot["id"]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "skills");

    // Shifts: set, replace, refuse broken ones.
    let id = courier["id"].as_i64().unwrap();
    let path = format!("/couriers/{id}/shifts/2030-05-06");
    let shift = json!({"start": "2030-05-06T06:00:00Z", "end": "2030-05-06T15:00:00Z",
                       "start_depot_id": depot["id"], "end_depot_id": depot["id"],
                       "break": {"minutes": 30, "earliest": "2030-05-06T10:00:00Z", "latest": "2030-05-06T12:00:00Z"}});
    let (status, saved) = put(&app, &path, &dispatcher, &shift).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["break_minutes"], 30);
    let mut later = shift.clone();
    later["start"] = json!("2030-05-06T08:00:00Z");
    later["break"] = Value::Null;
    let (status, saved) = put(&app, &path, &dispatcher, &later).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["start"], "2030-05-06T08:00:00Z");
    assert!(
        saved["break_minutes"].is_null(),
        "the shift was replaced, not merged"
    );

    let mut broken = shift.clone();
    broken["end"] = json!("2030-05-06T05:00:00Z");
    let (status, problem) = put(&app, &path, &dispatcher, &broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "end");
    let mut off_date = shift.clone();
    off_date["start"] = json!("2030-05-07T06:00:00Z");
    off_date["end"] = json!("2030-05-07T15:00:00Z");
    off_date["break"] = Value::Null;
    let (status, problem) = put(&app, &path, &dispatcher, &off_date).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "start");
    // The date is the depot's local one: west of UTC, an evening shift of the 6th runs on
    // UTC's 7th, and is no shift of the 7th.
    let mut west = depot_body();
    west["time_zone"] = json!("America/New_York");
    let (status, west) = app.post("/depots", &dispatcher, &west).await;
    assert_eq!(status, StatusCode::CREATED, "{west}");
    let evening = json!({"start": "2030-05-07T00:30:00Z", "end": "2030-05-07T03:30:00Z",
                         "start_depot_id": west["id"], "end_depot_id": west["id"]});
    let (status, saved) = put(&app, &path, &dispatcher, &evening).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let next_day = format!("/couriers/{id}/shifts/2030-05-07");
    let (status, problem) = put(&app, &next_day, &dispatcher, &evening).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "start");
    let (status, _) = put(&app, &path, &dispatcher, &shift).await;
    assert_eq!(status, StatusCode::OK);
    let mut long_break = shift.clone();
    long_break["break"]["latest"] = json!("2030-05-06T10:10:00Z");
    let (status, problem) = put(&app, &path, &dispatcher, &long_break).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "break");
    let mut no_depot = shift.clone();
    no_depot["end_depot_id"] = json!(999_999);
    let (status, problem) = put(&app, &path, &dispatcher, &no_depot).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "end_depot_id");
    let (status, _) = put(
        &app,
        "/couriers/999999/shifts/2030-05-06",
        &dispatcher,
        &shift,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let courier_token = app.login("courier1@demo.test").await;
    let (status, _) = put(&app, &path, &courier_token, &shift).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, couriers) = app.get("/couriers?limit=200", &dispatcher).await;
    assert_eq!(
        couriers["items"].as_array().unwrap().len(),
        5,
        "four demo couriers and the new one"
    );
});
