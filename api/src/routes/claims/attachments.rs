//! Photos and documents of a claim.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::AttachmentInfo;
use crate::app::attachments::{accept_upload, claim_file_target, read_claim_file};
use crate::auth::extract::ClaimReader;
use crate::db::attachments::AttachmentRow;
use crate::db::types::ClaimId;
use crate::error::ApiResult;
use crate::state::State;

/// Uploads a file (multipart field `file`): JPEG, PNG or PDF, recognised by content; at most
/// the configured size (10 MiB by default) and, for images, pixels (40 megapixels). A body
/// announced larger is refused before it is read, as is one for a claim the caller may
/// not see.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = AttachmentInfo), (status = 400, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 413, body = crate::error::Problem),
              (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/claims/{id}/attachments")]
pub async fn upload_attachment(
    state: State,
    reader: ClaimReader,
    path: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *reader;
    let row = accept_upload(&state, &req, payload, move |conn| {
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
    let (row, bytes) = read_claim_file(&state, *reader, ClaimId(id), att_id, false).await?;
    Ok(file_response(
        &row,
        row.content_type.clone(),
        &row.file_name,
        bytes,
    ))
}

/// A small JPEG of an image file (at most 320 pixels a side); a 404 for a PDF.
#[utoipa::path(tag = "claims", params(("id" = i64, Path), ("att_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the thumbnail", content_type = "image/jpeg"),
              (status = 404, body = crate::error::Problem)))]
#[get("/claims/{id}/attachments/{att_id}/thumbnail")]
pub async fn attachment_thumbnail(
    state: State,
    reader: ClaimReader,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, att_id) = path.into_inner();
    let (row, bytes) = read_claim_file(&state, *reader, ClaimId(id), att_id, true).await?;
    let name = format!("{}.thumb.jpg", row.file_name);
    Ok(file_response(&row, "image/jpeg".to_owned(), &name, bytes))
}

/// A stored file as a download: its name in both `filename` (ASCII only) and `filename*`
/// (UTF-8), never sniffed by the browser, cached privately (its content never changes).
fn file_response(
    row: &AttachmentRow,
    content_type: String,
    name: &str,
    bytes: Vec<u8>,
) -> HttpResponse {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400, immutable"))
        .insert_header((header::ETAG, format!("\"{}\"", row.sha256)))
        .body(bytes)
}
