//! Route state with cached forward/backward data so that an insertion is checked in
//! constant time (plus the breaks right after the insertion point):
//! forward: arrival, start, departure; backward: latest feasible start; loads with
//! prefix/suffix maxima for simultaneous pickup and delivery.

use crate::instance::{earliest, latest, Instance, Pricing};

pub const EPS: f64 = 1e-9;

/// Where a unit goes: after this position, and (a shipment) its delivery after the second
/// (right after the pickup when they are equal).
pub type Place = (usize, usize);

#[derive(Debug)]
pub struct Route {
    pub v: usize,
    /// `[start, ..., end]`; the break node (if any) is always present.
    pub nodes: Vec<usize>,
    /// Effective travel point per position (a break is where the previous stop was).
    pub eloc: Vec<usize>,
    /// Travel time and distance into each position (an insertion reads the leg it replaces
    /// from them instead of computing it again).
    pub tt: Vec<f64>,
    pub td: Vec<f64>,
    /// Distance and travel time from the start to each position (a shipment's insertion
    /// prices the stretch between its two steps with them).
    pub cdist: Vec<f64>,
    pub ctime: Vec<f64>,
    pub arr: Vec<f64>,
    pub start: Vec<f64>,
    pub dep: Vec<f64>,
    /// Latest start at each position keeping the rest of the route feasible.
    pub latest: Vec<f64>,
    /// Waiting (start - arrival) summed over the positions after each one: how much of a
    /// delay the rest of the route absorbs before its return moves.
    pub wait_after: Vec<f64>,
    /// Load after each position (`dims` per position) and its prefix/suffix maxima.
    pub load: Vec<i32>,
    pub pmax: Vec<i32>,
    pub smax: Vec<i32>,
    pub dist: f64,
    pub time: f64,
    pub cost: f64,
    pub jobs: usize,
    /// Insertions only after this position (fixed prefix).
    pub locked: usize,
    pub feasible_cache: bool,
}

impl Clone for Route {
    fn clone(&self) -> Self {
        Route {
            v: self.v,
            nodes: self.nodes.clone(),
            eloc: self.eloc.clone(),
            tt: self.tt.clone(),
            td: self.td.clone(),
            cdist: self.cdist.clone(),
            ctime: self.ctime.clone(),
            arr: self.arr.clone(),
            start: self.start.clone(),
            dep: self.dep.clone(),
            latest: self.latest.clone(),
            wait_after: self.wait_after.clone(),
            load: self.load.clone(),
            pmax: self.pmax.clone(),
            smax: self.smax.clone(),
            dist: self.dist,
            time: self.time,
            cost: self.cost,
            jobs: self.jobs,
            locked: self.locked,
            feasible_cache: self.feasible_cache,
        }
    }

    /// Reuses the allocations: the search copies solutions every iteration.
    fn clone_from(&mut self, o: &Self) {
        self.v = o.v;
        self.nodes.clone_from(&o.nodes);
        self.eloc.clone_from(&o.eloc);
        self.tt.clone_from(&o.tt);
        self.td.clone_from(&o.td);
        self.cdist.clone_from(&o.cdist);
        self.ctime.clone_from(&o.ctime);
        self.arr.clone_from(&o.arr);
        self.start.clone_from(&o.start);
        self.dep.clone_from(&o.dep);
        self.latest.clone_from(&o.latest);
        self.wait_after.clone_from(&o.wait_after);
        self.load.clone_from(&o.load);
        self.pmax.clone_from(&o.pmax);
        self.smax.clone_from(&o.smax);
        self.dist = o.dist;
        self.time = o.time;
        self.cost = o.cost;
        self.jobs = o.jobs;
        self.locked = o.locked;
        self.feasible_cache = o.feasible_cache;
    }
}

impl Route {
    pub fn new(inst: &Instance, v: usize) -> Self {
        let mut nodes = vec![inst.start_node(v)];
        if inst.problem.vehicles[v].break_.is_some() {
            nodes.push(inst.break_node(v));
        }
        nodes.push(inst.end_node(v));
        let mut r = Route {
            v,
            nodes,
            eloc: Vec::new(),
            tt: Vec::new(),
            td: Vec::new(),
            cdist: Vec::new(),
            ctime: Vec::new(),
            arr: Vec::new(),
            start: Vec::new(),
            dep: Vec::new(),
            latest: Vec::new(),
            wait_after: Vec::new(),
            load: Vec::new(),
            pmax: Vec::new(),
            smax: Vec::new(),
            dist: 0.0,
            time: 0.0,
            cost: 0.0,
            jobs: 0,
            locked: 0,
            feasible_cache: true,
        };
        r.update(inst);
        r
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.jobs == 0
    }

