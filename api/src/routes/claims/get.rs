//! `GET /claims/{id}` with its history, attachments and jobs.

use actix_web::{get, web, HttpResponse};

use super::{visible_claim, ClaimResponse};
use crate::auth::extract::ClaimReader;
use crate::db::{attachments, claims, jobs};
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
    let id = path.into_inner();
    let user = *reader;
    let response = state
        .db(move |conn| {
            let claim = visible_claim(conn, &user, id)?;
            let history = claims::history(conn, id)?;
            let files = attachments::for_claim(conn, id)?;
            let jobs = jobs::for_claim(conn, id)?;
            let mut response = ClaimResponse::from(claim);
            response.history = Some(history.into_iter().map(Into::into).collect());
            response.attachments = Some(files.into_iter().map(Into::into).collect());
            response.jobs = Some(jobs.into_iter().map(Into::into).collect());
            Ok(response)
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}
