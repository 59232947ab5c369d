//! What dispatchers read about a plan's routes: JSON, or GeoJSON (RFC 7946) for a map.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::input::instant;
use super::solution::{job_index, LoadedPlan};
use crate::db::plans::PlanRow;
use crate::db::types::{CourierId, JobId, PlanId, TimeWindow};
use crate::db::{fleet, jobs, DbConnection};
use crate::error::ApiResult;

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanRoutes {
    pub plan_id: PlanId,
    pub status: String,
    pub version: i32,
    pub date: NaiveDate,
    /// One per courier on shift, idle ones with no stops.
    pub routes: Vec<PlanRoute>,
    pub unassigned: Vec<UnassignedJob>,
}

/// A courier's route in a plan, as dispatchers review it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanRoute {
    pub courier_id: CourierId,
    pub courier_name: String,
    pub start: Point,
    pub end: Point,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// Back at the depot as now estimated, once the day is under way.
    pub eta_end_at: Option<DateTime<Utc>>,
    /// Visits of this route whose estimate passes their window.
    pub delayed: usize,
    pub distance_km: f64,
    /// Exact, as the planner computed it (road metres).
    pub distance_m: f64,
    /// Route-level problems (over capacity at departure, shift overrun...).
    #[schema(value_type = Vec<Object>)]
    pub violations: Value,
    pub stops: Vec<PlanStop>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanStop {
    pub seq: i32,
    /// `job` or `break`.
    pub kind: &'static str,
    pub job_id: Option<JobId>,
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
    /// The current arrival estimate beside the planned one (live ETAs, published plans
    /// under way): re-timed from the courier's reports and positions while the visit is
    /// ahead; absent while it keeps to the plan (within a minute).
    pub eta_at: Option<DateTime<Utc>>,
    /// The estimate passes the end of the promised window (less the margin): the visit
    /// will be late unless something changes.
    pub delayed: bool,
    /// Units on board after the stop.
    pub load: i32,
    pub locked: bool,
    #[schema(value_type = Vec<Object>)]
    pub violations: Value,
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnassignedJob {
    pub job_id: JobId,
    pub job_kind: Option<String>,
    pub claim_number: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// `skills`, `time_window`, `capacity`, `no_room`, `fixed`, `no_window_today` or
    /// `unassigned_by_dispatcher`.
    pub reason: String,
}

fn list(violations: &[planner::RouteViolation]) -> Value {
    serde_json::to_value(violations).unwrap_or_else(|_| json!([]))
}

pub fn routes(
    conn: &mut DbConnection,
    plan: &PlanRow,
    loaded: &LoadedPlan,
) -> ApiResult<PlanRoutes> {
    let job_ids: Vec<JobId> = loaded.stops.iter().filter_map(|s| s.job_id).collect();
    let job_rows: HashMap<JobId, jobs::JobRow> = jobs::by_ids(conn, &job_ids)?
        .into_iter()
        .map(|j| (j.id, j))
        .collect();
    let numbers: HashMap<JobId, String> =
        jobs::claim_numbers(conn, &job_ids)?.into_iter().collect();
    let courier_ids: Vec<CourierId> = loaded.routes.iter().map(|r| r.courier_id).collect();
    let names: HashMap<CourierId, String> = fleet::courier_names(conn, &courier_ids)?
        .into_iter()
        .collect();
    let index = job_index(&loaded.problem);
    let origin = loaded.origin;
    let windows_of = |job_id: JobId| -> Vec<TimeWindow> {
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
            stops.push(PlanStop {
                seq: stop.seq,
                kind: if stop.job_id.is_some() {
                    "job"
                } else {
                    "break"
                },
                job_id: stop.job_id,
                job_kind: job.map(|j| j.kind.as_str().to_owned()),
                claim_number: stop.job_id.and_then(|id| numbers.get(&id).cloned()),
                address: job.map(|j| j.address.clone()),
                lat: here.lat,
                lon: here.lon,
                windows: stop.job_id.map(windows_of).unwrap_or_default(),
                arrival_at: stop.arrival_at.map(|t| t.and_utc()),
                start_at: stop.start_at.map(|t| t.and_utc()),
                departure_at: stop.departure_at.map(|t| t.and_utc()),
                eta_at: stop.eta_at.map(|t| t.and_utc()),
                delayed: stop.delayed,
                load: stop.load,
                locked: stop.locked,
                violations: list(&stop.violations),
                outcome: stop.outcome.clone(),
            });
        }
        routes.push(PlanRoute {
            courier_id: row.courier_id,
            courier_name: names.get(&row.courier_id).cloned().unwrap_or_default(),
            start,
            end,
            start_at: row.start_at.and_utc(),
            end_at: row.end_at.and_utc(),
            eta_end_at: row.eta_end_at.map(|t| t.and_utc()),
            delayed: stops.iter().filter(|s| s.delayed).count(),
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
            Some(UnassignedJob {
                job_id: id,
                job_kind: job.map(|j| j.kind.as_str().to_owned()),
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
        status: plan.status.as_str().to_owned(),
        version: plan.version,
        date: plan.date,
        routes,
        unassigned,
    })
}

/// An RFC 7946 FeatureCollection: the routes of a plan for a map.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeatureCollection {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub features: Vec<Feature>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Feature {
    /// `Feature`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub geometry: Geometry,
    /// A route's courier, times and distance; a stop's fields as in JSON; an unassigned
    /// job's fields with `unassigned: true`.
    #[schema(value_type = Object)]
    pub properties: Value,
}

/// A `Point` (`[lon, lat]`) or a `LineString` (a list of them).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Geometry {
    /// `Point` or `LineString`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    #[schema(schema_with = coordinates_schema)]
    pub coordinates: Value,
}

/// `[lon, lat]` for a Point, a list of those for a LineString.
fn coordinates_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, SchemaType, Type};
    let position = || {
        ArrayBuilder::new()
            .items(utoipa::openapi::ObjectBuilder::new().schema_type(SchemaType::new(Type::Number)))
            .min_items(Some(2))
            .max_items(Some(3))
            .build()
    };
    utoipa::openapi::schema::Schema::OneOf(
        OneOfBuilder::new()
            .item(position())
            .item(
                ArrayBuilder::new()
                    .items(utoipa::openapi::schema::ArrayItems::RefOrSchema(Box::new(
                        position().into(),
                    )))
                    .min_items(Some(2))
                    .build(),
            )
            .build(),
    )
}

