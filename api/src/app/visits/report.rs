//! A courier's report about a visit: the job moves forward (or back to planning after a
//! failed visit), his stop records how it ended, his route's revision is bumped so his
//! phone refetches, and the claim follows through `app::claims`. Every report is kept,
//! also a late or repeated one that changes nothing.

use chrono::NaiveDateTime;
use domain::dispatch::{apply_event, CourierEvent, EventEffect, Visit};
use domain::job::{JobStatus, Leg};
use domain::report::{after_failed_visit, completion_needs_proof};
use domain::sla::SlaPolicy;
use serde::Serialize;
use utoipa::ToSchema;

use super::courier_job;
use crate::app::accounts::courier_of;
use crate::app::claims::{self, VisitEnd};
use crate::app::idempotency::{self, Answer, Keyed};
use crate::db::jobs::{self, JobRow, StepChange, VisitStep};
use crate::db::types::{CourierId, JobId};
use crate::db::visits::{self, NewReport};
use crate::db::{attachments, now, plans, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// The answer to a report (stored with its key, and given again to a retry).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportAnswer {
    /// The job's id.
    pub id: JobId,
    /// The job's status after the report (`unplanned` after a failed visit: it goes back to
    /// planning).
    pub status: String,
    pub attempts: i32,
    /// Whether the report moved the job; a late or repeated one is recorded only.
    pub applied: bool,
}

