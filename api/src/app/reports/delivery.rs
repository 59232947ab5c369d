//! `GET /reports/delivery`: the visits of the published plans of a period and how they
//! went (done, failed and why, started inside the promised window or how late), the
//! couriers' planned kilometres and hours per day, and what the courier part of a claim
//! cost: the logistics cost of warranty, joined to the claim.
//!
//! A visit started on time when the courier arrived before its window closed (he waits
//! for an early window, so service starts inside it); without a window any time is on
//! time. Cost: each route's kilometres and hours are priced by `COURIER_COST_PER_KM` and
//! `COURIER_COST_PER_HOUR` and shared among its visits. A visit carries the leg that leads
//! to it and the time from the previous departure to its own; what serves no one visit
//! (the way back to the depot, the break) is shared evenly. So the claims' costs add up to
//! the routes' costs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use domain::dispatch::CourierEvent;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::plans::input::haversine_m;
use crate::app::plans::solution::LoadedPlan;
use crate::app::plans::view::{self, PlanRoute};
use crate::db::reports::JobClaim;
use crate::db::types::{ClaimId, CourierId, JobId, TimeWindow};
use crate::db::{plans, reports, visits, DbConnection};
use crate::error::ApiResult;

/// What a courier's kilometre and hour cost.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub per_km: f64,
    pub per_hour: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailReason {
    pub reason: String,
    pub visits: usize,
}

/// One courier's day, as planned.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourierDay {
    pub date: NaiveDate,
    #[schema(value_type = i64)]
    pub courier_id: CourierId,
    pub name: String,
    pub visits: usize,
    pub done: usize,
    pub km: f64,
    pub hours: f64,
    pub cost: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayRow {
    pub date: NaiveDate,
    pub routes: usize,
    pub visits: usize,
    pub done: usize,
    pub failed: usize,
    pub km: f64,
    pub hours: f64,
    pub cost: f64,
}

/// The courier cost of the claims of one remedy or one product.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostRow {
    /// The remedy (`replacement`, `refund`, `repair`) or the SKU.
    pub key: String,
    pub claims: usize,
    pub visits: usize,
    pub cost: f64,
    pub cost_per_claim: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Visits in the published plans of the days in the range.
    pub planned: usize,
    pub done: usize,
    pub failed: usize,
    pub failed_by_reason: Vec<FailReason>,
    /// Done visits started inside their window, and their share of the done visits whose
    /// arrival was reported (%).
    pub on_time: usize,
    pub on_time_pct: Option<f64>,
    /// Done visits started after their window closed, and by how much on average.
    pub late: usize,
    pub mean_minutes_late: Option<f64>,
    pub km: f64,
    pub hours: f64,
    pub cost: f64,
    pub cost_per_km: f64,
    pub cost_per_hour: f64,
    pub days: Vec<DayRow>,
    pub couriers: Vec<CourierDay>,
    pub cost_by_remedy: Vec<CostRow>,
    pub cost_by_product: Vec<CostRow>,
}

/// The claims' costs summed per key (a remedy, a product); claims without one are left out.
fn cost_rows(
    claim_cost: &HashMap<ClaimId, (f64, usize)>,
    claims: &HashMap<ClaimId, &JobClaim>,
    key_of: impl Fn(&JobClaim) -> Option<String>,
) -> Vec<CostRow> {
    let mut rows: BTreeMap<String, (BTreeSet<ClaimId>, usize, f64)> = BTreeMap::new();
    for (claim, (cost, visits)) in claim_cost {
        let Some(key) = claims.get(claim).and_then(|c| key_of(c)) else {
            continue;
        };
        let row = rows.entry(key).or_default();
        row.0.insert(*claim);
        row.1 += visits;
        row.2 += cost;
    }
    rows.into_iter()
        .map(|(key, (claims, visits, cost))| CostRow {
            key,
            claims: claims.len(),
            visits,
            cost,
            cost_per_claim: cost / claims.len().max(1) as f64,
        })
        .collect()
}

/// How late a courier who arrived `at` started the service: `None` when he arrived before
/// one of the windows closed (he waits for its start if early), else the minutes past the
/// last window's end. No window: any time is on time.
pub fn minutes_late(at: DateTime<Utc>, windows: &[TimeWindow]) -> Option<f64> {
    let close = windows.iter().map(|w| w.end).max()?;
    (at > close).then(|| (at - close).num_milliseconds() as f64 / 60_000.0)
}

