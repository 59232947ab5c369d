//! Refresh tokens: stored only as SHA-256 hashes, grouped in families. A token is used once;
//! presenting a used one again means it leaked, so its whole family is revoked.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::refresh_tokens as rt;
use super::types::UserId;
use super::DbConnection;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = rt)]
pub struct RefreshTokenRow {
    pub id: i64,
    pub user_id: UserId,
    pub family: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    user_id: UserId,
    family: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(rt::table)
        .values((
            rt::user_id.eq(user_id),
            rt::family.eq(family),
            rt::token_hash.eq(token_hash),
            rt::expires_at.eq(expires_at),
            rt::created_at.eq(super::now()),
        ))
        .execute(conn)
}

pub fn find_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<RefreshTokenRow>> {
    rt::table
        .filter(rt::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Marks the token used; `false` if it was already used (a concurrent or replayed refresh).
pub fn mark_used(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let changed = diesel::update(rt::table.find(id).filter(rt::used_at.is_null()))
        .set(rt::used_at.eq(super::now()))
        .execute(conn)?;
    Ok(changed == 1)
}

pub fn revoke_family(conn: &mut DbConnection, family: &str) -> QueryResult<usize> {
    diesel::update(
        rt::table
            .filter(rt::family.eq(family))
            .filter(rt::revoked_at.is_null()),
    )
    .set(rt::revoked_at.eq(super::now()))
    .execute(conn)
}

pub fn revoke_all_for_user(conn: &mut DbConnection, user_id: UserId) -> QueryResult<usize> {
    diesel::update(
        rt::table
            .filter(rt::user_id.eq(user_id))
            .filter(rt::revoked_at.is_null()),
    )
    .set(rt::revoked_at.eq(super::now()))
    .execute(conn)
}

/// Deletes up to `batch` refresh tokens that expired before `cutoff`; returns how many.
pub fn prune(
    conn: &mut DbConnection,
    cutoff: chrono::NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    let ids: Vec<i64> = rt::table
        .filter(rt::expires_at.lt(cutoff))
        .select(rt::id)
        .limit(batch)
        .load(conn)?;
    diesel::delete(rt::table.filter(rt::id.eq_any(ids))).execute(conn)
}
