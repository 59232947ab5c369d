//! Tokens: sign-in, what an access token must look like to be accepted, refresh rotation with
//! reuse detection, sign-out, the failed-login limit and deactivated accounts.

use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{read, TestApp, DEMO_PASSWORD, JWT_SECRET};

const ADMIN: &str = "admin@demo.test";
const CUSTOMER: &str = "customer1@demo.test";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A token signed by `jsonwebtoken` with the server's secret and `alg`.
fn sign(alg: Algorithm, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(JWT_SECRET),
    )
    .unwrap()
}

/// A token with a hand-written header, HMAC-SHA256-signed with the server's secret.
fn sign_raw_header(header: &Value, claims: &Value) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(JWT_SECRET),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{signature}")
}

/// Claims the server would accept for `user_id` as `role`, valid for ten minutes.
fn valid_claims(user_id: i64, role: &str) -> Value {
    json!({"sub": user_id.to_string(), "role": role, "iat": now(), "exp": now() + 600})
}

async fn login_json(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    read(app.login_full(email, password).await).await
}

/// Signs in and returns the whole token response.
pub(crate) async fn sign_in(app: &TestApp, email: &str) -> Value {
    let (status, body) = login_json(app, email, DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "login of {email}: {body}");
    body
}

pub(crate) async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    let response = app
        .request(Method::POST, "/auth/refresh", None)
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap();
    read(response).await
}

async fn logout(app: &TestApp, refresh_token: &str) -> StatusCode {
    app.request(Method::POST, "/auth/logout", None)
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Calls an admin-only endpoint with a raw `Authorization` header (or none).
async fn probe_with_header(
    app: &TestApp,
    authorization: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = app.request(Method::GET, "/users", None);
    if let Some(value) = authorization {
        request = request.header(reqwest::header::AUTHORIZATION, value);
    }
    split(request.send().await.unwrap()).await
}

/// Calls an admin-only endpoint with `token` as the Bearer token.
async fn probe(app: &TestApp, token: &str) -> (StatusCode, HeaderMap, Value) {
    probe_with_header(app, Some(&format!("Bearer {token}"))).await
}

async fn split(response: Response) -> (StatusCode, HeaderMap, Value) {
    let headers = response.headers().clone();
    let (status, body) = read(response).await;
    (status, headers, body)
}

/// A 401 in RFC 9457 form with a Bearer challenge.
fn assert_unauthorized(what: &str, (status, headers, body): &(StatusCode, HeaderMap, Value)) {
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/problem+json"),
        "{what}: content-type {content_type}"
    );
    assert_eq!(body["status"], 401, "{what}: {body}");
    assert_eq!(body["type"], "/problems/unauthorized", "{what}: {body}");
    let challenge = headers
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "{what}: WWW-Authenticate `{challenge}`"
    );
}

backend_test!(
    login_returns_a_bearer_token_pair,
    |app: TestApp| async move {
        let body = sign_in(&app, CUSTOMER).await;
        let access = body["access_token"].as_str().expect("access_token");
        let refresh_token = body["refresh_token"].as_str().expect("refresh_token");
        assert!(!access.is_empty() && !refresh_token.is_empty(), "{body}");
        assert_ne!(access, refresh_token);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["role"], "customer");
        let expires_in = body["expires_in"].as_i64().expect("expires_in");
        assert!(expires_in > 0, "{body}");

        // The access token is HS256, says who the user is and lives exactly `expires_in` seconds.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data =
            decode::<Value>(access, &DecodingKey::from_secret(JWT_SECRET), &validation).unwrap();
        assert_eq!(data.header.alg, Algorithm::HS256);
        assert_eq!(
            data.claims["sub"],
            body["user_id"].as_i64().unwrap().to_string()
        );
        assert_eq!(data.claims["role"], "customer");
        let lifetime = data.claims["exp"].as_i64().unwrap() - data.claims["iat"].as_i64().unwrap();
        assert_eq!(lifetime, expires_in);

        // It works for an endpoint of her role.
        let (status, _) = app.get("/claims", access).await;
        assert_eq!(status, StatusCode::OK);

        // The e-mail is matched without regard to case or surrounding blanks.
        let (status, body) = login_json(&app, " Customer1@Demo.Test ", DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
);

backend_test!(
    wrong_password_and_unknown_email_get_the_same_401,
    |app: TestApp| async move {
        let wrong_password = split(app.login_full(CUSTOMER, "not-the-password").await).await;
        assert_unauthorized("wrong password", &wrong_password);
        assert!(wrong_password.2.get("access_token").is_none());

        let unknown = split(app.login_full("nobody@demo.test", DEMO_PASSWORD).await).await;
        assert_unauthorized("unknown e-mail", &unknown);
        // Nothing tells an unknown account from a known one with a wrong password.
        assert_eq!(unknown.2, wrong_password.2);

        // An empty password is the same 401 too, not a different answer.
        let (status, body) = login_json(&app, "customer2@demo.test", "x").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body, wrong_password.2);
    }
);

