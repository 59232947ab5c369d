//! The claim flow end to end, over HTTP.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{claim_body, upload, TestApp, PNG_1X1};

/// Open claims per assignee, as the head sees them.
async fn open_loads(app: &TestApp, head: &str) -> HashMap<i64, usize> {
    let mut loads = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = cursor.as_ref().map_or("/claims?limit=200".to_owned(), |c| {
            format!("/claims?limit=200&cursor={c}")
        });
        let (status, body) = app.get(&path, head).await;
        assert_eq!(status, StatusCode::OK);
        for claim in body["items"].as_array().unwrap() {
            if !matches!(claim["status"].as_str(), Some("closed" | "rejected")) {
                *loads
                    .entry(claim["assignee_id"].as_i64().unwrap())
                    .or_default() += 1;
            }
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return loads,
        }
    }
}

backend_test!(full_flow_from_filing_to_jobs, |app: TestApp| async move {
    let customer = app.login("customer1@demo.test").await;
    let head = app.login("head@demo.test").await;
    let manager_ids = [
        app.user_id("manager1@demo.test").await,
        app.user_id("manager2@demo.test").await,
    ];

    let loads = open_loads(&app, &head).await;
    let mut candidates: Vec<(usize, i64)> = manager_ids
        .iter()
        .map(|id| (loads.get(id).copied().unwrap_or(0), *id))
        .collect();
    candidates.sort();
    let least_loaded = candidates[0].1;

    let claim = app.file_claim(&customer, "DEMO-0001").await;
    let id = claim["id"].as_i64().unwrap();
    assert_eq!(claim["status"], "new");
    assert!(
        claim["number"].as_str().unwrap().starts_with("CLM-"),
        "{claim}"
    );
    assert_eq!(claim["warranty"]["status"], "in_warranty");
    assert_eq!(
        claim["assignee_id"].as_i64().unwrap(),
        least_loaded,
        "least-loaded manager gets the claim"
    );

    let (status, photo) = upload(&app, &customer, id, "broken.png", PNG_1X1.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");
    assert_eq!(photo["content_type"], "image/png");

    // The assignee works the claim through review and approves a replacement.
    let assignee_email = if least_loaded == manager_ids[0] {
        "manager1@demo.test"
    } else {
        "manager2@demo.test"
    };
    let manager = app.login(assignee_email).await;
    for to in ["info_check", "diagnostics", "decision"] {
        let (status, body) = app
            .post(
                &format!("/claims/{id}/transition"),
                &manager,
                &json!({"to": to, "note": format!("to {to}")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], to);
    }
    let (status, decided) = app
        .post(
            &format!("/claims/{id}/decision"),
            &manager,
            &json!({"decision": "replacement", "reason": "confirmed defect"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["claim"]["status"], "approved");
    let jobs = decided["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job["kind"], "exchange");
    assert_eq!(job["status"], "unplanned");
    assert_eq!(job["address"], claim_body("x")["address"]);
    assert_eq!(job["windows"], claim["preferred_windows"]);
    assert!(
        job["delivery_load"].as_i64().unwrap() >= 1 && job["pickup_load"].as_i64().unwrap() >= 1
    );

    // Dispatchers see the job.
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (status, listed) = app.get(&format!("/jobs?claim_id={id}"), &dispatcher).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], job["id"]);

    // The customer sees the status, the whole history and her photo.
    let (status, seen) = app.get(&format!("/claims/{id}"), &customer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["status"], "approved");
    assert_eq!(seen["decision"]["decision"], "replacement");
    let history = seen["history"].as_array().unwrap();
    let moves: Vec<(Value, Value)> = history
        .iter()
        .filter(|h| h["kind"] == "transition" || h["kind"] == "filed")
        .map(|h| (h["from"].clone(), h["to"].clone()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Value::Null, json!("new")),
            (json!("new"), json!("info_check")),
            (json!("info_check"), json!("diagnostics")),
            (json!("diagnostics"), json!("decision")),
            (json!("decision"), json!("approved")),
        ]
    );
    assert!(history
        .iter()
        .all(|h| h["at"].is_string() && h["actor_id"].is_i64()));
    assert_eq!(seen["attachments"][0]["id"], photo["id"]);
    assert_eq!(seen["jobs"][0]["id"], job["id"]);

    // The photo comes back byte for byte.
    let response = app
        .request(
            Method::GET,
            &format!("/claims/{id}/attachments/{}", photo["id"]),
            Some(&customer),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().as_ref(), PNG_1X1);
});

backend_test!(
    rejection_reason_reaches_the_customer,
    |app: TestApp| async move {
        let customer = app.login("customer2@demo.test").await;
        let head = app.login("head@demo.test").await;
        let claim = app.file_claim(&customer, "DEMO-0002").await;
        let id = claim["id"].as_i64().unwrap();

        let (status, body) = app
            .post(
                &format!("/claims/{id}/decision"),
                &head,
                &json!({"decision": "reject"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["reason", "reason_code"], "{body}");

        let reason = "The damage was caused by a fall, which the warranty does not cover.";
        let (status, body) = app
            .post(
                &format!("/claims/{id}/decision"),
                &head,
                &json!({"decision": "reject", "reason": reason, "reason_code": "mechanical_damage"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["jobs"], json!([]));

        let (_, seen) = app.get(&format!("/claims/{id}"), &customer).await;
        assert_eq!(seen["status"], "rejected");
        assert_eq!(seen["decision"]["reason"], reason);
        let last = seen["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["to"], "rejected");
        assert_eq!(last["note"], reason);

        // A closed branch stays closed.
        let (status, _) = app
            .post(
                &format!("/claims/{id}/decision"),
                &head,
                &json!({"decision": "replacement"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
);

backend_test!(
    illegal_transitions_are_conflicts,
    |app: TestApp| async move {
        let customer = app.login("customer3@demo.test").await;
        let head = app.login("head@demo.test").await;
        let id = app.file_claim(&customer, "DEMO-0003").await["id"]
            .as_i64()
            .unwrap();

        let (status, body) = app
            .post(
                &format!("/claims/{id}/transition"),
                &head,
                &json!({"to": "diagnostics"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("info_check"),
            "names the allowed move: {body}"
        );
        // Approval only through a decision.
        let (status, _) = app
            .post(
                &format!("/claims/{id}/transition"),
                &head,
                &json!({"to": "approved"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, body) = app
            .post(
                &format!("/claims/{id}/transition"),
                &head,
                &json!({"to": "bogus"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "to");
        // A stale version is refused.
        let (status, _) = app
            .post(
                &format!("/claims/{id}/transition"),
                &head,
                &json!({"to": "info_check", "version": 99}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, seen) = app.get(&format!("/claims/{id}"), &head).await;
        assert_eq!(seen["status"], "new", "nothing changed");
    }
);

backend_test!(idempotent_filing, |app: TestApp| async move {
    let customer = app.login("customer4@demo.test").await;
    let send = |body: Value, key: &'static str| {
        let request = app
            .request(Method::POST, "/claims", Some(&customer))
            .header("Idempotency-Key", key)
            .json(&body);
        async move { crate::helpers::read(request.send().await.unwrap()).await }
    };
    let body = claim_body("DEMO-0004");
    let (first_status, first) = send(body.clone(), "retry-1").await;
    assert_eq!(first_status, StatusCode::CREATED, "{first}");
    let (second_status, second) = send(body.clone(), "retry-1").await;
    assert_eq!(second_status, StatusCode::CREATED);
    assert_eq!(first, second, "a retry returns the first answer");

    let mut changed = body.clone();
    changed["description"] = json!("something else");
    let (status, problem) = send(changed, "retry-1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");

    let (_, list) = app.get("/claims?limit=200", &customer).await;
    let filed_now = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["description"] == body["description"])
        .count();
    assert_eq!(filed_now, 1, "the retry filed nothing");
});

backend_test!(
    concurrent_decisions_create_one_job_set,
    |app: TestApp| async move {
        let customer = app.login("customer5@demo.test").await;
        let head = app.login("head@demo.test").await;
        let id = app.file_claim(&customer, "DEMO-0005").await["id"]
            .as_i64()
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let request = app
                .request(Method::POST, &format!("/claims/{id}/decision"), Some(&head))
                .json(&json!({"decision": if i % 2 == 0 { "replacement" } else { "repair" }}));
            tasks.push(tokio::spawn(async move {
                request.send().await.unwrap().status()
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let (_, jobs) = app.get(&format!("/jobs?claim_id={id}"), &head).await;
        assert_eq!(jobs["items"].as_array().unwrap().len(), 1);
        let (_, seen) = app.get(&format!("/claims/{id}"), &head).await;
        let decisions = seen["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["to"] == "approved")
            .count();
        assert_eq!(decisions, 1);
    }
);

backend_test!(invalid_fields_are_named, |app: TestApp| async move {
    let customer = app.login("customer1@demo.test").await;
    let mut body = claim_body("DEMO-0001");
    body["lat"] = json!(123.0);
    body["description"] = json!("");
    body["preferred_windows"][0]["end"] = body["preferred_windows"][0]["start"].clone();
    let (status, problem) = app.post("/claims", &customer, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"lat")
            && fields.contains(&"description")
            && fields.contains(&"preferred_windows"),
        "{fields:?}"
    );

    let mut missing = claim_body("DEMO-0001");
    missing.as_object_mut().unwrap().remove("serial_no");
    let (status, problem) = app.post("/claims", &customer, &missing).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "serial_no");

    let mut wrong = claim_body("DEMO-0001");
    wrong["requested_remedy"] = json!("magic");
    let (status, problem) = app.post("/claims", &customer, &wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "requested_remedy");

    let response = app
        .request(Method::POST, "/claims", Some(&customer))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    // Nothing was filed by the failures.
    let (_, list) = app.get("/claims?limit=200", &customer).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "only the demo claim"
    );
});

backend_test!(uploads_are_checked, |app: TestApp| async move {
    let customer = app.login("customer1@demo.test").await;
    let id = app.file_claim(&customer, "DEMO-0001").await["id"]
        .as_i64()
        .unwrap();
    let mut big = vec![0u8; 11 * 1024 * 1024];
    big[..PNG_1X1.len()].copy_from_slice(PNG_1X1);
    let (status, body) = upload(&app, &customer, id, "big.png", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, body) = upload(
        &app,
        &customer,
        id,
        "photo.jpg",
        b"just some text, not a photo".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    // An image is judged by its header before anything decodes it: this one says it has
    // 60,000 x 60,000 pixels (14 GB decoded) in 67 bytes.
    let mut bomb = PNG_1X1.to_vec();
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let (status, body) = upload(&app, &customer, id, "bomb.png", bomb).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "file", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("60000 x 60000"),
        "{body}"
    );
    // Another customer's claim is refused (404) before its body is looked at.
    let other = app.login("customer2@demo.test").await;
    let (status, body) = upload(&app, &other, id, "photo.png", PNG_1X1.to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, seen) = app.get(&format!("/claims/{id}"), &customer).await;
    assert_eq!(
        seen["attachments"],
        json!([]),
        "refused files leave nothing behind"
    );
    // Nothing was kept anywhere in the data dir (the upload folder and its folder for
    // uploads under way included): its only files are the SQLite database's and the mails
    // the delivery worker wrote (no SMTP server is set here).
    let mail_dir = app.data_dir.join("outbox-mail");
    let kept: Vec<String> = walk(&app.data_dir)
        .into_iter()
        .filter(|p| {
            let path = std::path::Path::new(p);
            let name = path.file_name().unwrap().to_string_lossy();
            !name.starts_with("claimroute.db") && !path.starts_with(&mail_dir)
        })
        .collect();
    assert!(kept.is_empty(), "{kept:?}");

    // An accepted image: its name cleaned of tricks (a right-to-left override would show
    // `exe.png` as `gnp.exe`), its size, and a thumbnail.
    let (status, photo) = upload(
        &app,
        &customer,
        id,
        "photo\u{202E}gnp.exe",
        PNG_1X1.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");
    assert_eq!(photo["file_name"], "photognp.exe");
    assert_eq!(
        (photo["width"].clone(), photo["height"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(photo["has_thumbnail"], true);
    let thumbnail = app
        .request(
            Method::GET,
            &format!("/claims/{id}/attachments/{}/thumbnail", photo["id"]),
            Some(&customer),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(thumbnail.status(), StatusCode::OK);
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    let jpeg = thumbnail.bytes().await.unwrap();
    assert_eq!(&jpeg[..3], b"\xff\xd8\xff", "a JPEG");
    let (status, _) = app
        .get(
            &format!("/claims/{id}/attachments/{}/thumbnail", photo["id"]),
            &other,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not another customer's");
    // A PDF has no thumbnail; a name of dots is no name.
    let (status, pdf) = upload(&app, &customer, id, "..", b"%PDF-1.4\n%%EOF\n".to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{pdf}");
    assert_eq!(pdf["file_name"], "upload");
    assert_eq!(pdf["has_thumbnail"], false);
    let (status, _) = app
        .get(
            &format!("/claims/{id}/attachments/{}/thumbnail", pdf["id"]),
            &customer,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

backend_test!(
    absent_manager_passes_new_claims_to_substitute,
    |app: TestApp| async move {
        let head = app.login("head@demo.test").await;
        let m1 = app.user_id("manager1@demo.test").await;
        let m2 = app.user_id("manager2@demo.test").await;
        let (status, body) = app
            .patch(
                &format!("/users/{m1}"),
                &head,
                &json!({"absent": true, "substitute_id": m2}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["absent"], true);

        let customer = app.login("customer6@demo.test").await;
        for _ in 0..3 {
            let claim = app.file_claim(&customer, "DEMO-0006").await;
            assert_eq!(claim["assignee_id"].as_i64().unwrap(), m2);
        }
        // Reassigning to the absent manager lands with his substitute.
        let claim = app.file_claim(&customer, "DEMO-0006").await;
        let (status, moved) = app
            .post(
                &format!("/claims/{}/reassign", claim["id"]),
                &head,
                &json!({"manager_id": m1}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["assignee_id"].as_i64().unwrap(), m2);

        let (status, problem) = app
            .patch(
                &format!("/users/{m1}"),
                &head,
                &json!({"substitute_id": m1}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "substitute_id");
    }
);

backend_test!(listing_filters_and_pages, |app: TestApp| async move {
    let customer = app.login("customer7@demo.test").await;
    let head = app.login("head@demo.test").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            app.file_claim(&customer, "DEMO-0007").await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    // Pages of two walk every claim once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = cursor.as_ref().map_or("/claims?limit=2".to_owned(), |c| {
            format!("/claims?limit=2&cursor={c}")
        });
        let (status, page) = app.get(&path, &customer).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 6, "five new and one demo claim");

    let number = app.get(&format!("/claims/{}", ids[2]), &head).await.1["number"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let (_, found) = app.get(&format!("/claims?q={number}"), &head).await;
    let found: Vec<i64> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found, vec![ids[2]]);

    let (_, by_status) = app.get("/claims?status=rejected", &head).await;
    assert!(by_status["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "rejected"));
    assert!(
        !by_status["items"].as_array().unwrap().is_empty(),
        "the demo has a rejected claim"
    );

    let (status, _) = app.get("/claims?cursor=not-a-cursor", &head).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

backend_test!(
    refund_needs_an_amount_and_the_cash_skill,
    |app: TestApp| async move {
        let customer = app.login("customer3@demo.test").await;
        let head = app.login("head@demo.test").await;
        let id = app.file_claim(&customer, "DEMO-0003").await["id"]
            .as_i64()
            .unwrap();
        let (status, problem) = app
            .post(
                &format!("/claims/{id}/decision"),
                &head,
                &json!({"decision": "refund"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "refund_amount_cents");
        let (status, body) = app
            .post(
                &format!("/claims/{id}/decision"),
                &head,
                &json!({"decision": "refund", "refund_amount_cents": 39900}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let job = &body["jobs"][0];
        assert_eq!(job["kind"], "refund");
        assert_eq!(job["skills"], json!(["cash"]));
        assert_eq!(job["cash_cents"], 39900);
        assert_eq!(job["delivery_load"], 0);
    }
);

backend_test!(
    a_customer_cannot_claim_anothers_unit,
    |app: TestApp| async move {
        let customer = app.login("customer2@demo.test").await;
        let (status, problem) = app
            .post("/claims", &customer, &claim_body("DEMO-0001"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "serial_no");
        // An unregistered serial is hers to report; the manager sees it flagged.
        let claim = app.file_claim(&customer, "NOT-REGISTERED-1").await;
        assert_eq!(claim["warranty"]["status"], "unknown_serial");
        assert!(claim["sku"].is_null());
    }
);

backend_test!(
    heads_manage_their_department_only,
    |app: TestApp| async move {
        let head = app.login("head@demo.test").await;
        let admin_id = app.user_id("admin@demo.test").await;
        let customer_id = app.user_id("customer1@demo.test").await;
        let m1 = app.user_id("manager1@demo.test").await;
        for other in [admin_id, customer_id] {
            let (status, _) = app
                .patch(&format!("/users/{other}"), &head, &json!({"active": false}))
                .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "outside the head's department"
            );
        }
        app.login("admin@demo.test").await;
        app.login("customer1@demo.test").await;
        let (status, body) = app
            .patch(&format!("/users/{m1}"), &head, &json!({"active": false}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], false);
        let response = app
            .login_full("manager1@demo.test", crate::helpers::DEMO_PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
);

backend_test!(
    comments_are_stored_with_their_author,
    |app: TestApp| async move {
        let customer = app.login("customer2@demo.test").await;
        let customer_id = app.user_id("customer2@demo.test").await;
        let claim = app.file_claim(&customer, "DEMO-0002").await;
        let id = claim["id"].as_i64().unwrap();
        let manager = claim["assignee_id"].as_i64().unwrap();
        let admin = app.login("admin@demo.test").await;
        let (_, users) = app.get("/users?role=manager", &admin).await;
        let email = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == manager)
            .unwrap()["email"]
            .as_str()
            .unwrap()
            .to_owned();
        let manager_token = app.login(&email).await;

        let (status, body) = app
            .post(
                &format!("/claims/{id}/comments"),
                &manager_token,
                &json!({"text": "  Please send a photo of the label.  "}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app
            .post(
                &format!("/claims/{id}/comments"),
                &customer,
                &json!({"text": "Sent, see the attachment."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app
            .post(
                &format!("/claims/{id}/comments"),
                &customer,
                &json!({"text": "   "}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "text");

        // Both read the conversation in order, each line with its author, trimmed.
        for token in [&customer, &manager_token] {
            let (_, seen) = app.get(&format!("/claims/{id}"), token).await;
            let comments: Vec<(i64, String)> = seen["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "comment")
                .map(|e| {
                    (
                        e["actor_id"].as_i64().unwrap(),
                        e["note"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            assert_eq!(
                comments,
                vec![
                    (manager, "Please send a photo of the label.".to_owned()),
                    (customer_id, "Sent, see the attachment.".to_owned()),
                ]
            );
        }
    }
);
