//! `POST /claims/{id}/comments`: anyone who sees the claim may write on it.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::claims;
use crate::auth::extract::ClaimReader;
use crate::db::types::ClaimId;
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CommentRequest {
    #[validate(length(min = 1, max = 5000))]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentAdded {
    /// `added`.
    pub status: String,
}

/// Adds a comment to the claim's history (a manager asking for details, the customer
/// answering).
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body = CommentRequest, security(("bearer" = [])),
    responses((status = 201, body = CommentAdded), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)))]
#[post("/claims/{id}/comments")]
pub async fn comment_claim(
    state: State,
    reader: ClaimReader,
    path: web::Path<i64>,
    body: ValidJson<CommentRequest>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *reader;
    let text = body.0.text;
    state
        .write(move |conn| {
            let claim = claims::visible(conn, &user, id)?;
            claims::comment(conn, &claim, user.id, &text)
        })
        .await?;
    Ok(HttpResponse::Created().json(CommentAdded {
        status: "added".to_owned(),
    }))
}
