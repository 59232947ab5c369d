//! Photos and documents of a claim.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};

use super::{visible_claim, AttachmentInfo};
use crate::auth::extract::ClaimReader;
use crate::db::attachments;
use crate::error::{ApiError, ApiResult};
use crate::routes::{accept_upload, UploadTarget};
use crate::state::State;
use crate::storage;

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
    let id = path.into_inner();
    let user = *reader;
    accept_upload(&state, payload, move |conn| {
        visible_claim(conn, &user, id)?;
        Ok(UploadTarget {
            claim_id: Some(id),
            job_id: None,
            kind: "claim",
            uploaded_by: user.id,
        })
    })
    .await
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
    let user = *reader;
    let row = state
        .db(move |conn| {
            visible_claim(conn, &user, id)?;
            attachments::find_for_claim(conn, id, att_id)?.ok_or(ApiError::NotFound)
        })
        .await?;
    let file = storage::path_for(&state.settings.attachments_dir(), &row.sha256);
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|e| anyhow::anyhow!("attachment {att_id} unreadable: {e}"))?;
    Ok(HttpResponse::Ok()
        .content_type(row.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", row.file_name),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
