//! Leases on periodic sweeps (`sweeps`): the replica that takes a sweep's lease runs it,
//! the others skip it until the lease runs out.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sweeps;
use super::DbConnection;

/// Takes the lease on sweep `name` until `until` if nobody holds it at `now`; true when
/// taken. Called in a write transaction, so two replicas cannot both take it.
pub fn take_lease(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let taken = diesel::update(
        sweeps::table
            .filter(sweeps::name.eq(name))
            .filter(sweeps::leased_until.le(now)),
    )
    .set((sweeps::leased_until.eq(until), sweeps::holder.eq(holder)))
    .execute(conn)?;
    if taken == 1 {
        return Ok(true);
    }
    let exists = sweeps::table
        .filter(sweeps::name.eq(name))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(sweeps::table)
        .values((
            sweeps::name.eq(name),
            sweeps::leased_until.eq(until),
            sweeps::holder.eq(holder),
        ))
        .execute(conn)?;
    Ok(true)
}
