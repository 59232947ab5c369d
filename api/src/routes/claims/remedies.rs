//! Remedies to their end: a repair finished, a unit handed in at a depot, a claim withdrawn
//! by its customer.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{ClaimResponse, JobInfo};
use crate::app::claims;
use crate::auth::extract::{ClaimFiler, ClaimHandler};
use crate::db::types::ClaimId;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ValidJson, ValidJsonOrEmpty};
use crate::messages;
use crate::state::State;

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

impl NoteRequest {
    fn text(self) -> Option<String> {
        self.note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepairDoneResponse {
    pub claim: ClaimResponse,
    /// The `return` job that brings the unit back (none when the customer collects it).
    pub jobs: Vec<JobInfo>,
}

/// The workshop finished the repair (assignee or head). By courier, the `return` job is
/// created in the same transaction; if the customer brought the unit, she collects it and
/// the claim goes to quality control.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body(content = Option<NoteRequest>),
    security(("bearer" = [])),
    responses((status = 200, body = RepairDoneResponse), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/claims/{id}/repair-done")]
pub async fn repair_done(
    state: State,
    handler: ClaimHandler,
    path: web::Path<i64>,
    body: ValidJsonOrEmpty<NoteRequest>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *handler;
    let note = body.0.text();
    let sla = state.settings.sla.clone();
    let (claim, jobs) = state
        .write(move |conn| {
            let claim = claims::visible(conn, &user, id)?;
            claims::repair_done(conn, &sla, &claim, user.id, note.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(RepairDoneResponse {
        claim: ClaimResponse::new(claim, &state.settings.notify.public_url),
        jobs: jobs.into_iter().map(JobInfo::from).collect(),
    }))
}

/// The customer handed the unit in at a depot (`customer_brings`; assignee or head): a
/// repair goes to the workshop, an exchange or refund done at the counter to quality
/// control.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body(content = Option<NoteRequest>),
    security(("bearer" = [])),
    responses((status = 200, body = ClaimResponse), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/claims/{id}/received")]
pub async fn received(
    state: State,
    handler: ClaimHandler,
    path: web::Path<i64>,
    body: ValidJsonOrEmpty<NoteRequest>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *handler;
    let note = body.0.text();
    let sla = state.settings.sla.clone();
    let claim = state
        .write(move |conn| {
            let claim = claims::visible(conn, &user, id)?;
            claims::received(conn, &sla, &claim, user.id, note.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(ClaimResponse::new(claim, &state.settings.notify.public_url)))
}

/// Why something is called off (a withdrawal, a cancelled job): people read it.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[validate(length(min = 1, max = 2000))]
    pub reason: String,
}

impl ReasonRequest {
    /// The reason trimmed; one of only blanks is refused, naming the field.
    pub fn text(self) -> ApiResult<String> {
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::field("reason", messages::BLANK));
        }
        Ok(reason.to_owned())
    }
}

/// The customer (or the dealer who filed it) takes the claim back, before any visit is
/// under way: its jobs are cancelled and taken off the day's plans.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body = ReasonRequest,
    security(("bearer" = [])),
    responses((status = 200, body = ClaimResponse), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/claims/{id}/withdraw")]
pub async fn withdraw(
    state: State,
    filer: ClaimFiler,
    path: web::Path<i64>,
    body: ValidJson<ReasonRequest>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *filer;
    let reason = body.0.text()?;
    let sla = state.settings.sla.clone();
    let claim = state
        .write(move |conn| {
            let claim = claims::visible(conn, &user, id)?;
            claims::withdraw(conn, &sla, &claim, user.id, &reason)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .json(ClaimResponse::new(claim, &state.settings.notify.public_url).seen_by(user.role)))
}
