//! Publishing a plan: in one transaction the jobs go to their couriers, the day's previously
//! published plan is superseded, and every customer whose visit got a time hears of it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use domain::job::JobStatus;
use domain::plan::PlanStatus;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use super::input::{instant, seconds};
use super::solution::{job_index, LoadedPlan};
use crate::app::claims::{self, PlannedVisit};
use crate::db::plans::{self, PlanRow};
use crate::db::types::{CourierId, JobId, PlanId, TimeWindow, UserId};
use crate::db::{jobs, outbox, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The plan version the dispatcher reviewed; refused if the plan changed since.
    pub version: Option<i32>,
    /// Publish even though edits left late, overloaded or unqualified stops.
    #[serde(default)]
    pub accept_violations: bool,
}

pub fn publish(
    conn: &mut DbConnection,
    plan_id: PlanId,
    actor: UserId,
    request: &PublishRequest,
) -> ApiResult<PlanRow> {
    let Some(plan) = plans::find(conn, plan_id)? else {
        return Err(ApiError::NotFound);
    };
    plans::lock_scope(conn, plan.date, &plan.scope)?;
    // Read again under the lock: a concurrent publication may have just finished.
    let plan = plans::find(conn, plan_id)?.ok_or(ApiError::NotFound)?;
    if plan.status != PlanStatus::Draft {
        return Err(ApiError::Conflict(messages::PLAN_NOT_DRAFT.to_owned()));
    }
    if request.version.is_some_and(|v| v != plan.version) {
        return Err(ApiError::Conflict(messages::STALE_PLAN.to_owned()));
    }
    let current = plans::published(conn, plan.date, &plan.scope)?;
    if current.as_ref().map(|p| p.id) != plan.based_on_id {
        return Err(ApiError::Conflict(messages::PLAN_OUTDATED.to_owned()));
    }
    let loaded = LoadedPlan::load(conn, &plan)?;
    if loaded.violation_count() > 0 && !request.accept_violations {
        return Err(ApiError::Conflict(messages::PLAN_HAS_VIOLATIONS.to_owned()));
    }

    let routed: Vec<(JobId, CourierId, Option<NaiveDateTime>)> = loaded
        .routes
        .iter()
        .flat_map(|r| {
            loaded
                .stops_of(r.id)
                .filter_map(move |s| s.job_id.map(|j| (j, r.courier_id, s.start_at)))
        })
        .collect();
    let ids: Vec<JobId> = routed.iter().map(|(j, _, _)| *j).collect();
    let states: HashMap<JobId, jobs::JobState> = jobs::states(conn, &ids)?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let current_id = current.as_ref().map(|p| p.id);
    let mut to_assign: HashMap<CourierId, Vec<JobId>> = HashMap::new();
    let mut kept = Vec::new();
    let mut scheduled = Vec::new();
    let mut changed = Vec::new();
    for (job, courier, start) in &routed {
        let Some(state) = states.get(job) else {
            changed.push(*job);
            continue;
        };
        match state.status {
            JobStatus::Unplanned => {}
            JobStatus::Assigned if state.plan_id == current_id || state.plan_id.is_none() => {}
            JobStatus::EnRoute | JobStatus::Arrived | JobStatus::Done
                if state.courier_id == Some(*courier) =>
            {
                kept.push(*job);
                continue;
            }
            _ => {
                changed.push(*job);
                continue;
            }
        }
        if state.status == JobStatus::Unplanned || state.courier_id != Some(*courier) {
            scheduled.push((*job, *start));
        }
        to_assign.entry(*courier).or_default().push(*job);
    }
    if !changed.is_empty() {
        changed.sort_unstable();
        let list: Vec<String> = changed.iter().map(JobId::to_string).collect();
        return Err(ApiError::Conflict(format!(
            "{} ({})",
            messages::PLAN_JOBS_CHANGED,
            list.join(", ")
        )));
    }

    if let Some(old) = &current {
        plans::set_status(conn, old.id, PlanStatus::Superseded)?;
        jobs::release(conn, old.id, &ids)?;
    }
    for (courier, jobs) in &to_assign {
        jobs::assign(conn, jobs, *courier, plan.id)?;
    }
    jobs::keep_under_plan(conn, &kept, plan.id)?;
    let stats = plan.stats.clone().unwrap_or_default();
    let published = plans::update(conn, plan.id, plan.version, PlanStatus::Published, stats)?
        .ok_or_else(|| ApiError::Conflict(messages::STALE_PLAN.to_owned()))?;

    // Tell each customer when to expect the courier.
    let index = job_index(&loaded.problem);
    let scheduled_ids: Vec<JobId> = scheduled.iter().map(|(j, _)| *j).collect();
    // A partner's end of a unit's trip (workshop, supplier) is no visit of hers.
    let claim_of: HashMap<JobId, _> = jobs::by_ids(conn, &scheduled_ids)?
        .into_iter()
        .filter(|j| j.partner_id.is_none())
        .map(|j| (j.id, j.claim_id))
        .collect();
    let visits: Vec<PlannedVisit> = scheduled
        .iter()
        .filter_map(|(job, start)| {
            Some(PlannedVisit {
                job_id: *job,
                claim_id: *claim_of.get(job)?,
                date: plan.date,
                eta: start.map(|t| t.and_utc()),
                windows: start.and_then(|t| window_at(&loaded, &index, *job, t.and_utc())),
            })
        })
        .collect();
    claims::visits_planned(conn, Some(actor), &visits)?;
    outbox::push(
        conn,
        "plan.published",
        None,
        json!({
            "plan_id": plan.id,
            "date": plan.date,
            "depot_id": plan.depot_id,
            "superseded": current_id,
            "jobs": ids.len(),
        }),
    )?;
    Ok(published)
}

/// The window of the job's planned visit that holds its start (what the customer was
/// promised), as instants.
fn window_at(
    loaded: &LoadedPlan,
    index: &HashMap<JobId, usize>,
    job: JobId,
    start: chrono::DateTime<chrono::Utc>,
) -> Option<TimeWindow> {
    let at = seconds(loaded.origin, start);
    let windows = &loaded.problem.jobs.get(*index.get(&job)?)?.time_windows;
    windows
        .iter()
        .find(|w| w.start <= at + 1e-6 && at <= w.end + 1e-6)
        .map(|w| TimeWindow {
            start: instant(loaded.origin, w.start),
            end: instant(loaded.origin, w.end),
        })
}
