//! Depots, couriers and their shifts.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{couriers, depots, shifts};
use super::types::{CourierId, Json, UserId};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = depots)]
pub struct DepotRow {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub time_zone: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = depots)]
pub struct NewDepot<'a> {
    pub name: &'a str,
    pub address: &'a str,
    pub lat: f64,
    pub lon: f64,
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub time_zone: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = couriers)]
pub struct NewCourier<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub capacity: i32,
    #[diesel(serialize_as = Json<Vec<String>>)]
    pub skills: Vec<String>,
    pub home_depot_id: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = shifts)]
pub struct NewShift {
    pub courier_id: CourierId,
    pub date: NaiveDate,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub start_depot_id: i64,
    pub end_depot_id: i64,
    pub break_minutes: Option<i32>,
    pub break_start_at: Option<NaiveDateTime>,
    pub break_end_at: Option<NaiveDateTime>,
}

pub fn insert_depot(conn: &mut DbConnection, new: &NewDepot) -> QueryResult<DepotRow> {
    diesel::insert_into(depots::table)
        .values(new)
        .returning(depots::all_columns)
        .get_result::<DepotRow>(conn)
}

pub fn list_depots(conn: &mut DbConnection) -> QueryResult<Vec<DepotRow>> {
    depots::table
        .order(depots::id.asc())
        .select(DepotRow::as_select())
        .load(conn)
}

pub fn insert_courier(conn: &mut DbConnection, new: NewCourier) -> QueryResult<CourierRow> {
    diesel::insert_into(couriers::table)
        .values(new)
        .returning(couriers::all_columns)
        .get_result::<CourierRow>(conn)
}

pub fn courier_for_user(
    conn: &mut DbConnection,
    user_id: UserId,
) -> QueryResult<Option<CourierId>> {
    couriers::table
        .filter(couriers::user_id.eq(user_id))
        .select(couriers::id)
        .first(conn)
        .optional()
}

/// Sets the courier's shift for its date, replacing any earlier one.
pub fn put_shift(conn: &mut DbConnection, shift: &NewShift) -> QueryResult<ShiftRow> {
    diesel::delete(
        shifts::table
            .filter(shifts::courier_id.eq(shift.courier_id))
            .filter(shifts::date.eq(shift.date)),
    )
    .execute(conn)?;
    diesel::insert_into(shifts::table)
        .values(shift)
        .returning(shifts::all_columns)
        .get_result::<ShiftRow>(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = couriers)]
pub struct CourierRow {
    pub id: CourierId,
    pub user_id: UserId,
    pub name: String,
    pub phone: Option<String>,
    pub capacity: i32,
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub skills: Vec<String>,
    pub home_depot_id: i64,
    pub created_at: NaiveDateTime,
    pub last_lat: Option<f64>,
    pub last_lon: Option<f64>,
    pub last_seen_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = shifts)]
pub struct ShiftRow {
    pub id: i64,
    pub courier_id: CourierId,
    pub date: NaiveDate,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub start_depot_id: i64,
    pub end_depot_id: i64,
    pub break_minutes: Option<i32>,
    pub break_start_at: Option<NaiveDateTime>,
    pub break_end_at: Option<NaiveDateTime>,
}

pub fn find_depot(conn: &mut DbConnection, id: i64) -> QueryResult<Option<DepotRow>> {
    depots::table
        .find(id)
        .select(DepotRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_courier(conn: &mut DbConnection, id: CourierId) -> QueryResult<Option<CourierRow>> {
    couriers::table
        .find(id)
        .select(CourierRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_couriers(
    conn: &mut DbConnection,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<CourierRow>> {
    let mut query = couriers::table
        .select(CourierRow::as_select())
        .order(couriers::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(couriers::id.gt(after));
    }
    query.load(conn)
}

/// Couriers on shift on `date` with their shift, optionally only those starting at a depot.
pub fn on_shift(
    conn: &mut DbConnection,
    date: NaiveDate,
    start_depot: Option<i64>,
) -> QueryResult<Vec<(ShiftRow, CourierRow)>> {
    let mut query = shifts::table
        .inner_join(couriers::table)
        .filter(shifts::date.eq(date))
        .order(couriers::id.asc())
        .select((ShiftRow::as_select(), CourierRow::as_select()))
        .into_boxed();
    if let Some(depot) = start_depot {
        query = query.filter(shifts::start_depot_id.eq(depot));
    }
    query.load(conn)
}

/// Courier names by id.
pub fn courier_names(
    conn: &mut DbConnection,
    ids: &[CourierId],
) -> QueryResult<Vec<(CourierId, String)>> {
    couriers::table
        .filter(couriers::id.eq_any(ids))
        .select((couriers::id, couriers::name))
        .load(conn)
}

/// Keeps the courier's latest position on his row, unless a newer one is already there
/// (batches from an offline phone may arrive after fresher ones).
pub fn update_last_position(
    conn: &mut DbConnection,
    courier_id: CourierId,
    at: NaiveDateTime,
    lat: f64,
    lon: f64,
) -> QueryResult<usize> {
    diesel::update(
        couriers::table.find(courier_id).filter(
            couriers::last_seen_at
                .is_null()
                .or(couriers::last_seen_at.lt(at)),
        ),
    )
    .set((
        couriers::last_lat.eq(lat),
        couriers::last_lon.eq(lon),
        couriers::last_seen_at.eq(at),
    ))
    .execute(conn)
}

/// Read only from couriers with a known position (`last_seen_at` not null).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = couriers)]
pub struct LivePosition {
    #[diesel(column_name = id)]
    pub courier_id: CourierId,
    pub name: String,
    #[diesel(select_expression = couriers::last_lat.assume_not_null())]
    pub lat: f64,
    #[diesel(select_expression = couriers::last_lon.assume_not_null())]
    pub lon: f64,
    #[diesel(select_expression = couriers::last_seen_at.assume_not_null())]
    pub seen_at: NaiveDateTime,
}

/// Where one courier was last seen, if ever.
pub fn last_position(
    conn: &mut DbConnection,
    courier: CourierId,
) -> QueryResult<Option<LivePosition>> {
    couriers::table
        .find(courier)
        .filter(couriers::last_seen_at.is_not_null())
        .select(LivePosition::as_select())
        .first(conn)
        .optional()
}

/// Couriers with a known position, by id, from after `after`.
pub fn live_positions(
    conn: &mut DbConnection,
    after: Option<CourierId>,
    limit: i64,
) -> QueryResult<Vec<LivePosition>> {
    let mut query = couriers::table
        .filter(couriers::last_seen_at.is_not_null())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(couriers::id.gt(after));
    }
    query
        .order(couriers::id.asc())
        .limit(limit)
        .select(LivePosition::as_select())
        .load(conn)
}
