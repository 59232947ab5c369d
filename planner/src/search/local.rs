//! Local search on good solutions: best-improvement relocate of single jobs (within and
//! between routes), using the constant-time insertion checks; swap, 2-opt*, or-opt and SWAP*
//! between a job's route and its neighbours'.

use super::{State, NONE};
use crate::instance::{Instance, Pricing};
use crate::route::Route;
use std::time::Instant;

/// Relocates jobs while that lowers the cost; never opens a route.
pub fn improve(inst: &Instance, st: &mut State, deadline: Option<Instant>) {
    let all: Vec<usize> = (0..inst.n).collect();
    improve_jobs(inst, st, &all, deadline);
}

/// How far a move's estimate may be above the present cost and still be rebuilt: rounding in
/// the prefix sums must not drop a move that improves.
const SLACK: f64 = 1e-6;

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

/// What a route costs after a move, from its cumulative distance and time instead of a
/// rebuild: exact (to rounding) when a route costs the sum of its legs (`Pricing::Travel`,
/// the distance objective among them). Pair moves are judged by rebuilding both routes; most
/// do not improve, and these let them be dropped unbuilt.
mod legs {
    use crate::instance::Instance;
    use crate::route::Route;

    /// A leg between two travel points on vehicle `v`.
    pub fn leg(inst: &Instance, v: usize, from: usize, to: usize) -> f64 {
        let veh = &inst.problem.vehicles[v];
        let (d, t) = inst.travel.leg(from, to);
        veh.cost_per_distance * d + veh.cost_per_time * t
    }

    /// Route `r` from position `i` to `j`, driven by vehicle `v`.
    pub fn stretch(inst: &Instance, r: &Route, v: usize, i: usize, j: usize) -> f64 {
        let veh = &inst.problem.vehicles[v];
        veh.cost_per_distance * (r.cdist[j] - r.cdist[i])
            + veh.cost_per_time * (r.ctime[j] - r.ctime[i])
    }

    /// Route `r` with the stops strictly between positions `i` and `j` (`j` not a break)
    /// replaced by `seq`, serving `jobs` jobs afterwards.
    pub fn replaced(
        inst: &Instance,
        r: &Route,
        (i, j): (usize, usize),
        seq: &[usize],
        jobs: usize,
    ) -> f64 {
        if jobs == 0 {
            return 0.0;
        }
        let mut cost = r.cost - stretch(inst, r, r.v, i, j);
        let mut from = r.eloc[i];
        for &x in seq {
            cost += leg(inst, r.v, from, inst.point[x]);
            from = inst.point[x];
        }
        cost + leg(inst, r.v, from, r.eloc[j])
    }

    /// 2-opt* between `a` (position `pa` of `ra`) and `b` (`pb` of `rb`): `a` followed by `b`
    /// and `rb`'s tail on `ra`'s vehicle; `rb`'s head followed by `ra`'s tail on `rb`'s.
    /// Both routes, together.
    pub fn tail_exchange(
        inst: &Instance,
        (ra, pa): (&Route, usize),
        (rb, pb): (&Route, usize),
    ) -> f64 {
        let (ea, eb) = (ra.nodes.len() - 1, rb.nodes.len() - 1);
        let new_a = stretch(inst, ra, ra.v, 0, pa)
            + leg(inst, ra.v, ra.eloc[pa], rb.eloc[pb])
            + stretch(inst, rb, ra.v, pb, eb - 1)
            + leg(inst, ra.v, rb.eloc[eb - 1], ra.eloc[ea]);
        let na = ra.next_stop(inst, pa);
        let head_jobs = rb.nodes[1..pb].iter().any(|&x| inst.is_job(x));
        let new_b = if na < ea {
            stretch(inst, rb, rb.v, 0, pb - 1)
                + leg(inst, rb.v, rb.eloc[pb - 1], ra.eloc[na])
                + stretch(inst, ra, rb.v, na, ea - 1)
                + leg(inst, rb.v, ra.eloc[ea - 1], rb.eloc[eb])
        } else if head_jobs {
            stretch(inst, rb, rb.v, 0, pb - 1) + leg(inst, rb.v, rb.eloc[pb - 1], rb.eloc[eb])
        } else {
            0.0
        };
        new_a + new_b
    }

