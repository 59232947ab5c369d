//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{get, HttpResponse};

use crate::error::ApiResult;
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
