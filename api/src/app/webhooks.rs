//! Webhook subscriptions (admins): where events are posted and which, the secret their
//! signatures are made with (shown once, at creation), and what was delivered.

use base64::Engine;

use crate::auth::extract::AuthUser;
use crate::db::deliveries::{self, DeliveryRow};
use crate::db::webhooks::{self, NewWebhook, WebhookRow};
use crate::db::{now, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// Every event a webhook can subscribe to (and `*` for all).
pub const EVENTS: &[&str] = &[
    "claim.filed",
    "claim.status_changed",
    "claim.decided",
    "claim.commented",
    "claim.reassigned",
    "claim.visit_planned",
    "claim.visits_exhausted",
    "claim.repair_done",
    "claim.withdrawn",
    "claim.overdue",
    "claim.feedback",
    "visit.departed",
    "visit.delayed",
    "visit.rebooked",
    "job.completed",
    "job.failed",
    "job.cancelled",
    "plan.published",
];

/// A new secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    )
}

pub fn create(
    conn: &mut DbConnection,
    admin: &AuthUser,
    url: &str,
    events: &[String],
) -> ApiResult<WebhookRow> {
    let parsed =
        url::Url::parse(url.trim()).map_err(|_| ApiError::field("url", messages::WEBHOOK_URL))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ApiError::field("url", messages::WEBHOOK_URL));
    }
    let mut names: Vec<String> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if event != "*" && !EVENTS.contains(&event.as_str()) {
            return Err(ApiError::Validation(vec![domain::FieldError::new(
                format!("events[{i}]"),
                messages::unknown_event(EVENTS),
            )]));
        }
        if !names.contains(event) {
            names.push(event.clone());
        }
    }
    if names.is_empty() {
        return Err(ApiError::field("events", messages::NO_EVENTS));
    }
    Ok(webhooks::insert(
        conn,
        NewWebhook {
            url: parsed.as_str(),
            events: names,
            secret: &new_secret(),
            active: true,
            created_by: admin.id,
            created_at: now(),
        },
    )?)
}

pub fn list(conn: &mut DbConnection) -> ApiResult<Vec<WebhookRow>> {
    Ok(webhooks::list(conn)?)
}

/// Stops deliveries to the webhook; what was delivered stays readable.
pub fn delete(conn: &mut DbConnection, id: i64) -> ApiResult<()> {
    webhooks::find(conn, id)?
        .filter(|h| h.active)
        .ok_or(ApiError::NotFound)?;
    webhooks::deactivate(conn, id)?;
    Ok(())
}

pub fn deliveries(
    conn: &mut DbConnection,
    id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<DeliveryRow>> {
    webhooks::find(conn, id)?.ok_or(ApiError::NotFound)?;
    Ok(deliveries::of_webhook(conn, id, before_id, limit)?)
}
