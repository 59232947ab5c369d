//! Files on claims and jobs (customers' photos, couriers' proofs): one upload path for all
//! of them. The body's announced length and the caller's right to upload are checked
//! before a byte of it is read, so nobody fills memory or disk through others' objects; a
//! refused body is not read on (the server drops the rest for a moment, so the client
//! still gets the answer).

use actix_web::HttpRequest;

use crate::auth::extract::AuthUser;
use crate::db::attachments::{self, AttachmentRow, NewAttachment};
use crate::db::types::{ClaimId, JobId, UserId};
use crate::db::{now, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::extract::content_length;
use crate::state::AppState;
use crate::storage;

/// Where an uploaded file belongs.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    pub claim_id: Option<ClaimId>,
    pub job_id: Option<JobId>,
    pub kind: &'static str,
    pub uploaded_by: UserId,
}

/// Kind of a file a customer, dealer or manager puts on a claim.
pub const CLAIM_FILE: &str = "claim";

/// Stores an upload once `target` (run first, on the database) has said where it goes.
pub async fn accept_upload<F>(
    state: &AppState,
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    target: F,
) -> ApiResult<AttachmentRow>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<UploadTarget> + Send + 'static,
{
    let limits = state.settings.upload_limits();
    storage::check_announced_length(content_length(req), limits)?;
    let target = state.db(target).await?;
    let root = state.settings.attachments_dir();
    let stored = storage::receive(req.headers(), payload.into_inner(), &root, limits).await?;
    state
        .write(move |conn| {
            Ok(attachments::insert(
                conn,
                &NewAttachment {
                    claim_id: target.claim_id,
                    job_id: target.job_id,
                    kind: target.kind,
                    file_name: &stored.file_name,
                    content_type: stored.content_type,
                    bytes: stored.bytes,
                    sha256: &stored.sha256,
                    uploaded_by: target.uploaded_by,
                    created_at: now(),
                    width: stored
                        .size
                        .map(|(w, _)| i32::try_from(w).unwrap_or(i32::MAX)),
                    height: stored
                        .size
                        .map(|(_, h)| i32::try_from(h).unwrap_or(i32::MAX)),
                    thumbnail: stored.thumbnail,
                },
            )?)
        })
        .await
}

/// A claim file for whoever may see the claim.
pub fn claim_file_target(
    conn: &mut DbConnection,
    user: &AuthUser,
    claim_id: ClaimId,
) -> ApiResult<UploadTarget> {
    super::claims::visible(conn, user, claim_id)?;
    Ok(UploadTarget {
        claim_id: Some(claim_id),
        job_id: None,
        kind: CLAIM_FILE,
        uploaded_by: user.id,
    })
}

/// A file of a claim the caller may see, with its bytes; its thumbnail with `thumbnail`
/// (a 404 for a file that has none).
pub async fn read_claim_file(
    state: &AppState,
    user: AuthUser,
    claim_id: ClaimId,
    id: i64,
    thumbnail: bool,
) -> ApiResult<(AttachmentRow, Vec<u8>)> {
    let row = state
        .db(move |conn| {
            super::claims::visible(conn, &user, claim_id)?;
            attachments::find_for_claim(conn, claim_id, id)?.ok_or(ApiError::NotFound)
        })
        .await?;
    let root = state.settings.attachments_dir();
    let path = match thumbnail {
        false => storage::path_for(&root, &row.sha256),
        true if row.thumbnail => storage::thumbnail_path(&root, &row.sha256),
        true => return Err(ApiError::NotFound),
    };
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| anyhow::anyhow!("attachment {id} unreadable: {e}"))?;
    Ok((row, bytes))
}
