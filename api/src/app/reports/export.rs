//! The reports as a spreadsheet reads them (CSV: one table each) and as a chart where a
//! picture says it faster (SVG bar charts, their words from the chart templates).

use chrono::{DateTime, Utc};
use domain::locale::Locale;
use domain::stats::Period;
use serde_json::json;

use super::defects::{DefectsReport, RateRow};
use super::delivery::DeliveryReport;
use super::ClaimsReport;
use crate::charts::{self, Bars, Series};
use crate::error::{ApiError, ApiResult};
use crate::templates::Templates;

/// Batches on the defects chart at most (the most claimed first).
const CHART_BATCHES: usize = 24;

fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> ApiResult<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header)
        .map_err(|e| ApiError::Internal(e.into()))?;
    for row in rows {
        out.write_record(&row)
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.into()))
}

fn optional(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(String::new, |v| format!("{v:.decimals$}"))
}

/// The claims report's periods, one line each.
pub fn claims_csv(report: &ClaimsReport) -> ApiResult<String> {
    table(
        &[
            "period_start",
            "filed",
            "decided",
            "approved",
            "rejected",
            "closed",
            "withdrawn",
            "median_hours_to_decision",
        ],
        report.periods.iter().map(|row| {
            let c = &row.counts;
            vec![
                row.start.to_string(),
                c.filed.to_string(),
                c.decided.to_string(),
                c.approved.to_string(),
                c.rejected.to_string(),
                c.closed.to_string(),
                c.withdrawn.to_string(),
                optional(row.median_hours_to_decision, 3),
            ]
        }),
    )
}

/// Every group of the defects report in one table: `group` says which.
pub fn defects_csv(report: &DefectsReport) -> ApiResult<String> {
    let defects = report.by_defect.iter().map(|row| {
        let mut line = vec![String::new(); 9];
        line[0] = "defect".to_owned();
        line[1] = row.defect.clone();
        line[4] = row.claims.to_string();
        line
    });
    let groups: [(&str, &Vec<RateRow>); 4] = [
        ("category", &report.by_category),
        ("product", &report.by_product),
        ("series", &report.by_series),
        ("batch", &report.by_batch),
    ];
    let rates = groups.into_iter().flat_map(|(group, rows)| {
        rows.iter().map(move |row| {
            vec![
                group.to_owned(),
                row.key.clone(),
                row.name.clone().unwrap_or_default(),
                row.category.clone().unwrap_or_default(),
                row.claims.to_string(),
                row.units_sold.to_string(),
                optional(row.claim_rate, 6),
                optional(row.category_rate, 6),
                row.flagged.to_string(),
            ]
        })
    });
    table(
        &[
            "group",
            "key",
            "name",
            "category",
            "claims",
            "units_sold",
            "claim_rate",
            "category_rate",
            "flagged",
        ],
        defects.chain(rates),
    )
}

/// The delivery report's courier days, one line each.
pub fn delivery_csv(report: &DeliveryReport) -> ApiResult<String> {
    table(
        &[
            "date",
            "courier_id",
            "courier",
            "visits",
            "done",
            "km",
            "hours",
            "cost",
        ],
        report.couriers.iter().map(|day| {
            vec![
                day.date.to_string(),
                day.courier_id.0.to_string(),
                day.name.clone(),
                day.visits.to_string(),
                day.done.to_string(),
                format!("{:.3}", day.km),
                format!("{:.3}", day.hours),
                format!("{:.2}", day.cost),
            ]
        }),
    )
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// Filed, decided and closed claims per period.
pub fn claims_svg(
    report: &ClaimsReport,
    templates: &Templates,
    locale: Locale,
) -> ApiResult<String> {
    let words = templates.chart_words(
        "claims",
        locale,
        &["title", "y", "filed", "decided", "closed", "note"],
        &json!({
            "from": day(report.from),
            "to": day(report.to),
            "group_by": report.group_by.as_str(),
            "median": report.hours_to_decision.median.map(|h| format!("{h:.1}")),
            "p90": report.hours_to_decision.p90.map(|h| format!("{h:.1}")),
        }),
    )?;
    let series = |name: &str, value: fn(&super::Counts) -> usize| Series {
        name: name.to_owned(),
        values: report
            .periods
            .iter()
            .map(|p| value(&p.counts) as f64)
            .collect(),
    };
    let categories = report
        .periods
        .iter()
        .map(|p| match report.group_by {
            Period::Month => p.start.format("%Y-%m").to_string(),
            _ => p.start.to_string(),
        })
        .collect();
    Ok(charts::bars(&Bars {
        title: &words[0],
        y_label: &words[1],
        categories,
        series: vec![
            series(&words[2], |c| c.filed),
            series(&words[3], |c| c.decided),
            series(&words[4], |c| c.closed),
        ],
        alert: Vec::new(),
        note: Some(&words[5]),
    })?)
}

/// The claim rate of each sale batch, flagged ones in the alert colour.
pub fn defects_svg(
    report: &DefectsReport,
    templates: &Templates,
    locale: Locale,
) -> ApiResult<String> {
    let words = templates.chart_words(
        "defects",
        locale,
        &["title", "y", "note"],
        &json!({
            "from": day(report.from),
            "to": day(report.to),
            "factor": report.flag_factor,
            "min_claims": report.flag_min_claims,
        }),
    )?;
    let batches: Vec<&RateRow> = report.by_batch.iter().take(CHART_BATCHES).collect();
    Ok(charts::bars(&Bars {
        title: &words[0],
        y_label: &words[1],
        categories: batches.iter().map(|b| b.key.clone()).collect(),
        series: vec![Series {
            name: words[1].clone(),
            values: batches
                .iter()
                .map(|b| b.claim_rate.unwrap_or(0.0))
                .collect(),
        }],
        alert: batches.iter().map(|b| b.flagged).collect(),
        note: Some(&words[2]),
    })?)
}

/// Done and failed visits per day.
pub fn delivery_svg(
    report: &DeliveryReport,
    templates: &Templates,
    locale: Locale,
) -> ApiResult<String> {
    let words = templates.chart_words(
        "delivery",
        locale,
        &["title", "y", "done", "failed", "note"],
        &json!({
            "from": day(report.from),
            "to": day(report.to),
            "on_time": report.on_time_pct.map(|p| format!("{p:.1}")),
            "cost": format!("{:.2}", report.cost),
        }),
    )?;
    Ok(charts::bars(&Bars {
        title: &words[0],
        y_label: &words[1],
        categories: report.days.iter().map(|d| d.date.to_string()).collect(),
        series: vec![
            Series {
                name: words[2].clone(),
                values: report.days.iter().map(|d| d.done as f64).collect(),
            },
            Series {
                name: words[3].clone(),
                values: report.days.iter().map(|d| d.failed as f64).collect(),
            },
        ],
        alert: Vec::new(),
        note: Some(&words[4]),
    })?)
}
