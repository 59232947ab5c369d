//! Least-disruption insertion into a day under way: the published routes keep their jobs,
//! vehicles and order; new (or dropped) jobs are inserted between the existing stops.

use crate::construct;
use crate::instance::Instance;
use crate::model::Problem;
use crate::model::Solution;
use crate::rng::Rng;
use crate::route::{Route, EPS};
use crate::search::recreate::{recreate, Recreate};
use crate::search::{State, NONE};
use crate::solver::{to_solution, Progress, SolveOptions};
use crate::PlanError;
use std::time::Instant;

/// Extends the given routes (`(vehicle, jobs in visit order)`, each vehicle at most once,
/// each job on at most one route) with every other job of `p`, without reordering or moving
/// the given stops.
///
/// Each vehicle first gets its `fixed_jobs` in their order (as `solve` does: a fixed job
/// listed elsewhere in the given routes is ignored there; one that cannot be served is
/// unassigned as `fixed`). Then each route's other jobs are appended in the given order; a
/// job that cannot follow the jobs kept before it (late, over capacity, skills, shift, maximum
/// duration, no room left for the break) is taken off and becomes free. The break goes at the
/// end while it fits there, else where it fits with the earliest return. Finally every free
/// job (on no given route, or taken off) is inserted at its cheapest feasible position after
/// the fixed prefix of any vehicle (regret-2 up to 300 free jobs, greedy insertion beyond, as
/// in the construction of `solve`); what cannot be inserted is unassigned with the solver's
/// reasons. Deterministic; only `o.seed` (greedy order beyond 300 free jobs) and
/// `o.progress` (called after the given routes are placed, then at the end) are used.
pub fn extend(
    p: &Problem,
    routes: &[(usize, Vec<usize>)],
    o: &SolveOptions,
) -> Result<Solution, PlanError> {
    let t0 = Instant::now();
    let inst = Instance::new(p)?.for_objective(o.objective);
    crate::timing::check_routes(p, routes)?;
    let mut st = State::new(&inst);
    for (v, jobs) in routes {
        for &j in jobs {
            if inst.is_fixed[j] || inst.reason[j].is_some() {
                continue;
            }
            if append(&inst, &mut st.routes[*v], j) {
                st.route_of[j] = *v as u32;
            }
        }
    }
    st.unassigned = (0..inst.n)
        .filter(|&j| {
            inst.is_unit(j)
                && inst.reason[j].is_none()
                && !inst.is_fixed[j]
                && st.route_of[j] == NONE
        })
        .collect();
    report(o, t0, 0.5, &inst, &st);
    if st.unassigned.len() > construct::REGRET_LIMIT {
        let rc = Recreate {
            allow_empty: true,
            blink: 0.0,
            urgency: None,
            open_bias: 1.0,
        };
        recreate(&inst, &mut st, Vec::new(), &mut Rng::new(o.seed), &rc);
    } else {
        construct::regret(&inst, &mut st);
    }
    report(o, t0, 1.0, &inst, &st);
    Ok(to_solution(&inst, &st))
}

fn report(o: &SolveOptions, t0: Instant, fraction: f64, inst: &Instance, st: &State) {
    if let Some(cb) = &o.progress {
        let sc = st.score(inst);
        cb(&Progress {
            elapsed: t0.elapsed().as_secs_f64(),
            fraction,
            cost: sc.cost,
            vehicles: sc.vehicles,
            unassigned: st.unassigned.len(),
        });
    }
}

