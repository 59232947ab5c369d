//! What dispatchers read about a plan's routes: JSON, or GeoJSON (RFC 7946) for a map.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::input::instant;
use super::solution::{job_index, LoadedPlan};
use crate::db::plans::PlanRow;
use crate::db::{fleet, jobs, DbConnection};
use crate::error::ApiResult;
use crate::workflow::TimeWindow;

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanRoutes {
    pub plan_id: i64,
    pub status: String,
    pub version: i32,
    pub date: NaiveDate,
    /// One per courier on shift, idle ones with no stops.
    pub routes: Vec<RouteView>,
    pub unassigned: Vec<UnassignedView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteView {
    pub courier_id: i64,
    pub courier_name: String,
    pub start: Point,
    pub end: Point,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub distance_km: f64,
    /// Exact, as the planner computed it (road metres).
    pub distance_m: f64,
    /// Route-level problems (over capacity at departure, shift overrun...).
    #[schema(value_type = Vec<Object>)]
    pub violations: Value,
    pub stops: Vec<StopView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StopView {
    pub seq: i32,
    /// `job` or `break`.
    pub kind: &'static str,
    pub job_id: Option<i64>,
    pub job_kind: Option<String>,
    pub claim_number: Option<String>,
    pub address: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// The windows the visit was planned in (the customer's slots within depot hours).
    pub windows: Vec<TimeWindow>,
    pub arrival_at: Option<DateTime<Utc>>,
    pub start_at: Option<DateTime<Utc>>,
    pub departure_at: Option<DateTime<Utc>>,
    /// Units on board after the stop.
    pub load: i32,
    pub locked: bool,
    #[schema(value_type = Vec<Object>)]
    pub violations: Value,
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnassignedView {
    pub job_id: i64,
    pub job_kind: Option<String>,
    pub claim_number: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// `skills`, `time_window`, `capacity`, `no_room`, `fixed`, `no_window_today` or
    /// `unassigned_by_dispatcher`.
    pub reason: String,
}

fn list(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| json!([]))
}

pub fn routes(conn: &mut DbConnection, plan: &PlanRow) -> ApiResult<PlanRoutes> {
    let loaded = LoadedPlan::load(conn, plan)?;
    let job_ids: Vec<i64> = loaded.stops.iter().filter_map(|s| s.job_id).collect();
    let job_rows: HashMap<i64, jobs::JobRow> = jobs::by_ids(conn, &job_ids)?
        .into_iter()
        .map(|j| (j.id, j))
        .collect();
    let numbers: HashMap<i64, String> = jobs::claim_numbers(conn, &job_ids)?.into_iter().collect();
    let courier_ids: Vec<i64> = loaded.routes.iter().map(|r| r.courier_id).collect();
    let names: HashMap<i64, String> = fleet::courier_names(conn, &courier_ids)?
        .into_iter()
        .collect();
    let index = job_index(&loaded.problem);
    let origin = loaded.origin;
    let windows_of = |job_id: i64| -> Vec<TimeWindow> {
        index
            .get(&job_id)
            .and_then(|&j| loaded.problem.jobs.get(j))
            .map(|job| {
                job.time_windows
                    .iter()
                    .map(|w| TimeWindow {
                        start: instant(origin, w.start),
                        end: instant(origin, w.end),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };

    let mut routes = Vec::with_capacity(loaded.routes.len());
    for row in &loaded.routes {
        let vehicle = loaded
            .problem
            .vehicles
            .get(usize::try_from(row.vehicle).unwrap_or(usize::MAX));
        let start = vehicle.map_or(Point { lat: 0.0, lon: 0.0 }, |v| Point {
            lat: v.start.lat,
            lon: v.start.lon,
        });
        let end = vehicle.map_or(start, |v| Point {
            lat: v.end.lat,
            lon: v.end.lon,
        });
        let mut here = start;
        let mut stops = Vec::new();
        for stop in loaded.stops_of(row.id) {
            let job = stop.job_id.and_then(|id| job_rows.get(&id));
            if let Some(job) = job {
                here = Point {
                    lat: job.lat,
                    lon: job.lon,
                };
            }
            stops.push(StopView {
                seq: stop.seq,
                kind: if stop.job_id.is_some() {
                    "job"
                } else {
                    "break"
                },
                job_id: stop.job_id,
                job_kind: job.map(|j| j.kind.clone()),
                claim_number: stop.job_id.and_then(|id| numbers.get(&id).cloned()),
                address: job.map(|j| j.address.clone()),
                lat: here.lat,
                lon: here.lon,
                windows: stop.job_id.map(windows_of).unwrap_or_default(),
                arrival_at: stop.arrival_at.map(|t| t.and_utc()),
                start_at: stop.start_at.map(|t| t.and_utc()),
                departure_at: stop.departure_at.map(|t| t.and_utc()),
                load: stop.load,
                locked: stop.locked,
                violations: list(&stop.violations),
                outcome: stop.outcome.clone(),
            });
        }
        routes.push(RouteView {
            courier_id: row.courier_id,
            courier_name: names.get(&row.courier_id).cloned().unwrap_or_default(),
            start,
            end,
            start_at: row.start_at.and_utc(),
            end_at: row.end_at.and_utc(),
            distance_km: (row.distance_m / 10.0).round() / 100.0,
            distance_m: row.distance_m,
            violations: list(&row.violations),
            stops,
        });
    }
    let unassigned = loaded
        .unassigned()
        .filter_map(|s| {
            let id = s.job_id?;
            let job = job_rows.get(&id);
            Some(UnassignedView {
                job_id: id,
                job_kind: job.map(|j| j.kind.clone()),
                claim_number: numbers.get(&id).cloned(),
                address: job.map(|j| j.address.clone()),
                lat: job.map(|j| j.lat),
                lon: job.map(|j| j.lon),
                reason: s.reason.clone().unwrap_or_default(),
            })
        })
        .collect();
    Ok(PlanRoutes {
        plan_id: plan.id,
        status: plan.status.clone(),
        version: plan.version,
        date: plan.date,
        routes,
        unassigned,
    })
}

/// The routes as an RFC 7946 FeatureCollection: a LineString per route (depot, stops,
/// depot) and a Point per stop and per unassigned job, with the same properties as JSON.
pub fn geojson(view: &PlanRoutes) -> Value {
    let mut features = Vec::new();
    let position = |p: Point| json!([p.lon, p.lat]);
    for route in &view.routes {
        if route.stops.is_empty() {
            continue;
        }
        let mut line = vec![position(route.start)];
        line.extend(
            route
                .stops
                .iter()
                .filter(|s| s.kind == "job")
                .map(|s| json!([s.lon, s.lat])),
        );
        line.push(position(route.end));
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {
                "courier_id": route.courier_id,
                "courier_name": route.courier_name,
                "start_at": route.start_at,
                "end_at": route.end_at,
                "distance_km": route.distance_km,
                "stops": route.stops.iter().filter(|s| s.kind == "job").count(),
                "violations": route.violations,
            },
        }));
        for stop in route.stops.iter().filter(|s| s.kind == "job") {
            let mut properties = serde_json::to_value(stop).unwrap_or_else(|_| json!({}));
            properties["courier_id"] = json!(route.courier_id);
            features.push(json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [stop.lon, stop.lat]},
                "properties": properties,
            }));
        }
    }
    for job in &view.unassigned {
        let (Some(lat), Some(lon)) = (job.lat, job.lon) else {
            continue;
        };
        let mut properties = serde_json::to_value(job).unwrap_or_else(|_| json!({}));
        properties["unassigned"] = json!(true);
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": properties,
        }));
    }
    json!({"type": "FeatureCollection", "features": features})
}
