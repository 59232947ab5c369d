//! Plans of a day (dispatchers and admins): queue a run, watch it, read and edit the
//! routes, publish, re-optimise a day under way.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::plan::PlanObjective;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{decode_cursor, page_limit, paginate, Page};
use crate::app::plans::edit::{EditPlanRequest, PlanViolation};
use crate::app::plans::publish::PublishRequest;
use crate::app::plans::view::{self, FeatureCollection, PlanRoutes};
use crate::app::plans::{self, Edited};
use crate::auth::extract::Dispatch;
use crate::db::plans::{Kpis, PlanRow, ProgressPoint};
use crate::db::types::PlanId;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ValidJson, ValidJsonOrEmpty};
use crate::messages;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreatePlanRequest {
    pub date: NaiveDate,
    /// Plan only this depot's couriers and the jobs it serves (the nearest depot).
    pub depot_id: Option<i64>,
    /// The planner's time budget; the server's default when absent.
    pub time_limit_ms: Option<u64>,
    /// What the plan minimises once every job that fits is served: `cost` (the default:
    /// kilometres and paid hours, waiting included, at `COURIER_COST_PER_KM` and
    /// `COURIER_COST_PER_HOUR`), `fewest_couriers`, `balanced` (the longest day as short as
    /// possible, the others close to it), `earliest_finish` or `distance`.
    #[schema(value_type = Option<String>, example = "cost")]
    pub objective: Option<PlanObjective>,
}

#[derive(Debug, Deserialize, Default, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReoptimizeRequest {
    /// The planner's time budget; the server's default when absent.
    pub time_limit_ms: Option<u64>,
    /// How inserted jobs are priced (see `CreatePlanRequest`); the published plan's
    /// objective when absent.
    #[schema(value_type = Option<String>)]
    pub objective: Option<PlanObjective>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanResponse {
    pub id: PlanId,
    pub date: NaiveDate,
    pub depot_id: Option<i64>,
    /// `queued`, `running`, `draft`, `published`, `superseded` or `failed`.
    pub status: String,
    pub version: i32,
    pub time_limit_ms: i32,
    /// What the run minimises (`cost`, `fewest_couriers`, `balanced`, `earliest_finish`,
    /// `distance`).
    pub objective: String,
    /// The server process that computed (or computes) the plan.
    pub runner: Option<String>,
    /// How many times a server took the plan to compute it: 1 once it was computed.
    pub runs: i32,
    /// The published plan this one re-optimises.
    pub reoptimizes_id: Option<PlanId>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// Best cost found over time while running (and the whole curve afterwards).
    pub progress: Vec<ProgressPoint>,
    /// Once computed.
    pub kpis: Option<Kpis>,
    pub error: Option<String>,
}

impl From<PlanRow> for PlanResponse {
    fn from(p: PlanRow) -> Self {
        Self {
            id: p.id,
            date: p.date,
            depot_id: p.depot_id,
            status: p.status.as_str().to_owned(),
            version: p.version,
            time_limit_ms: p.time_limit_ms,
            objective: p.objective.as_str().to_owned(),
            runner: p.runner,
            runs: p.runs,
            reoptimizes_id: p.reoptimizes_id,
            created_at: p.created_at.and_utc(),
            started_at: p.started_at.map(|t| t.and_utc()),
            finished_at: p.finished_at.map(|t| t.and_utc()),
            published_at: p.published_at.map(|t| t.and_utc()),
            progress: p.progress,
            kpis: p.stats,
            error: p.error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EditPlanResponse {
    pub plan: PlanResponse,
    /// Every problem the plan's routes now have; empty when all is feasible.
    pub violations: Vec<PlanViolation>,
    pub routes: PlanRoutes,
}

/// The planner budget asked for, within what the server allows.
fn time_limit(state: &State, requested: Option<u64>) -> ApiResult<i32> {
    let settings = &state.settings.dispatch;
    let ms = requested.unwrap_or(settings.default_time_limit.as_millis() as u64);
    let max = settings.max_time_limit.as_millis() as u64;
    if !(100..=max).contains(&ms) {
        return Err(ApiError::field("time_limit_ms", messages::TIME_LIMIT_RANGE));
    }
    i32::try_from(ms).map_err(|_| ApiError::field("time_limit_ms", messages::TIME_LIMIT_RANGE))
}

fn accepted(plan: PlanRow) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header(("Location", format!("/api/v1/plans/{}", plan.id)))
        .json(PlanResponse::from(plan))
}

/// Queues a plan of a day; it is computed in the background. Watch it with `GET /plans/{id}`.
#[utoipa::path(tag = "plans", request_body = CreatePlanRequest, security(("bearer" = [])), responses(
    (status = 202, body = PlanResponse), (status = 422, body = crate::error::Problem)))]
#[post("/plans")]
pub async fn create_plan(
    state: State,
    who: Dispatch,
    body: ValidJson<CreatePlanRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.0;
    let limit = time_limit(&state, r.time_limit_ms)?;
    let plan = state
        .write(move |conn| {
            let objective = r.objective.unwrap_or_default();
            plans::queue(conn, who.id, r.date, r.depot_id, limit, objective)
        })
        .await?;
    state.plan_wakeup.notify_one();
    Ok(accepted(plan))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListPlansQuery {
    pub date: Option<NaiveDate>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Plans, oldest first, optionally of one date.
#[utoipa::path(tag = "plans", params(ListPlansQuery), security(("bearer" = [])), responses((status = 200, body = Page<PlanResponse>)))]
#[get("/plans")]
pub async fn list_plans(
    state: State,
    _who: Dispatch,
    query: web::Query<ListPlansQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let after = decode_cursor(query.cursor.as_deref())?;
    let date = query.date;
    let rows = state
        .db(move |conn| plans::list(conn, date, after, limit + 1))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |p| p.id.0, PlanResponse::from)))
}