/// A visit's share of its route: kilometres and hours.
fn shares(route: &PlanRoute) -> Vec<(Option<JobId>, f64, f64)> {
    let total_m = route.distance_m;
    let total_h = (route.end_at - route.start_at).num_milliseconds() as f64 / 3.6e6;
    let mut here = (route.start.lat, route.start.lon);
    let mut last_departure = route.start_at;
    let mut own: Vec<(Option<JobId>, f64, f64)> = Vec::new();
    for stop in &route.stops {
        let departure = stop.departure_at.unwrap_or(last_departure);
        let hours = (departure - last_departure).num_milliseconds() as f64 / 3.6e6;
        last_departure = departure;
        if stop.job_id.is_none() {
            // A break serves no visit: its time joins the shared remainder.
            continue;
        }
        let leg = haversine_m(here.0, here.1, stop.lat, stop.lon);
        here = (stop.lat, stop.lon);
        own.push((stop.job_id, leg, hours));
    }
    if own.is_empty() {
        return Vec::new();
    }
    let legs: f64 = own.iter().map(|s| s.1).sum::<f64>()
        + haversine_m(here.0, here.1, route.end.lat, route.end.lon);
    let attributed_h: f64 = own.iter().map(|s| s.2).sum();
    let n = own.len() as f64;
    // The planner's distance is the road estimate; legs only give the proportions.
    let (spare_m, spare_h) = if legs > 0.0 {
        (
            total_m * (1.0 - own.iter().map(|s| s.1).sum::<f64>() / legs) / n,
            (total_h - attributed_h).max(0.0) / n,
        )
    } else {
        (total_m / n, (total_h - attributed_h).max(0.0) / n)
    };
    own.into_iter()
        .map(|(job, leg, hours)| {
            let metres = if legs > 0.0 {
                total_m * leg / legs
            } else {
                0.0
            };
            (job, (metres + spare_m) / 1000.0, hours + spare_h)
        })
        .collect()
}

