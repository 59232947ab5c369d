//! The couriers' mobile API (`/me/*`): the day's route, reports about visits, proof photos
//! and positions; and the dispatchers' live map of where couriers are.

use actix_web::http::header::{self, AcceptEncoding, Encoding, Header, HeaderValue, IfNoneMatch};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::dispatch::CourierEvent;
use domain::report::{check_report_time, validate_event};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::claims::AttachmentInfo;
use super::fleet::PageQuery;
use super::{decode_cursor, page_limit, paginate, Page};
use crate::app::attachments::accept_upload;
use crate::app::idempotency::{self, Keyed};
use crate::app::visits::positions::{self, CourierPosition, Fix};
use crate::app::visits::proof_target;
use crate::app::visits::report::{self, Report, ReportAnswer, Rules};
use crate::app::visits::route::{self, CourierRoute, RenderedRoute};
use crate::auth::extract::{Courier, Dispatch};
use crate::db::types::{CourierId, JobId};
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdempotencyKey, ValidJson};
use crate::messages;
use crate::state::State;

#[derive(Debug, Deserialize, IntoParams)]
pub struct RouteQuery {
    /// `YYYY-MM-DD`; today (UTC) when absent.
    #[param(value_type = Option<String>)]
    pub date: Option<NaiveDate>,
}

/// The courier's route in the published plan of a day: his stops in order, with what to
/// bring and take back, whom to meet, when, and how each visit stands. Without a published
/// route that day the stop list is empty. Answers carry an `ETag` (`If-None-Match` gives a
/// 304 without a body) and are gzipped for clients that accept it.
#[utoipa::path(tag = "couriers", params(RouteQuery,
        ("If-None-Match" = Option<String>, Header, description = "the ETag of the copy the phone has")),
    security(("bearer" = [])),
    responses((status = 200, body = CourierRoute), (status = 304, description = "unchanged"),
              (status = 403, body = crate::error::Problem)))]
#[get("/me/route")]
pub async fn get_route(
    state: State,
    who: Courier,
    query: web::Query<RouteQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let date = query.date.unwrap_or_else(|| Utc::now().date_naive());
    let rendered = route::published_route(&state, who.id, date).await?;
    Ok(route_response(&req, &rendered))
}

