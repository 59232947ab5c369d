//! A plan's shipments in the search. The stored problem holds each leg of a shipment as a job
//! of its own, so every edit, re-timing and view works as for any visit; the search gets the
//! pairs as `planner::Shipment`s (one courier, the pickup first, the load carried between),
//! and its routes are read back as the legs' jobs and re-timed on the stored problem, where
//! the legs carry nothing: the capacity a pair takes is checked by the search, and an edit
//! cannot reorder or part a pair (`edit::parted_shipments`).

use std::collections::HashMap;

use planner::{Problem, Shipment, ShipmentStep, Solution};

use super::input::Pair;

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
    let step = |i: usize| {
        let job = &problem.jobs[i];
        ShipmentStep {
            id: Some(job.id.clone()),
            location: job.location,
            service: job.service,
            time_windows: job.time_windows.clone(),
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
            pickup: step(p),
            delivery: step(d),
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
    let (mut retimed, _) = planner::retime_solution(problem, &routes)?;
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
