//! Photos and documents of a claim.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};

use super::AttachmentInfo;
use crate::app::attachments::{accept_upload, claim_file_target, read_claim_file};
use crate::auth::extract::ClaimReader;
use crate::db::types::ClaimId;
use crate::error::ApiResult;
use crate::state::State;

/// Uploads a file (multipart field `file`): JPEG, PNG or PDF, recognised by content; at most
/// the configured size (10 MiB by default).
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = AttachmentInfo), (status = 404, body = crate::error::Problem),
              (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)))]
#[post("/claims/{id}/attachments")]
pub async fn upload_attachment(
    state: State,
    reader: ClaimReader,
    path: web::Path<i64>,
    payload: Multipart,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *reader;
    let row = accept_upload(&state, payload, move |conn| {
        claim_file_target(conn, &user, id)
    })
    .await?;
    Ok(HttpResponse::Created().json(AttachmentInfo::from(row)))
}

/// Downloads a file of a claim the caller may see.
#[utoipa::path(tag = "claims", params(("id" = i64, Path), ("att_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::Problem)))]
#[get("/claims/{id}/attachments/{att_id}")]
pub async fn download_attachment(
    state: State,
    reader: ClaimReader,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, att_id) = path.into_inner();
    let (row, bytes) = read_claim_file(&state, *reader, ClaimId(id), att_id).await?;
    Ok(HttpResponse::Ok()
        .content_type(row.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", row.file_name),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
