//! Live ETAs of published routes: the stops still ahead re-timed (`domain::eta`) from the
//! courier's reports and latest position, on each report, on each position batch of a
//! courier on his way, and by the sweep (`workers::eta`). The estimates are written only
//! when one moved by more than a minute or a stop's delay flag turned, so a courier whose
//! day goes as planned costs no writes; each write bumps the route's revision, so his
//! phone's `ETag` changes with it. A stop whose estimate passes its promised window gets
//! one delay notice to its customer per hour (`app::claims::visit_delayed`).

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use domain::dispatch::CourierEvent;
use domain::eta::{self, PlannedRoute, PlannedStop, Progress, Sighting};
use domain::job::JobStatus;

use crate::app::claims;
use crate::app::plans::input::{drive_seconds, haversine_m};
use crate::config::DispatchSettings;
use crate::db::jobs::{self, JobRow};
use crate::db::plans::{self, StopEta, StopRow};
use crate::db::types::{CourierId, JobId};
use crate::db::{fleet, visits, DbConnection};
use crate::error::ApiResult;

/// An estimate moving by more than this is worth a write (and a refetch by the phone).
const SHIFT_WORTH_STORING: Duration = Duration::seconds(60);
/// One delay notice per stop within this long.
const NOTICE_EVERY: Duration = Duration::hours(1);

/// What one re-timing did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Retiming {
    /// Stops whose stored estimate changed (0: nothing written).
    pub changed: usize,
    /// Delay notices sent.
    pub notices: usize,
}

/// Re-times route `route_id` as of `now`, stores what moved and tells the customers of
/// visits newly late.
pub fn retime_route(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    route_id: i64,
    now: NaiveDateTime,
) -> ApiResult<Retiming> {
    let Some(head) = plans::route(conn, route_id)? else {
        return Ok(Retiming::default());
    };
    let rows = plans::route_stops(conn, route_id)?;
    let ids: Vec<JobId> = rows.iter().filter_map(|s| s.job_id).collect();
    let jobs: HashMap<JobId, JobRow> = jobs::by_ids(conn, &ids)?
        .into_iter()
        .map(|j| (j.id, j))
        .collect();
    let mut reported: HashMap<(JobId, CourierEvent), NaiveDateTime> = HashMap::new();
    for (job, kind, at) in visits::applied(conn, &ids)? {
        reported.insert((job, kind.0), at); // oldest first: the latest stays
    }

    // The stops this courier still drives, in order, with where each stands; a job taken
    // from him (failed and planned again, given to another) is no longer on his way.
    let mut timed: Vec<&StopRow> = Vec::new();
    let mut stops: Vec<PlannedStop> = Vec::new();
    for row in &rows {
        let (Some(arrival), Some(start), Some(departure)) =
            (row.arrival_at, row.start_at, row.departure_at)
        else {
            continue;
        };
        let job = row.job_id.and_then(|id| jobs.get(&id));
        let progress = match (job, row.outcome.as_deref()) {
            (None, _) => Progress::Ahead, // the break
            (Some(job), Some(_)) => Progress::Over(
                [CourierEvent::Completed, CourierEvent::Failed]
                    .iter()
                    .filter_map(|k| reported.get(&(job.id, *k)).copied())
                    .max()
                    .unwrap_or(departure),
            ),
            (Some(job), None) if job.courier_id != Some(head.courier_id) => continue,
            (Some(job), None) => match job.status {
                JobStatus::Assigned => Progress::Ahead,
                JobStatus::EnRoute => Progress::OnTheWay(
                    reported
                        .get(&(job.id, CourierEvent::Departed))
                        .copied()
                        .unwrap_or(now),
                ),
                JobStatus::Arrived => Progress::Arrived(
                    reported
                        .get(&(job.id, CourierEvent::Arrived))
                        .copied()
                        .unwrap_or(now),
                ),
                _ => continue, // cancelled or done without its stop knowing: not ahead
            },
        };
        let mut windows: Vec<(NaiveDateTime, NaiveDateTime)> = job
            .map(|j| {
                j.windows
                    .iter()
                    .map(|w| (w.start.naive_utc(), w.end.naive_utc()))
                    .collect()
            })
            .unwrap_or_default();
        windows.sort();
        timed.push(row);
        stops.push(PlannedStop {
            arrival,
            start,
            departure,
            windows,
            is_break: row.job_id.is_none(),
            progress,
        });
    }
    let route = PlannedRoute {
        start: head.start_at,
        end: head.end_at,
        stops,
    };
    let sighting = sighting(
        conn,
        settings,
        head.courier_id,
        (&timed, &route.stops),
        &jobs,
    )?;
    let margin = Duration::from_std(settings.delay_margin).unwrap_or_default();
    let retimed = eta::retime(&route, now, sighting, margin);

    let mut changed = Vec::new();
    let mut late = Vec::new();
    for ((row, planned), estimate) in timed.iter().zip(&route.stops).zip(&retimed.stops) {
        // Only a departure from the plan is stored: a day going as planned writes nothing,
        // and an absent estimate reads "as planned".
        let eta_at = estimate
            .map(|e| e.arrival)
            .filter(|at| (*at - planned.arrival).abs() > SHIFT_WORTH_STORING);
        let delayed = estimate.is_some_and(|e| e.delayed);
        let moved = match (row.eta_at, eta_at) {
            (Some(old), Some(new)) => (new - old).abs() > SHIFT_WORTH_STORING,
            (old, new) => old.is_some() != new.is_some(),
        };
        if moved || delayed != row.delayed {
            changed.push(StopEta {
                stop_id: row.id,
                eta_at,
                delayed,
            });
        }
        let told_lately = row.delay_noticed_at.is_some_and(|t| now - t < NOTICE_EVERY);
        if let (Some(e), Some(job)) = (estimate, row.job_id.and_then(|id| jobs.get(&id))) {
            if e.delayed && !told_lately {
                late.push((
                    row.id,
                    job,
                    e.arrival,
                    eta::promised(&planned.windows, planned.start),
                ));
            }
        }
    }
    if !changed.is_empty() {
        plans::store_etas(conn, route_id, &changed, retimed.end, now)?;
    }
    for (stop_id, job, eta_at, promised) in &late {
        claims::visit_delayed(conn, job, head.courier_id, *eta_at, *promised)?;
        plans::set_delay_noticed(conn, *stop_id, now)?;
    }
    Ok(Retiming {
        changed: changed.len(),
        notices: late.len(),
    })
}

