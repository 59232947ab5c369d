//! The claim workflow: filing, the review stages, the decision that creates courier jobs,
//! comments and reassignment, and the claim following its jobs through fulfilment. This
//! module is the only writer of a claim's history (`claim_events`) and of the claim events
//! in the outbox: other workflows (a courier's report, a publication) call it.
//!
//! Every function runs inside the caller's one write transaction (`AppState::write`), so a
//! step is applied whole or not at all.

use crate::app::plans::edit::CANCELLED;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use domain::claim::{check_transition, claim_number, ClaimStatus, Remedy, TransitionTrigger};
use domain::decision::{
    check_override, jobs_for_decision, return_jobs_after_repair, Decision, DecisionKind, JobSpec,
    Leg, Logistics,
};
use domain::dispatch::{claim_follows_jobs, CourierEvent};
use domain::job::{JobKind, JobStatus};
use domain::locale::Locale;
use domain::sla::SlaPolicy;
use domain::warranty::{check_warranty, WarrantyStatus};
use serde_json::json;

use super::registry::{find_or_create_customer, CustomerDetails};
use crate::auth::extract::AuthUser;
use crate::auth::Role;
use crate::db::attachments::{self, AttachmentRow};
use crate::db::claims::{
    self, ClaimEventRow, ClaimRow, DecisionRecord, ListFilter, NewClaim, NewClaimEvent, Scope,
};
use crate::db::jobs::{self, JobRow, NewJob};
use crate::db::partners::{self, PartnerRow};
use crate::db::types::{ClaimId, CourierId, CustomerId, JobId, TimeWindow, UserId};
use crate::db::{fleet, now, outbox, registry, users, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use domain::partner::PartnerKind;

/// What a history row records (`claim_events.kind`).
pub mod history {
    pub const FILED: &str = "filed";
    pub const TRANSITION: &str = "transition";
    pub const COMMENT: &str = "comment";
    pub const ASSIGNMENT: &str = "assignment";
    pub const VISIT_PLANNED: &str = "visit_planned";
    pub const JOB_COMPLETED: &str = "job.completed";
    pub const JOB_FAILED: &str = "job.failed";
    pub const JOB_CANCELLED: &str = "job.cancelled";
    pub const OVERRIDE: &str = "warranty_override";
    pub const ESCALATED: &str = "escalated";
    pub const REPAIR_DONE: &str = "repair_done";
    pub const RECEIVED: &str = "received";
    pub const FEEDBACK: &str = "feedback";
    pub const VISIT_REBOOKED: &str = "visit_rebooked";
}

/// A new tracking token: 24 random bytes, so a link cannot be guessed.
fn new_tracking_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
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

/// A claim as the console's card shows it: everything of [`details`], the customer, and
/// the names of the people in its history and of its manager.
pub struct ClaimCard {
    pub details: ClaimDetails,
    pub customer: Option<registry::CustomerRow>,
    pub names: std::collections::BTreeMap<UserId, String>,
    /// The active contract workshops that take the claim's product, for the decision form.
    pub workshops: Vec<PartnerRow>,
    /// The active suppliers of the claim's product, for the decision form.
    pub suppliers: Vec<PartnerRow>,
    /// The partner the decision named: the workshop the unit went to, or the supplier.
    pub decided_partner: Option<PartnerRow>,
}

pub fn card(conn: &mut DbConnection, user: &AuthUser, id: ClaimId) -> ApiResult<ClaimCard> {
    let details = details(conn, user, id)?;
    let customer = registry::find_customer(conn, details.claim.customer_id)?;
    let mut people: Vec<UserId> = details.history.iter().filter_map(|e| e.actor_id).collect();
    people.extend(details.claim.assignee_id);
    people.sort_unstable();
    people.dedup();
    let names = users::names(conn, &people)?.into_iter().collect();
    let category = match &details.claim.sku {
        Some(sku) => registry::find_product(conn, sku)?.map(|p| p.category),
        None => None,
    };
    let mut partners_of = |kind| {
        let filter = super::partners::PartnerFilter {
            kind: Some(kind),
            // An unknown product: only the partners that take every category.
            category: Some(category.clone().unwrap_or_default()),
            include_retired: false,
        };
        super::partners::list(conn, &filter, None, 100)
    };
    let workshops = partners_of(PartnerKind::Workshop)?;
    let suppliers = partners_of(PartnerKind::Supplier)?;
    let decided_partner = match details.claim.partner_id {
        Some(id) => partners::find(conn, id)?,
        None => None,
    };
    Ok(ClaimCard {
        details,
        customer,
        names,
        workshops,
        suppliers,
        decided_partner,
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
    pub locale: Option<Locale>,
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
                locale: c.locale,
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
    let tracking_token = new_tracking_token();
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
            tracking_token: &tracking_token,
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
    let mut payload = event_payload(&row);
    payload["stage_due_at"] = json!(row.stage_due_at.map(|t| t.and_utc()));
    payload["warranty"] = json!(warranty.as_str());
    outbox::push(conn, "claim.filed", Some(row.id), payload)?;
    Ok(row)
}

/// Managers with their open claims, for the assignment rules. Heads take claims by
/// reassignment or as substitutes (`include_heads`), not in the even spread.
fn manager_loads(
    conn: &mut DbConnection,
    include_heads: bool,
) -> ApiResult<Vec<domain::assignment::ManagerLoad>> {
    let handlers = users::handlers(conn, include_heads)?;
    let ids: Vec<UserId> = handlers.iter().map(|h| h.id).collect();
    let open = claims::open_per_assignee(conn, &ids)?;
    Ok(handlers
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
    let mut payload = event_payload(&updated);
    payload["from"] = json!(from);
    payload["note"] = json!(note);
    payload["stage_due_at"] = json!(updated.stage_due_at.map(|t| t.and_utc()));
    outbox::push(conn, "claim.status_changed", Some(updated.id), payload)?;
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
    check_override(decision, &claim.warranty_status).map_err(|e| ApiError::Validation(vec![e]))?;
    let product = match &claim.sku {
        Some(sku) => registry::find_product(conn, sku)?,
        None => None,
    };
    let partner = match (
        decision.partner_id,
        decision.logistics.and_then(Logistics::partner_kind),
    ) {
        (Some(id), Some(kind)) => Some(partner_for(conn, id, kind, product.as_ref())?),
        _ => None,
    };
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
        DecisionRecord {
            decision: decision.kind.as_str(),
            reason: decision.reason.as_deref(),
            reason_code: decision.reason_code,
            refund_amount_cents: decision.refund_amount_cents,
            logistics: decision.logistics,
            override_reason: decision.override_reason.as_deref(),
            partner_id: decision.partner_id,
        },
    )?;
    if let Some(reason) = &decision.override_reason {
        let note = messages::override_note(&claim.warranty_status, reason);
        record(
            conn,
            claim.id,
            Some(actor),
            history::OVERRIDE,
            (None, None),
            Some(&note),
        )?;
    }
    let size_units = product.as_ref().map_or(1, |p| p.size_units);
    let created = create_jobs(
        conn,
        claim,
        &jobs_for_decision(decision, size_units),
        (
            claim.preferred_windows.clone(),
            first_visit_day(&claim.preferred_windows),
        ),
        partner.as_ref(),
    )?;
    let mut payload = event_payload(&updated);
    payload["decision"] = json!(decision.kind.as_str());
    payload["reason"] = json!(decision.reason);
    payload["reason_code"] = json!(decision.reason_code);
    payload["refund_amount_cents"] = json!(decision.refund_amount_cents);
    payload["logistics"] = json!(decision.logistics);
    payload["override"] = json!(decision.override_reason);
    payload["partner_id"] = json!(decision.partner_id);
    payload["visit_date"] = json!(created.first().and_then(|j| j.date));
    payload["jobs"] = json!(created.iter().map(|j| j.id).collect::<Vec<_>>());
    outbox::push(conn, "claim.decided", Some(updated.id), payload)?;
    Ok((updated, created))
}

/// The partner a decision names (the workshop of a contractor repair, the supplier of a
/// supplier's replacement), if it can take the claim: registered, active, of that `kind`,
/// and one that handles the product's category (a claim without a known product needs a
/// partner that handles every category).
fn partner_for(
    conn: &mut DbConnection,
    id: i64,
    kind: PartnerKind,
    product: Option<&registry::ProductRow>,
) -> ApiResult<PartnerRow> {
    let refuse = |why: String| ApiError::field("partner_id", why);
    let partner =
        partners::find(conn, id)?.ok_or_else(|| refuse(messages::NO_SUCH_PARTNER.to_owned()))?;
    if partner.kind != kind {
        return Err(refuse(messages::partner_not_a(
            &partner.name,
            partner.kind,
            kind,
        )));
    }
    if !partner.active {
        return Err(refuse(messages::partner_retired(&partner.name)));
    }
    let category = product.map_or("", |p| p.category.as_str());
    if !domain::partner::serves_category(&partner.categories, category) {
        return Err(refuse(messages::partner_does_not_take(
            &partner.name,
            category,
        )));
    }
    Ok(partner)
}

/// Creates a decision's (or a finished repair's) jobs in one go: at the customer's address,
/// or at `partner`'s for the specs that say so; a shipment's delivery is linked both ways to
/// the pickup created just before it.
fn create_jobs(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    specs: &[JobSpec],
    (windows, date): (Vec<TimeWindow>, NaiveDate),
    partner: Option<&PartnerRow>,
) -> ApiResult<Vec<JobRow>> {
    let mut created: Vec<JobRow> = Vec::new();
    let mut pickup: Option<JobId> = None;
    for spec in specs {
        let at = now();
        let place = partner.filter(|_| spec.at_partner);
        let job = jobs::insert(
            conn,
            NewJob {
                claim_id: claim.id,
                kind: spec.kind,
                status: JobStatus::Unplanned,
                address: place.map_or(&claim.address, |p| &p.address),
                lat: place.map_or(claim.lat, |p| p.lat),
                lon: place.map_or(claim.lon, |p| p.lon),
                // A partner's end is visited in its opening hours (applied when planning).
                windows: if place.is_some() {
                    Vec::new()
                } else {
                    windows.clone()
                },
                service_minutes: spec.service_minutes,
                delivery_load: spec.delivery_load,
                pickup_load: spec.pickup_load,
                skills: spec.skills.clone(),
                priority: spec.priority,
                cash_cents: spec.cash_cents,
                date: Some(date),
                created_at: at,
                updated_at: at,
                partner_id: place.map(|p| p.id),
                paired_job_id: pickup.filter(|_| spec.leg == Some(Leg::Delivery)),
            },
        )?;
        match spec.leg {
            Some(Leg::Pickup) => pickup = Some(job.id),
            Some(Leg::Delivery) => {
                if let Some(first) = pickup.take() {
                    jobs::pair(conn, first, job.id)?;
                    if let Some(row) = created.iter_mut().find(|j| j.id == first) {
                        row.paired_job_id = Some(job.id);
                    }
                }
            }
            None => {}
        }
        created.push(job);
    }
    Ok(created)
}

/// The day a claim's first visit is due: its earliest slot's, else tomorrow.
fn first_visit_day(windows: &[TimeWindow]) -> NaiveDate {
    windows.iter().map(|w| w.start).min().map_or_else(
        || (crate::clock::now() + chrono::Duration::days(1)).date_naive(),
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
    let mut payload = event_payload(claim);
    payload["author_id"] = json!(actor);
    outbox::push(conn, "claim.commented", Some(claim.id), payload)?;
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
    let note = messages::reassigned_note(manager_id, target);
    assign_to(conn, claim, actor, target, &note, false)
}

/// Moves a claim to `target` with a history row and a `claim.reassigned` event (marked
/// `absent` when it was handed over because its manager is away).
fn assign_to(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    actor: UserId,
    target: UserId,
    note: &str,
    absent: bool,
) -> ApiResult<ClaimRow> {
    let updated = claims::reassign(conn, claim.id, claim.version, target)?
        .ok_or_else(|| ApiError::Conflict(messages::STALE_CLAIM.to_owned()))?;
    record(
        conn,
        claim.id,
        Some(actor),
        history::ASSIGNMENT,
        (None, None),
        Some(note),
    )?;
    let mut payload = event_payload(&updated);
    payload["previous_assignee_id"] = json!(claim.assignee_id);
    if absent {
        payload["absent"] = json!(true);
    }
    outbox::push(conn, "claim.reassigned", Some(updated.id), payload)?;
    Ok(updated)
}

/// The claim of a job and the payload its visit events start from (with the courier's id
/// when a courier's report causes them).
fn visit_event(
    conn: &mut DbConnection,
    job: &JobRow,
    courier_id: Option<CourierId>,
) -> ApiResult<(ClaimRow, serde_json::Value)> {
    let claim = claims::find(conn, job.claim_id, Scope::All)?.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "job {} has no claim {}",
            job.id,
            job.claim_id
        ))
    })?;
    let mut payload = event_payload(&claim);
    payload["job_id"] = json!(job.id);
    payload["job_kind"] = json!(job.kind);
    if let Some(courier_id) = courier_id {
        payload["courier_id"] = json!(courier_id);
    }
    Ok((claim, payload))
}