    /// Recomputes every cache from `nodes`.
    pub fn update(&mut self, inst: &Instance) {
        let len = self.nodes.len();
        let d = inst.dims;
        self.eloc.resize(len, 0);
        self.tt.resize(len, 0.0);
        self.td.resize(len, 0.0);
        self.cdist.resize(len, 0.0);
        self.ctime.resize(len, 0.0);
        self.arr.resize(len, 0.0);
        self.start.resize(len, 0.0);
        self.dep.resize(len, 0.0);
        self.latest.resize(len, 0.0);
        self.wait_after.resize(len, 0.0);
        self.load.resize(len * d, 0);
        self.pmax.resize(len * d, 0);
        self.smax.resize(len * d, 0);
        let tr = &inst.travel;
        let veh = &inst.problem.vehicles[self.v];
        self.eloc[0] = inst.point[self.nodes[0]];
        self.arr[0] = veh.shift.start;
        self.start[0] = veh.shift.start;
        self.dep[0] = veh.shift.start;
        let (mut dist, mut time) = (0.0, 0.0);
        let mut jobs = 0;
        for k in 1..len {
            let x = self.nodes[k];
            let (a, b) = (
                self.eloc[k - 1],
                if inst.is_break(x) {
                    self.eloc[k - 1]
                } else {
                    inst.point[x]
                },
            );
            self.eloc[k] = b;
            let (dd, tt) = tr.leg(a, b);
            dist += dd;
            time += tt;
            self.tt[k] = tt;
            self.td[k] = dd;
            self.cdist[k] = dist;
            self.ctime[k] = time;
            self.arr[k] = self.dep[k - 1] + tt;
            self.start[k] = earliest(&inst.windows[x], self.arr[k]);
            self.dep[k] = self.start[k] + inst.service[x];
            if inst.is_job(x) {
                jobs += 1;
            }
        }
        self.latest[len - 1] = latest(&inst.windows[self.nodes[len - 1]], f64::INFINITY);
        self.wait_after[len - 1] = 0.0;
        for k in (0..len - 1).rev() {
            let tt = self.tt[k + 1];
            let x = self.nodes[k];
            self.latest[k] = latest(&inst.windows[x], self.latest[k + 1] - tt - inst.service[x]);
            self.wait_after[k] = self.wait_after[k + 1] + (self.start[k + 1] - self.arr[k + 1]);
        }
        // Loads: every job's delivery is on board at the start (shipments are not).
        for dim in 0..d {
            self.load[dim] = 0;
        }
        for &x in &self.nodes {
            if inst.is_job(x) {
                for dim in 0..d {
                    self.load[dim] += inst.initial(x)[dim];
                }
            }
        }
        for k in 1..len {
            let x = self.nodes[k];
            for dim in 0..d {
                let mut l = self.load[(k - 1) * d + dim];
                if inst.is_job(x) {
                    l += inst.pickup(x)[dim] - inst.delivery(x)[dim];
                }
                self.load[k * d + dim] = l;
            }
        }
        for dim in 0..d {
            self.pmax[dim] = self.load[dim];
            self.smax[(len - 1) * d + dim] = self.load[(len - 1) * d + dim];
        }
        for k in 1..len {
            for dim in 0..d {
                self.pmax[k * d + dim] = self.pmax[(k - 1) * d + dim].max(self.load[k * d + dim]);
            }
        }
        for k in (0..len - 1).rev() {
            for dim in 0..d {
                self.smax[k * d + dim] = self.smax[(k + 1) * d + dim].max(self.load[k * d + dim]);
            }
        }
        self.dist = dist;
        self.time = time;
        self.jobs = jobs;
        self.cost = if jobs == 0 {
            0.0
        } else {
            self.price(inst, dist, time, self.departure(), self.arr[len - 1])
        };
        self.feasible_cache = self.check_cached(inst);
    }

    /// What the route costs under the instance's pricing, given its distance, travel time,
    /// departure and return (the same arithmetic for a route and for an insertion's delta).
    #[inline]
    fn price(&self, inst: &Instance, dist: f64, travel: f64, departure: f64, ret: f64) -> f64 {
        let veh = &inst.problem.vehicles[self.v];
        let per_time = if veh.cost_per_time > 0.0 {
            veh.cost_per_time
        } else {
            veh.cost_per_distance
        };
        let by_distance = veh.cost_per_distance * dist;
        match inst.pricing {
            Pricing::Travel => by_distance + veh.cost_per_time * travel,
            Pricing::Duration => by_distance + veh.cost_per_time * (ret - departure),
            Pricing::Balanced => {
                let d = ret - departure;
                by_distance + veh.cost_per_time * d + per_time * d * d / 3600.0
            }
            Pricing::Finish => by_distance + per_time * (ret - veh.shift.start),
        }
    }