fn feature(geometry: Geometry, properties: Value) -> Feature {
    Feature {
        type_: "Feature",
        geometry,
        properties,
    }
}

fn point(lon: f64, lat: f64) -> Geometry {
    Geometry {
        type_: "Point",
        coordinates: json!([lon, lat]),
    }
}

/// The routes as a FeatureCollection: a LineString per route (depot, stops, depot) and a
/// Point per stop and per unassigned job, with the same properties as JSON.
pub fn geojson(view: &PlanRoutes) -> FeatureCollection {
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
        features.push(feature(
            Geometry {
                type_: "LineString",
                coordinates: Value::Array(line),
            },
            json!({
                "courier_id": route.courier_id,
                "courier_name": route.courier_name,
                "start_at": route.start_at,
                "end_at": route.end_at,
                "distance_km": route.distance_km,
                "stops": route.stops.iter().filter(|s| s.kind == "job").count(),
                "violations": route.violations,
            }),
        ));
        for stop in route.stops.iter().filter(|s| s.kind == "job") {
            let mut properties = serde_json::to_value(stop).unwrap_or_else(|_| json!({}));
            properties["courier_id"] = json!(route.courier_id);
            features.push(feature(point(stop.lon, stop.lat), properties));
        }
    }
    for job in &view.unassigned {
        let (Some(lat), Some(lon)) = (job.lat, job.lon) else {
            continue;
        };
        let mut properties = serde_json::to_value(job).unwrap_or_else(|_| json!({}));
        properties["unassigned"] = json!(true);
        features.push(feature(point(lon, lat), properties));
    }
    FeatureCollection {
        type_: "FeatureCollection",
        features,
    }
}
