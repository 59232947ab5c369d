//! The manager's queue (his claims, the soonest stage deadline first) and a claim's card
//! (customer, product, warranty, description, photos, history, jobs) with its transitions,
//! comments and decision form; the forms post to the API (`claim.js`), which validates.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::claim::{next_statuses, ClaimStatus, TransitionTrigger};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::PageCtx;
use crate::app::claims;
use crate::auth::Role;
use crate::db::claims::ListFilter;
use crate::db::types::ClaimId;
use crate::routes::claims::ClaimResponse;

/// Who works claims in the console.
const CLAIM_STAFF: [Role; 3] = [Role::Manager, Role::Head, Role::Admin];
/// The queue shows this many; the filters narrow it down.
const QUEUE_LENGTH: i64 = 200;

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    q: Option<String>,
}

#[derive(Debug, Serialize)]
struct QueueRow {
    id: ClaimId,
    number: String,
    status: &'static str,
    defect_category: String,
    serial_no: String,
    sku: Option<String>,
    created_at: DateTime<Utc>,
    stage_due_at: Option<DateTime<Utc>>,
    /// Minutes past the stage deadline, when it has passed.
    overdue_minutes: Option<i64>,
}

pub async fn queue(ctx: PageCtx, query: web::Query<QueueQuery>) -> HttpResponse {
    let result = async {
        let user = ctx.staff(&CLAIM_STAFF)?.user;
        let status = query
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| s.parse::<ClaimStatus>().ok());
        let text = query.q.clone().filter(|q| !q.trim().is_empty());
        let filter = ListFilter {
            due_first: status.is_none_or(ClaimStatus::is_open),
            status,
            text: text.clone(),
            limit: QUEUE_LENGTH,
            ..ListFilter::default()
        };
        let rows = ctx
            .state
            .db(move |conn| claims::list(conn, &user, &filter))
            .await?;
        let now = Utc::now();
        let items: Vec<QueueRow> = rows
            .into_iter()
            .map(|c| {
                let due = c.stage_due_at.map(|d| d.and_utc());
                QueueRow {
                    overdue_minutes: due
                        .filter(|d| *d < now && c.status.is_open())
                        .map(|d| (now - d).num_minutes()),
                    id: c.id,
                    number: c.number,
                    status: c.status.as_str(),
                    defect_category: c.defect_category,
                    serial_no: c.serial_no,
                    sku: c.sku,
                    created_at: c.created_at.and_utc(),
                    stage_due_at: due,
                }
            })
            .collect();
        let statuses: Vec<&str> = ClaimStatus::ALL.iter().map(|s| s.as_str()).collect();
        ctx.render(
            "queue",
            context! {
                items, statuses, status => status.map(ClaimStatus::as_str),
                q => text, limit => QUEUE_LENGTH,
            },
        )
    }
    .await;
    ctx.finish(result)
}

#[derive(Debug, Serialize)]
struct CustomerCard {
    name: String,
    phone: Option<String>,
    email: Option<String>,
}

pub async fn card(ctx: PageCtx, path: web::Path<i64>) -> HttpResponse {
    let result = async {
        let user = ctx.staff(&CLAIM_STAFF)?.user;
        let id = ClaimId(path.into_inner());
        let claims::ClaimCard {
            details,
            customer,
            names,
            workshops,
            suppliers,
            decided_partner,
        } = ctx
            .state
            .db(move |conn| claims::card(conn, &user, id))
            .await?;
        let status = details.claim.status;
        let assignee = details
            .claim
            .assignee_id
            .and_then(|a| names.get(&a).cloned());
        let claim = ClaimResponse::with_details(details, &ctx.state.settings.notify.public_url)
            .seen_by(user.role);
        let history: Vec<_> = claim
            .history
            .iter()
            .flatten()
            .map(|e| {
                context! {
                    at => e.at, kind => e.kind, from => e.from, to => e.to, note => e.note,
                    actor => e.actor_id.and_then(|a| names.get(&a)),
                }
            })
            .collect();
        let moves: Vec<&str> = next_statuses(status, TransitionTrigger::Manual)
            .into_iter()
            .filter(|_| user.role.handles_claims())
            .map(ClaimStatus::as_str)
            .collect();
        ctx.render(
            "claim",
            context! {
                claim, history, moves, assignee,
                customer => customer.map(|c| CustomerCard { name: c.name, phone: c.phone, email: c.email }),
                decided_partner => decided_partner.map(|p| p.name),
                workshops => workshops.into_iter().map(|w| context! { id => w.id, name => w.name, address => w.address }).collect::<Vec<_>>(),
                suppliers => suppliers.into_iter().map(|s| context! { id => s.id, name => s.name, address => s.address }).collect::<Vec<_>>(),
                // Admins read claims; only their managers and heads work them.
                can_act => user.role.handles_claims(),
                decidable => status.is_review_stage() && user.role.handles_claims(),
                overdue => claim.sla_breached && status.is_open(),
            },
        )
    }
    .await;
    ctx.finish(result)
}