    fn check_cached(&self, inst: &Instance) -> bool {
        let d = inst.dims;
        let cap = inst.cap(self.v);
        let time_ok = (0..self.nodes.len()).all(|k| self.arr[k] <= self.latest[k] + EPS);
        let last = (self.nodes.len() - 1) * d;
        let load_ok = (0..d).all(|dim| self.pmax[last + dim] <= cap[dim]);
        time_ok && load_ok && self.duration_ok(inst) && self.room_for(inst, 0)
    }

    /// Whether `more` tasks still fit under the vehicle's `max_tasks`.
    #[inline]
    fn room_for(&self, inst: &Instance, more: usize) -> bool {
        inst.problem.vehicles[self.v]
            .max_tasks
            .is_none_or(|m| self.jobs + more <= m)
    }

    /// Whether the route as it stands is feasible (computed by `update`).
    pub fn feasible(&self, _inst: &Instance) -> bool {
        self.feasible_cache
    }

    /// Departure from the start, delayed so as not to wait at the first stop.
    pub fn departure(&self) -> f64 {
        if self.nodes.len() < 2 {
            return self.dep[0];
        }
        self.dep[0].max(self.start[1] - self.tt[1])
    }

    pub fn duration(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.arr[self.nodes.len() - 1] - self.departure()
    }

    fn duration_ok(&self, inst: &Instance) -> bool {
        match inst.problem.vehicles[self.v].max_duration {
            Some(md) if !self.is_empty() => self.duration() <= md + EPS,
            _ => true,
        }
    }

    /// Cost increase of inserting job `j` after position `k`, if feasible and below `bound`.
    #[inline]
    pub fn insert_cost(&self, inst: &Instance, j: usize, k: usize, bound: f64) -> Option<f64> {
        if !self.room_for(inst, 1) {
            return None;
        }
        let d = inst.dims;
        if d > 0 {
            let cap = inst.cap(self.v);
            let (dl, pk) = (inst.delivery(j), inst.pickup(j));
            for dim in 0..d {
                if self.pmax[k * d + dim] + dl[dim] > cap[dim]
                    || self.load[k * d + dim] + pk[dim] > cap[dim]
                    || self.smax[(k + 1) * d + dim] + pk[dim] > cap[dim]
                {
                    return None;
                }
            }
        }
        let nx = self.next_stop(inst, k);
        // The windows alone rule out most places on a long day, before any leg is read:
        // leaving `k` after `j`'s last window closes, or `j`'s first possible end already
        // past the latest start at `nx`.
        if self.dep[k] > inst.closes[j] || inst.first_end[j] > self.latest[nx] + EPS {
            return None;
        }
        let (a, b, pj) = (self.eloc[k], self.eloc[nx], inst.point[j]);
        let tr = &inst.travel;
        let veh = &inst.problem.vehicles[self.v];
        let ((da, ta), (db, tb)) = (tr.both(a, pj), tr.both(pj, b));
        // The breaks between `k` and `nx` stand where `k` is: the leg into `nx` is `a` -> `b`.
        let (dab, tab) = (self.td[nx], self.tt[nx]);
        let dd = da + db - dab;
        let dt = ta + tb - tab;
        let travel_only = inst.pricing == Pricing::Travel;
        let mut delta = veh.cost_per_distance * dd;
        if travel_only {
            delta += veh.cost_per_time * dt;
            if self.jobs == 0 {
                // An empty route costs nothing; opening it costs its whole travel.
                delta += veh.cost_per_distance * self.dist + veh.cost_per_time * self.time;
            }
        } else if self.jobs == 0 {
            delta += veh.cost_per_distance * self.dist;
        }
        // With time priced, the distance alone is the early exit: a stop seldom shortens a day.
        if delta >= bound {
            return None;
        }
        let s = earliest(&inst.windows[j], self.dep[k] + ta);
        if !s.is_finite() {
            return None;
        }
        let mut t = s + inst.service[j];
        for q in k + 1..nx {
            t = inst.leave(self.nodes[q], t)?;
        }
        if t + tb > self.latest[nx] + EPS {
            return None;
        }
        if !travel_only {
            // The delay at `nx`, less the waiting after it, reaches the return.
            let last = self.nodes.len() - 1;
            let pushed =
                (earliest(&inst.windows[self.nodes[nx]], t + tb) - self.start[nx]).max(0.0);
            let ret = self.arr[last] + (pushed - self.wait_after[nx]).max(0.0);
            let departure = if k == 0 {
                self.dep[0].max(s - ta)
            } else {
                self.departure()
            };
            let before = if self.jobs == 0 { 0.0 } else { self.cost };
            delta = self.price(inst, self.dist + dd, self.time + dt, departure, ret) - before;
            if delta >= bound {
                return None;
            }
        }
        if veh.max_duration.is_some() {
            let mut nodes = self.nodes.clone();
            nodes.insert(k + 1, j);
            let mut r = self.clone();
            r.nodes = nodes;
            r.update(inst);
            if !r.feasible_cache {
                return None;
            }
        }
        Some(delta)
    }

