//! The claim workflow: filing, the review stages, the decision that creates courier jobs,
//! comments and reassignment, and the claim following its jobs through fulfilment. This
//! module is the only writer of a claim's history (`claim_events`) and of the claim events
//! in the outbox: other workflows (a courier's report, a publication) call it.
//!
//! Every function runs inside the caller's one write transaction (`AppState::write`), so a
//! step is applied whole or not at all.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use domain::claim::{check_transition, claim_number, ClaimStatus, Remedy, TransitionTrigger};
use domain::decision::{jobs_for_decision, Decision};
use domain::dispatch::{claim_follows_jobs, CourierEvent};
use domain::job::JobStatus;
use domain::sla::SlaPolicy;
use domain::warranty::{check_warranty, WarrantyStatus};
use serde_json::json;

use super::registry::{find_or_create_customer, CustomerDetails};
use crate::auth::extract::AuthUser;
use crate::auth::Role;
use crate::db::attachments::{self, AttachmentRow};
use crate::db::claims::{
    self, ClaimEventRow, ClaimRow, ListFilter, NewClaim, NewClaimEvent, Scope,
};
use crate::db::jobs::{self, JobRow, NewJob};
use crate::db::types::{ClaimId, CourierId, CustomerId, JobId, TimeWindow, UserId};
use crate::db::{now, outbox, registry, users, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// What a history row records (`claim_events.kind`).
pub mod history {
    pub const FILED: &str = "filed";
    pub const TRANSITION: &str = "transition";
    pub const COMMENT: &str = "comment";
    pub const ASSIGNMENT: &str = "assignment";
    pub const VISIT_PLANNED: &str = "visit_planned";
    pub const JOB_COMPLETED: &str = "job.completed";
    pub const JOB_FAILED: &str = "job.failed";
}

/// Which claims `user` may see; roles that never see claims get none.
pub fn scope_for(conn: &mut DbConnection, user: &AuthUser) -> ApiResult<Scope> {
    match user.role {
        Role::Customer => {
            let customer = users::find(conn, user.id)?
                .and_then(|u| u.customer_id)
                .ok_or(ApiError::Forbidden)?;
            Ok(Scope::Customer(customer))
        }
        Role::Dealer => Ok(Scope::FiledBy(user.id)),
        Role::Manager => Ok(Scope::AssignedTo(user.id)),
        Role::Head | Role::Admin => Ok(Scope::All),
        Role::Dispatcher | Role::Courier => Err(ApiError::Forbidden),
    }
}

/// The claim if `user` may see it; 404 otherwise, so others' ids are not revealed.
pub fn visible(conn: &mut DbConnection, user: &AuthUser, id: ClaimId) -> ApiResult<ClaimRow> {
    let scope = scope_for(conn, user)?;
    claims::find(conn, id, scope)?.ok_or(ApiError::NotFound)
}

/// The claim at the version the caller saw (a stale one makes the step a 409).
pub fn visible_at(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: ClaimId,
    version: Option<i32>,
) -> ApiResult<ClaimRow> {
    let mut claim = visible(conn, user, id)?;
    if let Some(version) = version {
        claim.version = version;
    }
    Ok(claim)
}

pub fn list(
    conn: &mut DbConnection,
    user: &AuthUser,
    filter: &ListFilter,
) -> ApiResult<Vec<ClaimRow>> {
    let scope = scope_for(conn, user)?;
    Ok(claims::list(conn, scope, filter)?)
}

/// A claim with everything `GET /claims/{id}` shows.
pub struct ClaimDetails {
    pub claim: ClaimRow,
    pub history: Vec<ClaimEventRow>,
    pub attachments: Vec<AttachmentRow>,
    pub jobs: Vec<JobRow>,
}

pub fn details(conn: &mut DbConnection, user: &AuthUser, id: ClaimId) -> ApiResult<ClaimDetails> {
    let claim = visible(conn, user, id)?;
    Ok(ClaimDetails {
        history: claims::history(conn, id)?,
        attachments: attachments::for_claim(conn, id)?,
        jobs: jobs::for_claim(conn, id)?,
        claim,
    })
}

/// A claim as a customer or a dealer files it, validated.
#[derive(Debug, Clone)]
pub struct Filing {
    pub serial_no: String,
    pub defect_category: String,
    pub description: String,
    pub requested_remedy: Remedy,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub preferred_windows: Vec<TimeWindow>,
    /// A dealer's customer, when the sales registry does not name one.
    pub customer: Option<FilingCustomer>,
}

#[derive(Debug, Clone)]
pub struct FilingCustomer {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Files a claim for the customer the filer speaks for.
pub fn file(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    filer: &AuthUser,
    filing: &Filing,
) -> ApiResult<ClaimRow> {
    let customer_id = customer_of_filing(conn, filer, filing)?;
    file_claim(conn, sla, customer_id, filer.id, filing)
}

/// The customer the claim is about: the caller herself, or for a dealer the customer he
/// names (found by e-mail or created), else the buyer in the sales registry.
fn customer_of_filing(
    conn: &mut DbConnection,
    filer: &AuthUser,
    filing: &Filing,
) -> ApiResult<CustomerId> {
    let owner =
        registry::find_sale(conn, &filing.serial_no)?.and_then(|(sale, _)| sale.customer_id);
    if filer.role == Role::Customer {
        let own = users::find(conn, filer.id)?
            .and_then(|u| u.customer_id)
            .ok_or(ApiError::Forbidden)?;
        // A unit registered to someone else is not hers to claim (nor its sale hers to
        // see); an unregistered one is for the manager to check.
        if owner.is_some_and(|owner| owner != own) {
            return Err(ApiError::field("serial_no", messages::SERIAL_OF_ANOTHER));
        }
        return Ok(own);
    }
    if let Some(c) = &filing.customer {
        return find_or_create_customer(
            conn,
            &CustomerDetails {
                name: &c.name,
                phone: c.phone.as_deref(),
                email: c.email.as_deref(),
                address: Some(&filing.address),
                position: Some((filing.lat, filing.lon)),
            },
        );
    }
    owner.ok_or_else(|| ApiError::field("customer", messages::CUSTOMER_NEEDED))
}

/// Files a claim for a known customer: warranty check, assignment to the least-loaded
/// manager on duty, number, SLA deadline, history and outbox event. The seeds call it too.
pub fn file_claim(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    customer_id: CustomerId,
    filed_by: UserId,
    filing: &Filing,
) -> ApiResult<ClaimRow> {
    let now_at = now();
    let sale = registry::find_sale(conn, &filing.serial_no)?;
    let warranty = check_warranty(
        sale.as_ref()
            .map(|(s, p)| registry::sale_record(s, p))
            .as_ref(),
        now_at.date(),
    );
    let loads = manager_loads(conn, false)?;
    let assignee = domain::assignment::pick_assignee(&loads)
        .ok_or_else(|| ApiError::Unavailable(messages::NO_MANAGER_ON_DUTY.to_owned()))?;
    // The number needs the id, which the insert gives; a placeholder keeps the column unique.
    let placeholder = format!("pending-{}", rand::random::<u64>());
    let status = ClaimStatus::New;
    let row = claims::insert(
        conn,
        NewClaim {
            number: &placeholder,
            customer_id,
            filed_by,
            serial_no: &filing.serial_no,
            sku: sale.as_ref().map(|(s, _)| s.sku.as_str()),
            defect_category: &filing.defect_category,
            description: &filing.description,
            requested_remedy: filing.requested_remedy,
            status,
            assignee_id: Some(UserId(assignee)),
            warranty_status: warranty.as_str(),
            warranty_until: warranty.until(),
            stage_entered_at: now_at,
            stage_due_at: deadline(sla, status, now_at),
            address: &filing.address,
            lat: filing.lat,
            lon: filing.lon,
            preferred_windows: filing.preferred_windows.clone(),
            created_at: now_at,
            updated_at: now_at,
        },
    )?;
    let row = claims::set_number(conn, row.id, &claim_number(now_at.year(), row.id.0))?;
    let note = match &warranty {
        WarrantyStatus::InWarranty { until } => format!("filed; in warranty until {until}"),
        WarrantyStatus::Expired { until } => format!("filed; warranty expired on {until}"),
        WarrantyStatus::UnknownSerial => {
            "filed; serial number not in the sales registry".to_owned()
        }
    };
    record(
        conn,
        row.id,
        Some(filed_by),
        history::FILED,
        (None, Some(status)),
        Some(&note),
    )?;
    outbox::push(conn, "claim.filed", event_payload(&row))?;
    Ok(row)
}

/// Managers with their open claims, for the assignment rules. Heads take claims by
/// reassignment or as substitutes (`include_heads`), not in the even spread.
fn manager_loads(
    conn: &mut DbConnection,
    include_heads: bool,
) -> ApiResult<Vec<domain::assignment::ManagerLoad>> {
    let open = claims::open_per_assignee(conn)?;
    Ok(users::handlers(conn, include_heads)?
        .into_iter()
        .map(|h| domain::assignment::ManagerLoad {
            id: h.id.0,
            active: h.active,
            absent: h.absent,
            substitute_id: h.substitute_id.map(|s| s.0),
            open_claims: open
                .iter()
                .find(|(assignee, _)| *assignee == h.id)
                .map_or(0, |(_, n)| *n),
        })
        .collect())
}

/// Moves a claim one stage on: a manager's review step, a decision's outcome, or the
/// claim following its jobs.
pub fn transition(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: &ClaimRow,
    actor: UserId,
    to: ClaimStatus,
    trigger: TransitionTrigger,
    note: Option<&str>,
) -> ApiResult<ClaimRow> {
    let from = claim.status;
    check_transition(from, to, trigger).map_err(|e| ApiError::Conflict(e.to_string()))?;
    let now_at = now();
    let updated =
        claims::update_status(conn, claim.id, claim.version, to, deadline(sla, to, now_at))?
            .ok_or_else(|| ApiError::Conflict(messages::STALE_CLAIM.to_owned()))?;
    record(
        conn,
        claim.id,
        Some(actor),
        history::TRANSITION,
        (Some(from), Some(to)),
        note,
    )?;
    outbox::push(conn, "claim.status_changed", event_payload(&updated))?;
    Ok(updated)
}

/// Records a decision: the claim moves to approved or rejected and the courier jobs the
/// decision calls for are created, all in the caller's one transaction.
pub fn decide(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: &ClaimRow,
    actor: UserId,
    decision: &Decision,
) -> ApiResult<(ClaimRow, Vec<JobRow>)> {
    transition(
        conn,
        sla,
        claim,
        actor,
        decision.target_status(),
        TransitionTrigger::Decision,
        decision.reason.as_deref(),
    )?;
    let updated = claims::record_decision(
        conn,
        claim.id,
        decision.kind.as_str(),
        decision.reason.as_deref(),
        decision.refund_amount_cents,
    )?;
    let size_units = match &claim.sku {
        Some(sku) => registry::find_product(conn, sku)?.map_or(1, |p| p.size_units),
        None => 1,
    };
    let date = first_visit_day(&claim.preferred_windows);
    let mut created = Vec::new();
    for spec in jobs_for_decision(decision, size_units) {
        let at = now();
        created.push(jobs::insert(
            conn,
            NewJob {
                claim_id: claim.id,
                kind: spec.kind,
                status: JobStatus::Unplanned,
                address: &claim.address,
                lat: claim.lat,
                lon: claim.lon,
                windows: claim.preferred_windows.clone(),
                service_minutes: spec.service_minutes,
                delivery_load: spec.delivery_load,
                pickup_load: spec.pickup_load,
                skills: spec.skills.clone(),
                priority: spec.priority,
                cash_cents: spec.cash_cents,
                date: Some(date),
                created_at: at,
                updated_at: at,
            },
        )?);
    }
    let mut payload = event_payload(&updated);
    payload["decision"] = json!(decision.kind.as_str());
    payload["reason"] = json!(decision.reason);
    payload["jobs"] = json!(created.iter().map(|j| j.id).collect::<Vec<_>>());
    outbox::push(conn, "claim.decided", payload)?;
    Ok((updated, created))
}

/// The day a claim's first visit is due: its earliest slot's, else tomorrow.
fn first_visit_day(windows: &[TimeWindow]) -> NaiveDate {
    windows.iter().map(|w| w.start).min().map_or_else(
        || (Utc::now() + chrono::Duration::days(1)).date_naive(),
        |start| start.date_naive(),
    )
}

pub fn comment(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    actor: UserId,
    text: &str,
) -> ApiResult<()> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::field("text", messages::BLANK));
    }
    record(
        conn,
        claim.id,
        Some(actor),
        history::COMMENT,
        (None, None),
        Some(text),
    )?;
    outbox::push(conn, "claim.commented", event_payload(claim))?;
    Ok(())
}

