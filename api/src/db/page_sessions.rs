//! The console's sign-ins: the browser's cookie holds a secret, stored here only as its
//! SHA-256 hash. Read on each page and on each API call made with the cookie.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{page_sessions as ps, users};
use super::types::{DbEnum, OptEnum, UserId};
use super::DbConnection;
use crate::auth::Role;
use domain::locale::Locale;

/// A live session with what a page needs of its user.
#[derive(Debug, Clone, Queryable)]
pub struct LiveSession {
    pub id: i64,
    pub user_id: UserId,
    #[diesel(deserialize_as = DbEnum<Role>)]
    pub role: Role,
    #[diesel(deserialize_as = OptEnum<Locale>)]
    pub locale: Option<Locale>,
    pub name: String,
}

pub fn insert(
    conn: &mut DbConnection,
    user_id: UserId,
    token_hash: &str,
    token_generation: i32,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(ps::table)
        .values((
            ps::user_id.eq(user_id),
            ps::token_hash.eq(token_hash),
            ps::token_generation.eq(token_generation),
            ps::expires_at.eq(expires_at),
            ps::created_at.eq(super::now()),
        ))
        .execute(conn)
}

/// The session whose secret hashes to `token_hash`, if it is still good at `at`: not
/// signed out, not expired, its user active and not signed out everywhere since.
pub fn live(
    conn: &mut DbConnection,
    token_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<LiveSession>> {
    ps::table
        .inner_join(users::table)
        .filter(ps::token_hash.eq(token_hash))
        .filter(ps::revoked_at.is_null())
        .filter(ps::expires_at.gt(at))
        .filter(users::active.eq(true))
        .filter(users::token_generation.eq(ps::token_generation))
        .select((ps::id, ps::user_id, users::role, users::locale, users::name))
        .first(conn)
        .optional()
}

pub fn revoke(conn: &mut DbConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::update(ps::table.filter(ps::token_hash.eq(token_hash)))
        .set(ps::revoked_at.eq(super::now()))
        .execute(conn)
}

/// Deletes up to `batch` sessions that expired before `cutoff`.
pub fn prune(conn: &mut DbConnection, cutoff: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let ids: Vec<i64> = ps::table
        .filter(ps::expires_at.lt(cutoff))
        .select(ps::id)
        .limit(batch)
        .load(conn)?;
    diesel::delete(ps::table.filter(ps::id.eq_any(ids))).execute(conn)
}
