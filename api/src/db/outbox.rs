//! Events for notifications, written in the same transaction as the change they announce,
//! so a notification is never sent for a change that rolled back, nor lost for one that did
//! not. The delivery worker fans each event out to its deliveries once (`delivered_at`).

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::outbox;
use super::types::{ClaimId, Json};
use super::{now, DbConnection};

/// Queues an event; `claim_id` names the claim it is about, if any.
pub fn push(
    conn: &mut DbConnection,
    event: &str,
    claim_id: Option<ClaimId>,
    payload: serde_json::Value,
) -> QueryResult<usize> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::event.eq(event),
            outbox::claim_id.eq(claim_id),
            outbox::payload.eq(Json(payload)),
            outbox::created_at.eq(now()),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct OutboxRow {
    pub id: i64,
    pub event: String,
    pub claim_id: Option<ClaimId>,
    #[diesel(deserialize_as = Json<serde_json::Value>)]
    pub payload: serde_json::Value,
    pub created_at: chrono::NaiveDateTime,
}

/// How many events named `event` were ever queued.
pub fn count_of(conn: &mut DbConnection, event: &str) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::event.eq(event))
        .count()
        .get_result(conn)
}

/// How many events wait to be fanned out.
pub fn unfanned(conn: &mut DbConnection) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::delivered_at.is_null())
        .count()
        .get_result(conn)
}

/// Events not fanned out yet, oldest first (for the tests).
pub fn pending(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::delivered_at.is_null())
        .order(outbox::id.asc())
        .limit(limit)
        .select((
            outbox::id,
            outbox::event,
            outbox::claim_id,
            outbox::payload,
            outbox::created_at,
        ))
        .load(conn)
}

/// Every event, fanned out or not, oldest first (for the tests).
pub fn all(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .order(outbox::id.asc())
        .limit(limit)
        .select((
            outbox::id,
            outbox::event,
            outbox::claim_id,
            outbox::payload,
            outbox::created_at,
        ))
        .load(conn)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Takes up to `limit` events to fan out, inside the caller's write transaction: on
/// PostgreSQL locked with `SKIP LOCKED`, so replicas fanning out at once take different
/// events; on SQLite the write lock already makes it exclusive.
pub fn take_for_fan_out(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    let ids: Vec<i64> = match conn {
        DbConnection::Pg(pg) => diesel::sql_query(
            "SELECT id FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT $1 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind::<BigInt, _>(limit)
        .load::<Id>(pg)?,
        DbConnection::Sqlite(lite) => diesel::sql_query(
            "SELECT id FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ?1",
        )
        .bind::<BigInt, _>(limit)
        .load::<Id>(lite)?,
    }
    .into_iter()
    .map(|row| row.id)
    .collect();
    outbox::table
        .filter(outbox::id.eq_any(&ids))
        .order(outbox::id.asc())
        .select((
            outbox::id,
            outbox::event,
            outbox::claim_id,
            outbox::payload,
            outbox::created_at,
        ))
        .load(conn)
}

/// The event has its deliveries.
pub fn mark_fanned_out(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::delivered_at.eq(now()),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
}

/// Deletes up to `batch` events fanned out before `cutoff` whose deliveries are all over
/// (sent or dead), with those deliveries; returns how many events.
pub fn prune(
    conn: &mut DbConnection,
    cutoff: chrono::NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    use super::schema::deliveries;
    let still_pending = deliveries::table
        .filter(deliveries::state.eq(super::deliveries::PENDING))
        .select(deliveries::outbox_id);
    let ids: Vec<i64> = outbox::table
        .filter(outbox::delivered_at.lt(cutoff))
        .filter(outbox::id.ne_all(still_pending))
        .select(outbox::id)
        .limit(batch)
        .load(conn)?;
    diesel::delete(deliveries::table.filter(deliveries::outbox_id.eq_any(&ids))).execute(conn)?;
    diesel::delete(outbox::table.filter(outbox::id.eq_any(&ids))).execute(conn)
}

/// Drops the events of a claim nobody is to hear about (the demo's dated-back history).
pub fn forget_claim(conn: &mut DbConnection, claim_id: ClaimId) -> QueryResult<usize> {
    diesel::delete(outbox::table.filter(outbox::claim_id.eq(claim_id))).execute(conn)
}
