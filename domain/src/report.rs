//! What a courier's phone may report: events about his visits and where he is. The rules
//! that move a visit are in [`crate::dispatch`]; these check a report before it is applied.

use chrono::{DateTime, Duration, Utc};

use crate::dispatch::{CourierEvent, Visit};
use crate::error::FieldError;
use crate::job::JobStatus;

/// How far ahead of the server's clock a phone's clock may run.
pub const MAX_CLOCK_AHEAD: Duration = Duration::minutes(5);
/// Longest reason for a failed visit, in characters.
pub const MAX_FAIL_REASON_CHARS: usize = 500;

/// A report's time is accepted unless it lies more than [`MAX_CLOCK_AHEAD`] in the future
/// (a phone offline for hours reports old times; one from the future is wrong).
pub fn check_report_time(field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Option<FieldError> {
    (at > now + MAX_CLOCK_AHEAD).then(|| {
        FieldError::new(
            field,
            format!(
                "must not be more than {} minutes in the future",
                MAX_CLOCK_AHEAD.num_minutes()
            ),
        )
    })
}

/// Checks an event report, every problem at once; returns the trimmed reason. A failed
/// visit needs a reason the dispatcher and the customer can read.
pub fn validate_event(
    event: CourierEvent,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    reason: Option<&str>,
) -> Result<Option<String>, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = check_report_time("at", at, now).into_iter().collect();
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if event == CourierEvent::Failed => errors.push(FieldError::new(
            "reason",
            "a failed visit needs a reason (nobody home, refused, ...)",
        )),
        Some(r) if r.chars().count() > MAX_FAIL_REASON_CHARS => errors.push(FieldError::new(
            "reason",
            format!("must be at most {MAX_FAIL_REASON_CHARS} characters long"),
        )),
        _ => {}
    }
    if errors.is_empty() {
        Ok(reason.map(str::to_owned))
    } else {
        Err(errors)
    }
}

/// Where the visit of a job given to a courier stands, from the job's status; `None` for a
/// status a courier cannot report on (not given to him, cancelled).
pub fn visit_of(status: JobStatus) -> Option<Visit> {
    match status {
        JobStatus::Assigned => Some(Visit::Assigned),
        JobStatus::EnRoute => Some(Visit::EnRoute),
        JobStatus::Arrived => Some(Visit::Arrived),
        JobStatus::Done => Some(Visit::Done),
        JobStatus::Unplanned | JobStatus::Planned | JobStatus::Failed | JobStatus::Cancelled => {
            None
        }
    }
}

/// Completing a visit that takes something back (the defective unit) needs a photo of it
/// first, so a dispute about what was collected can be settled.
pub fn completion_needs_proof(pickup_load: i32) -> bool {
    pickup_load > 0
}

/// Visit attempts a job gets before it stops going back to planning, by default.
pub const DEFAULT_MAX_VISIT_ATTEMPTS: i32 = 3;

/// Where a job goes after a failed visit that was its `attempts`-th: back to planning, or,
/// once `max_attempts` visits failed, nowhere (`failed`), and its claim back to the manager.
pub fn after_failed_visit(attempts: i32, max_attempts: i32) -> JobStatus {
    if attempts >= max_attempts.max(1) {
        JobStatus::Failed
    } else {
        JobStatus::Unplanned
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    #[test]
    fn reports_from_the_future_are_refused_beyond_the_clock_skew() {
        assert!(check_report_time("at", now() - Duration::hours(30), now()).is_none());
        assert!(check_report_time("at", now() + Duration::minutes(5), now()).is_none());
        let err = check_report_time("points[2].at", now() + Duration::minutes(6), now()).unwrap();
        assert_eq!(err.field, "points[2].at");
    }

    #[test]
    fn a_failed_visit_needs_a_reason() {
        let fields = |r: Result<Option<String>, Vec<FieldError>>| -> Vec<String> {
            r.unwrap_err().into_iter().map(|e| e.field).collect()
        };
        assert_eq!(
            fields(validate_event(CourierEvent::Failed, now(), now(), None)),
            vec!["reason"]
        );
        assert_eq!(
            fields(validate_event(
                CourierEvent::Failed,
                now(),
                now(),
                Some("  ")
            )),
            vec!["reason"]
        );
        assert_eq!(
            validate_event(CourierEvent::Failed, now(), now(), Some(" nobody home ")).unwrap(),
            Some("nobody home".to_owned())
        );
        assert_eq!(
            validate_event(CourierEvent::Arrived, now(), now(), None).unwrap(),
            None
        );
        let long = "x".repeat(MAX_FAIL_REASON_CHARS + 1);
        let late = now() + Duration::hours(1);
        assert_eq!(
            fields(validate_event(
                CourierEvent::Failed,
                late,
                now(),
                Some(&long)
            )),
            vec!["at", "reason"],
            "every problem at once"
        );
    }

    #[test]
    fn visits_follow_the_statuses_of_given_jobs_only() {
        assert_eq!(visit_of(JobStatus::Assigned), Some(Visit::Assigned));
        assert_eq!(visit_of(JobStatus::EnRoute), Some(Visit::EnRoute));
        assert_eq!(visit_of(JobStatus::Arrived), Some(Visit::Arrived));
        assert_eq!(visit_of(JobStatus::Done), Some(Visit::Done));
        for s in [
            JobStatus::Unplanned,
            JobStatus::Planned,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ] {
            assert_eq!(visit_of(s), None, "{s}");
        }
        // Round trip with the status a visit gives its job.
        for v in [Visit::Assigned, Visit::EnRoute, Visit::Arrived, Visit::Done] {
            assert_eq!(visit_of(v.job_status()), Some(v));
        }
    }

    #[test]
    fn only_pickups_need_a_photo() {
        assert!(completion_needs_proof(3));
        assert!(!completion_needs_proof(0));
    }

    #[test]
    fn a_job_stops_after_its_last_attempt() {
        assert_eq!(after_failed_visit(1, 3), JobStatus::Unplanned);
        assert_eq!(after_failed_visit(2, 3), JobStatus::Unplanned);
        assert_eq!(after_failed_visit(3, 3), JobStatus::Failed);
        assert_eq!(after_failed_visit(4, 3), JobStatus::Failed);
        // A limit below one still gives every job its one visit.
        assert_eq!(after_failed_visit(1, 0), JobStatus::Failed);
    }
}
