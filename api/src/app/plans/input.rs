//! The planner's problem for a plan: the day's jobs with the windows they may be visited in,
//! the couriers on shift, travel from configuration. Times are seconds from the plan's
//! origin (midnight UTC of its date).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::dispatch::{visit_windows, Span};
use domain::job::{JobStatus, Leg};
use domain::plan::PlanObjective;
use planner::{Break, Job, Location, Problem, TimeWindow, TravelSpec, Vehicle};

use crate::config::DispatchSettings;
use crate::db::fleet::{self, DepotRow};
use crate::db::jobs::{self, JobRow};
use crate::db::partners::{self, PartnerRow};
use crate::db::plans::{self, PlanRow};
use crate::db::types::{CourierId, JobId};
use crate::db::DbConnection;
use crate::error::ApiResult;

/// Why a job was not offered to the planner (shown like the planner's own reasons).
pub const NO_WINDOW_TODAY: &str = "no_window_today";
/// A shipment's leg whose other leg cannot be planned with it (no window today, or not due).
pub const OTHER_LEG_NOT_PLANNABLE: &str = "other_leg_not_plannable";
/// In a re-optimisation, a leg whose other leg is on a route under way (say, a hand-over
/// that failed after its pickup): the unit is on that courier's van until it is back at the
/// depot, so the next day's plan takes this leg, not another courier today.
pub const SHIPMENT_NEEDS_NEW_PLAN: &str = "shipment_needs_new_plan";

pub struct PlanInput {
    pub problem: Problem,
    pub origin: DateTime<Utc>,
    /// Jobs due but not offered to the planner, with the reason.
    pub skipped: Vec<(JobId, &'static str)>,
    /// Re-optimisation: the published routes to keep, per vehicle, as job indices.
    pub given: Vec<(usize, Vec<usize>)>,
    /// Stops locked to their courier in the published plan (they stay locked).
    pub locked: HashSet<JobId>,
    /// How kept visits ended, copied to the new plan's stops.
    pub outcomes: HashMap<JobId, String>,
    /// Shipments to plan as pairs. The problem holds each leg as a job of its own (every
    /// edit and re-timing works on that); the search gets them as `planner::Shipment`s
    /// (`shipments::with_shipments`).
    pub pairs: Vec<Pair>,
}

/// A shipment of a plan's problem: its legs' job indices and the load carried between.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub pickup: usize,
    pub delivery: usize,
    pub amount: Vec<i32>,
}

pub fn origin_of(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Seconds from `origin`.
pub fn seconds(origin: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    (at - origin).num_milliseconds() as f64 / 1000.0
}

/// The instant `secs` seconds after `origin`, to the millisecond.
pub fn instant(origin: DateTime<Utc>, secs: f64) -> DateTime<Utc> {
    origin + Duration::milliseconds((secs * 1000.0).round() as i64)
}

/// A depot's opening hours on `date`, in UTC, from its local hours and time zone.
pub fn opening_hours(depot: &DepotRow, date: NaiveDate) -> Span {
    local_hours(
        (depot.opens_minute, depot.closes_minute),
        &depot.time_zone,
        date,
    )
}

/// Opening hours on `date` in UTC, from minutes after local midnight in `time_zone`.
pub fn local_hours((opens, closes): (i32, i32), time_zone: &str, date: NaiveDate) -> Span {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local = |minute: i32| {
        let naive = date.and_time(chrono::NaiveTime::MIN) + Duration::minutes(minute.into());
        tz.from_local_datetime(&naive)
            .earliest()
            // A time skipped by a clock change: the hour after it.
            .or_else(|| {
                tz.from_local_datetime(&(naive + Duration::hours(1)))
                    .earliest()
            })
            .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
    };
    Span {
        start: local(opens),
        end: local(closes),
    }
}

/// The depot closest to a point (great-circle), which serves that address.
pub fn nearest_depot(depots: &[DepotRow], lat: f64, lon: f64) -> Option<&DepotRow> {
    depots.iter().min_by(|a, b| {
        let da = haversine_m(a.lat, a.lon, lat, lon);
        let db = haversine_m(b.lat, b.lon, lat, lon);
        da.total_cmp(&db)
    })
}

pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * a.sqrt().asin()
}

