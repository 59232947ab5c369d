//! `GET /claims/{id}` with its history, attachments and jobs.

use actix_web::{get, web, HttpResponse};

use super::ClaimResponse;
use crate::app::claims;
use crate::auth::extract::ClaimReader;
use crate::db::types::ClaimId;
use crate::error::ApiResult;
use crate::state::State;

/// One claim with its full history (who, when, from, to, note), the decision and its
/// reason, attachments and courier jobs. Another owner's claim is a 404.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ClaimResponse), (status = 404, body = crate::error::Problem)))]
#[get("/claims/{id}")]
pub async fn get_claim(
    state: State,
    reader: ClaimReader,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *reader;
    let details = state
        .db(move |conn| claims::details(conn, &user, id))
        .await?;
    Ok(HttpResponse::Ok().json(
        ClaimResponse::with_details(details, &state.settings.notify.public_url).seen_by(user.role),
    ))
}
