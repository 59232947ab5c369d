//! Sign-in, token refresh (rotating) and sign-out.

use actix_web::{post, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::sessions::{self, Session};
use crate::auth::extract::AuthUser;
use crate::auth::Role;
use crate::db::types::UserId;
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;

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
    pub user_id: UserId,
    pub role: Role,
}

impl From<Session> for TokenResponse {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: "Bearer".to_owned(),
            expires_in: s.expires_in,
            user_id: s.user_id,
            role: s.role,
        }
    }
}

/// Exchanges e-mail and password for an access token and a refresh token.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem),
    (status = 429, body = crate::error::Problem, description = "too many failed attempts; see Retry-After")))]
#[post("/auth/login")]
pub async fn login(
    state: State,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password } = body.0;
    // The socket peer, not X-Forwarded-For: a header would let an attacker pick his own bucket.
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    let session = sessions::login(&state, &email, password, &address).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// used one again revokes every token descended from the same sign-in.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem)))]
#[post("/auth/refresh")]
pub async fn refresh(state: State, body: ValidJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    let session = sessions::refresh(&state, &body.0.refresh_token).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Revokes the refresh token's family (this device's sign-in).
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204),
    (status = 422, body = crate::error::Problem)))]
#[post("/auth/logout")]
pub async fn logout(state: State, body: ValidJson<RefreshRequest>) -> ApiResult<HttpResponse> {
    sessions::logout(&state, &body.0.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs the caller out on every device: all his refresh tokens are revoked, and the access
/// tokens he holds (this one included) are refused from the next request on.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 204),
    (status = 401, body = crate::error::Problem)))]
#[post("/auth/logout-all")]
pub async fn logout_all(state: State, user: AuthUser) -> ApiResult<HttpResponse> {
    sessions::logout_everywhere(&state, user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
