//! Liveness and readiness for load balancers and orchestrators, metrics for Prometheus.

use actix_web::{get, web, HttpResponse};

use crate::auth::extract::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::State;

/// The process is up.
#[utoipa::path(tag = "ops", responses((status = 200, description = "alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers.
#[utoipa::path(tag = "ops", responses((status = 200, description = "ready"), (status = 503, description = "database unreachable")))]
#[get("/readyz")]
pub async fn readyz(state: State) -> ApiResult<HttpResponse> {
    state.db(|conn| Ok(crate::db::ping(conn)?)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

/// Prometheus metrics in the OpenMetrics text format: HTTP requests, plan runs, deliveries,
/// escalations, the outbox backlog, overdue claims, the database pool. Admins only here;
/// `METRICS_BIND` serves the same without a token on an address of its own for a scraper.
#[utoipa::path(tag = "ops", security(("bearer" = [])), responses(
    (status = 200, description = "the metrics", content_type = "application/openmetrics-text", body = String)
))]
#[get("/metrics")]
pub async fn metrics(state: State, _admin: Admin) -> ApiResult<HttpResponse> {
    scrape(state).await
}

/// `GET /metrics` on `METRICS_BIND`, where only the scraper can reach.
pub async fn metrics_for_scraper(state: State) -> ApiResult<HttpResponse> {
    scrape(state).await
}

async fn scrape(state: State) -> ApiResult<HttpResponse> {
    let scraped = state.clone();
    let text = web::block(move || scraped.metrics.scrape(&scraped.pool))
        .await
        .map_err(ApiError::from)?
        .map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(text))
}
