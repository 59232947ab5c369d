//! The API document tells the truth: it is snapshotted (any change of the API shows in
//! review), every schema name is unique, and real answers of every GET endpoint the demo
//! data reaches validate against the schema the document declares for them.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::TestApp;
use crate::plans::{publish_tomorrow, tomorrow};

async fn document(app: &TestApp) -> Value {
    let response = app
        .request(Method::GET, "/api-docs/openapi.json", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The schema the document declares for `method path` answering 200 with `content_type`,
/// with the document's components so that its `$ref`s resolve.
fn declared_schema(doc: &Value, method: &str, path: &str, content_type: &str) -> Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let schema = &operation["responses"]["200"]["content"][content_type]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no {content_type} body for 200: {operation}"
    );
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    root
}

/// Validates an answer against its declared schema, naming every mismatch.
fn assert_matches(doc: &Value, method: &str, path: &str, content_type: &str, body: &Value) {
    let schema = declared_schema(doc, method, path, content_type);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the schema of {method} {path} is not valid: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered what its schema does not allow:\n{}\n{body:#}",
        errors.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_the_reviewed_one() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let doc = document(&app).await;
    insta::assert_json_snapshot!("openapi", doc);
}

#[test]
fn every_schema_name_is_used_once() {
    // utoipa keeps one of two types with the same name silently; the document built here
    // collects every schema each route names, so a collision shows as a name with two
    // different bodies.
    let mut seen: std::collections::BTreeMap<String, Value> = Default::default();
    let mut collisions = std::collections::BTreeSet::new();
    for (name, schema) in api::openapi::all_schemas() {
        let schema = serde_json::to_value(schema).unwrap();
        match seen.get(&name) {
            Some(previous) if *previous != schema => {
                collisions.insert(name);
            }
            Some(_) => {}
            None => {
                seen.insert(name, schema);
            }
        }
    }
    assert!(
        collisions.is_empty(),
        "schemas sharing a name: {collisions:?}"
    );
    assert!(seen.contains_key("CourierRoute") && seen.contains_key("PlanRoute"));
}

backend_test!(
    real_answers_match_their_schemas,
    |app: TestApp| async move {
        let doc = document(&app).await;
        let admin = app.login("admin@demo.test").await;
        let dispatcher = app.login("dispatcher@demo.test").await;

        // A day planned and published, a courier on it with a reported position.
        let plan_id = publish_tomorrow(&app, &dispatcher).await;
        let courier = app.login("courier1@demo.test").await;
        let (status, _) = app
            .post(
                "/me/positions",
                &courier,
                &json!({"points": [{"at": chrono::Utc::now(), "lat": 52.52, "lon": 13.40}]}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);

        let (_, claims) = app.get("/claims", &admin).await;
        let claim_id = claims["items"][0]["id"].as_i64().unwrap();
        let checks: Vec<(&str, String, &str, &str)> = vec![
            ("/claims", "/claims".into(), "application/json", &admin),
            (
                "/claims/{id}",
                format!("/claims/{claim_id}"),
                "application/json",
                &admin,
            ),
            ("/jobs", "/jobs".into(), "application/json", &dispatcher),
            ("/users", "/users".into(), "application/json", &admin),
            ("/depots", "/depots".into(), "application/json", &dispatcher),
            (
                "/couriers",
                "/couriers".into(),
                "application/json",
                &dispatcher,
            ),
            (
                "/couriers/positions",
                "/couriers/positions".into(),
                "application/json",
                &dispatcher,
            ),
            ("/plans", "/plans".into(), "application/json", &dispatcher),
            (
                "/plans/{id}",
                format!("/plans/{plan_id}"),
                "application/json",
                &dispatcher,
            ),
            (
                "/plans/{id}/routes",
                format!("/plans/{plan_id}/routes"),
                "application/json",
                &dispatcher,
            ),
            (
                "/plans/{id}/routes",
                format!("/plans/{plan_id}/routes?format=geojson"),
                "application/geo+json",
                &dispatcher,
            ),
            (
                "/plans/{id}/problem",
                format!("/plans/{plan_id}/problem"),
                "application/json",
                &dispatcher,
            ),
            (
                "/me/route",
                format!("/me/route?date={}", tomorrow()),
                "application/json",
                &courier,
            ),
            (
                "/warranty/{serial}",
                "/warranty/DEMO-0001".into(),
                "application/json",
                &admin,
            ),
            (
                "/reports/claims",
                "/reports/claims".into(),
                "application/json",
                &admin,
            ),
            (
                "/reports/defects",
                "/reports/defects".into(),
                "application/json",
                &admin,
            ),
            (
                "/reports/delivery",
                format!(
                    "/reports/delivery?from={}&to={}",
                    tomorrow(),
                    tomorrow() + chrono::Duration::days(1)
                ),
                "application/json",
                &admin,
            ),
        ];
        for (template, path, content_type, token) in checks {
            let (status, body) = app.get(&path, token).await;
            assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
            assert_matches(
                &doc,
                "get",
                &format!("/api/v1{template}"),
                content_type,
                &body,
            );
        }
        // Not only empty lists: the day has routes with stops, and the courier's has some.
        let (_, routes) = app
            .get(&format!("/plans/{plan_id}/routes"), &dispatcher)
            .await;
        let stops: usize = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["stops"].as_array().unwrap().len())
            .sum();
        assert!(stops > 0, "{routes}");
    }
);
