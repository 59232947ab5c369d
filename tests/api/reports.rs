//! `GET /reports/claims`: a small department's day built through the API, then the report's
//! figures checked against what the claims' own histories say.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::TestApp;

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap() as f64 / 3_600_000_000.0
}

/// Filing to the move into `status`, in hours, from the claim's history.
fn hours_to(claim: &Value, status: &str) -> f64 {
    let moved = claim["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "transition" && e["to"] == status)
        .unwrap();
    hours(time(&claim["created_at"]), time(&moved["at"]))
}

fn close(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{actual} is no number"));
    assert!((actual - expected).abs() < 1e-6, "{actual} != {expected}");
}

async fn report(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    app.get(&format!("/reports/claims?{query}"), token).await
}

backend_test!(
    the_claims_report_adds_up,
    backend
        | backend
        | async move {
            // `new` is due a second after filing; no sweep runs during the test.
            let app = TestApp::start(backend, |s| {
                s.sla = domain::sla::SlaPolicy::parse("new=0.0003").unwrap();
            })
            .await;
            let head = app.login("head@demo.test").await;
            let admin = app.login("admin@demo.test").await;
            let customers = [
                app.login("customer1@demo.test").await,
                app.login("customer2@demo.test").await,
                app.login("customer3@demo.test").await,
            ];
            let (_, users) = app.get("/users?limit=100", &admin).await;
            let email_of: BTreeMap<i64, String> = users["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    (
                        u["id"].as_i64().unwrap(),
                        u["email"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let mut manager_tokens = BTreeMap::new();
            for (id, email) in &email_of {
                if email.starts_with("manager") {
                    manager_tokens.insert(*id, app.login(email).await);
                }
            }
            // The demo's claims passed their deadlines before the period starts.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let from = Utc::now();

            let mut ids = Vec::new();
            for (n, token) in customers.iter().enumerate() {
                let claim = app.file_claim(token, &format!("DEMO-000{}", n + 1)).await;
                ids.push(claim["id"].as_i64().unwrap());
            }
            let assignee = |claim: &Value| claim["assignee_id"].as_i64().unwrap();
            let (_, a) = app.get(&format!("/claims/{}", ids[0]), &head).await;
            // A: decided at once by its manager.
            let (status, body) = app
                .post(
                    &format!("/claims/{}/decision", ids[0]),
                    &manager_tokens[&assignee(&a)],
                    &json!({"decision": "replacement"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            // B and C sit in `new` past its SLA; then B moves on and is rejected.
            tokio::time::sleep(Duration::from_millis(1300)).await;
            let (_, b) = app.get(&format!("/claims/{}", ids[1]), &head).await;
            let b_manager = &manager_tokens[&assignee(&b)];
            let (status, body) = app
                .post(
                    &format!("/claims/{}/transition", ids[1]),
                    b_manager,
                    &json!({"to": "info_check"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, body) = app
                .post(
                    &format!("/claims/{}/decision", ids[1]),
                    b_manager,
                    &json!({"decision": "reject", "reason": "The unit was dropped.", "reason_code": "mechanical_damage"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let to = Utc::now() + chrono::Duration::seconds(1);
            let range = format!(
                "from={}&to={}&group_by=day",
                urlencode(&from.to_rfc3339()),
                urlencode(&to.to_rfc3339())
            );

            let (status, seen) = report(&app, &head, &range).await;
            assert_eq!(status, StatusCode::OK, "{seen}");
            let mut claims = Vec::new();
            for id in &ids {
                claims.push(app.get(&format!("/claims/{id}"), &head).await.1);
            }
            let (a, b, c) = (&claims[0], &claims[1], &claims[2]);
            assert_eq!(
                (
                    &seen["filed"],
                    &seen["decided"],
                    &seen["approved"],
                    &seen["rejected"]
                ),
                (&json!(3), &json!(2), &json!(1), &json!(1)),
                "{seen}"
            );
            assert_eq!(
                (&seen["closed"], &seen["withdrawn"]),
                (&json!(0), &json!(0))
            );
            let mut decisions = [hours_to(a, "approved"), hours_to(b, "rejected")];
            decisions.sort_by(f64::total_cmp);
            let decision = &seen["hours_to_decision"];
            assert_eq!(decision["count"], 2);
            close(&decision["mean"], (decisions[0] + decisions[1]) / 2.0);
            close(&decision["median"], (decisions[0] + decisions[1]) / 2.0);
            close(
                &decision["p90"],
                decisions[0] + 0.9 * (decisions[1] - decisions[0]),
            );
            assert_eq!(seen["hours_to_close"]["count"], 0);
            assert!(seen["hours_to_close"]["median"].is_null());

            // Stages: A's and B's stays in `new` ended (B's late), C is still there past
            // its deadline; B spent a moment in `info_check`.
            let stage = |name: &str| {
                seen["stages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["stage"] == name)
                    .unwrap()
                    .clone()
            };
            let new = stage("new");
            assert_eq!(new["hours"]["count"], 2, "{new}");
            let b_new = hours(
                time(&b["created_at"]),
                time(
                    &b["history"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|e| e["to"] == "info_check")
                        .unwrap()["at"],
                ),
            );
            assert!(b_new > 1.0 / 3600.0, "B sat in new past its SLA");
            close(
                &new["hours"]["mean"],
                (hours_to(a, "approved") + b_new) / 2.0,
            );
            // 0.0003 h is kept as whole seconds: 1 s.
            close(&new["sla_hours"], 1.0 / 3600.0);
            assert_eq!(new["breaches"], 2, "B's late stay and C, still waiting");
            assert_eq!(new["escalations"], 0);
            let info = stage("info_check");
            assert_eq!(
                (&info["hours"]["count"], &info["breaches"]),
                (&json!(1), &json!(0))
            );
            close(&info["hours"]["median"], hours_to(b, "rejected") - b_new);
            assert_eq!(seen["breaches"], 2);
            assert_eq!(seen["escalations"], 0);

            // Periods: every day of the range, adding up to the totals.
            let periods = seen["periods"].as_array().unwrap();
            assert_eq!(
                periods.first().unwrap()["start"],
                json!(from.date_naive().to_string())
            );
            let filed: i64 = periods.iter().map(|p| p["filed"].as_i64().unwrap()).sum();
            let decided: i64 = periods.iter().map(|p| p["decided"].as_i64().unwrap()).sum();
            assert_eq!((filed, decided), (3, 2));

            // Managers: decisions and breaches where they were made; open claims as the
            // claim list shows them.
            let mut decided_by: BTreeMap<i64, usize> = BTreeMap::new();
            let mut breaches_of: BTreeMap<i64, usize> = BTreeMap::new();
            *decided_by.entry(assignee(a)).or_default() += 1;
            *decided_by.entry(assignee(b)).or_default() += 1;
            *breaches_of.entry(assignee(b)).or_default() += 1;
            *breaches_of.entry(assignee(c)).or_default() += 1;
            let rows = seen["managers"].as_array().unwrap();
            assert_eq!(rows.len(), manager_tokens.len(), "{rows:?}");
            for row in rows {
                let id = row["manager_id"].as_i64().unwrap();
                assert_eq!(
                    row["decided"],
                    json!(decided_by.get(&id).copied().unwrap_or(0))
                );
                assert_eq!(
                    row["breaches"],
                    json!(breaches_of.get(&id).copied().unwrap_or(0))
                );
                let open = app.open_claims_of(id, &head).await.len();
                assert_eq!(row["open"], json!(open), "{row}");
            }

            // A manager sees his own claims only, and himself.
            let (status, own) = report(&app, b_manager, &range).await;
            assert_eq!(status, StatusCode::OK, "{own}");
            let own_rows = own["managers"].as_array().unwrap();
            assert_eq!(own_rows.len(), 1);
            assert_eq!(own_rows[0]["manager_id"], json!(assignee(b)));
            let his = claims.iter().filter(|c| assignee(c) == assignee(b)).count();
            assert_eq!(own["filed"], json!(his));

            // CSV: the periods, one line each, by parameter or by Accept.
            let csv = app
                .request(
                    Method::GET,
                    &format!("/reports/claims?{range}&format=csv"),
                    Some(&head),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(csv.status(), StatusCode::OK);
            assert!(csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
            let text = csv.text().await.unwrap();
            let mut lines = text.lines();
            assert_eq!(
                lines.next().unwrap(),
                "period_start,filed,decided,approved,rejected,closed,withdrawn,median_hours_to_decision"
            );
            let filed: i64 = lines
                .map(|l| l.split(',').nth(1).unwrap().parse::<i64>().unwrap())
                .sum();
            assert_eq!(filed, 3, "{text}");
            let by_accept = app
                .request(
                    Method::GET,
                    &format!("/reports/claims?{range}"),
                    Some(&head),
                )
                .header("accept", "text/csv")
                .send()
                .await
                .unwrap();
            assert_eq!(by_accept.text().await.unwrap(), text);
        }
);

backend_test!(
    reports_are_for_the_department_and_refuse_bad_ranges,
    |app: TestApp| async move {
        for who in [
            "dispatcher@demo.test",
            "customer1@demo.test",
            "dealer1@demo.test",
            "courier1@demo.test",
        ] {
            let token = app.login(who).await;
            let (status, _) = report(&app, &token, "").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        let status = app
            .request(Method::GET, "/reports/claims", None)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let head = app.login("head@demo.test").await;
        let (status, seen) = report(&app, &head, "").await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["group_by"], "week");
        let days = (time(&seen["to"]) - time(&seen["from"])).num_days();
        assert_eq!(days, 30, "the last 30 days by default");
        for (query, field) in [
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
            ("from=2026-11-02&to=2026-11-01", "to"),
            ("from=2020-01-01&to=2026-01-01", "from"),
            ("format=xml", "format"),
        ] {
            let (status, problem) = report(&app, &head, query).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{query}: {problem}"
            );
            assert_eq!(problem["errors"][0]["field"], field, "{query}");
        }
        let (status, _) = report(&app, &head, "group_by=year").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