/// A visit of the claim's job will start after the window the customer was promised
/// (live ETAs): she hears of it with the new estimate and her tracking link, as do the
/// webhooks (`visit.delayed`). Not claim history: the visit has not happened yet.
pub fn visit_delayed(
    conn: &mut DbConnection,
    job: &JobRow,
    courier_id: CourierId,
    eta: chrono::NaiveDateTime,
    promised: Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)>,
) -> ApiResult<()> {
    if job.partner_id.is_some() {
        return Ok(()); // late at a workshop or supplier: nothing she waits for
    }
    let (claim, mut payload) = visit_event(conn, job, Some(courier_id))?;
    payload["windows"] = json!(promised
        .map(|(start, end)| vec![json!({"start": start.and_utc(), "end": end.and_utc()})])
        .unwrap_or_default());
    payload["eta"] = json!(eta.and_utc());
    outbox::push(conn, "visit.delayed", Some(claim.id), payload)?;
    Ok(())
}

/// The customer booked another slot for the claim's visit (from her tracking link): the
/// history shows it, she gets a confirmation and the webhooks hear `visit.rebooked`, with
/// the planned time when a published route took the visit at once.
pub fn visit_rebooked(
    conn: &mut DbConnection,
    job: &JobRow,
    slot: TimeWindow,
    eta: Option<DateTime<Utc>>,
) -> ApiResult<()> {
    let (claim, mut payload) = visit_event(conn, job, None)?;
    let note = messages::visit_rebooked(slot.start, slot.end);
    record(
        conn,
        claim.id,
        None,
        history::VISIT_REBOOKED,
        (None, None),
        Some(&note),
    )?;
    payload["windows"] = json!([slot]);
    payload["eta"] = json!(eta);
    outbox::push(conn, "visit.rebooked", Some(claim.id), payload)?;
    Ok(())
}

