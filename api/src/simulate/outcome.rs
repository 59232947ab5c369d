//! What a simulated day wrote and how it measures: each visit as it happened against the
//! window its customer was promised, the new claims, and the day's figures (JSON and a
//! markdown row). The on-time share is counted from the visit events alone, so anyone can
//! count it again from the events file.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{City, Spec, Visit};
use crate::db::types::{CourierId, JobId};

/// One line of the events file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A visit ended.
    Visit(VisitRecord),
    /// A new claim was approved during the day.
    Claim {
        at: DateTime<Utc>,
        jobs: Vec<JobId>,
        window: (DateTime<Utc>, DateTime<Utc>),
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitRecord {
    pub courier: CourierId,
    pub job: JobId,
    pub arrived: DateTime<Utc>,
    /// When the visit began: on arrival, or when the window opened for a courier early.
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// `done` or `failed` (nobody at home).
    pub outcome: String,
    /// The window the customer was promised, if any.
    pub promised: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The visit of a claim approved during the day.
    pub new_today: bool,
}

impl VisitRecord {
    pub(super) fn of(courier: CourierId, v: &Visit, ended: NaiveDateTime, new_today: bool) -> Self {
        let utc = |t: NaiveDateTime| t.and_utc();
        let arrived = v.arrived.unwrap_or(ended);
        Self {
            courier,
            job: v.job,
            arrived: utc(arrived),
            started: utc(v.started.unwrap_or(arrived)),
            ended: utc(ended),
            outcome: if v.fails { "failed" } else { "done" }.to_owned(),
            promised: v.promised.map(|(s, e)| (utc(s), utc(e))),
            new_today,
        }
    }

    /// Minutes past the promised window's end when the visit began (0 when on time).
    pub fn late_minutes(&self) -> Option<f64> {
        self.promised
            .map(|(_, end)| ((self.started - end).num_milliseconds() as f64 / 60_000.0).max(0.0))
    }
}

/// Counters kept while the day runs.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub couriers: usize,
    pub planned_visits: usize,
    pub left_out: usize,
    pub planned_km: f64,
    pub planned_hours: f64,
    pub driven_km: f64,
    pub worked_hours: f64,
    pub done: usize,
    pub failed: usize,
    pub new_served: usize,
    pub not_reached: usize,
    pub reports: usize,
    pub refused_reports: usize,
    pub position_batches: usize,
    pub delayed_before: i64,
    pub delayed_after: i64,
    pub told_before: i64,
    pub told_after: i64,
    pub arrivals: usize,
    pub arrival_jobs: usize,
    pub placed: usize,
    pub no_room: usize,
    pub moved: usize,
    pub placing_ms: Vec<f64>,
}

impl Tally {
    pub(super) fn record(&mut self, visit: &Visit, new: &HashSet<JobId>) {
        if visit.fails {
            self.failed += 1;
        } else {
            self.done += 1;
            if new.contains(&visit.job) {
                self.new_served += 1;
            }
        }
    }

    pub(super) fn summary(&self, spec: &Spec, events: &[Event], wall_seconds: f64) -> Summary {
        let visits: Vec<&VisitRecord> = events
            .iter()
            .filter_map(|e| match e {
                Event::Visit(v) => Some(v),
                Event::Claim { .. } => None,
            })
            .collect();
        let promised: Vec<f64> = visits.iter().filter_map(|v| v.late_minutes()).collect();
        let mut late: Vec<f64> = promised.iter().copied().filter(|m| *m > 0.0).collect();
        late.sort_by(f64::total_cmp);
        let on_time = promised.len() - late.len();
        let mean = |xs: &[f64]| {
            if xs.is_empty() {
                0.0
            } else {
                xs.iter().sum::<f64>() / xs.len() as f64
            }
        };
        Summary {
            city: match spec.city {
                City::Demo { extra } => format!("demo (+{extra} claims)"),
                City::Generated { couriers, stops } => {
                    format!("generated ({couriers} couriers x {stops} claims)")
                }
            },
            seed: spec.seed,
            travel_noise: spec.travel_noise,
            service_noise: spec.service_noise,
            fail_rate: spec.fail_rate,
            reoptimize: spec.reoptimize,
            plan_buffer_minutes: spec.plan_buffer_minutes,
            plan_buffer_per_hour_minutes: spec.plan_buffer_per_hour_minutes,
            couriers: self.couriers,
            planned_visits: self.planned_visits,
            left_out: self.left_out,
            visits: visits.len(),
            done: self.done,
            failed: self.failed,
            not_reached: self.not_reached,
            promised: promised.len(),
            on_time,
            on_time_share: if promised.is_empty() {
                1.0
            } else {
                on_time as f64 / promised.len() as f64
            },
            late: late.len(),
            mean_late_minutes: round1(mean(&late)),
            p95_late_minutes: round1(percentile(&late, 0.95)),
            delay_notices: self.delayed_after - self.delayed_before,
            time_notices: self.told_after - self.told_before,
            moved: self.moved,
            planned_km: round1(self.planned_km),
            driven_km: round1(self.driven_km),
            planned_hours: round1(self.planned_hours),
            worked_hours: round1(self.worked_hours),
            new_claims: self.arrivals,
            new_visits: self.arrival_jobs,
            new_placed: self.placed,
            new_no_room: self.no_room,
            new_served: self.new_served,
            reports: self.reports,
            refused_reports: self.refused_reports,
            position_batches: self.position_batches,
            timing: Timing {
                wall_seconds: round1(wall_seconds),
                placements: self.placing_ms.len(),
                placing_ms_mean: round1(mean(&self.placing_ms)),
                placing_ms_max: round1(self.placing_ms.iter().copied().fold(0.0, f64::max)),
            },
        }
    }
}

