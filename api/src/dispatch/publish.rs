//! Publishing a plan: in one transaction the jobs go to their couriers, the day's previously
//! published plan is superseded, and every customer whose visit got a time hears of it.

use std::collections::HashMap;

use domain::job::JobStatus;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::solution::LoadedPlan;
use crate::db::claims::{self, NewClaimEvent};
use crate::db::plans::{self, PlanRow};
use crate::db::{jobs, now, outbox, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PublishRequest {
    /// The plan version the dispatcher reviewed; refused if the plan changed since.
    pub version: Option<i32>,
    /// Publish even though edits left late, overloaded or unqualified stops.
    #[serde(default)]
    pub accept_violations: bool,
}

pub fn publish(
    conn: &mut DbConnection,
    plan_id: i64,
    actor: i64,
    request: &PublishRequest,
) -> ApiResult<PlanRow> {
    let Some(plan) = plans::find(conn, plan_id)? else {
        return Err(ApiError::NotFound);
    };
    plans::lock_scope(conn, plan.date, &plan.scope)?;
    // Read again under the lock: a concurrent publication may have just finished.
    let plan = plans::find(conn, plan_id)?.ok_or(ApiError::NotFound)?;
    if plan.status != plans::DRAFT {
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

    let routed: Vec<(i64, i64, Option<chrono::NaiveDateTime>)> = loaded
        .routes
        .iter()
        .flat_map(|r| {
            loaded
                .stops_of(r.id)
                .filter_map(move |s| s.job_id.map(|j| (j, r.courier_id, s.start_at)))
        })
        .collect();
    let ids: Vec<i64> = routed.iter().map(|(j, _, _)| *j).collect();
    let states: HashMap<i64, plans::JobState> = plans::job_states(conn, &ids)?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let current_id = current.as_ref().map(|p| p.id);
    let mut to_assign: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut kept = Vec::new();
    let mut scheduled = Vec::new();
    let mut changed = Vec::new();
    for (job, courier, start) in &routed {
        let Some(state) = states.get(job) else {
            changed.push(*job);
            continue;
        };
        let (job_courier, job_plan) = (&state.courier_id, &state.plan_id);
        let status: JobStatus = state.status.parse().unwrap_or(JobStatus::Cancelled);
        match status {
            JobStatus::Unplanned => {}
            JobStatus::Assigned if *job_plan == current_id || job_plan.is_none() => {}
            JobStatus::EnRoute | JobStatus::Arrived | JobStatus::Done
                if *job_courier == Some(*courier) =>
            {
                kept.push(*job);
                continue;
            }
            _ => {
                changed.push(*job);
                continue;
            }
        }
        if status == JobStatus::Unplanned || *job_courier != Some(*courier) {
            scheduled.push((*job, *start));
        }
        to_assign.entry(*courier).or_default().push(*job);
    }
    if !changed.is_empty() {
        changed.sort_unstable();
        let list: Vec<String> = changed.iter().map(i64::to_string).collect();
        return Err(ApiError::Conflict(format!(
            "{} ({})",
            messages::PLAN_JOBS_CHANGED,
            list.join(", ")
        )));
    }

    if let Some(old) = &current {
        plans::set_status(conn, old.id, plans::SUPERSEDED)?;
        plans::release_jobs(conn, old.id, &ids)?;
    }
    for (courier, jobs) in &to_assign {
        plans::assign_jobs(conn, jobs, *courier, plan.id, JobStatus::Assigned.as_str())?;
    }
    plans::move_jobs_to_plan(conn, &kept, plan.id)?;
    let stats = plan.stats.clone().unwrap_or_else(|| "{}".to_owned());
    let published = plans::update(conn, plan.id, plan.version, plans::PUBLISHED, &stats)?
        .ok_or_else(|| ApiError::Conflict(messages::STALE_PLAN.to_owned()))?;

    // Tell each customer when to expect the courier.
    let scheduled_ids: Vec<i64> = scheduled.iter().map(|(j, _)| *j).collect();
    let claim_of: HashMap<i64, i64> = jobs::by_ids(conn, &scheduled_ids)?
        .into_iter()
        .map(|j| (j.id, j.claim_id))
        .collect();
    for (job, start) in &scheduled {
        let Some(&claim_id) = claim_of.get(job) else {
            continue;
        };
        let eta = start.map(|t| t.and_utc());
        let note = messages::visit_planned(plan.date, eta);
        claims::insert_event(
            conn,
            &NewClaimEvent {
                claim_id,
                at: now(),
                actor_id: Some(actor),
                kind: "visit_planned",
                from_status: None,
                to_status: None,
                note: Some(&note),
            },
        )?;
        outbox::push(
            conn,
            "claim.visit_planned",
            &json!({"claim_id": claim_id, "job_id": job, "eta": eta, "date": plan.date}),
        )?;
    }
    outbox::push(
        conn,
        "plan.published",
        &json!({
            "plan_id": plan.id,
            "date": plan.date,
            "depot_id": plan.depot_id,
            "superseded": current_id,
            "jobs": ids.len(),
        }),
    )?;
    Ok(published)
}
