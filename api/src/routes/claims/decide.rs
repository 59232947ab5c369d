//! `POST /claims/{id}/decision`: approval creates the courier jobs in the same transaction.

use actix_web::{post, web, HttpResponse};
use domain::decision::{validate_decision, DecisionInput, DecisionKind, Logistics, RejectReason};
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
    /// Required for a rejection: `expired`, `misuse`, `mechanical_damage`, `not_covered`,
    /// `unknown_serial` or `other` (each has a paragraph the customer reads).
    #[schema(value_type = Option<String>)]
    pub reason_code: Option<RejectReason>,
    /// Required for a refund, in minor units.
    pub refund_amount_cents: Option<i64>,
    /// For approvals: `courier` (default), `customer_brings` (no courier job; the claim
    /// waits for `POST /claims/{id}/received`), `onsite` (repairs: a technician's visit),
    /// `contractor` (repairs: a courier takes the unit to the workshop `partner_id` and,
    /// after `repair-done`, brings it back) or `supplier` (replacements: a courier collects
    /// the new unit at the supplier `partner_id` and exchanges it at the customer's).
    #[schema(value_type = Option<String>)]
    pub logistics: Option<Logistics>,
    /// For `logistics: contractor`: an active workshop (`GET /partners?kind=workshop`) that
    /// takes the product's category; for `supplier`: an active supplier
    /// (`GET /partners?kind=supplier`) that supplies it.
    pub partner_id: Option<i64>,
    /// Required to approve a claim whose warranty check is `expired` or `unknown_serial`.
    #[validate(nested)]
    #[serde(rename = "override")]
    pub override_: Option<WarrantyOverride>,
    /// The version the caller saw; a stale one is a 409.
    pub version: Option<i32>,
}

/// Why an approval goes ahead although the warranty does not cover the claim.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct WarrantyOverride {
    /// Goodwill, paid service...: recorded in the claim's history.
    #[validate(length(min = 1, max = 2000))]
    pub reason: String,
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
        reason_code: request.reason_code,
        refund_amount_cents: request.refund_amount_cents,
        logistics: request.logistics,
        override_reason: request.override_.map(|o| o.reason),
        partner_id: request.partner_id,
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
        claim: ClaimResponse::new(claim, &state.settings.notify.public_url),
        jobs: jobs.into_iter().map(JobInfo::from).collect(),
    }))
}