/// Road metres between two places (latitude, longitude) on the haversine estimate the
/// planner uses without a road table: great-circle distance x the detour.
pub fn road_m(settings: &DispatchSettings, from: (f64, f64), to: (f64, f64)) -> f64 {
    haversine_m(from.0, from.1, to.0, to.1) * settings.detour
}

/// Driving seconds between two places on the same estimate, at the configured speed.
pub fn drive_seconds(settings: &DispatchSettings, from: (f64, f64), to: (f64, f64)) -> f64 {
    road_m(settings, from, to) / (settings.speed_kmh / 3.6)
}

/// How much room a new day's plan keeps before each window's end: `base` seconds, plus
/// `growth` seconds per second of the day gone by since the first shift starts (a day's
/// delays add up leg after leg, so a visit late in a courier's day needs more room).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanBuffer {
    pub base: f64,
    pub growth: f64,
}

impl PlanBuffer {
    pub fn of(settings: &DispatchSettings) -> Self {
        Self {
            base: settings.plan_buffer.as_secs_f64(),
            growth: settings.plan_buffer_per_hour.as_secs_f64() / 3600.0,
        }
    }

    pub fn is_none(&self) -> bool {
        self.base <= 0.0 && self.growth <= 0.0
    }
}

/// The problem the planner searches for a new day: every window ends earlier by the
/// buffer (at most half of it), so each route keeps room for a day slower than the
/// estimate. With growth the room is that at the visit's start `t`: the latest start
/// solves `t = end - base - growth * (t - day_start)`, which depends on `t` alone, so the
/// window can be cut here and the search prices it exactly. The plan is stored and judged
/// against the promised windows.
pub fn with_buffer(problem: &Problem, buffer: PlanBuffer) -> Problem {
    let mut searched = problem.clone();
    let day_start = problem
        .vehicles
        .iter()
        .map(|v| v.shift.start)
        .fold(f64::INFINITY, f64::min);
    let (growth, day_start) = if day_start.is_finite() {
        (buffer.growth.max(0.0), day_start)
    } else {
        (0.0, 0.0)
    };
    let shrink = |windows: &mut Vec<TimeWindow>| {
        for w in windows {
            // Never less room than `base` (a start before the first shift would have).
            let latest = ((w.end - buffer.base + growth * day_start) / (1.0 + growth))
                .min(w.end - buffer.base);
            w.end -= (w.end - latest).min((w.end - w.start) / 2.0).max(0.0);
        }
    };
    for job in &mut searched.jobs {
        shrink(&mut job.time_windows);
    }
    for shipment in &mut searched.shipments {
        shrink(&mut shipment.pickup.time_windows);
        shrink(&mut shipment.delivery.time_windows);
    }
    searched
}

pub fn travel(settings: &DispatchSettings) -> TravelSpec {
    match &settings.osrm {
        Some((url, profile)) => TravelSpec::Osrm {
            url: url.clone(),
            profile: profile.clone(),
        },
        None => TravelSpec::Haversine {
            detour: settings.detour,
            speed: settings.speed_kmh / 3.6,
        },
    }
}

