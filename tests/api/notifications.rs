//! Everyone hears about their claims: mails over a real SMTP conversation in the
//! recipient's language, webhooks signed and retried until received, each event delivered
//! once by any number of replicas, overdue claims escalated, the public tracking link.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use api::config::Settings;

use crate::backend_test;
use crate::helpers::{read, TestApp};
use crate::sinks::{Receiver, SmtpSink};

/// The e-mail of the user with this id (admin's view).
async fn email_of(app: &TestApp, id: &Value) -> String {
    let admin = app.login("admin@demo.test").await;
    let (_, users) = app.get("/users?limit=200", &admin).await;
    users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == *id)
        .unwrap()["email"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Writes `count` `plan.published` events straight into the outbox, as a published plan
/// would, without planning a day.
async fn publish_events(app: &TestApp, count: usize) {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = api::db::connect_pool(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        for n in 0..count {
            api::db::outbox::push(&mut conn, "plan.published", None, json!({"n": n})).unwrap();
        }
    })
    .await
    .unwrap();
}

backend_test!(
    mails_reach_customers_and_managers_in_their_language,
    backend
        | backend
        | async move {
            let smtp = SmtpSink::start().await;
            let url = smtp.url.clone();
            let app = TestApp::start(backend, |s| s.notify.smtp_url = Some(url)).await;
            let head = app.login("head@demo.test").await;

            // An English customer files: she and her manager hear of it.
            let customer = app.login("customer1@demo.test").await;
            let claim = app.file_claim(&customer, "DEMO-0001").await;
            let number = claim["number"].as_str().unwrap().to_owned();
            let tracking = claim["tracking_url"].as_str().unwrap().to_owned();
            assert!(tracking.contains("/track/"), "{claim}");
            let mail = smtp.wait_for("customer1@demo.test", &number).await;
            assert!(
                mail.subject().starts_with("We received your claim"),
                "{}",
                mail.subject()
            );
            assert!(mail.body().contains(&tracking), "{}", mail.body());
            assert!(
                mail.body().contains("Washing machine W700"),
                "{}",
                mail.body()
            );
            assert_eq!(mail.header("Content-Language").as_deref(), Some("en"));
            assert!(mail.header("X-Claimroute-Event").is_some());
            let manager = email_of(&app, &claim["assignee_id"]).await;
            let mail = smtp
                .wait_for(&manager, &format!("New claim {number}"))
                .await;
            assert!(mail.body().contains(&number));

            // The manager's question reaches her.
            let id = claim["id"].as_i64().unwrap();
            let question = "Please send a photo of the type plate.";
            let (status, body) = app
                .post(
                    &format!("/claims/{id}/transition"),
                    &head,
                    &json!({"to": "info_check", "note": question}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let mail = smtp
                .wait_for("customer1@demo.test", "more information")
                .await;
            assert!(mail.body().contains(question), "{}", mail.body());

            // A Russian customer reads her rejection in Russian, with its reason's paragraph.
            let customer = app.login("customer2@demo.test").await;
            let claim = app.file_claim(&customer, "DEMO-0002").await;
            let number = claim["number"].as_str().unwrap().to_owned();
            let id = claim["id"].as_i64().unwrap();
            let (status, body) = app
                .post(
                    &format!("/claims/{id}/decision"),
                    &head,
                    &json!({"decision": "reject", "reason_code": "misuse",
                        "reason": "Следы вскрытия корпуса."}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let mail = smtp
                .wait_for("customer2@demo.test", "не может быть принята")
                .await;
            assert!(mail.subject().contains(&number));
            assert_eq!(mail.header("Content-Language").as_deref(), Some("ru"));
            let text = mail.body();
            assert!(text.contains("нарушением инструкции"), "{text}");
            assert!(text.contains("Следы вскрытия корпуса."), "{text}");
            assert!(
                text.contains(claim["tracking_url"].as_str().unwrap()),
                "{text}"
            );

            // The claim lists what was sent about it, to whom and how it stands.
            let (status, sent) = app.get(&format!("/claims/{id}/notifications"), &head).await;
            assert_eq!(status, StatusCode::OK, "{sent}");
            let rejected = sent["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["template"] == "decision_rejected")
                .unwrap()
                .clone();
            assert_eq!(rejected["channel"], "email");
            assert_eq!(rejected["to"], "customer2@demo.test");
            assert_eq!(rejected["locale"], "ru");
            assert_eq!(rejected["state"], "sent", "{rejected}");
            assert!(rejected["attempts"].as_i64().unwrap() >= 1);
            // Customers do not see the staff's view of deliveries.
            let (status, _) = app
                .get(&format!("/claims/{id}/notifications"), &customer)
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
);

backend_test!(
    webhooks_are_signed_retried_and_listed,
    |app: TestApp| async move {
        let receiver = Receiver::start().await;
        receiver.fail_next(2);
        let admin = app.login("admin@demo.test").await;
        for (body, field) in [
            (
                json!({"url": "ftp://example.test/x", "events": ["claim.filed"]}),
                "url",
            ),
            (
                json!({"url": receiver.url, "events": ["claim.nope"]}),
                "events[0]",
            ),
        ] {
            let (status, problem) = app.post("/webhooks", &admin, &body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert_eq!(problem["errors"][0]["field"], field);
        }
        let (status, hook) = app
            .post(
                "/webhooks",
                &admin,
                &json!({"url": receiver.url, "events": ["claim.filed"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        let secret = hook["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        let hook_id = hook["id"].as_i64().unwrap();
        let (_, hooks) = app.get("/webhooks", &admin).await;
        assert!(hooks["items"][0]["secret"].is_null(), "shown once: {hooks}");
        let customer = app.login("customer3@demo.test").await;
        let (status, _) = app.get("/webhooks", &customer).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let claim = app.file_claim(&customer, "DEMO-0003").await;
        let number = claim["number"].clone();
        // Two 500s, then the call gets through: three calls with one id.
        let calls = receiver
            .wait_until("three calls about the claim", |calls| {
                calls
                    .iter()
                    .filter(|c| c.json()["data"]["number"] == number)
                    .count()
                    >= 3
            })
            .await;
        let ours: Vec<_> = calls
            .iter()
            .filter(|c| c.json()["data"]["number"] == number)
            .collect();
        assert_eq!(ours.len(), 3, "no call after the one that got through");
        assert!(
            ours.iter().all(|c| c.id == ours[0].id),
            "one id for every attempt"
        );
        assert!(ours[0].id.starts_with("msg_"));
        for call in &ours {
            assert!(call.verify(&secret), "signature of {call:?}");
            assert!(!call.verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
            assert_eq!(call.json()["type"], "claim.filed");
        }
        // Only the events it subscribed to.
        assert!(calls.iter().all(|c| c.json()["type"] == "claim.filed"));

        let deadline = Instant::now() + Duration::from_secs(10);
        let delivery = loop {
            let (status, page) = app
                .get(&format!("/webhooks/{hook_id}/deliveries"), &admin)
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let item = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| {
                    d["event_id"].as_i64().map(|id| format!("msg_{id}")) == Some(ours[0].id.clone())
                })
                .cloned();
            if let Some(item) = item.filter(|d| d["state"] == "sent") {
                break item;
            }
            assert!(Instant::now() < deadline, "{page}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(delivery["attempts"], 3, "{delivery}");
        assert_eq!(delivery["channel"], "webhook");

        // Removed, it hears nothing more.
        let response = app
            .request(
                Method::DELETE,
                &format!("/webhooks/{hook_id}"),
                Some(&admin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let before = receiver.calls().len();
        app.file_claim(&customer, "DEMO-0003").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(receiver.calls().len(), before);
    }
);

backend_test!(
    replicas_deliver_each_event_once,
    |app: TestApp| async move {
        let receiver = Receiver::start().await;
        let replica = app.spawn_replica().await;
        let admin = app.login("admin@demo.test").await;
        app.subscribe_webhook(&admin, &receiver.url, &["plan.published"])
            .await;
        // 200 events written at once, as a busy day would.
        publish_events(&app, 200).await;
        receiver
            .wait_until("200 events", |calls| {
                calls
                    .iter()
                    .filter(|c| c.json()["data"]["n"].is_i64())
                    .count()
                    >= 200
            })
            .await;
        // Give a second delivery of anything time to show.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let calls: Vec<_> = receiver
            .calls()
            .into_iter()
            .filter(|c| c.json()["data"]["n"].is_i64())
            .collect();
        assert!(calls.len() >= 200);
        let ids: std::collections::BTreeSet<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        let ns: std::collections::BTreeSet<i64> = calls
            .iter()
            .map(|c| c.json()["data"]["n"].as_i64().unwrap())
            .collect();
        assert_eq!(calls.len(), 200, "each event delivered once");
        assert_eq!(ids.len(), 200, "one id per event");
        assert_eq!(ns.len(), 200);
        drop(replica);
    }
);

backend_test!(
    an_attempt_that_outlived_its_lease_does_not_undo_a_newer_one,
    backend
        | backend
        | async move {
            // The first call is answered late, and refused: by then its lease has run out
            // and the other replica has taken the delivery again and sent it. Held 3 s, ten
            // leases and thirty polls of the other replica, so that the race is met even on
            // a loaded machine.
            let receiver = Receiver::start().await;
            receiver.fail_next(1);
            receiver.answer_late(1, Duration::from_secs(3));
            let short_lease = |s: &mut Settings| s.notify.lease = Duration::from_millis(300);
            let app = TestApp::start(backend, short_lease).await;
            let replica = app.spawn_replica_with(short_lease).await;
            let admin = app.login("admin@demo.test").await;
            let hook = app
                .subscribe_webhook(&admin, &receiver.url, &["plan.published"])
                .await;
            publish_events(&app, 1).await;
            // Both attempts' outcomes, counted by whichever replica made them.
            let attempts = |outcome: &'static str| {
                let (app, replica, admin) = (&app, &replica, &admin);
                async move {
                    let mut total = 0.0;
                    for process in [app, replica] {
                        let samples = crate::metrics::scrape(process, admin).await;
                        total += crate::metrics::value(
                            &samples,
                            "claimroute_delivery_attempts_total",
                            &[("channel", "webhook"), ("outcome", outcome)],
                        )
                        .unwrap_or(0.0);
                    }
                    total
                }
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while attempts("sent").await + attempts("superseded").await < 2.0 {
                assert!(
                    Instant::now() < deadline,
                    "both attempts' outcomes: {:?}",
                    receiver.calls()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // A delivery the late refusal had put back to pending would be sent again within
            // the backoff (200 ms) and a poll (100 ms).
            tokio::time::sleep(Duration::from_millis(1000)).await;
            let calls = receiver.calls();
            assert_eq!(calls.len(), 2, "{calls:?}");
            assert_eq!(calls[0].id, calls[1].id);
            // The late refusal is counted as superseded: not a retry, not a message given up.
            assert_eq!(attempts("sent").await, 1.0);
            assert_eq!(attempts("superseded").await, 1.0);
            assert_eq!(attempts("retry").await, 0.0);
            assert_eq!(attempts("dead").await, 0.0);
            let (status, page) = app
                .get(&format!("/webhooks/{}/deliveries", hook["id"]), &admin)
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let items = page["items"].as_array().unwrap();
            assert_eq!(items.len(), 1, "{page}");
            assert_eq!(items[0]["state"], "sent", "{page}");
            assert_eq!(items[0]["attempts"], 2, "{page}");
            drop(replica);
        }
);

backend_test!(
    a_slow_receiver_does_not_get_a_batch_sent_twice,
    backend
        | backend
        | async move {
            // Eight deliveries taken in one batch under one lease of 1.5 s, each call
            // answered after 0.5 s: the batch takes 4 s to send. When the lease runs out the
            // other replica takes the batch's tail; without a lease renewed per delivery both
            // would send it.
            const EVENTS: usize = 8;
            let receiver = Receiver::start().await;
            receiver.answer_late(EVENTS, Duration::from_millis(500));
            let lease = |s: &mut Settings| s.notify.lease = Duration::from_millis(1500);
            let app = TestApp::start(backend, lease).await;
            let replica = app.spawn_replica_with(lease).await;
            let admin = app.login("admin@demo.test").await;
            let hook = app
                .subscribe_webhook(&admin, &receiver.url, &["plan.published"])
                .await;
            publish_events(&app, EVENTS).await;
            let deliveries = format!("/webhooks/{}/deliveries", hook["id"]);
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let (status, page) = app.get(&deliveries, &admin).await;
                assert_eq!(status, StatusCode::OK, "{page}");
                let items = page["items"].as_array().unwrap();
                if items.len() == EVENTS && items.iter().all(|d| d["state"] == "sent") {
                    break;
                }
                assert!(Instant::now() < deadline, "{page}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // A second sending of the tail would arrive within a call's delay.
            tokio::time::sleep(Duration::from_millis(1000)).await;
            let calls = receiver.calls();
            let mut ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), EVENTS, "{calls:?}");
            assert_eq!(calls.len(), EVENTS, "sent twice: {calls:?}");
            // Each was sent once, so each counts one attempt, though the other replica took
            // the batch's tail before this one reached it (a take is not an attempt).
            let (_, page) = app.get(&deliveries, &admin).await;
            let items = page["items"].as_array().unwrap();
            assert!(items.iter().all(|d| d["attempts"] == 1), "{page}");
            drop(replica);
        }
);

backend_test!(
    overdue_claims_are_escalated_once_per_stage,
    backend
        | backend
        | async move {
            let smtp = SmtpSink::start().await;
            let url = smtp.url.clone();
            let app = TestApp::start(backend, |s| {
                s.notify.smtp_url = Some(url);
                // A new claim is due within seconds; the sweep runs often.
                s.sla = domain::sla::SlaPolicy::parse("new=0.001").unwrap();
                s.sla_sweep = Duration::from_millis(300);
            })
            .await;
            let customer = app.login("customer4@demo.test").await;
            let claim = app.file_claim(&customer, "DEMO-0004").await;
            let id = claim["id"].as_i64().unwrap();
            let head = app.login("head@demo.test").await;
            let deadline = Instant::now() + Duration::from_secs(30);
            let seen = loop {
                let (_, seen) = app.get(&format!("/claims/{id}"), &head).await;
                if seen["escalated_at"].is_string() {
                    break seen;
                }
                assert!(Instant::now() < deadline, "{seen}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            assert_eq!(seen["sla_breached"], true);
            // More sweeps do not escalate the same stage again.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let (_, seen) = app.get(&format!("/claims/{id}"), &head).await;
            let escalations = seen["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "escalated")
                .count();
            assert_eq!(escalations, 1, "{seen}");

            // The head's list shows it, most overdue first.
            let (status, overdue) = app.get("/claims?overdue=true", &head).await;
            assert_eq!(status, StatusCode::OK, "{overdue}");
            let items = overdue["items"].as_array().unwrap();
            assert!(items.iter().any(|c| c["id"] == id), "{overdue}");
            let dues: Vec<&str> = items
                .iter()
                .map(|c| c["stage_due_at"].as_str().unwrap())
                .collect();
            let mut sorted = dues.clone();
            sorted.sort();
            assert_eq!(dues, sorted, "most overdue first");
            // The assignee and the head are told.
            let number = claim["number"].as_str().unwrap();
            smtp.wait_for("head@demo.test", &format!("Overdue: claim {number}"))
                .await;
            let manager = email_of(&app, &claim["assignee_id"]).await;
            smtp.wait_for(&manager, &format!("Overdue: claim {number}"))
                .await;

            // Moved on to a stage with time left, it leaves the list.
            let (status, body) = app
                .post(
                    &format!("/claims/{id}/transition"),
                    &head,
                    &json!({"to": "info_check"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (_, overdue) = app.get("/claims?overdue=true", &head).await;
            assert!(
                !overdue["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["id"] == id),
                "{overdue}"
            );
        }
);

backend_test!(
    the_tracking_link_shows_the_claim_and_takes_a_rating,
    backend
        | backend
        | async move {
            let smtp = SmtpSink::start().await;
            let url = smtp.url.clone();
            let app = TestApp::start(backend, |s| s.notify.smtp_url = Some(url)).await;
            let customer = app.login("customer5@demo.test").await;
            let claim = app.file_claim(&customer, "DEMO-0005").await;
            let id = claim["id"].as_i64().unwrap();
            let path = crate::plans::tracking_path(&claim);
            let public = |path: String| {
                let app = &app;
                async move { read(app.request(Method::GET, &path, None).send().await.unwrap()).await }
            };
            let (status, tracked) = public(path.clone()).await;
            assert_eq!(status, StatusCode::OK, "{tracked}");
            assert_eq!(tracked["number"], claim["number"]);
            assert_eq!(tracked["status"], "new");
            assert_eq!(tracked["history"][0]["kind"], "filed");
            assert_eq!(tracked["can_rate"], false);
            // Nothing internal: no ids of people or records.
            let text = tracked.to_string();
            for internal in ["assignee", "actor", "customer_id", "\"id\"", "filed_by"] {
                assert!(!text.contains(internal), "{internal} in {text}");
            }
            let (status, _) = public("/track/not-a-real-token-at-all-0000000000".to_owned()).await;
            assert_eq!(status, StatusCode::NOT_FOUND);

            // Rated once it ended; a poor rating reaches the head.
            let feedback = format!("{path}/feedback");
            let rate = |body: Value| {
                let (app, feedback) = (&app, feedback.clone());
                async move {
                    read(
                        app.request(Method::POST, &feedback, None)
                            .json(&body)
                            .send()
                            .await
                            .unwrap(),
                    )
                    .await
                }
            };
            let (status, _) = rate(json!({"rating": 5})).await;
            assert_eq!(status, StatusCode::CONFLICT, "not before it ended");
            let head = app.login("head@demo.test").await;
            let (status, body) = app
                .post(
                    &format!("/claims/{id}/decision"),
                    &head,
                    &json!({"decision": "reject", "reason_code": "not_covered",
                        "reason": "Consumable part."}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, problem) = rate(json!({"rating": 6})).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert_eq!(problem["errors"][0]["field"], "rating");
            let (status, _) = rate(json!({"rating": 2, "comment": "Too slow."})).await;
            assert_eq!(status, StatusCode::CREATED);
            let (status, _) = rate(json!({"rating": 4})).await;
            assert_eq!(status, StatusCode::CONFLICT, "once");
            let (_, tracked) = public(path.clone()).await;
            assert_eq!(tracked["rating"], 2);
            assert_eq!(tracked["can_rate"], false);
            let last_status = tracked["history"]
                .as_array()
                .unwrap()
                .iter()
                .rfind(|e| e["kind"] == "status")
                .unwrap()
                .clone();
            assert_eq!(last_status["status"], "rejected");
            assert_eq!(last_status["note"], "Consumable part.");
            let number = claim["number"].as_str().unwrap();
            let mail = smtp
                .wait_for("head@demo.test", &format!("{number} was rated 2/5"))
                .await;
            assert!(mail.body().contains("Too slow."));

            // Public, so limited: a burst from one address is slowed down.
            let mut limited = None;
            for _ in 0..100 {
                let response = app.request(Method::GET, &path, None).send().await.unwrap();
                if response.status() == StatusCode::TOO_MANY_REQUESTS {
                    limited = Some(response);
                    break;
                }
            }
            let limited = limited.expect("a burst is limited");
            assert!(limited.headers().get("retry-after").is_some());
        }
);

backend_test!(
    an_absent_managers_claims_go_to_his_substitute,
    backend
        | backend
        | async move {
            let smtp = SmtpSink::start().await;
            let url = smtp.url.clone();
            let app = TestApp::start(backend, |s| s.notify.smtp_url = Some(url)).await;
            let head = app.login("head@demo.test").await;
            let admin = app.login("admin@demo.test").await;
            let m1 = app.user_id("manager1@demo.test").await;
            let m2 = app.user_id("manager2@demo.test").await;
            let open_of = |manager: i64| {
                let (app, head) = (&app, head.clone());
                async move {
                    app.open_claims_of(manager, &head)
                        .await
                        .iter()
                        .map(|c| {
                            (
                                c["id"].as_i64().unwrap(),
                                c["number"].as_str().unwrap().to_owned(),
                            )
                        })
                        .collect::<Vec<_>>()
                }
            };
            let his = open_of(m1).await;
            assert!(!his.is_empty(), "the demo gives manager1 open claims");
            let (status, body) = app
                .patch(
                    &format!("/users/{m1}"),
                    &admin,
                    &json!({"absent": true, "substitute_id": m2}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(
                open_of(m1).await.is_empty(),
                "none left with the absent manager"
            );
            let now_m2: Vec<i64> = open_of(m2).await.into_iter().map(|(id, _)| id).collect();
            for (id, number) in &his {
                assert!(now_m2.contains(id), "{number} moved to the substitute");
                let (_, seen) = app.get(&format!("/claims/{id}"), &head).await;
                let note = seen["history"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .rfind(|e| e["kind"] == "assignment")
                    .unwrap()["note"]
                    .clone();
                assert!(note.as_str().unwrap().contains("away"), "{note}");
                smtp.wait_for(
                    "manager2@demo.test",
                    &format!("Claim {number} is now yours"),
                )
                .await;
                smtp.wait_for("manager1@demo.test", &format!("Claim {number} handed over"))
                    .await;
            }
        }
);
