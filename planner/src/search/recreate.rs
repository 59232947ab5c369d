//! Greedy insertion with blinks (SISR): jobs in a random one of several orders, each at its
//! cheapest feasible position, some positions skipped at random.

use super::State;
use crate::instance::Instance;
use crate::rng::Rng;

pub struct Recreate<'a> {
    pub allow_empty: bool,
    pub blink: f64,
    /// Optional per-job weight (absence counts in fleet minimisation): higher goes first.
    pub urgency: Option<&'a [u32]>,
    /// An empty route's insertion cost is weighed at this share, in (0, 1] (1 = its true
    /// cost; less opens routes a greedy insertion never would).
    pub open_bias: f64,
}

/// Candidate routes for `j`: all non-empty ones for small problems, else the routes of its
/// neighbours (granular); plus one empty route per vehicle type when allowed.
fn candidates(inst: &Instance, st: &State, j: usize, allow_empty: bool, out: &mut Vec<usize>) {
    out.clear();
    if is_big(inst, st) {
        // A shipment: routes near its pickup and near its delivery.
        let delivery = inst.is_pickup(j).then(|| &inst.neighbours[inst.partner[j]]);
        for &c in inst.neighbours[j]
            .iter()
            .chain(delivery.into_iter().flatten())
        {
            let r = st.route_of[c as usize];
            if r != super::NONE && !out.contains(&(r as usize)) {
                out.push(r as usize);
            }
        }
    } else {
        out.extend((0..st.routes.len()).filter(|&r| !st.routes[r].is_empty()));
    }
    if allow_empty {
        let mut seen_types: Vec<usize> = Vec::new();
        for (r, route) in st.routes.iter().enumerate() {
            if route.is_empty() && inst.compatible(j, route.v) {
                let t = inst.vtype[route.v];
                if !seen_types.contains(&t) {
                    seen_types.push(t);
                    out.push(r);
                    // One of each type found: a large fleet's other routes need no look.
                    if seen_types.len() == inst.vtypes {
                        break;
                    }
                }
            }
        }
    }
}

fn is_big(inst: &Instance, st: &State) -> bool {
    inst.n > 400 && st.routes.len() > 20
}

pub fn sort_jobs(inst: &Instance, jobs: &mut [usize], rng: &mut Rng, urgency: Option<&[u32]>) {
    let depot = inst.point[inst.start_node(0)];
    let key_dist = |j: usize| inst.travel.dist(depot, inst.point[j]);
    match rng.below(13) {
        0..=3 => rng.shuffle(jobs),
        4..=7 => jobs.sort_by_key(|&j| {
            std::cmp::Reverse(
                (0..inst.dims)
                    .map(|d| inst.delivery(j)[d] + inst.pickup(j)[d])
                    .sum::<i32>(),
            )
        }),
        8..=9 => jobs.sort_by(|&a, &b| key_dist(b).total_cmp(&key_dist(a))),
        10 => jobs.sort_by(|&a, &b| key_dist(a).total_cmp(&key_dist(b))),
        _ => jobs.sort_by(|&a, &b| {
            let w = |j: usize| inst.windows[j].iter().map(|w| w.end - w.start).sum::<f64>();
            w(a).total_cmp(&w(b))
        }),
    }
    // Usually priorities and absences first (stable: the order above within a class); not
    // always, or a cheap mix of low priorities of equal weight could never be reached.
    if rng.f64() < 0.5 && urgency.is_none() {
        return;
    }
    jobs.sort_by_key(|&j| {
        (
            std::cmp::Reverse(inst.priority[j]),
            std::cmp::Reverse(urgency.map_or(0, |u| u[j])),
        )
    });
}

/// Inserts all of `st.unassigned` plus `removed`; what cannot go stays unassigned.
pub fn recreate(
    inst: &Instance,
    st: &mut State,
    removed: Vec<usize>,
    rng: &mut Rng,
    prm: &Recreate,
) {
    recreate_opening(inst, st, removed, rng, prm, usize::MAX);
}

/// [`recreate`], opening at most `max_open` empty routes (with `prm.allow_empty`).
pub fn recreate_opening(
    inst: &Instance,
    st: &mut State,
    mut removed: Vec<usize>,
    rng: &mut Rng,
    prm: &Recreate,
    max_open: usize,
) {
    removed.append(&mut st.unassigned);
    sort_jobs(inst, &mut removed, rng, prm.urgency);
    let mut cand = Vec::new();
    let mut opened = 0;
    for j in removed {
        candidates(inst, st, j, prm.allow_empty && opened < max_open, &mut cand);
        // Random tie-breaks: equal costs (an empty route of each type) must not always go
        // to the lowest index.
        rng.shuffle(&mut cand);
        let mut best: Option<(f64, usize, (usize, usize))> = None;
        for &r in &cand {
            let bound = best.map_or(f64::INFINITY, |b| b.0);
            let blink = prm.blink;
            let weight = if st.routes[r].is_empty() {
                prm.open_bias
            } else {
                1.0
            };
            if let Some((c, k, k2)) = st.routes[r]
                .best_insertion(inst, j, bound / weight, || blink > 0.0 && rng.f64() < blink)
            {
                best = Some((c * weight, r, (k, k2)));
            }
        }
        if best.is_none() && is_big(inst, st) {
            // The granular neighbourhood found nothing: try every open route.
            for r in 0..st.routes.len() {
                if st.routes[r].is_empty() || cand.contains(&r) {
                    continue;
                }
                let bound = best.map_or(f64::INFINITY, |b| b.0);
                if let Some((c, k, k2)) = st.routes[r].best_insertion(inst, j, bound, || false) {
                    best = Some((c, r, (k, k2)));
                }
            }
        }
        match best {
            Some((_, r, k)) => {
                opened += usize::from(st.routes[r].is_empty());
                st.insert(inst, j, r, k);
            }
            None => st.unassigned.push(j),
        }
    }
}