/// How a courier's visit for a claim ended.
#[derive(Debug, Clone, Copy)]
pub enum VisitEnd<'a> {
    Completed,
    /// `exhausted`: that was the job's last attempt; it does not go back to planning.
    Failed {
        reason: &'a str,
        exhausted: bool,
    },
}

/// A courier reported on a visit of the claim's job: the customer hears that he is on his
/// way, or how the visit ended (history and outbox), and the claim moves as far as its
/// jobs take it (in fulfilment, in repair, quality control). After a job's last failed
/// attempt the claim goes back to its manager instead.
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
    let (claim, mut payload) = visit_event(conn, job, Some(courier_id))?;
    match ended {
        // Told of the courier on his way to her, not to a workshop or supplier.
        None if event == CourierEvent::Departed && job.partner_id.is_none() => {
            payload["windows"] = json!(job.windows);
            outbox::push(conn, "visit.departed", Some(claim.id), payload)?;
        }
        None => {}
        Some(VisitEnd::Completed) => {
            let note = messages::job_completed_note(job.id.0, job.kind.as_str());
            record(
                conn,
                claim.id,
                Some(actor),
                history::JOB_COMPLETED,
                (None, None),
                Some(&note),
            )?;
            payload["attempts"] = json!(job.attempts);
            outbox::push(conn, history::JOB_COMPLETED, Some(claim.id), payload)?;
        }
        Some(VisitEnd::Failed { reason, exhausted }) => {
            let note = messages::job_failed_note(job.id.0, job.kind.as_str(), reason);
            record(
                conn,
                claim.id,
                Some(actor),
                history::JOB_FAILED,
                (None, None),
                Some(&note),
            )?;
            payload["attempts"] = json!(job.attempts + 1);
            payload["reason"] = json!(reason);
            payload["gave_up"] = json!(exhausted);
            outbox::push(conn, history::JOB_FAILED, Some(claim.id), payload)?;
            if exhausted {
                return visits_exhausted(conn, sla, claim, actor, job, reason);
            }
        }
    }
    follow_jobs(conn, sla, claim, actor, job.id, event)
}

