//! Webhook subscriptions (admins).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{decode_cursor, page_limit, paginate, Page};
use crate::app::notifications::Notification;
use crate::app::webhooks;
use crate::auth::extract::WebhookAdmin;
use crate::db::webhooks::WebhookRow;
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateWebhookRequest {
    /// Where events are posted (`http` or `https`).
    #[validate(length(min = 1, max = 2000))]
    pub url: String,
    /// Event names (see the README's list), or `*` for all.
    #[validate(length(min = 1, max = 50))]
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The signing secret (`whsec_...`), only in the answer to its creation: keep it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookResponse {
    fn new(w: WebhookRow, with_secret: bool) -> Self {
        Self {
            id: w.id,
            url: w.url,
            events: w.events,
            active: w.active,
            created_at: w.created_at.and_utc(),
            secret: with_secret.then_some(w.secret),
        }
    }
}

/// Subscribes a URL to events. Each call carries `webhook-id` (the event's id, the same on
/// every retry), `webhook-timestamp` and `webhook-signature` (Standard Webhooks, HMAC-SHA256
/// with the secret shown once, here).
#[utoipa::path(tag = "webhooks", request_body = CreateWebhookRequest, security(("bearer" = [])),
    responses((status = 201, body = WebhookResponse), (status = 422, body = crate::error::Problem)))]
#[post("/webhooks")]
pub async fn create_webhook(
    state: State,
    admin: WebhookAdmin,
    body: ValidJson<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let user = *admin;
    let r = body.0;
    let hook = state
        .write(move |conn| webhooks::create(conn, &user, &r.url, &r.events))
        .await?;
    Ok(HttpResponse::Created().json(WebhookResponse::new(hook, true)))
}

/// The webhook subscriptions (without their secrets).
#[utoipa::path(tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Page<WebhookResponse>)))]
#[get("/webhooks")]
pub async fn list_webhooks(state: State, _admin: WebhookAdmin) -> ApiResult<HttpResponse> {
    let hooks = state.db(webhooks::list).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: hooks
            .into_iter()
            .map(|h| WebhookResponse::new(h, false))
            .collect(),
        next_cursor: None,
    }))
}

/// Stops deliveries to a webhook; its deliveries stay readable.
#[utoipa::path(tag = "webhooks", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: State,
    _admin: WebhookAdmin,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    state.write(move |conn| webhooks::delete(conn, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveriesQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The webhook's deliveries, newest first: attempts, state and last error.
#[utoipa::path(tag = "webhooks", params(("id" = i64, Path), DeliveriesQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Notification>), (status = 404, body = crate::error::Problem)))]
#[get("/webhooks/{id}/deliveries")]
pub async fn webhook_deliveries(
    state: State,
    _admin: WebhookAdmin,
    path: web::Path<i64>,
    query: web::Query<DeliveriesQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let limit = page_limit(query.limit)?;
    let before = decode_cursor(query.cursor.as_deref())?;
    let rows = state
        .db(move |conn| webhooks::deliveries(conn, id, before, limit + 1))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |d| d.id, Notification::from)))
}