    /// The `len` (at most 3) jobs from position `p` on (breaks skipped), and the position of
    /// the last.
    pub fn string_at(
        inst: &Instance,
        r: &Route,
        p: usize,
        len: usize,
    ) -> Option<([usize; 3], usize)> {
        let mut out = [0; 3];
        let (mut k, mut n) = (p, 0);
        while n < len {
            let x = *r.nodes.get(k)?;
            if inst.is_job(x) {
                out[n] = x;
                n += 1;
            } else if !inst.is_break(x) {
                return None;
            }
            k += 1;
        }
        Some((out, k - 1))
    }
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
    let by_legs = inst.pricing == Pricing::Travel;
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
                let old = st.routes[ra].cost + st.routes[rb].cost;
                // Which of swap, 2-opt*, or-opt 2 and 3 may improve: all of them unless the
                // routes cost their legs; the rebuild below decides.
                let mut may = [true; 4];
                if by_legs {
                    let (route_a, route_b) = (&st.routes[ra], &st.routes[rb]);
                    let (Some(pa), Some(pb)) = (route_a.position(a), route_b.position(b)) else {
                        continue;
                    };
                    let (na, nb) = (route_a.next_stop(inst, pa), route_b.next_stop(inst, pb));
                    let swapped = legs::replaced(inst, route_a, (pa - 1, na), &[b], route_a.jobs)
                        + legs::replaced(inst, route_b, (pb - 1, nb), &[a], route_b.jobs);
                    may[0] = swapped < old + SLACK;
                    may[1] = legs::tail_exchange(inst, (route_a, pa), (route_b, pb)) < old + SLACK;
                    for len in 2..=3 {
                        may[len] = legs::string_at(inst, route_a, pa, len).is_some_and(
                            |(string, last)| {
                                let moved = legs::replaced(
                                    inst,
                                    route_a,
                                    (pa - 1, route_a.next_stop(inst, last)),
                                    &[],
                                    route_a.jobs - len,
                                ) + legs::replaced(
                                    inst,
                                    route_b,
                                    (pb - 1, pb),
                                    &string[..len],
                                    route_b.jobs + len,
                                );
                                moved < old + SLACK
                            },
                        );
                    }
                }
                if !may.contains(&true) {
                    improved |= swap_star(inst, st, (a, ra), (b, rb), &mut s1, &mut s2);
                    continue;
                }
                let ja = jobs_of(inst, &st.routes[ra]);
                let jb = jobs_of(inst, &st.routes[rb]);
                let (Some(ia), Some(ib)) = (
                    ja.iter().position(|&x| x == a),
                    jb.iter().position(|&x| x == b),
                ) else {
                    continue;
                };
                let (la, lb) = (st.routes[ra].locked, st.routes[rb].locked);
                let mut moves: Vec<(Vec<usize>, Vec<usize>)> = Vec::with_capacity(4);
                // Swap a and b.
                if may[0] {
                    let (mut na, mut nb) = (ja.clone(), jb.clone());
                    na[ia] = b;
                    nb[ib] = a;
                    moves.push((na, nb));
                }
                // 2-opt*: a followed by b's tail; b's head followed by a's tail.
                if may[1] && ia + 1 >= la && ib >= lb {
                    let mut na = ja[..=ia].to_vec();
                    na.extend_from_slice(&jb[ib..]);
                    let mut nb = jb[..ib].to_vec();
                    nb.extend_from_slice(&ja[ia + 1..]);
                    moves.push((na, nb));
                }
                // Or-opt: the string starting at a moves to just before b.
                for len in 2..=3 {
                    if may[len] && ia + len <= ja.len() && ib >= lb {
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
    if inst.pricing == Pricing::Travel {
        // Nothing to gain unless taking both out saves something: judged before rebuilding.
        let without = |r: &Route, j: usize| {
            let p = r.position(j)?;
            let next = r.next_stop(inst, p);
            Some(legs::replaced(inst, r, (p - 1, next), &[], r.jobs - 1))
        };
        let (Some(wa), Some(wb)) = (without(&st.routes[ra], a), without(&st.routes[rb], b)) else {
            return false;
        };
        if wa + wb > old - 1e-7 + SLACK {
            return false;
        }
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::construct;
    use crate::generate::city_day;
    use crate::rng::Rng;

    fn close(estimate: f64, rebuilt: f64) -> bool {
        (estimate - rebuilt).abs() <= 1e-9 * rebuilt.abs().max(1.0)
    }

    /// The leg estimates equal the rebuilt routes' costs for every swap, 2-opt*, or-opt
    /// and removal between jobs of different routes, feasible or not: a city day (every
    /// courier with a break, travel time priced) whose couriers end at another hub than
    /// they start from and pay per kilometre apart.
    #[test]
    fn leg_estimates_equal_rebuilt_costs() {
        let mut p = city_day(80, 6, 7);
        let hubs: Vec<_> = p.vehicles.iter().map(|v| v.start).collect();
        for (i, v) in p.vehicles.iter_mut().enumerate() {
            v.cost_per_distance *= 1.0 + 0.3 * i as f64;
            v.end = hubs[(i + 1) % hubs.len()];
        }
        let inst = Instance::new(&p).unwrap();
        assert_eq!(inst.pricing, Pricing::Travel);
        let st = construct::build(&inst, &mut Rng::new(3));
        let (mut s1, mut s2) = (st.routes[0].clone(), st.routes[0].clone());
        let mut compared = 0;
        for a in 0..inst.n {
            for b in 0..inst.n {
                let (ra, rb) = (st.route_of[a], st.route_of[b]);
                if ra == NONE || rb == NONE || ra == rb {
                    continue;
                }
                let (route_a, route_b) = (&st.routes[ra as usize], &st.routes[rb as usize]);
                let (ja, jb) = (jobs_of(&inst, route_a), jobs_of(&inst, route_b));
                let ia = ja.iter().position(|&x| x == a).unwrap();
                let ib = jb.iter().position(|&x| x == b).unwrap();
                let pa = route_a.position(a).unwrap();
                let pb = route_b.position(b).unwrap();
                let (na, nb) = (route_a.next_stop(&inst, pa), route_b.next_stop(&inst, pb));
                let mut rebuilt = |seq_a: &[usize], seq_b: &[usize]| {
                    rebuild(&inst, route_a, seq_a, &mut s1);
                    rebuild(&inst, route_b, seq_b, &mut s2);
                    s1.cost + s2.cost
                };
                // Swap.
                let (mut sa, mut sb) = (ja.clone(), jb.clone());
                sa[ia] = b;
                sb[ib] = a;
                let estimate = legs::replaced(&inst, route_a, (pa - 1, na), &[b], route_a.jobs)
                    + legs::replaced(&inst, route_b, (pb - 1, nb), &[a], route_b.jobs);
                assert!(close(estimate, rebuilt(&sa, &sb)), "swap {a} {b}");
                // 2-opt*.
                let mut sa = ja[..=ia].to_vec();
                sa.extend_from_slice(&jb[ib..]);
                let mut sb = jb[..ib].to_vec();
                sb.extend_from_slice(&ja[ia + 1..]);
                let estimate = legs::tail_exchange(&inst, (route_a, pa), (route_b, pb));
                assert!(close(estimate, rebuilt(&sa, &sb)), "2-opt* {a} {b}");
                // Or-opt.
                for len in 2..=3 {
                    let Some((string, last)) = legs::string_at(&inst, route_a, pa, len) else {
                        assert!(ia + len > ja.len());
                        continue;
                    };
                    assert_eq!(string[..len], ja[ia..ia + len]);
                    let mut sa = ja[..ia].to_vec();
                    sa.extend_from_slice(&ja[ia + len..]);
                    let mut sb = jb[..ib].to_vec();
                    sb.extend_from_slice(&string[..len]);
                    sb.extend_from_slice(&jb[ib..]);
                    let next = route_a.next_stop(&inst, last);
                    let estimate =
                        legs::replaced(&inst, route_a, (pa - 1, next), &[], route_a.jobs - len)
                            + legs::replaced(
                                &inst,
                                route_b,
                                (pb - 1, pb),
                                &string[..len],
                                route_b.jobs + len,
                            );
                    assert!(close(estimate, rebuilt(&sa, &sb)), "or-opt {len} {a} {b}");
                }
                // Taking `a` out (SWAP*'s first test).
                let mut without = route_a.clone();
                without.nodes.retain(|&x| x != a);
                without.update(&inst);
                let estimate = legs::replaced(&inst, route_a, (pa - 1, na), &[], route_a.jobs - 1);
                assert!(close(estimate, without.cost), "without {a}");
                compared += 1;
            }
        }
        // Most pairs of the day's jobs lie on different routes.
        assert!(compared > 3000, "{compared}");
    }
}
