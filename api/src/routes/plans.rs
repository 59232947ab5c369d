//! Plans of a day (dispatchers and admins): queue a run, watch it, read and edit the
//! routes, publish, re-optimise a day under way.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{decode_cursor, page_limit, paginate, Page};
use crate::auth::extract::Dispatch;
use crate::db::plans::{self, NewPlan, PlanRow};
use crate::db::{fleet, now};
use crate::dispatch::edit::{self, EditPlanRequest, PlanViolation};
use crate::dispatch::publish::{self, PublishRequest};
use crate::dispatch::runner::ProgressPoint;
use crate::dispatch::solution::Kpis;
use crate::dispatch::view::{self, PlanRoutes};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::messages;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreatePlanRequest {
    pub date: NaiveDate,
    /// Plan only this depot's couriers and the jobs it serves (the nearest depot).
    pub depot_id: Option<i64>,
    /// The planner's time budget; the server's default when absent.
    pub time_limit_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default, ToSchema)]
pub struct ReoptimizeRequest {
    pub time_limit_ms: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanResponse {
    pub id: i64,
    pub date: NaiveDate,
    pub depot_id: Option<i64>,
    /// `queued`, `running`, `draft`, `published`, `superseded` or `failed`.
    pub status: String,
    pub version: i32,
    pub time_limit_ms: i32,
    /// The server process that computed (or computes) the plan.
    pub runner: Option<String>,
    /// The published plan this one re-optimises.
    pub reoptimizes_id: Option<i64>,
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
            status: p.status,
            version: p.version,
            time_limit_ms: p.time_limit_ms,
            runner: p.runner,
            reoptimizes_id: p.reoptimizes_id,
            created_at: p.created_at.and_utc(),
            started_at: p.started_at.map(|t| t.and_utc()),
            finished_at: p.finished_at.map(|t| t.and_utc()),
            published_at: p.published_at.map(|t| t.and_utc()),
            progress: serde_json::from_str(&p.progress).unwrap_or_default(),
            kpis: p
                .stats
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok()),
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

fn time_limit(state: &State, requested: Option<u64>) -> ApiResult<i32> {
    let settings = &state.settings.dispatch;
    let ms = requested.unwrap_or(settings.default_time_limit.as_millis() as u64);
    let max = settings.max_time_limit.as_millis() as u64;
    if !(100..=max).contains(&ms) {
        return Err(ApiError::field("time_limit_ms", messages::TIME_LIMIT_RANGE));
    }
    i32::try_from(ms).map_err(|_| ApiError::field("time_limit_ms", messages::TIME_LIMIT_RANGE))
}

fn scope_of(depot_id: Option<i64>) -> String {
    depot_id.map_or_else(|| "all".to_owned(), |d| format!("depot:{d}"))
}

/// A plan to queue for the workers.
struct QueuedPlan<'a> {
    date: NaiveDate,
    depot_id: Option<i64>,
    scope: &'a str,
    created_by: i64,
    based_on_id: Option<i64>,
    reoptimizes_id: Option<i64>,
    time_limit_ms: i32,
}

impl QueuedPlan<'_> {
    fn insert(&self, conn: &mut crate::db::DbConnection) -> diesel::QueryResult<PlanRow> {
        let at = now();
        plans::insert(
            conn,
            &NewPlan {
                date: self.date,
                depot_id: self.depot_id,
                scope: self.scope,
                status: plans::QUEUED,
                created_by: self.created_by,
                based_on_id: self.based_on_id,
                reoptimizes_id: self.reoptimizes_id,
                time_limit_ms: self.time_limit_ms,
                created_at: at,
                updated_at: at,
            },
        )
    }
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
            if let Some(depot) = r.depot_id {
                fleet::find_depot(conn, depot)?
                    .ok_or_else(|| ApiError::field("depot_id", messages::UNKNOWN_DEPOT))?;
            }
            let scope = scope_of(r.depot_id);
            let based_on = plans::published(conn, r.date, &scope)?.map(|p| p.id);
            let queued = QueuedPlan {
                date: r.date,
                depot_id: r.depot_id,
                scope: &scope,
                created_by: who.id,
                based_on_id: based_on,
                reoptimizes_id: None,
                time_limit_ms: limit,
            };
            Ok(queued.insert(conn)?)
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
        .db(move |conn| Ok(plans::list(conn, date, after, limit + 1)?))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |p| p.id, PlanResponse::from)))
}

async fn find_plan(state: &State, id: i64) -> ApiResult<PlanRow> {
    state
        .db(move |conn| plans::find(conn, id)?.ok_or(ApiError::NotFound))
        .await
}

