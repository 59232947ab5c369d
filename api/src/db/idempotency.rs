//! Stored answers to requests that carried an `Idempotency-Key`, for every endpoint that
//! honours one (`app::idempotency` is the mechanism).

use diesel::prelude::*;

use super::schema::idempotency_keys as ik;
use super::types::UserId;
use super::DbConnection;

#[derive(Debug, Clone, Queryable)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
}

pub fn find(
    conn: &mut DbConnection,
    user_id: UserId,
    key: &str,
) -> QueryResult<Option<StoredResponse>> {
    ik::table
        .filter(ik::user_id.eq(user_id))
        .filter(ik::key.eq(key))
        .select((ik::request_hash, ik::status_code, ik::response_body))
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut DbConnection,
    user_id: UserId,
    key: &str,
    request_hash: &str,
    status_code: i32,
    response_body: &str,
) -> QueryResult<usize> {
    diesel::insert_into(ik::table)
        .values((
            ik::user_id.eq(user_id),
            ik::key.eq(key),
            ik::request_hash.eq(request_hash),
            ik::status_code.eq(status_code),
            ik::response_body.eq(response_body),
            ik::created_at.eq(super::now()),
        ))
        .execute(conn)
}

/// Deletes up to `batch` stored answers made before `cutoff`; returns how many.
pub fn prune(
    conn: &mut DbConnection,
    cutoff: chrono::NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    let ids: Vec<i64> = ik::table
        .filter(ik::created_at.lt(cutoff))
        .select(ik::id)
        .limit(batch)
        .load(conn)?;
    diesel::delete(ik::table.filter(ik::id.eq_any(ids))).execute(conn)
}