/// Reads everything a plan run needs in one go.
pub fn build(
    conn: &mut DbConnection,
    plan: &PlanRow,
    settings: &DispatchSettings,
) -> ApiResult<PlanInput> {
    let origin = origin_of(plan.date);
    let depots = fleet::list_depots(conn)?;
    let (mut vehicles, vehicle_of_courier) =
        couriers_on_shift(conn, plan.date, plan.depot_id, plan.objective, settings)?;

    // A re-optimisation keeps the published routes: visits under way or done and locked
    // stops (with everything before them) stay put; the rest keeps its order unless moved.
    let mut kept: Vec<JobRow> = Vec::new();
    let mut kept_routes: Vec<(usize, Vec<JobId>, usize)> = Vec::new();
    let mut locked = HashSet::new();
    let mut outcomes = HashMap::new();
    if let Some(source) = plan.reoptimizes_id {
        let routes = plans::routes(conn, source)?;
        let stops = plans::stops(conn, source)?;
        let job_ids: Vec<JobId> = stops.iter().filter_map(|s| s.job_id).collect();
        let rows: HashMap<JobId, JobRow> = jobs::by_ids(conn, &job_ids)?
            .into_iter()
            .map(|j| (j.id, j))
            .collect();
        for route in routes {
            let Some(&vehicle) = vehicle_of_courier.get(&route.courier_id) else {
                continue;
            };
            let mut sequence = Vec::new();
            let mut prefix = 0;
            for stop in stops.iter().filter(|s| s.route_id == Some(route.id)) {
                let Some(job) = stop.job_id.and_then(|id| rows.get(&id)) else {
                    continue;
                };
                if job.courier_id != Some(route.courier_id) {
                    continue; // failed and back in planning, or given to someone else
                }
                let status = job.status;
                let started = matches!(
                    status,
                    JobStatus::EnRoute | JobStatus::Arrived | JobStatus::Done
                );
                if status != JobStatus::Assigned && !started {
                    continue;
                }
                sequence.push(job.id);
                // A shipment's leg stays as published: the other leg is on this route too.
                if started || stop.locked || job.is_paired() {
                    prefix = sequence.len();
                }
                if stop.locked {
                    locked.insert(job.id);
                }
                if let Some(outcome) = &stop.outcome {
                    outcomes.insert(job.id, outcome.clone());
                }
                kept.push(job.clone());
            }
            kept_routes.push((vehicle, sequence, prefix));
        }
    }
    let kept_ids: HashSet<JobId> = kept.iter().map(|j| j.id).collect();
    let under_way: HashSet<JobId> = kept
        .iter()
        .filter(|j| j.status != JobStatus::Assigned)
        .map(|j| j.id)
        .collect();

    let mut candidates = kept;
    let mut by_partner = Vec::new();
    for job in jobs::unplanned_due(conn, plan.date)? {
        if kept_ids.contains(&job.id) {
            continue;
        }
        // A partner's leg (workshop, supplier) is in the plan of its customer's leg (decided
        // below).
        if job.partner_id.is_some() && job.is_paired() {
            by_partner.push(job);
            continue;
        }
        let home = nearest_depot(&depots, job.lat, job.lon);
        if plan.depot_id.is_some() && home.map(|d| d.id) != plan.depot_id {
            continue;
        }
        candidates.push(job);
    }
    // A partner's leg goes with its customer's leg, or alone (from this scope's depot) once
    // the other is done.
    let planned: HashSet<JobId> = candidates.iter().map(|j| j.id).collect();
    // The legs whose other leg is done (one read for the partners' legs and the rest).
    let done = done_among(
        conn,
        candidates
            .iter()
            .chain(&by_partner)
            .filter_map(|j| j.paired_job_id),
    )?;
    for job in by_partner {
        let other = job.paired_job_id.unwrap_or(job.id);
        let in_scope = plan.depot_id.is_none()
            || nearest_depot(&depots, job.lat, job.lon).map(|d| d.id) == plan.depot_id;
        if planned.contains(&other) || (done.contains(&other) && in_scope) {
            candidates.push(job);
        }
    }

    let ShipmentLegs {
        plannable: candidates,
        mut skipped,
        pairs: mut paired,
        kept_pairs,
    } = shipment_legs(candidates, &kept_ids, &done);
    let partners_by_id: HashMap<i64, PartnerRow> = partners::by_ids(
        conn,
        &candidates
            .iter()
            .filter_map(|j| j.partner_id)
            .collect::<Vec<_>>(),
    )?
    .into_iter()
    .map(|p| (p.id, p))
    .collect();

    // Each candidate's windows on the day first, so that a pair goes in whole or not at all.
    let whole_day = Span {
        start: origin,
        end: origin + Duration::days(1),
    };
    let mut windowed = Vec::with_capacity(candidates.len());
    for job in &candidates {
        let windows = if under_way.contains(&job.id) {
            Vec::new() // the visit is happening or happened: no window to meet any more
        } else {
            let open = match job.partner_id.and_then(|id| partners_by_id.get(&id)) {
                Some(p) => local_hours((p.opens_minute, p.closes_minute), &p.time_zone, plan.date),
                None => nearest_depot(&depots, job.lat, job.lon)
                    .map_or(whole_day, |d| opening_hours(d, plan.date)),
            };
            match visit_windows(&customer_slots(job), open) {
                Some(spans) => spans
                    .iter()
                    .map(|s| TimeWindow::new(seconds(origin, s.start), seconds(origin, s.end)))
                    .collect(),
                None => {
                    skipped.push((job.id, NO_WINDOW_TODAY));
                    continue;
                }
            }
        };
        windowed.push((job, windows));
    }
    let has_window: HashSet<JobId> = windowed.iter().map(|(j, _)| j.id).collect();
    let mut left_out = Vec::new();
    paired.retain(|&(pickup, delivery)| {
        match (has_window.contains(&pickup), has_window.contains(&delivery)) {
            (true, true) => return true,
            (true, false) => left_out.push(pickup),
            (false, true) => left_out.push(delivery),
            (false, false) => {}
        }
        false
    });
    let mut problem_jobs = Vec::with_capacity(windowed.len());
    let mut index_of = HashMap::new();
    for (job, windows) in windowed {
        if left_out.contains(&job.id) {
            continue;
        }
        index_of.insert(job.id, problem_jobs.len());
        problem_jobs.push(problem_job(job, windows));
    }
    skipped.extend(left_out.into_iter().map(|id| (id, OTHER_LEG_NOT_PLANNABLE)));
    // The stored problem knows no pairs: its legs carry nothing in transit there, rather
    // than a unit counted from the depot or to the route's end that was never on board. A
    // new pair's unit is carried by the search (`shipments::with_shipments`); a published
    // pair kept on its route has both legs in the route's fixed prefix (`prefix` above), so
    // nothing goes in between that would need it counted.
    let mut in_transit_off = |(pickup, delivery): (JobId, JobId)| {
        let (p, d) = (*index_of.get(&pickup)?, *index_of.get(&delivery)?);
        let amount = std::mem::replace(&mut problem_jobs[p].pickup, vec![0]);
        problem_jobs[d].delivery = vec![0];
        Some(Pair {
            pickup: p,
            delivery: d,
            amount,
        })
    };
    for pair in kept_pairs {
        in_transit_off(pair);
    }
    let pairs: Vec<Pair> = paired.into_iter().filter_map(in_transit_off).collect();

    let mut given = Vec::new();
    for (vehicle, sequence, prefix) in kept_routes {
        let indices: Vec<usize> = sequence
            .iter()
            .filter_map(|id| index_of.get(id).copied())
            .collect();
        vehicles[vehicle].fixed_jobs = sequence[..prefix].iter().map(|id| id.to_string()).collect();
        given.push((vehicle, indices));
    }

    Ok(PlanInput {
        problem: Problem {
            jobs: problem_jobs,
            shipments: Vec::new(),
            vehicles,
            travel: travel(settings),
        },
        origin,
        skipped,
        given,
        locked,
        outcomes,
        pairs,
    })
}

