//! Independent solution checker: recomputes every arrival, window, load and total from the
//! problem alone. It shares no feasibility code with the search (only the travel model).

use crate::model::{Problem, Solution, UnassignedReason};
use crate::travel;

const TOL: f64 = 1e-6;

#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub route: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.route {
            Some(r) => write!(f, "route {r}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub vehicles: usize,
    pub distance: f64,
    pub duration: f64,
    pub cost: f64,
    pub unassigned: usize,
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * a.abs().max(b.abs()).max(1.0)
}

pub fn check(p: &Problem, s: &Solution) -> Result<CheckReport, Vec<Violation>> {
    let mut out: Vec<Violation> = Vec::new();
    let (tr, _) = match travel::model(p) {
        Ok(t) => t,
        Err(e) => {
            return Err(vec![Violation {
                route: None,
                message: e,
            }])
        }
    };
    let n = p.jobs.len();
    let dims = p
        .jobs
        .iter()
        .map(|j| j.delivery.len().max(j.pickup.len()))
        .chain(p.vehicles.iter().map(|v| v.capacity.len()))
        .max()
        .unwrap_or(0);
    let get = |v: &[i32], d: usize| v.get(d).copied().unwrap_or(0);
    let mut seen = vec![0u32; n];
    let mut used = vec![false; p.vehicles.len()];
    let (mut tot_dist, mut tot_dur, mut tot_cost) = (0.0, 0.0, 0.0);
    for (ri, route) in s.routes.iter().enumerate() {
        let mut bad = |m: String| {
            out.push(Violation {
                route: Some(ri),
                message: m,
            })
        };
        let Some(veh) = p.vehicles.get(route.vehicle) else {
            bad(format!("unknown vehicle {}", route.vehicle));
            continue;
        };
        if std::mem::replace(&mut used[route.vehicle], true) {
            bad(format!("vehicle {} used twice", veh.id));
        }
        let v = route.vehicle;
        let mut t = route.start_time;
        if t < veh.shift.start - TOL {
            bad(format!(
                "starts at {t} before the shift {}",
                veh.shift.start
            ));
        }
        let mut load: Vec<i64> = (0..dims)
            .map(|d| {
                route
                    .stops
                    .iter()
                    .filter_map(|st| st.job)
                    .filter(|&j| j < n)
                    .map(|j| get(&p.jobs[j].delivery, d) as i64)
                    .sum()
            })
            .collect();
        let cap = |d: usize| get(&veh.capacity, d) as i64;
        for (d, l) in load.iter().enumerate() {
            if *l > cap(d) {
                bad(format!(
                    "leaves with load {l} > capacity {} (dim {d})",
                    cap(d)
                ));
            }
        }
        let mut here = n + 2 * v;
        let (mut dist, mut ttime) = (0.0, 0.0);
        let mut breaks = 0;
        let mut jobs_on = 0;
        for (k, stop) in route.stops.iter().enumerate() {
            let (arrival, start);
            match stop.job {
                Some(j) if j < n => {
                    jobs_on += 1;
                    let job = &p.jobs[j];
                    seen[j] += 1;
                    if !job.skills.iter().all(|s| veh.skills.contains(s)) {
                        bad(format!(
                            "job {} needs skills vehicle {} lacks",
                            job.id, veh.id
                        ));
                    }
                    dist += tr.distance(here, j);
                    ttime += tr.duration(here, j);
                    arrival = t + tr.duration(here, j);
                    start = if job.time_windows.is_empty() {
                        arrival
                    } else {
                        let mut best = f64::INFINITY;
                        for w in &job.time_windows {
                            if arrival <= w.end + TOL {
                                best = best.min(arrival.max(w.start));
                            }
                        }
                        best
                    };
                    if !start.is_finite() {
                        bad(format!(
                            "job {}: arrival {arrival} after every window",
                            job.id
                        ));
                    }
                    t = start + job.service;
                    here = j;
                    for (d, l) in load.iter_mut().enumerate() {
                        *l += get(&job.pickup, d) as i64 - get(&job.delivery, d) as i64;
                        if *l > cap(d) || *l < 0 {
                            bad(format!(
                                "load {l} out of [0, {}] after job {}",
                                cap(d),
                                job.id
                            ));
                        }
                    }
                }
                Some(j) => {
                    bad(format!("unknown job index {j}"));
                    continue;
                }
                None => {
                    breaks += 1;
                    let Some(b) = veh.break_ else {
                        bad("a break on a vehicle without one".into());
                        continue;
                    };
                    arrival = t;
                    start = arrival.max(b.window.start);
                    if start > b.window.end + TOL {
                        bad(format!("break starts at {start} after its window"));
                    }
                    t = start + b.duration;
                }
            }
            if start.is_finite() && (!close(arrival, stop.arrival) || !close(start, stop.start)) {
                bad(format!(
                    "stop {k}: reported arrival/start {}/{} but recomputed {arrival}/{start}",
                    stop.arrival, stop.start
                ));
            }
            let l: Vec<i64> = stop.load.iter().map(|&x| x as i64).collect();
            if stop.load.len() == dims && l != load {
                bad(format!(
                    "stop {k}: reported load {:?} but recomputed {load:?}",
                    stop.load
                ));
            }
        }
        let end = n + 2 * v + 1;
        dist += tr.distance(here, end);
        ttime += tr.duration(here, end);
        t += tr.duration(here, end);
        if t > veh.shift.end + TOL {
            bad(format!(
                "returns at {t} after the shift end {}",
                veh.shift.end
            ));
        }
        if let Some(md) = veh.max_duration {
            if t - route.start_time > md + TOL {
                bad(format!(
                    "lasts {} > max duration {md}",
                    t - route.start_time
                ));
            }
        }
        if veh.break_.is_some() && jobs_on > 0 && breaks != 1 {
            bad(format!("{breaks} breaks, expected 1"));
        }
        if breaks > 1 {
            bad("more than one break".into());
        }
        let ids: Vec<&str> = route
            .stops
            .iter()
            .filter_map(|s| s.job)
            .filter(|&j| j < n)
            .map(|j| p.jobs[j].id.as_str())
            .collect();
        let fixed_here: Vec<&str> = veh
            .fixed_jobs
            .iter()
            .map(|s| s.as_str())
            .filter(|id| ids.contains(id))
            .collect();
        if !ids.starts_with(&fixed_here) {
            bad("fixed jobs are not the route's prefix in order".into());
        }
        if !close(dist, route.distance) {
            bad(format!(
                "reported distance {} but recomputed {dist}",
                route.distance
            ));
        }
        if !close(t, route.end_time) {
            bad(format!(
                "reported end {} but recomputed {t}",
                route.end_time
            ));
        }
        tot_dist += dist;
        tot_dur += t - route.start_time;
        tot_cost += veh.cost_per_distance * dist + veh.cost_per_time * ttime;
    }
    for u in &s.unassigned {
        if u.job >= n {
            out.push(Violation {
                route: None,
                message: format!("unknown unassigned job {}", u.job),
            });
            continue;
        }
        seen[u.job] += 1;
        let job = &p.jobs[u.job];
        let has_skills = p
            .vehicles
            .iter()
            .any(|v| job.skills.iter().all(|s| v.skills.contains(s)));
        if (u.reason == UnassignedReason::Skills) == has_skills {
            out.push(Violation {
                route: None,
                message: format!("job {}: wrong reason {:?}", job.id, u.reason),
            });
        }
    }
    for (j, &c) in seen.iter().enumerate() {
        if c != 1 {
            out.push(Violation {
                route: None,
                message: format!(
                    "job {} appears {c} times (routes + unassigned)",
                    p.jobs[j].id
                ),
            });
        }
    }
    if !close(tot_dist, s.distance) {
        out.push(Violation {
            route: None,
            message: format!(
                "reported total distance {} but recomputed {tot_dist}",
                s.distance
            ),
        });
    }
    if !out.is_empty() {
        return Err(out);
    }
    Ok(CheckReport {
        vehicles: s.routes.iter().filter(|r| !r.stops.is_empty()).count(),
        distance: tot_dist,
        duration: tot_dur,
        cost: tot_cost,
        unassigned: s.unassigned.len(),
    })
}
