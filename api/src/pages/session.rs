//! Console sessions: an `HttpOnly`, `SameSite=Strict` cookie holding a secret (`Secure` when
//! served over TLS). Each request that carries it is resolved to its user here; a
//! state-changing one must also carry the session's anti-CSRF token: the `X-CSRF-Token`
//! header for calls to the API (the pages' scripts read it from the page), the form field
//! `csrf` for the console's own forms (checked by their handlers).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, ResponseError};
use domain::locale::Locale;

use crate::app::sessions;
use crate::auth::extract::{AuthUser, CookieUser};
use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "claimroute_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user of a console request.
#[derive(Debug, Clone)]
pub struct PageUser {
    pub user: AuthUser,
    pub name: String,
    pub locale: Option<Locale>,
    pub csrf: String,
    /// The cookie's secret, to end this very session on sign-out.
    pub secret: String,
}

impl PageUser {
    /// Whether a form's `csrf` field is this session's token.
    pub fn csrf_matches(&self, given: &str) -> bool {
        constant_time_eq(given.as_bytes(), self.csrf.as_bytes())
    }
}

/// Resolves the session cookie, if any, and refuses a state-changing API call that lacks
/// the session's CSRF token. A Bearer token wins over the cookie.
pub async fn resolve(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let secret = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|s| !s.is_empty() && s.len() <= 128);
    // Static files need no user: a page's scripts and styles cost no session lookups.
    let asset = req.path().starts_with("/app/assets/");
    let bearer = req.headers().contains_key(header::AUTHORIZATION);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let (Some(secret), false, Some(state)) = (secret, bearer || asset, state) {
        if let Some(live) = sessions::page_session(&state, &secret).await? {
            let user = AuthUser {
                id: live.user_id,
                role: live.role,
            };
            let page_user = PageUser {
                user,
                name: live.name,
                locale: live.locale,
                csrf: sessions::csrf_token(&secret),
                secret,
            };
            let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD);
            if !changes_state {
                req.extensions_mut().insert(CookieUser(user));
            } else if !req.path().starts_with("/app/") {
                let given = req
                    .headers()
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !page_user.csrf_matches(given) {
                    let refused = ApiError::CsrfRejected.error_response();
                    return Ok(req.into_response(refused));
                }
                req.extensions_mut().insert(CookieUser(user));
            }
            req.extensions_mut().insert(page_user);
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// The cookie that signs this browser in.
pub fn cookie(req: &HttpRequest, secret: String) -> Cookie<'static> {
    Cookie::build(COOKIE, secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .max_age(time::Duration::hours(sessions::PAGE_SESSION_HOURS))
        .finish()
}

/// The cookie that signs it out.
pub fn expired_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut gone = cookie(req, String::new());
    gone.make_removal();
    gone
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
