//! The department's reports: JSON, or their table as CSV (`?format=csv` or `Accept:
//! text/csv`) for a spreadsheet.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::stats::Period;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::reports::{self, ClaimsReport, Range};
use crate::auth::extract::Reporter;
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
    /// `json` (default) or `csv`.
    pub format: Option<String>,
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

impl ReportQuery {
    fn range(&self) -> ApiResult<Range> {
        let to = match &self.to {
            Some(text) => instant("to", text)?,
            None => Utc::now(),
        };
        let from = match &self.from {
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
        Ok(Range {
            from,
            to,
            group_by: self.group_by.unwrap_or(Period::Week),
        })
    }

    /// Whether the caller asked for CSV.
    fn wants_csv(&self, req: &HttpRequest) -> ApiResult<bool> {
        match self.format.as_deref() {
            Some("csv") => Ok(true),
            Some("json") => Ok(false),
            Some(_) => Err(ApiError::field("format", messages::REPORT_FORMAT)),
            None => Ok(req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| {
                    accept.contains("text/csv") && !accept.contains("application/json")
                })),
        }
    }
}

/// Claims filed, decided, closed and rejected per period; filing to decision and to closing
/// (mean, median, 90th percentile); time in each stage with its SLA breaches and
/// escalations; per manager his open claims, decisions, median time to decision and
/// breaches. A head and an admin see the whole department, a manager his own claims.
#[utoipa::path(tag = "reports", params(ReportQuery), security(("bearer" = [])), responses(
    (status = 200, content((ClaimsReport = "application/json"), (String = "text/csv")))))]
#[get("/reports/claims")]
pub async fn claims_report(
    state: State,
    who: Reporter,
    query: web::Query<ReportQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let range = query.range()?;
    let csv = query.wants_csv(&req)?;
    let (user, sla) = (*who, state.settings.sla.clone());
    let now = Utc::now().naive_utc();
    let report = state
        .db(move |conn| reports::claims(conn, &user, &sla, range, now))
        .await?;
    if csv {
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(claims_csv(&report)?))
    } else {
        Ok(HttpResponse::Ok().json(report))
    }
}

/// The report's periods, one line each.
fn claims_csv(report: &ClaimsReport) -> ApiResult<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, record: &[String]| {
        out.write_record(record)
            .map_err(|e| ApiError::Internal(e.into()))
    };
    write(
        &mut out,
        &[
            "period_start",
            "filed",
            "decided",
            "approved",
            "rejected",
            "closed",
            "withdrawn",
            "median_hours_to_decision",
        ]
        .map(str::to_owned),
    )?;
    for row in &report.periods {
        let c = &row.counts;
        write(
            &mut out,
            &[
                row.start.to_string(),
                c.filed.to_string(),
                c.decided.to_string(),
                c.approved.to_string(),
                c.rejected.to_string(),
                c.closed.to_string(),
                c.withdrawn.to_string(),
                row.median_hours_to_decision
                    .map_or_else(String::new, |h| format!("{h:.3}")),
            ],
        )?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.into()))
}
