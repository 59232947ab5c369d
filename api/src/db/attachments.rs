//! Metadata of files stored on disk by content hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::attachments;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub claim_id: Option<i64>,
    pub job_id: Option<i64>,
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub uploaded_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment<'a> {
    pub claim_id: Option<i64>,
    pub job_id: Option<i64>,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: i64,
    pub sha256: &'a str,
    pub uploaded_by: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewAttachment) -> QueryResult<AttachmentRow> {
    diesel::insert_into(attachments::table)
        .values(new)
        .returning(attachments::all_columns)
        .get_result::<AttachmentRow>(conn)
}

pub fn for_claim(conn: &mut DbConnection, claim_id: i64) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::claim_id.eq(claim_id))
        .order(attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)
}

pub fn find_for_claim(
    conn: &mut DbConnection,
    claim_id: i64,
    id: i64,
) -> QueryResult<Option<AttachmentRow>> {
    attachments::table
        .filter(attachments::claim_id.eq(claim_id))
        .filter(attachments::id.eq(id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()
}
