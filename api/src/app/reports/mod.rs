//! The department's reports, computed from the claims' history (`claim_events`): what was
//! filed, decided and closed in a period, how long it took, which stages ran late and who
//! is overloaded. Counts come from indexed range reads (`db::reports`); stays, percentiles
//! and periods are computed here with `domain::stats`, the same for both backends.
//!
//! A breach is counted once, in the period where it shows: a stay that ended in the period
//! and lasted longer than its stage's SLA, or a claim still in the stage whose deadline
//! passed in the period.

pub mod defects;
pub mod delivery;
pub mod export;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::claim::ClaimStatus;
use domain::sla::SlaPolicy;
use domain::stats::{self, Move, Period, Summary};
use serde::Serialize;
use utoipa::ToSchema;

use super::claims::history;
use crate::auth::extract::AuthUser;
use crate::auth::Role;
use crate::db::types::UserId;
use crate::db::{reports, DbConnection};
use crate::error::{ApiError, ApiResult};

/// The period a report covers, `[from, to)`, and how its rows are grouped.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Period,
}

/// Durations in hours.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoursSummary {
    pub count: usize,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl From<Summary> for HoursSummary {
    fn from(s: Summary) -> Self {
        Self {
            count: s.count,
            mean: s.mean,
            median: s.median,
            p90: s.p90,
        }
    }
}

