//! Documents as PDF: every demo claim's acts render, their text (read back by poppler's
//! `pdftotext`, as a person's PDF reader would) names the claim, the customer and the unit,
//! in the reader's language; route sheets list the stops in the order they are driven;
//! nobody gets another owner's papers.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;

use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_test;
use crate::helpers::{temp_dir, TestApp};
use crate::plans::{publish_tomorrow, tomorrow};

/// The text of a PDF as `pdftotext -layout` reads it.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let path = temp_dir().join(format!("doc-{}.pdf", crate::helpers::rand_u64()));
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(pdf))
        .unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed; .ci/run installs it");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).unwrap()
}

/// GET a document: (status, content type, body).
pub(crate) async fn fetch(
    app: &TestApp,
    path: &str,
    token: &str,
    accept_language: Option<&str>,
) -> (StatusCode, String, Vec<u8>) {
    let mut request = app.request(Method::GET, path, Some(token));
    if let Some(language) = accept_language {
        request = request.header(ACCEPT_LANGUAGE, language);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

async fn pdf(app: &TestApp, path: &str, token: &str) -> String {
    let (status, content_type, body) = fetch(app, path, token, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(content_type, "application/pdf");
    pdf_text(&body)
}

/// Words as pdftotext lays them out: runs of spaces (columns) fold to one.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

backend_test!(
    every_demo_claim_document_renders_in_its_customers_language,
    backend
        | backend
        | async move {
            let app = TestApp::start(backend, |_| {}).await;
            let admin = app.login("admin@demo.test").await;
            let (_, users) = app.get("/users?limit=200", &admin).await;
            let customer_names: BTreeMap<i64, (String, String)> = users["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|u| u["role"] == "customer")
                .map(|u| {
                    (
                        u["customer_id"].as_i64().unwrap(),
                        (
                            u["name"].as_str().unwrap().to_owned(),
                            u["email"].as_str().unwrap().to_owned(),
                        ),
                    )
                })
                .collect();
            let (status, claims) = app.get("/claims?limit=200", &admin).await;
            assert_eq!(status, StatusCode::OK);
            let claims = claims["items"].as_array().unwrap().clone();
            assert!(claims.len() >= 8);
            let mut decided = 0;
            let mut russian = 0;
            for claim in &claims {
                let id = claim["id"].as_i64().unwrap();
                let number = claim["number"].as_str().unwrap();
                let serial = claim["serial_no"].as_str().unwrap();
                let (name, email) = &customer_names[&claim["customer_id"].as_i64().unwrap()];
                // The customer herself reads it in her own language (no Accept-Language).
                let customer = app.login(email).await;
                let act = pdf(
                    &app,
                    &format!("/claims/{id}/documents/claim_act.pdf"),
                    &customer,
                )
                .await;
                for needle in [number, serial, name.as_str()] {
                    assert!(act.contains(needle), "{number}: no `{needle}` in\n{act}");
                }
                let is_russian = act.contains("Акт приёма гарантийной претензии");
                assert!(is_russian || act.contains("Claim acceptance act"), "{act}");
                if is_russian {
                    russian += 1;
                    let english = pdf(
                        &app,
                        &format!("/claims/{id}/documents/claim_act.pdf?lang=en"),
                        &customer,
                    )
                    .await;
                    assert!(english.contains("Claim acceptance act"), "{english}");
                }
                let decision_path = format!("/claims/{id}/documents/decision_act.pdf");
                if claim["decision"].is_null() {
                    let (status, _, body) = fetch(&app, &decision_path, &customer, None).await;
                    assert_eq!(
                        status,
                        StatusCode::CONFLICT,
                        "{}",
                        String::from_utf8_lossy(&body)
                    );
                    continue;
                }
                decided += 1;
                let act = words(&pdf(&app, &decision_path, &customer).await);
                for needle in [number, serial, name.as_str()] {
                    assert!(act.contains(needle), "{number}: no `{needle}` in\n{act}");
                }
                let kind = claim["decision"]["decision"].as_str().unwrap();
                let expected: &[&str] = match (kind, is_russian) {
                    ("replacement", false) => &["Exchange act", "Defective unit taken back"],
                    ("replacement", true) => &["Акт обмена изделия"],
                    ("refund", false) => &["Refund act"],
                    ("refund", true) => &["Акт возврата денежных средств"],
                    ("repair", false) => &["Repair order", "Expected return"],
                    ("repair", true) => &["Заказ на гарантийный ремонт"],
                    (_, false) => &["Decision on your warranty claim"],
                    (_, true) => &["Решение по вашей гарантийной претензии"],
                };
                for needle in expected {
                    assert!(act.contains(needle), "{kind}: no `{needle}` in\n{act}");
                }
                if let Some(cents) = claim["decision"]["refund_amount_cents"].as_i64() {
                    let units = cents / 100;
                    if is_russian {
                        // 499.00 in words, with the noun in the number's form.
                        assert_eq!(units, 499, "the demo's refund");
                        assert!(
                            act.contains("499,00 (четыреста девяносто девять рублей 00 копеек)"),
                            "{act}"
                        );
                    } else {
                        assert!(
                            act.contains(&format!("{units}.{:02}", cents % 100)),
                            "{act}"
                        );
                    }
                }
                if kind == "reject" {
                    let reason = claim["decision"]["reason"].as_str().unwrap();
                    assert!(act.contains(reason), "{act}");
                }
                // Accept-Language asks for another language than the customer's.
                let other = if is_russian {
                    "en-GB,en;q=0.9"
                } else {
                    "ru-RU,ru;q=0.9"
                };
                let (status, _, body) = fetch(&app, &decision_path, &customer, Some(other)).await;
                assert_eq!(status, StatusCode::OK);
                let text = pdf_text(&body);
                let has_cyrillic = text.chars().any(|c| ('а'..='я').contains(&c));
                assert_eq!(has_cyrillic, !is_russian, "{text}");
            }
            assert!(decided >= 4, "the demo decides four claims");
            assert!(russian >= 1, "the demo has Russian customers");
        }
);

backend_test!(
    documents_follow_the_claims_visibility,
    backend
        | backend
        | async move {
            let app = TestApp::start(backend, |_| {}).await;
            let first = app.login("customer1@demo.test").await;
            let second = app.login("customer2@demo.test").await;
            let (_, mine) = app.get("/claims", &first).await;
            let mine = mine["items"][0]["id"].as_i64().unwrap();
            let (_, theirs) = app.get("/claims", &second).await;
            let theirs = theirs["items"][0]["id"].as_i64().unwrap();
            let path = |id: i64| format!("/claims/{id}/documents/claim_act.pdf");

            let (status, _, _) = fetch(&app, &path(mine), &first, None).await;
            assert_eq!(status, StatusCode::OK);
            // Another customer's claim does not exist for her.
            let (status, _, _) = fetch(&app, &path(theirs), &first, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            for role in ["courier1@demo.test", "dispatcher@demo.test"] {
                let token = app.login(role).await;
                let (status, _, _) = fetch(&app, &path(mine), &token, None).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
            }
            let (status, _, _) = fetch(
                &app,
                &format!("/claims/{mine}/documents/invoice.pdf"),
                &first,
                None,
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            let (status, problem) = app.get(&format!("{}?lang=de", path(mine)), &first).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(problem["errors"][0]["field"], "lang", "{problem}");
            let (status, _) = app.get(&path(i64::MAX), &first).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
);

backend_test!(
    a_route_sheet_lists_the_stops_in_route_order,
    backend
        | backend
        | async move {
            let app = TestApp::start(backend, |_| {}).await;
            let dispatcher = app.login("dispatcher@demo.test").await;
            let plan = publish_tomorrow(&app, &dispatcher).await;
            let (status, view) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
            assert_eq!(status, StatusCode::OK);
            let routes: Vec<Value> = view["routes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["stops"].as_array().unwrap().len() >= 2)
                .cloned()
                .collect();
            assert!(!routes.is_empty(), "{view}");
            for route in &routes {
                let courier = route["courier_id"].as_i64().unwrap();
                let numbers: Vec<String> = route["stops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|s| s["claim_number"].as_str().map(str::to_owned))
                    .collect();
                let sheet = pdf(
                    &app,
                    &format!("/plans/{plan}/routes/{courier}/sheet.pdf?lang=en"),
                    &dispatcher,
                )
                .await;
                assert!(sheet.contains(route["courier_name"].as_str().unwrap()));
                let positions: Vec<usize> = numbers
                    .iter()
                    .map(|n| {
                        sheet
                            .find(n.as_str())
                            .unwrap_or_else(|| panic!("{n} in\n{sheet}"))
                    })
                    .collect();
                assert!(
                    positions.windows(2).all(|w| w[0] < w[1]),
                    "stops {numbers:?} out of order in\n{sheet}"
                );

                // The courier's own sheet of the published day says the same.
                let email = format!(
                    "courier{}@demo.test",
                    route["courier_name"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches("Courier ")
                );
                let token = app.login(&email).await;
                let own = pdf(
                    &app,
                    &format!("/me/route/sheet.pdf?date={}&lang=ru", tomorrow()),
                    &token,
                )
                .await;
                assert!(own.contains("Маршрутный лист"), "{own}");
                let own_positions: Vec<usize> = numbers
                    .iter()
                    .map(|n| {
                        own.find(n.as_str())
                            .unwrap_or_else(|| panic!("{n} in\n{own}"))
                    })
                    .collect();
                assert!(own_positions.windows(2).all(|w| w[0] < w[1]), "{own}");
                // A courier does not read the dispatcher's sheets.
                let (status, _, _) = fetch(
                    &app,
                    &format!("/plans/{plan}/routes/{courier}/sheet.pdf"),
                    &token,
                    None,
                )
                .await;
                assert_eq!(status, StatusCode::FORBIDDEN);
            }
            // A courier without a route that day gets a sheet that says so.
            let idle = app.login("courier1@demo.test").await;
            let empty = pdf(&app, "/me/route/sheet.pdf?date=2020-01-01&lang=en", &idle).await;
            assert!(empty.contains("No published route"), "{empty}");
            let (status, _, _) = fetch(
                &app,
                &format!("/plans/{plan}/routes/999999/sheet.pdf"),
                &dispatcher,
                None,
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
);