/// The job's last visit failed: it stays failed, and the claim goes back to its manager
/// with the reasons, to decide again.
fn visits_exhausted(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: ClaimRow,
    actor: UserId,
    job: &JobRow,
    reason: &str,
) -> ApiResult<()> {
    let reasons = crate::db::visits::fail_reasons(conn, job.id)?;
    let note = messages::visits_exhausted_note(job.attempts + 1, &reasons);
    let updated = transition(
        conn,
        sla,
        &claim,
        actor,
        ClaimStatus::Decision,
        TransitionTrigger::VisitsExhausted,
        Some(&note),
    )?;
    let mut payload = event_payload(&updated);
    payload["job_id"] = json!(job.id);
    payload["attempts"] = json!(job.attempts + 1);
    payload["reason"] = json!(reason);
    outbox::push(conn, "claim.visits_exhausted", Some(updated.id), payload)?;
    Ok(())
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
    let statuses: Vec<(JobKind, JobStatus)> = jobs::for_claim(conn, claim.id)?
        .iter()
        .map(|j| (j.kind, j.status))
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
#[derive(Debug, Clone)]
pub struct PlannedVisit {
    pub job_id: JobId,
    pub claim_id: ClaimId,
    pub date: NaiveDate,
    pub eta: Option<DateTime<Utc>>,
    /// The window the visit was planned in (the customer's slot within depot hours).
    pub windows: Option<TimeWindow>,
}

/// Tells each customer when to expect the courier (history and outbox).
pub fn visits_planned(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    visits: &[PlannedVisit],
) -> ApiResult<()> {
    for visit in visits {
        let note = messages::visit_planned(visit.date, visit.eta);
        record(
            conn,
            visit.claim_id,
            actor,
            history::VISIT_PLANNED,
            (None, None),
            Some(&note),
        )?;
        let claim = claims::find(conn, visit.claim_id, Scope::All)?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "planned visit of no claim {}",
                visit.claim_id
            ))
        })?;
        let mut payload = event_payload(&claim);
        payload["job_id"] = json!(visit.job_id);
        payload["eta"] = json!(visit.eta);
        payload["date"] = json!(visit.date);
        payload["windows"] = json!(visit.windows);
        outbox::push(conn, "claim.visit_planned", Some(visit.claim_id), payload)?;
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
        "assignee_id": claim.assignee_id,
        "status": claim.status,
    })
}

