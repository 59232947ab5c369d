//! The solution JSON `planner solve` prints, and reading it back for `planner check`.
//!
//! Written: `routes` (job ids in visit order), `vehicles`, `distance`, `duration`, `cost`,
//! `unassigned` (`{"id", "reason"}`, a shipment by its own id) and `schedule`: per route its
//! vehicle id, `start_time`, `end_time`, `distance`, `duration`, `cost` and its stops (`job`:
//! the id of the job or shipment step, `null` for the break; `arrival`, `start`,
//! `departure`, `load`).
//!
//! Read: with a `schedule`, every stated figure is taken as stated (and `routes`, when
//! present, must list the schedule's jobs). Without one, route `i` of `routes` is on
//! vehicle `i` (any order will do for identical fleets, as Solomon's) and is re-timed by
//! `timing::retime` (departure delayed so as not to wait at the first stop, the break where
//! the route returns earliest): only the totals are then stated, and a duration timed by
//! other conventions may differ. Totals that are not stated are left out of the check.

use super::ReadError;
use crate::model::{Problem, Route, Solution, Stop, Unassigned, UnassignedReason};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The solution as `planner solve` prints it (without `iterations` and `wall_s`). Job ids
/// that are whole numbers are printed as numbers when `numeric_ids` (Solomon files).
pub fn to_json(p: &Problem, s: &Solution, numeric_ids: bool) -> Value {
    let as_id = |s: &str| -> Value {
        match (numeric_ids, s.parse::<u64>()) {
            (true, Ok(n)) => json!(n),
            _ => json!(s),
        }
    };
    let id = |j: usize| -> Value { as_id(&p.task(j).map(|t| t.id()).unwrap_or_default()) };
    let routes: Vec<Value> = s
        .routes
        .iter()
        .map(|r| r.stops.iter().filter_map(|st| st.job).map(id).collect())
        .collect();
    let schedule: Vec<Value> = s
        .routes
        .iter()
        .map(|r| {
            let stops: Vec<Value> = r
                .stops
                .iter()
                .map(|st| {
                    json!({
                        "job": st.job.map_or(Value::Null, id),
                        "arrival": st.arrival,
                        "start": st.start,
                        "departure": st.departure,
                        "load": st.load,
                    })
                })
                .collect();
            json!({
                "vehicle": r.vehicle_id,
                "start_time": r.start_time,
                "end_time": r.end_time,
                "distance": r.distance,
                "duration": r.duration,
                "cost": r.cost,
                "stops": stops,
            })
        })
        .collect();
    let unassigned: Vec<Value> = s
        .unassigned
        .iter()
        .map(|u| json!({"id": as_id(&u.job_id), "reason": u.reason}))
        .collect();
    json!({
        "routes": routes,
        "vehicles": s.vehicles,
        "distance": s.distance,
        "duration": s.duration,
        "cost": s.cost,
        "unassigned": unassigned,
        "schedule": schedule,
    })
}

/// A solution read back: what could be built, and what could not be (an unknown id, a
/// route listing a job twice...), each a violation in words.
#[derive(Debug)]
pub struct Read {
    pub solution: Solution,
    pub violations: Vec<String>,
    /// Totals the file does not state (their place in `solution` holds the recomputed
    /// value, so the checker accepts them).
    pub unstated: Vec<&'static str>,
    /// No schedule: the routes were re-timed, route `i` on vehicle `i`.
    pub retimed: bool,
}

fn shape(what: &str, expected: &str) -> ReadError {
    ReadError::Other(format!("{what}: expected {expected}"))
}

fn num(v: &Value, what: &str) -> Result<f64, ReadError> {
    v.as_f64().ok_or_else(|| shape(what, "a number"))
}

fn arr<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, ReadError> {
    v.as_array().ok_or_else(|| shape(what, "an array"))
}

/// An id as a string: numbers (Solomon ids) and strings.
fn id_of(v: &Value, what: &str) -> Result<String, ReadError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(shape(what, "an id (string or number)")),
    }
}

