//! `POST /claims/{id}/comments`: anyone who sees the claim may write on it.

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::visible_claim;
use crate::auth::extract::ClaimReader;
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;
use crate::workflow;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CommentRequest {
    #[validate(length(min = 1, max = 5000))]
    pub text: String,
}

/// Adds a comment to the claim's history (a manager asking for details, the customer
/// answering).
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), request_body = CommentRequest, security(("bearer" = [])),
    responses((status = 201), (status = 404, body = crate::error::Problem)))]
#[post("/claims/{id}/comments")]
pub async fn comment_claim(
    state: State,
    reader: ClaimReader,
    path: web::Path<i64>,
    body: ValidJson<CommentRequest>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let user = *reader;
    let text = body.0.text.trim().to_owned();
    if text.is_empty() {
        return Err(crate::error::ApiError::field("text", "must not be blank"));
    }
    state
        .write(move |conn| {
            let claim = visible_claim(conn, &user, id)?;
            workflow::comment(conn, &claim, user.id, &text)
        })
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"status": "added"})))
}