    /// Best feasible insertion of unit `j`: (cost, position, delivery position), skipping
    /// positions when `blink` says so. A job goes after the position; a shipment's pickup
    /// after the first and its delivery after the second (right after the pickup when they
    /// are equal). For a job both are the same.
    pub fn best_insertion(
        &self,
        inst: &Instance,
        j: usize,
        mut bound: f64,
        mut blink: impl FnMut() -> bool,
    ) -> Option<(f64, usize, usize)> {
        if !inst.compatible(j, self.v) {
            return None;
        }
        if inst.is_pickup(j) {
            return self.best_pair_insertion(inst, j, bound, blink);
        }
        let mut best = None;
        let closes = inst.closes[j];
        for k in self.locked..self.nodes.len() - 1 {
            // Departures only grow along a route: past `j`'s last window nothing fits.
            if self.dep[k] > closes {
                break;
            }
            if blink() {
                continue;
            }
            if let Some(c) = self.insert_cost(inst, j, k, bound) {
                bound = c;
                best = Some((c, k, k));
            }
        }
        best
    }

    /// The cheapest feasible places for shipment pickup `p` and its delivery. For each place
    /// of the pickup the route after it is walked once with the times it pushes (stopping
    /// where a stop would be late or the load over capacity), and the delivery is tried
    /// after each position walked in constant time: O(stops^2) per route.
    fn best_pair_insertion(
        &self,
        inst: &Instance,
        p: usize,
        mut bound: f64,
        mut blink: impl FnMut() -> bool,
    ) -> Option<(f64, usize, usize)> {
        if !self.room_for(inst, 2) {
            return None;
        }
        let d = inst.partner[p];
        let dims = inst.dims;
        let cap = inst.cap(self.v);
        let amount = inst.pickup(p);
        let tr = &inst.travel;
        let pp = inst.point[p];
        let last = self.nodes.len() - 1;
        let over = |k: usize| (0..dims).any(|x| self.load[k * dims + x] + amount[x] > cap[x]);
        let mut best = None;
        let closes = inst.closes[p];
        for k1 in self.locked..last {
            // As in `best_insertion`: past the pickup's last window nothing fits.
            if self.dep[k1] > closes {
                break;
            }
            if blink() || over(k1) {
                continue;
            }
            let (da, ta) = tr.leg(self.eloc[k1], pp);
            let sp = earliest(&inst.windows[p], self.dep[k1] + ta);
            if !sp.is_finite() {
                continue;
            }
            // Walked so far: from position k1 to `here`, leaving at `t`.
            let (mut here, mut t) = (pp, sp + inst.service[p]);
            let (mut walked_d, mut walked_t) = (da, ta);
            let mut q = k1;
            loop {
                // The walk's time only grows: once past the delivery's last window, no later
                // place fits either.
                if t > inst.closes[d] {
                    break;
                }
                if let Some(c) = self.delivery_after(
                    inst,
                    (p, d, k1, q),
                    (here, t, walked_d, walked_t),
                    sp - ta,
                    bound,
                ) {
                    bound = c;
                    best = Some((c, k1, q));
                }
                let nq = q + 1;
                if nq >= last || over(nq) {
                    break;
                }
                let x = self.nodes[nq];
                if inst.is_break(x) {
                    // A break stands where the stop before it is, and its latest start was
                    // computed from there; right after the new pickup it stands elsewhere.
                    // So only its window is checked here, and the next stop's latest start
                    // (or the delivery's own test) decides, as in `insert_cost`.
                    let Some(after) = inst.leave(x, t) else {
                        break;
                    };
                    t = after;
                    q = nq;
                    continue;
                }
                let loc = self.eloc[nq];
                let (dx, tx) = tr.leg(here, loc);
                if t + tx > self.latest[nq] + EPS {
                    break;
                }
                let s = earliest(&inst.windows[x], t + tx);
                walked_d += dx;
                walked_t += tx;
                t = s + inst.service[x];
                here = loc;
                q = nq;
            }
        }
        best
    }