/// The claim of a job, seen as `user` may see it (the job's claim's scope).
fn claim_of_job(conn: &mut DbConnection, user: &AuthUser, job: &JobRow) -> ApiResult<ClaimRow> {
    visible(conn, user, job.claim_id)
}

/// The workshop finished a repair. By courier: the `return` job is created (in the same
/// transaction) and the claim waits in repair until the unit is on its way back. The
/// customer collecting it at the depot: the claim goes to quality control.
pub fn repair_done(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: &ClaimRow,
    actor: UserId,
    note: Option<&str>,
) -> ApiResult<(ClaimRow, Vec<JobRow>)> {
    if claim.status != ClaimStatus::InRepair {
        return Err(ApiError::Conflict(messages::not_in_repair(claim.status)));
    }
    let returning = jobs::for_claim(conn, claim.id)?
        .into_iter()
        .any(|j| j.kind == JobKind::Return && j.status != JobStatus::Cancelled);
    if returning {
        return Err(ApiError::Conflict(messages::REPAIR_ALREADY_DONE.to_owned()));
    }
    let text = messages::repair_done_note(note);
    record(
        conn,
        claim.id,
        Some(actor),
        history::REPAIR_DONE,
        (None, None),
        Some(&text),
    )?;
    if claim.logistics == Some(Logistics::CustomerBrings) {
        let updated = transition(
            conn,
            sla,
            claim,
            actor,
            ClaimStatus::QualityControl,
            TransitionTrigger::Depot,
            Some(messages::READY_FOR_COLLECTION),
        )?;
        return Ok((updated, Vec::new()));
    }
    let size_units = match &claim.sku {
        Some(sku) => registry::find_product(conn, sku)?.map_or(1, |p| p.size_units),
        None => 1,
    };
    // The unit comes back from the workshop it went to (even one retired since).
    let workshop = match (claim.logistics, claim.partner_id) {
        (Some(Logistics::Contractor), Some(id)) => partners::find(conn, id)?,
        _ => None,
    };
    let created = create_jobs(
        conn,
        claim,
        &return_jobs_after_repair(size_units, workshop.is_some()),
        // The slots she gave at filing are gone by now: any time the depot is open.
        (
            Vec::new(),
            (crate::clock::now() + chrono::Duration::days(1)).date_naive(),
        ),
        workshop.as_ref(),
    )?;
    let Some(job) = created.iter().find(|j| j.kind == JobKind::Return) else {
        return Err(ApiError::Internal(anyhow::anyhow!("no return job created")));
    };
    let mut payload = event_payload(claim);
    payload["job_id"] = json!(job.id);
    payload["visit_date"] = json!(job.date);
    outbox::push(conn, "claim.repair_done", Some(claim.id), payload)?;
    let updated = claims::find(conn, claim.id, Scope::All)?.ok_or(ApiError::NotFound)?;
    Ok((updated, created))
}

