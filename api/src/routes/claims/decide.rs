//! `POST /claims/{id}/decision`: approval creates the courier jobs in the same transaction.

use actix_web::{post, web, HttpResponse};
use domain::decision::{validate_decision, DecisionInput, DecisionKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{ClaimResponse, JobInfo};
use crate::app::claims;
use crate::auth::extract::ClaimHandler;
use crate::db::types::ClaimId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct DecisionRequest {
    /// `replacement`, `refund`, `repair` or `reject`.
    #[schema(value_type = String)]
    pub decision: DecisionKind,
    /// Required for a rejection: the customer reads it.
    pub reason: Option<String>,
    /// Required for a refund, in minor units.
    pub refund_amount_cents: Option<i64>,
    /// The version the caller saw; a stale one is a 409.
    pub version: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionResponse {
    pub claim: ClaimResponse,
    /// The courier jobs the decision created (none for a rejection).
    pub jobs: Vec<JobInfo>,
}

/// Decides a claim in review (assignee or head): replacement, refund or repair approve it
/// and create the courier jobs; reject closes it with a reason. The claim, the jobs, the
/// history row and the notification are written in one transaction; of two concurrent
/// decisions exactly one wins and the other gets a 409.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body = DecisionRequest, security(("bearer" = [])),
    responses((status = 200, body = DecisionResponse), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/claims/{id}/decision")]
pub async fn decide_claim(
    state: State,
    handler: ClaimHandler,
    path: web::Path<i64>,
    body: ValidJson<DecisionRequest>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *handler;
    let request = body.0;
    let decision = validate_decision(DecisionInput {
        kind: request.decision,
        reason: request.reason,
        refund_amount_cents: request.refund_amount_cents,
    })
    .map_err(ApiError::Validation)?;
    let sla = state.settings.sla.clone();
    let (claim, jobs) = state
        .write(move |conn| {
            let claim = claims::visible_at(conn, &user, id, request.version)?;
            claims::decide(conn, &sla, &claim, user.id, &decision)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DecisionResponse {
        claim: ClaimResponse::from(claim),
        jobs: jobs.into_iter().map(JobInfo::from).collect(),
    }))
}
