//! Signing in to the console and out of it, with the API's accounts, passwords and limits.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::context;
use serde::Deserialize;

use super::{PageCtx, PageError, CONSOLE_ROLES};
use crate::app::sessions;
use crate::auth::Role;
use crate::error::ApiError;

/// `/app`: each role's first page.
pub async fn home(ctx: PageCtx) -> HttpResponse {
    let result = ctx.staff(&CONSOLE_ROLES).map(|user| {
        let first = match user.user.role {
            Role::Dispatcher => "/app/plans",
            _ => "/app/claims",
        };
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, first))
            .finish()
    });
    ctx.finish(result)
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn form(ctx: PageCtx, query: web::Query<Next>) -> HttpResponse {
    let next = safe_next(query.next.as_deref());
    ctx.finish(ctx.render("sign_in", context! { next, email => "" }))
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(ctx: PageCtx, req: HttpRequest, form: web::Form<SignInForm>) -> HttpResponse {
    let SignInForm {
        email,
        password,
        next,
    } = form.into_inner();
    let next = safe_next(next.as_deref());
    // Sign-in forms posted from another site (login CSRF) are refused.
    if !same_origin(&req) {
        return ctx.finish(Err(PageError::NotForRole));
    }
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    let failed = match sessions::page_sign_in(&ctx.state, email.trim(), password, &address).await {
        Ok(signed_in) => {
            return HttpResponse::SeeOther()
                .cookie(super::session::cookie(&req, signed_in.secret))
                .insert_header((header::LOCATION, next))
                .finish();
        }
        Err(ApiError::Unauthorized(_)) => (StatusCode::UNAUTHORIZED, "bad_credentials"),
        Err(ApiError::TooManyRequests { .. }) => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
        Err(other) => return ctx.finish(Err(other.into())),
    };
    let (status, error) = failed;
    ctx.finish(ctx.render_status(
        status,
        "sign_in",
        context! { next, email => email.trim(), error },
    ))
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

pub async fn sign_out(
    ctx: PageCtx,
    req: HttpRequest,
    form: web::Form<SignOutForm>,
) -> HttpResponse {
    let Some(user) = &ctx.user else {
        return ctx.finish(Err(PageError::SignIn));
    };
    if !user.csrf_matches(&form.csrf) {
        return ctx.finish(Err(PageError::NotForRole));
    }
    if let Err(e) = sessions::page_sign_out(&ctx.state, &user.secret).await {
        return ctx.finish(Err(e.into()));
    }
    HttpResponse::SeeOther()
        .cookie(super::session::expired_cookie(&req))
        .insert_header((header::LOCATION, "/app/login"))
        .finish()
}

/// Where to go after signing in: a page of the console, never another site.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/app") && !n.starts_with("/app/login"))
        .filter(|n| !n.contains("//") && !n.contains('\\'))
        .unwrap_or("/app")
        .to_owned()
}

/// Whether a form post came from a page of this server: browsers send `Origin` with every
/// POST; a missing one (an old client, a script) is let through, a foreign one is not.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let host = req.connection_info().host().to_owned();
    origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .is_some_and(|(_, origin_host)| origin_host == host)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_pages_are_gone_back_to() {
        assert_eq!(safe_next(Some("/app/claims?q=x")), "/app/claims?q=x");
        assert_eq!(safe_next(Some("https://evil.test/app")), "/app");
        assert_eq!(safe_next(Some("/app//evil.test")), "/app");
        assert_eq!(safe_next(Some("/app/login")), "/app");
        assert_eq!(safe_next(None), "/app");
    }
}