/// A plan: its status, progress while it runs and KPIs once computed.
#[utoipa::path(tag = "plans", security(("bearer" = [])), responses((status = 200, body = PlanResponse), (status = 404, body = crate::error::Problem)))]
#[get("/plans/{id}")]
pub async fn get_plan(state: State, _who: Dispatch, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let plan = find_plan(&state, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(PlanResponse::from(plan)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RoutesQuery {
    /// `json` (default) or `geojson`.
    pub format: Option<String>,
}

/// The routes of a computed plan per courier, with the unassigned jobs and why; as
/// GeoJSON with `?format=geojson`.
#[utoipa::path(tag = "plans", params(RoutesQuery), security(("bearer" = [])), responses(
    (status = 200, body = PlanRoutes), (status = 409, body = crate::error::Problem)))]
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
    let id = id.into_inner();
    let routes = state
        .db(move |conn| {
            let plan = plans::find(conn, id)?.ok_or(ApiError::NotFound)?;
            if plan.problem.is_none()
                || matches!(
                    plan.status.as_str(),
                    plans::QUEUED | plans::RUNNING | plans::FAILED
                )
            {
                return Err(ApiError::Conflict(messages::PLAN_NOT_READY.to_owned()));
            }
            view::routes(conn, &plan)
        })
        .await?;
    if geo {
        return Ok(HttpResponse::Ok()
            .content_type("application/geo+json")
            .json(view::geojson(&routes)));
    }
    Ok(HttpResponse::Ok().json(routes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanProblem {
    /// Times in the problem are seconds from this instant.
    pub origin: DateTime<Utc>,
    /// The planner's input exactly as solved (the `planner` CLI reads it).
    #[schema(value_type = Object)]
    pub problem: serde_json::Value,
}

/// The planner input a plan was computed from: to reproduce or audit it with the `planner`
/// command line tool.
#[utoipa::path(tag = "plans", security(("bearer" = [])), responses(
    (status = 200, body = PlanProblem), (status = 409, body = crate::error::Problem)))]
#[get("/plans/{id}/problem")]
pub async fn plan_problem(
    state: State,
    _who: Dispatch,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let plan = find_plan(&state, id.into_inner()).await?;
    let (Some(problem), Some(origin)) = (plan.problem, plan.origin) else {
        return Err(ApiError::Conflict(messages::PLAN_NOT_READY.to_owned()));
    };
    let problem = serde_json::from_str(&problem).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::Ok().json(PlanProblem {
        origin: origin.and_utc(),
        problem,
    }))
}

/// Moves stops between routes and positions and locks them; the changed routes are
/// re-timed and every problem found is returned (and stored on the stops).
#[utoipa::path(tag = "plans", request_body = EditPlanRequest, security(("bearer" = [])), responses(
    (status = 200, body = EditPlanResponse), (status = 409, body = crate::error::Problem),
    (status = 422, body = crate::error::Problem)))]
#[patch("/plans/{id}")]
pub async fn edit_plan(
    state: State,
    _who: Dispatch,
    id: web::Path<i64>,
    body: ValidJson<EditPlanRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let request = body.0;
    let response = state
        .write(move |conn| {
            let plan = plans::find(conn, id)?.ok_or(ApiError::NotFound)?;
            let plan = edit::apply(conn, &plan, &request)?;
            Ok(EditPlanResponse {
                violations: edit::violations(conn, &plan)?,
                routes: view::routes(conn, &plan)?,
                plan: PlanResponse::from(plan),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

/// Publishes a draft: its jobs go to their couriers and the day's previous plan is
/// superseded, atomically.
#[utoipa::path(tag = "plans", request_body = PublishRequest, security(("bearer" = [])), responses(
    (status = 200, body = PlanResponse), (status = 409, body = crate::error::Problem)))]
#[post("/plans/{id}/publish")]
pub async fn publish_plan(
    state: State,
    who: Dispatch,
    id: web::Path<i64>,
    body: Option<web::Json<PublishRequest>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let request = body.map(|b| b.into_inner()).unwrap_or_default();
    let plan = state
        .write(move |conn| publish::publish(conn, id, who.id, &request))
        .await?;
    Ok(HttpResponse::Ok().json(PlanResponse::from(plan)))
}

/// Re-optimises a published plan of a day under way: visits started or done and locked
/// stops stay where they are, the other stops keep their courier and order, and jobs
/// approved since are inserted where they disturb least. The result is a new draft.
#[utoipa::path(tag = "plans", request_body = ReoptimizeRequest, security(("bearer" = [])), responses(
    (status = 202, body = PlanResponse), (status = 409, body = crate::error::Problem)))]
#[post("/plans/{id}/reoptimize")]
pub async fn reoptimize_plan(
    state: State,
    who: Dispatch,
    id: web::Path<i64>,
    body: Option<web::Json<ReoptimizeRequest>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let limit = time_limit(&state, body.and_then(|b| b.into_inner().time_limit_ms))?;
    let plan = state
        .write(move |conn| {
            let source = plans::find(conn, id)?.ok_or(ApiError::NotFound)?;
            if source.status != plans::PUBLISHED {
                return Err(ApiError::Conflict(messages::PLAN_NOT_PUBLISHED.to_owned()));
            }
            let queued = QueuedPlan {
                date: source.date,
                depot_id: source.depot_id,
                scope: &source.scope,
                created_by: who.id,
                based_on_id: Some(source.id),
                reoptimizes_id: Some(source.id),
                time_limit_ms: limit,
            };
            Ok(queued.insert(conn)?)
        })
        .await?;
    state.plan_wakeup.notify_one();
    Ok(accepted(plan))
}