/// The customer handed the unit in at a depot (`customer_brings`): a repair goes to the
/// workshop; an exchange or a refund is done at the counter and goes to quality control.
pub fn received(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: &ClaimRow,
    actor: UserId,
    note: Option<&str>,
) -> ApiResult<ClaimRow> {
    if claim.status != ClaimStatus::Approved || claim.logistics != Some(Logistics::CustomerBrings) {
        return Err(ApiError::Conflict(messages::NOT_AWAITING_UNIT.to_owned()));
    }
    let text = messages::received_note(note);
    record(
        conn,
        claim.id,
        Some(actor),
        history::RECEIVED,
        (None, None),
        Some(&text),
    )?;
    let to = if claim.decision.as_deref() == Some(DecisionKind::Repair.as_str()) {
        ClaimStatus::InRepair
    } else {
        ClaimStatus::QualityControl
    };
    transition(conn, sla, claim, actor, to, TransitionTrigger::Depot, note)
}

/// The customer takes her claim back before any visit is under way: its jobs are
/// cancelled and taken off the day's plans, drafts and published.
pub fn withdraw(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: &ClaimRow,
    actor: UserId,
    reason: &str,
) -> ApiResult<ClaimRow> {
    if !claim.status.may_be_withdrawn() {
        return Err(ApiError::Conflict(messages::cannot_withdraw(claim.status)));
    }
    let jobs = jobs::for_claim(conn, claim.id)?;
    if jobs.iter().any(|j| {
        matches!(
            j.status,
            JobStatus::EnRoute | JobStatus::Arrived | JobStatus::Done
        )
    }) {
        return Err(ApiError::Conflict(messages::VISIT_UNDER_WAY.to_owned()));
    }
    let open: Vec<JobId> = jobs
        .iter()
        .filter(|j| !j.status.is_final())
        .map(|j| j.id)
        .collect();
    for id in &open {
        jobs::cancel(conn, *id, reason)?;
    }
    crate::app::plans::edit::drop_jobs(conn, &open, CANCELLED)?;
    let updated = transition(
        conn,
        sla,
        claim,
        actor,
        ClaimStatus::Withdrawn,
        TransitionTrigger::Withdrawal,
        Some(reason),
    )?;
    let mut payload = event_payload(&updated);
    payload["reason"] = json!(reason);
    payload["jobs"] = json!(open);
    outbox::push(conn, "claim.withdrawn", Some(updated.id), payload)?;
    Ok(updated)
}

