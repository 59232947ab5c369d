//! The couriers' side of a day: the route a courier's phone shows (built once per route
//! revision and kept in memory with its `ETag` and gzip form), and the workflow of a report
//! about a visit — the job moves, his stop records how it ended, his route's revision is
//! bumped, and the claim follows its jobs with history and outbox rows, all in the caller's
//! one write transaction (`AppState::write`), as `crate::workflow` does for claims.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::http::header::{EntityTag, HeaderValue};
use actix_web::web::Bytes;
use chrono::{NaiveDate, NaiveDateTime};
use domain::claim::TransitionTrigger;
use domain::dispatch::{apply_event, claim_follows_jobs, CourierEvent, EventEffect, Visit};
use domain::job::{JobKind, JobStatus};
use domain::report::{completion_needs_proof, visit_of};
use domain::sla::SlaPolicy;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::db::claims::{self, ClaimRow, NewClaimEvent, Scope};
use crate::db::jobs::{self, JobRow};
use crate::db::tracking::{self, NewJobEvent, RouteRef, StopJobRow, StopRef};
use crate::db::{fleet, now, outbox, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::workflow;

// ---------------------------------------------------------------------------------------
// The route a courier's phone shows.

/// A courier's day: his stops in the order he drives them. Field names are short (the phone
/// polls it); absent values are left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RouteView {
    pub date: NaiveDate,
    /// The route's id, absent when no published plan gives him a route that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<i64>,
    /// Bumped whenever the route changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rev: Option<i64>,
    /// Leaves the depot (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Back at the depot (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Planned road distance in metres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dist_m: Option<i64>,
    pub stops: Vec<StopView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StopView {
    pub seq: i32,
    /// `exchange`, `refund`, `pickup`, `return`, or `break`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<i64>,
    /// The claim's number, e.g. `CLM-2026-000042`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// How the visit ended (`done`, `failed`), else the job's status (`assigned`,
    /// `en_route`, `arrived`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// What to hand over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bring: Option<Bring>,
    /// What to take back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take: Option<Take>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// The customer's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// When the customer can receive him (UTC).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<WindowView>,
    /// Planned arrival, start of service (or of the break) and departure (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrive: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depart: Option<String>,
    /// Units on board when leaving the stop.
    pub load: i32,
    /// The dispatcher fixed this stop in place.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Bring {
    /// The replacement unit (exchange).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The repaired unit (return).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Cash to pay out, in minor units (refund).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Take {
    /// The defective unit's serial number.
    pub serial: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowView {
    pub from: String,
    pub to: String,
}

fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A day without a route: no stops.
pub fn empty_route(date: NaiveDate) -> RouteView {
    RouteView {
        date,
        route: None,
        plan: None,
        rev: None,
        start: None,
        end: None,
        dist_m: None,
        stops: Vec::new(),
    }
}

/// Reads a route with its stops and what each visit is about; `None` if it is gone.
pub fn load_route(
    conn: &mut DbConnection,
    date: NaiveDate,
    route_id: i64,
) -> ApiResult<Option<RouteView>> {
    let Some(head) = tracking::route_head(conn, route_id)? else {
        return Ok(None);
    };
    let stops = tracking::route_stops(conn, route_id)?;
    let ids: Vec<i64> = stops.iter().filter_map(|s| s.job_id).collect();
    let details: HashMap<i64, StopJobRow> = tracking::stop_jobs(conn, &ids)?
        .into_iter()
        .map(|j| (j.job_id, j))
        .collect();
    let stops = stops
        .into_iter()
        .map(|s| {
            let mut view = StopView {
                seq: s.seq,
                kind: "break".to_owned(),
                job: s.job_id,
                claim: None,
                status: s.outcome,
                bring: None,
                take: None,
                addr: None,
                lat: None,
                lon: None,
                name: None,
                phone: None,
                windows: Vec::new(),
                arrive: s.arrival_at.map(stamp),
                start: s.start_at.map(stamp),
                depart: s.departure_at.map(stamp),
                load: s.load,
                locked: s.locked,
            };
            if let Some(job) = s.job_id.and_then(|id| details.get(&id)) {
                describe_visit(&mut view, job, (head.start_at, head.end_at));
            }
            view
        })
        .collect();
    Ok(Some(RouteView {
        date,
        route: Some(head.id),
        plan: Some(head.plan_id),
        rev: Some(head.revision),
        start: Some(stamp(head.start_at)),
        end: Some(stamp(head.end_at)),
        dist_m: Some(head.distance_m.round() as i64),
        stops,
    }))
}

/// Fills in a visit: what it is about, whom to meet, and the customer's slots that fall in
/// the courier's day (none shown means any time of the day, as when a slot was missed).
fn describe_visit(view: &mut StopView, job: &StopJobRow, day: (NaiveDateTime, NaiveDateTime)) {
    let kind = job.kind.parse::<JobKind>().ok();
    view.kind = job.kind.clone();
    view.claim = Some(job.claim_number.clone());
    if view.status.is_none() {
        view.status = Some(job.status.clone());
    }
    view.bring = match kind {
        Some(JobKind::Exchange) => Some(Bring {
            sku: job.sku.clone(),
            product: job.product_name.clone(),
            ..Bring::default()
        }),
        Some(JobKind::Refund) => Some(Bring {
            cash: job.cash_cents,
            ..Bring::default()
        }),
        Some(JobKind::Return) => Some(Bring {
            serial: Some(job.serial_no.clone()),
            sku: job.sku.clone(),
            product: job.product_name.clone(),
            ..Bring::default()
        }),
        Some(JobKind::Pickup) | None => None,
    };
    view.take = (job.pickup_load > 0).then(|| Take {
        serial: job.serial_no.clone(),
    });
    view.addr = Some(job.address.clone());
    view.lat = Some(job.lat);
    view.lon = Some(job.lon);
    view.name = Some(job.customer_name.clone());
    view.phone = job.customer_phone.clone();
    view.windows = serde_json::from_str::<Vec<workflow::TimeWindow>>(&job.windows)
        .unwrap_or_default()
        .into_iter()
        .filter(|w| w.end.naive_utc() > day.0 && w.start.naive_utc() < day.1)
        .map(|w| WindowView {
            from: stamp(w.start.naive_utc()),
            to: stamp(w.end.naive_utc()),
        })
        .collect();
}

/// A rendered route: the JSON, its gzip form and its `ETag` (a hash of the JSON, so it
/// changes exactly when the content does).
#[derive(Debug)]
pub struct RenderedRoute {
    pub revision: i64,
    /// The header value, quoted: `W/"..."` (weak: the gzip form shares it).
    pub etag: HeaderValue,
    pub tag: EntityTag,
    pub json: Bytes,
    pub gzip: Bytes,
    built: Instant,
}

impl RenderedRoute {
    pub fn render(view: &RouteView) -> ApiResult<Self> {
        let json = serde_json::to_vec(view).map_err(anyhow::Error::from)?;
        let digest = Sha256::digest(&json);
        let tag = EntityTag::new_weak(hex::encode(&digest[..12]));
        let etag = HeaderValue::from_str(&tag.to_string()).map_err(anyhow::Error::from)?;
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 3), Default::default());
        encoder.write_all(&json).map_err(anyhow::Error::from)?;
        let gzip = encoder.finish().map_err(anyhow::Error::from)?;
        Ok(Self {
            revision: view.rev.unwrap_or(0),
            etag,
            tag,
            json: Bytes::from(json),
            gzip: Bytes::from(gzip),
            built: Instant::now(),
        })
    }
}

