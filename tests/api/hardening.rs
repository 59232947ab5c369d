//! Tokens that stop working when they should, data that does not pile up, lists that come
//! in pages.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::auth::{refresh, sign_in};
use crate::backend_test;
use crate::helpers::TestApp;

const ADMIN: &str = "admin@demo.test";

/// Asks with `token` until it is refused (401 naming the revocation) or `within` passes;
/// returns how long it took.
async fn refused_within(app: &TestApp, path: &str, token: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = app.get(path, token).await;
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("revoked"),
                "{body}"
            );
            return started.elapsed();
        }
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            started.elapsed() < within,
            "{path} still answered the revoked token after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

backend_test!(
    a_deactivated_users_held_token_is_refused_on_every_replica,
    |app: TestApp| async move {
        let replica = app.spawn_replica().await;
        let courier = sign_in(&app, "courier2@demo.test").await;
        let token = courier["access_token"].as_str().unwrap().to_owned();
        let user_id = courier["user_id"].as_i64().unwrap();
        // The token works on both processes before.
        for server in [&app, &replica] {
            let (status, body) = server.get("/me/route", &token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let admin = app.login(ADMIN).await;
        let (status, body) = app
            .patch(
                &format!("/users/{user_id}"),
                &admin,
                &json!({"active": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The process that made the change refuses it on the next request; the other one
        // within its next read of the changes (once a second).
        let here = refused_within(&app, "/me/route", &token, Duration::ZERO).await;
        assert!(here < Duration::from_millis(500), "{here:?}");
        refused_within(&replica, "/me/route", &token, Duration::from_secs(3)).await;
        let refresh_token = courier["refresh_token"].as_str().unwrap();
        assert_eq!(
            refresh(&app, refresh_token).await.0,
            StatusCode::UNAUTHORIZED
        );

        // Reactivated, he signs in afresh and works; the old token stays dead.
        let (status, body) = app
            .patch(
                &format!("/users/{user_id}"),
                &admin,
                &json!({"active": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let fresh = sign_in(&app, "courier2@demo.test").await;
        let fresh = fresh["access_token"].as_str().unwrap();
        for server in [&app, &replica] {
            let (status, body) = server.get("/me/route", fresh).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, _) = server.get("/me/route", &token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
);

backend_test!(
    a_role_change_takes_effect_on_the_next_request,
    |app: TestApp| async move {
        let admin = app.login(ADMIN).await;
        let manager = sign_in(&app, "manager2@demo.test").await;
        let token = manager["access_token"].as_str().unwrap().to_owned();
        let user_id = manager["user_id"].as_i64().unwrap();
        let (status, _) = app.get("/claims", &token).await;
        assert_eq!(status, StatusCode::OK);

        // Only staff roles, never one's own.
        let admin_id = app.user_id(ADMIN).await;
        let (status, body) = app
            .patch(
                &format!("/users/{admin_id}"),
                &admin,
                &json!({"role": "dispatcher"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "role", "{body}");
        let (status, body) = app
            .patch(
                &format!("/users/{user_id}"),
                &admin,
                &json!({"role": "customer"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // A head may not change roles: that is the administrator's.
        let head = app.login("head@demo.test").await;
        let (status, _) = app
            .patch(
                &format!("/users/{user_id}"),
                &head,
                &json!({"role": "dispatcher"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (status, body) = app
            .patch(
                &format!("/users/{user_id}"),
                &admin,
                &json!({"role": "dispatcher"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["role"], "dispatcher", "{body}");
        refused_within(&app, "/claims", &token, Duration::ZERO).await;
        // His open claims went to the managers still on duty (closed ones keep their name).
        let (_, claims) = app.get("/claims?limit=200", &head).await;
        let closed = ["closed", "rejected", "withdrawn"];
        let still_his: Vec<&Value> = claims["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["assignee_id"] == user_id)
            .filter(|c| !closed.contains(&c["status"].as_str().unwrap()))
            .collect();
        assert!(still_his.is_empty(), "{still_his:?}");
        // Signed in again he works as a dispatcher, not as a manager.
        let fresh = sign_in(&app, "manager2@demo.test").await;
        assert_eq!(fresh["role"], "dispatcher", "{fresh}");
        let fresh = fresh["access_token"].as_str().unwrap();
        let (status, _) = app.get("/depots", fresh).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.get("/claims", fresh).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);

backend_test!(
    logging_out_everywhere_ends_every_session,
    |app: TestApp| async move {
        let phone = sign_in(&app, "customer1@demo.test").await;
        let laptop = sign_in(&app, "customer1@demo.test").await;
        let other = sign_in(&app, "customer2@demo.test").await;
        let token = |s: &Value| s["access_token"].as_str().unwrap().to_owned();
        let response = app
            .request(Method::POST, "/auth/logout-all", Some(&token(&laptop)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        for session in [&phone, &laptop] {
            refused_within(&app, "/claims", &token(session), Duration::ZERO).await;
            let refresh_token = session["refresh_token"].as_str().unwrap();
            assert_eq!(
                refresh(&app, refresh_token).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        // Another account is untouched; a new sign-in works.
        let (status, _) = app.get("/claims", &token(&other)).await;
        assert_eq!(status, StatusCode::OK);
        let again = sign_in(&app, "customer1@demo.test").await;
        let (status, _) = app.get("/claims", &token(&again)).await;
        assert_eq!(status, StatusCode::OK);
        // Without a token there is nobody to sign out.
        let response = app
            .request(Method::POST, "/auth/logout-all", None)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
);

/// Counts the rows of a table in the test's own database.
fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let pool = api::db::connect_pool(&app.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n
}

backend_test!(
    the_retention_sweep_prunes_only_what_is_past_its_time,
    backend
        | backend
        | async move {
            use api::db::schema::{courier_positions, idempotency_keys, outbox, refresh_tokens};
            let app = TestApp::start(backend, |s| {
                s.retention.every = Duration::from_millis(300);
            })
            .await;
            let courier = app.login("courier1@demo.test").await;
            let points: Vec<Value> = (0..4)
                .map(|i| json!({"at": Utc::now(), "lat": 52.5 + f64::from(i) / 100.0, "lon": 13.4}))
                .collect();
            let (status, body) = app
                .post("/me/positions", &courier, &json!({"points": points}))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            let customer = app.login("customer1@demo.test").await;
            for key in ["old-key", "new-key"] {
                let response = app
                    .request(Method::POST, "/claims", Some(&customer))
                    .header("Idempotency-Key", key)
                    .json(&crate::helpers::claim_body(&format!("RETAINED-{key}")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
            }

            // Age some of each kind, straight in the database, as time would.
            let url = app.database_url.clone();
            let (positions_before, events_before) = tokio::task::spawn_blocking(move || {
                let pool = api::db::connect_pool(&url, 1).unwrap();
                let mut conn = pool.get().unwrap();
                let now = Utc::now().naive_utc();
                let ids: Vec<i64> = courier_positions::table
                    .select(courier_positions::id)
                    .order(courier_positions::id)
                    .load(&mut *conn)
                    .unwrap();
                diesel::update(
                    courier_positions::table.filter(courier_positions::id.eq_any(&ids[..2])),
                )
                .set(courier_positions::received_at.eq(now - chrono::Duration::days(31)))
                .execute(&mut *conn)
                .unwrap();
                diesel::update(idempotency_keys::table.filter(idempotency_keys::key.eq("old-key")))
                    .set(idempotency_keys::created_at.eq(now - chrono::Duration::hours(49)))
                    .execute(&mut *conn)
                    .unwrap();
                let token: i64 = refresh_tokens::table
                    .select(refresh_tokens::id)
                    .first(&mut *conn)
                    .unwrap();
                diesel::update(refresh_tokens::table.find(token))
                    .set(refresh_tokens::expires_at.eq(now - chrono::Duration::minutes(1)))
                    .execute(&mut *conn)
                    .unwrap();
                // Two notifications fanned out 91 days ago: one whose deliveries are over, one
                // with a delivery still to make (kept, whatever its age).
                let old = now - chrono::Duration::days(91);
                for event in ["test.done", "test.pending"] {
                    api::db::outbox::push(&mut conn, event, None, json!({})).unwrap();
                }
                diesel::update(outbox::table.filter(outbox::event.like("test.%")))
                    .set(outbox::delivered_at.eq(old))
                    .execute(&mut *conn)
                    .unwrap();
                for (event, state) in [("test.done", "sent"), ("test.pending", "pending")] {
                    let outbox_id: i64 = outbox::table
                        .filter(outbox::event.eq(event))
                        .select(outbox::id)
                        .first(&mut *conn)
                        .unwrap();
                    api::db::deliveries::insert(
                        &mut conn,
                        &api::db::deliveries::NewDelivery {
                            outbox_id,
                            event: event.to_owned(),
                            claim_id: None,
                            channel: api::db::deliveries::WEBHOOK,
                            recipient: "http://127.0.0.1:9/".to_owned(),
                            user_id: None,
                            webhook_id: None,
                            template: None,
                            locale: None,
                            subject: None,
                            body: "{}".to_owned(),
                            state: if state == "sent" { "sent" } else { "pending" },
                            next_attempt_at: now + chrono::Duration::days(1),
                            created_at: old,
                        },
                    )
                    .unwrap();
                }
                let events: i64 = outbox::table.count().get_result(&mut *conn).unwrap();
                (ids.len() as i64, events)
            })
            .await
            .unwrap();
            assert_eq!(positions_before, 4);

            let started = Instant::now();
            loop {
                let app_ref = &app;
                let positions = count(app_ref, "courier_positions");
                let keys = count(app_ref, "idempotency_keys WHERE key LIKE '%-key'");
                let events = count(app_ref, "outbox");
                if positions == 2 && keys == 1 && events == events_before - 1 {
                    break;
                }
                assert!(
                started.elapsed() < Duration::from_secs(10),
                "not pruned: positions {positions}, keys {keys}, events {events} of {events_before}"
            );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // What was pruned is exactly what was past its time.
            assert_eq!(count(&app, "idempotency_keys WHERE key = 'new-key'"), 1);
            assert_eq!(count(&app, "outbox WHERE event = 'test.done'"), 0);
            assert_eq!(count(&app, "outbox WHERE event = 'test.pending'"), 1);
            assert_eq!(count(&app, "deliveries WHERE event = 'test.done'"), 0);
            assert_eq!(count(&app, "deliveries WHERE event = 'test.pending'"), 1);
            // The expired refresh token is gone, the live ones stay.
            let url = app.database_url.clone();
            let (expired, live) = tokio::task::spawn_blocking(move || {
                let pool = api::db::connect_pool(&url, 1).unwrap();
                let mut conn = pool.get().unwrap();
                let now = Utc::now().naive_utc();
                let expired: i64 = refresh_tokens::table
                    .filter(refresh_tokens::expires_at.lt(now))
                    .count()
                    .get_result(&mut *conn)
                    .unwrap();
                let live: i64 = refresh_tokens::table
                    .count()
                    .get_result(&mut *conn)
                    .unwrap();
                (expired, live)
            })
            .await
            .unwrap();
            assert_eq!((expired, live > 0), (0, true));
            // The courier's live position is his newest, untouched by the sweep.
            let dispatcher = app.login("dispatcher@demo.test").await;
            let (status, live) = app.get("/couriers/positions", &dispatcher).await;
            assert_eq!(status, StatusCode::OK, "{live}");
            assert!(!live["items"].as_array().unwrap().is_empty(), "{live}");
        }
);

backend_test!(live_positions_come_in_pages, |app: TestApp| async move {
    let dispatcher = app.login("dispatcher@demo.test").await;
    // The demo couriers report where they are.
    let mut reported = 0;
    for n in 1..=4 {
        let token = app.login(&format!("courier{n}@demo.test")).await;
        let (status, body) = app
            .post(
                "/me/positions",
                &token,
                &json!({"points": [{"at": Utc::now(), "lat": 52.5, "lon": 13.4}]}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        reported += 1;
    }
    assert!(reported >= 3, "{reported} couriers reported");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/couriers/positions?limit=2&cursor={c}"),
            None => "/couriers/positions?limit=2".to_owned(),
        };
        let (status, page) = app.get(&path, &dispatcher).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().map(|p| p["courier_id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, seen, "pages overlap or are out of order");
    assert!(seen.len() >= reported, "{seen:?}");
    // A cursor that is not one, and a limit out of range, are named.
    for bad in ["cursor=nonsense", "limit=0", "limit=100000"] {
        let (status, body) = app
            .get(&format!("/couriers/positions?{bad}"), &dispatcher)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
});

backend_test!(
    concurrent_writes_that_fail_leave_the_others_committed,
    |app: TestApp| async move {
        // On SQLite concurrent writers share commits: a writer whose work fails must undo
        // only its own, and every writer that was told yes must find its work stored.
        let head = app.login("head@demo.test").await;
        let customer = app.login("customer5@demo.test").await;
        let claim = app.file_claim(&customer, "DEMO-0005").await;
        let id = claim["id"].as_i64().unwrap();
        let requests = (0..48).map(|n| {
            let (app, head) = (&app, head.clone());
            async move {
                if n % 3 == 0 {
                    // Illegal from `new`: refused inside its transaction.
                    let (status, _) = app
                        .post(
                            &format!("/claims/{id}/transition"),
                            &head,
                            &json!({"to": "closed"}),
                        )
                        .await;
                    (n, status)
                } else {
                    let (status, _) = app
                        .post(
                            &format!("/claims/{id}/comments"),
                            &head,
                            &json!({"text": format!("note {n}")}),
                        )
                        .await;
                    (n, status)
                }
            }
        });
        let answers = futures_util::future::join_all(requests).await;
        let mut told_yes = Vec::new();
        for (n, status) in answers {
            if n % 3 == 0 {
                assert_eq!(status, StatusCode::CONFLICT, "transition {n}");
            } else {
                assert!(status.is_success(), "comment {n}: {status}");
                told_yes.push(format!("note {n}"));
            }
        }
        let (_, seen) = app.get(&format!("/claims/{id}"), &head).await;
        let mut stored: Vec<String> = seen["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "comment")
            .map(|e| e["note"].as_str().unwrap().to_owned())
            .collect();
        stored.sort();
        told_yes.sort();
        assert_eq!(stored, told_yes);
        assert_eq!(seen["status"], "new");
    }
);