/// A manager (or the head, or a dispatcher) calls a job off: it leaves the plans, and the
/// claim follows its remaining jobs.
pub fn cancel_job(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    user: &AuthUser,
    job_id: JobId,
    reason: &str,
) -> ApiResult<JobRow> {
    let job = jobs::find(conn, job_id)?.ok_or(ApiError::NotFound)?;
    let claim = match user.role {
        Role::Dispatcher | Role::Admin => {
            claims::find(conn, job.claim_id, Scope::All)?.ok_or(ApiError::NotFound)?
        }
        _ => claim_of_job(conn, user, &job)?,
    };
    if job.status.is_final() {
        return Err(ApiError::Conflict(messages::job_not_cancellable(
            job.status,
        )));
    }
    if matches!(job.status, JobStatus::EnRoute | JobStatus::Arrived) {
        return Err(ApiError::Conflict(messages::VISIT_UNDER_WAY.to_owned()));
    }
    // A shipment is one trip: its other leg, not yet done, is called off with it.
    let other = match job.paired_job_id {
        Some(id) => jobs::find(conn, id)?.filter(|o| !o.status.is_final()),
        None => None,
    };
    if other
        .as_ref()
        .is_some_and(|o| matches!(o.status, JobStatus::EnRoute | JobStatus::Arrived))
    {
        return Err(ApiError::Conflict(messages::VISIT_UNDER_WAY.to_owned()));
    }
    let cancelled = jobs::cancel(conn, job.id, reason)?
        .ok_or_else(|| ApiError::Conflict(messages::JOB_CHANGED.to_owned()))?;
    let mut dropped = vec![job.id];
    if let Some(other) = other {
        if jobs::cancel(conn, other.id, reason)?.is_some() {
            dropped.push(other.id);
        }
    }
    crate::app::plans::edit::drop_jobs(conn, &dropped, CANCELLED)?;
    let note = messages::job_cancelled_note(job.id.0, job.kind.as_str(), reason);
    record(
        conn,
        claim.id,
        Some(user.id),
        history::JOB_CANCELLED,
        (None, None),
        Some(&note),
    )?;
    let mut payload = event_payload(&claim);
    payload["job_id"] = json!(job.id);
    payload["job_kind"] = json!(job.kind);
    payload["reason"] = json!(reason);
    outbox::push(conn, "job.cancelled", Some(claim.id), payload)?;
    follow_jobs(conn, sla, claim, user.id, job.id, CourierEvent::Completed)?;
    Ok(cancelled)
}

/// A manager away: his open claims go to his substitute (or, without one, the manager on
/// duty with the fewest), each with a history row; both hear of it.
pub fn hand_over(conn: &mut DbConnection, actor: UserId, manager: UserId) -> ApiResult<usize> {
    let claims_of = claims::open_of(conn, manager)?;
    let mut moved = 0;
    for claim in claims_of {
        let loads = manager_loads(conn, true)?;
        let substitute =
            domain::assignment::route_to_available(manager.0, &loads).filter(|t| *t != manager.0);
        let target = match substitute {
            Some(target) => Some(target),
            None => domain::assignment::pick_assignee(&manager_loads(conn, false)?)
                .filter(|t| *t != manager.0),
        };
        let Some(target) = target.map(UserId) else {
            break;
        };
        let note = messages::handed_over_note(manager, target);
        assign_to(conn, &claim, actor, target, &note, true)?;
        moved += 1;
    }
    Ok(moved)
}