/// A plan: its status, progress while it runs and KPIs once computed.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = PlanResponse), (status = 404, body = crate::error::Problem)))]
#[get("/plans/{id}")]
pub async fn get_plan(state: State, _who: Dispatch, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = PlanId(id.into_inner());
    let plan = state.db(move |conn| plans::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(PlanResponse::from(plan)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RoutesQuery {
    /// `json` (default) or `geojson`.
    pub format: Option<String>,
}

/// The routes of a computed plan per courier, with the unassigned jobs and why; as
/// GeoJSON with `?format=geojson`.
#[utoipa::path(tag = "plans", params(("id" = i64, Path), RoutesQuery), security(("bearer" = [])), responses(
    (status = 200, content((PlanRoutes = "application/json"), (FeatureCollection = "application/geo+json"))),
    (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem)))]
#[get("/plans/{id}/routes")]
pub async fn plan_routes(
    state: State,
    _who: Dispatch,
    id: web::Path<i64>,
    query: web::Query<RoutesQuery>,
) -> ApiResult<HttpResponse> {
    let geo = match query.format.as_deref() {
        None | Some("json") => false,
        Some("geojson") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "format must be json or geojson".to_owned(),
            ))
        }
    };
    let id = PlanId(id.into_inner());
    let routes = state.db(move |conn| plans::routes(conn, id)).await?;
    if geo {
        Ok(HttpResponse::Ok()
            .content_type("application/geo+json")
            .json(view::geojson(&routes)))
    } else {
        Ok(HttpResponse::Ok().json(routes))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanProblem {
    /// Times in the problem are seconds from this instant.
    pub origin: DateTime<Utc>,
    /// The planner's input exactly as solved (the `planner` CLI reads it).
    #[schema(value_type = Object)]
    pub problem: planner::Problem,
}

/// The planner input a plan was computed from: to reproduce or audit it with the `planner`
/// command line tool.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), security(("bearer" = [])), responses(
    (status = 200, body = PlanProblem), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem)))]
#[get("/plans/{id}/problem")]
pub async fn plan_problem(
    state: State,
    _who: Dispatch,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = PlanId(id.into_inner());
    let (problem, origin) = state.db(move |conn| plans::problem(conn, id)).await?;
    Ok(HttpResponse::Ok().json(PlanProblem { origin, problem }))
}

/// Moves stops between couriers and positions, takes them off or puts them on routes, and
/// locks or unlocks them. Changed routes are re-timed; every late, overloaded or
/// unqualified stop is stored and returned (publishing it then needs `accept_violations`).
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), request_body = EditPlanRequest, security(("bearer" = [])), responses(
    (status = 200, body = EditPlanResponse), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[patch("/plans/{id}")]
pub async fn edit_plan(
    state: State,
    _who: Dispatch,
    id: web::Path<i64>,
    body: ValidJson<EditPlanRequest>,
) -> ApiResult<HttpResponse> {
    let id = PlanId(id.into_inner());
    let request = body.0;
    let Edited {
        plan,
        violations,
        routes,
    } = state
        .write(move |conn| plans::edit(conn, id, &request))
        .await?;
    Ok(HttpResponse::Ok().json(EditPlanResponse {
        plan: PlanResponse::from(plan),
        violations,
        routes,
    }))
}

/// Publishes a draft: its jobs go to their couriers, the day's earlier published plan is
/// superseded, and each customer whose visit got a time is told. Refused (409) if the
/// plan changed since `version`, has violations without `accept_violations`, was computed
/// before another publication of its day, or its jobs changed meanwhile.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), request_body(content = Option<PublishRequest>), security(("bearer" = [])), responses(
    (status = 200, body = PlanResponse), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/plans/{id}/publish")]
pub async fn publish_plan(
    state: State,
    who: Dispatch,
    id: web::Path<i64>,
    body: ValidJsonOrEmpty<PublishRequest>,
) -> ApiResult<HttpResponse> {
    let id = PlanId(id.into_inner());
    let request = body.0;
    let plan = state
        .write(move |conn| plans::publish(conn, id, who.id, &request))
        .await?;
    Ok(HttpResponse::Ok().json(PlanResponse::from(plan)))
}

/// Re-optimises a published plan of a day under way: visits started or done and locked
/// stops stay where they are, the other stops keep their courier and order, and jobs
/// approved since are inserted where they disturb least. The result is a new draft.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), request_body(content = Option<ReoptimizeRequest>), security(("bearer" = [])), responses(
    (status = 202, body = PlanResponse), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/plans/{id}/reoptimize")]
pub async fn reoptimize_plan(
    state: State,
    who: Dispatch,
    id: web::Path<i64>,
    body: ValidJsonOrEmpty<ReoptimizeRequest>,
) -> ApiResult<HttpResponse> {
    let id = PlanId(id.into_inner());
    let limit = time_limit(&state, body.0.time_limit_ms)?;
    let objective = body.0.objective;
    let plan = state
        .write(move |conn| plans::reoptimize(conn, who.id, id, limit, objective))
        .await?;
    state.plan_wakeup.notify_one();
    Ok(accepted(plan))
}