    /// The price of a shipment whose pickup goes after position `k1` and whose delivery `d`
    /// goes after position `q`, the walk having reached `here` at `t` with `walked`
    /// distance and time since position `k1`; `None` if infeasible or not below `bound`.
    #[inline]
    fn delivery_after(
        &self,
        inst: &Instance,
        (p, d, k1, q): (usize, usize, usize, usize),
        (here, t, walked_d, walked_t): (usize, f64, f64, f64),
        leave_for_pickup: f64,
        bound: f64,
    ) -> Option<f64> {
        // What the delivery takes back (an exchange) is on board from there to the end.
        let dims = inst.dims;
        let (back, cap) = (inst.pickup(d), inst.cap(self.v));
        if (0..dims).any(|x| {
            back[x] > 0
                && (self.load[q * dims + x] + back[x] > cap[x]
                    || self.smax[(q + 1) * dims + x] + back[x] > cap[x])
        }) {
            return None;
        }
        let tr = &inst.travel;
        let veh = &inst.problem.vehicles[self.v];
        let pd = inst.point[d];
        let (dd, td) = tr.leg(here, pd);
        let sd = earliest(&inst.windows[d], t + td);
        if !sd.is_finite() {
            return None;
        }
        let mut t2 = sd + inst.service[d];
        let mut nx = q + 1;
        while inst.is_break(self.nodes[nx]) {
            t2 = inst.leave(self.nodes[nx], t2)?;
            nx += 1;
        }
        let (db, tb) = tr.leg(pd, self.eloc[nx]);
        let arrival = t2 + tb;
        if arrival > self.latest[nx] + EPS {
            return None;
        }
        let ddist = walked_d + dd + db - (self.cdist[nx] - self.cdist[k1]);
        let dtime = walked_t + td + tb - (self.ctime[nx] - self.ctime[k1]);
        let mut delta = veh.cost_per_distance * ddist;
        if self.jobs == 0 {
            delta += veh.cost_per_distance * self.dist;
        }
        if inst.pricing == Pricing::Travel {
            delta += veh.cost_per_time * dtime;
            if self.jobs == 0 {
                delta += veh.cost_per_time * self.time;
            }
        } else {
            if delta >= bound {
                return None;
            }
            let last = self.nodes.len() - 1;
            let pushed =
                (earliest(&inst.windows[self.nodes[nx]], arrival) - self.start[nx]).max(0.0);
            let ret = self.arr[last] + (pushed - self.wait_after[nx]).max(0.0);
            let departure = if k1 == 0 {
                self.dep[0].max(leave_for_pickup)
            } else {
                self.departure()
            };
            let before = if self.jobs == 0 { 0.0 } else { self.cost };
            delta = self.price(inst, self.dist + ddist, self.time + dtime, departure, ret) - before;
        }
        if delta >= bound {
            return None;
        }
        if veh.max_duration.is_some() {
            let mut r = self.clone();
            r.nodes.insert(q + 1, d);
            r.nodes.insert(k1 + 1, p);
            r.update(inst);
            if !r.feasible_cache {
                return None;
            }
        }
        Some(delta)
    }

    /// Inserts unit `j` where `best_insertion` said: `(k, k2)`.
    pub fn insert_unit(&mut self, inst: &Instance, j: usize, (k, k2): Place) {
        if inst.is_pickup(j) {
            self.nodes.insert(k2 + 1, inst.partner[j]);
        }
        self.nodes.insert(k + 1, j);
        self.update(inst);
    }

    pub fn insert(&mut self, inst: &Instance, j: usize, k: usize) {
        self.nodes.insert(k + 1, j);
        self.update(inst);
    }

    /// The first position after `k` that is not a break (a break stands where the stop
    /// before it is, so it moves with that stop).
    #[inline]
    pub fn next_stop(&self, inst: &Instance, k: usize) -> usize {
        let mut n = k + 1;
        while inst.is_break(self.nodes[n]) {
            n += 1;
        }
        n
    }

    /// Position of job `j`, if on this route.
    pub fn position(&self, j: usize) -> Option<usize> {
        self.nodes.iter().position(|&x| x == j)
    }
}
