//! Granular neighbourhoods: for each job, the jobs most worth visiting next to it, from
//! `rstar` k-nearest queries re-ranked by travel time and time-window compatibility.

use crate::instance::Instance;
use crate::model::TravelSpec;
use rstar::{primitives::GeomWithData, RTree};

type Pt = GeomWithData<[f64; 2], u32>;

/// Waiting or lateness if `b` is served right after `a`, both as early as possible.
fn window_gap(inst: &Instance, a: usize, b: usize) -> f64 {
    let (wa, wb) = (&inst.windows[a], &inst.windows[b]);
    let (Some(fa), Some(lb)) = (wa.first(), wb.last()) else {
        return 0.0;
    };
    let (Some(la), Some(fb)) = (wa.last(), wb.first()) else {
        return 0.0;
    };
    let t = inst.travel.time(a, b);
    let earliest_arrival = fa.start + inst.service[a] + t;
    let late = (earliest_arrival - lb.end).max(0.0);
    let wait = (fb.start - (la.end + inst.service[a] + t)).max(0.0);
    if late > 0.0 {
        // Infeasible in this order: a poor neighbour.
        late * 10.0 + t
    } else {
        wait
    }
}

fn score(inst: &Instance, a: usize, b: usize) -> f64 {
    let t1 = inst.travel.time(a, b) + window_gap(inst, a, b);
    let t2 = inst.travel.time(b, a) + window_gap(inst, b, a);
    t1.min(t2)
}

pub fn build(inst: &Instance, k: usize) -> Vec<Vec<u32>> {
    let n = inst.n;
    let k = k.min(n.saturating_sub(1));
    if n == 0 || k == 0 {
        return vec![Vec::new(); n];
    }
    let p = inst.problem;
    if let TravelSpec::Matrix { .. } = p.travel {
        return (0..n)
            .map(|a| {
                let mut c: Vec<u32> = (0..n as u32).filter(|&b| b as usize != a).collect();
                c.sort_by(|&x, &y| {
                    score(inst, a, x as usize).total_cmp(&score(inst, a, y as usize))
                });
                c.truncate(k);
                c
            })
            .collect();
    }
    // Every task: jobs and shipment steps.
    let locations: Vec<_> = (0..n)
        .filter_map(|i| p.task(i))
        .map(|t| t.location())
        .collect();
    // Planar coordinates: lon scaled by cos(mean lat) for haversine so distances are comparable.
    let scale = match p.travel {
        TravelSpec::Haversine { .. } => {
            let lat = locations.iter().map(|l| l.lat).sum::<f64>() / n as f64;
            lat.to_radians().cos()
        }
        _ => 1.0,
    };
    let pts: Vec<Pt> = locations
        .iter()
        .enumerate()
        .map(|(i, l)| GeomWithData::new([l.lon * scale, l.lat], i as u32))
        .collect();
    let tree = RTree::bulk_load(pts.clone());
    let wide = (2 * k).min(n - 1);
    pts.iter()
        .enumerate()
        .map(|(a, pa)| {
            let mut c: Vec<(f64, u32)> = tree
                .nearest_neighbor_iter(pa.geom())
                .filter(|q| q.data as usize != a)
                .take(wide)
                .map(|q| (score(inst, a, q.data as usize), q.data))
                .collect();
            c.sort_by(|x, y| x.0.total_cmp(&y.0));
            c.truncate(k);
            c.into_iter().map(|x| x.1).collect()
        })
        .collect()
}