/// Reads `text` (the JSON `planner solve` prints) against `p`. `Err` for what is not such
/// a JSON document (with the line number of a syntax error).
pub fn parse(p: &Problem, text: &str) -> Result<Read, ReadError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ReadError::At {
        line: e.line(),
        message: e.to_string(),
    })?;
    let obj = doc
        .as_object()
        .ok_or_else(|| shape("the solution", "a JSON object"))?;
    // Tasks by id (jobs and shipment steps); a shipment's own id names its pickup.
    let mut jobs: HashMap<String, usize> = (0..p.task_count())
        .filter_map(|i| Some((p.task(i)?.id().into_owned(), i)))
        .collect();
    for (si, sh) in p.shipments.iter().enumerate() {
        jobs.entry(sh.id.clone())
            .or_insert(p.step_task(si, crate::model::StepKind::Pickup));
    }
    let vehicles: HashMap<&str, usize> = p
        .vehicles
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.as_str(), i))
        .collect();
    let mut violations = Vec::new();
    let listed: Option<Vec<Vec<String>>> = obj
        .get("routes")
        .map(|r| {
            arr(r, "routes")?
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let what = format!("routes[{i}]");
                    arr(r, &what)?
                        .iter()
                        .map(|x| id_of(x, &what))
                        .collect::<Result<Vec<String>, ReadError>>()
                })
                .collect::<Result<Vec<_>, ReadError>>()
        })
        .transpose()?;
    let mut routes = Vec::new();
    let retimed = !obj.contains_key("schedule");
    if let Some(schedule) = obj.get("schedule") {
        for (ri, r) in arr(schedule, "schedule")?.iter().enumerate() {
            let what = |f: &str| format!("schedule[{ri}].{f}");
            let vid = id_of(&r["vehicle"], &what("vehicle"))?;
            let mut stops = Vec::new();
            let mut ids = Vec::new();
            for (k, st) in arr(&r["stops"], &what("stops"))?.iter().enumerate() {
                let what = |f: &str| format!("schedule[{ri}].stops[{k}].{f}");
                let job = match &st["job"] {
                    Value::Null => None,
                    x => {
                        let id = id_of(x, &what("job"))?;
                        let Some(&j) = jobs.get(id.as_str()) else {
                            violations.push(format!("route {ri}, stop {k}: unknown job id {id}"));
                            ids.push(id);
                            continue;
                        };
                        ids.push(id);
                        Some(j)
                    }
                };
                let load = arr(&st["load"], &what("load"))?
                    .iter()
                    .map(|x| {
                        x.as_i64()
                            .and_then(|x| i32::try_from(x).ok())
                            .ok_or_else(|| shape(&what("load"), "whole numbers"))
                    })
                    .collect::<Result<Vec<i32>, ReadError>>()?;
                stops.push(Stop {
                    job,
                    job_id: job.and_then(|j| p.task(j)).map(|t| t.id().into_owned()),
                    arrival: num(&st["arrival"], &what("arrival"))?,
                    start: num(&st["start"], &what("start"))?,
                    departure: num(&st["departure"], &what("departure"))?,
                    load,
                });
            }
            if let Some(l) = &listed {
                match l.get(ri) {
                    Some(l) if *l != ids => violations.push(format!(
                        "route {ri}: routes lists {l:?} but the schedule serves {ids:?}"
                    )),
                    None => violations.push(format!("route {ri}: not in routes")),
                    Some(_) => {}
                }
            }
            let Some(&vehicle) = vehicles.get(vid.as_str()) else {
                violations.push(format!("route {ri}: unknown vehicle id {vid}"));
                continue;
            };
            routes.push(Route {
                vehicle,
                vehicle_id: vid,
                start_time: num(&r["start_time"], &what("start_time"))?,
                end_time: num(&r["end_time"], &what("end_time"))?,
                stops,
                distance: num(&r["distance"], &what("distance"))?,
                duration: num(&r["duration"], &what("duration"))?,
                cost: num(&r["cost"], &what("cost"))?,
            });
        }
        if let Some(l) = listed.as_ref().filter(|l| l.len() > routes.len()) {
            violations.push(format!(
                "routes lists {} routes but the schedule has {}",
                l.len(),
                routes.len()
            ));
        }
    } else {
        let listed = listed.ok_or_else(|| shape("the solution", "\"routes\" or \"schedule\""))?;
        for (ri, ids) in listed.iter().enumerate() {
            if ids.is_empty() {
                continue;
            }
            if ri >= p.vehicles.len() {
                violations.push(format!(
                    "route {ri}: no vehicle {ri} (the problem has {})",
                    p.vehicles.len()
                ));
                continue;
            }
            let mut js = Vec::new();
            for id in ids {
                match jobs.get(id.as_str()) {
                    Some(&j) if js.contains(&j) => {
                        violations.push(format!("route {ri}: job {id} listed twice"))
                    }
                    Some(&j) => js.push(j),
                    None => violations.push(format!("route {ri}: unknown job id {id}")),
                }
            }
            let timed =
                crate::timing::retime(p, ri, &js).map_err(|e| ReadError::Other(e.to_string()))?;
            routes.push(timed.route);
        }
    }
    let mut unassigned = Vec::new();
    if let Some(u) = obj.get("unassigned") {
        for (i, u) in arr(u, "unassigned")?.iter().enumerate() {
            let what = |f: &str| format!("unassigned[{i}].{f}");
            let id = id_of(&u["id"], &what("id"))?;
            let reason: UnassignedReason = serde_json::from_value(u["reason"].clone())
                .map_err(|e| ReadError::Other(format!("{}: {e}", what("reason"))))?;
            match jobs.get(id.as_str()) {
                Some(&job) => unassigned.push(Unassigned {
                    job,
                    job_id: id,
                    reason,
                }),
                None => violations.push(format!("unassigned job {id} is unknown")),
            }
        }
    }
    let mut unstated = Vec::new();
    let mut total = |key: &'static str, sum: f64| -> Result<f64, ReadError> {
        match obj.get(key) {
            Some(v) => num(v, key),
            None => {
                unstated.push(key);
                Ok(sum)
            }
        }
    };
    let distance = total("distance", routes.iter().map(|r| r.distance).sum())?;
    let duration = total("duration", routes.iter().map(|r| r.duration).sum())?;
    let cost = total("cost", routes.iter().map(|r| r.cost).sum())?;
    let count = total("vehicles", routes.len() as f64)?;
    if count < 0.0 || count.fract() != 0.0 {
        return Err(shape("vehicles", "a whole number"));
    }
    Ok(Read {
        solution: Solution {
            routes,
            unassigned,
            distance,
            duration,
            cost,
            vehicles: count as usize,
            iterations: 0,
        },
        violations,
        unstated,
        retimed,
    })
}
