//! Claims: filing, reading, review stages, decisions, comments, attachments.

pub mod attachments;
pub mod comment;
pub mod create;
pub mod decide;
pub mod get;
pub mod list;
pub mod notifications;
pub mod reassign;
pub mod remedies;
pub mod transition;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::claims::ClaimDetails;
use crate::auth::Role;
use crate::db::attachments::AttachmentRow;
use crate::db::claims::{ClaimEventRow, ClaimRow};
use crate::db::jobs::JobRow;
use crate::db::types::{ClaimId, CourierId, CustomerId, JobId, TimeWindow, UserId};

#[derive(Debug, Serialize, ToSchema)]
pub struct WarrantyInfo {
    /// `in_warranty`, `expired` or `unknown_serial`.
    pub status: String,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionInfo {
    pub decision: String,
    pub reason: Option<String>,
    /// For a rejection: `expired`, `misuse`, `mechanical_damage`, `not_covered`,
    /// `unknown_serial` or `other`.
    pub reason_code: Option<String>,
    pub refund_amount_cents: Option<i64>,
    /// For an approval: `courier`, `customer_brings`, `onsite`, `contractor` or `supplier`.
    pub logistics: Option<String>,
    /// Why it was approved although the warranty did not cover it.
    pub override_reason: Option<String>,
    /// The contract workshop of a `contractor` repair, the supplier of a `supplier`
    /// replacement.
    pub partner_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// The user who acted.
    pub actor_id: Option<UserId>,
    /// `filed`, `transition`, `comment`, `assignment`, `visit_planned`, `job.completed` or
    /// `job.failed`.
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentInfo {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    /// An image's size in pixels.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Whether `GET .../attachments/{id}/thumbnail` has a small JPEG of it.
    pub has_thumbnail: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobInfo {
    pub id: JobId,
    pub claim_id: ClaimId,
    /// `exchange`, `refund`, `pickup`, `return`, `onsite_repair`, `drop_off` (the unit handed
    /// over at a contract workshop), `collect` (taken back there) or `collect_new` (the
    /// replacement collected at a supplier).
    pub kind: String,
    pub status: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub windows: Vec<TimeWindow>,
    pub date: Option<NaiveDate>,
    pub service_minutes: i32,
    pub delivery_load: i32,
    pub pickup_load: i32,
    pub skills: Vec<String>,
    pub cash_cents: Option<i64>,
    pub courier_id: Option<CourierId>,
    pub attempts: i32,
    /// The workshop or supplier the job is at (its address is the partner's).
    pub partner_id: Option<i64>,
    /// The other end of the unit's trip: the same courier takes it at the `pickup`,
    /// `collect` or `collect_new` and hands it over at the other, in that order.
    pub paired_job_id: Option<JobId>,
}

impl From<JobRow> for JobInfo {
    fn from(j: JobRow) -> Self {
        Self {
            id: j.id,
            claim_id: j.claim_id,
            kind: j.kind.as_str().to_owned(),
            status: j.status.as_str().to_owned(),
            address: j.address,
            lat: j.lat,
            lon: j.lon,
            windows: j.windows,
            date: j.date,
            service_minutes: j.service_minutes,
            delivery_load: j.delivery_load,
            pickup_load: j.pickup_load,
            skills: j.skills,
            cash_cents: j.cash_cents,
            courier_id: j.courier_id,
            attempts: j.attempts,
            partner_id: j.partner_id,
            paired_job_id: j.paired_job_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimResponse {
    pub id: ClaimId,
    /// For people: `CLM-<year>-<sequence>`.
    pub number: String,
    pub status: String,
    /// The customer's record; not shown to a dealer, who knows her only by what he sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub filed_by: UserId,
    pub assignee_id: Option<UserId>,
    pub serial_no: String,
    pub sku: Option<String>,
    pub defect_category: String,
    pub description: String,
    pub requested_remedy: String,
    pub warranty: WarrantyInfo,
    pub decision: Option<DecisionInfo>,
    /// When the current stage is due under the SLA.
    pub stage_due_at: Option<DateTime<Utc>>,
    pub sla_breached: bool,
    /// When the current stage's deadline was escalated to the head of department.
    pub escalated_at: Option<DateTime<Utc>>,
    /// The claim's public page: where its customer follows it (keep it to those who may
    /// see the claim).
    pub tracking_url: Option<String>,
    /// The customer's rating of the service, 1 to 5, once given.
    pub rating: Option<i32>,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub preferred_windows: Vec<TimeWindow>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// In `GET /claims/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<JobInfo>>,
}

impl ClaimResponse {
    /// `public_url` is where people reach the server (the tracking link's base).
    pub fn new(c: ClaimRow, public_url: &str) -> Self {
        let due = c.stage_due_at.map(|d| d.and_utc());
        Self {
            escalated_at: c.escalated_at.map(|t| t.and_utc()),
            tracking_url: c
                .tracking_token
                .as_ref()
                .map(|t| format!("{public_url}/track/{t}")),
            rating: c.rating,
            id: c.id,
            number: c.number,
            status: c.status.as_str().to_owned(),
            customer_id: Some(c.customer_id),
            filed_by: c.filed_by,
            assignee_id: c.assignee_id,
            serial_no: c.serial_no,
            sku: c.sku,
            defect_category: c.defect_category,
            description: c.description,
            requested_remedy: c.requested_remedy.as_str().to_owned(),
            warranty: WarrantyInfo {
                status: c.warranty_status,
                until: c.warranty_until,
            },
            decision: c.decision.map(|decision| DecisionInfo {
                decision,
                reason: c.decision_reason,
                reason_code: c.reason_code.map(|r| r.as_str().to_owned()),
                refund_amount_cents: c.refund_amount_cents,
                logistics: c.logistics.map(|l| l.as_str().to_owned()),
                override_reason: c.override_reason,
                partner_id: c.partner_id,
            }),
            stage_due_at: due,
            sla_breached: domain::sla::is_breached(due, Utc::now()),
            address: c.address,
            lat: c.lat,
            lon: c.lon,
            preferred_windows: c.preferred_windows,
            created_at: c.created_at.and_utc(),
            updated_at: c.updated_at.and_utc(),
            version: c.version,
            history: None,
            attachments: None,
            jobs: None,
        }
    }
}

impl From<ClaimEventRow> for HistoryEntry {
    fn from(e: ClaimEventRow) -> Self {
        Self {
            at: e.at.and_utc(),
            actor_id: e.actor_id,
            kind: e.kind,
            from: e.from_status,
            to: e.to_status,
            note: e.note,
        }
    }
}

impl From<AttachmentRow> for AttachmentInfo {
    fn from(a: AttachmentRow) -> Self {
        Self {
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            bytes: a.bytes,
            sha256: a.sha256,
            created_at: a.created_at.and_utc(),
            width: a.width,
            height: a.height,
            has_thumbnail: a.thumbnail,
        }
    }
}

impl ClaimResponse {
    /// The claim as `viewer` may see it: a dealer filing for an e-mail that belongs to a
    /// customer already known must not learn she exists, so her record stays hidden.
    pub fn seen_by(mut self, viewer: Role) -> Self {
        if viewer == Role::Dealer {
            self.customer_id = None;
        }
        self
    }

    pub fn with_details(d: ClaimDetails, public_url: &str) -> Self {
        let mut response = ClaimResponse::new(d.claim, public_url);
        response.history = Some(d.history.into_iter().map(Into::into).collect());
        response.attachments = Some(d.attachments.into_iter().map(Into::into).collect());
        response.jobs = Some(d.jobs.into_iter().map(Into::into).collect());
        response
    }
}
