//! The catalogue, the sales registry and the warranty check.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{read, TestApp};

async fn import_csv(app: &TestApp, token: &str, csv: &'static str) -> (StatusCode, Value) {
    let response = app
        .request(Method::POST, "/sales/import", Some(token))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    read(response).await
}

backend_test!(
    warranty_in_expired_last_day_and_unknown,
    |app: TestApp| async move {
        let head = app.login("head@demo.test").await;
        let today = Utc::now().date_naive();
        let (status, body) = app
        .post("/products", &head, &json!({"sku": "KT-1", "name": "Kettle", "category": "kettle", "warranty_months": 12}))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let sales = [
            ("IN-1", today - Duration::days(30), None),
            ("EXP-1", today - Duration::days(800), None),
            ("LAST-1", today - Duration::days(400), Some(today)),
            (
                "GONE-1",
                today - Duration::days(400),
                Some(today - Duration::days(1)),
            ),
        ];
        for (serial, sold_at, until) in sales {
            let (status, body) =
            app.post("/sales", &head, &json!({"serial_no": serial, "sku": "KT-1", "sold_at": sold_at, "warranty_until": until})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let check = |serial: &'static str| {
            let request = app.request(Method::GET, &format!("/warranty/{serial}"), Some(&head));
            async move { read(request.send().await.unwrap()).await.1 }
        };
        let inside = check("IN-1").await;
        assert_eq!(inside["status"], "in_warranty");
        assert_eq!(
            inside["until"],
            json!((today - Duration::days(30))
                .checked_add_months(chrono::Months::new(12))
                .unwrap())
        );
        assert_eq!(check("EXP-1").await["status"], "expired");
        let last = check("LAST-1").await;
        assert_eq!(last["status"], "in_warranty", "the last day is covered");
        assert_eq!(last["until"], json!(today));
        assert_eq!(check("GONE-1").await["status"], "expired");
        let unknown = check("NO-SUCH-SERIAL").await;
        assert_eq!(unknown["status"], "unknown_serial");
        assert!(unknown["until"].is_null());

        // The claim carries the same verdict.
        let customer = app.login("customer8@demo.test").await;
        let claim = app.file_claim(&customer, "DEMO-0008").await;
        assert_eq!(
            claim["warranty"]["status"], "expired",
            "the demo's last unit is out of warranty"
        );
    }
);

backend_test!(
    csv_import_reports_bad_lines_and_keeps_good_ones,
    |app: TestApp| async move {
        let admin = app.login("admin@demo.test").await;
        let csv = "serial_no,sku,sold_at,warranty_until,customer_email,customer_name\n\
               CSV-1,WM-700,2026-01-10,,new.buyer@example.com,New Buyer\n\
               CSV-2,NOPE,2026-01-10,,,\n\
               CSV-3,VC-10,10/01/2026,,,\n\
               CSV-4,VC-10,2026-02-01,2027-02-01,,\n\
               CSV-1,WM-700,2026-01-10,,,\n\
               CSV-5,TV-55,2026-03-01,2025-01-01,,\n";
        let (status, report) = import_csv(&app, &admin, csv).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["imported"], 2);
        let skipped: Vec<(i64, String)> = report["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["line"].as_i64().unwrap(),
                    s["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            skipped.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![3, 4, 6, 7],
            "{skipped:?}"
        );
        assert!(skipped[0].1.contains("sku"));
        assert!(skipped[1].1.contains("sold_at"));
        assert!(skipped[2].1.contains("serial_no"));
        assert!(skipped[3].1.contains("warranty_until"));

        let (_, one) = app.get("/warranty/CSV-1", &admin).await;
        assert_eq!(one["sku"], "WM-700");
        let (_, four) = app.get("/warranty/CSV-4", &admin).await;
        assert_eq!(four["until"], "2027-02-01");
        for serial in ["CSV-2", "CSV-3", "CSV-5"] {
            let (_, none) = app.get(&format!("/warranty/{serial}"), &admin).await;
            assert_eq!(
                none["status"], "unknown_serial",
                "{serial} must not be half-imported"
            );
        }

        let (status, _) = import_csv(&app, &admin, "just,a,header\n").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

backend_test!(
    registry_rejects_duplicates_and_bad_fields,
    |app: TestApp| async move {
        let head = app.login("head@demo.test").await;
        let (status, problem) = app
            .post(
                "/products",
                &head,
                &json!({"sku": "WM-700", "name": "Again", "category": "x", "warranty_months": 12}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "sku");
        let (status, problem) = app
            .post(
                "/sales",
                &head,
                &json!({"serial_no": "DEMO-0001", "sku": "WM-700", "sold_at": "2026-01-01"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "serial_no");
        let (status, problem) = app
            .post(
                "/sales",
                &head,
                &json!({"serial_no": "NEW-1", "sku": "NOPE", "sold_at": "2026-01-01"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "sku");
        let (status, problem) = app
            .post(
                "/sales",
                &head,
                &json!({"serial_no": "NEW-1", "sku": "WM-700", "sold_at": "yesterday"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "sold_at");
        let (status, problem) = app
            .post(
                "/products",
                &head,
                &json!({"sku": "X-1", "name": "X", "category": "x", "warranty_months": -1}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "warranty_months");
    }
);

backend_test!(ops_and_openapi, |app: TestApp| async move {
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/claims",
        "/api/v1/claims/{id}/decision",
        "/api/v1/auth/login",
        "/api/v1/sales/import",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let missing = app
        .client
        .get(app.url("/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
});

backend_test!(
    a_customer_is_found_whatever_the_case_of_her_email,
    |app: TestApp| async move {
        let head = app.login("head@demo.test").await;
        let admin = app.login("admin@demo.test").await;
        let (_, users) = app.get("/users?role=customer&limit=200", &admin).await;
        let demo_customer = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == "customer1@demo.test")
            .unwrap()["customer_id"]
            .clone();
        assert!(demo_customer.is_i64(), "{users}");

        // A sale names an existing customer by her e-mail in another case.
        let sale = |serial: &str, email: &str| {
            json!({
                "serial_no": serial,
                "sku": "WM-700",
                "sold_at": "2026-01-10",
                "customer": {"name": "Whoever", "email": email},
            })
        };
        let (status, first) = app
            .post("/sales", &head, &sale("CASE-1", "Customer1@Demo.TEST"))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["customer_id"], demo_customer, "{first}");

        // A new customer is made once and found again, however her e-mail is spelled.
        let (status, second) = app
            .post("/sales", &head, &sale("CASE-2", "New.Buyer@Example.com"))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        assert_ne!(second["customer_id"], demo_customer);
        let (status, third) = app
            .post("/sales", &head, &sale("CASE-3", "new.buyer@example.COM"))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{third}");
        assert_eq!(third["customer_id"], second["customer_id"], "{third}");

        // The CSV import and a dealer's claim find her too.
        let csv = "serial_no,sku,sold_at,customer_email,customer_name\n\
                   CASE-4,WM-700,2026-01-10,NEW.BUYER@example.com,Someone\n";
        let (status, report) = import_csv(&app, &head, csv).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["imported"], 1, "{report}");
        let dealer = app.login("dealer1@demo.test").await;
        let mut claim = crate::helpers::claim_body("UNREGISTERED-77");
        claim["customer"] = json!({"name": "Someone", "email": "New.Buyer@EXAMPLE.com"});
        let (status, filed) = app.post("/claims", &dealer, &claim).await;
        assert_eq!(status, StatusCode::CREATED, "{filed}");
        // The dealer is not told who she is; the head sees the claim is hers.
        assert!(filed.get("customer_id").is_none(), "{filed}");
        let (_, seen) = app.get(&format!("/claims/{}", filed["id"]), &head).await;
        assert_eq!(seen["customer_id"], second["customer_id"], "{seen}");
    }
);
