//! `GET /jobs` for dispatchers and managers.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use domain::job::JobStatus;
use serde::Deserialize;
use utoipa::IntoParams;

use super::claims::remedies::ReasonRequest;
use super::claims::JobInfo;
use super::{decode_cursor, page_limit, paginate, Page};
use crate::app::{claims, plans};
use crate::auth::extract::JobReader;
use crate::auth::Role;
use crate::db::jobs::JobFilter;
use crate::db::types::{ClaimId, JobId};
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListJobsQuery {
    #[param(value_type = Option<i64>)]
    pub claim_id: Option<ClaimId>,
    #[param(value_type = Option<String>)]
    pub status: Option<JobStatus>,
    pub date: Option<NaiveDate>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Courier jobs, oldest first: dispatchers, heads and admins see all; a manager sees the
/// jobs of his claims.
#[utoipa::path(tag = "jobs", params(ListJobsQuery), security(("bearer" = [])), responses((status = 200, body = Page<JobInfo>)))]
#[get("/jobs")]
pub async fn list_jobs(
    state: State,
    reader: JobReader,
    query: web::Query<ListJobsQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let filter = JobFilter {
        claim_id: query.claim_id,
        status: query.status,
        date: query.date,
        assignee_id: (reader.role == Role::Manager).then_some(reader.id),
        after_id: decode_cursor(query.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = state.db(move |conn| plans::jobs(conn, &filter)).await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |j| j.id.0, JobInfo::from)))
}

/// Calls a job off before its visit is under way (the claim's manager, the head, a
/// dispatcher): it is taken off the day's plans and the customer is told.
#[utoipa::path(tag = "jobs", params(("id" = i64, Path)), request_body = ReasonRequest,
    security(("bearer" = [])),
    responses((status = 200, body = JobInfo), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/jobs/{id}/cancel")]
pub async fn cancel_job(
    state: State,
    reader: JobReader,
    path: web::Path<i64>,
    body: ValidJson<ReasonRequest>,
) -> ApiResult<HttpResponse> {
    let id = JobId(path.into_inner());
    let user = *reader;
    let reason = body.0.text()?;
    let sla = state.settings.sla.clone();
    let job = state
        .write(move |conn| claims::cancel_job(conn, &sla, &user, id, &reason))
        .await?;
    Ok(HttpResponse::Ok().json(JobInfo::from(job)))
}