/// Sorts the candidates' shipment legs. A leg kept on a route under way stays there (with
/// everything before it: `build` fixes it), its pair listed if both legs are kept. A leg whose other leg is a candidate too pairs
/// with it, in a re-optimisation too (inserted after
/// the routes' fixed prefixes); one whose other leg is kept waits for the next day's plan.
/// A delivery whose pickup is done (on an earlier day) is a visit of its own (the unit
/// waits at the depot). Any other leg is left out with the reason.
fn shipment_legs(
    candidates: Vec<JobRow>,
    kept: &HashSet<JobId>,
    done: &HashSet<JobId>,
) -> ShipmentLegs {
    let ids: HashSet<JobId> = candidates.iter().map(|j| j.id).collect();
    let mut plannable = Vec::with_capacity(candidates.len());
    let mut skipped = Vec::new();
    let mut pairs = Vec::new();
    let mut kept_pairs = Vec::new();
    for job in candidates {
        let reason = match job.paired_job_id {
            None => None,
            Some(other) if kept.contains(&job.id) => {
                if kept.contains(&other) && job.kind.leg() == Some(Leg::Pickup) {
                    kept_pairs.push((job.id, other));
                }
                None
            }
            Some(other) if kept.contains(&other) => Some(SHIPMENT_NEEDS_NEW_PLAN),
            Some(other) if ids.contains(&other) => {
                if job.kind.leg() == Some(Leg::Pickup) {
                    pairs.push((job.id, other));
                }
                None
            }
            Some(other) if job.kind.leg() == Some(Leg::Delivery) && done.contains(&other) => None,
            Some(_) => Some(OTHER_LEG_NOT_PLANNABLE),
        };
        match reason {
            Some(reason) => skipped.push((job.id, reason)),
            None => plannable.push(job),
        }
    }
    ShipmentLegs {
        plannable,
        skipped,
        pairs,
        kept_pairs,
    }
}

