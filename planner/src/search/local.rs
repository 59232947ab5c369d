//! Local search on good solutions: best-improvement relocate of single jobs (within and
//! between routes), using the constant-time insertion checks; swap, 2-opt*, or-opt and SWAP*
//! between a job's route and its neighbours'.

use super::{State, NONE};
use crate::instance::Instance;
use crate::route::Route;
use std::time::Instant;

/// Relocates jobs while that lowers the cost; never opens a route.
pub fn improve(inst: &Instance, st: &mut State, deadline: Option<Instant>) {
    let all: Vec<usize> = (0..inst.n).collect();
    improve_jobs(inst, st, &all, deadline);
}

fn late(deadline: Option<Instant>, i: usize) -> bool {
    i & 15 == 0 && deadline.is_some_and(|d| Instant::now() >= d)
}

/// Same, trying only `jobs`.
pub fn improve_jobs(inst: &Instance, st: &mut State, jobs: &[usize], deadline: Option<Instant>) {
    let big = inst.n > 400 && st.routes.len() > 20;
    for _pass in 0..4 {
        let mut improved = false;
        for (i, &j) in jobs.iter().enumerate() {
            if late(deadline, i) {
                return;
            }
            let r = st.route_of[j];
            if r == NONE || inst.is_fixed[j] || !inst.is_unit(j) {
                continue;
            }
            let r = r as usize;
            let mut without = st.routes[r].clone();
            let partner = inst.partner[j];
            without.nodes.retain(|&x| x != j && x != partner);
            without.update(inst);
            if !without.feasible(inst) {
                continue;
            }
            let saving = st.routes[r].cost - without.cost;
            if saving <= 1e-9 {
                continue;
            }
            let mut best: Option<(f64, usize, (usize, usize))> = None;
            let mut consider = |r2: usize, route: &crate::route::Route| {
                let bound = best.map_or(saving - 1e-7, |b| b.0);
                if let Some((c, k, k2)) = route.best_insertion(inst, j, bound, || false) {
                    best = Some((c, r2, (k, k2)));
                }
            };
            consider(r, &without);
            if big {
                let mut seen: Vec<usize> = vec![r];
                for &c in &inst.neighbours[j] {
                    let r2 = st.route_of[c as usize];
                    if r2 != NONE && !seen.contains(&(r2 as usize)) {
                        seen.push(r2 as usize);
                        consider(r2 as usize, &st.routes[r2 as usize]);
                    }
                }
            } else {
                for (r2, route) in st.routes.iter().enumerate() {
                    if r2 != r && !route.is_empty() {
                        consider(r2, route);
                    }
                }
            }
            if let Some((_, r2, k)) = best {
                st.routes[r] = without;
                st.touch(r);
                st.insert(inst, j, r2, k);
                improved = true;
            }
        }
        if !improved {
            break;
        }
    }
}

/// Job sequence of a route (break and depots left out).
fn jobs_of(inst: &Instance, r: &Route) -> Vec<usize> {
    r.nodes
        .iter()
        .copied()
        .filter(|&x| inst.is_job(x))
        .collect()
}

/// Fills `out` with route `base`'s vehicle serving `jobs`, the break kept after as many jobs
/// as before; returns whether it is feasible.
fn rebuild(inst: &Instance, base: &Route, jobs: &[usize], out: &mut Route) -> bool {
    let before = base
        .nodes
        .iter()
        .position(|&x| inst.is_break(x))
        .map(|p| base.nodes[..p].iter().filter(|&&x| inst.is_job(x)).count());
    out.v = base.v;
    out.locked = base.locked;
    out.nodes.clear();
    out.nodes.push(base.nodes[0]);
    for (i, &j) in jobs.iter().enumerate() {
        if before == Some(i) {
            out.nodes.push(inst.break_node(base.v));
        }
        out.nodes.push(j);
    }
    if before.is_some_and(|b| b >= jobs.len()) {
        out.nodes.push(inst.break_node(base.v));
    }
    out.nodes.push(base.nodes[base.nodes.len() - 1]);
    if !pairs_intact(inst, jobs) {
        return false;
    }
    out.update(inst);
    out.feasible(inst) && jobs.iter().all(|&j| inst.compatible(j, base.v))
}