pub fn delivery(
    conn: &mut DbConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    rates: Rates,
) -> ApiResult<DeliveryReport> {
    let first_day = from.date_naive();
    let last_day = (to - chrono::Duration::milliseconds(1)).date_naive();
    let published =
        plans::published_between(conn, first_day, last_day + chrono::Duration::days(1))?;
    let mut routes: Vec<(NaiveDate, PlanRoute)> = Vec::new();
    for plan in &published {
        let loaded = LoadedPlan::load(conn, plan)?;
        let view = view::routes(conn, plan, &loaded)?;
        routes.extend(view.routes.into_iter().map(|r| (plan.date, r)));
    }
    let job_ids: Vec<JobId> = routes
        .iter()
        .flat_map(|(_, r)| r.stops.iter().filter_map(|s| s.job_id))
        .collect();
    // The last arrival, completion or failure reported for each job.
    let mut arrived: HashMap<JobId, DateTime<Utc>> = HashMap::new();
    let mut completed: HashMap<JobId, DateTime<Utc>> = HashMap::new();
    let mut failed_why: HashMap<JobId, Option<String>> = HashMap::new();
    for report in visits::outcomes(conn, &job_ids)? {
        let (job, at) = (report.job_id, report.at.and_utc());
        match report.kind.0 {
            CourierEvent::Arrived => {
                arrived.insert(job, at);
            }
            CourierEvent::Completed => {
                completed.insert(job, at);
            }
            CourierEvent::Failed => {
                failed_why.insert(job, report.reason);
            }
            CourierEvent::Departed => {}
        }
    }
    let claim_of: HashMap<JobId, JobClaim> = reports::claims_of_jobs(conn, &job_ids)?
        .into_iter()
        .map(|c| (c.job_id, c))
        .collect();

    let (mut planned, mut done, mut failed, mut on_time) = (0, 0, 0, 0);
    let mut late_minutes: Vec<f64> = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut days: BTreeMap<NaiveDate, DayRow> = BTreeMap::new();
    let mut couriers = Vec::new();
    let mut claim_cost: HashMap<ClaimId, (f64, usize)> = HashMap::new();
    let (mut km, mut hours) = (0.0, 0.0);
    for (date, route) in &routes {
        let visits: Vec<_> = route.stops.iter().filter(|s| s.job_id.is_some()).collect();
        if visits.is_empty() {
            continue;
        }
        let route_km = route.distance_m / 1000.0;
        let route_h = (route.end_at - route.start_at).num_milliseconds() as f64 / 3.6e6;
        let route_cost = route_km * rates.per_km + route_h * rates.per_hour;
        let (mut route_done, mut route_failed) = (0, 0);
        for stop in &visits {
            let Some(job) = stop.job_id else { continue };
            planned += 1;
            match stop.outcome.as_deref() {
                Some("done") => {
                    done += 1;
                    route_done += 1;
                    let Some(at) = arrived.get(&job).or_else(|| completed.get(&job)) else {
                        continue;
                    };
                    match minutes_late(*at, &stop.windows) {
                        Some(minutes) => late_minutes.push(minutes),
                        None => on_time += 1,
                    }
                }
                Some("failed") => {
                    failed += 1;
                    route_failed += 1;
                    let why = failed_why
                        .get(&job)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "unknown".to_owned());
                    *reasons.entry(why).or_default() += 1;
                }
                _ => {}
            }
        }
        for (job, share_km, share_h) in shares(route) {
            let Some(claim) = job.and_then(|j| claim_of.get(&j)) else {
                continue;
            };
            let entry = claim_cost.entry(claim.claim_id).or_default();
            entry.0 += share_km * rates.per_km + share_h * rates.per_hour;
            entry.1 += 1;
        }
        km += route_km;
        hours += route_h;
        let day = days.entry(*date).or_insert_with(|| DayRow {
            date: *date,
            routes: 0,
            visits: 0,
            done: 0,
            failed: 0,
            km: 0.0,
            hours: 0.0,
            cost: 0.0,
        });
        day.routes += 1;
        day.visits += visits.len();
        day.done += route_done;
        day.failed += route_failed;
        day.km += route_km;
        day.hours += route_h;
        day.cost += route_cost;
        couriers.push(CourierDay {
            date: *date,
            courier_id: route.courier_id,
            name: route.courier_name.clone(),
            visits: visits.len(),
            done: route_done,
            km: route_km,
            hours: route_h,
            cost: route_cost,
        });
    }

    // Claims grouped by remedy and by product, each claim once per group.
    let claims_meta: HashMap<ClaimId, &JobClaim> =
        claim_of.values().map(|c| (c.claim_id, c)).collect();
    let cost_by_remedy = cost_rows(&claim_cost, &claims_meta, |c| c.remedy.clone());
    let cost_by_product = cost_rows(&claim_cost, &claims_meta, |c| c.sku.clone());
    let late = late_minutes.len();
    Ok(DeliveryReport {
        from,
        to,
        planned,
        done,
        failed,
        failed_by_reason: reasons
            .into_iter()
            .map(|(reason, visits)| FailReason { reason, visits })
            .collect(),
        on_time,
        on_time_pct: (on_time + late > 0).then(|| on_time as f64 * 100.0 / (on_time + late) as f64),
        late,
        mean_minutes_late: (late > 0).then(|| late_minutes.iter().sum::<f64>() / late as f64),
        km,
        hours,
        cost: km * rates.per_km + hours * rates.per_hour,
        cost_per_km: rates.per_km,
        cost_per_hour: rates.per_hour,
        days: days.into_values().collect(),
        couriers,
        cost_by_remedy,
        cost_by_product,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_visit_is_late_only_after_every_window_closed() {
        let windows = [
            TimeWindow {
                start: at("2026-12-04T09:00:00Z"),
                end: at("2026-12-04T11:00:00Z"),
            },
            TimeWindow {
                start: at("2026-12-04T14:00:00Z"),
                end: at("2026-12-04T16:00:00Z"),
            },
        ];
        // Early: he waits for the window, service starts inside it.
        assert_eq!(minutes_late(at("2026-12-04T08:30:00Z"), &windows), None);
        // Between the windows: the afternoon one is still ahead.
        assert_eq!(minutes_late(at("2026-12-04T12:00:00Z"), &windows), None);
        assert_eq!(minutes_late(at("2026-12-04T16:00:00Z"), &windows), None);
        assert_eq!(
            minutes_late(at("2026-12-04T16:45:00Z"), &windows),
            Some(45.0)
        );
        assert_eq!(minutes_late(at("2026-12-05T03:00:00Z"), &[]), None);
    }
}
