//! `AuthUser` decodes the Bearer token; role guards wrap it so that a handler's signature
//! states who may call it. Ownership is checked in the queries, which answer 404.

use std::future::{ready, Ready};
use std::ops::Deref;

use actix_web::{http::header, web, FromRequest, HttpMessage, HttpRequest};

use super::jwt::TokenError;
use super::Role;
use crate::db::types::UserId;
use crate::error::ApiError;
use crate::messages;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
}

/// The user of a console session (the browser's cookie), put in the request's extensions
/// by [`crate::pages::session::resolve`] after it checked the request's CSRF token; the API
/// then serves the console's pages as it serves a Bearer token.
#[derive(Debug, Clone, Copy)]
pub struct CookieUser(pub AuthUser);

impl AuthUser {
    fn from_request_sync(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
        let authorization = req.headers().get(header::AUTHORIZATION);
        if authorization.is_none() {
            if let Some(CookieUser(user)) = req.extensions().get::<CookieUser>() {
                return Ok(*user);
            }
        }
        let token = authorization
            .and_then(|v| v.to_str().ok())
            // The scheme name is case-insensitive (RFC 7235).
            .and_then(|v| {
                v.get(..7)
                    .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                    .and(v.get(7..))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized(messages::UNAUTHORIZED))?;
        let verified = state.jwt.verify(token).map_err(|e| match e {
            TokenError::Expired => ApiError::Unauthorized(messages::TOKEN_EXPIRED),
            TokenError::Invalid => ApiError::Unauthorized(messages::UNAUTHORIZED),
        })?;
        state
            .revocations
            .check(verified.user, verified.generation)?;
        Ok(Self {
            id: verified.user,
            role: verified.role,
        })
    }

    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Self::from_request_sync(req))
    }
}

macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident: $($role:ident)|+) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub AuthUser);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
                ready(AuthUser::from_request_sync(req).and_then(|user| {
                    if matches!(user.role, $(Role::$role)|+) {
                        Ok($name(user))
                    } else {
                        Err(ApiError::Forbidden)
                    }
                }))
            }
        }

        impl Deref for $name {
            type Target = AuthUser;
            fn deref(&self) -> &AuthUser {
                &self.0
            }
        }
    };
}

role_guard!(
    /// Manages accounts.
    Admin: Admin
);
role_guard!(
    /// Changes managers' duty (absence, substitutes).
    AdminOrHead: Admin | Head
);
role_guard!(
    /// Works claims: review, decide, comment.
    ClaimHandler: Manager | Head
);
role_guard!(
    /// Reassigns claims among managers.
    Head: Head
);
role_guard!(
    /// Maintains the product catalogue and the sales registry.
    Registrar: Admin | Head | Manager
);
role_guard!(
    /// Reads the workshops and suppliers (dispatchers: the routes go there).
    PartnerReader: Admin | Head | Manager | Dispatcher
);
role_guard!(
    /// Looks up warranty by serial number.
    WarrantyReader: Admin | Head | Manager | Dealer | Dispatcher
);
role_guard!(
    /// Files claims: customers for themselves, dealers for their customers.
    ClaimFiler: Customer | Dealer
);
role_guard!(
    /// Reads claims (what each sees is limited in the query).
    ClaimReader: Customer | Dealer | Manager | Head | Admin
);
role_guard!(
    /// Reads courier jobs.
    JobReader: Dispatcher | Manager | Head | Admin
);
role_guard!(
    /// Manages the fleet: depots, couriers, shifts.
    Dispatch: Dispatcher | Admin
);
role_guard!(
    /// Drives routes: his route, reports about his visits, his positions (`/me/*`).
    Courier: Courier
);
role_guard!(
    /// Reads what was sent about claims (to whom, how).
    ClaimStaff: Manager | Head | Admin
);
role_guard!(
    /// Reads the department's reports (a manager only of his own claims).
    Reporter: Manager | Head | Admin
);
role_guard!(
    /// Manages webhook subscriptions.
    WebhookAdmin: Admin
);