/// The courier's latest position and the travel from there to the stop he left for, when
/// he is on his way to one. On the road table (OSRM) the planned leg is scaled by the share
/// of the straight-line distance still ahead; on the estimate, great-circle distance x the
/// detour at the configured speed.
fn sighting(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    courier_id: CourierId,
    (timed, stops): (&[&StopRow], &[PlannedStop]),
    jobs: &HashMap<JobId, JobRow>,
) -> ApiResult<Option<Sighting>> {
    let Some(i) = stops
        .iter()
        .position(|s| matches!(s.progress, Progress::OnTheWay(_)))
    else {
        return Ok(None);
    };
    let Some(target) = timed[i].job_id.and_then(|id| jobs.get(&id)) else {
        return Ok(None);
    };
    let Some(seen) = fleet::last_position(conn, courier_id)? else {
        return Ok(None);
    };
    let ahead_m = haversine_m(seen.lat, seen.lon, target.lat, target.lon);
    let estimate = || drive_seconds(settings, (seen.lat, seen.lon), (target.lat, target.lon));
    // Where the leg began: the previous visit (the depot's place is not on the route).
    let previous = timed[..i]
        .iter()
        .rev()
        .find_map(|row| row.job_id.and_then(|id| jobs.get(&id)));
    let seconds = match (settings.osrm.is_some(), previous) {
        (true, Some(from)) => {
            let leg_m = haversine_m(from.lat, from.lon, target.lat, target.lon);
            let planned =
                stops[i].arrival - stops[..i].last().map_or(stops[i].arrival, |s| s.departure);
            if leg_m > 1.0 {
                planned.num_milliseconds() as f64 / 1000.0 * (ahead_m / leg_m)
            } else {
                estimate()
            }
        }
        _ => estimate(),
    };
    Ok(Some(Sighting {
        at: seen.seen_at,
        to_next: Duration::milliseconds((seconds.max(0.0) * 1000.0) as i64),
    }))
}

/// The published route a courier is driving to `job_id` in, if any.
pub fn route_of_visit(
    conn: &mut DbConnection,
    courier_id: CourierId,
    job: &JobRow,
) -> ApiResult<Option<i64>> {
    let Some(plan_id) = job.plan_id else {
        return Ok(None);
    };
    Ok(plans::stop_in_plan(conn, plan_id, courier_id, job.id)?.map(|s| s.route_id))
}

/// After a position batch: re-times the route of the visit the courier is on his way to.
pub fn after_positions(
    conn: &mut DbConnection,
    settings: &DispatchSettings,
    courier_id: CourierId,
    now: NaiveDateTime,
) -> ApiResult<Retiming> {
    let on_the_way = jobs::being_visited(conn, &[courier_id])?
        .into_iter()
        .find(|j| j.status == JobStatus::EnRoute);
    let Some(visit) = on_the_way else {
        return Ok(Retiming::default());
    };
    let Some(job) = jobs::find(conn, visit.job_id)? else {
        return Ok(Retiming::default());
    };
    match route_of_visit(conn, courier_id, &job)? {
        Some(route_id) => retime_route(conn, settings, route_id, now),
        None => Ok(Retiming::default()),
    }
}