backend_test!(
    a_self_signed_hs256_token_with_the_right_secret_is_accepted,
    |app: TestApp| async move {
        // Proves the negative tests below fail for the reason they name, not for a wrong setup.
        let admin_id = sign_in(&app, ADMIN).await["user_id"].as_i64().unwrap();
        let token = sign(Algorithm::HS256, &valid_claims(admin_id, "admin"));
        let (status, _, body) = probe(&app, &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // The role comes from the token: the same signature scheme with role customer is a 403.
        let customer_id = sign_in(&app, CUSTOMER).await["user_id"].as_i64().unwrap();
        let token = sign(Algorithm::HS256, &valid_claims(customer_id, "customer"));
        let (status, _, body) = probe(&app, &token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

        // A hand-built header with alg HS256 is accepted too (the RS256 test below builds its
        // token the same way).
        let token = sign_raw_header(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &valid_claims(admin_id, "admin"),
        );
        let (status, _, body) = probe(&app, &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
);

backend_test!(an_expired_token_is_401, |app: TestApp| async move {
    let admin_id = sign_in(&app, ADMIN).await["user_id"].as_i64().unwrap();
    // An hour past its expiry: far beyond any leeway.
    let claims = json!({"sub": admin_id.to_string(), "role": "admin", "iat": now() - 7200, "exp": now() - 3600});
    let answer = probe(&app, &sign(Algorithm::HS256, &claims)).await;
    assert_unauthorized("expired", &answer);
    assert_eq!(answer.2["detail"], api::messages::TOKEN_EXPIRED);

    // A minute past: still beyond the leeway of a few seconds.
    let claims = json!({"sub": admin_id.to_string(), "role": "admin", "iat": now() - 960, "exp": now() - 60});
    assert_unauthorized(
        "expired a minute ago",
        &probe(&app, &sign(Algorithm::HS256, &claims)).await,
    );
});

backend_test!(a_tampered_token_is_401, |app: TestApp| async move {
    let body = sign_in(&app, CUSTOMER).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let customer_id = body["user_id"].as_i64().unwrap();
    let admin_id = sign_in(&app, ADMIN).await["user_id"].as_i64().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");

    // The untouched token works where a customer may go (and not on the admin probe).
    let (status, _) = app.get("/claims", &token).await;
    assert_eq!(status, StatusCode::OK);

    // One character of the signature flipped (in the middle, so it is not a padding bit).
    let mut signature: Vec<char> = parts[2].chars().collect();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == 'A' { 'B' } else { 'A' };
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        signature.into_iter().collect::<String>()
    );
    assert_unauthorized(
        "flipped signature (admin probe)",
        &probe(&app, &flipped).await,
    );
    let response = app
        .request(Method::GET, "/claims", Some(&flipped))
        .send()
        .await
        .unwrap();
    assert_unauthorized("flipped signature", &split(response).await);

    // The payload swapped for one that makes her an admin, the original signature kept.
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], customer_id.to_string());
    claims["role"] = json!("admin");
    let escalated = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_unauthorized("role changed", &probe(&app, &escalated).await);

    // The payload swapped for another user's id.
    claims["sub"] = json!(admin_id.to_string());
    let impersonating = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_unauthorized("sub changed", &probe(&app, &impersonating).await);

    // The signature dropped.
    assert_unauthorized(
        "no signature",
        &probe(&app, &format!("{}.{}.", parts[0], parts[1])).await,
    );
    assert_unauthorized(
        "two parts",
        &probe(&app, &format!("{}.{}", parts[0], parts[1])).await,
    );

    // Signed with another secret.
    let other = encode(
        &Header::new(Algorithm::HS256),
        &valid_claims(admin_id, "admin"),
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    assert_unauthorized("other secret", &probe(&app, &other).await);
});

backend_test!(other_algorithms_are_401, |app: TestApp| async move {
    let admin_id = sign_in(&app, ADMIN).await["user_id"].as_i64().unwrap();
    let claims = valid_claims(admin_id, "admin");

    // HS512 and HS384 with the right secret: the algorithm is pinned to HS256.
    assert_unauthorized(
        "HS512",
        &probe(&app, &sign(Algorithm::HS512, &claims)).await,
    );
    assert_unauthorized(
        "HS384",
        &probe(&app, &sign(Algorithm::HS384, &claims)).await,
    );

    // RS256 in the header, HMAC-signed with the secret (the RS/HS key-confusion attack).
    let rs256 = sign_raw_header(&json!({"alg": "RS256", "typ": "JWT"}), &claims);
    assert_unauthorized("RS256 header", &probe(&app, &rs256).await);

    // alg none, with an empty signature and with a leftover one.
    for alg in ["none", "None", "NONE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
        let payload = b64(claims.to_string().as_bytes());
        assert_unauthorized(
            &format!("alg {alg}"),
            &probe(&app, &format!("{header}.{payload}.")).await,
        );
        let with_signature = sign_raw_header(&json!({"alg": alg, "typ": "JWT"}), &claims);
        assert_unauthorized(
            &format!("alg {alg} signed"),
            &probe(&app, &with_signature).await,
        );
    }
});

backend_test!(a_token_without_exp_is_401, |app: TestApp| async move {
    let admin_id = sign_in(&app, ADMIN).await["user_id"].as_i64().unwrap();
    let claims = json!({"sub": admin_id.to_string(), "role": "admin", "iat": now()});
    assert_unauthorized(
        "no exp",
        &probe(&app, &sign(Algorithm::HS256, &claims)).await,
    );

    // Nor without a subject, with an unknown role, or with a subject that is not an id.
    let claims = json!({"role": "admin", "iat": now(), "exp": now() + 600});
    assert_unauthorized(
        "no sub",
        &probe(&app, &sign(Algorithm::HS256, &claims)).await,
    );
    let claims =
        json!({"sub": admin_id.to_string(), "role": "superuser", "iat": now(), "exp": now() + 600});
    assert_unauthorized(
        "unknown role",
        &probe(&app, &sign(Algorithm::HS256, &claims)).await,
    );
    let claims = json!({"sub": "admin", "role": "admin", "iat": now(), "exp": now() + 600});
    assert_unauthorized(
        "sub not an id",
        &probe(&app, &sign(Algorithm::HS256, &claims)).await,
    );
});

backend_test!(
    garbage_and_missing_tokens_are_401,
    |app: TestApp| async move {
        let access = sign_in(&app, ADMIN).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        // The real token in the right header works...
        let (status, _, body) = probe(&app, &access).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // ...and nothing else does.
        assert_unauthorized("no header", &probe_with_header(&app, None).await);
        for header in [
            "Bearer garbage".to_owned(),
            "Bearer a.b.c".to_owned(),
            "Bearer ...".to_owned(),
            "Bearer ".to_owned(),
            "Bearer".to_owned(),
            "Basic YWRtaW46cGFzc3dvcmQ=".to_owned(),
            access.clone(),
            format!("Token {access}"),
            format!("Bearer {access}x"),
            format!("Bearer x{access}"),
        ] {
            assert_unauthorized(
                &format!("Authorization: {header}"),
                &probe_with_header(&app, Some(&header)).await,
            );
        }
        // A refresh token is not an access token.
        let refresh_token = sign_in(&app, ADMIN).await["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_unauthorized(
            "refresh token as access token",
            &probe(&app, &refresh_token).await,
        );
    }
);

backend_test!(
    refresh_rotates_and_reuse_revokes_the_family,
    |app: TestApp| async move {
        let first = sign_in(&app, CUSTOMER).await;
        let r1 = first["refresh_token"].as_str().unwrap().to_owned();

        let (status, second) = refresh(&app, &r1).await;
        assert_eq!(status, StatusCode::OK, "{second}");
        let r2 = second["refresh_token"].as_str().unwrap().to_owned();
        let a2 = second["access_token"].as_str().unwrap().to_owned();
        assert_ne!(r2, r1, "the refresh token rotates");
        assert_eq!(second["token_type"], "Bearer");
        assert_eq!(second["user_id"], first["user_id"]);
        assert_eq!(second["role"], "customer");
        let (status, _) = app.get("/claims", &a2).await;
        assert_eq!(status, StatusCode::OK, "the new access token works");

        // The old one again: refused, and it takes the whole family down...
        let (status, body) = refresh(&app, &r1).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "reused refresh token: {body}"
        );
        assert_eq!(body["status"], 401);
        // ...including the newest one, which was never used.
        let (status, body) = refresh(&app, &r2).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "descendant of a reused token: {body}"
        );

        // Another sign-in of the same user is another family and unaffected.
        let other = sign_in(&app, CUSTOMER).await;
        let (status, body) = refresh(&app, other["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Unknown refresh tokens are 401 as well.
        let (status, _) = refresh(&app, "not-a-refresh-token").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = refresh(&app, &a2).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "an access token is not a refresh token"
        );
    }
);

backend_test!(logout_revokes_the_family, |app: TestApp| async move {
    // Log out with a fresh token: it no longer refreshes.
    let first = sign_in(&app, CUSTOMER).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(logout(&app, &r1).await, StatusCode::NO_CONTENT);
    let (status, _) = refresh(&app, &r1).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Log out with an already rotated token: its descendants die with it.
    let second = sign_in(&app, CUSTOMER).await;
    let s1 = second["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = refresh(&app, &s1).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let s2 = rotated["refresh_token"].as_str().unwrap().to_owned();
    // A parallel sign-in on another device.
    let third = sign_in(&app, CUSTOMER).await;
    let t1 = third["refresh_token"].as_str().unwrap().to_owned();

    assert_eq!(logout(&app, &s2).await, StatusCode::NO_CONTENT);
    let (status, _) = refresh(&app, &s2).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "logged-out token");
    let (status, _) = refresh(&app, &s1).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "its ancestor");

    // The other device's sign-in is not touched.
    let (status, body) = refresh(&app, &t1).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Logging out an unknown token is harmless.
    assert_eq!(
        logout(&app, "not-a-refresh-token").await,
        StatusCode::NO_CONTENT
    );
});

