//! Files on claims and jobs (customers' photos, couriers' proofs): one upload path for all
//! of them. The caller's right to upload is checked before a byte is stored, so nobody
//! fills the disk through others' objects; a refused body is still read, so the client
//! gets our answer rather than a reset.

use actix_multipart::Multipart;

use crate::auth::extract::AuthUser;
use crate::db::attachments::{self, AttachmentRow, NewAttachment};
use crate::db::types::{ClaimId, JobId, UserId};
use crate::db::{now, DbConnection};
use crate::error::{ApiError, ApiResult};
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
    payload: Multipart,
    target: F,
) -> ApiResult<AttachmentRow>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<UploadTarget> + Send + 'static,
{
    let target = match state.db(target).await {
        Ok(target) => target,
        Err(e) => {
            storage::discard(payload).await;
            return Err(e);
        }
    };
    let root = state.settings.attachments_dir();
    let stored = storage::receive(payload, &root, state.settings.max_upload_bytes).await?;
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

/// A file of a claim the caller may see, with its bytes.
pub async fn read_claim_file(
    state: &AppState,
    user: AuthUser,
    claim_id: ClaimId,
    id: i64,
) -> ApiResult<(AttachmentRow, Vec<u8>)> {
    let row = state
        .db(move |conn| {
            super::claims::visible(conn, &user, claim_id)?;
            attachments::find_for_claim(conn, claim_id, id)?.ok_or(ApiError::NotFound)
        })
        .await?;
    let path = storage::path_for(&state.settings.attachments_dir(), &row.sha256);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| anyhow::anyhow!("attachment {id} unreadable: {e}"))?;
    Ok((row, bytes))
}
