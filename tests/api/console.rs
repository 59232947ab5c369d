//! The console's sign-in over plain HTTP: the session cookie's attributes, the pages'
//! security headers, the CSRF token on every state-changing call, sign-out.

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{redirect, Client, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{TestApp, DEMO_PASSWORD};

/// A client that shows redirects instead of following them.
fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in through the sign-in form; the `Set-Cookie` header.
async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    client()
        .post(format!("{}/app/login", app.base))
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/app/claims"),
        ])
        .send()
        .await
        .unwrap()
}

fn session_cookie(response: &reqwest::Response) -> String {
    let set = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

/// The page's CSRF token, from its `<meta name="csrf-token">`.
fn csrf_of(page: &str) -> String {
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = page.find(marker).unwrap() + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

backend_test!(
    console_sessions_are_cookies_with_csrf,
    |app: TestApp| async move {
        let wrong = sign_in(&app, "manager1@demo.test", "not-the-password").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(wrong.headers().get(SET_COOKIE).is_none());
        assert!(wrong.text().await.unwrap().contains("sign-in-error"));

        let signed_in = sign_in(&app, "manager1@demo.test", DEMO_PASSWORD).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed_in.headers()[LOCATION], "/app/claims");
        let set_cookie = signed_in.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        // Served over plain HTTP here: a Secure cookie would never come back.
        assert!(!set_cookie.contains("Secure"), "{set_cookie}");
        let cookie = session_cookie(&signed_in);

        let page = client()
            .get(format!("{}/app/claims", app.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let csp = page.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(!html.contains("<script>"), "no inline script");
        let csrf = csrf_of(&html);

        let token = app.login("manager1@demo.test").await;
        let manager = app.user_id("manager1@demo.test").await;
        let claim = app.open_claims_of(manager, &token).await[0]["id"]
            .as_i64()
            .unwrap();
        let comment = |header: Option<String>, text: &'static str| {
            let mut request = client()
                .post(app.url(&format!("/claims/{claim}/comments")))
                .header(COOKIE, &cookie)
                .json(&json!({ "text": text }));
            if let Some(value) = header {
                request = request.header("X-CSRF-Token", value);
            }
            request.send()
        };
        let refused = comment(None, "without the token").await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = refused.json().await.unwrap();
        assert!(
            problem["type"].as_str().unwrap().ends_with("csrf"),
            "{problem}"
        );
        let forged = comment(Some("0".repeat(64)), "with a wrong token")
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let accepted = comment(Some(csrf.clone()), "with the page's token")
            .await
            .unwrap();
        assert_eq!(accepted.status(), StatusCode::CREATED);
        let (_, read) = app.get(&format!("/claims/{claim}"), &token).await;
        let notes: Vec<&str> = read["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["note"].as_str())
            .collect();
        assert!(notes.contains(&"with the page's token"));
        assert!(!notes.contains(&"without the token"));
        assert!(!notes.contains(&"with a wrong token"));

        // Reading with the cookie needs no token; another role's pages and data stay closed.
        let read_with_cookie = client()
            .get(app.url(&format!("/claims/{claim}")))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(read_with_cookie.status(), StatusCode::OK);
        let plans = client()
            .get(app.url("/plans"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(plans.status(), StatusCode::FORBIDDEN);

        // A sign-in form posted from another site is refused.
        let cross_site = client()
            .post(format!("{}/app/login", app.base))
            .header("Origin", "https://evil.test")
            .form(&[("email", "manager1@demo.test"), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
        assert!(cross_site.headers().get(SET_COOKIE).is_none());

        // Signing out needs the token too, and ends this session for good.
        let no_token = client()
            .post(format!("{}/app/logout", app.base))
            .header(COOKIE, &cookie)
            .form(&[("csrf", "nope")])
            .send()
            .await
            .unwrap();
        assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
        let signed_out = client()
            .post(format!("{}/app/logout", app.base))
            .header(COOKIE, &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
        let after = client()
            .get(format!("{}/app/claims?status=new", app.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            after.headers()[LOCATION],
            "/app/login?next=%2Fapp%2Fclaims%3Fstatus%3Dnew"
        );
        let api_after = client()
            .get(app.url(&format!("/claims/{claim}")))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(api_after.status(), StatusCode::UNAUTHORIZED);
    }
);

backend_test!(
    signing_out_everywhere_ends_console_sessions,
    |app: TestApp| async move {
        let signed_in = sign_in(&app, "head@demo.test", DEMO_PASSWORD).await;
        let cookie = session_cookie(&signed_in);
        let open = |path: &'static str| {
            client()
                .get(format!("{}{path}", app.base))
                .header(COOKIE, &cookie)
                .send()
        };
        assert_eq!(open("/app/claims").await.unwrap().status(), StatusCode::OK);
        let token = app.login("head@demo.test").await;
        let (status, _) = app.post("/auth/logout-all", &token, &json!({})).await;
        assert!(status.is_success(), "{status}");
        assert_eq!(
            open("/app/claims").await.unwrap().status(),
            StatusCode::SEE_OTHER
        );
    }
);

backend_test!(
    the_console_shows_each_role_its_own_pages,
    |app: TestApp| async move {
        let page = |cookie: String, path: &str| {
            let url = format!("{}{path}", app.base);
            async move {
                let response = client()
                    .get(url)
                    .header(COOKIE, cookie)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                (status, response.text().await.unwrap())
            }
        };
        let admin = session_cookie(&sign_in(&app, "admin@demo.test", DEMO_PASSWORD).await);
        let manager = session_cookie(&sign_in(&app, "manager1@demo.test", DEMO_PASSWORD).await);
        let dispatcher =
            session_cookie(&sign_in(&app, "dispatcher@demo.test", DEMO_PASSWORD).await);
        let token = app.login("manager1@demo.test").await;
        let manager_id = app.user_id("manager1@demo.test").await;
        let own = app.open_claims_of(manager_id, &token).await[0]["id"]
            .as_i64()
            .unwrap();
        let path = format!("/app/claims/{own}");
        let path = path.as_str();

        // A manager works his claim; an admin reads it without the forms he may not use.
        let (status, card) = page(manager.clone(), path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(card.contains("id=\"comment-form\""));
        let (status, card) = page(admin.clone(), path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!card.contains("id=\"comment-form\"") && !card.contains("id=\"decision-form\""));
        // Another manager's claim is not found, as in the API.
        let other = session_cookie(&sign_in(&app, "manager2@demo.test", DEMO_PASSWORD).await);
        assert_eq!(page(other, path).await.0, StatusCode::NOT_FOUND);
        // Claims are not the dispatcher's; plans are not the manager's.
        assert_eq!(
            page(dispatcher.clone(), "/app/claims").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(page(manager, "/app/plans").await.0, StatusCode::FORBIDDEN);
        let (status, plans) = page(dispatcher, "/app/plans").await;
        assert_eq!(status, StatusCode::OK);
        assert!(plans.contains("id=\"run-form\""));
        // Not signed in: to the sign-in page.
        let anonymous = client()
            .get(format!("{}/app/plans", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    }
);
