//! The pages people look at, served by the binary itself: the console for managers and
//! dispatchers (`/app`), a claim's public tracking page (`/track/{token}`) and the API docs
//! (`/docs`). Rendered on the server from templates (`api/templates/pages`, one markup with
//! each language's words), a few plain ES modules that call the same API, and assets built
//! into the binary: nothing is fetched from elsewhere but map tiles.

mod assets;
mod claims;
mod docs;
mod plans;
pub mod session;
mod sign_in;
mod track;

use std::future::{ready, Ready};

use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use domain::locale::Locale;
use minijinja::{context, Value};

use crate::auth::Role;
use crate::error::ApiError;
use crate::state::AppState;
use session::PageUser;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/app", web::get().to(sign_in::home))
        .route("/app/", web::get().to(sign_in::home))
        .route("/app/login", web::get().to(sign_in::form))
        .route("/app/login", web::post().to(sign_in::submit))
        .route("/app/logout", web::post().to(sign_in::sign_out))
        .route("/app/claims", web::get().to(claims::queue))
        .route("/app/claims/{id}", web::get().to(claims::card))
        .route("/app/plans", web::get().to(plans::day))
        .route("/app/plans/{id}", web::get().to(plans::plan))
        .route("/app/assets/{path:.*}", web::get().to(assets::serve))
        .route("/track/{token}", web::get().to(track::page))
        .route("/track/{token}/slot", web::post().to(track::book))
        .route("/docs", web::get().to(docs::page))
        .route("/docs/", web::get().to(docs::page));
}

/// Staff who work in the console; everyone else is told it is not for them.
const CONSOLE_ROLES: [Role; 4] = [Role::Manager, Role::Head, Role::Dispatcher, Role::Admin];

/// What a page failed with, shown as a page (never as JSON, never with internal text).
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: off to the sign-in page, and back here afterwards.
    SignIn,
    NotForRole,
    NotFound,
    TooMany(u64),
    Internal(anyhow::Error),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Unauthorized(_) => Self::SignIn,
            ApiError::Forbidden | ApiError::CsrfRejected => Self::NotForRole,
            ApiError::NotFound => Self::NotFound,
            ApiError::TooManyRequests { retry_after_secs } => Self::TooMany(retry_after_secs),
            ApiError::Internal(cause) => Self::Internal(cause),
            other => Self::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

type PageResult = Result<HttpResponse, PageError>;

/// What every page handler starts from: the state, the signed-in user (if any), the
/// language and the address asked for.
pub struct PageCtx {
    state: web::Data<AppState>,
    user: Option<PageUser>,
    locale: Locale,
    /// Path and query, to come back to after signing in.
    here: String,
}

impl FromRequest for PageCtx {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Self::from_request_sync(req))
    }
}

impl PageCtx {
    fn from_request_sync(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
        let user = req.extensions().get::<PageUser>().cloned();
        let asked = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(key, _)| key == "lang")
            .and_then(|(_, value)| value.parse::<Locale>().ok());
        let accepted = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Locale::from_accept_language);
        let locale = asked
            .or(user.as_ref().and_then(|u| u.locale))
            .or(accepted)
            .unwrap_or_default();
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        };
        Ok(Self {
            state,
            user,
            locale,
            here,
        })
    }

    /// The signed-in user if his role may open this page.
    fn staff(&self, roles: &[Role]) -> Result<&PageUser, PageError> {
        let user = self.user.as_ref().ok_or(PageError::SignIn)?;
        if roles.contains(&user.user.role) {
            Ok(user)
        } else {
            Err(PageError::NotForRole)
        }
    }

    /// Page `name` with `ctx`, the words of the page's language and the signed-in user.
    fn render(&self, name: &str, ctx: Value) -> PageResult {
        self.render_status(StatusCode::OK, name, ctx)
    }

    fn render_status(&self, status: StatusCode, name: &str, ctx: Value) -> PageResult {
        let user = self.user.as_ref().map(|u| {
            context! { name => u.name, role => u.user.role.as_str(), csrf => u.csrf }
        });
        let ctx = context! { me => user, here => self.here, ..ctx };
        let html = self
            .state
            .templates
            .page(name, self.locale, ctx)
            .map_err(PageError::from)?;
        let mut response = HttpResponse::build(status);
        secure_headers(&mut response, &self.state.settings.map_tiles_url);
        Ok(response.content_type("text/html; charset=utf-8").body(html))
    }

    /// The page, or the page of what went wrong.
    fn finish(&self, result: PageResult) -> HttpResponse {
        let error = match result {
            Ok(page) => return page,
            Err(error) => error,
        };
        let retry_after = match error {
            PageError::TooMany(seconds) => Some(seconds),
            _ => None,
        };
        let (status, what) = match error {
            PageError::SignIn => {
                let next: String =
                    url::form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/app/login?next={next}")))
                    .finish();
            }
            PageError::NotForRole => (StatusCode::FORBIDDEN, "not_for_role"),
            PageError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            PageError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
            PageError::Internal(cause) => {
                tracing::error!(error = %cause, "a page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let mut page = match self.render_status(status, "error", context! { what }) {
            Ok(page) => page,
            Err(_) => HttpResponse::build(status).finish(),
        };
        if let Some(seconds) = retry_after {
            page.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        page
    }
}

/// Pages allow scripts, styles and fonts only from this server (no inline script, no
/// `eval`), images also from the map's tile server, and no framing.
fn secure_headers(response: &mut actix_web::HttpResponseBuilder, tiles_url: &str) {
    let tiles = tile_origin(tiles_url).unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {tiles}; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

/// `https://tile.openstreetmap.org` of `https://tile.openstreetmap.org/{z}/{x}/{y}.png`.
fn tile_origin(tiles_url: &str) -> Option<String> {
    let (scheme, rest) = tiles_url.split_once("://")?;
    let host = rest.split('/').next()?;
    // A `{s}` subdomain placeholder stands for any subdomain.
    Some(format!("{scheme}://{}", host.replace("{s}", "*")))
}
