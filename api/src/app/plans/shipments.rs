//! A plan's shipments in the search. The stored problem holds each leg of a shipment as a job
//! of its own, so every edit, re-timing and view works as for any visit; the search gets the
//! pairs as `planner::Shipment`s (one courier, the pickup first, the load carried between),
//! and its routes are read back as the legs' jobs and re-timed on the stored problem, where
//! the legs carry nothing in transit (an exchange's delivery still takes the old unit to the
//! depot): the capacity a pair takes is checked by the search, and an edit cannot reorder or
//! part a pair (`edit::parted_shipments`).

use std::collections::{HashMap, HashSet};

use planner::{Problem, Shipment, ShipmentStep, Solution, StepKind};

use super::input::Pair;
use crate::db::types::JobId;

/// The search's problem: the jobs of `problem` not in `pairs` (in their order), then each
/// pair as a shipment whose steps carry the legs' ids. With it, each task's index in
/// `problem` (jobs, then each shipment's pickup and delivery).
pub fn with_shipments(problem: &Problem, pairs: &[Pair]) -> (Problem, Vec<usize>) {
    let mut in_pair = vec![false; problem.jobs.len()];
    for pair in pairs {
        in_pair[pair.pickup] = true;
        in_pair[pair.delivery] = true;
    }
    let mut plain_of = Vec::with_capacity(problem.jobs.len());
    let mut jobs = Vec::new();
    for (i, job) in problem.jobs.iter().enumerate() {
        if !in_pair[i] {
            plain_of.push(i);
            jobs.push(job.clone());
        }
    }
    let step = |i: usize, kind: StepKind| {
        let job = &problem.jobs[i];
        ShipmentStep {
            id: Some(job.id.clone()),
            location: job.location,
            service: job.service,
            time_windows: job.time_windows.clone(),
            // An exchange's delivery takes the old unit back to the depot.
            pickup: match kind {
                StepKind::Delivery => job.pickup.clone(),
                StepKind::Pickup => Vec::new(),
            },
        }
    };
    let mut shipments = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let (p, d) = (pair.pickup, pair.delivery);
        let (pickup, delivery) = (&problem.jobs[p], &problem.jobs[d]);
        let mut skills = pickup.skills.clone();
        skills.extend(
            delivery
                .skills
                .iter()
                .filter(|s| !pickup.skills.contains(s))
                .cloned(),
        );
        shipments.push(Shipment {
            id: format!("shipment {}", pickup.id),
            pickup: step(p, StepKind::Pickup),
            delivery: step(d, StepKind::Delivery),
            amount: pair.amount.clone(),
            skills,
            priority: pickup.priority.max(delivery.priority),
        });
        plain_of.extend([p, d]);
    }
    let searched = Problem {
        jobs,
        shipments,
        vehicles: problem.vehicles.clone(),
        travel: problem.travel.clone(),
    };
    (searched, plain_of)
}

/// After each stop of a route (its jobs in order, `None` for a break), the units on board
/// between a shipment's legs, which the stored loads leave out. `pickups` maps a pickup leg
/// to its delivery and its units; a pair counts only with both legs on the route (a pickup
/// alone, its delivery done or left out, is stored with its load to the route's end).
pub fn units_in_transit(
    stops: &[Option<JobId>],
    pickups: &HashMap<JobId, (JobId, i32)>,
) -> Vec<i32> {
    let here: HashSet<JobId> = stops.iter().flatten().copied().collect();
    let mut carried: HashMap<JobId, i32> = HashMap::new();
    stops
        .iter()
        .map(|stop| {
            if let Some(id) = stop {
                match pickups.get(id) {
                    Some(&(delivery, units)) if here.contains(&delivery) => {
                        carried.insert(delivery, units);
                    }
                    _ => {}
                }
                carried.remove(id);
            }
            carried.values().sum()
        })
        .collect()
}

/// `given` routes (indices into `problem`'s jobs) as indices into the search's problem
/// (`plain_of` from `with_shipments`). Only plain jobs are given (a leg on a route under way
/// is kept as a plain job, never paired); a leg of a pair would be dropped.
pub fn given_in(
    searched: &Problem,
    plain_of: &[usize],
    given: &[(usize, Vec<usize>)],
) -> Vec<(usize, Vec<usize>)> {
    let searched_of: HashMap<usize, usize> = plain_of
        .iter()
        .take(searched.jobs.len())
        .enumerate()
        .map(|(s, &p)| (p, s))
        .collect();
    given
        .iter()
        .map(|(vehicle, jobs)| {
            let jobs = jobs.iter().filter_map(|j| searched_of.get(j).copied());
            (*vehicle, jobs.collect())
        })
        .collect()
}

/// The search's solution as the stored problem's: the same routes in the same order, each
/// leg its own stop, re-timed on `problem`; a shipment left out leaves both legs out, with
/// the search's reason.
pub fn as_jobs(
    problem: &Problem,
    plain_of: &[usize],
    pairs: &[Pair],
    solved: &Solution,
) -> Result<Solution, planner::PlanError> {
    let routes: Vec<(usize, Vec<usize>)> = solved
        .routes
        .iter()
        .map(|r| {
            let stops = r.stops.iter().filter_map(|s| s.job).map(|t| plain_of[t]);
            (r.vehicle, stops.collect())
        })
        .collect();
    let (mut retimed, violations) = planner::retime_solution(problem, &routes)?;
    // The stored problem is the search's with the units in transit left out: the same times,
    // never more load, so what the search found feasible is feasible there.
    debug_assert!(
        violations.is_empty(),
        "the search's routes break the stored problem: {violations:?}"
    );
    let delivery_of: HashMap<usize, usize> = pairs.iter().map(|p| (p.pickup, p.delivery)).collect();
    let mut reasons = HashMap::new();
    for u in &solved.unassigned {
        let job = plain_of[u.job];
        reasons.insert(job, u.reason);
        if let Some(&d) = delivery_of.get(&job) {
            reasons.insert(d, u.reason);
        }
    }
    for u in &mut retimed.unassigned {
        if let Some(&reason) = reasons.get(&u.job) {
            u.reason = reason;
        }
    }
    retimed.iterations = solved.iterations;
    Ok(retimed)
}