/// What happened to claims in one period (or in the whole range).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Counts {
    /// Claims filed.
    pub filed: usize,
    /// Decisions made (approved or rejected).
    pub decided: usize,
    pub approved: usize,
    pub rejected: usize,
    pub closed: usize,
    pub withdrawn: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodRow {
    /// The period's first day (weeks start on Monday).
    pub start: NaiveDate,
    #[serde(flatten)]
    pub counts: Counts,
    /// Filing to decision, of the claims decided in the period.
    pub median_hours_to_decision: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageRow {
    #[schema(value_type = String)]
    pub stage: ClaimStatus,
    /// Time spent in the stage by the claims that left it in the range.
    pub hours: HoursSummary,
    /// The stage's SLA, in hours, under the current policy.
    pub sla_hours: Option<f64>,
    /// Stays over the SLA that ended in the range, and claims still in the stage whose
    /// deadline passed in it.
    pub breaches: usize,
    /// Escalations (of claims past the deadline) made in the range.
    pub escalations: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManagerRow {
    #[schema(value_type = i64)]
    pub manager_id: UserId,
    pub name: String,
    /// Open claims assigned to him now.
    pub open: i64,
    /// Decisions he made in the range.
    pub decided: usize,
    /// Filing to decision, of the claims he decided in the range.
    pub median_hours_to_decision: Option<f64>,
    /// Late stays he ended in the range, and his claims whose deadline passed in it.
    pub breaches: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimsReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[schema(value_type = String)]
    pub group_by: Period,
    #[serde(flatten)]
    pub totals: Counts,
    /// Filing to decision, of the claims decided in the range.
    pub hours_to_decision: HoursSummary,
    /// Filing to closing, of the claims closed in the range.
    pub hours_to_close: HoursSummary,
    pub breaches: usize,
    pub escalations: usize,
    pub periods: Vec<PeriodRow>,
    /// Every timed stage, in lifecycle order.
    pub stages: Vec<StageRow>,
    /// Every manager in scope (a manager sees himself).
    pub managers: Vec<ManagerRow>,
}

/// Whose claims a caller's report covers: a head's and an admin's all, a manager's his own.
fn scope(user: &AuthUser) -> ApiResult<Option<UserId>> {
    match user.role {
        Role::Head | Role::Admin => Ok(None),
        Role::Manager => Ok(Some(user.id)),
        _ => Err(ApiError::Forbidden),
    }
}

pub fn claims(
    conn: &mut DbConnection,
    user: &AuthUser,
    sla: &SlaPolicy,
    range: Range,
    now: NaiveDateTime,
) -> ApiResult<ClaimsReport> {
    let only = scope(user)?;
    let (from, to) = (range.from.naive_utc(), range.to.naive_utc());
    let filed = reports::filed(conn, from, to, only)?;
    let rows = reports::moves(conn, history::TRANSITION, from, to, only)?;
    let escalated = reports::escalations(conn, history::ESCALATED, from, to, only)?;
    let still_overdue = reports::still_overdue(conn, from, to.min(now), only)?;
    let managers = reports::managers(conn, only)?;
    let manager_ids: Vec<UserId> = managers.iter().map(|(id, _)| *id).collect();
    let open = crate::db::claims::open_per_assignee(conn, &manager_ids)?;

    let period_of = |at: NaiveDateTime| range.group_by.start(at.date());
    let last_day = (to - chrono::Duration::milliseconds(1)).date();
    let mut periods: BTreeMap<NaiveDate, (Counts, Vec<f64>)> = range
        .group_by
        .starts(from.date(), last_day)
        .into_iter()
        .map(|start| (start, Default::default()))
        .collect();
    let mut totals = Counts::default();
    for at in &filed {
        totals.filed += 1;
        if let Some((counts, _)) = periods.get_mut(&period_of(*at)) {
            counts.filed += 1;
        }
    }

    // Each claim's moves in time order, read into stays.
    let mut by_claim: BTreeMap<_, (NaiveDateTime, Vec<Move<Option<UserId>>>)> = BTreeMap::new();
    for row in rows {
        let (Some(from_status), Some(to_status)) = (
            row.from_status.and_then(|s| s.parse().ok()),
            row.to_status.and_then(|s| s.parse().ok()),
        ) else {
            continue;
        };
        by_claim
            .entry(row.claim_id)
            .or_insert_with(|| (row.filed_at, Vec::new()))
            .1
            .push(Move {
                at: row.at,
                from: from_status,
                to: to_status,
                actor: row.actor_id,
            });
    }
    let timed: Vec<ClaimStatus> = ClaimStatus::ALL
        .into_iter()
        .filter(|s| sla.limit(*s).is_some())
        .collect();
    let mut stage_hours: BTreeMap<ClaimStatus, Vec<f64>> = BTreeMap::new();
    let mut stage_breaches: BTreeMap<ClaimStatus, usize> = BTreeMap::new();
    let mut manager_decisions: BTreeMap<UserId, Vec<f64>> = BTreeMap::new();
    let mut manager_breaches: BTreeMap<UserId, usize> = BTreeMap::new();
    let (mut to_decision, mut to_close) = (Vec::new(), Vec::new());
    let in_range = |at: NaiveDateTime| at >= from && at < to;
    for (filed_at, moves) in by_claim.values() {
        for m in moves.iter().filter(|m| in_range(m.at)) {
            let since_filing = stats::hours(*filed_at, m.at);
            let (mut counts, decision_hours) = periods
                .get_mut(&period_of(m.at))
                .map(|(c, h)| (Some(c), Some(h)))
                .unwrap_or_default();
            let mut seen = |field: fn(&mut Counts) -> &mut usize| {
                *field(&mut totals) += 1;
                if let Some(counts) = counts.as_deref_mut() {
                    *field(counts) += 1;
                }
            };
            match m.to {
                ClaimStatus::Approved | ClaimStatus::Rejected if m.from.is_review_stage() => {
                    let outcome: fn(&mut Counts) -> &mut usize = if m.to == ClaimStatus::Approved {
                        |c| &mut c.approved
                    } else {
                        |c| &mut c.rejected
                    };
                    seen(|c| &mut c.decided);
                    seen(outcome);
                    to_decision.push(since_filing);
                    if let Some(hours) = decision_hours {
                        hours.push(since_filing);
                    }
                    if let Some(actor) = m.actor {
                        manager_decisions
                            .entry(actor)
                            .or_default()
                            .push(since_filing);
                    }
                }
                ClaimStatus::Closed => {
                    seen(|c| &mut c.closed);
                    to_close.push(since_filing);
                }
                ClaimStatus::Withdrawn => seen(|c| &mut c.withdrawn),
                _ => {}
            }
        }
        for stay in stats::stays(*filed_at, moves)
            .into_iter()
            .filter(|s| in_range(s.left))
        {
            let Some(limit) = sla.limit(stay.stage) else {
                continue;
            };
            stage_hours
                .entry(stay.stage)
                .or_default()
                .push(stay.hours());
            if stay.left - stay.entered > limit {
                *stage_breaches.entry(stay.stage).or_default() += 1;
                if let Some(actor) = stay.left_by {
                    *manager_breaches.entry(actor).or_default() += 1;
                }
            }
        }
    }
    for (stage, assignee) in still_overdue {
        *stage_breaches.entry(stage.0).or_default() += 1;
        if let Some(assignee) = assignee {
            *manager_breaches.entry(assignee).or_default() += 1;
        }
    }
    let mut stage_escalations: BTreeMap<ClaimStatus, usize> = BTreeMap::new();
    for stage in escalated.iter().flatten().filter_map(|s| s.parse().ok()) {
        *stage_escalations.entry(stage).or_default() += 1;
    }

    let median = |mut hours: Vec<f64>| {
        hours.sort_by(f64::total_cmp);
        stats::quantile(&hours, 0.5)
    };
    Ok(ClaimsReport {
        from: range.from,
        to: range.to,
        group_by: range.group_by,
        totals,
        hours_to_decision: Summary::of(to_decision).into(),
        hours_to_close: Summary::of(to_close).into(),
        breaches: stage_breaches.values().sum(),
        escalations: escalated.len(),
        periods: periods
            .into_iter()
            .map(|(start, (counts, hours))| PeriodRow {
                start,
                counts,
                median_hours_to_decision: median(hours),
            })
            .collect(),
        stages: timed
            .into_iter()
            .map(|stage| StageRow {
                stage,
                hours: Summary::of(stage_hours.remove(&stage).unwrap_or_default()).into(),
                sla_hours: sla.limit(stage).map(|l| l.num_seconds() as f64 / 3600.0),
                breaches: stage_breaches.get(&stage).copied().unwrap_or(0),
                escalations: stage_escalations.get(&stage).copied().unwrap_or(0),
            })
            .collect(),
        managers: managers
            .into_iter()
            .map(|(id, name)| ManagerRow {
                manager_id: id,
                name,
                open: open.iter().find(|(m, _)| *m == id).map_or(0, |(_, n)| *n),
                decided: manager_decisions.get(&id).map_or(0, Vec::len),
                median_hours_to_decision: median(manager_decisions.remove(&id).unwrap_or_default()),
                breaches: manager_breaches.get(&id).copied().unwrap_or(0),
            })
            .collect(),
    })
}
