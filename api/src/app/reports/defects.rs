//! `GET /reports/defects`: which products fail, and where a series or a production batch
//! fails far more often than its product category (the systematic problems the quality
//! department must see). Counts come from two grouped queries (claims filed in the period,
//! units sold in it); rates, flags and the time to failure are computed here.
//!
//! A claim rate is the claims filed in the period per unit sold in the period. A series or
//! a batch is flagged when its rate is at least [`FLAG_FACTOR`] times its category's and it
//! has at least [`FLAG_MIN_CLAIMS`] claims (one unlucky claim is not a pattern).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::stats;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{reports, DbConnection};
use crate::error::ApiResult;

pub const FLAG_FACTOR: f64 = 2.0;
pub const FLAG_MIN_CLAIMS: i64 = 3;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DefectRow {
    pub defect: String,
    pub claims: i64,
}

/// Claims and units of one product, series, batch or category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateRow {
    /// The SKU, series name, batch id or category.
    pub key: String,
    /// The product's name (products only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The product category it belongs to (absent for categories themselves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Claims filed in the period.
    pub claims: i64,
    /// Units sold in the period.
    pub units_sold: i64,
    /// Claims per unit sold; absent when none were sold in the period.
    pub claim_rate: Option<f64>,
    /// The category's claim rate, for comparison (series and batches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_rate: Option<f64>,
    /// Fails far more often than its category (series and batches).
    pub flagged: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailureAge {
    pub series: String,
    /// Claims whose sale is known.
    pub claims: usize,
    /// Mean days from the sale to the claim (mean time between failures in the field).
    pub mean_days_to_failure: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DefectsReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Claims filed in the period.
    pub claims: i64,
    pub by_defect: Vec<DefectRow>,
    pub by_category: Vec<RateRow>,
    pub by_product: Vec<RateRow>,
    pub by_series: Vec<RateRow>,
    pub by_batch: Vec<RateRow>,
    pub time_to_failure: Vec<FailureAge>,
    /// The rule for `flagged`: rate at least this many times the category's...
    pub flag_factor: f64,
    /// ...with at least this many claims.
    pub flag_min_claims: i64,
}

#[derive(Default)]
struct Tally {
    name: Option<String>,
    category: Option<String>,
    claims: i64,
    units: i64,
}

/// Adds (claims, units) to the row of `key`, if there is a key.
fn add<'a>(
    map: &'a mut BTreeMap<String, Tally>,
    key: Option<&String>,
    category: &str,
    (claims, units): (i64, i64),
) -> Option<&'a mut Tally> {
    let tally = map.entry(key?.clone()).or_default();
    tally.category.get_or_insert_with(|| category.to_owned());
    tally.claims += claims;
    tally.units += units;
    Some(tally)
}

fn rate(claims: i64, units: i64) -> Option<f64> {
    (units > 0).then(|| claims as f64 / units as f64)
}

fn rows(
    tallies: BTreeMap<String, Tally>,
    categories: Option<&BTreeMap<String, Tally>>,
) -> Vec<RateRow> {
    let mut out: Vec<RateRow> = tallies
        .into_iter()
        .map(|(key, t)| {
            let claim_rate = rate(t.claims, t.units);
            let category_rate = categories.and_then(|c| {
                let of = c.get(t.category.as_deref()?)?;
                rate(of.claims, of.units)
            });
            let flagged = match (claim_rate, category_rate) {
                (Some(own), Some(base)) => {
                    t.claims >= FLAG_MIN_CLAIMS && own >= FLAG_FACTOR * base && own > 0.0
                }
                _ => false,
            };
            RateRow {
                key,
                name: t.name,
                category: t.category,
                claims: t.claims,
                units_sold: t.units,
                claim_rate,
                category_rate,
                flagged,
            }
        })
        .collect();
    // Most claims first; the key keeps equal counts in a stable order.
    out.sort_by(|a, b| b.claims.cmp(&a.claims).then_with(|| a.key.cmp(&b.key)));
    out
}

pub fn defects(
    conn: &mut DbConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<DefectsReport> {
    let (start, end) = (from.naive_utc(), to.naive_utc());
    let claimed = reports::claims_by_defect(conn, start, end)?;
    // Sales are dated by day: the days the period touches.
    let last_day = (end - chrono::Duration::milliseconds(1)).date();
    let sold = reports::units_sold(conn, start.date(), last_day + chrono::Duration::days(1))?;
    let ages = reports::failure_ages(conn, start, end)?;

    let mut by_defect: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_product: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_series: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_batch: BTreeMap<String, Tally> = BTreeMap::new();
    let mut claims = 0;
    for row in &claimed {
        claims += row.claims;
        *by_defect.entry(row.defect.clone()).or_default() += row.claims;
        let Some(category) = &row.category else {
            continue;
        };
        add(&mut by_category, Some(category), category, (row.claims, 0));
        add(&mut by_product, row.sku.as_ref(), category, (row.claims, 0));
        add(
            &mut by_series,
            row.series.as_ref(),
            category,
            (row.claims, 0),
        );
        add(&mut by_batch, row.batch.as_ref(), category, (row.claims, 0));
    }
    for row in &sold {
        let category = &row.category;
        add(&mut by_category, Some(category), category, (0, row.units));
        if let Some(product) = add(&mut by_product, Some(&row.sku), category, (0, row.units)) {
            product.name.get_or_insert_with(|| row.name.clone());
        }
        add(
            &mut by_series,
            row.series.as_ref(),
            category,
            (0, row.units),
        );
        add(&mut by_batch, row.batch.as_ref(), category, (0, row.units));
    }

    let mut days: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for (series, filed_at, sold_at) in ages {
        let Some(series) = series else { continue };
        let sold_midnight = sold_at.and_hms_opt(0, 0, 0).unwrap_or_default();
        let entry = days.entry(series).or_default();
        entry.0 += 1;
        entry.1 += stats::hours(sold_midnight, filed_at).max(0.0) / 24.0;
    }

    let series = rows(by_series, Some(&by_category));
    let batches = rows(by_batch, Some(&by_category));
    let products = rows(by_product, None);
    let mut categories = rows(by_category, None);
    for c in &mut categories {
        c.category = None;
    }
    let mut by_defect: Vec<DefectRow> = by_defect
        .into_iter()
        .map(|(defect, claims)| DefectRow { defect, claims })
        .collect();
    by_defect.sort_by(|a, b| {
        b.claims
            .cmp(&a.claims)
            .then_with(|| a.defect.cmp(&b.defect))
    });
    Ok(DefectsReport {
        from,
        to,
        claims,
        by_defect,
        by_category: categories,
        by_product: products,
        by_series: series,
        by_batch: batches,
        time_to_failure: days
            .into_iter()
            .map(|(series, (n, total))| FailureAge {
                series,
                claims: n,
                mean_days_to_failure: total / n as f64,
            })
            .collect(),
        flag_factor: FLAG_FACTOR,
        flag_min_claims: FLAG_MIN_CLAIMS,
    })
}
