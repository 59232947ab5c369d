//! Dispatch rules: when a visit may happen on a planned day, how a courier's reports move a
//! job (even when a phone that was offline delivers them late or out of order), and how a
//! claim follows its jobs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::claim::{check_transition, ClaimStatus, TransitionTrigger};
use crate::error::string_enum;
use crate::job::{JobKind, JobStatus};

/// A span of time in UTC, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The windows in which a job may be visited on a day whose depot is open `open`..`close`.
///
/// - The customer's preferred slots, cut to the depot's hours, when any of them falls in
///   that day's opening hours.
/// - `None` when the customer named slots but none is open that day while one is still
///   ahead (a later day, or an hour the depot is closed): the job waits for its own day.
/// - The whole opening day when the customer named no slot, or every slot has passed (a
///   visit that failed or was missed is carried over rather than lost).
pub fn visit_windows(preferred: &[Span], open: Span) -> Option<Vec<Span>> {
    let today: Vec<Span> = preferred
        .iter()
        .filter_map(|w| {
            let start = w.start.max(open.start);
            let end = w.end.min(open.end);
            (start < end).then_some(Span { start, end })
        })
        .collect();
    if !today.is_empty() {
        return Some(today);
    }
    if preferred.iter().any(|w| w.end > open.start) {
        return None;
    }
    Some(vec![open])
}

/// What a courier reports about a job from his phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CourierEvent {
    /// On the way to the customer.
    Departed,
    /// At the customer's door.
    Arrived,
    /// Handed over and took back what the job says.
    Completed,
    /// Could not complete the visit (nobody home, refused...).
    Failed,
}

string_enum!(CourierEvent {
    Departed => "departed",
    Arrived => "arrived",
    Completed => "completed",
    Failed => "failed",
});

/// A visit as the courier works it: the job's status while it is his, and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visit {
    Assigned,
    EnRoute,
    Arrived,
    Done,
    Failed,
}

string_enum!(Visit {
    Assigned => "assigned",
    EnRoute => "en_route",
    Arrived => "arrived",
    Done => "done",
    Failed => "failed",
});

impl Visit {
    fn rank(self) -> u8 {
        match self {
            Visit::Assigned => 0,
            Visit::EnRoute => 1,
            Visit::Arrived => 2,
            Visit::Done | Visit::Failed => 3,
        }
    }

    pub fn is_over(self) -> bool {
        self.rank() == 3
    }

    /// The job status a visit in this state gives its job. A failed visit hands the job
    /// back to planning.
    pub fn job_status(self) -> JobStatus {
        match self {
            Visit::Assigned => JobStatus::Assigned,
            Visit::EnRoute => JobStatus::EnRoute,
            Visit::Arrived => JobStatus::Arrived,
            Visit::Done => JobStatus::Done,
            Visit::Failed => JobStatus::Unplanned,
        }
    }

    fn reached_by(event: CourierEvent) -> Visit {
        match event {
            CourierEvent::Departed => Visit::EnRoute,
            CourierEvent::Arrived => Visit::Arrived,
            CourierEvent::Completed => Visit::Done,
            CourierEvent::Failed => Visit::Failed,
        }
    }
}

/// What a reported event does to a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventEffect {
    /// The visit moves on to this state.
    Moves(Visit),
    /// The visit is already past this point (a late or repeated report): the event is
    /// kept for the record and changes nothing.
    Recorded,
}

/// A report that contradicts how the visit already ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the visit already ended as `{ended}`; `{event}` cannot be reported any more")]
pub struct EventConflict {
    pub ended: Visit,
    pub event: CourierEvent,
}

/// Applies a courier's report. Visits only move forward, so reports delivered out of
/// order leave the visit where the latest step put it; only a report ending the visit
/// the other way than it already ended is refused.
pub fn apply_event(visit: Visit, event: CourierEvent) -> Result<EventEffect, EventConflict> {
    let target = Visit::reached_by(event);
    if visit.is_over() && target.is_over() && target != visit {
        return Err(EventConflict {
            ended: visit,
            event,
        });
    }
    if target.rank() > visit.rank() {
        Ok(EventEffect::Moves(target))
    } else {
        Ok(EventEffect::Recorded)
    }
}

