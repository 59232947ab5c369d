//! What every handler shares.

use actix_web::web;

use crate::auth::jwt::JwtKeys;
use crate::auth::ratelimit::LoginLimiter;
use crate::config::Settings;
use crate::db::{DbConnection, Pool};
use crate::error::{ApiError, ApiResult};

pub struct AppState {
    pub pool: Pool,
    pub settings: Settings,
    pub jwt: JwtKeys,
    pub login_limiter: LoginLimiter,
    /// Limits the public endpoints (tracking links) per client address.
    pub public_limiter: crate::auth::public_limit::PublicLimiter,
    /// Wakes this process's plan worker when a plan is queued.
    pub plan_wakeup: tokio::sync::Notify,
    /// Couriers' rendered routes by route and revision (`GET /me/route`).
    pub route_cache: crate::app::visits::route::RouteCache,
    /// Users whose tokens were revoked, kept in step with the database.
    pub revocations: crate::auth::revocation::Revocations,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Documents (and mails) from their templates.
    pub templates: crate::templates::Templates,
}

pub type State = web::Data<AppState>;

impl AppState {
    pub fn new(pool: Pool, settings: Settings) -> Self {
        Self {
            pool,
            jwt: JwtKeys::new(&settings.jwt_secret),
            login_limiter: LoginLimiter::default(),
            public_limiter: Default::default(),
            plan_wakeup: tokio::sync::Notify::new(),
            route_cache: Default::default(),
            revocations: Default::default(),
            metrics: Default::default(),
            templates: crate::templates::Templates::new(settings.notify.templates_dir.as_deref()),
            settings,
        }
    }

    /// Runs blocking diesel work on actix's blocking pool, never on its async workers.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(ApiError::from)?
    }

    /// Like [`AppState::db`], inside one write transaction (see [`crate::db::write_tx`]).
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || crate::db::write(&pool, f))
            .await
            .map_err(ApiError::from)?
    }
}