/// Hands a claim to another manager; one who is absent passes it to his substitute.
pub fn reassign(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    actor: UserId,
    manager_id: UserId,
) -> ApiResult<ClaimRow> {
    let loads = manager_loads(conn, true)?;
    let target = domain::assignment::route_to_available(manager_id.0, &loads)
        .map(UserId)
        .ok_or_else(|| ApiError::field("manager_id", messages::NOT_A_MANAGER))?;
    let updated = claims::reassign(conn, claim.id, claim.version, target)?
        .ok_or_else(|| ApiError::Conflict(messages::STALE_CLAIM.to_owned()))?;
    let note = if target == manager_id {
        format!("assigned to manager {target}")
    } else {
        format!("assigned to manager {target} (substitute for {manager_id})")
    };
    record(
        conn,
        claim.id,
        Some(actor),
        history::ASSIGNMENT,
        (None, None),
        Some(&note),
    )?;
    outbox::push(conn, "claim.reassigned", event_payload(&updated))?;
    Ok(updated)
}

/// How a courier's visit for a claim ended.
#[derive(Debug, Clone, Copy)]
pub enum VisitEnd<'a> {
    Completed,
    Failed { reason: &'a str },
}

/// A visit of the claim's job ended: its history and outbox hear of it, and the claim
/// moves as far as its jobs now take it (in fulfilment, quality control).
#[allow(clippy::too_many_arguments)]
pub fn visit_reported(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    job: &JobRow,
    courier_id: CourierId,
    actor: UserId,
    event: CourierEvent,
    ended: Option<VisitEnd>,
) -> ApiResult<()> {
    let claim = claims::find(conn, job.claim_id, Scope::All)?.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "job {} has no claim {}",
            job.id,
            job.claim_id
        ))
    })?;
    if let Some(ended) = ended {
        let (kind, note, attempts) = match ended {
            VisitEnd::Completed => (
                history::JOB_COMPLETED,
                messages::job_completed_note(job.id.0, job.kind.as_str()),
                job.attempts,
            ),
            VisitEnd::Failed { reason } => (
                history::JOB_FAILED,
                messages::job_failed_note(job.id.0, job.kind.as_str(), reason),
                job.attempts + 1,
            ),
        };
        record(conn, claim.id, Some(actor), kind, (None, None), Some(&note))?;
        let mut payload = event_payload(&claim);
        payload["job_id"] = json!(job.id);
        payload["job_kind"] = json!(job.kind);
        payload["courier_id"] = json!(courier_id);
        payload["attempts"] = json!(attempts);
        if let VisitEnd::Failed { reason } = ended {
            payload["reason"] = json!(reason);
        }
        outbox::push(conn, kind, payload)?;
    }
    follow_jobs(conn, sla, claim, actor, job.id, event)
}

