//! The department's reports: JSON; their table as CSV (`?format=csv` or `Accept: text/csv`)
//! for a spreadsheet; a bar chart as SVG (`?format=svg` or `Accept: image/svg+xml`).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::locale::Locale;
use domain::stats::Period;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::documents::language;
use crate::app::reports::defects::{self, DefectsReport};
use crate::app::reports::delivery::{self, DeliveryReport, Rates};
use crate::app::reports::export;
use crate::app::reports::{self, ClaimsReport, Range};
use crate::auth::extract::{AdminOrHead, Reporter};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::state::State;

/// The longest range a report covers.
const MAX_DAYS: i64 = 1100;
/// The range when the request names no start.
const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// Start, inclusive: a date (`2026-11-01`, midnight UTC) or an RFC 3339 time. Default:
    /// 30 days before `to`.
    pub from: Option<String>,
    /// End, exclusive: a date or an RFC 3339 time. Default: now.
    pub to: Option<String>,
    /// `day`, `week` (from Monday, the default) or `month`.
    #[param(value_type = Option<String>)]
    pub group_by: Option<Period>,
    /// `json` (default), `csv` or `svg`.
    pub format: Option<String>,
    /// The chart's language, `en` or `ru` (default: `Accept-Language`, else English).
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RangeQuery {
    /// Start, inclusive: a date (`2026-11-01`, midnight UTC) or an RFC 3339 time. Default:
    /// 30 days before `to`.
    pub from: Option<String>,
    /// End, exclusive: a date or an RFC 3339 time. Default: now.
    pub to: Option<String>,
    /// `json` (default), `csv` or `svg`.
    pub format: Option<String>,
    /// The chart's language, `en` or `ru` (default: `Accept-Language`, else English).
    pub lang: Option<String>,
}

/// A moment from a date (midnight UTC) or an RFC 3339 time.
fn instant(field: &'static str, text: &str) -> ApiResult<DateTime<Utc>> {
    if let Ok(day) = text.parse::<NaiveDate>() {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::field(field, messages::REPORT_INSTANT))
}

/// `[from, to)` from the query's texts: by default the 30 days before now.
fn period(from: Option<&str>, to: Option<&str>) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = match to {
        Some(text) => instant("to", text)?,
        None => Utc::now(),
    };
    let from = match from {
        Some(text) => instant("from", text)?,
        None => to - chrono::Duration::days(DEFAULT_DAYS),
    };
    if from >= to {
        return Err(ApiError::field("to", messages::REPORT_EMPTY_RANGE));
    }
    if to - from > chrono::Duration::days(MAX_DAYS) {
        return Err(ApiError::field(
            "from",
            messages::report_range_too_long(MAX_DAYS),
        ));
    }
    Ok((from, to))
}

/// How the caller wants a report.
#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Csv,
    /// A chart, in this language.
    Svg(Locale),
}

/// `?format=` first, else the `Accept` header (CSV or SVG only when JSON is not named).
fn format(req: &HttpRequest, format: Option<&str>, lang: Option<&str>) -> ApiResult<Format> {
    let chart = || -> ApiResult<Format> {
        let ask = language(req, lang)?;
        Ok(Format::Svg(ask.query.or(ask.accept).unwrap_or_default()))
    };
    match format {
        Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some("svg") => chart(),
        Some(_) => Err(ApiError::field("format", messages::REPORT_FORMAT)),
        None => {
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if accept.contains("application/json") {
                Ok(Format::Json)
            } else if accept.contains("text/csv") {
                Ok(Format::Csv)
            } else if accept.contains("image/svg+xml") {
                chart()
            } else {
                Ok(Format::Json)
            }
        }
    }
}

fn answer<R: Serialize>(
    format: Format,
    report: &R,
    csv: impl FnOnce(&R) -> ApiResult<String>,
    svg: impl FnOnce(&R, Locale) -> ApiResult<String>,
) -> ApiResult<HttpResponse> {
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(report),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv(report)?),
        Format::Svg(locale) => HttpResponse::Ok()
            .content_type("image/svg+xml")
            // A chart opened on its own runs nothing and loads nothing.
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ))
            .body(svg(report, locale)?),
    })
}