backend_test!(
    failed_logins_lock_the_account_for_a_while,
    |app: TestApp| async move {
        for attempt in 1..=5 {
            let (status, body) = login_json(&app, CUSTOMER, "wrong-password").await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "attempt {attempt}: {body}"
            );
        }
        // The sixth attempt is refused even with the right password, and says when to come back.
        let response = app.login_full(CUSTOMER, DEMO_PASSWORD).await;
        let (status, headers, body) = split(response).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        let retry_after: u64 = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("Retry-After missing or not seconds: {headers:?}"));
        assert!(
            (1..=15 * 60).contains(&retry_after),
            "Retry-After {retry_after}"
        );
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("application/problem+json"),
            "{content_type}"
        );
        assert_eq!(body["status"], 429);
        assert!(body.get("access_token").is_none());

        // The lock is per account, whatever the spelling of the e-mail.
        let (status, _) = login_json(&app, "CUSTOMER1@demo.test", DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

        // Other accounts sign in as usual.
        let (status, body) = login_json(&app, "customer2@demo.test", DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = login_json(&app, ADMIN, DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // And another account's wrong password is still an ordinary 401.
        let (status, body) = login_json(&app, "customer3@demo.test", "wrong-password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
);

backend_test!(
    a_deactivated_user_can_neither_log_in_nor_refresh,
    |app: TestApp| async move {
        let session = sign_in(&app, "customer2@demo.test").await;
        let user_id = session["user_id"].as_i64().unwrap();
        let refresh_token = session["refresh_token"].as_str().unwrap().to_owned();
        let admin = app.login(ADMIN).await;

        let (status, body) = app
            .patch(
                &format!("/users/{user_id}"),
                &admin,
                &json!({"active": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], false);

        // The right password no longer signs in, with the same answer as a wrong one.
        let (status, body) = login_json(&app, "customer2@demo.test", DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["status"], 401);
        assert!(body.get("access_token").is_none());
        // The refresh token issued before the deactivation is dead.
        let (status, body) = refresh(&app, &refresh_token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

        // Reactivated, the account signs in again (the old refresh token stays dead).
        let (status, body) = app
            .patch(
                &format!("/users/{user_id}"),
                &admin,
                &json!({"active": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = login_json(&app, "customer2@demo.test", DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = refresh(&app, &refresh_token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);
