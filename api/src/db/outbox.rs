//! Events for notifications, written in the same transaction as the change they announce,
//! so a notification is never sent for a change that rolled back, nor lost for one that did not.

use diesel::prelude::*;

use super::schema::outbox;
use super::types::Json;
use super::DbConnection;

pub fn push(
    conn: &mut DbConnection,
    event: &str,
    payload: serde_json::Value,
) -> QueryResult<usize> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::event.eq(event),
            outbox::payload.eq(Json(payload)),
            outbox::created_at.eq(super::now()),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct OutboxRow {
    pub id: i64,
    pub event: String,
    #[diesel(deserialize_as = Json<serde_json::Value>)]
    pub payload: serde_json::Value,
}

/// Pending events in order (for the delivery worker and the tests).
pub fn pending(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::delivered_at.is_null())
        .order(outbox::id.asc())
        .limit(limit)
        .select((outbox::id, outbox::event, outbox::payload))
        .load(conn)
}