/// A validated report from a courier's phone.
#[derive(Debug, Clone)]
pub struct Report {
    pub job_id: JobId,
    pub event: CourierEvent,
    pub at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    /// Trimmed; present for a failed visit.
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// Applies a report, or gives a retry the first answer.
///
/// The answer is stored with the key before the job moves: on PostgreSQL a concurrent
/// duplicate then waits on the key's unique index and, once this one commits, fails on it
/// and is tried again, finding this answer (`idempotency::at_most_once`). A job changed
/// meanwhile by a report with another key fails the status check: a 409 the phone answers
/// by sending its report again.
/// What governs a report's effects beyond the visit itself.
#[derive(Debug, Clone)]
pub struct Rules {
    pub sla: SlaPolicy,
    /// How the rest of his route is re-timed after the report (live ETAs).
    pub dispatch: crate::config::DispatchSettings,
    /// Failed visits a job gets before it stops going back to planning.
    pub max_visit_attempts: i32,
}

pub fn report(
    conn: &mut DbConnection,
    rules: &Rules,
    keyed: &Keyed,
    r: &Report,
) -> ApiResult<Answer> {
    if let Some(answer) = idempotency::replay(conn, keyed)? {
        return Ok(answer);
    }
    let courier_id = courier_of(conn, keyed.user_id)?;
    let cj = courier_job(conn, courier_id, r.job_id)?;
    let job = &cj.job;
    let visit = cj
        .visit
        .ok_or_else(|| ApiError::Conflict(messages::job_not_visitable(job.status.as_str())))?;
    let effect = apply_event(visit, r.event)
        .map_err(|e| ApiError::Conflict(messages::visit_already_ended(e.ended, e.event)))?;
    let target = match effect {
        EventEffect::Moves(target) if cj.current => Some(target),
        EventEffect::Moves(_) | EventEffect::Recorded => None,
    };
    if target.is_some() {
        pickup_done_first(conn, job)?;
    }
    if target == Some(Visit::Done)
        && completion_needs_proof(job.pickup_load)
        && !attachments::has_proof(conn, job.id)?
    {
        return Err(ApiError::Conflict(messages::proof_required(job.id.0)));
    }
    // The job's status once the report is applied: after its last attempt a failed job
    // stops going back to planning.
    let job_after = match target {
        Some(Visit::Failed) => after_failed_visit(job.attempts + 1, rules.max_visit_attempts),
        Some(v) => v.job_status(),
        None => job.status,
    };
    let answer = ReportAnswer {
        id: job.id,
        status: job_after.as_str().to_owned(),
        attempts: job.attempts + i32::from(target == Some(Visit::Failed)),
        applied: target.is_some(),
    };
    let answer = Answer {
        status: 200,
        body: serde_json::to_string(&answer).map_err(anyhow::Error::from)?,
    };
    idempotency::remember(conn, keyed, &answer)?;
    visits::insert(
        conn,
        NewReport {
            job_id: job.id,
            courier_id,
            kind: r.event,
            at: r.at,
            received_at: now(),
            lat: Some(r.lat),
            lon: Some(r.lon),
            reason: r.reason.as_deref(),
            note: r.note.as_deref(),
            applied: target.is_some(),
        },
    )?;
    if let Some(target) = target {
        move_visit(
            conn,
            &rules.sla,
            keyed,
            r,
            courier_id,
            &cj,
            (target, job_after),
        )?;
        if let Some(stop) = cj.stop {
            super::eta::retime_route(conn, &rules.dispatch, stop.route_id, now())?;
        }
    }
    Ok(answer)
}

/// The writes of an applied report: the job, the stop's outcome, the route's revision,
/// then the claim.
fn move_visit(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    keyed: &Keyed,
    r: &Report,
    courier_id: CourierId,
    cj: &super::CourierJob,
    (target, job_after): (Visit, JobStatus),
) -> ApiResult<()> {
    let job = &cj.job;
    let reason = r.reason.as_deref().unwrap_or_default();
    let change = match target {
        Visit::Failed => StepChange::Failed {
            reason,
            attempts: job.attempts + 1,
        },
        Visit::Done => StepChange::Done(r.at),
        _ => StepChange::Advance,
    };
    let step = VisitStep {
        id: job.id,
        courier_id,
        from: job.status,
        to: job_after,
        change,
    };
    if jobs::apply_step(conn, &step)?.is_none() {
        return Err(ApiError::Conflict(messages::JOB_CHANGED.to_owned()));
    }
    if let Some(stop) = cj.stop {
        if target.is_over() {
            plans::set_outcome(conn, stop.stop_id, target.as_str())?;
        }
        plans::bump_revision(conn, stop.route_id)?;
    }
    let ended = match target {
        Visit::Failed => Some(VisitEnd::Failed {
            reason,
            exhausted: job_after == JobStatus::Failed,
        }),
        Visit::Done => Some(VisitEnd::Completed),
        _ => None,
    };
    if target == Visit::Failed {
        release_delivery(conn, job, job_after)?;
    }
    claims::visit_reported(conn, sla, job, courier_id, keyed.user_id, r.event, ended)
}

/// The delivery end of a shipment moves only once the unit was taken at its pickup.
fn pickup_done_first(conn: &mut DbConnection, job: &JobRow) -> ApiResult<()> {
    let Some(other) = job
        .paired_job_id
        .filter(|_| job.kind.leg() == Some(Leg::Delivery))
    else {
        return Ok(());
    };
    match jobs::find(conn, other)? {
        Some(pickup) if pickup.status != JobStatus::Done => {
            Err(ApiError::Conflict(messages::pickup_first(pickup.id.0)))
        }
        _ => Ok(()),
    }
}

/// A failed pickup leaves nothing to deliver: its delivery goes back to planning with it (off
/// the courier's route), or is called off with it after its last attempt.
fn release_delivery(conn: &mut DbConnection, job: &JobRow, job_after: JobStatus) -> ApiResult<()> {
    let Some(delivery) = job
        .paired_job_id
        .filter(|_| job.kind.leg() == Some(Leg::Pickup))
    else {
        return Ok(());
    };
    let released = if job_after == JobStatus::Failed {
        jobs::cancel(conn, delivery, messages::PICKUP_GAVE_UP)?.is_some()
    } else {
        jobs::back_to_planning(conn, delivery)?
    };
    if released {
        crate::app::plans::edit::drop_jobs(conn, &[delivery], PICKUP_FAILED)?;
    }
    Ok(())
}

/// Why a delivery is out of its plan: the unit was not taken at its pickup.
pub const PICKUP_FAILED: &str = "pickup_failed";