/// Escalates every claim past its stage deadline that was not escalated for that stage:
/// a history row and a `claim.overdue` event (its assignee and the heads hear of it). Any
/// replica may run it at any time: each claim is escalated once per stage. Returns the
/// stage of each claim it escalated.
pub fn escalate_overdue(conn: &mut DbConnection) -> ApiResult<Vec<ClaimStatus>> {
    let at = now();
    let overdue = claims::escalate_overdue(conn, at)?;
    for claim in &overdue {
        let due = claim.stage_due_at.unwrap_or(at);
        let note = messages::escalated_note(claim.status, due.and_utc());
        record(
            conn,
            claim.id,
            None,
            history::ESCALATED,
            // The stage it was escalated in, for the reports.
            (Some(claim.status), None),
            Some(&note),
        )?;
        let mut payload = event_payload(claim);
        payload["stage"] = json!(claim.status);
        payload["due_at"] = json!(due.and_utc());
        payload["escalated_at"] = json!(at.and_utc());
        outbox::push(conn, "claim.overdue", Some(claim.id), payload)?;
    }
    Ok(overdue.iter().map(|c| c.status).collect())
}

/// A claim as its tracking link shows it.
pub struct Tracked {
    pub claim: ClaimRow,
    pub history: Vec<ClaimEventRow>,
    pub jobs: Vec<JobRow>,
    /// The next visit's promised window, from the published plan.
    pub visit: Option<crate::db::plans::PlannedStop>,
    /// Where the courier of that visit was last seen, while he is on his way to it (and
    /// only a recent position).
    pub courier_position: Option<fleet::LivePosition>,
}

/// A courier's position older than this is not shown to the customer.
const FRESH_POSITION_MINUTES: i64 = 30;

pub fn tracked(conn: &mut DbConnection, token: &str) -> ApiResult<Tracked> {
    let claim = claims::find_by_token(conn, token)?.ok_or(ApiError::NotFound)?;
    let jobs = jobs::for_claim(conn, claim.id)?;
    // Her next visit: the courier's stops at a workshop or supplier are not visits of hers.
    let pending: Vec<JobId> = jobs
        .iter()
        .filter(|j| {
            j.partner_id.is_none()
                && matches!(
                    j.status,
                    JobStatus::Assigned | JobStatus::EnRoute | JobStatus::Arrived
                )
        })
        .map(|j| j.id)
        .collect();
    let visit = crate::db::plans::next_planned_stop(conn, &pending)?;
    let on_the_way = visit.as_ref().and_then(|v| {
        jobs.iter()
            .find(|j| j.id == v.job_id && j.status == JobStatus::EnRoute)
            .and_then(|j| j.courier_id)
    });
    let courier_position = match on_the_way {
        Some(courier) => fleet::last_position(conn, courier)?
            .filter(|p| p.seen_at >= now() - chrono::Duration::minutes(FRESH_POSITION_MINUTES)),
        None => None,
    };
    Ok(Tracked {
        history: claims::history(conn, claim.id)?,
        visit,
        courier_position,
        jobs,
        claim,
    })
}

/// The customer rates the service once her claim ended; a poor rating (1 or 2) reaches
/// the heads of department.
pub fn feedback(
    conn: &mut DbConnection,
    token: &str,
    rating: i32,
    comment: Option<&str>,
) -> ApiResult<ClaimRow> {
    let claim = claims::find_by_token(conn, token)?.ok_or(ApiError::NotFound)?;
    if !matches!(claim.status, ClaimStatus::Closed | ClaimStatus::Rejected) {
        return Err(ApiError::Conflict(messages::NOT_YET_RATABLE.to_owned()));
    }
    if !claims::rate(conn, claim.id, rating, comment)? {
        return Err(ApiError::Conflict(messages::ALREADY_RATED.to_owned()));
    }
    let note = messages::feedback_note(rating, comment);
    record(
        conn,
        claim.id,
        None,
        history::FEEDBACK,
        (None, None),
        Some(&note),
    )?;
    let mut payload = event_payload(&claim);
    payload["rating"] = json!(rating);
    payload["comment"] = json!(comment);
    outbox::push(conn, "claim.feedback", Some(claim.id), payload)?;
    claims::find(conn, claim.id, Scope::All)?.ok_or(ApiError::NotFound)
}

/// The time zone a claim's times are written in: its nearest depot's.
pub fn claim_zone(conn: &mut DbConnection, claim: &ClaimRow) -> ApiResult<chrono_tz::Tz> {
    let depots = fleet::list_depots(conn)?;
    Ok(
        crate::app::plans::input::nearest_depot(&depots, claim.lat, claim.lon)
            .and_then(|d| d.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC),
    )
}
