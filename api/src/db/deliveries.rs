//! Deliveries: one message (a mail, a webhook call) to one recipient, delivered at least
//! once. A worker takes due deliveries with a lease (`locked_until`): if its process dies
//! mid-batch the lease runs out and another worker delivers them again, so a receiver may
//! see a message twice, always with the same id.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::schema::deliveries;
use super::types::{ClaimId, UserId};
use super::{now, DbConnection};

pub const EMAIL: &str = "email";
pub const WEBHOOK: &str = "webhook";

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: i64,
    /// The event's id: the same for every attempt and recipient, so receivers can drop
    /// duplicates.
    pub outbox_id: i64,
    pub event: String,
    pub claim_id: Option<ClaimId>,
    /// `email` or `webhook`.
    pub channel: String,
    pub recipient: String,
    pub user_id: Option<UserId>,
    pub webhook_id: Option<i64>,
    pub template: Option<String>,
    pub locale: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// `pending`, `sent` or `dead`.
    pub state: String,
    /// Sends begun (counted by `start_attempt`, not by a take).
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deliveries)]
pub struct NewDelivery {
    pub outbox_id: i64,
    pub event: String,
    pub claim_id: Option<ClaimId>,
    pub channel: &'static str,
    pub recipient: String,
    pub user_id: Option<UserId>,
    pub webhook_id: Option<i64>,
    pub template: Option<String>,
    pub locale: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub state: &'static str,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewDelivery) -> QueryResult<usize> {
    diesel::insert_into(deliveries::table)
        .values(new)
        .execute(conn)
}

/// Deliveries still to be made, per channel.
pub fn backlog(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    deliveries::table
        .filter(deliveries::state.eq(PENDING))
        .group_by(deliveries::channel)
        .select((deliveries::channel, diesel::dsl::count_star()))
        .load(conn)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Takes up to `limit` due deliveries until `lease_until`. On PostgreSQL with `SKIP
/// LOCKED`, so replicas take different ones; on SQLite the caller's write transaction makes
/// it exclusive. Taking is not an attempt: each is counted by [`start_attempt`] when it is
/// about to be sent, so a delivery another worker takes over before this one reaches it is
/// not counted twice.
pub fn take_due(
    conn: &mut DbConnection,
    limit: i64,
    lease_until: NaiveDateTime,
) -> QueryResult<Vec<DeliveryRow>> {
    let at = now();
    let ids: Vec<i64> = match conn {
        DbConnection::Pg(pg) => diesel::sql_query(
            "UPDATE deliveries SET locked_until = $1 WHERE id IN \
             (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $2 \
             AND (locked_until IS NULL OR locked_until < $2) ORDER BY id LIMIT $3 \
             FOR UPDATE SKIP LOCKED) RETURNING id",
        )
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(limit)
        .load::<Id>(pg)?,
        DbConnection::Sqlite(lite) => diesel::sql_query(
            "UPDATE deliveries SET locked_until = ?1 WHERE id IN \
             (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?2 \
             AND (locked_until IS NULL OR locked_until < ?2) ORDER BY id LIMIT ?3) \
             RETURNING id",
        )
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(limit)
        .load::<Id>(lite)?,
    }
    .into_iter()
    .map(|row| row.id)
    .collect();
    deliveries::table
        .filter(deliveries::id.eq_any(&ids))
        .order(deliveries::id.asc())
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Starts the next attempt of a delivery this worker still holds, just before it is sent:
/// counts it and renews the lease until `lease_until`. A batch is taken under one lease and
/// sent one after another, so without the renewal its last deliveries could be sent after
/// their lease ran out and another worker took them. The lease's end as taken identifies the
/// taker: a later take sets a later one, and a recorded failure clears it, so while it is
/// unchanged no one else has touched the row since it was taken.
///
/// Whether it started (false when another worker has the delivery now: it is not sent
/// here); the attempt's number is then the one taken plus one.
pub fn start_attempt(
    conn: &mut DbConnection,
    (id, taken_until): (i64, NaiveDateTime),
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let as_taken = deliveries::locked_until
        .eq(taken_until)
        .and(deliveries::state.eq(PENDING));
    diesel::update(deliveries::table.find(id).filter(as_taken))
        .set((
            deliveries::locked_until.eq(lease_until),
            deliveries::attempts.eq(deliveries::attempts + 1),
        ))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// The delivery went through (whichever attempt it was: a success always counts).
pub fn sent(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::state.eq(SENT),
            deliveries::sent_at.eq(now()),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Attempt `attempt` failed: try again at `retry_at`, or give up (`dead`) when `None`.
/// Written only to the row as that attempt took it (same attempt number, still pending):
/// an attempt that outlived its lease may fail after a newer one has sent the delivery,
/// and must not put it back to pending (it would be sent once more). 0 rows then.
pub fn failed(
    conn: &mut DbConnection,
    (id, attempt): (i64, i32),
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    let state = if retry_at.is_some() { PENDING } else { DEAD };
    let as_taken = deliveries::attempts
        .eq(attempt)
        .and(deliveries::state.eq(PENDING));
    diesel::update(deliveries::table.find(id).filter(as_taken))
        .set((
            deliveries::state.eq(state),
            deliveries::next_attempt_at.eq(retry_at.unwrap_or_else(now)),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(error),
        ))
        .execute(conn)
}

/// What was sent about a claim, oldest first.
pub fn of_claim(conn: &mut DbConnection, claim_id: ClaimId) -> QueryResult<Vec<DeliveryRow>> {
    deliveries::table
        .filter(deliveries::claim_id.eq(claim_id))
        .order(deliveries::id.asc())
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// A webhook's deliveries, newest first.
pub fn of_webhook(
    conn: &mut DbConnection,
    webhook_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = deliveries::table
        .filter(deliveries::webhook_id.eq(webhook_id))
        .order(deliveries::id.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(deliveries::id.lt(before));
    }
    query.load(conn)
}
