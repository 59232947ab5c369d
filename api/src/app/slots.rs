//! Slots a customer can choose for her claim's next visit, from her tracking link.
//!
//! A slot is offered only where the day can still take the visit: the planner tries it
//! into the day's published plan (else its newest draft, else the empty routes of the
//! couriers on shift), keeping every stop where it is and never making one late, with the
//! visits already under way fixed at the head of their routes. Booking one gives the job
//! that window and day; a plan that can take it takes it at once (a published route is
//! re-timed and its courier's phone refetches it), otherwise the next plan run of that day
//! routes it. A slot that is no longer feasible when booked is refused with the fresh list.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::dispatch::{visit_windows, Span};
use domain::job::JobStatus;
use domain::plan::PlanStatus;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::claims;
use crate::app::plans::edit::{self, REBOOKED};
use crate::app::plans::input::{nearest_depot, opening_hours, origin_of, seconds};
use crate::app::plans::insert::{self, RoutePlace};
use crate::config::DispatchSettings;
use crate::db::fleet::{self, DepotRow};
use crate::db::jobs::{self, JobRow};
use crate::db::plans::{self, PlanRow};
use crate::db::types::TimeWindow;
use crate::db::{claims as claim_rows, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// How long a slot is.
const SLOT_MINUTES: i64 = 120;
/// A slot starts at least this long from now: time to plan it and for the courier to come.
const LEAD_MINUTES: i64 = 60;
/// At most this many slots a day, earliest first: a handful to choose from, not a grid.
const SLOTS_PER_DAY: usize = 3;
/// How far ahead a customer may look.
pub const MAX_DAYS: u32 = 7;
pub const DEFAULT_DAYS: u32 = 3;

/// A slot the visit can be booked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct OfferedSlot {
    /// The planning day (UTC) the slot belongs to.
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A booked slot and what became of the visit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookedSlot {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Whether a plan of that day took the visit at once (else the day's next plan run).
    pub planned: bool,
    /// The courier's expected arrival, when a published route took the visit.
    pub eta: Option<DateTime<Utc>>,
}

/// Where a slot puts the visit.
enum Target {
    /// On a plan's route.
    Route {
        plan: Box<PlanRow>,
        place: RoutePlace,
    },
    /// Into the next plan run of its day.
    NextRun,
}

struct Place {
    slot: OfferedSlot,
    target: Target,
}

/// The slots in which the visit of the claim behind `token` can be booked over the next
/// `days` days (today first).
pub fn offer(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    token: &str,
    days: u32,
    now: DateTime<Utc>,
) -> ApiResult<Vec<OfferedSlot>> {
    let job = bookable_job(conn, token)?;
    Ok(places(conn, settings, &job, days, now)?
        .into_iter()
        .map(|p| p.slot)
        .collect())
}

/// Books `slot` (one of those offered) for the visit of the claim behind `token`.
pub fn book(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    token: &str,
    slot: TimeWindow,
    now: DateTime<Utc>,
) -> ApiResult<BookedSlot> {
    let job = bookable_job(conn, token)?;
    let Some(depot) = depot_of(conn, &job)? else {
        return Err(slot_gone(Vec::new()));
    };
    // The planning day of the slot: its UTC date, or the next one when the depot's hours
    // begin before midnight UTC (zones east of Greenwich).
    let today = now.date_naive();
    let last = today + Duration::days(i64::from(MAX_DAYS) - 1);
    let mut found = None;
    for date in [
        slot.start.date_naive(),
        slot.start.date_naive() + Duration::days(1),
    ] {
        if date < today || date > last {
            continue;
        }
        // Two bookings (or a booking and a publication) of one day go one after the other,
        // so both cannot take the last room on a route.
        if let Some(plan) = plan_of_day(conn, date, &depot)? {
            plans::lock_scope(conn, date, &plan.scope)?;
        }
        let slots = candidate_slots(opening_hours(&depot, date), now);
        found = day_places(conn, settings, &job, &depot, date, &slots, now)?
            .into_iter()
            .find(|p| p.slot.start == slot.start && p.slot.end == slot.end);
        if found.is_some() {
            break;
        }
    }
    let Some(place) = found else {
        return Err(slot_gone(places(conn, settings, &job, DEFAULT_DAYS, now)?));
    };
    let date = place.slot.date;

    edit::drop_jobs(conn, &[job.id], REBOOKED)?;
    if !jobs::rebook(conn, job.id, slot, date)? {
        return Err(ApiError::Conflict(messages::VISIT_MOVING.to_owned()));
    }
    let mut eta = None;
    if let Target::Route { plan, place: at } = &place.target {
        let windows = job_windows(conn, &job, slot, date)?;
        match insert::put(conn, plan, &job, windows, *at)? {
            Some(put) => eta = put.eta,
            None => {
                let mut fresh = places(conn, settings, &job, DEFAULT_DAYS, now)?;
                fresh.retain(|p| p.slot != place.slot);
                return Err(slot_gone(fresh));
            }
        }
    }
    claims::visit_rebooked(conn, &job, slot, eta)?;
    Ok(BookedSlot {
        date,
        start: slot.start,
        end: slot.end,
        planned: matches!(place.target, Target::Route { .. }),
        eta,
    })
}

/// The refusal of a slot, with the slots that can be booked now (as `offer` lists them).
fn slot_gone(fresh: Vec<Place>) -> ApiError {
    let fresh: Vec<OfferedSlot> = fresh.into_iter().map(|p| p.slot).collect();
    ApiError::ConflictWith {
        detail: messages::SLOT_GONE,
        member: "slots",
        value: serde_json::to_value(fresh).unwrap_or_default(),
    }
}

/// The claim's next visit that can still be given a time.
fn bookable_job(conn: &mut DbConnection, token: &str) -> ApiResult<JobRow> {
    let claim = claim_rows::find_by_token(conn, token)?.ok_or(ApiError::NotFound)?;
    let mut visits = jobs::for_claim(conn, claim.id)?;
    visits.sort_by_key(|j| j.id);
    // Her visits, not the courier's stops at a workshop or supplier.
    visits.retain(|j| j.partner_id.is_none());
    if let Some(job) = visits.iter().find(|j| {
        matches!(
            j.status,
            JobStatus::Unplanned | JobStatus::Planned | JobStatus::Assigned
        )
    }) {
        // A visit tied to a unit's trip to or from a partner gets its time with that trip.
        if job.is_paired() {
            return Err(ApiError::Conflict(
                messages::VISIT_WITH_PARTNER_TRIP.to_owned(),
            ));
        }
        return Ok(job.clone());
    }
    let under_way = visits
        .iter()
        .any(|j| matches!(j.status, JobStatus::EnRoute | JobStatus::Arrived));
    Err(ApiError::Conflict(
        if under_way {
            messages::VISIT_MOVING
        } else {
            messages::NO_VISIT_TO_BOOK
        }
        .to_owned(),
    ))
}

/// The depot serving the job's address.
fn depot_of(conn: &mut DbConnection, job: &JobRow) -> ApiResult<Option<DepotRow>> {
    let depots = fleet::list_depots(conn)?;
    Ok(nearest_depot(&depots, job.lat, job.lon).cloned())
}

/// The job's windows on `date` once `slot` is booked, in seconds from that day's origin.
fn job_windows(
    conn: &mut DbConnection,
    job: &JobRow,
    slot: TimeWindow,
    date: NaiveDate,
) -> ApiResult<Vec<planner::TimeWindow>> {
    let origin = origin_of(date);
    let span = Span {
        start: slot.start,
        end: slot.end,
    };
    let open = depot_of(conn, job)?.map_or(span, |d| opening_hours(&d, date));
    Ok(visit_windows(&[span], open)
        .unwrap_or_default()
        .iter()
        .map(|s| planner::TimeWindow::new(seconds(origin, s.start), seconds(origin, s.end)))
        .collect())
}

/// The slots of a day: two-hour blocks of the depot's opening hours from its opening,
/// starting far enough ahead of `now`.
fn candidate_slots(open: Span, now: DateTime<Utc>) -> Vec<Span> {
    let length = Duration::minutes(SLOT_MINUTES);
    let earliest = now + Duration::minutes(LEAD_MINUTES);
    let mut out = Vec::new();
    let mut start = open.start;
    while start + length <= open.end {
        if start >= earliest {
            out.push(Span {
                start,
                end: start + length,
            });
        }
        start += length;
    }
    out
}

/// Every slot of the next `days` days the visit can go in, with where it would go.
fn places(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    job: &JobRow,
    days: u32,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Place>> {
    let Some(depot) = depot_of(conn, job)? else {
        return Ok(Vec::new());
    };
    let today = now.date_naive();
    let mut out = Vec::new();
    for day in 0..days {
        let date = today + Duration::days(i64::from(day));
        let slots = candidate_slots(opening_hours(&depot, date), now);
        if slots.is_empty() {
            continue;
        }
        out.extend(day_places(conn, settings, job, &depot, date, &slots, now)?);
    }
    Ok(out)
}

/// The plan a visit at `depot` joins on `date`: the published one covering the depot, else
/// the newest such draft.
fn plan_of_day(
    conn: &mut DbConnection,
    date: NaiveDate,
    depot: &DepotRow,
) -> ApiResult<Option<PlanRow>> {
    for status in [PlanStatus::Published, PlanStatus::Draft] {
        let plan = plans::of_day(conn, date, status)?
            .into_iter()
            .find(|p| p.depot_id.is_none_or(|d| d == depot.id));
        if plan.is_some() {
            return Ok(plan);
        }
    }
    Ok(None)
}

/// Which of `slots` on `date` the day can take the visit in, at most a few, earliest first.
fn day_places(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    job: &JobRow,
    depot: &DepotRow,
    date: NaiveDate,
    slots: &[Span],
    now: DateTime<Utc>,
) -> ApiResult<Vec<Place>> {
    let plan = plan_of_day(conn, date, depot)?;
    let origin = origin_of(date);
    let windows: Vec<Vec<planner::TimeWindow>> = slots
        .iter()
        .map(|s| {
            vec![planner::TimeWindow::new(
                seconds(origin, s.start),
                seconds(origin, s.end),
            )]
        })
        .collect();
    let found = insert::places(
        conn,
        settings,
        job,
        depot,
        date,
        plan.as_ref(),
        &windows,
        now,
    )?;
    let mut out = Vec::new();
    for (slot, place) in slots.iter().zip(found) {
        let Some(place) = place else { continue };
        let target = match &plan {
            Some(plan) => Target::Route {
                plan: Box::new(plan.clone()),
                place,
            },
            None => Target::NextRun,
        };
        out.push(Place {
            slot: OfferedSlot {
                date,
                start: slot.start,
                end: slot.end,
            },
            target,
        });
        if out.len() == SLOTS_PER_DAY {
            break;
        }
    }
    Ok(out)
}