/// Every shipment step in `seq` has its partner there, the pickup first.
fn pairs_intact(inst: &Instance, seq: &[usize]) -> bool {
    if inst.jobs == inst.n {
        return true;
    }
    let mut open: Vec<usize> = Vec::new();
    for &x in seq {
        if inst.is_pickup(x) {
            open.push(x);
        } else if inst.is_delivery(x) {
            match open.iter().position(|&p| p == inst.partner[x]) {
                Some(i) => {
                    open.swap_remove(i);
                }
                None => return false,
            }
        }
    }
    open.is_empty()
}

/// Inter-route swap, 2-opt* (tail exchange), or-opt (moving strings of 2-3 jobs) and SWAP*
/// between each job of `jobs` and its granular neighbours in other routes, 2-opt with those
/// in its own; first improvement, a few passes.
pub fn improve_pairs(inst: &Instance, st: &mut State, jobs: &[usize], deadline: Option<Instant>) {
    let Some(first) = st.routes.first() else {
        return;
    };
    let mut s1 = first.clone();
    let mut s2 = first.clone();
    for _pass in 0..3 {
        let mut improved = false;
        for (i, &a) in jobs.iter().enumerate() {
            if late(deadline, i) {
                return;
            }
            for &b in inst.neighbours[a]
                .iter()
                .take(if inst.n > 2000 { 8 } else { 20 })
            {
                let b = b as usize;
                let (ra, rb) = (st.route_of[a], st.route_of[b]);
                if ra == NONE || rb == NONE || inst.is_fixed[a] || inst.is_fixed[b] {
                    continue;
                }
                if ra == rb {
                    improved |= two_opt(inst, st, ra as usize, (a, b), &mut s1);
                    continue;
                }
                let (ra, rb) = (ra as usize, rb as usize);
                let ja = jobs_of(inst, &st.routes[ra]);
                let jb = jobs_of(inst, &st.routes[rb]);
                let (Some(ia), Some(ib)) = (
                    ja.iter().position(|&x| x == a),
                    jb.iter().position(|&x| x == b),
                ) else {
                    continue;
                };
                let (la, lb) = (st.routes[ra].locked, st.routes[rb].locked);
                let old = st.routes[ra].cost + st.routes[rb].cost;
                let mut moves: Vec<(Vec<usize>, Vec<usize>)> = Vec::with_capacity(4);
                // Swap a and b.
                let (mut na, mut nb) = (ja.clone(), jb.clone());
                na[ia] = b;
                nb[ib] = a;
                moves.push((na, nb));
                // 2-opt*: a followed by b's tail; b's head followed by a's tail.
                if ia + 1 >= la && ib >= lb {
                    let mut na = ja[..=ia].to_vec();
                    na.extend_from_slice(&jb[ib..]);
                    let mut nb = jb[..ib].to_vec();
                    nb.extend_from_slice(&ja[ia + 1..]);
                    moves.push((na, nb));
                }
                // Or-opt: the string starting at a moves to just before b.
                for len in 2..=3 {
                    if ia + len <= ja.len() && ib >= lb {
                        let mut na = ja[..ia].to_vec();
                        na.extend_from_slice(&ja[ia + len..]);
                        let mut nb = jb[..ib].to_vec();
                        nb.extend_from_slice(&ja[ia..ia + len]);
                        nb.extend_from_slice(&jb[ib..]);
                        moves.push((na, nb));
                    }
                }
                let mut done = false;
                for (na, nb) in moves {
                    if !rebuild(inst, &st.routes[ra], &na, &mut s1)
                        || !rebuild(inst, &st.routes[rb], &nb, &mut s2)
                    {
                        continue;
                    }
                    if s1.cost + s2.cost < old - 1e-7 {
                        st.routes[ra].clone_from(&s1);
                        st.routes[rb].clone_from(&s2);
                        for &x in &na {
                            st.route_of[x] = ra as u32;
                        }
                        for &x in &nb {
                            st.route_of[x] = rb as u32;
                        }
                        st.touch(ra);
                        st.touch(rb);
                        done = true;
                        break;
                    }
                }
                improved |= done || swap_star(inst, st, (a, ra), (b, rb), &mut s1, &mut s2);
            }
        }
        if !improved {
            break;
        }
    }
}