/// Rendered routes by route id, valid for the revision they were built at. Anything that
/// changes what a courier sees bumps the revision; the age limit only bounds how long a
/// change made some other way (a customer's new phone number) can go unseen.
#[derive(Debug, Default)]
pub struct RouteCache {
    entries: RwLock<HashMap<i64, Arc<RenderedRoute>>>,
}

/// How long a rendered route is served without re-reading it at the same revision.
const ROUTE_MAX_AGE: Duration = Duration::from_secs(60);
/// Routes kept at most (a day of a large fleet is a few hundred); beyond, old ones go.
const ROUTE_CACHE_SIZE: usize = 20_000;

impl RouteCache {
    pub fn get(&self, at: RouteRef) -> Option<Arc<RenderedRoute>> {
        let entries = self.entries.read().ok()?;
        entries
            .get(&at.route_id)
            .filter(|r| r.revision == at.revision && r.built.elapsed() < ROUTE_MAX_AGE)
            .cloned()
    }

    pub fn put(&self, route_id: i64, rendered: RenderedRoute) -> Arc<RenderedRoute> {
        let rendered = Arc::new(rendered);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= ROUTE_CACHE_SIZE {
                entries.retain(|_, r| r.built.elapsed() < ROUTE_MAX_AGE);
                if entries.len() >= ROUTE_CACHE_SIZE {
                    entries.clear();
                }
            }
            entries.insert(route_id, rendered.clone());
        }
        rendered
    }
}

// ---------------------------------------------------------------------------------------
// Reports about visits.

