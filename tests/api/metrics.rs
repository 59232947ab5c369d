//! `GET /metrics`: who may read it, and that what it counts is what happened: requests by
//! route template, a plan run, webhook attempts, escalations and the backlog, each compared
//! with what the API itself reports.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::backend_test;
use crate::helpers::TestApp;
use crate::sinks::Receiver;

/// One sample of the exposition: its labels and value.
#[derive(Debug)]
pub(crate) struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the OpenMetrics text format (what the test needs of it: no exemplars, no
/// timestamps).
fn parse(text: &str) -> Vec<Sample> {
    assert!(
        text.ends_with("# EOF\n"),
        "an OpenMetrics exposition ends with # EOF"
    );
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').unwrap())),
                None => (series, BTreeMap::new()),
            };
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().unwrap(),
            }
        })
        .collect()
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().unwrap() {
                (_, '\\') => value.push(chars.next().unwrap().1),
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = &after[end + 1..];
    }
    labels
}

/// The value of the sample `name` with exactly these labels.
pub(crate) fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == wanted)
        .map(|s| s.value)
}

pub(crate) async fn scrape(app: &TestApp, admin: &str) -> Vec<Sample> {
    let response = app
        .request(Method::GET, "/metrics", Some(admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let media = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(media.starts_with("application/openmetrics-text"), "{media}");
    parse(&response.text().await.unwrap())
}

/// Scrapes until `done` holds.
async fn scrape_until(
    app: &TestApp,
    admin: &str,
    what: &str,
    done: impl Fn(&[Sample]) -> bool,
) -> Vec<Sample> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let samples = scrape(app, admin).await;
        if done(&samples) {
            return samples;
        }
        assert!(Instant::now() < deadline, "{what}: {samples:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

backend_test!(
    metrics_are_for_admins_and_the_scraper_address_only,
    backend
        | backend
        | async move {
            let app = TestApp::start(backend, |s| {
                s.metrics_bind = Some("127.0.0.1:0".to_owned());
            })
            .await;
            let anonymous = app
                .request(Method::GET, "/metrics", None)
                .send()
                .await
                .unwrap();
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                anonymous.headers()["content-type"],
                "application/problem+json"
            );
            for who in [
                "head@demo.test",
                "manager1@demo.test",
                "dispatcher@demo.test",
                "courier1@demo.test",
                "customer1@demo.test",
            ] {
                let token = app.login(who).await;
                let refused = app
                    .request(Method::GET, "/metrics", Some(&token))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{who}");
            }
            let admin = app.login("admin@demo.test").await;
            let samples = scrape(&app, &admin).await;
            // The pool's figures: at most what it may open.
            let max = value(&samples, "claimroute_db_pool_max_connections", &[]).unwrap();
            assert_eq!(max, 6.0, "the tests' pool size");
            let in_use = value(
                &samples,
                "claimroute_db_pool_connections",
                &[("state", "in_use")],
            )
            .unwrap();
            let idle = value(
                &samples,
                "claimroute_db_pool_connections",
                &[("state", "idle")],
            )
            .unwrap();
            assert!(in_use >= 0.0 && idle >= 0.0 && in_use + idle <= max);

            // The scraper's own address answers without a token, and serves nothing else.
            let scraper = app.metrics_base.clone().unwrap();
            let open = app
                .client
                .get(format!("{scraper}/metrics"))
                .send()
                .await
                .unwrap();
            assert_eq!(open.status(), StatusCode::OK);
            let text = open.text().await.unwrap();
            let samples = parse(&text);
            assert!(
                value(&samples, "claimroute_db_pool_max_connections", &[]) == Some(6.0),
                "{text}"
            );
            let api = app
                .client
                .get(format!("{scraper}/api/v1/claims"))
                .send()
                .await
                .unwrap();
            assert_eq!(api.status(), StatusCode::NOT_FOUND);

            // Without METRICS_BIND there is no such address.
            let plain = TestApp::start(backend, |_| {}).await;
            assert!(plain.metrics_base.is_none());
        }
);

backend_test!(
    metrics_count_what_happened,
    backend
        | backend
        | async move {
            let receiver = Receiver::start().await;
            receiver.fail_next(1);
            let app = TestApp::start(backend, |s| {
                // A new claim is overdue within seconds; the sweep runs often.
                s.sla = domain::sla::SlaPolicy::parse("new=0.001").unwrap();
                s.sla_sweep = Duration::from_millis(300);
            })
            .await;
            let admin = app.login("admin@demo.test").await;
            app.subscribe_webhook(&admin, &receiver.url, &["claim.filed"])
                .await;

            // Requests are counted by route template, method and status.
            let customer = app.login("customer3@demo.test").await;
            let claim = app.file_claim(&customer, "DEMO-0003").await;
            let id = claim["id"].as_i64().unwrap();
            for _ in 0..2 {
                let (status, _) = app.get(&format!("/claims/{id}"), &customer).await;
                assert_eq!(status, StatusCode::OK);
            }
            let (status, _) = app.get("/claims/99999999", &customer).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            let (status, _) = app.get("/no/such/thing", &customer).await;
            assert_eq!(status, StatusCode::NOT_FOUND);

            // A plan run.
            let dispatcher = app.login("dispatcher@demo.test").await;
            let plan_id = crate::plans::draft_tomorrow(&app, &dispatcher).await;
            let (_, plan) = app.get(&format!("/plans/{plan_id}"), &dispatcher).await;
            let unassigned = plan["kpis"]["jobs_unassigned"].as_f64().unwrap();

            // The webhook: refused once, then delivered.
            receiver
                .wait_until("the claim's webhook call, twice", |calls| calls.len() >= 2)
                .await;
            let samples = scrape_until(&app, &admin, "the delivery recorded", |s| {
                value(
                    s,
                    "claimroute_delivery_attempts_total",
                    &[("channel", "webhook"), ("outcome", "sent")],
                )
                .is_some()
            })
            .await;

            let claim_route = [("method", "GET"), ("route", "/api/v1/claims/{id}")];
            let requests = |status: &str| {
                let mut labels = claim_route.to_vec();
                labels.push(("status", status));
                value(&samples, "claimroute_http_requests_total", &labels)
            };
            assert_eq!(requests("200"), Some(2.0));
            assert_eq!(requests("404"), Some(1.0));
            assert_eq!(
                value(
                    &samples,
                    "claimroute_http_request_duration_seconds_count",
                    &claim_route
                ),
                Some(3.0)
            );
            assert_eq!(
                value(
                    &samples,
                    "claimroute_http_requests_total",
                    &[
                        ("method", "POST"),
                        ("route", "/api/v1/claims"),
                        ("status", "201")
                    ]
                ),
                Some(1.0)
            );
            assert_eq!(
                value(
                    &samples,
                    "claimroute_http_requests_total",
                    &[("method", "GET"), ("route", "unmatched"), ("status", "404")]
                ),
                Some(1.0)
            );
            // Never a concrete path: ids do not become labels.
            assert!(
                samples.iter().all(|s| s
                    .labels
                    .get("route")
                    .is_none_or(|r| !r.contains(&id.to_string()))),
                "a concrete path among the routes"
            );

            assert_eq!(
                value(
                    &samples,
                    "claimroute_plan_runs_total",
                    &[("outcome", "finished")]
                ),
                Some(1.0)
            );
            assert_eq!(
                value(&samples, "claimroute_plan_run_duration_seconds_count", &[]),
                Some(1.0)
            );
            assert_eq!(
                value(&samples, "claimroute_plan_unassigned_jobs_count", &[]),
                Some(1.0)
            );
            assert_eq!(
                value(&samples, "claimroute_plan_unassigned_jobs_sum", &[]),
                Some(unassigned)
            );

            assert_eq!(
                value(
                    &samples,
                    "claimroute_delivery_attempts_total",
                    &[("channel", "webhook"), ("outcome", "retry")]
                ),
                Some(1.0)
            );
            assert_eq!(
                value(
                    &samples,
                    "claimroute_delivery_attempts_total",
                    &[("channel", "webhook"), ("outcome", "sent")]
                ),
                Some(1.0)
            );
            // Its one delivery was made: nothing is left for the webhook. (Once seen at 1 on
            // PostgreSQL and not explained; what the claim's deliveries and the receiver's
            // calls were then is shown.)
            let backlog = value(
                &samples,
                "claimroute_outbox_backlog",
                &[("channel", "webhook")],
            );
            if backlog != Some(0.0) {
                let (_, sent) = app
                    .get(&format!("/claims/{id}/notifications"), &admin)
                    .await;
                let calls: Vec<String> =
                    receiver.calls().iter().map(|c| format!("{c:?}")).collect();
                panic!(
                    "webhook backlog {backlog:?}; the claim's deliveries {sent}; calls {calls:?}"
                );
            }

            // Escalations: once our claim is escalated, every claim overdue in `new` is
            // (the sweep takes them all, and none is filed after it). The counter, the gauge
            // and the API's overdue list agree.
            let head = app.login("head@demo.test").await;
            let deadline = Instant::now() + Duration::from_secs(30);
            let overdue_new = loop {
                let (status, page) = app.get("/claims?overdue=true&limit=100", &head).await;
                assert_eq!(status, StatusCode::OK, "{page}");
                let items = page["items"].as_array().unwrap().clone();
                let ours = items.iter().find(|c| c["id"] == id);
                if ours.is_some_and(|c| c["escalated_at"].is_string()) {
                    break items.iter().filter(|c| c["status"] == "new").count() as f64;
                }
                assert!(Instant::now() < deadline, "{page}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            assert!(overdue_new >= 1.0);
            let samples = scrape(&app, &admin).await;
            assert_eq!(
                value(&samples, "claimroute_claims_overdue", &[("stage", "new")]),
                Some(overdue_new)
            );
            assert_eq!(
                value(
                    &samples,
                    "claimroute_sla_escalations_total",
                    &[("stage", "new")]
                ),
                Some(overdue_new)
            );
            // Every open stage is reported, a stage with none overdue as 0.
            assert_eq!(
                value(
                    &samples,
                    "claimroute_claims_overdue",
                    &[("stage", "closed")]
                ),
                None
            );
            assert!(value(
                &samples,
                "claimroute_claims_overdue",
                &[("stage", "decision")]
            )
            .is_some());
        }
);
