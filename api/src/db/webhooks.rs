//! Webhook subscriptions: where events are posted, which events, and the secret their
//! signatures are made with.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::webhooks;
use super::types::{Json, UserId};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    /// Event names, or `*` for all.
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub events: Vec<String>,
    /// `whsec_...`: shown once, at creation.
    pub secret: String,
    pub active: bool,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
}

impl WebhookRow {
    pub fn wants(&self, event: &str) -> bool {
        self.active && self.events.iter().any(|e| e == "*" || e == event)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook<'a> {
    pub url: &'a str,
    #[diesel(serialize_as = Json<Vec<String>>)]
    pub events: Vec<String>,
    pub secret: &'a str,
    pub active: bool,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: NewWebhook) -> QueryResult<WebhookRow> {
    diesel::insert_into(webhooks::table)
        .values(new)
        .returning(webhooks::all_columns)
        .get_result(conn)
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(conn)
}

pub fn active(conn: &mut DbConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .filter(webhooks::active.eq(true))
        .order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

/// Stops deliveries to the webhook; its deliveries stay for the record.
pub fn deactivate(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::update(webhooks::table.find(id).filter(webhooks::active.eq(true)))
        .set(webhooks::active.eq(false))
        .execute(conn)
}
