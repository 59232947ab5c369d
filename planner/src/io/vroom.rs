//! VROOM's JSON input and output, field for field as VROOM's `docs/API.md` describes them, so
//! that a VROOM user sends the same problem and reads the same answer.
//!
//! Read: `jobs` (`id`, `description`, `location` `[lon, lat]` or `location_index`, `setup`,
//! `service`, `delivery`, `pickup`, `skills`, `priority`, `time_windows`), `shipments`
//! (`pickup` and `delivery` steps with the same keys, `amount`, `skills`, `priority`),
//! `vehicles` (`id`, `profile`, `description`, `start`/`start_index`, `end`/`end_index`,
//! `capacity`, `skills`, `time_window`, `breaks`, `max_tasks`, `costs` with `fixed`,
//! `per_hour` and `per_km`, `speed_factor`), and a custom `matrix` (durations) or `matrices`
//! per profile (`durations`, `distances`). Without a matrix, travel is the road table of an
//! OSRM service when one is given, else the planner's straight-line estimate.
//!
//! Refused with an input error (code 2) rather than solved differently from what was asked:
//! a vehicle without `start` or without `end` (open routes), more than one break per vehicle
//! or more than one window per break, `setup` times, `max_travel_time`, `max_distance`,
//! `steps` (plan mode), a `costs` matrix, vehicles on different profiles or speed factors, a
//! speed factor with a road service.
//!
//! The cost VROOM minimises is its travel cost (`per_hour` on travel time, `per_km` on
//! distance, plus `fixed` per vehicle used): the planner's `distance` objective with those
//! prices, or `hierarchical` (fewest vehicles first) when a vehicle has a fixed cost.

