//! The public tracking link of a claim (`/track/{token}`): whoever has the link (the
//! customer, from her mails) sees where her claim stands and can rate the service once it
//! ends. No sign-in; the token is unguessable, the endpoints are rate-limited per address,
//! and nothing internal (ids, staff, internal notes) is shown.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::claims::{self, history, Tracked};
use crate::app::slots::{self, BookedSlot, OfferedSlot};
use crate::db::types::TimeWindow;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::messages;
use crate::state::State;
use domain::job::JobStatus;

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedClaim {
    /// For people: `CLM-<year>-<sequence>`.
    pub number: String,
    /// `new`, `info_check`, `diagnostics`, `decision`, `approved`, `in_fulfilment`,
    /// `in_repair`, `quality_control`, `closed`, `rejected` or `withdrawn`.
    pub status: String,
    pub serial_no: String,
    pub requested_remedy: String,
    /// `replacement`, `refund`, `repair` or `reject`, once decided.
    pub decision: Option<String>,
    /// When the current stage is due.
    pub stage_due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// What happened, oldest first: stages, visits, the decision.
    pub history: Vec<TrackedEvent>,
    /// The next courier visit, once a plan gives it a time.
    pub visit: Option<TrackedVisit>,
    /// Whether the service can be rated now (`POST .../feedback`).
    pub can_rate: bool,
    pub rating: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedEvent {
    pub at: DateTime<Utc>,
    /// `filed`, `status`, `visit_planned`, `visit_rebooked`, `visit_done`, `visit_failed`
    /// or `feedback`.
    pub kind: String,
    /// The stage reached (for `filed` and `status`).
    pub status: Option<String>,
    /// What the customer may read: the manager's question, the reason of a decision or
    /// of a failed visit.
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedVisit {
    pub date: NaiveDate,
    /// The expected arrival: the current estimate once the courier's day is under way,
    /// else the published plan's time.
    pub eta: Option<DateTime<Utc>>,
    /// The half hour the courier is now expected in, around `eta`.
    pub estimate: Option<EstimatedWindow>,
    /// The courier will not make it within the promised window.
    pub delayed: bool,
    /// The customer's slots that day.
    pub windows: Vec<TimeWindow>,
    /// `exchange`, `refund`, `pickup`, `return` or `onsite_repair`.
    pub kind: String,
    /// Whether the courier has set off to this visit.
    pub on_the_way: bool,
    /// Where the courier was last seen, while he is on his way (a position of the last
    /// half hour, if his phone shares it).
    pub courier: Option<CourierSeen>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EstimatedWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Half of the estimated window's width, in minutes: the estimate is rounded to five
/// minutes and widened by this either side.
const ESTIMATE_SPREAD_MINUTES: i64 = 15;

/// The window shown to the customer around an estimate: `eta` +- a quarter hour on
/// five-minute marks, never starting in the past (and then still a quarter hour wide).
fn estimated_window(eta: DateTime<Utc>, now: DateTime<Utc>) -> EstimatedWindow {
    let five = 300;
    let spread = ESTIMATE_SPREAD_MINUTES * 60;
    let floor = |t: i64| t - t.rem_euclid(five);
    let from =
        floor(eta.timestamp() - spread).max(now.timestamp() - now.timestamp().rem_euclid(60));
    let to = floor(eta.timestamp() + spread + five - 1).max(from + spread);
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(eta);
    EstimatedWindow {
        from: at(from),
        to: at(to),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourierSeen {
    pub lat: f64,
    pub lon: f64,
    pub seen_at: DateTime<Utc>,
}

/// What of a claim's history its tracking link shows: the steps, not who took them, and
/// only the notes written for the customer.
fn shown(tracked: &Tracked) -> Vec<TrackedEvent> {
    tracked
        .history
        .iter()
        .filter_map(|e| {
            let (kind, note) = match e.kind.as_str() {
                history::FILED => ("filed", None),
                history::TRANSITION => {
                    // The manager's question (to info_check) and a decision's reason are
                    // written for the customer; other stage notes are internal.
                    let customer_facing = matches!(
                        e.to_status.as_deref(),
                        Some("info_check" | "rejected" | "withdrawn")
                    );
                    ("status", e.note.clone().filter(|_| customer_facing))
                }
                history::VISIT_PLANNED => ("visit_planned", None),
                history::JOB_COMPLETED => ("visit_done", None),
                history::JOB_FAILED => ("visit_failed", None),
                history::FEEDBACK => ("feedback", None),
                history::VISIT_REBOOKED => ("visit_rebooked", None),
                _ => return None,
            };
            Some(TrackedEvent {
                at: e.at.and_utc(),
                kind: kind.to_owned(),
                status: e.to_status.clone(),
                note,
            })
        })
        .collect()
}

fn client(req: &HttpRequest) -> std::net::IpAddr {
    req.peer_addr()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip())
}

/// Each client address gets a few requests a second on the public endpoints and pages.
pub fn limit(state: &State, req: &HttpRequest) -> ApiResult<()> {
    state
        .public_limiter
        .check(client(req))
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

/// Where a claim stands, for whoever has its tracking link.
#[utoipa::path(tag = "tracking", params(("token" = String, Path)), responses(
    (status = 200, body = TrackedClaim), (status = 404, body = crate::error::Problem),
    (status = 429, body = crate::error::Problem)))]
#[get("/track/{token}")]
pub async fn track(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    limit(&state, &req)?;
    let token = path.into_inner();
    let tracked = state.db(move |conn| claims::tracked(conn, &token)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .json(tracked_claim(&tracked)))
}

/// What the tracking link shows of a claim (the JSON here, the page in `pages::track`).
pub fn tracked_claim(tracked: &Tracked) -> TrackedClaim {
    let events = shown(tracked);
    let c = &tracked.claim;
    let visit = tracked.visit.as_ref().and_then(|v| {
        let job = tracked.jobs.iter().find(|j| j.id == v.job_id)?;
        let live = v.live_eta.map(|t| t.and_utc());
        Some(TrackedVisit {
            date: v.date,
            eta: live.or(v.eta.map(|t| t.and_utc())),
            // At the door, the courier is no longer expected: he is there.
            estimate: live
                .filter(|_| job.status != JobStatus::Arrived)
                .map(|t| estimated_window(t, Utc::now())),
            delayed: v.delayed,
            windows: job
                .windows
                .iter()
                .filter(|w| w.start.date_naive() <= v.date && w.end.date_naive() >= v.date)
                .copied()
                .collect(),
            kind: job.kind.as_str().to_owned(),
            on_the_way: job.status == JobStatus::EnRoute,
            courier: tracked.courier_position.as_ref().map(|p| CourierSeen {
                lat: p.lat,
                lon: p.lon,
                seen_at: p.seen_at.and_utc(),
            }),
        })
    });
    let rating_open = matches!(c.status.as_str(), "closed" | "rejected") && c.rating.is_none();
    TrackedClaim {
        number: c.number.clone(),
        status: c.status.as_str().to_owned(),
        serial_no: c.serial_no.clone(),
        requested_remedy: c.requested_remedy.as_str().to_owned(),
        decision: c.decision.clone(),
        stage_due_at: c
            .stage_due_at
            .filter(|_| c.status.is_open())
            .map(|t| t.and_utc()),
        created_at: c.created_at.and_utc(),
        history: events,
        visit,
        can_rate: rating_open,
        rating: c.rating,
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct FeedbackRequest {
    /// 1 (poor) to 5 (excellent).
    #[validate(range(min = 1, max = 5))]
    pub rating: i32,
    #[validate(length(max = 2000))]
    pub comment: Option<String>,
}

/// Rates the service of a claim that ended, once. A rating of 1 or 2 reaches the heads of
/// department.
#[utoipa::path(tag = "tracking", params(("token" = String, Path)), request_body = FeedbackRequest,
    responses((status = 201), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
    (status = 429, body = crate::error::Problem)))]
#[post("/track/{token}/feedback")]
pub async fn feedback(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    body: ValidJson<FeedbackRequest>,
) -> ApiResult<HttpResponse> {
    limit(&state, &req)?;
    let token = path.into_inner();
    let FeedbackRequest { rating, comment } = body.0;
    let comment = comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    state
        .write(move |conn| claims::feedback(conn, &token, rating, comment.as_deref()))
        .await?;
    Ok(HttpResponse::Created().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SlotsQuery {
    /// How many days ahead to look, today first: 1 to 7 (default 3).
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotOffer {
    /// Earliest first, at most three a day.
    pub slots: Vec<OfferedSlot>,
}

/// The slots the claim's next visit can be booked in: windows in which the day's routes can
/// still take it without making another visit late.
#[utoipa::path(tag = "tracking", params(("token" = String, Path), SlotsQuery), responses(
    (status = 200, body = SlotOffer), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem, description = "no visit waits for a time"),
    (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
#[get("/track/{token}/slots")]
pub async fn visit_slots(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<SlotsQuery>,
) -> ApiResult<HttpResponse> {
    limit(&state, &req)?;
    let days = query.days.unwrap_or(slots::DEFAULT_DAYS);
    if !(1..=slots::MAX_DAYS).contains(&days) {
        return Err(ApiError::field("days", messages::SLOT_DAYS));
    }
    let token = path.into_inner();
    let shared = state.clone();
    let slots = state
        .db(move |conn| slots::offer(conn, &shared.settings.dispatch, &token, days, Utc::now()))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .json(SlotOffer { slots }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct BookSlotRequest {
    /// One of the offered slots, as offered.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Books one of the offered slots for the claim's next visit: the visit gets that window,
/// a plan of that day takes it at once where it can (else the day's next plan run), and
/// the customer gets a confirmation. A slot no longer feasible is a 409 whose `slots` lists
/// the ones that are.
#[utoipa::path(tag = "tracking", params(("token" = String, Path)), request_body = BookSlotRequest,
    responses((status = 200, body = BookedSlot), (status = 404, body = crate::error::Problem),
    (status = 409, body = crate::error::Problem,
        description = "the slot is gone (`slots` has the fresh list) or no visit waits for a time"),
    (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
#[post("/track/{token}/slot")]
pub async fn book_slot(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    body: ValidJson<BookSlotRequest>,
) -> ApiResult<HttpResponse> {
    limit(&state, &req)?;
    let BookSlotRequest { start, end } = body.0;
    if end <= start {
        return Err(ApiError::field("end", messages::SLOT_ORDER));
    }
    let token = path.into_inner();
    let shared = state.clone();
    let booked = state
        .write(move |conn| {
            let slot = TimeWindow { start, end };
            slots::book(conn, &shared.settings.dispatch, &token, slot, Utc::now())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(booked))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hm: &str) -> DateTime<Utc> {
        format!("2026-12-03T{hm}Z").parse().unwrap_or_default()
    }

    #[test]
    fn the_estimated_window_is_a_half_hour_on_five_minute_marks_never_in_the_past() {
        let w = estimated_window(at("14:07:00"), at("13:00:00"));
        assert_eq!((w.from, w.to), (at("13:50:00"), at("14:25:00")));
        let w = estimated_window(at("13:10:00"), at("13:08:30"));
        assert_eq!((w.from, w.to), (at("13:08:00"), at("13:25:00")));
        // A stale estimate still gives a window ahead.
        let w = estimated_window(at("13:00:00"), at("13:30:10"));
        assert_eq!((w.from, w.to), (at("13:30:00"), at("13:45:00")));
    }
}