/// 2-opt within one route: the stretch between neighbours `a` and `b` is reversed so that they
/// become adjacent, `a` before `b` or after it. Relocation and or-opt move short strings; a
/// long route (wide time windows) that crosses itself needs a whole stretch turned round.
/// Returns whether it improved.
fn two_opt(
    inst: &Instance,
    st: &mut State,
    r: usize,
    (a, b): (usize, usize),
    out: &mut Route,
) -> bool {
    let jobs = jobs_of(inst, &st.routes[r]);
    let (Some(ia), Some(ib)) = (
        jobs.iter().position(|&x| x == a),
        jobs.iter().position(|&x| x == b),
    ) else {
        return false;
    };
    let (lo, hi) = (ia.min(ib), ia.max(ib));
    // Edges (lo, lo+1) and (hi, hi+1) become (lo, hi) and (lo+1, hi+1); or edges (lo-1, lo)
    // and (hi-1, hi) become (lo-1, hi-1) and (lo, hi).
    let stretches = [(lo + 1, hi), (lo, hi.saturating_sub(1))];
    let old = st.routes[r].cost;
    let mut seq = Vec::with_capacity(jobs.len());
    for (from, to) in stretches {
        if from >= to || from < st.routes[r].locked {
            continue;
        }
        seq.clear();
        seq.extend_from_slice(&jobs);
        seq[from..=to].reverse();
        if rebuild(inst, &st.routes[r], &seq, out) && out.cost < old - 1e-7 {
            st.routes[r].clone_from(out);
            st.touch(r);
            return true;
        }
    }
    false
}

/// SWAP* (Vidal 2022): `a` and `b` trade routes, each at its best place in the other's route
/// rather than at the other's old place. Full routes (a fleet at its capacity floor) cannot
/// take a job by relocation, and a swap in place seldom suits both time windows; this
/// exchanges jobs of like size between them. Returns whether it improved.
fn swap_star(
    inst: &Instance,
    st: &mut State,
    (a, ra): (usize, usize),
    (b, rb): (usize, usize),
    without_a: &mut Route,
    without_b: &mut Route,
) -> bool {
    let plain = |j: usize| inst.is_unit(j) && !inst.is_pickup(j);
    if !plain(a) || !plain(b) {
        return false;
    }
    let old = st.routes[ra].cost + st.routes[rb].cost;
    for (out, r, j) in [(&mut *without_a, ra, a), (&mut *without_b, rb, b)] {
        out.clone_from(&st.routes[r]);
        out.nodes.retain(|&x| x != j);
        out.update(inst);
        if !out.feasible(inst) {
            return false;
        }
    }
    let room = old - without_a.cost - without_b.cost - 1e-7;
    if room <= 0.0 {
        return false;
    }
    let Some((cb, kb, kb2)) = without_a.best_insertion(inst, b, room, || false) else {
        return false;
    };
    let Some((_, ka, ka2)) = without_b.best_insertion(inst, a, room - cb, || false) else {
        return false;
    };
    without_a.insert_unit(inst, b, (kb, kb2));
    without_b.insert_unit(inst, a, (ka, ka2));
    // The insertion prices are exact for distance; checked again for the priced day.
    if !without_a.feasible(inst)
        || !without_b.feasible(inst)
        || without_a.cost + without_b.cost >= old - 1e-7
    {
        return false;
    }
    st.routes[ra].clone_from(without_a);
    st.routes[rb].clone_from(without_b);
    st.route_of[a] = rb as u32;
    st.route_of[b] = ra as u32;
    st.touch(ra);
    st.touch(rb);
    true
}
