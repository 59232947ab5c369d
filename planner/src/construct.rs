//! Construction: regret-2 insertion for small problems, ordered greedy insertion beyond.

use crate::instance::Instance;
use crate::rng::Rng;
use crate::route::Place;
use crate::search::recreate::{recreate, Recreate};
use crate::search::State;

/// Problems above this many jobs are built greedily (regret costs O(n^2 routes)).
pub(crate) const REGRET_LIMIT: usize = 300;

/// Builds a first solution. (Filling routes one at a time for the hierarchical objective was
/// tried: slightly fewer vehicles on R1, but C2 instances got stuck 15 % above the optimum.)
pub fn build(inst: &Instance, rng: &mut Rng) -> State {
    let mut st = State::new(inst);
    if inst.n > REGRET_LIMIT {
        let rc = Recreate {
            allow_empty: true,
            blink: 0.0,
            urgency: None,
            open_bias: 1.0,
        };
        recreate(inst, &mut st, Vec::new(), rng, &rc);
        return st;
    }
    regret(inst, &mut st);
    st
}

/// Routes worth trying: every open route and the first empty route of each vehicle type.
fn open_routes(inst: &Instance, st: &State) -> Vec<usize> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (r, route) in st.routes.iter().enumerate() {
        if !route.is_empty() {
            out.push(r);
        } else if !seen.contains(&inst.vtype[route.v]) {
            seen.push(inst.vtype[route.v]);
            out.push(r);
        }
    }
    out
}

/// Regret-2 insertion of `st.unassigned` (what cannot go stays unassigned); existing stops
/// keep their order.
pub(crate) fn regret(inst: &Instance, st: &mut State) {
    let mut todo: Vec<usize> = std::mem::take(&mut st.unassigned);
    // cache[i][r]: best insertion of todo[i] into route r.
    let m = st.routes.len();
    let mut cache: Vec<Vec<Option<(f64, usize, usize)>>> = todo
        .iter()
        .map(|&j| {
            (0..m)
                .map(|r| st.routes[r].best_insertion(inst, j, f64::INFINITY, || false))
                .collect()
        })
        .collect();
    while !todo.is_empty() {
        let routes = open_routes(inst, st);
        // (regret, cost, unit, route, place)
        let mut pick: Option<(f64, f64, usize, usize, Place)> = None;
        let mut dead = Vec::new();
        for (i, &j) in todo.iter().enumerate() {
            let (mut b1, mut b2): (Option<(f64, usize, Place)>, f64) = (None, f64::INFINITY);
            for &r in &routes {
                if let Some((c, k, k2)) = cache[i][r] {
                    let k = (k, k2);
                    match b1 {
                        Some((c1, _, _)) if c >= c1 => b2 = b2.min(c),
                        Some((c1, _, _)) => {
                            b2 = c1;
                            b1 = Some((c, r, k));
                        }
                        None => b1 = Some((c, r, k)),
                    }
                }
            }
            let Some((c1, r, k)) = b1 else {
                dead.push(i);
                continue;
            };
            // Priority dominates regret: important jobs go in first.
            let reg = (b2 - c1).min(1e12) + inst.priority[j] as f64 * 1e13;
            let better = match pick {
                None => true,
                Some((pr, pc, ..)) => reg > pr || reg == pr && c1 < pc,
            };
            if better {
                pick = Some((reg, c1, j, r, k));
            }
        }
        for &i in dead.iter().rev() {
            st.unassigned.push(todo.swap_remove(i));
            cache.swap_remove(i);
        }
        let Some((_, _, i0, r, k)) = pick else {
            break;
        };
        let Some(j) = todo.iter().position(|&x| x == i0) else {
            break;
        };
        let job = todo.swap_remove(j);
        cache.swap_remove(j);
        st.insert(inst, job, r, k);
        for (i, &jj) in todo.iter().enumerate() {
            cache[i][r] = st.routes[r].best_insertion(inst, jj, f64::INFINITY, || false);
        }
    }
}
