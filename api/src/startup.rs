//! Builds the server: pool, migrations, optional demo data, routes. Tests build it on port 0.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::config::Settings;
use crate::db;
use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::routes;
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
    metrics_server: Option<(u16, Server)>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = db::connect_pool_with(
            &settings.database_url,
            settings.pool_size,
            settings.sqlite_synchronous,
        )?;
        let demo_password = settings.demo_password.clone();
        let demo_today = settings
            .demo_today
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let sla = settings.sla.clone();
        let demo_history = settings.demo_history;
        let setup_pool = pool.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = setup_pool.get()?;
            db::run_migrations(&mut conn)?;
            if let Some(password) = demo_password {
                crate::seed::demo::seed(&mut conn, &sla, &password, demo_today)?;
                if demo_history {
                    let made = db::write_tx(&mut conn, |conn| {
                        crate::seed::history::seed(
                            conn,
                            &sla,
                            demo_today,
                            crate::seed::history::Scale::DEMO,
                        )
                    })
                    .map_err(|e| anyhow::anyhow!("demo history failed: {e}"))?;
                    tracing::info!(claims = made, "demo history seeded");
                }
            }
            Ok(())
        })
        .await??;
        std::fs::create_dir_all(settings.attachments_dir())?;

        let listener = TcpListener::bind(&settings.bind_addr)?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState::new(pool, settings));
        let metrics_server = metrics_server(&state)?;
        let first_sync = state.clone();
        web::block(move || -> anyhow::Result<usize> {
            let mut conn = first_sync.pool.get()?;
            Ok(first_sync.revocations.sync(&mut conn)?)
        })
        .await??;
        crate::auth::revocation::start_sync(state.clone());
        crate::workers::start(state.clone())?;
        let server = HttpServer::new(move || {
            let (app, mut openapi) = App::new()
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .configure(routes::configure)
                .split_for_parts();
            crate::openapi::declare_errors(&mut openapi);
            let metrics = state.metrics.clone();
            // Innermost: the console's cookie is resolved (and a missing CSRF token refused)
            // inside the logging and the metrics.
            app.wrap(actix_web::middleware::from_fn(
                crate::pages::session::resolve,
            ))
            .wrap(TracingLogger::default())
            .wrap_fn(move |req, service| {
                let (metrics, started) = (metrics.clone(), Instant::now());
                let method = req.method().clone();
                let answered = service.call(req);
                async move {
                    let response = answered.await?;
                    let route = response.request().match_pattern();
                    let status = response.status();
                    metrics.http_request(&method, route.as_deref(), status, started.elapsed());
                    Ok(response)
                }
            })
            .app_data(state.clone())
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::BadRequest(format!("bad query parameter: {err}")).into()
            }))
            .route(
                "/api-docs/openapi.json",
                web::get().to({
                    let doc = openapi.clone();
                    move || {
                        let doc = doc.clone();
                        async move { HttpResponse::Ok().json(doc) }
                    }
                }),
            )
            .configure(crate::pages::configure)
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::NotFound)
            }))
        })
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            metrics_server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the token-free `/metrics` (`METRICS_BIND`), when it is served.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics_server {
            Some((_, metrics)) => futures_util::future::try_join(self.server, metrics)
                .await
                .map(drop),
            None => self.server.await,
        }
    }
}

/// `GET /metrics` alone, without a token, on `METRICS_BIND` (for a scraper that the network
/// keeps apart from the API's clients).
fn metrics_server(state: &web::Data<AppState>) -> anyhow::Result<Option<(u16, Server)>> {
    let Some(addr) = &state.settings.metrics_bind else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).with_context(|| format!("METRICS_BIND `{addr}`"))?;
    let port = listener.local_addr()?.port();
    let state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(routes::ops::metrics_for_scraper))
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok(Some((port, server)))
}

/// The background workers alone, until the process is stopped (`claimroute worker`).
pub async fn run_workers(settings: Settings) -> anyhow::Result<()> {
    let pool = db::connect_pool_with(
        &settings.database_url,
        settings.pool_size,
        settings.sqlite_synchronous,
    )?;
    let setup_pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = setup_pool.get()?;
        db::run_migrations(&mut conn)?;
        Ok(())
    })
    .await??;
    let state = web::Data::new(AppState::new(pool, settings));
    let metrics_server = metrics_server(&state)?;
    crate::workers::start(state)?;
    tracing::info!("workers running");
    match metrics_server {
        // The metrics server stops on the same signals.
        Some((_, server)) => server.await?,
        None => tokio::signal::ctrl_c().await?,
    }
    Ok(())
}