/// The answer to a report (stored with it, and given again to a retry with the same key).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventAnswer {
    /// The job's id.
    pub id: i64,
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
    pub user_id: i64,
    pub job_id: i64,
    pub event: CourierEvent,
    pub at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    /// Trimmed; present for a failed visit.
    pub reason: Option<String>,
    pub note: Option<String>,
    pub key: String,
    /// Hash of the job id and the body: the same key with another request is refused.
    pub request_hash: String,
}

/// A job as one courier may report on it.
#[derive(Debug, Clone)]
pub struct CourierJob {
    pub job: JobRow,
    /// Where his visit stands; `None` when the job is his but not in a state to visit
    /// (cancelled, say).
    pub visit: Option<Visit>,
    /// His stop for it in a published plan, if there is one.
    pub stop: Option<StopRef>,
    /// The job is given to him now (not only a visit of his that already ended).
    pub current: bool,
}

/// The courier record of a courier account; a courier account without one has no jobs.
pub fn courier_of(conn: &mut DbConnection, user_id: i64) -> ApiResult<i64> {
    fleet::courier_for_user(conn, user_id)?.ok_or(ApiError::NotFound)
}

/// The job if it is the courier's: given to him now, or a stop of his published route
/// whose visit already ended (so late reports after a failed visit are still his).
/// Anything else is a 404, so others' jobs are not revealed.
pub fn courier_job(conn: &mut DbConnection, courier_id: i64, job_id: i64) -> ApiResult<CourierJob> {
    let job = tracking::find_job(conn, job_id)?.ok_or(ApiError::NotFound)?;
    if job.courier_id == Some(courier_id) {
        let status = parse_job_status(&job.status)?;
        let stop = match job.plan_id {
            Some(plan_id) => tracking::stop_in_plan(conn, plan_id, courier_id, job_id)?,
            None => None,
        };
        return Ok(CourierJob {
            visit: visit_of(status),
            job,
            stop,
            current: true,
        });
    }
    match tracking::ended_stop(conn, courier_id, job_id)? {
        Some((stop, outcome)) => Ok(CourierJob {
            visit: outcome.parse::<Visit>().ok().filter(|v| v.is_over()),
            job,
            stop: Some(stop),
            current: false,
        }),
        None => Err(ApiError::NotFound),
    }
}

/// Applies a report and returns the answer's JSON (the stored one for a retry).
///
/// The event row (with the idempotency key and the answer) is written before the job
/// moves: on PostgreSQL a concurrent duplicate then fails on the key's unique index (the
/// handler retries and finds this answer), and a job changed by a concurrent report with
/// another key fails the status check (409, the handler retries against the new state).
pub fn report(conn: &mut DbConnection, sla: &SlaPolicy, r: &Report) -> ApiResult<String> {
    let courier_id = courier_of(conn, r.user_id)?;
    if let Some(stored) = tracking::find_answer(conn, courier_id, &r.key)? {
        if stored.request_hash != r.request_hash {
            return Err(ApiError::field(
                "Idempotency-Key",
                messages::IDEMPOTENCY_MISMATCH,
            ));
        }
        return Ok(stored.response_body);
    }
    let cj = courier_job(conn, courier_id, r.job_id)?;
    let job = &cj.job;
    let visit = cj
        .visit
        .ok_or_else(|| ApiError::Conflict(messages::job_not_visitable(&job.status)))?;
    let effect = apply_event(visit, r.event)
        .map_err(|e| ApiError::Conflict(messages::visit_already_ended(e.ended, e.event)))?;
    let target = match effect {
        EventEffect::Moves(target) if cj.current => Some(target),
        EventEffect::Moves(_) | EventEffect::Recorded => None,
    };
    if target == Some(Visit::Done)
        && completion_needs_proof(job.pickup_load)
        && !tracking::has_proof(conn, job.id)?
    {
        return Err(ApiError::Conflict(messages::proof_required(job.id)));
    }
    let answer = match target {
        Some(Visit::Failed) => EventAnswer {
            id: job.id,
            status: Visit::Failed.job_status().as_str().to_owned(),
            attempts: job.attempts + 1,
            applied: true,
        },
        Some(v) => EventAnswer {
            id: job.id,
            status: v.job_status().as_str().to_owned(),
            attempts: job.attempts,
            applied: true,
        },
        None => EventAnswer {
            id: job.id,
            status: job.status.clone(),
            attempts: job.attempts,
            applied: false,
        },
    };
    let body = serde_json::to_string(&answer).map_err(anyhow::Error::from)?;
    tracking::insert_event(
        conn,
        &NewJobEvent {
            job_id: job.id,
            courier_id,
            kind: r.event.as_str(),
            at: r.at,
            received_at: now(),
            lat: Some(r.lat),
            lon: Some(r.lon),
            reason: r.reason.as_deref(),
            note: r.note.as_deref(),
            applied: target.is_some(),
            idempotency_key: &r.key,
            request_hash: &r.request_hash,
            response_body: &body,
        },
    )?;
    if let Some(target) = target {
        move_visit(conn, sla, r, courier_id, &cj, target)?;
    }
    Ok(body)
}

