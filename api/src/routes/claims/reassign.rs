//! `POST /claims/{id}/reassign` (head).

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::ClaimResponse;
use crate::app::claims;
use crate::auth::extract::Head;
use crate::db::types::{ClaimId, UserId};
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ReassignRequest {
    pub manager_id: UserId,
}

/// Gives the claim to another manager; if he is absent, his substitute receives it.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body = ReassignRequest, security(("bearer" = [])),
    responses((status = 200, body = ClaimResponse), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/claims/{id}/reassign")]
pub async fn reassign_claim(
    state: State,
    head: Head,
    path: web::Path<i64>,
    body: ValidJson<ReassignRequest>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *head;
    let manager_id = body.0.manager_id;
    let claim = state
        .write(move |conn| {
            let claim = claims::visible(conn, &user, id)?;
            claims::reassign(conn, &claim, user.id, manager_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ClaimResponse::new(claim, &state.settings.notify.public_url)))
}
