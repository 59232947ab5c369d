//! Workshops and suppliers.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::partner::PartnerKind;

use super::schema::partners;
use super::types::{DbEnum, Json};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = partners)]
pub struct PartnerRow {
    pub id: i64,
    #[diesel(deserialize_as = DbEnum<PartnerKind>)]
    pub kind: PartnerKind,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub time_zone: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub categories: Vec<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Every column a manager sets, written whole by an insert and by an update alike.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = partners, treat_none_as_null = true)]
pub struct PartnerValues {
    #[diesel(serialize_as = DbEnum<PartnerKind>)]
    pub kind: PartnerKind,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub time_zone: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[diesel(serialize_as = Json<Vec<String>>)]
    pub categories: Vec<String>,
    pub active: bool,
    pub updated_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    values: PartnerValues,
    created_at: NaiveDateTime,
) -> QueryResult<PartnerRow> {
    diesel::insert_into(partners::table)
        .values((values, partners::created_at.eq(created_at)))
        .returning(partners::all_columns)
        .get_result::<PartnerRow>(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, values: PartnerValues) -> QueryResult<PartnerRow> {
    diesel::update(partners::table.find(id))
        .set(values)
        .returning(partners::all_columns)
        .get_result::<PartnerRow>(conn)
}

/// The partner, held until the transaction ends (PostgreSQL; SQLite's write lock holds every
/// row already), so a change merged into it cannot overwrite a concurrent one.
pub fn find_for_update(conn: &mut DbConnection, id: i64) -> QueryResult<Option<PartnerRow>> {
    if let DbConnection::Pg(pg) = conn {
        return partners::table
            .find(id)
            .select(PartnerRow::as_select())
            .for_update()
            .first(pg)
            .optional();
    }
    find(conn, id)
}

/// The partners among `ids` (retired ones too).
pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<PartnerRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    partners::table
        .filter(partners::id.eq_any(ids))
        .select(PartnerRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<PartnerRow>> {
    partners::table
        .find(id)
        .select(PartnerRow::as_select())
        .first(conn)
        .optional()
}

/// Partners after `after_id` in id order, of one kind if given, retired ones only if asked.
pub fn list(
    conn: &mut DbConnection,
    kind: Option<PartnerKind>,
    include_retired: bool,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<PartnerRow>> {
    let mut query = partners::table
        .filter(partners::id.gt(after_id.unwrap_or(0)))
        .order(partners::id.asc())
        .limit(limit)
        .select(PartnerRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(partners::kind.eq(DbEnum(kind)));
    }
    if !include_retired {
        query = query.filter(partners::active.eq(true));
    }
    query.load(conn)
}
