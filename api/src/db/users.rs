//! Accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{claims, users};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub customer_id: Option<i64>,
    pub active: bool,
    pub absent: bool,
    pub substitute_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub customer_id: Option<i64>,
    pub active: bool,
    pub absent: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub active: Option<bool>,
    pub absent: Option<bool>,
    pub substitute_id: Option<Option<i64>>,
    pub name: Option<String>,
}

pub fn insert(conn: &mut DbConnection, new: &NewUser) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result::<UserRow>(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConnection,
    role: Option<&str>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(role) = role {
        query = query.filter(users::role.eq(role.to_owned()));
    }
    if let Some(after) = after_id {
        query = query.filter(users::id.gt(after));
    }
    query.load(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, changes: &UserChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set(changes)
        .returning(users::all_columns)
        .get_result::<UserRow>(conn)
}

pub fn set_password(conn: &mut DbConnection, id: i64, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)
}

/// Managers (and heads too, if asked) with their count of open claims, for the assignment
/// rules. Heads take claims by reassignment or as substitutes, not in the even spread.
pub fn manager_loads(
    conn: &mut DbConnection,
    include_heads: bool,
) -> QueryResult<Vec<domain::assignment::ManagerLoad>> {
    let roles: &[&str] = if include_heads {
        &["manager", "head"]
    } else {
        &["manager"]
    };
    let managers: Vec<(i64, bool, bool, Option<i64>)> = users::table
        .filter(users::role.eq_any(roles))
        .select((
            users::id,
            users::active,
            users::absent,
            users::substitute_id,
        ))
        .load(conn)?;
    let open: Vec<&str> = domain::claim::ClaimStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let counts: Vec<(Option<i64>, i64)> = claims::table
        .filter(claims::status.eq_any(open))
        .filter(claims::assignee_id.is_not_null())
        .group_by(claims::assignee_id)
        .select((claims::assignee_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(managers
        .into_iter()
        .map(
            |(id, active, absent, substitute_id)| domain::assignment::ManagerLoad {
                id,
                active,
                absent,
                substitute_id,
                open_claims: counts
                    .iter()
                    .find(|(a, _)| *a == Some(id))
                    .map_or(0, |(_, n)| *n),
            },
        )
        .collect())
}
