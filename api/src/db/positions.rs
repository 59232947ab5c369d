//! Where couriers' phones have been (`courier_positions`); the latest fix of each courier
//! is kept on his row (`db::fleet`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::courier_positions;
use super::types::CourierId;
use super::DbConnection;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = courier_positions, treat_none_as_default_value = false)]
pub struct NewPosition {
    pub courier_id: CourierId,
    pub at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub received_at: NaiveDateTime,
}

/// Rows per INSERT: well under SQLite's and PostgreSQL's bind limits (6 per row).
const PER_INSERT: usize = 500;

/// Multi-row INSERTs, written per backend: diesel's multi-backend connection cannot build
/// one (SQLite has no `DEFAULT` keyword), while each backend's own connection can.
pub fn insert(conn: &mut DbConnection, points: &[NewPosition]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in points.chunks(PER_INSERT) {
        let insert = diesel::insert_into(courier_positions::table).values(chunk);
        inserted += match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        };
    }
    Ok(inserted)
}

/// Deletes up to `batch` positions received before `cutoff`; returns how many.
pub fn prune(conn: &mut DbConnection, cutoff: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let ids: Vec<i64> = courier_positions::table
        .filter(courier_positions::received_at.lt(cutoff))
        .select(courier_positions::id)
        .limit(batch)
        .load(conn)?;
    diesel::delete(courier_positions::table.filter(courier_positions::id.eq_any(ids))).execute(conn)
}
