//! The claim workflow: each step consults the domain rules and writes its rows, history and
//! outbox event through the `db` modules. Callers run a step inside one write transaction
//! (`AppState::write`), so a step is applied whole or not at all. The demo seed uses the
//! same steps as the HTTP handlers.

use chrono::{Datelike, NaiveDateTime, Utc};
use domain::claim::{check_transition, claim_number, ClaimStatus, Remedy, TransitionTrigger};
use domain::decision::{jobs_for_decision, Decision};
use domain::sla::SlaPolicy;
use domain::warranty::{check_warranty, WarrantyStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::claims::{self, ClaimRow, NewClaim, NewClaimEvent};
use crate::db::jobs::{self, JobRow, NewJob};
use crate::db::{now, outbox, registry, users, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// A time slot in which the customer can receive the courier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimeWindow {
    pub start: chrono::DateTime<Utc>,
    pub end: chrono::DateTime<Utc>,
}

/// What is needed to file a claim, already validated.
#[derive(Debug, Clone)]
pub struct NewClaimInput {
    pub customer_id: i64,
    pub filed_by: i64,
    pub serial_no: String,
    pub defect_category: String,
    pub description: String,
    pub requested_remedy: Remedy,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub preferred_windows: Vec<TimeWindow>,
}

/// Files a claim: warranty check, assignment to the least-loaded manager on duty, number,
/// SLA deadline, history and outbox event.
pub fn file_claim(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    input: &NewClaimInput,
) -> ApiResult<ClaimRow> {
    let now_at = now();
    let sale = registry::find_sale(conn, &input.serial_no)?;
    let warranty = check_warranty(
        sale.as_ref()
            .map(|(s, p)| registry::sale_record(s, p))
            .as_ref(),
        now_at.date(),
    );
    let loads = users::manager_loads(conn, false)?;
    let assignee = domain::assignment::pick_assignee(&loads)
        .ok_or_else(|| ApiError::Unavailable(messages::NO_MANAGER_ON_DUTY.to_owned()))?;
    let windows = serde_json::to_string(&input.preferred_windows).map_err(anyhow::Error::from)?;
    // The number needs the id, which the insert gives; a placeholder keeps the column unique.
    let placeholder = format!("pending-{}", rand::random::<u64>());
    let status = ClaimStatus::New;
    let row = claims::insert(
        conn,
        &NewClaim {
            number: &placeholder,
            customer_id: input.customer_id,
            filed_by: input.filed_by,
            serial_no: &input.serial_no,
            sku: sale.as_ref().map(|(s, _)| s.sku.as_str()),
            defect_category: &input.defect_category,
            description: &input.description,
            requested_remedy: input.requested_remedy.as_str(),
            status: status.as_str(),
            assignee_id: Some(assignee),
            warranty_status: warranty.as_str(),
            warranty_until: warranty.until(),
            stage_entered_at: now_at,
            stage_due_at: deadline(sla, status, now_at),
            address: &input.address,
            lat: input.lat,
            lon: input.lon,
            preferred_windows: &windows,
            created_at: now_at,
            updated_at: now_at,
        },
    )?;
    let row = claims::set_number(conn, row.id, &claim_number(now_at.year(), row.id))?;
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
        Some(input.filed_by),
        "filed",
        (None, Some(status.as_str())),
        Some(&note),
    )?;
    outbox::push(conn, "claim.filed", &event_payload(&row))?;
    Ok(row)
}

/// Moves a claim one review stage on (or closes it after quality control).
pub fn transition(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: &ClaimRow,
    actor: i64,
    to: ClaimStatus,
    trigger: TransitionTrigger,
    note: Option<&str>,
) -> ApiResult<ClaimRow> {
    let from = parse_status(&claim.status)?;
    check_transition(from, to, trigger).map_err(|e| ApiError::Conflict(e.to_string()))?;
    let now_at = now();
    let updated = claims::update_status(
        conn,
        claim.id,
        claim.version,
        to.as_str(),
        deadline(sla, to, now_at),
    )?
    .ok_or_else(|| ApiError::Conflict(messages::STALE_CLAIM.to_owned()))?;
    record(
        conn,
        claim.id,
        Some(actor),
        "transition",
        (Some(from.as_str()), Some(to.as_str())),
        note,
    )?;
    outbox::push(conn, "claim.status_changed", &event_payload(&updated))?;
    Ok(updated)
}

/// Records a decision: the claim moves to approved or rejected and the courier jobs the
/// decision calls for are created, all in the caller's one transaction.
pub fn decide(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    claim: &ClaimRow,
    actor: i64,
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
    let windows: Vec<TimeWindow> =
        serde_json::from_str(&claim.preferred_windows).unwrap_or_default();
    let date = windows.iter().map(|w| w.start).min().map_or_else(
        // Without a preferred slot the visit is planned from the next day on.
        || (Utc::now() + chrono::Duration::days(1)).date_naive(),
        |start| start.date_naive(),
    );
    let mut created = Vec::new();
    for spec in jobs_for_decision(decision, size_units) {
        let skills = serde_json::to_string(&spec.skills).map_err(anyhow::Error::from)?;
        let at = now();
        created.push(jobs::insert(
            conn,
            &NewJob {
                claim_id: claim.id,
                kind: spec.kind.as_str(),
                status: domain::job::JobStatus::Unplanned.as_str(),
                address: &claim.address,
                lat: claim.lat,
                lon: claim.lon,
                windows: &claim.preferred_windows,
                service_minutes: spec.service_minutes,
                delivery_load: spec.delivery_load,
                pickup_load: spec.pickup_load,
                skills: &skills,
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
    outbox::push(conn, "claim.decided", &payload)?;
    Ok((updated, created))
}

pub fn comment(conn: &mut DbConnection, claim: &ClaimRow, actor: i64, text: &str) -> ApiResult<()> {
    record(
        conn,
        claim.id,
        Some(actor),
        "comment",
        (None, None),
        Some(text),
    )?;
    outbox::push(conn, "claim.commented", &event_payload(claim))?;
    Ok(())
}

/// Hands a claim to another manager; one who is absent passes it to his substitute.
pub fn reassign(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    actor: i64,
    manager_id: i64,
) -> ApiResult<ClaimRow> {
    let loads = users::manager_loads(conn, true)?;
    let target = domain::assignment::route_to_available(manager_id, &loads)
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
        "assignment",
        (None, None),
        Some(&note),
    )?;
    outbox::push(conn, "claim.reassigned", &event_payload(&updated))?;
    Ok(updated)
}

pub fn parse_status(status: &str) -> ApiResult<ClaimStatus> {
    status.parse().map_err(|_| {
        ApiError::Internal(anyhow::anyhow!("stored claim status `{status}` is unknown"))
    })
}

/// Appends a history row: `(from, to)` for status moves, a note for anything else.
fn record(
    conn: &mut DbConnection,
    claim_id: i64,
    actor: Option<i64>,
    kind: &str,
    (from_status, to_status): (Option<&str>, Option<&str>),
    note: Option<&str>,
) -> ApiResult<()> {
    claims::insert_event(
        conn,
        &NewClaimEvent {
            claim_id,
            at: now(),
            actor_id: actor,
            kind,
            from_status,
            to_status,
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
