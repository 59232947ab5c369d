//! Signing in and staying signed in: a short-lived access token and a rotating refresh
//! token per sign-in (a "family"). A refresh token works once; presenting a used one again
//! means it leaked, and the whole family is revoked.

use actix_web::web;
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::accounts;
use crate::auth::{password, Role};
use crate::db::types::UserId;
use crate::db::users;
use crate::db::{page_sessions, tokens};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::state::AppState;

/// What a sign-in or a refresh hands out.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user_id: UserId,
    pub role: Role,
}

/// Checks e-mail and password; failures count against the account and the client address
/// (`address`), and too many are a 429.
pub async fn login(
    state: &AppState,
    email: &str,
    given_password: String,
    address: &str,
) -> ApiResult<Session> {
    let user = verify_credentials(state, email, given_password, address).await?;
    issue(state, &user, new_secret()).await
}

/// How long a console sign-in lasts: a working day.
pub const PAGE_SESSION_HOURS: i64 = 12;

/// A console sign-in: the secret for the browser's cookie (only its hash is stored).
pub struct PageSignIn {
    pub secret: String,
    pub role: Role,
}

/// Signs in to the console with the same accounts, passwords and limits as the API.
pub async fn page_sign_in(
    state: &AppState,
    email: &str,
    given_password: String,
    address: &str,
) -> ApiResult<PageSignIn> {
    let user = verify_credentials(state, email, given_password, address).await?;
    let secret = new_secret();
    let token_hash = hash_token(&secret);
    let expires_at = (Utc::now() + chrono::Duration::hours(PAGE_SESSION_HOURS)).naive_utc();
    let (user_id, generation) = (user.id, user.token_generation);
    state
        .write(move |conn| {
            Ok(page_sessions::insert(
                conn,
                user_id,
                &token_hash,
                generation,
                expires_at,
            )?)
        })
        .await?;
    Ok(PageSignIn {
        secret,
        role: user.role,
    })
}

/// The console session a cookie's secret belongs to, if it is still good.
pub async fn page_session(
    state: &AppState,
    secret: &str,
) -> ApiResult<Option<page_sessions::LiveSession>> {
    let token_hash = hash_token(secret);
    state
        .db(move |conn| Ok(page_sessions::live(conn, &token_hash, crate::db::now())?))
        .await
}

/// Ends a console session (this browser only).
pub async fn page_sign_out(state: &AppState, secret: &str) -> ApiResult<()> {
    let token_hash = hash_token(secret);
    state
        .write(move |conn| Ok(page_sessions::revoke(conn, &token_hash).map(drop)?))
        .await
}

/// The anti-CSRF token of a console session: derived from the cookie's secret, so it needs
/// no storage, and it reveals nothing of the secret.
pub fn csrf_token(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf:{secret}").as_bytes()))
}

async fn verify_credentials(
    state: &AppState,
    email: &str,
    given_password: String,
    address: &str,
) -> ApiResult<users::UserRow> {
    state
        .login_limiter
        .check(email, address)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let lookup = email.to_owned();
    let user = state
        .db(move |conn| accounts::find_by_email(conn, &lookup))
        .await?;
    // Verify against a dummy hash when there is no such user, so timing reveals nothing.
    let verified = web::block(move || {
        let stored = user
            .as_ref()
            .map_or(password::dummy_hash(), |u| u.password_hash.as_str());
        let ok = password::verify(&given_password, stored);
        (ok, user)
    })
    .await?;
    match verified {
        (true, Some(user)) if user.active => {
            state.login_limiter.record_success(email);
            Ok(user)
        }
        _ => {
            state.login_limiter.record_failure(email, address);
            Err(ApiError::Unauthorized(messages::BAD_CREDENTIALS))
        }
    }
}

/// Exchanges a refresh token for a new pair.
pub async fn refresh(state: &AppState, refresh_token: &str) -> ApiResult<Session> {
    let token_hash = hash_token(refresh_token);
    let outcome = state
        .write(move |conn| {
            let Some(row) = tokens::find_by_hash(conn, &token_hash)? else {
                return Ok(None);
            };
            if row.revoked_at.is_some() || row.expires_at < crate::db::now() {
                return Ok(None);
            }
            if row.used_at.is_some() || !tokens::mark_used(conn, row.id)? {
                // Reuse of a rotated token: someone else has it. Kill the whole family.
                tokens::revoke_family(conn, &row.family)?;
                return Ok(Some(Err(row.user_id)));
            }
            let user = users::find(conn, row.user_id)?.filter(|u| u.active);
            Ok(Some(Ok((row.family, user))))
        })
        .await?;
    match outcome {
        Some(Ok((family, Some(user)))) => issue(state, &user, family).await,
        Some(Err(user_id)) => {
            tracing::warn!(user_id = %user_id, "refresh token reused; token family revoked");
            Err(ApiError::Unauthorized(messages::REFRESH_INVALID))
        }
        _ => Err(ApiError::Unauthorized(messages::REFRESH_INVALID)),
    }
}

/// Revokes the refresh token's family (this device's sign-in).
pub async fn logout(state: &AppState, refresh_token: &str) -> ApiResult<()> {
    let token_hash = hash_token(refresh_token);
    state
        .write(move |conn| {
            if let Some(row) = tokens::find_by_hash(conn, &token_hash)? {
                tokens::revoke_family(conn, &row.family)?;
            }
            Ok(())
        })
        .await
}

/// Signs the user out on every device: his refresh tokens are revoked and the access tokens
/// he holds stop working on their next request, here at once and on the other replicas
/// within a second.
pub async fn logout_everywhere(state: &AppState, user_id: UserId) -> ApiResult<()> {
    let user = state
        .write(move |conn| {
            tokens::revoke_all_for_user(conn, user_id)?;
            Ok(users::bump_generation(conn, user_id, crate::db::now())?)
        })
        .await?;
    state.revocations.record(user.id, user.standing());
    Ok(())
}

async fn issue(state: &AppState, user: &users::UserRow, family: String) -> ApiResult<Session> {
    let (user_id, role) = (user.id, user.role);
    let access_token = state.jwt.issue(
        user_id,
        role,
        user.token_generation,
        state.settings.access_ttl,
    )?;
    let refresh_token = new_secret();
    let token_hash = hash_token(&refresh_token);
    let ttl =
        chrono::Duration::from_std(state.settings.refresh_ttl).map_err(anyhow::Error::from)?;
    let expires_at = (Utc::now() + ttl).naive_utc();
    state
        .write(move |conn| {
            Ok(tokens::insert(
                conn,
                user_id,
                &family,
                &token_hash,
                expires_at,
            )?)
        })
        .await?;
    Ok(Session {
        access_token,
        refresh_token,
        expires_in: state.settings.access_ttl.as_secs(),
        user_id,
        role,
    })
}

fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