/// The next status a claim takes because of its jobs (kind and status), if any: the first
/// job under way puts it in fulfilment; a repair's pickup done with no return job yet puts
/// it in the workshop (a contract workshop's: once it is handed over there too), and the
/// return trip under way (at the workshop's or the customer's) takes it out again; all jobs done
/// send it to quality control, where a manager closes it. Call repeatedly until `None` to
/// record each step.
pub fn claim_follows_jobs(
    claim: ClaimStatus,
    jobs: &[(JobKind, JobStatus)],
) -> Option<ClaimStatus> {
    let live: Vec<(JobKind, JobStatus)> = jobs
        .iter()
        .copied()
        .filter(|(_, s)| !matches!(s, JobStatus::Cancelled | JobStatus::Failed))
        .collect();
    let under_way =
        |s: JobStatus| matches!(s, JobStatus::EnRoute | JobStatus::Arrived | JobStatus::Done);
    let started = live.iter().any(|(_, s)| under_way(*s));
    let all_done = !live.is_empty() && live.iter().all(|(_, s)| *s == JobStatus::Done);
    let picked_up = live
        .iter()
        .any(|(k, s)| *k == JobKind::Pickup && *s == JobStatus::Done);
    let returns: Vec<JobStatus> = live
        .iter()
        .filter(|(k, _)| matches!(k, JobKind::Return | JobKind::Collect))
        .map(|(_, s)| *s)
        .collect();
    let next = match claim {
        ClaimStatus::Approved if started => ClaimStatus::InFulfilment,
        ClaimStatus::InFulfilment if all_done && picked_up && returns.is_empty() => {
            ClaimStatus::InRepair
        }
        ClaimStatus::InFulfilment if all_done => ClaimStatus::QualityControl,
        ClaimStatus::InRepair if returns.iter().any(|s| under_way(*s)) => ClaimStatus::InFulfilment,
        _ => return None,
    };
    check_transition(claim, next, TransitionTrigger::Fulfilment)
        .ok()
        .map(|()| next)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
    }

    fn span(a: (u32, u32), b: (u32, u32)) -> Span {
        Span {
            start: at(a.0, a.1),
            end: at(b.0, b.1),
        }
    }

    #[test]
    fn preferred_slots_are_cut_to_opening_hours() {
        let open = span((8, 0), (18, 0));
        let got = visit_windows(&[span((7, 0), (9, 0)), span((17, 0), (20, 0))], open).unwrap();
        assert_eq!(got, vec![span((8, 0), (9, 0)), span((17, 0), (18, 0))]);
    }

    #[test]
    fn slot_outside_hours_or_on_a_later_day_waits() {
        let open = span((8, 0), (18, 0));
        assert_eq!(visit_windows(&[span((19, 0), (21, 0))], open), None);
        let tomorrow = Span {
            start: at(10, 0) + chrono::Duration::days(1),
            end: at(12, 0) + chrono::Duration::days(1),
        };
        assert_eq!(visit_windows(&[tomorrow], open), None);
    }

    #[test]
    fn no_slot_or_only_past_slots_means_the_whole_day() {
        let open = span((8, 0), (18, 0));
        assert_eq!(visit_windows(&[], open), Some(vec![open]));
        let yesterday = Span {
            start: at(10, 0) - chrono::Duration::days(1),
            end: at(12, 0) - chrono::Duration::days(1),
        };
        assert_eq!(visit_windows(&[yesterday], open), Some(vec![open]));
    }

    #[test]
    fn events_move_visits_forward_only() {
        use CourierEvent::*;
        assert_eq!(
            apply_event(Visit::Assigned, Departed),
            Ok(EventEffect::Moves(Visit::EnRoute))
        );
        // Arrival reported without the departure (offline phone): straight to arrived.
        assert_eq!(
            apply_event(Visit::Assigned, Arrived),
            Ok(EventEffect::Moves(Visit::Arrived))
        );
        // The departure delivered after the arrival changes nothing.
        assert_eq!(
            apply_event(Visit::Arrived, Departed),
            Ok(EventEffect::Recorded)
        );
        assert_eq!(
            apply_event(Visit::Arrived, Completed),
            Ok(EventEffect::Moves(Visit::Done))
        );
        assert_eq!(apply_event(Visit::Done, Arrived), Ok(EventEffect::Recorded));
        assert_eq!(
            apply_event(Visit::Done, Completed),
            Ok(EventEffect::Recorded)
        );
        assert_eq!(
            apply_event(Visit::Failed, Arrived),
            Ok(EventEffect::Recorded)
        );
        assert_eq!(
            apply_event(Visit::Failed, Failed),
            Ok(EventEffect::Recorded)
        );
    }

    #[test]
    fn a_visit_cannot_end_both_ways() {
        let err = apply_event(Visit::Done, CourierEvent::Failed).unwrap_err();
        assert_eq!(err.ended, Visit::Done);
        assert!(apply_event(Visit::Failed, CourierEvent::Completed).is_err());
    }

    #[test]
    fn failed_visit_hands_the_job_back_to_planning() {
        assert_eq!(Visit::Failed.job_status(), JobStatus::Unplanned);
        assert_eq!(Visit::Done.job_status(), JobStatus::Done);
        for v in Visit::ALL {
            assert_eq!(v.as_str().parse::<Visit>().unwrap(), v);
        }
        for e in CourierEvent::ALL {
            assert_eq!(e.as_str().parse::<CourierEvent>().unwrap(), e);
        }
    }

    #[test]
    fn claim_follows_its_jobs() {
        use ClaimStatus::*;
        use JobKind as K;
        use JobStatus as J;
        let ex = |s| (K::Exchange, s);
        assert_eq!(
            claim_follows_jobs(Approved, &[ex(J::Assigned), ex(J::Assigned)]),
            None
        );
        assert_eq!(
            claim_follows_jobs(Approved, &[ex(J::EnRoute), ex(J::Assigned)]),
            Some(InFulfilment)
        );
        assert_eq!(
            claim_follows_jobs(InFulfilment, &[ex(J::Done), ex(J::Assigned)]),
            None
        );
        assert_eq!(
            claim_follows_jobs(InFulfilment, &[ex(J::Done), ex(J::Cancelled)]),
            Some(QualityControl)
        );
        // Both steps when a single report finishes everything.
        assert_eq!(
            claim_follows_jobs(Approved, &[ex(J::Done)]),
            Some(InFulfilment)
        );
        assert_eq!(claim_follows_jobs(QualityControl, &[ex(J::Done)]), None);
        assert_eq!(claim_follows_jobs(InFulfilment, &[]), None);
        assert_eq!(claim_follows_jobs(Closed, &[ex(J::Done)]), None);
    }

    #[test]
    fn a_repair_waits_in_the_workshop_for_its_return() {
        use ClaimStatus::*;
        use JobKind as K;
        use JobStatus as J;
        let picked = [(K::Pickup, J::Done)];
        assert_eq!(claim_follows_jobs(InFulfilment, &picked), Some(InRepair));
        // Nothing moves it while the unit is being repaired.
        assert_eq!(claim_follows_jobs(InRepair, &picked), None);
        let returning = [(K::Pickup, J::Done), (K::Return, J::Assigned)];
        assert_eq!(claim_follows_jobs(InRepair, &returning), None);
        let on_the_way = [(K::Pickup, J::Done), (K::Return, J::EnRoute)];
        assert_eq!(
            claim_follows_jobs(InRepair, &on_the_way),
            Some(InFulfilment)
        );
        assert_eq!(claim_follows_jobs(InFulfilment, &on_the_way), None);
        let back = [(K::Pickup, J::Done), (K::Return, J::Done)];
        assert_eq!(
            claim_follows_jobs(InFulfilment, &back),
            Some(QualityControl)
        );
        // A contract workshop's: in the workshop once handed over there, out again once it
        // is collected there, closed once it is back.
        let carried = [(K::Pickup, J::Done), (K::DropOff, J::Assigned)];
        assert_eq!(claim_follows_jobs(InFulfilment, &carried), None);
        let dropped = [(K::Pickup, J::Done), (K::DropOff, J::Done)];
        assert_eq!(claim_follows_jobs(InFulfilment, &dropped), Some(InRepair));
        let mut collecting = dropped.to_vec();
        collecting.extend([(K::Collect, J::Assigned), (K::Return, J::Assigned)]);
        assert_eq!(claim_follows_jobs(InRepair, &collecting), None);
        collecting[2].1 = J::Arrived;
        assert_eq!(
            claim_follows_jobs(InRepair, &collecting),
            Some(InFulfilment)
        );
        collecting[2].1 = J::Done;
        collecting[3].1 = J::Done;
        assert_eq!(
            claim_follows_jobs(InFulfilment, &collecting),
            Some(QualityControl)
        );
        // An on-site repair is done in one visit.
        let onsite = [(K::OnsiteRepair, J::Done)];
        assert_eq!(
            claim_follows_jobs(InFulfilment, &onsite),
            Some(QualityControl)
        );
    }
}
