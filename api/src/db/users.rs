//! Accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::users;
use domain::locale::Locale;

use super::types::{CustomerId, DbEnum, OptEnum, UserId};
use super::DbConnection;
use crate::auth::Role;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    #[diesel(deserialize_as = DbEnum<Role>)]
    pub role: Role,
    pub password_hash: String,
    pub customer_id: Option<CustomerId>,
    pub active: bool,
    pub absent: bool,
    pub substitute_id: Option<UserId>,
    pub created_at: NaiveDateTime,
    /// The language mails and documents are written in (`en`, `ru`).
    #[diesel(deserialize_as = OptEnum<Locale>)]
    pub locale: Option<Locale>,
    /// Tokens carry the generation they were issued at; moving it on revokes them all.
    pub token_generation: i32,
    pub auth_changed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Normalised (trimmed, lowercase).
    pub email: &'a str,
    pub name: &'a str,
    #[diesel(serialize_as = DbEnum<Role>)]
    pub role: Role,
    pub password_hash: &'a str,
    pub customer_id: Option<CustomerId>,
    pub active: bool,
    pub absent: bool,
    pub created_at: NaiveDateTime,
    pub locale: Option<DbEnum<Locale>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub active: Option<bool>,
    pub absent: Option<bool>,
    pub substitute_id: Option<Option<UserId>>,
    pub name: Option<String>,
    pub locale: Option<Option<DbEnum<Locale>>>,
    pub role: Option<DbEnum<Role>>,
}

impl UserChanges {
    pub fn is_empty(&self) -> bool {
        self.active.is_none()
            && self.absent.is_none()
            && self.substitute_id.is_none()
            && self.name.is_none()
            && self.locale.is_none()
            && self.role.is_none()
    }
}

pub fn insert(conn: &mut DbConnection, new: NewUser) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result::<UserRow>(conn)
}

pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// The names of the users among `ids` (one query, whatever the number of ids).
pub fn names(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Vec<(UserId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load(conn)
}

/// `email` must be normalised already (see `app::accounts::normalise_email`).
/// How many accounts there are.
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConnection,
    role: Option<Role>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(role) = role {
        query = query.filter(users::role.eq(DbEnum(role)));
    }
    if let Some(after) = after_id {
        query = query.filter(users::id.gt(after));
    }
    query.load(conn)
}

pub fn update(conn: &mut DbConnection, id: UserId, changes: &UserChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set(changes)
        .returning(users::all_columns)
        .get_result::<UserRow>(conn)
}

impl UserRow {
    pub fn standing(&self) -> Standing {
        Standing {
            generation: self.token_generation,
            active: self.active,
        }
    }
}

/// What decides whether a user's tokens still work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub generation: i32,
    pub active: bool,
}

/// Moves the user's token generation on: every token issued so far stops working.
pub fn bump_generation(
    conn: &mut DbConnection,
    id: UserId,
    at: NaiveDateTime,
) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((
            users::token_generation.eq(users::token_generation + 1),
            users::auth_changed_at.eq(at),
        ))
        .returning(users::all_columns)
        .get_result::<UserRow>(conn)
}

/// Users whose standing changed at or after `since` (every one that ever changed when
/// `None`), with when.
pub fn standings_changed_since(
    conn: &mut DbConnection,
    since: Option<NaiveDateTime>,
) -> QueryResult<Vec<(UserId, Standing, NaiveDateTime)>> {
    let mut query = users::table
        .filter(users::auth_changed_at.is_not_null())
        .select((
            users::id,
            users::token_generation,
            users::active,
            users::auth_changed_at.assume_not_null(),
        ))
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(users::auth_changed_at.ge(since));
    }
    Ok(query
        .load::<(UserId, i32, bool, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, generation, active, at)| (id, Standing { generation, active }, at))
        .collect())
}

pub fn set_password(conn: &mut DbConnection, id: UserId, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)
}

/// Managers (and heads, with `include_heads`) and whom they hand their claims to.
#[derive(Debug, Clone, Queryable)]
pub struct Handler {
    pub id: UserId,
    pub active: bool,
    pub absent: bool,
    pub substitute_id: Option<UserId>,
}

pub fn handlers(conn: &mut DbConnection, include_heads: bool) -> QueryResult<Vec<Handler>> {
    let roles: &[Role] = if include_heads {
        &[Role::Manager, Role::Head]
    } else {
        &[Role::Manager]
    };
    users::table
        .filter(users::role.eq_any(roles.iter().copied().map(DbEnum)))
        .select((
            users::id,
            users::active,
            users::absent,
            users::substitute_id,
        ))
        .load(conn)
}

/// The active heads of department (who hear of overdue claims and poor ratings).
pub fn heads(conn: &mut DbConnection) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::role.eq(DbEnum(Role::Head)))
        .filter(users::active.eq(true))
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)
}