/// Moves the claim as far as its jobs now take it, one recorded step at a time.
fn follow_jobs(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    mut claim: ClaimRow,
    actor: UserId,
    job_id: JobId,
    event: CourierEvent,
) -> ApiResult<()> {
    let statuses: Vec<JobStatus> = jobs::for_claim(conn, claim.id)?
        .iter()
        .map(|j| j.status)
        .collect();
    let note = messages::fulfilment_note(job_id.0, event.as_str());
    while let Some(next) = claim_follows_jobs(claim.status, &statuses) {
        claim = transition(
            conn,
            sla,
            &claim,
            actor,
            next,
            TransitionTrigger::Fulfilment,
            Some(&note),
        )?;
    }
    Ok(())
}

/// A visit that got a time when a plan was published.
#[derive(Debug, Clone, Copy)]
pub struct PlannedVisit {
    pub job_id: JobId,
    pub claim_id: ClaimId,
    pub date: NaiveDate,
    pub eta: Option<DateTime<Utc>>,
}

/// Tells each customer when to expect the courier (history and outbox).
pub fn visits_planned(
    conn: &mut DbConnection,
    actor: UserId,
    visits: &[PlannedVisit],
) -> ApiResult<()> {
    for visit in visits {
        let note = messages::visit_planned(visit.date, visit.eta);
        record(
            conn,
            visit.claim_id,
            Some(actor),
            history::VISIT_PLANNED,
            (None, None),
            Some(&note),
        )?;
        outbox::push(
            conn,
            "claim.visit_planned",
            json!({
                "claim_id": visit.claim_id,
                "job_id": visit.job_id,
                "eta": visit.eta,
                "date": visit.date,
            }),
        )?;
    }
    Ok(())
}

/// Appends a history row: `(from, to)` for status moves, a note for anything else.
fn record(
    conn: &mut DbConnection,
    claim_id: ClaimId,
    actor: Option<UserId>,
    kind: &str,
    (from_status, to_status): (Option<ClaimStatus>, Option<ClaimStatus>),
    note: Option<&str>,
) -> ApiResult<()> {
    claims::insert_event(
        conn,
        &NewClaimEvent {
            claim_id,
            at: now(),
            actor_id: actor,
            kind,
            from_status: from_status.map(ClaimStatus::as_str),
            to_status: to_status.map(ClaimStatus::as_str),
            note,
        },
    )?;
    Ok(())
}

fn deadline(sla: &SlaPolicy, status: ClaimStatus, at: NaiveDateTime) -> Option<NaiveDateTime> {
    sla.deadline(status, at.and_utc()).map(|d| d.naive_utc())
}

/// What every claim event in the outbox carries.
pub fn event_payload(claim: &ClaimRow) -> serde_json::Value {
    json!({
        "claim_id": claim.id,
        "number": claim.number,
        "customer_id": claim.customer_id,
        "status": claim.status,
    })
}