/// The day's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub city: String,
    pub seed: u64,
    pub travel_noise: f64,
    pub service_noise: f64,
    pub fail_rate: f64,
    pub reoptimize: bool,
    /// How long before its window's end the plan aimed to begin each visit.
    pub plan_buffer_minutes: f64,
    /// How many minutes the buffer grew by per hour of the day.
    pub plan_buffer_per_hour_minutes: f64,
    pub couriers: usize,
    /// Visits on the published routes in the morning.
    pub planned_visits: usize,
    /// Jobs of the day the published plan could not take.
    pub left_out: usize,
    /// Visits ended (done or failed), new ones included.
    pub visits: usize,
    pub done: usize,
    /// Nobody at home.
    pub failed: usize,
    /// Visits still on a route when the day ended.
    pub not_reached: usize,
    /// Visits with a promised window, and of those, begun inside it.
    pub promised: usize,
    pub on_time: usize,
    pub on_time_share: f64,
    pub late: usize,
    /// Minutes past the window's end, over the late visits.
    pub mean_late_minutes: f64,
    pub p95_late_minutes: f64,
    /// Delay notices sent to customers (mail and `visit.delayed`).
    pub delay_notices: i64,
    /// Customers told a (new) visit time during the day.
    pub time_notices: i64,
    /// Late visits moved to another courier or earlier on their own route.
    pub moved: usize,
    pub planned_km: f64,
    pub driven_km: f64,
    pub planned_hours: f64,
    pub worked_hours: f64,
    /// Claims approved during the day for the same day, their visits, how many of those
    /// went on a route at once, how many found no room, and how many were done that day.
    pub new_claims: usize,
    pub new_visits: usize,
    pub new_placed: usize,
    pub new_no_room: usize,
    pub new_served: usize,
    /// Reports the phones sent, those refused, and position batches.
    pub reports: usize,
    pub refused_reports: usize,
    pub position_batches: usize,
    /// Wall-clock figures: they vary from run to run, the rest does not.
    pub timing: Timing,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Timing {
    pub wall_seconds: f64,
    /// New visits placed by the `AUTO_REOPTIMIZE` code, and its computation per visit.
    pub placements: usize,
    pub placing_ms_mean: f64,
    pub placing_ms_max: f64,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The markdown table's header.
pub const TABLE_HEADER: &str = "| city | travel noise | re-optimise | plan buffer | planned | done | failed | not reached | on time | late: mean / p95 min | delay notices | moved | km plan / driven | hours plan / worked | new claims: placed / served | placing ms: mean / max |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

/// "15 min", or "15 min + 3/h" when the buffer grows through the day.
fn buffer_words(minutes: f64, per_hour: f64) -> String {
    if per_hour > 0.0 {
        format!("{minutes:.0} min + {per_hour}/h")
    } else {
        format!("{minutes:.0} min")
    }
}

/// One row of the markdown table.
pub fn table_row(s: &Summary) -> String {
    let mut row = String::new();
    let _ = writeln!(
        row,
        "| {} | {:.0} % | {} | {} | {} | {} | {} | {} | {:.2} % | {:.1} / {:.1} | {} | {} | {:.0} / {:.0} | {:.1} / {:.1} | {} of {}: {} / {} | {:.0} / {:.0} |",
        s.city,
        s.travel_noise * 100.0,
        if s.reoptimize { "on" } else { "off" },
        buffer_words(s.plan_buffer_minutes, s.plan_buffer_per_hour_minutes),
        s.planned_visits,
        s.done,
        s.failed,
        s.not_reached,
        s.on_time_share * 100.0,
        s.mean_late_minutes,
        s.p95_late_minutes,
        s.delay_notices,
        s.moved,
        s.planned_km,
        s.driven_km,
        s.planned_hours,
        s.worked_hours,
        s.new_claims,
        s.new_visits,
        s.new_placed,
        s.new_served,
        s.timing.placing_ms_mean,
        s.timing.placing_ms_max,
    );
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_95th_percentile_is_the_nearest_rank() {
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&xs, 0.95), 19.0);
        assert_eq!(percentile(&[4.0], 0.95), 4.0);
        assert_eq!(percentile(&[], 0.95), 0.0);
    }
}
