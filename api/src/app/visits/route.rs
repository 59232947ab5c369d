//! The route a courier's phone shows: his stops in order with what to bring and take
//! back, whom to meet and when. It is built once per route revision and kept in memory
//! with its `ETag` and gzip form: a phone polls it, and most polls are a 304.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::http::header::{EntityTag, HeaderValue};
use actix_web::web::Bytes;
use chrono::{NaiveDate, NaiveDateTime};
use domain::job::{JobKind, Leg};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::app::plans::shipments;
use crate::db::jobs::{self, VisitDetails};
use crate::db::plans::{self, RouteRef};
use crate::db::types::{JobId, PlanId, UserId};
use crate::db::DbConnection;
use crate::error::ApiResult;
use crate::state::AppState;

/// A courier's day: his stops in the order he drives them. Field names are short (the phone
/// polls it); absent values are left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourierRoute {
    pub date: NaiveDate,
    /// The route's id, absent when no published plan gives him a route that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanId>,
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
    /// Back at the depot as now estimated (UTC), once the day is under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_end: Option<String>,
    pub stops: Vec<CourierStop>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourierStop {
    pub seq: i32,
    /// `exchange`, `refund`, `pickup`, `return`, or `break`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobId>,
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
    /// The current arrival estimate (UTC), re-timed from his reports and positions while
    /// the visit is ahead; absent while it keeps to the plan (within a minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<String>,
    /// That estimate passes the end of the customer's window.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
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
    /// The unit on board (return; drop-off at a workshop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Cash to pay out, in minor units (refund).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Take {
    /// The unit's serial number: the defective one, or the repaired one at a workshop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The replacement unit collected at a supplier (no serial of hers yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
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
pub fn empty_route(date: NaiveDate) -> CourierRoute {
    CourierRoute {
        date,
        route: None,
        plan: None,
        rev: None,
        start: None,
        end: None,
        dist_m: None,
        eta_end: None,
        stops: Vec::new(),
    }
}

/// Reads a route with its stops and what each visit is about; `None` if it is gone.
pub fn load_route(
    conn: &mut DbConnection,
    date: NaiveDate,
    route_id: i64,
) -> ApiResult<Option<CourierRoute>> {
    let Some(head) = plans::route(conn, route_id)? else {
        return Ok(None);
    };
    let stops = plans::route_stops(conn, route_id)?;
    let ids: Vec<JobId> = stops.iter().filter_map(|s| s.job_id).collect();
    let details: HashMap<JobId, VisitDetails> = jobs::visit_details(conn, &ids)?
        .into_iter()
        .map(|j| (j.job_id, j))
        .collect();
    // The stored loads leave out a unit carried between a shipment's legs; he is told what
    // is on board.
    let pickups: HashMap<JobId, (JobId, i32)> = details
        .values()
        .filter(|j| j.kind.leg() == Some(Leg::Pickup))
        .filter_map(|j| Some((j.job_id, (j.paired_job_id?, j.pickup_load))))
        .collect();
    let in_transit = shipments::units_in_transit(
        &stops.iter().map(|s| s.job_id).collect::<Vec<_>>(),
        &pickups,
    );
    let stops = stops
        .into_iter()
        .zip(in_transit)
        .map(|(s, on_board)| {
            let mut view = CourierStop {
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
                eta: s.eta_at.map(stamp),
                late: s.delayed,
                load: s.load + on_board,
                locked: s.locked,
            };
            if let Some(job) = s.job_id.and_then(|id| details.get(&id)) {
                describe_visit(&mut view, job, (head.start_at, head.end_at));
            }
            view
        })
        .collect();
    Ok(Some(CourierRoute {
        date,
        route: Some(head.id),
        plan: Some(head.plan_id),
        rev: Some(head.revision),
        start: Some(stamp(head.start_at)),
        end: Some(stamp(head.end_at)),
        dist_m: Some(head.distance_m.round() as i64),
        eta_end: head.eta_end_at.map(stamp),
        stops,
    }))
}

/// Fills in a visit: what it is about, whom to meet, and the customer's slots that fall in
/// the courier's day (none shown means any time of the day, as when a slot was missed).
fn describe_visit(view: &mut CourierStop, job: &VisitDetails, day: (NaiveDateTime, NaiveDateTime)) {
    view.kind = job.kind.as_str().to_owned();
    view.claim = Some(job.claim_number.clone());
    if view.status.is_none() {
        view.status = Some(job.status.as_str().to_owned());
    }
    view.bring = match job.kind {
        JobKind::Exchange => Some(Bring {
            sku: job.sku.clone(),
            product: job.product_name.clone(),
            ..Bring::default()
        }),
        JobKind::Refund => Some(Bring {
            cash: job.cash_cents,
            ..Bring::default()
        }),
        // The unit on board: back to its customer, or handed over at the workshop.
        JobKind::Return | JobKind::DropOff => Some(Bring {
            serial: Some(job.serial_no.clone()),
            sku: job.sku.clone(),
            product: job.product_name.clone(),
            ..Bring::default()
        }),
        JobKind::Pickup | JobKind::OnsiteRepair | JobKind::Collect | JobKind::CollectNew => None,
    };
    view.take = match job.kind {
        JobKind::CollectNew => Some(Take {
            sku: job.sku.clone(),
            product: job.product_name.clone(),
            ..Take::default()
        }),
        _ => (job.pickup_load > 0).then(|| Take {
            serial: Some(job.serial_no.clone()),
            ..Take::default()
        }),
    };
    view.addr = Some(job.address.clone());
    view.lat = Some(job.lat);
    view.lon = Some(job.lon);
    match &job.partner_name {
        Some(partner) => {
            view.name = Some(partner.clone());
            view.phone = job.partner_phone.clone();
        }
        None => {
            view.name = Some(job.customer_name.clone());
            view.phone = job.customer_phone.clone();
        }
    }
    view.windows = job
        .windows
        .iter()
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
    pub fn render(view: &CourierRoute) -> ApiResult<Self> {
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

/// The courier's route in the published plan of `date`, rendered (from the cache when the
/// route has not changed since).
pub async fn published_route(
    state: &AppState,
    user_id: UserId,
    date: NaiveDate,
) -> ApiResult<Arc<RenderedRoute>> {
    let route = state
        .db(move |conn| Ok(plans::published_route_of_user(conn, user_id, date)?))
        .await?;
    let Some(at) = route else {
        // A day without a route is cheap to render and not worth a cache slot.
        return Ok(RenderedRoute::render(&empty_route(date))?.into());
    };
    if let Some(hit) = state.route_cache.get(at) {
        return Ok(hit);
    }
    let view = state
        .db(move |conn| load_route(conn, date, at.route_id))
        .await?
        .unwrap_or_else(|| empty_route(date));
    Ok(state
        .route_cache
        .put(at.route_id, RenderedRoute::render(&view)?))
}