/// Appends job `j` after the last job of `r` if the route stays feasible, moving the break if
/// that is what it takes. Returns whether `j` was appended.
fn append(inst: &Instance, r: &mut Route, j: usize) -> bool {
    if !inst.compatible(j, r.v) {
        return false;
    }
    let last = r.nodes.iter().rposition(|&x| inst.is_job(x)).unwrap_or(0);
    if r.insert_cost(inst, j, last, f64::INFINITY).is_some() {
        r.insert(inst, j, last);
        return true;
    }
    // Capacity does not depend on where the break is.
    let (d, len) = (inst.dims, r.nodes.len());
    let cap = inst.cap(r.v);
    let (dl, pk) = (inst.delivery(j), inst.pickup(j));
    let end = (len - 1) * d;
    if (0..d).any(|k| r.pmax[end + k] + dl[k] > cap[k] || r.load[end + k] + pk[k] > cap[k]) {
        return false;
    }
    let Some(b) = r.nodes.iter().position(|&x| inst.is_break(x)) else {
        return false;
    };
    let brk = r.nodes[b];
    let mut jobs: Vec<usize> = r.nodes[1..len - 1]
        .iter()
        .copied()
        .filter(|&x| x != brk)
        .collect();
    jobs.push(j);
    let (first, last_node) = (r.nodes[0], r.nodes[len - 1]);
    let mut trial = r.clone();
    let mut best: Option<(f64, Route)> = None;
    for q in 0..=jobs.len() {
        trial.nodes.clear();
        trial.nodes.push(first);
        trial.nodes.extend_from_slice(&jobs[..q]);
        trial.nodes.push(brk);
        trial.nodes.extend_from_slice(&jobs[q..]);
        trial.nodes.push(last_node);
        trial.update(inst);
        if !trial.feasible(inst) {
            continue;
        }
        let back = trial.arr[trial.nodes.len() - 1];
        if best.as_ref().is_none_or(|(b, _)| back < b - EPS) {
            best = Some((back, trial.clone()));
        }
    }
    match best {
        Some((_, nr)) => {
            *r = nr;
            // Insertions stay after the last fixed job, wherever the break went.
            r.locked = r
                .nodes
                .iter()
                .rposition(|&x| inst.is_job(x) && inst.is_fixed[x])
                .unwrap_or(0);
            true
        }
        None => false,
    }
}

/// Where a job can join a route: on `vehicle`'s, right after job `after` (first if `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertionPoint {
    pub vehicle: usize,
    pub after: Option<usize>,
}

/// Where each of `candidates` (job indices of `p` on none of the given routes) could join
/// the given routes alone, without moving their stops or making any of them late: the
/// cheapest feasible place, or `None`.
///
/// The given routes are placed as `extend` places them (fixed jobs first, then the others
/// in order while they fit); the candidates are never placed, so each is judged against
/// the same routes. Used to offer a customer the slots a published day can still take.
pub fn insertion_points(
    p: &Problem,
    routes: &[(usize, Vec<usize>)],
    candidates: &[usize],
    o: &SolveOptions,
) -> Result<Vec<Option<InsertionPoint>>, PlanError> {
    let inst = Instance::lean(p, candidates)?.for_objective(o.objective);
    crate::timing::check_routes(p, routes)?;
    let mut st = State::new(&inst);
    for (v, jobs) in routes {
        for &j in jobs {
            if inst.is_fixed[j] || inst.reason[j].is_some() || candidates.contains(&j) {
                continue;
            }
            append(&inst, &mut st.routes[*v], j);
        }
    }
    let points = candidates
        .iter()
        .map(|&j| {
            if j >= inst.n || !inst.is_unit(j) || inst.reason[j].is_some() || inst.is_fixed[j] {
                return None;
            }
            let mut best: Option<(f64, usize, usize)> = None;
            for r in st.routes.iter().filter(|r| inst.compatible(j, r.v)) {
                for k in r.locked..r.nodes.len() - 1 {
                    let bound = best.map_or(f64::INFINITY, |b| b.0);
                    if let Some(cost) = r.insert_cost(&inst, j, k, bound) {
                        if best.is_none_or(|b| cost < b.0 - EPS) {
                            best = Some((cost, r.v, k));
                        }
                    }
                }
            }
            best.map(|(_, vehicle, k)| InsertionPoint {
                vehicle,
                after: st.routes[vehicle].nodes[1..=k]
                    .iter()
                    .rev()
                    .copied()
                    .find(|&x| inst.is_job(x)),
            })
        })
        .collect();
    Ok(points)
}