/// 304 when the phone's copy is current, else the JSON, gzipped when the client takes it.
fn route_response(req: &HttpRequest, rendered: &RenderedRoute) -> HttpResponse {
    let unchanged = match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&rendered.tag)),
        Err(_) => false,
    };
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, rendered.etag.clone()))
        .insert_header((header::VARY, HeaderValue::from_static("accept-encoding")))
        // The phone keeps its copy but asks every time (a 304 costs almost nothing).
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ));
    if unchanged {
        return response.finish();
    }
    let gzip = AcceptEncoding::parse(req)
        .ok()
        .and_then(|accept| accept.negotiate([Encoding::gzip(), Encoding::identity()].iter()))
        .is_some_and(|chosen| chosen == Encoding::gzip());
    response.content_type("application/json");
    if gzip {
        response
            .insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")))
            .body(rendered.gzip.clone())
    } else {
        response.body(rendered.json.clone())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct JobEventRequest {
    /// `departed`, `arrived`, `completed` or `failed`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub type_: CourierEvent,
    /// When it happened, RFC 3339; at most 5 minutes ahead of the server's clock.
    pub at: DateTime<Utc>,
    #[validate(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    pub lon: f64,
    /// Why the visit failed; required for `failed`.
    #[validate(length(max = 500))]
    pub reason: Option<String>,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

/// Reports a step of a visit. Visits only move forward: a late or repeated report is
/// recorded (`applied: false`) and changes nothing; ending a visit both ways is a 409, and
/// so is completing a visit that takes a unit back before its photo was uploaded. A failed
/// visit hands the job back to planning. The claim follows its jobs (in fulfilment, then
/// quality control). The `Idempotency-Key` header is required: a retry with the same key
/// and body gets the first answer.
#[utoipa::path(tag = "couriers", params(("id" = i64, Path),
        ("Idempotency-Key" = String, Header, description = "unique per report; retries reuse it")),
    request_body = JobEventRequest, security(("bearer" = [])),
    responses((status = 200, body = ReportAnswer), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/me/jobs/{id}/events")]
pub async fn report_event(
    state: State,
    who: Courier,
    path: web::Path<i64>,
    key: IdempotencyKey,
    body: ValidJson<JobEventRequest>,
) -> ApiResult<HttpResponse> {
    let job_id = JobId(path.into_inner());
    let key = key
        .0
        .ok_or_else(|| ApiError::field("Idempotency-Key", messages::IDEMPOTENCY_KEY_REQUIRED))?;
    let request = body.0;
    let reason = validate_event(
        request.type_,
        request.at,
        Utc::now(),
        request.reason.as_deref(),
    )
    .map_err(ApiError::Validation)?;
    let keyed = Keyed::new(
        who.id,
        Some(key),
        "POST /me/jobs/{id}/events",
        &(job_id, &request),
    )?;
    let report = Report {
        job_id,
        event: request.type_,
        at: request.at.naive_utc(),
        lat: request.lat,
        lon: request.lon,
        reason,
        note: request
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
    };
    let rules = Rules {
        sla: state.settings.sla.clone(),
        dispatch: state.settings.dispatch.clone(),
        max_visit_attempts: state.settings.max_visit_attempts,
    };
    let answer = idempotency::at_most_once(&state, move |conn| {
        report::report(conn, &rules, &keyed, &report)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(answer.body))
}

/// Uploads the photo proving what was handed over or taken back (multipart field `file`:
/// JPEG, PNG or PDF by content, as claim attachments). Needed before completing a visit
/// that takes a unit back. Only for the courier's own jobs.
#[utoipa::path(tag = "couriers", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = AttachmentInfo), (status = 400, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 413, body = crate::error::Problem),
              (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/me/jobs/{id}/proof")]
pub async fn upload_proof(
    state: State,
    who: Courier,
    path: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let job_id = JobId(path.into_inner());
    let user_id = who.id;
    let row = accept_upload(&state, &req, payload, move |conn| {
        proof_target(conn, user_id, job_id)
    })
    .await?;
    Ok(HttpResponse::Created().json(AttachmentInfo::from(row)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PositionPoint {
    /// When the phone took the fix, RFC 3339; at most 5 minutes ahead of the server.
    pub at: DateTime<Utc>,
    #[validate(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    pub lon: f64,
    #[validate(range(min = 0.0, max = 100000.0))]
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PositionsRequest {
    /// 1 to 1000 fixes, in any order.
    #[validate(nested)]
    pub points: Vec<PositionPoint>,
}

/// Most positions in one batch.
const MAX_POINTS: usize = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionsAccepted {
    pub accepted: usize,
}

/// Records a batch of the courier's positions (a phone that was offline sends what it
/// collected); the newest becomes his position on the dispatchers' map.
#[utoipa::path(tag = "couriers", request_body = PositionsRequest, security(("bearer" = [])),
    responses((status = 202, body = PositionsAccepted), (status = 422, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
#[post("/me/positions")]
pub async fn post_positions(
    state: State,
    who: Courier,
    body: ValidJson<PositionsRequest>,
) -> ApiResult<HttpResponse> {
    if !(1..=MAX_POINTS).contains(&body.0.points.len()) {
        return Err(ApiError::field("points", messages::POINTS_COUNT));
    }
    let checked_at = Utc::now();
    let errors: Vec<_> = body
        .0
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| check_report_time(&format!("points[{i}].at"), p.at, checked_at))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let fixes: Vec<Fix> = body
        .0
        .points
        .iter()
        .map(|p| Fix {
            at: p.at.naive_utc(),
            lat: p.lat,
            lon: p.lon,
            accuracy_m: p.accuracy_m,
        })
        .collect();
    let user_id = who.id;
    let dispatch = state.settings.dispatch.clone();
    let accepted = state
        .write(move |conn| positions::record(conn, &dispatch, user_id, &fixes))
        .await?;
    Ok(HttpResponse::Accepted().json(PositionsAccepted { accepted }))
}

/// Where each courier was last seen, and the visit he is on (on the way or at the door),
/// a page of couriers at a time by courier id.
#[utoipa::path(tag = "couriers", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<CourierPosition>), (status = 403, body = crate::error::Problem)))]
#[get("/couriers/positions")]
pub async fn live_positions(
    state: State,
    _who: Dispatch,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let after = decode_cursor(query.cursor.as_deref())?.map(CourierId);
    let rows = state
        .db(move |conn| positions::live(conn, after, limit))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |p| p.courier_id.0, |p| p)))
}
