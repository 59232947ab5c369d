//! `POST /claims/{id}/transition`: the assignee (or the head) moves a claim through review.

use actix_web::{post, web, HttpResponse};
use domain::claim::{ClaimStatus, TransitionTrigger};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::ClaimResponse;
use crate::app::claims;
use crate::auth::extract::ClaimHandler;
use crate::db::types::ClaimId;
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct TransitionRequest {
    /// The stage to move to.
    #[schema(value_type = String)]
    pub to: ClaimStatus,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
    /// The version the caller saw; a stale one is a 409.
    pub version: Option<i32>,
}

/// Moves the claim to the next stage (`new` -> `info_check` -> `diagnostics` -> `decision`;
/// `quality_control` -> `closed`). Decisions go through `/decision`; an illegal move is a 409
/// that lists the allowed ones.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body = TransitionRequest, security(("bearer" = [])),
    responses((status = 200, body = ClaimResponse), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
#[post("/claims/{id}/transition")]
pub async fn transition_claim(
    state: State,
    handler: ClaimHandler,
    path: web::Path<i64>,
    body: ValidJson<TransitionRequest>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *handler;
    let request = body.0;
    let sla = state.settings.sla.clone();
    let claim = state
        .write(move |conn| {
            let claim = claims::visible_at(conn, &user, id, request.version)?;
            let note = request
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty());
            claims::transition(
                conn,
                &sla,
                &claim,
                user.id,
                request.to,
                TransitionTrigger::Manual,
                note,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(ClaimResponse::new(claim, &state.settings.notify.public_url)))
}
