//! The public problem and solution model. Times are seconds (f64) from an arbitrary origin.

use serde::{Deserialize, Serialize};

/// A point. For haversine travel `lat`/`lon` are degrees; for Euclidean travel `lon` is x and
/// `lat` is y (the Solomon reader stores them that way).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: f64,
    pub end: f64,
}

impl TimeWindow {
    pub fn new(start: f64, end: f64) -> Self {
        Self { start, end }
    }
}

/// A break of `duration` seconds that must start inside `window`. It is taken where the
/// courier is (after the previous stop), so it adds no travel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Break {
    pub duration: f64,
    pub window: TimeWindow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub location: Location,
    /// Service duration in seconds.
    #[serde(default)]
    pub service: f64,
    /// Service must start inside one of these; empty means "any time".
    #[serde(default)]
    pub time_windows: Vec<TimeWindow>,
    /// Load carried from the start depot to this job (capacity dimensions).
    #[serde(default)]
    pub delivery: Vec<i32>,
    /// Load picked up here and carried to the end depot.
    #[serde(default)]
    pub pickup: Vec<i32>,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Higher is more important; an unassigned job costs `1 + priority` units.
    #[serde(default)]
    pub priority: u32,
}

/// One end of a shipment: where, how long, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentStep {
    /// The step's own id in solutions; `"{shipment id}/pickup"` or `"/delivery"` if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub location: Location,
    #[serde(default)]
    pub service: f64,
    #[serde(default)]
    pub time_windows: Vec<TimeWindow>,
    /// Load also picked up here and carried to the route's end: an exchange, whose delivery
    /// takes the old unit back. Only on the delivery step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pickup: Vec<i32>,
}

/// A load carried from `pickup` to `delivery` by one vehicle: the pickup first, capacity
/// respected on the way (paired pickup and delivery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: String,
    pub pickup: ShipmentStep,
    pub delivery: ShipmentStep,
    /// Load on board between the two steps (capacity dimensions).
    #[serde(default)]
    pub amount: Vec<i32>,
    #[serde(default)]
    pub skills: Vec<String>,
    /// As a job's: an unassigned shipment costs `1 + priority` units.
    #[serde(default)]
    pub priority: u32,
}

/// Which end of a shipment a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Pickup,
    Delivery,
}

/// A place a vehicle serves: a job, or one end of a shipment. Tasks are numbered jobs first,
/// then each shipment's pickup and delivery (`jobs.len() + 2s` and `+ 1`); travel points use
/// the same numbers, then each vehicle's start and end.
#[derive(Debug, Clone, Copy)]
pub enum Task<'a> {
    Job(&'a Job),
    Step(&'a Shipment, StepKind),
}

impl<'a> Task<'a> {
    pub fn id(&self) -> std::borrow::Cow<'a, str> {
        match *self {
            Task::Job(j) => j.id.as_str().into(),
            Task::Step(s, k) => s.step_id(k),
        }
    }
    pub fn location(&self) -> Location {
        match *self {
            Task::Job(j) => j.location,
            Task::Step(s, k) => s.step(k).location,
        }
    }
    pub fn service(&self) -> f64 {
        match *self {
            Task::Job(j) => j.service,
            Task::Step(s, k) => s.step(k).service,
        }
    }
    pub fn time_windows(&self) -> &'a [TimeWindow] {
        match *self {
            Task::Job(j) => &j.time_windows,
            Task::Step(s, k) => &s.step(k).time_windows,
        }
    }
    pub fn skills(&self) -> &'a [String] {
        match *self {
            Task::Job(j) => &j.skills,
            Task::Step(s, _) => &s.skills,
        }
    }
    pub fn priority(&self) -> u32 {
        match *self {
            Task::Job(j) => j.priority,
            Task::Step(s, _) => s.priority,
        }
    }
    /// Load in dimension `d` on board from the start for this task (a job's delivery).
    pub fn initial(&self, d: usize) -> i64 {
        match *self {
            Task::Job(j) => at(&j.delivery, d),
            Task::Step(..) => 0,
        }
    }
    /// Change of the load in dimension `d` at this task.
    pub fn change(&self, d: usize) -> i64 {
        match *self {
            Task::Job(j) => at(&j.pickup, d) - at(&j.delivery, d),
            Task::Step(s, StepKind::Pickup) => at(&s.amount, d),
            Task::Step(s, StepKind::Delivery) => at(&s.delivery.pickup, d) - at(&s.amount, d),
        }
    }
}

/// Entry `d` of a capacity vector, missing dimensions being 0.
fn at(v: &[i32], d: usize) -> i64 {
    v.get(d).copied().map_or(0, i64::from)
}