/// Claims filed, decided, closed and rejected per period; filing to decision and to closing
/// (mean, median, 90th percentile); time in each stage with its SLA breaches and
/// escalations; per manager his open claims, decisions, median time to decision and
/// breaches. A head and an admin see the whole department, a manager his own claims. The
/// chart: filed, decided and closed per period.
#[utoipa::path(tag = "reports", params(ReportQuery), security(("bearer" = [])), responses(
    (status = 200, content((ClaimsReport = "application/json"), (String = "text/csv"),
        (String = "image/svg+xml"))),
    (status = 422, body = crate::error::Problem)))]
#[get("/reports/claims")]
pub async fn claims_report(
    state: State,
    who: Reporter,
    query: web::Query<ReportQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (from, to) = period(query.from.as_deref(), query.to.as_deref())?;
    let range = Range {
        from,
        to,
        group_by: query.group_by.unwrap_or(Period::Week),
    };
    let format = format(&req, query.format.as_deref(), query.lang.as_deref())?;
    let (user, sla) = (*who, state.settings.sla.clone());
    let now = Utc::now().naive_utc();
    let report = state
        .db(move |conn| reports::claims(conn, &user, &sla, range, now))
        .await?;
    answer(format, &report, export::claims_csv, |r, locale| {
        export::claims_svg(r, &state.templates, locale)
    })
}

/// Claims filed in the period by defect category, product category, product, series and
/// sale batch, each with its claim rate (claims per unit sold in the period); a series or
/// batch is `flagged` when its rate is at least twice its category's on three claims or
/// more. With the mean days from sale to claim per series. Head and admin. The chart: the
/// claim rate per batch, flagged ones marked.
#[utoipa::path(tag = "reports", params(RangeQuery), security(("bearer" = [])), responses(
    (status = 200, content((DefectsReport = "application/json"), (String = "text/csv"),
        (String = "image/svg+xml"))),
    (status = 422, body = crate::error::Problem)))]
#[get("/reports/defects")]
pub async fn defects_report(
    state: State,
    _who: AdminOrHead,
    query: web::Query<RangeQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (from, to) = period(query.from.as_deref(), query.to.as_deref())?;
    let format = format(&req, query.format.as_deref(), query.lang.as_deref())?;
    let report = state
        .db(move |conn| defects::defects(conn, from, to))
        .await?;
    answer(format, &report, export::defects_csv, |r, locale| {
        export::defects_svg(r, &state.templates, locale)
    })
}

/// The visits of the published plans of the days in the range: planned, done, failed (by
/// reason), started inside the window (%) and how late the late ones were; the couriers'
/// planned km and hours per day; and the courier cost of the claims (their visits' share
/// of the routes, priced by `COURIER_COST_PER_KM` and `COURIER_COST_PER_HOUR`) by remedy
/// and by product. Head and admin; the CSV lists the couriers' days, the chart the visits
/// done and failed per day.
#[utoipa::path(tag = "reports", params(RangeQuery), security(("bearer" = [])), responses(
    (status = 200, content((DeliveryReport = "application/json"), (String = "text/csv"),
        (String = "image/svg+xml"))),
    (status = 422, body = crate::error::Problem)))]
#[get("/reports/delivery")]
pub async fn delivery_report(
    state: State,
    _who: AdminOrHead,
    query: web::Query<RangeQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (from, to) = period(query.from.as_deref(), query.to.as_deref())?;
    let format = format(&req, query.format.as_deref(), query.lang.as_deref())?;
    let rates = Rates {
        per_km: state.settings.dispatch.cost_per_km,
        per_hour: state.settings.dispatch.cost_per_hour,
    };
    let report = state
        .db(move |conn| delivery::delivery(conn, from, to, rates))
        .await?;
    answer(format, &report, export::delivery_csv, |r, locale| {
        export::delivery_svg(r, &state.templates, locale)
    })
}