/// The candidates sorted by `shipment_legs`; pairs as `(pickup, delivery)` ids.
struct ShipmentLegs {
    plannable: Vec<JobRow>,
    skipped: Vec<(JobId, &'static str)>,
    /// New pairs, for the search.
    pairs: Vec<(JobId, JobId)>,
    /// Published pairs kept on their route.
    kept_pairs: Vec<(JobId, JobId)>,
}

/// The jobs among `ids` that are done.
fn done_among(
    conn: &mut DbConnection,
    ids: impl Iterator<Item = JobId>,
) -> ApiResult<HashSet<JobId>> {
    let ids: Vec<JobId> = ids.collect();
    Ok(jobs::by_ids(conn, &ids)?
        .into_iter()
        .filter(|j| j.status == JobStatus::Done)
        .map(|j| j.id)
        .collect())
}

/// The job's windows (its customer's slots) as spans.
pub fn customer_slots(job: &JobRow) -> Vec<Span> {
    job.windows
        .iter()
        .map(|w| Span {
            start: w.start,
            end: w.end,
        })
        .collect()
}

/// The couriers on shift on `date` (starting at `depot`, or anywhere) as the planner's
/// vehicles, and which vehicle each courier is.
pub fn couriers_on_shift(
    conn: &mut DbConnection,
    date: NaiveDate,
    depot: Option<i64>,
    objective: PlanObjective,
    settings: &DispatchSettings,
) -> ApiResult<(Vec<Vehicle>, HashMap<CourierId, usize>)> {
    let origin = origin_of(date);
    let depots = fleet::list_depots(conn)?;
    let depot_by_id: HashMap<i64, &DepotRow> = depots.iter().map(|d| (d.id, d)).collect();
    let location = |id: i64| {
        depot_by_id
            .get(&id)
            .map_or(Location { lat: 0.0, lon: 0.0 }, |d| Location {
                lat: d.lat,
                lon: d.lon,
            })
    };
    // Money per metre and per second, except for the distance objective (metres only).
    let (cost_per_distance, cost_per_time) = match objective {
        PlanObjective::Distance => (1.0, 0.0),
        _ => (
            settings.cost_per_km / 1000.0,
            settings.cost_per_hour / 3600.0,
        ),
    };
    let mut vehicles = Vec::new();
    let mut vehicle_of_courier: HashMap<CourierId, usize> = HashMap::new();
    for (shift, courier) in fleet::on_shift(conn, date, depot)? {
        vehicle_of_courier.insert(courier.id, vehicles.len());
        let at = |t: chrono::NaiveDateTime| seconds(origin, t.and_utc());
        vehicles.push(Vehicle {
            id: courier.id.to_string(),
            start: location(shift.start_depot_id),
            end: location(shift.end_depot_id),
            shift: TimeWindow::new(at(shift.start_at), at(shift.end_at)),
            capacity: vec![courier.capacity],
            skills: courier.skills.clone(),
            max_duration: None,
            break_: match (
                shift.break_minutes,
                shift.break_start_at,
                shift.break_end_at,
            ) {
                (Some(minutes), Some(from), Some(to)) if minutes > 0 => Some(Break {
                    duration: f64::from(minutes) * 60.0,
                    window: TimeWindow::new(at(from), at(to)),
                }),
                _ => None,
            },
            cost_per_distance,
            cost_per_time,
            fixed_jobs: Vec::new(),
            max_tasks: None,
        });
    }

    Ok((vehicles, vehicle_of_courier))
}

/// A job as the planner sees it, visited within `windows` (seconds from the plan's origin).
pub fn problem_job(job: &JobRow, windows: Vec<TimeWindow>) -> Job {
    Job {
        id: job.id.to_string(),
        location: Location {
            lat: job.lat,
            lon: job.lon,
        },
        service: f64::from(job.service_minutes) * 60.0,
        time_windows: windows,
        delivery: vec![job.delivery_load],
        pickup: vec![job.pickup_load],
        skills: job.skills.clone(),
        // A customer already let down once goes first.
        priority: u32::try_from(job.priority.max(0) + job.attempts.max(0)).unwrap_or(0),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn job(windows: &[(f64, f64)]) -> Job {
        Job {
            id: "1".to_owned(),
            location: Location { lat: 0.0, lon: 0.0 },
            service: 600.0,
            time_windows: windows
                .iter()
                .map(|&(s, e)| TimeWindow::new(s, e))
                .collect(),
            delivery: vec![1],
            pickup: vec![0],
            skills: Vec::new(),
            priority: 0,
        }
    }

    #[test]
    fn a_buffer_ends_each_window_earlier_by_at_most_half_of_it() {
        let hour = 3600.0;
        let problem = Problem {
            jobs: vec![
                job(&[(9.0 * hour, 12.0 * hour), (14.0 * hour, 14.5 * hour)]),
                job(&[]),
            ],
            shipments: Vec::new(),
            vehicles: Vec::new(),
            travel: TravelSpec::Euclidean { speed: 1.0 },
        };
        let searched = with_buffer(&problem, flat(900.0));
        let ends: Vec<f64> = searched.jobs[0]
            .time_windows
            .iter()
            .map(|w| w.end)
            .collect();
        // Three hours lose a quarter of an hour; half an hour keeps its first half.
        assert_eq!(ends, vec![11.75 * hour, 14.25 * hour]);
        assert_eq!(searched.jobs[0].time_windows[0].start, 9.0 * hour);
        assert!(searched.jobs[1].time_windows.is_empty());
        // The promised windows are not touched.
        assert_eq!(problem.jobs[0].time_windows[0].end, 12.0 * hour);
        assert_eq!(with_buffer(&problem, flat(0.0)).jobs, problem.jobs);
    }

    fn flat(base: f64) -> PlanBuffer {
        PlanBuffer { base, growth: 0.0 }
    }

    #[test]
    fn a_growing_buffer_leaves_more_room_later_in_the_day() {
        let hour = 3600.0;
        let vehicle = |start: f64| Vehicle {
            id: "c".to_owned(),
            start: Location { lat: 0.0, lon: 0.0 },
            end: Location { lat: 0.0, lon: 0.0 },
            shift: TimeWindow {
                start,
                end: 18.0 * hour,
            },
            capacity: Vec::new(),
            skills: Vec::new(),
            max_duration: None,
            break_: None,
            cost_per_distance: 1.0,
            cost_per_time: 0.0,
            fixed_jobs: Vec::new(),
            max_tasks: None,
        };
        let problem = Problem {
            jobs: vec![
                job(&[(8.0 * hour, 10.0 * hour)]),
                job(&[(8.0 * hour, 18.0 * hour)]),
                job(&[(6.0 * hour, 8.0 * hour)]),
            ],
            shipments: Vec::new(),
            // The day starts with the earliest shift.
            vehicles: vec![vehicle(9.0 * hour), vehicle(8.0 * hour)],
            travel: TravelSpec::Euclidean { speed: 1.0 },
        };
        // 15 minutes, plus 6 minutes per hour since 8:00 (a tenth).
        let buffer = PlanBuffer {
            base: 900.0,
            growth: 0.1,
        };
        let searched = with_buffer(&problem, buffer);
        let end = |j: usize| searched.jobs[j].time_windows[0].end;
        // The latest start t keeps 15 min + (t - 8:00) / 10 before the window's end.
        for (j, promised) in [(0, 10.0 * hour), (1, 18.0 * hour)] {
            let t = end(j);
            let room = 900.0 + 0.1 * (t - 8.0 * hour);
            assert!((t + room - promised).abs() < 1e-6, "job {j}: {t}");
        }
        // A start at 9:35 keeps 15 + 9.5 minutes; one at 16:52, 15 + 53.
        assert!((10.0 * hour - end(0) - 1472.7).abs() < 0.1, "{}", end(0));
        assert!((18.0 * hour - end(1) - 4090.9).abs() < 0.1, "{}", end(1));
        // A window over before the day starts keeps the base room, no less.
        assert_eq!(end(2), 8.0 * hour - 900.0);
        assert_eq!(
            with_buffer(&problem, flat(900.0)).jobs[1].time_windows[0].end,
            17.75 * hour
        );
    }
}