impl Shipment {
    pub fn step(&self, k: StepKind) -> &ShipmentStep {
        match k {
            StepKind::Pickup => &self.pickup,
            StepKind::Delivery => &self.delivery,
        }
    }
    pub fn step_id(&self, k: StepKind) -> std::borrow::Cow<'_, str> {
        match (&self.step(k).id, k) {
            (Some(id), _) => id.as_str().into(),
            (None, StepKind::Pickup) => format!("{}/pickup", self.id).into(),
            (None, StepKind::Delivery) => format!("{}/delivery", self.id).into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub id: String,
    pub start: Location,
    pub end: Location,
    pub shift: TimeWindow,
    #[serde(default)]
    pub capacity: Vec<i32>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub max_duration: Option<f64>,
    #[serde(default, rename = "break")]
    pub break_: Option<Break>,
    #[serde(default = "one")]
    pub cost_per_distance: f64,
    #[serde(default)]
    pub cost_per_time: f64,
    /// Job ids that must stay, in this order, at the start of this vehicle's route
    /// (re-optimisation of a day already under way).
    #[serde(default)]
    pub fixed_jobs: Vec<String>,
    /// At most this many tasks (jobs and shipment steps) on the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tasks: Option<usize>,
}

fn one() -> f64 {
    1.0
}

/// How travel distances and durations are obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TravelSpec {
    /// Straight-line distance on (lon, lat) as (x, y); duration = distance / speed.
    Euclidean {
        #[serde(default = "one")]
        speed: f64,
    },
    /// Great-circle metres times `detour`; duration = that / `speed` (m/s).
    Haversine {
        #[serde(default = "default_detour")]
        detour: f64,
        #[serde(default = "default_speed")]
        speed: f64,
    },
    /// Given matrices over the points numbered: tasks (jobs in order, then each shipment's
    /// pickup and delivery), then for each vehicle its start then its end.
    Matrix {
        distances: Vec<Vec<f64>>,
        durations: Vec<Vec<f64>>,
    },
    /// Road durations and distances from an OSRM `/table` service at `url` (see `osrm`).
    Osrm {
        url: String,
        #[serde(default = "default_profile")]
        profile: String,
    },
}

fn default_profile() -> String {
    "car".to_owned()
}

fn default_detour() -> f64 {
    1.3
}
fn default_speed() -> f64 {
    8.0
}

impl Default for TravelSpec {
    fn default() -> Self {
        TravelSpec::Haversine {
            detour: default_detour(),
            speed: default_speed(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub jobs: Vec<Job>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Shipment>,
    pub vehicles: Vec<Vehicle>,
    #[serde(default)]
    pub travel: TravelSpec,
}

impl Problem {
    /// Jobs and shipment steps (see [`Task`]).
    pub fn task_count(&self) -> usize {
        self.jobs.len() + 2 * self.shipments.len()
    }

    /// Task `i` (see [`Task`]); `None` past the last.
    pub fn task(&self, i: usize) -> Option<Task<'_>> {
        match i.checked_sub(self.jobs.len()) {
            None => Some(Task::Job(&self.jobs[i])),
            Some(s) => {
                let kind = if s % 2 == 0 {
                    StepKind::Pickup
                } else {
                    StepKind::Delivery
                };
                self.shipments.get(s / 2).map(|sh| Task::Step(sh, kind))
            }
        }
    }

    /// The task number of shipment `s`'s step `k`.
    pub fn step_task(&self, s: usize, k: StepKind) -> usize {
        self.jobs.len() + 2 * s + usize::from(k == StepKind::Delivery)
    }
}

/// What the search minimises, after the unassigned jobs' priority weight (always first).
/// A route's price uses its vehicle's `cost_per_distance` and `cost_per_time`; with no price
/// on time (`cost_per_time` 0) the objectives that need one price a second like a unit of
/// distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Fewest vehicles (the SISR fleet minimisation first), then `Distance`: the benchmarks'
    /// objective.
    Hierarchical,
    /// Fewest vehicles, then `Cost`.
    FewestCouriers,
    /// Distance and travel time: `cost_per_distance · distance + cost_per_time · travel`
    /// (waiting and service are free).
    #[default]
    Distance,
    /// Distance and paid time: `cost_per_distance · distance + cost_per_time · duration`,
    /// the duration from departure to return (travel, service, waiting and the break).
    Cost,
    /// `Cost` plus each route's duration priced progressively (its square, an hour costing
    /// one hour's price at one hour): long days cost more than short ones, so the search
    /// evens the couriers' days out and shortens the longest.
    Balanced,
    /// Distance plus each vehicle's return time after its shift's start: every courier done
    /// as early as possible.
    EarliestFinish,
}

impl Objective {
    /// Whether the number of vehicles comes before the price.
    pub fn fewest_vehicles_first(self) -> bool {
        matches!(self, Objective::Hierarchical | Objective::FewestCouriers)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The task served (see [`Task`]: a job's index into `Problem::jobs`, a shipment step's
    /// beyond), or `None` for the break.
    pub job: Option<usize>,
    pub job_id: Option<String>,
    pub arrival: f64,
    pub start: f64,
    pub departure: f64,
    /// Load on board after the stop.
    pub load: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub vehicle: usize,
    pub vehicle_id: String,
    /// Departure from the start depot (delayed to avoid waiting at the first stop).
    pub start_time: f64,
    pub end_time: f64,
    pub stops: Vec<Stop>,
    pub distance: f64,
    pub duration: f64,
    pub cost: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedReason {
    /// No vehicle has all the required skills.
    Skills,
    /// No time window fits any compatible vehicle's shift (even on an empty route).
    TimeWindow,
    /// Too heavy for every compatible vehicle.
    Capacity,
    /// Feasible alone, but no room left in the plan.
    NoRoom,
    /// A fixed job that could not be kept on its vehicle.
    Fixed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unassigned {
    /// The task left out (see [`Task`]); for a shipment, its pickup's.
    pub job: usize,
    pub job_id: String,
    pub reason: UnassignedReason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    /// Only vehicles that serve at least one job.
    pub routes: Vec<Route>,
    pub unassigned: Vec<Unassigned>,
    pub distance: f64,
    pub duration: f64,
    pub cost: f64,
    pub vehicles: usize,
    pub iterations: u64,
}
