//! Sign-in, token refresh (rotating) and sign-out.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{password, Role};
use crate::db::{tokens, users};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::messages;
use crate::state::{AppState, State};

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    #[validate(length(min = 3, max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 512))]
    pub refresh_token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user_id: i64,
    pub role: Role,
}

/// Exchanges e-mail and password for an access token and a refresh token.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
    (status = 429, body = crate::error::Problem, description = "too many failed attempts; see Retry-After")))]
#[post("/auth/login")]
pub async fn login(
    state: State,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest {
        email,
        password: given,
    } = body.0;
    // The socket peer, not X-Forwarded-For: a header would let an attacker pick his own bucket.
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    state
        .login_limiter
        .check(&email, &address)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let lookup = email.clone();
    let user = state
        .db(move |conn| Ok(users::find_by_email(conn, &lookup)?))
        .await?;
    // Verify against a dummy hash when there is no such user, so timing reveals nothing.
    let verified = web::block(move || {
        let stored = user
            .as_ref()
            .map_or(password::dummy_hash(), |u| u.password_hash.as_str());
        let ok = password::verify(&given, stored);
        (ok, user)
    })
    .await?;
    let user = match verified {
        (true, Some(user)) if user.active => user,
        _ => {
            state.login_limiter.record_failure(&email, &address);
            return Err(ApiError::Unauthorized(messages::BAD_CREDENTIALS));
        }
    };
    state.login_limiter.record_success(&email);
    let role = Role::parse(&user.role)
        .ok_or_else(|| anyhow::anyhow!("stored role `{}` is unknown", user.role))?;
    let family = new_secret();
    let response = issue_pair(&state, user.id, role, family).await?;
    Ok(HttpResponse::Ok().json(response))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// used one again revokes every token descended from the same sign-in.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
#[post("/auth/refresh")]
pub async fn refresh(state: State, body: ValidJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    let token_hash = hash_token(&body.0.refresh_token);
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
        Some(Ok((family, Some(user)))) => {
            let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("unknown role"))?;
            Ok(HttpResponse::Ok().json(issue_pair(&state, user.id, role, family).await?))
        }
        Some(Err(user_id)) => {
            tracing::warn!(user_id, "refresh token reused; token family revoked");
            Err(ApiError::Unauthorized(messages::REFRESH_INVALID))
        }
        _ => Err(ApiError::Unauthorized(messages::REFRESH_INVALID)),
    }
}

/// Revokes the refresh token's family (this device's sign-in).
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204)))]
#[post("/auth/logout")]
pub async fn logout(state: State, body: ValidJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    let token_hash = hash_token(&body.0.refresh_token);
    state
        .write(move |conn| {
            if let Some(row) = tokens::find_by_hash(conn, &token_hash)? {
                tokens::revoke_family(conn, &row.family)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn issue_pair(
    state: &AppState,
    user_id: i64,
    role: Role,
    family: String,
) -> ApiResult<TokenResponse> {
    let access_token = state.jwt.issue(user_id, role, state.settings.access_ttl)?;
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
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer".to_owned(),
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