/// The writes of an applied report: the job, the stop's outcome, the route's revision,
/// the claim's history and outbox, and the claim's own steps.
fn move_visit(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    r: &Report,
    courier_id: i64,
    cj: &CourierJob,
    target: Visit,
) -> ApiResult<()> {
    let job = &cj.job;
    let to = target.job_status().as_str();
    let moved = match target {
        Visit::Failed => tracking::fail_job(
            conn,
            job.id,
            courier_id,
            &job.status,
            to,
            r.reason.as_deref().unwrap_or_default(),
        )?,
        Visit::Done => {
            tracking::advance_job(conn, job.id, courier_id, &job.status, to, Some(r.at))?
        }
        _ => tracking::advance_job(conn, job.id, courier_id, &job.status, to, None)?,
    };
    if moved.is_none() {
        return Err(ApiError::Conflict(messages::JOB_CHANGED.to_owned()));
    }
    if let Some(stop) = cj.stop {
        if target.is_over() {
            tracking::set_outcome(conn, stop.stop_id, target.as_str())?;
        }
        tracking::bump_revision(conn, stop.route_id)?;
    }
    let claim = claims::find(conn, job.claim_id, Scope::All)?.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "job {} has no claim {}",
            job.id,
            job.claim_id
        ))
    })?;
    let ended = match target {
        Visit::Failed => Some((
            "job.failed",
            messages::job_failed_note(job.id, &job.kind, r.reason.as_deref().unwrap_or("")),
        )),
        Visit::Done => Some((
            "job.completed",
            messages::job_completed_note(job.id, &job.kind),
        )),
        _ => None,
    };
    if let Some((kind, note)) = ended {
        claims::insert_event(
            conn,
            &NewClaimEvent {
                claim_id: claim.id,
                at: now(),
                actor_id: Some(r.user_id),
                kind,
                from_status: None,
                to_status: None,
                note: Some(&note),
            },
        )?;
        let mut payload = workflow::event_payload(&claim);
        payload["job_id"] = json!(job.id);
        payload["job_kind"] = json!(job.kind);
        payload["courier_id"] = json!(courier_id);
        payload["attempts"] = json!(job.attempts + i32::from(target == Visit::Failed));
        if target == Visit::Failed {
            payload["reason"] = json!(r.reason);
        }
        outbox::push(conn, kind, &payload)?;
    }
    follow_jobs(conn, sla, claim, r.user_id, job.id, r.event)
}

/// Moves the claim as far as its jobs now take it, one recorded step at a time.
fn follow_jobs(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    mut claim: ClaimRow,
    actor: i64,
    job_id: i64,
    event: CourierEvent,
) -> ApiResult<()> {
    let statuses = jobs::for_claim(conn, claim.id)?
        .iter()
        .map(|j| parse_job_status(&j.status))
        .collect::<ApiResult<Vec<JobStatus>>>()?;
    let note = messages::fulfilment_note(job_id, event.as_str());
    while let Some(next) = claim_follows_jobs(workflow::parse_status(&claim.status)?, &statuses) {
        claim = workflow::transition(
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

fn parse_job_status(status: &str) -> ApiResult<JobStatus> {
    status
        .parse()
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("stored job status `{status}` is unknown")))
}

// ---------------------------------------------------------------------------------------
// Positions.

/// One reported position, validated.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

/// Stores a batch of positions and keeps the newest on the courier; returns how many.
pub fn record_positions(
    conn: &mut DbConnection,
    user_id: i64,
    points: &[Point],
) -> ApiResult<usize> {
    let courier_id = fleet::courier_for_user(conn, user_id)?.ok_or(ApiError::Forbidden)?;
    let received_at = now();
    let rows: Vec<tracking::NewPosition> = points
        .iter()
        .map(|p| tracking::NewPosition {
            courier_id,
            at: p.at,
            lat: p.lat,
            lon: p.lon,
            accuracy_m: p.accuracy_m,
            received_at,
        })
        .collect();
    let inserted = tracking::insert_positions(conn, &rows)?;
    if let Some(latest) = points.iter().max_by_key(|p| p.at) {
        tracking::update_last_position(conn, courier_id, latest.at, latest.lat, latest.lon)?;
    }
    Ok(inserted)
}
