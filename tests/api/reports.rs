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

            // The chart, asked for by Accept: three bars (filed, decided, closed) per period
            // and the legend's words.
            let periods = report(&app, &head, &range).await.1["periods"]
                .as_array()
                .unwrap()
                .len();
            let chart = app
                .request(
                    Method::GET,
                    &format!("/reports/claims?{range}"),
                    Some(&head),
                )
                .header("accept", "image/svg+xml")
                .send()
                .await
                .unwrap();
            assert_eq!(chart.headers()["content-type"], "image/svg+xml");
            let svg = chart.text().await.unwrap();
            for word in ["filed", "decided", "closed"] {
                assert!(svg.contains(word), "no {word} in {svg}");
            }
            let bars = ["#0072B2", "#E69F00", "#009E73"]
                .iter()
                .map(|colour| svg.matches(&format!(r#"fill="{colour}""#)).count())
                .collect::<Vec<_>>();
            // Each series' colour: a bar per period, and one swatch in the legend.
            assert_eq!(bars, vec![periods + 1; 3], "{svg}");
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

/// The row of `key` in one of the defects report's groups.
fn row<'a>(report: &'a Value, group: &str, key: &str) -> &'a Value {
    report[group]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {group} row {key} in {report}"))
}

backend_test!(
    the_defects_report_flags_the_bad_batch,
    backend
        | backend
        | async move {
            let app = TestApp::start(backend, |_| {}).await;
            let head = app.login("head@demo.test").await;
            let today = Utc::now().date_naive();
            let sold = today - chrono::Duration::days(10);
            for (sku, series) in [("KT-1", "KT-Classic"), ("KT-2", "KT-Turbo")] {
                let (status, body) = app
                    .post(
                        "/products",
                        &head,
                        &json!({"sku": sku, "name": format!("Kettle {series}"), "category": "kettle",
                                "series": series, "warranty_months": 24}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
            // 20 units of KT-1 in batch K-100 and 10 + 10 of KT-2 in K-200 and K-201: the
            // file gives the batch in its own column, one sale comes through `POST /sales`.
            let mut csv = String::from("serial_no,sku,sold_at,batch_id\n");
            let batches = [
                ("KT-1", "K-100", 20),
                ("KT-2", "K-200", 10),
                ("KT-2", "K-201", 10),
            ];
            for (sku, batch, units) in batches {
                for n in 0..units {
                    if (batch, n) != ("K-201", 9) {
                        csv.push_str(&format!("{batch}-{n},{sku},{sold},{batch}\n"));
                    }
                }
            }
            let response = app
                .request(Method::POST, "/sales/import", Some(&head))
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await
                .unwrap();
            let (status, imported) = crate::helpers::read(response).await;
            assert_eq!(status, StatusCode::OK, "{imported}");
            assert_eq!(imported["imported"], 39, "{imported}");
            let (status, sale) = app
                .post(
                    "/sales",
                    &head,
                    &json!({"serial_no": "K-201-9", "sku": "KT-2", "sold_at": sold, "batch_id": "K-201"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{sale}");
            assert_eq!(sale["batch_id"], "K-201");

            // Six claims: one from K-100, one from K-200, four from K-201.
            let dealer = app.login("dealer1@demo.test").await;
            let mut filed_at = Vec::new();
            let claims = [
                ("K-100-0", "no_heat"),
                ("K-200-0", "no_heat"),
                ("K-201-0", "lid_crack"),
                ("K-201-1", "lid_crack"),
                ("K-201-2", "lid_crack"),
                ("K-201-3", "lid_crack"),
            ];
            for (i, (serial, defect)) in claims.iter().enumerate() {
                let mut body = crate::helpers::claim_body(serial);
                body["defect_category"] = json!(defect);
                body["customer"] =
                    json!({"name": format!("Buyer {i}"), "email": format!("buyer{i}@example.com")});
                let (status, claim) = app.post("/claims", &dealer, &body).await;
                assert_eq!(status, StatusCode::CREATED, "{claim}");
                filed_at.push((serial.to_owned(), time(&claim["created_at"])));
            }

            let from = today - chrono::Duration::days(30);
            let to = today + chrono::Duration::days(1);
            let query = format!("/reports/defects?from={from}&to={to}");
            let (status, report) = app.get(&query, &head).await;
            assert_eq!(status, StatusCode::OK, "{report}");

            let kettle = row(&report, "by_category", "kettle");
            assert_eq!(kettle["claims"], 6);
            assert_eq!(kettle["units_sold"], 40);
            close(&kettle["claim_rate"], 6.0 / 40.0);
            let classic = row(&report, "by_series", "KT-Classic");
            assert_eq!(
                (classic["claims"].as_i64(), classic["units_sold"].as_i64()),
                (Some(1), Some(20))
            );
            assert_eq!(classic["flagged"], false);
            // 5 / 20 is under twice the category's 6 / 40: not flagged.
            let turbo = row(&report, "by_series", "KT-Turbo");
            close(&turbo["claim_rate"], 0.25);
            close(&turbo["category_rate"], 0.15);
            assert_eq!(turbo["flagged"], false);
            // 4 / 10 is at least twice 0.15, on four claims: the batch to look at.
            let bad = row(&report, "by_batch", "K-201");
            assert_eq!(
                (bad["claims"].as_i64(), bad["units_sold"].as_i64()),
                (Some(4), Some(10))
            );
            close(&bad["claim_rate"], 0.4);
            assert_eq!(bad["flagged"], true, "{report}");
            for good in ["K-100", "K-200"] {
                assert_eq!(row(&report, "by_batch", good)["flagged"], false);
            }
            let product = row(&report, "by_product", "KT-2");
            assert_eq!(product["name"], "Kettle KT-Turbo");
            assert_eq!(product["claims"], 5);
            let lid = report["by_defect"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["defect"] == "lid_crack")
                .unwrap();
            assert_eq!(lid["claims"], 4);
            // Sale to claim: the claims' own filing times against the sale day.
            let sold_midnight = sold.and_hms_opt(0, 0, 0).unwrap().and_utc();
            let turbo_days: Vec<f64> = filed_at
                .iter()
                .filter(|(serial, _)| serial.starts_with("K-20"))
                .map(|(_, at)| hours(sold_midnight, *at) / 24.0)
                .collect();
            let ages = report["time_to_failure"].as_array().unwrap();
            let turbo_age = ages.iter().find(|a| a["series"] == "KT-Turbo").unwrap();
            assert_eq!(turbo_age["claims"], 5);
            close(
                &turbo_age["mean_days_to_failure"],
                turbo_days.iter().sum::<f64>() / turbo_days.len() as f64,
            );

            // The same as CSV, one line per row, `group` first.
            let response = app
                .request(Method::GET, &format!("{query}&format=csv"), Some(&head))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let text = response.text().await.unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(
                lines[0],
                "group,key,name,category,claims,units_sold,claim_rate,category_rate,flagged"
            );
            assert!(
                lines.contains(&"batch,K-201,,kettle,4,10,0.400000,0.150000,true"),
                "{text}"
            );

            // As a chart: a bar per batch, the flagged one in the alert colour, words in
            // the language asked for, nothing that runs.
            let response = app
                .request(
                    Method::GET,
                    &format!("{query}&format=svg&lang=ru"),
                    Some(&head),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["content-type"], "image/svg+xml");
            assert!(response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"));
            let svg = response.text().await.unwrap();
            assert!(svg.starts_with("<svg"), "{svg}");
            for batch in ["K-100", "K-200", "K-201"] {
                assert!(svg.contains(batch), "no {batch} in the chart");
            }
            assert!(svg.contains("по партиям"), "{svg}");
            assert_eq!(
                svg.matches(r##"fill="#D55E00""##).count(),
                1,
                "one flagged bar"
            );
            assert!(!svg.contains("<script"));

            // Quality figures are the department's: a manager and a customer are refused.
            for email in ["manager1@demo.test", "customer1@demo.test"] {
                let token = app.login(email).await;
                let (status, _) = app.get(&query, &token).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
            }
            let (status, problem) = app.get("/reports/defects?from=2026-13-01", &head).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(problem["errors"][0]["field"], "from", "{problem}");
        }
);

backend_test!(
    the_delivery_report_prices_the_day_by_claim,
    backend
        | backend
        | async move {
            let app = TestApp::start(backend, |s| {
                s.dispatch.cost_per_km = 0.5;
                s.dispatch.cost_per_hour = 30.0;
            })
            .await;
            let dispatcher = app.login("dispatcher@demo.test").await;
            let plan = crate::plans::publish_tomorrow(&app, &dispatcher).await;
            let (_, view) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
            let routes: Vec<Value> = view["routes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| {
                    r["stops"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s["kind"] == "job")
                })
                .cloned()
                .collect();
            let jobs: Vec<i64> = routes
                .iter()
                .flat_map(|r| r["stops"].as_array().unwrap().iter())
                .filter_map(|s| s["job_id"].as_i64())
                .collect();
            assert!(jobs.len() >= 3, "{view}");

            // Every visit but the last is done; the last fails, nobody home.
            for (i, job) in jobs.iter().enumerate() {
                let (_, courier, _) = crate::courier::courier_of(&app, *job).await;
                let key = |step: &str| format!("{job}-{step}");
                for step in ["departed", "arrived"] {
                    let (status, body) = crate::courier::report(
                        &app,
                        &courier,
                        *job,
                        &key(step),
                        &crate::courier::event(step),
                    )
                    .await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                }
                let last = if i + 1 == jobs.len() {
                    crate::courier::failed("nobody home")
                } else {
                    let (status, body) = crate::courier::upload_proof(&app, &courier, *job).await;
                    assert_eq!(status, StatusCode::CREATED, "{body}");
                    crate::courier::event("completed")
                };
                let (status, body) =
                    crate::courier::report(&app, &courier, *job, &key("end"), &last).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }

            let head = app.login("head@demo.test").await;
            let day = crate::plans::tomorrow();
            let query = format!(
                "/reports/delivery?from={day}&to={}",
                day + chrono::Duration::days(1)
            );
            let (status, report) = app.get(&query, &head).await;
            assert_eq!(status, StatusCode::OK, "{report}");
            assert_eq!(report["planned"], jobs.len());
            assert_eq!(report["done"], jobs.len() - 1);
            assert_eq!(report["failed"], 1);
            assert_eq!(
                report["failed_by_reason"],
                json!([{"reason": "nobody home", "visits": 1}])
            );
            // They arrived today, before tomorrow's windows opened: waited, so on time.
            assert_eq!(report["on_time"], jobs.len() - 1);
            close(&report["on_time_pct"], 100.0);
            assert_eq!(report["late"], 0);

            let km: f64 = routes
                .iter()
                .map(|r| r["distance_m"].as_f64().unwrap() / 1000.0)
                .sum();
            let hours: f64 = routes
                .iter()
                .map(|r| hours(time(&r["start_at"]), time(&r["end_at"])))
                .sum();
            close(&report["km"], km);
            close(&report["hours"], hours);
            let cost = km * 0.5 + hours * 30.0;
            close(&report["cost"], cost);
            assert_eq!(report["couriers"].as_array().unwrap().len(), routes.len());
            // Every route's cost is shared out among its claims, nothing lost or doubled.
            for group in ["cost_by_remedy", "cost_by_product"] {
                let rows = report[group].as_array().unwrap();
                let total: f64 = rows.iter().map(|r| r["cost"].as_f64().unwrap()).sum();
                close(&json!(total), cost);
                let claims: u64 = rows.iter().map(|r| r["claims"].as_u64().unwrap()).sum();
                assert_eq!(claims as usize, jobs.len(), "{group}: one visit per claim");
            }
            let remedies: Vec<&str> = report["cost_by_remedy"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["key"].as_str().unwrap())
                .collect();
            for remedy in &remedies {
                assert!(
                    ["replacement", "refund", "repair"].contains(remedy),
                    "{remedies:?}"
                );
            }

            let response = app
                .request(Method::GET, &query, Some(&head))
                .header("accept", "text/csv")
                .send()
                .await
                .unwrap();
            let text = response.text().await.unwrap();
            assert_eq!(
                text.lines().next(),
                Some("date,courier_id,courier,visits,done,km,hours,cost")
            );
            assert_eq!(text.lines().count(), routes.len() + 1, "{text}");
            let (status, _) = app.get(&format!("{query}&format=svg&lang=xx"), &head).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            let chart = app
                .request(Method::GET, &format!("{query}&format=svg"), Some(&head))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                chart.contains(&day.to_string()) && chart.contains("failed"),
                "{chart}"
            );
            let manager = app.login("manager1@demo.test").await;
            let (status, _) = app.get(&query, &manager).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
);
