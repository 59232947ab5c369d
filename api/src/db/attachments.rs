//! Metadata of files stored on disk by content hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::attachments;
use super::types::{ClaimId, JobId, UserId};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub claim_id: Option<ClaimId>,
    pub job_id: Option<JobId>,
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub uploaded_by: UserId,
    pub created_at: NaiveDateTime,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub thumbnail: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment<'a> {
    pub claim_id: Option<ClaimId>,
    pub job_id: Option<JobId>,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: i64,
    pub sha256: &'a str,
    pub uploaded_by: UserId,
    pub created_at: NaiveDateTime,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub thumbnail: bool,
}

pub fn insert(conn: &mut DbConnection, new: &NewAttachment) -> QueryResult<AttachmentRow> {
    diesel::insert_into(attachments::table)
        .values(new)
        .returning(attachments::all_columns)
        .get_result::<AttachmentRow>(conn)
}

pub fn for_claim(conn: &mut DbConnection, claim_id: ClaimId) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::claim_id.eq(claim_id))
        .order(attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)
}

pub fn find_for_claim(
    conn: &mut DbConnection,
    claim_id: ClaimId,
    id: i64,
) -> QueryResult<Option<AttachmentRow>> {
    attachments::table
        .filter(attachments::claim_id.eq(claim_id))
        .filter(attachments::id.eq(id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()
}

/// Kind of the photo a courier takes of what he handed over or took back.
pub const PROOF: &str = "proof";

pub fn has_proof(conn: &mut DbConnection, job_id: JobId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        attachments::table
            .filter(attachments::job_id.eq(job_id))
            .filter(attachments::kind.eq(PROOF)),
    ))
    .get_result(conn)
}