use super::ReadError;
use crate::model::{
    Break, Job, Location, Objective, Problem, Shipment, ShipmentStep, Solution, StepKind, Task,
    TimeWindow, TravelSpec, Vehicle,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// VROOM's status codes (its 1, an internal error, is never given: the planner's own
/// failures are the problem's or the roads').
pub const INPUT_ERROR: u8 = 2;
pub const ROUTING_ERROR: u8 = 3;

/// Times without a bound: VROOM's default horizon.
const HORIZON: f64 = u32::MAX as f64;

#[derive(Deserialize)]
struct Input {
    #[serde(default)]
    jobs: Vec<InTask>,
    #[serde(default)]
    shipments: Vec<InShipment>,
    vehicles: Vec<InVehicle>,
    #[serde(default)]
    matrix: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    matrices: Option<HashMap<String, InMatrices>>,
}

#[derive(Deserialize)]
struct InMatrices {
    durations: Option<Vec<Vec<f64>>>,
    distances: Option<Vec<Vec<f64>>>,
    costs: Option<Value>,
}

/// A job or a shipment step (a step has no loads, skills or priority of its own).
#[derive(Deserialize)]
struct InTask {
    id: u64,
    description: Option<String>,
    location: Option<[f64; 2]>,
    location_index: Option<usize>,
    #[serde(default)]
    setup: f64,
    #[serde(default)]
    service: f64,
    #[serde(default)]
    delivery: Vec<i32>,
    #[serde(default)]
    pickup: Vec<i32>,
    #[serde(default)]
    skills: Vec<u64>,
    #[serde(default)]
    priority: u32,
    #[serde(default)]
    time_windows: Vec<[f64; 2]>,
}

#[derive(Deserialize)]
struct InShipment {
    pickup: InTask,
    delivery: InTask,
    #[serde(default)]
    amount: Vec<i32>,
    #[serde(default)]
    skills: Vec<u64>,
    #[serde(default)]
    priority: u32,
}

#[derive(Deserialize)]
struct InBreak {
    id: u64,
    #[serde(default)]
    time_windows: Vec<[f64; 2]>,
    #[serde(default)]
    service: f64,
}

#[derive(Deserialize, Default)]
struct InCosts {
    #[serde(default)]
    fixed: f64,
    #[serde(default = "per_hour")]
    per_hour: f64,
    #[serde(default)]
    per_km: f64,
}

fn per_hour() -> f64 {
    3600.0
}

#[derive(Deserialize)]
struct InVehicle {
    id: u64,
    profile: Option<String>,
    description: Option<String>,
    start: Option<[f64; 2]>,
    start_index: Option<usize>,
    end: Option<[f64; 2]>,
    end_index: Option<usize>,
    #[serde(default)]
    capacity: Vec<i32>,
    #[serde(default)]
    skills: Vec<u64>,
    time_window: Option<[f64; 2]>,
    #[serde(default)]
    breaks: Vec<InBreak>,
    max_tasks: Option<usize>,
    costs: Option<InCosts>,
    speed_factor: Option<f64>,
    max_travel_time: Option<Value>,
    max_distance: Option<Value>,
    steps: Option<Value>,
}

/// What the answer needs besides the solution: VROOM's ids, locations and descriptions.
#[derive(Debug, Clone)]
struct Place {
    id: u64,
    location: Option<[f64; 2]>,
    location_index: Option<usize>,
    description: Option<String>,
}

/// A VROOM problem read into the planner's model.
#[derive(Debug, Clone)]
pub struct VroomProblem {
    pub problem: Problem,
    /// The objective VROOM's costs amount to.
    pub objective: Objective,
    /// Per task (the planner's numbering) its VROOM identity.
    tasks: Vec<Place>,
    /// Per vehicle its start and its end.
    vehicles: Vec<(Place, Place)>,
    break_ids: Vec<Option<u64>>,
    fixed_costs: Vec<f64>,
    /// Whether distances are known (given, or computed from coordinates).
    distances: bool,
}

fn err(message: impl Into<String>) -> ReadError {
    ReadError::Other(message.into())
}

fn windows(w: &[[f64; 2]], what: &str) -> Result<Vec<TimeWindow>, ReadError> {
    w.iter()
        .map(|&[a, b]| {
            if a.is_finite() && b.is_finite() && a <= b {
                Ok(TimeWindow::new(a, b))
            } else {
                Err(err(format!("{what}: invalid time window [{a}, {b}]")))
            }
        })
        .collect()
}

fn skills(s: &[u64]) -> Vec<String> {
    s.iter().map(u64::to_string).collect()
}

fn location(l: Option<[f64; 2]>) -> Location {
    let [lon, lat] = l.unwrap_or([0.0, 0.0]);
    Location { lat, lon }
}

/// Reads VROOM's input. `osrm` (URL, default profile) is the road service used when the
/// problem gives coordinates and no matrix.
pub fn parse(text: &str, osrm: Option<&str>) -> Result<VroomProblem, ReadError> {
    let input: Input = serde_json::from_str(text).map_err(|e| ReadError::At {
        line: e.line(),
        message: e.to_string(),
    })?;
    if input.vehicles.is_empty() {
        return Err(err("no vehicles"));
    }
    let mut seen = (HashSet::new(), HashSet::new(), HashSet::new());
    for j in &input.jobs {
        if !seen.0.insert(j.id) {
            return Err(err(format!("duplicate job id {}", j.id)));
        }
    }
    for s in &input.shipments {
        if !seen.1.insert(s.pickup.id) {
            return Err(err(format!("duplicate pickup id {}", s.pickup.id)));
        }
        if !seen.2.insert(s.delivery.id) {
            return Err(err(format!("duplicate delivery id {}", s.delivery.id)));
        }
    }
    let mut vehicle_ids = HashSet::new();
    for v in &input.vehicles {
        if !vehicle_ids.insert(v.id) {
            return Err(err(format!("duplicate vehicle id {}", v.id)));
        }
    }
    let all_tasks = input.jobs.iter().chain(
        input
            .shipments
            .iter()
            .flat_map(|s| [&s.pickup, &s.delivery]),
    );
    for t in all_tasks.clone() {
        if t.setup != 0.0 {
            return Err(err(format!("task {}: setup times are not supported", t.id)));
        }
        if !(t.service.is_finite() && t.service >= 0.0) {
            return Err(err(format!("task {}: invalid service", t.id)));
        }
    }
    let mut tasks = Vec::new();
    let place = |t: &InTask| Place {
        id: t.id,
        location: t.location,
        location_index: t.location_index,
        description: t.description.clone(),
    };
    let jobs: Vec<Job> = input
        .jobs
        .iter()
        .map(|j| {
            tasks.push(place(j));
            Ok(Job {
                id: format!("job:{}", j.id),
                location: location(j.location),
                service: j.service,
                time_windows: windows(&j.time_windows, &format!("job {}", j.id))?,
                delivery: j.delivery.clone(),
                pickup: j.pickup.clone(),
                skills: skills(&j.skills),
                priority: j.priority,
            })
        })
        .collect::<Result<_, ReadError>>()?;
    let step = |t: &InTask, kind: &str| -> Result<ShipmentStep, ReadError> {
        Ok(ShipmentStep {
            id: Some(format!("{kind}:{}", t.id)),
            location: location(t.location),
            service: t.service,
            time_windows: windows(&t.time_windows, &format!("{kind} {}", t.id))?,
            pickup: Vec::new(),
        })
    };
    let mut shipments = Vec::new();
    for s in &input.shipments {
        tasks.push(place(&s.pickup));
        tasks.push(place(&s.delivery));
        shipments.push(Shipment {
            id: format!("shipment:{}", s.pickup.id),
            pickup: step(&s.pickup, "pickup")?,
            delivery: step(&s.delivery, "delivery")?,
            amount: s.amount.clone(),
            skills: skills(&s.skills),
            priority: s.priority,
        });
    }
    let first = &input.vehicles[0];
    let profile = first.profile.clone().unwrap_or_else(|| "car".into());
    let speed = first.speed_factor.unwrap_or(1.0);
    let mut vehicles = Vec::new();
    let mut break_ids = Vec::new();
    let mut fixed_costs = Vec::new();
    let mut vehicle_places = Vec::new();
    for v in &input.vehicles {
        let what = format!("vehicle {}", v.id);
        if v.profile.as_deref().unwrap_or("car") != profile {
            return Err(err(format!("{what}: all vehicles must share one profile")));
        }
        if v.speed_factor.unwrap_or(1.0) != speed || !(speed > 0.0 && speed.is_finite()) {
            return Err(err(format!(
                "{what}: all vehicles must share one positive speed_factor"
            )));
        }
        for (key, given) in [
            ("max_travel_time", v.max_travel_time.is_some()),
            ("max_distance", v.max_distance.is_some()),
            ("steps", v.steps.is_some()),
        ] {
            if given {
                return Err(err(format!("{what}: {key} is not supported")));
            }
        }
        let has_start = v.start.is_some() || v.start_index.is_some();
        let has_end = v.end.is_some() || v.end_index.is_some();
        if !has_start || !has_end {
            return Err(err(format!(
                "{what}: open routes (no start or no end) are not supported"
            )));
        }
        let brk = match &v.breaks[..] {
            [] => None,
            [b] => {
                let [w] = &windows(&b.time_windows, &format!("{what} break {}", b.id))?[..] else {
                    return Err(err(format!(
                        "{what}: a break needs exactly one time window"
                    )));
                };
                if !(b.service.is_finite() && b.service >= 0.0) {
                    return Err(err(format!("{what}: invalid break service")));
                }
                Some(Break {
                    duration: b.service,
                    window: *w,
                })
            }
            _ => return Err(err(format!("{what}: at most one break is supported"))),
        };
        break_ids.push(v.breaks.first().map(|b| b.id));
        let costs = v.costs.as_ref();
        let c = costs.map_or_else(InCosts::default_prices, |c| (c.fixed, c.per_hour, c.per_km));
        if [c.0, c.1, c.2]
            .iter()
            .any(|x| !(x.is_finite() && *x >= 0.0))
        {
            return Err(err(format!("{what}: invalid costs")));
        }
        fixed_costs.push(c.0);
        let shift = match v.time_window {
            Some(w) => windows(&[w], &what)?[0],
            None => TimeWindow::new(0.0, HORIZON),
        };
        vehicles.push(Vehicle {
            id: v.id.to_string(),
            start: location(v.start),
            end: location(v.end),
            shift,
            capacity: v.capacity.clone(),
            skills: skills(&v.skills),
            max_duration: None,
            break_: brk,
            cost_per_distance: c.2 / 1000.0,
            cost_per_time: c.1 / 3600.0,
            fixed_jobs: Vec::new(),
            max_tasks: v.max_tasks,
        });
        vehicle_places.push((
            Place {
                id: v.id,
                location: v.start,
                location_index: v.start_index,
                description: v.description.clone(),
            },
            Place {
                id: v.id,
                location: v.end,
                location_index: v.end_index,
                description: None,
            },
        ));
    }
    // Points in the planner's order: tasks, then each vehicle's start and end.
    let points: Vec<&Place> = tasks
        .iter()
        .chain(vehicle_places.iter().flat_map(|(s, e)| [s, e]))
        .collect();
    let given = match (&input.matrix, &input.matrices) {
        (Some(m), _) => Some((Some(m), None)),
        (None, Some(ms)) => {
            let Some(m) = ms.get(&profile) else {
                return Err(err(format!("no matrices for profile {profile}")));
            };
            if m.costs.is_some() {
                return Err(err("custom cost matrices are not supported"));
            }
            Some((m.durations.as_ref(), m.distances.as_ref()))
        }
        (None, None) => None,
    };
    let (travel, distances) = match given {
        Some((durations, dists)) => {
            let size = durations.or(dists).map_or(0, Vec::len);
            let mut index = Vec::with_capacity(points.len());
            for p in &points {
                match p.location_index {
                    Some(i) if i < size => index.push(i),
                    Some(i) => {
                        return Err(err(format!("location_index {i} is outside the matrix")))
                    }
                    None => {
                        return Err(err(format!(
                            "id {}: a location_index is needed with a custom matrix",
                            p.id
                        )))
                    }
                }
            }
            let pick = |m: &Vec<Vec<f64>>, scale: f64| -> Result<Vec<Vec<f64>>, ReadError> {
                if m.len() != size || m.iter().any(|r| r.len() != size) {
                    return Err(err(format!("matrices must be {size}x{size}")));
                }
                Ok(index
                    .iter()
                    .map(|&a| index.iter().map(|&b| m[a][b] / scale).collect())
                    .collect())
            };
            let durations = match durations {
                Some(d) => pick(d, speed)?,
                None => return Err(err("a custom matrix needs durations")),
            };
            let known = dists.is_some();
            let distances = match dists {
                Some(d) => pick(d, 1.0)?,
                None => vec![vec![0.0; points.len()]; points.len()],
            };
            (
                TravelSpec::Matrix {
                    distances,
                    durations,
                },
                known,
            )
        }
        None => {
            if let Some(p) = points.iter().find(|p| p.location.is_none()) {
                return Err(err(format!(
                    "id {}: a location is needed without a custom matrix",
                    p.id
                )));
            }
            let travel = match osrm {
                Some(_) if speed != 1.0 => {
                    return Err(err("speed_factor with a road service is not supported"))
                }
                Some(url) => TravelSpec::Osrm {
                    url: url.to_owned(),
                    profile: profile.clone(),
                },
                None => match TravelSpec::default() {
                    TravelSpec::Haversine { detour, speed: s } => TravelSpec::Haversine {
                        detour,
                        speed: s * speed,
                    },
                    other => other,
                },
            };
            (travel, true)
        }
    };
    let problem = Problem {
        jobs,
        shipments,
        vehicles,
        travel,
    };
    crate::validate(&problem).map_err(err)?;
    let objective = if fixed_costs.iter().any(|&c| c > 0.0) {
        Objective::Hierarchical
    } else {
        Objective::Distance
    };
    Ok(VroomProblem {
        problem,
        objective,
        tasks,
        vehicles: vehicle_places,
        break_ids,
        fixed_costs,
        distances,
    })
}

impl VroomProblem {
    /// Asks the road service (when the problem uses one) for its tables once, so that the
    /// solve and the answer's distances read the same matrices and the service is not asked
    /// again for the answer.
    pub fn fetch_roads(&mut self) -> Result<(), crate::PlanError> {
        crate::osrm::resolve(&mut self.problem).map_err(crate::PlanError::Travel)
    }
}

impl InCosts {
    /// VROOM's default prices: `(fixed, per_hour, per_km)`.
    fn default_prices() -> (f64, f64, f64) {
        (0.0, per_hour(), 0.0)
    }
}

/// VROOM's answer for an error.
pub fn error(code: u8, message: &str) -> Value {
    json!({"code": code, "error": message})
}

fn round(x: f64) -> i64 {
    x.round() as i64
}

fn add(total: &mut [i64], v: &[i32]) {
    for (t, x) in total.iter_mut().zip(v) {
        *t += i64::from(*x);
    }
}

/// Writes `s` as VROOM's answer; `times` are the loading and solving times in milliseconds.
pub fn to_json(vp: &VroomProblem, s: &Solution, times: (u128, u128)) -> Value {
    let p = &vp.problem;
    let dims = p
        .vehicles
        .iter()
        .map(|v| v.capacity.len())
        .chain(p.jobs.iter().map(|j| j.delivery.len().max(j.pickup.len())))
        .chain(p.shipments.iter().map(|s| s.amount.len()))
        .max()
        .unwrap_or(0);
    let with_loads = dims > 0;
    let tr = crate::travel::model(p).ok();
    let dist = |a: usize, b: usize| tr.as_ref().map_or(0.0, |(t, _)| t.distance(a, b));
    let n = p.task_count();
    let mut summary_delivery = vec![0i64; dims];
    let mut summary_pickup = vec![0i64; dims];
    let (mut total_cost, mut total_service, mut total_duration, mut total_waiting) = (0, 0, 0, 0);
    let (mut total_priority, mut total_distance) = (0u64, 0i64);
    let mut routes = Vec::new();
    for r in &s.routes {
        let v = r.vehicle;
        let (place, end_place) = (&vp.vehicles[v].0, &vp.vehicles[v].1);
        let mut delivery = vec![0i64; dims];
        let mut pickup = vec![0i64; dims];
        let mut start_load = vec![0i64; dims];
        let (mut service, mut waiting, mut priority) = (0.0, 0.0, 0u64);
        let mut steps = Vec::new();
        let mut here = n + 2 * v;
        let (mut travelled, mut distance) = (0.0, 0.0);
        let mut last_departure = r.start_time;
        for st in &r.stops {
            match st.job.and_then(|j| p.task(j)) {
                Some(Task::Job(job)) => {
                    add(&mut delivery, &job.delivery);
                    add(&mut pickup, &job.pickup);
                    add(&mut start_load, &job.delivery);
                }
                Some(Task::Step(sh, StepKind::Pickup)) => {
                    add(&mut delivery, &sh.amount);
                    add(&mut pickup, &sh.amount);
                }
                _ => {}
            }
        }
        let step = |kind: &str, place: Option<&Place>, extra: Map<String, Value>| {
            let mut o = Map::new();
            o.insert("type".into(), json!(kind));
            if let Some(pl) = place {
                if let Some(l) = pl.location {
                    o.insert("location".into(), json!(l));
                }
                if let Some(i) = pl.location_index {
                    o.insert("location_index".into(), json!(i));
                }
            }
            o.extend(extra);
            o.insert("violations".into(), json!([]));
            Value::Object(o)
        };
        let timing = |o: &mut Map<String, Value>, arrival: f64, travelled: f64, distance: f64| {
            o.insert("arrival".into(), json!(round(arrival)));
            o.insert("duration".into(), json!(round(travelled)));
            if vp.distances {
                o.insert("distance".into(), json!(round(distance)));
            }
        };
        let mut o = Map::new();
        o.insert("setup".into(), json!(0));
        o.insert("service".into(), json!(0));
        o.insert("waiting_time".into(), json!(0));
        if with_loads {
            o.insert("load".into(), json!(start_load));
        }
        timing(&mut o, r.start_time, 0.0, 0.0);
        steps.push(step("start", Some(place), o));
        for st in &r.stops {
            let task = st.job.filter(|&j| j < n);
            let arrival_travel = st.arrival - last_departure;
            if let Some(j) = task {
                distance += dist(here, j);
                travelled += arrival_travel;
                here = j;
            }
            last_departure = st.departure;
            let wait = st.start - st.arrival;
            let svc = st.departure - st.start;
            waiting += wait;
            service += svc;
            let mut o = Map::new();
            let (kind, pl) = match task.and_then(|j| Some((j, p.task(j)?))) {
                Some((j, Task::Job(job))) => {
                    priority += u64::from(job.priority);
                    ("job", Some(&vp.tasks[j]))
                }
                Some((j, Task::Step(sh, k))) => {
                    if k == StepKind::Pickup {
                        priority += u64::from(sh.priority);
                    }
                    let kind = if k == StepKind::Pickup {
                        "pickup"
                    } else {
                        "delivery"
                    };
                    (kind, Some(&vp.tasks[j]))
                }
                None => ("break", None),
            };
            match pl {
                Some(pl) => {
                    o.insert("id".into(), json!(pl.id));
                    if let Some(d) = &pl.description {
                        o.insert("description".into(), json!(d));
                    }
                }
                None => {
                    if let Some(id) = vp.break_ids[v] {
                        o.insert("id".into(), json!(id));
                    }
                }
            }
            o.insert("setup".into(), json!(0));
            o.insert("service".into(), json!(round(svc)));
            o.insert("waiting_time".into(), json!(round(wait)));
            if let Some(pl) = pl {
                o.insert("job".into(), json!(pl.id));
            }
            if with_loads {
                o.insert("load".into(), json!(st.load));
            }
            timing(&mut o, st.arrival, travelled, distance);
            steps.push(step(kind, pl, o));
        }
        distance += dist(here, n + 2 * v + 1);
        travelled += r.end_time - last_departure;
        let mut o = Map::new();
        o.insert("setup".into(), json!(0));
        o.insert("service".into(), json!(0));
        o.insert("waiting_time".into(), json!(0));
        if with_loads {
            o.insert(
                "load".into(),
                json!(r.stops.last().map_or(&Vec::new(), |s| &s.load)),
            );
        }
        timing(&mut o, r.end_time, travelled, distance);
        steps.push(step("end", Some(end_place), o));
        let cost = round(r.cost) + round(vp.fixed_costs[v]);
        let mut route = Map::new();
        route.insert("vehicle".into(), json!(place.id));
        route.insert("cost".into(), json!(cost));
        if with_loads {
            route.insert("delivery".into(), json!(delivery));
            route.insert("pickup".into(), json!(pickup));
        }
        route.insert("setup".into(), json!(0));
        route.insert("service".into(), json!(round(service)));
        route.insert("duration".into(), json!(round(travelled)));
        route.insert("waiting_time".into(), json!(round(waiting)));
        route.insert("priority".into(), json!(priority));
        if vp.distances {
            route.insert("distance".into(), json!(round(distance)));
        }
        if let Some(d) = &place.description {
            route.insert("description".into(), json!(d));
        }
        route.insert("steps".into(), Value::Array(steps));
        route.insert("violations".into(), json!([]));
        routes.push(Value::Object(route));
        total_cost += cost;
        total_service += round(service);
        total_duration += round(travelled);
        total_waiting += round(waiting);
        total_priority += priority;
        total_distance += round(distance);
        for d in 0..dims {
            summary_delivery[d] += delivery[d];
            summary_pickup[d] += pickup[d];
        }
    }
    let mut unassigned = Vec::new();
    for u in &s.unassigned {
        let steps: &[usize] = match p.task(u.job) {
            Some(Task::Step(..)) => &[u.job, u.job + 1],
            _ => &[u.job],
        };
        for &j in steps {
            let (Some(task), Some(pl)) = (p.task(j), vp.tasks.get(j)) else {
                continue;
            };
            let kind = match task {
                Task::Job(_) => "job",
                Task::Step(_, StepKind::Pickup) => "pickup",
                Task::Step(_, StepKind::Delivery) => "delivery",
            };
            let mut o = Map::new();
            o.insert("id".into(), json!(pl.id));
            o.insert("type".into(), json!(kind));
            if let Some(l) = pl.location {
                o.insert("location".into(), json!(l));
            }
            if let Some(i) = pl.location_index {
                o.insert("location_index".into(), json!(i));
            }
            if let Some(d) = &pl.description {
                o.insert("description".into(), json!(d));
            }
            unassigned.push(Value::Object(o));
        }
    }
    let mut summary = Map::new();
    summary.insert("cost".into(), json!(total_cost));
    summary.insert("routes".into(), json!(s.routes.len()));
    summary.insert("unassigned".into(), json!(unassigned.len()));
    if with_loads {
        summary.insert("delivery".into(), json!(summary_delivery));
        summary.insert("pickup".into(), json!(summary_pickup));
    }
    summary.insert("setup".into(), json!(0));
    summary.insert("service".into(), json!(total_service));
    summary.insert("duration".into(), json!(total_duration));
    summary.insert("waiting_time".into(), json!(total_waiting));
    summary.insert("priority".into(), json!(total_priority));
    if vp.distances {
        summary.insert("distance".into(), json!(total_distance));
    }
    summary.insert("violations".into(), json!([]));
    summary.insert(
        "computing_times".into(),
        json!({"loading": times.0, "solving": times.1, "routing": 0}),
    );
    json!({
        "code": 0,
        "summary": summary,
        "unassigned": unassigned,
        "routes": routes,
    })
}
