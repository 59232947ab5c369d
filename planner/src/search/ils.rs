//! Penalised iterated local search, the kind of search PyVRP runs: each step removes a few neighbouring jobs,
//! inserts them again where they cost least, and runs a local search to a local optimum,
//! all on a cost that lets windows and capacity be broken at a price (time-warp segments,
//! Vidal et al. 2013); late acceptance decides whether the walk moves on.

use crate::instance::Instance;
use crate::rng::Rng;
use crate::route::Route;
use crate::search::State;
use std::sync::Arc;
use std::time::Instant;

/// A stretch of a route as a whole: everything needed to join it to another in constant time.
#[derive(Clone, Copy, Debug)]
struct Seg {
    dist: f64,
    /// Travel time alone (`dur` also holds service and waiting).
    time: f64,
    dur: f64,
    warp: f64,
    earliest: f64,
    latest: f64,
    load: i64,
    first: u32,
    last: u32,
}

#[derive(Clone, Copy, Debug)]
enum Piece {
    /// The start and the route's first `k` jobs.
    Pre(usize, usize),
    /// The route's jobs from `k` on and the end.
    Suf(usize, usize),
    /// The route's jobs `a..b`.
    Mid(usize, usize, usize),
    Job(u32),
}

#[derive(Clone, Copy)]
struct Plan {
    pieces: [Piece; 5],
    len: usize,
}

impl Plan {
    fn of(p: &[Piece]) -> Plan {
        let mut pieces = [Piece::Job(0); 5];
        pieces[..p.len()].copy_from_slice(p);
        Plan {
            pieces,
            len: p.len(),
        }
    }
    fn pieces(&self) -> &[Piece] {
        &self.pieces[..self.len]
    }
}

#[derive(Clone)]
struct IlsRoute {
    jobs: Vec<u32>,
    pre: Vec<Seg>,
    suf: Vec<Seg>,
    /// The whole route, start to end.
    total: Seg,
}

/// Whether the search handles the instance: jobs only (no shipments), one window each, one
/// load dimension of deliveries, identical vehicles without breaks or limits, nothing fixed.
pub fn supported(inst: &Instance) -> bool {
    let p = inst.problem;
    inst.n > 0
        && inst.n == inst.jobs
        && inst.dims == 1
        && inst.vtypes == 1
        && p.vehicles.iter().all(|v| {
            v.break_.is_none()
                && v.max_duration.is_none()
                && v.max_tasks.is_none()
                && v.fixed_jobs.is_empty()
        })
        && (0..inst.n).all(|j| {
            inst.windows[j].len() == 1
                && inst.pickup[j] == 0
                && inst.reason[j].is_none()
                && (0..inst.m).all(|v| inst.compatible(j, v))
        })
}

#[derive(Clone)]
pub struct Ils<'a> {
    inst: &'a Instance<'a>,
    cap: i64,
    /// The vehicles' prices (the objective's cost of a route: distance and travel time).
    per_distance: f64,
    per_time: f64,
    start: Seg,
    end: Seg,
    routes: Vec<IlsRoute>,
    route_of: Vec<u32>,
    pos: Vec<u32>,
    warp_price: f64,
    load_price: f64,
    promising: Vec<bool>,
    order: Vec<u32>,
    /// Routes changed in this step, as they were before it (to undo a rejected step).
    saved: Vec<(usize, IlsRoute)>,
    is_saved: Vec<bool>,
    /// Steps against the budget (a twin's include the steps of the search it came from, see
    /// `twin`); `inherited` of them were not its own.
    pub iterations: u64,
    pub inherited: u64,
    neighbours: Arc<Vec<Vec<u32>>>,
    rng: Rng,
    best: (f64, Vec<Vec<u32>>),
    /// The starting solution's figures (the late acceptance's reference until its history
    /// fills), the current one's, the history and where it is.
    first: Parts,
    current: Parts,
    history: Vec<Option<Parts>>,
    at: usize,
    /// Whether each step's candidate kept the windows, and the capacity (for the prices).
    warp_seen: Vec<bool>,
    load_seen: Vec<bool>,
    next_report: u32,
    /// Per job, the count of route changes when it was last looked at; per route, the count
    /// when it last changed.
    last_test: Vec<i64>,
    last_update: Vec<i64>,
    updates: i64,
    /// The routes this search may change (all, or its share of a split, see `regions`), their
    /// numbers, and the jobs on them.
    in_region: Vec<bool>,
    region_routes: Vec<usize>,
    region_jobs: Vec<u32>,
}

const NEIGHBOURS: usize = 50;
/// Above this many jobs the all-pairs neighbourhood below costs seconds (n² pairs): the
/// instance's own (`neighbours.rs`, from nearest points) is used instead.
const ALL_PAIRS_UP_TO: usize = 4000;

/// The neighbourhood the search uses (see `proximity_neighbours`).
pub fn neighbours(inst: &Instance) -> Vec<Vec<u32>> {
    if inst.n <= ALL_PAIRS_UP_TO {
        proximity_neighbours(inst)
    } else {
        inst.neighbours.clone()
    }
}

/// PyVRP's granular neighbourhood (after Vidal et al. 2013): distance plus a fifth of the
/// waiting and all the lateness when one job follows the other as early as possible, the
/// smaller of the two orders; the 50 closest by that.
fn proximity_neighbours(inst: &Instance) -> Vec<Vec<u32>> {
    let n = inst.n;
    let one_way = |i: usize, j: usize| {
        let (d, t) = inst.travel.leg(inst.point[i], inst.point[j]);
        let (wi, wj) = (inst.windows[i][0], inst.windows[j][0]);
        let wait = (wj.start - t - inst.service[i] - wi.end).max(0.0);
        let late = (wi.start + inst.service[i] + t - wj.end).max(0.0);
        d + 0.2 * wait + late
    };
    (0..n)
        .map(|i| {
            let mut near: Vec<(f64, u32)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (one_way(i, j).min(one_way(j, i)), j as u32))
                .collect();
            let k = NEIGHBOURS.min(near.len());
            if k < near.len() {
                near.select_nth_unstable_by(k, |a, b| a.0.total_cmp(&b.0));
                near.truncate(k);
            }
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            near.into_iter().map(|(_, j)| j).collect()
        })
        .collect()
}

/// PyVRP 0.14's settings: a late acceptance history of 300 steps; prices adjusted every 500
/// steps towards 65 % of candidates keeping the windows (and the capacity); 1 to 25 jobs
/// perturbed per step.
const HISTORY: usize = 300;
const MAX_PERTURBED: usize = 25;
const UPDATE_EVERY: usize = 500;
const TARGET_FEASIBLE: f64 = 0.65;

impl<'a> Ils<'a> {
    pub fn new(
        inst: &'a Instance<'a>,
        from: &State,
        neighbours: Arc<Vec<Vec<u32>>>,
        seed: u64,
    ) -> Self {
        let v = 0;
        let (s, e) = (inst.start_node(v), inst.end_node(v));
        let win = |node: usize| inst.windows[node][0];
        let depot_seg = |node: usize| Seg {
            dist: 0.0,
            time: 0.0,
            dur: 0.0,
            warp: 0.0,
            earliest: win(node).start,
            latest: win(node).end,
            load: 0,
            first: inst.point[node] as u32,
            last: inst.point[node] as u32,
        };
        let mut me = Ils {
            inst,
            cap: inst.cap(v)[0] as i64,
            per_distance: inst.problem.vehicles[v].cost_per_distance,
            per_time: inst.problem.vehicles[v].cost_per_time,
            start: depot_seg(s),
            end: depot_seg(e),
            routes: Vec::new(),
            route_of: vec![u32::MAX; inst.n],
            pos: vec![0; inst.n],
            warp_price: 10.0,
            load_price: 10.0,
            promising: vec![false; inst.n],
            order: (0..inst.n as u32).collect(),
            saved: Vec::new(),
            is_saved: vec![false; inst.m],
            iterations: 0,
            inherited: 0,
            neighbours,
            rng: Rng::new(seed),
            best: (f64::INFINITY, Vec::new()),
            first: (0.0, 0.0, 0),
            current: (0.0, 0.0, 0),
            history: vec![None; HISTORY],
            at: 0,
            warp_seen: Vec::new(),
            load_seen: Vec::new(),
            next_report: 1,
            last_test: vec![-1; inst.n],
            last_update: vec![0; inst.m],
            updates: 0,
            in_region: Vec::new(),
            region_routes: Vec::new(),
            region_jobs: Vec::new(),
        };
        for r in &from.routes {
            let jobs: Vec<u32> = r
                .nodes
                .iter()
                .filter(|&&x| inst.is_job(x))
                .map(|&x| x as u32)
                .collect();
            me.routes.push(IlsRoute {
                jobs,
                pre: Vec::new(),
                suf: Vec::new(),
                total: me.start,
            });
        }
        for r in 0..me.routes.len() {
            me.rebuild(r);
        }
        me.set_region(&vec![true; me.routes.len()]);
        me
    }

    fn set_region(&mut self, region: &[bool]) {
        self.in_region = region.to_vec();
        self.region_routes = (0..region.len()).filter(|&r| region[r]).collect();
        self.region_jobs = self
            .region_routes
            .iter()
            .flat_map(|&r| self.routes[r].jobs.iter().copied())
            .collect();
    }

    /// Every job of the region promising (a search over all of them).
    fn promise_all(&mut self) {
        for &j in &self.region_jobs {
            self.promising[j as usize] = true;
        }
    }

    #[inline]
    fn job_seg(&self, j: u32) -> Seg {
        let j = j as usize;
        let w = self.inst.windows[j][0];
        let p = self.inst.point[j] as u32;
        Seg {
            dist: 0.0,
            time: 0.0,
            dur: self.inst.service[j],
            warp: 0.0,
            earliest: w.start,
            latest: w.end,
            load: self.inst.delivery[j] as i64,
            first: p,
            last: p,
        }
    }

    #[inline]
    fn join(&self, a: &Seg, b: &Seg) -> Seg {
        let (d, t) = self.inst.travel.leg(a.last as usize, b.first as usize);
        let delta = a.dur - a.warp + t;
        let wait = (b.earliest - delta - a.latest).max(0.0);
        let warp = (a.earliest + delta - b.latest).max(0.0);
        Seg {
            dist: a.dist + b.dist + d,
            time: a.time + b.time + t,
            dur: a.dur + b.dur + t + wait,
            warp: a.warp + b.warp + warp,
            earliest: (b.earliest - delta).max(a.earliest) - wait,
            latest: (b.latest - delta).min(a.latest) + warp,
            load: a.load + b.load,
            first: a.first,
            last: b.last,
        }
    }

    #[inline]
    fn cost(&self, s: &Seg) -> f64 {
        self.per_distance * s.dist
            + self.per_time * s.time
            + self.warp_price * s.warp
            + self.load_price * (s.load - self.cap).max(0) as f64
    }

    /// A route's penalised cost; none for an unused one (its vehicle stays at the depot).
    fn route_cost(&self, r: usize) -> f64 {
        if self.routes[r].jobs.is_empty() {
            0.0
        } else {
            self.cost(&self.routes[r].total)
        }
    }

    fn plan_jobs(&self, plan: &Plan) -> usize {
        plan.pieces()
            .iter()
            .map(|p| match *p {
                Piece::Pre(_, k) => k,
                Piece::Suf(r, k) => self.routes[r].jobs.len() - k,
                Piece::Mid(_, a, b) => b.saturating_sub(a),
                Piece::Job(_) => 1,
            })
            .sum()
    }

    fn plan_cost(&self, plan: &Plan) -> f64 {
        if self.plan_jobs(plan) == 0 {
            0.0
        } else {
            self.cost(&self.eval(plan))
        }
    }

    #[inline]
    fn total(&self, r: usize) -> Seg {
        self.routes[r].total
    }

    /// A plan's cost of travel alone, from the pieces' own figures and the legs between
    /// them: a lower bound of its penalised cost, so most moves are ruled out before their
    /// schedules are joined.
    fn travel_cost(&self, plan: &Plan) -> f64 {
        if self.plan_jobs(plan) == 0 {
            return 0.0;
        }
        let (mut dist, mut time) = (0.0, 0.0);
        let mut last: Option<u32> = None;
        for p in plan.pieces() {
            let (first, own_dist, own_time, end) = match *p {
                Piece::Pre(r, k) => {
                    let s = &self.routes[r].pre[k];
                    (s.first, s.dist, s.time, s.last)
                }
                Piece::Suf(r, k) => {
                    let s = &self.routes[r].suf[k];
                    (s.first, s.dist, s.time, s.last)
                }
                Piece::Job(j) => {
                    let pt = self.inst.point[j as usize] as u32;
                    (pt, 0.0, 0.0, pt)
                }
                Piece::Mid(r, a, b) => {
                    if a >= b {
                        continue;
                    }
                    let rt = &self.routes[r];
                    let (fa, lb) = (rt.jobs[a] as usize, rt.jobs[b - 1] as usize);
                    (
                        self.inst.point[fa] as u32,
                        rt.pre[b].dist - rt.pre[a + 1].dist,
                        rt.pre[b].time - rt.pre[a + 1].time,
                        self.inst.point[lb] as u32,
                    )
                }
            };
            if let Some(l) = last {
                let (d, t) = self.inst.travel.leg(l as usize, first as usize);
                dist += d;
                time += t;
            }
            dist += own_dist;
            time += own_time;
            last = Some(end);
        }
        self.per_distance * dist + self.per_time * time
    }

    fn rebuild(&mut self, r: usize) {
        let mut rt = std::mem::replace(
            &mut self.routes[r],
            IlsRoute {
                jobs: Vec::new(),
                pre: Vec::new(),
                suf: Vec::new(),
                total: self.start,
            },
        );
        let len = rt.jobs.len();
        rt.pre.clear();
        rt.pre.push(self.start);
        for k in 0..len {
            let s = self.join(&rt.pre[k], &self.job_seg(rt.jobs[k]));
            rt.pre.push(s);
        }
        rt.suf.clear();
        rt.suf.resize(len + 1, self.end);
        for k in (0..len).rev() {
            rt.suf[k] = self.join(&self.job_seg(rt.jobs[k]), &rt.suf[k + 1]);
        }
        for (k, &j) in rt.jobs.iter().enumerate() {
            self.route_of[j as usize] = r as u32;
            self.pos[j as usize] = k as u32;
        }
        rt.total = self.join(&rt.pre[len], &self.end);
        self.routes[r] = rt;
    }

    fn eval(&self, plan: &Plan) -> Seg {
        let mut acc: Option<Seg> = None;
        let add = |acc: &mut Option<Seg>, s: Seg| {
            *acc = Some(match acc {
                None => s,
                Some(a) => self.join(a, &s),
            });
        };
        for p in plan.pieces() {
            match *p {
                Piece::Pre(r, k) => add(&mut acc, self.routes[r].pre[k]),
                Piece::Suf(r, k) => add(&mut acc, self.routes[r].suf[k]),
                Piece::Job(j) => add(&mut acc, self.job_seg(j)),
                Piece::Mid(r, a, b) => {
                    for k in a..b {
                        add(&mut acc, self.job_seg(self.routes[r].jobs[k]));
                    }
                }
            }
        }
        // Every plan starts with a prefix (the start at least).
        acc.unwrap_or(self.start)
    }

    fn materialise(&self, plan: &Plan) -> Vec<u32> {
        let mut out = Vec::new();
        for p in plan.pieces() {
            match *p {
                Piece::Pre(r, k) => out.extend_from_slice(&self.routes[r].jobs[..k]),
                Piece::Suf(r, k) => out.extend_from_slice(&self.routes[r].jobs[k..]),
                Piece::Mid(r, a, b) => out.extend_from_slice(&self.routes[r].jobs[a..b]),
                Piece::Job(j) => out.push(j),
            }
        }
        out
    }

    fn save(&mut self, r: usize) {
        if !self.is_saved[r] {
            self.is_saved[r] = true;
            self.saved.push((r, self.routes[r].clone()));
        }
    }

    /// Applies new contents to one or two routes.
    fn apply(&mut self, a: usize, pa: &Plan, b: Option<(usize, Plan)>) {
        self.updates += 1;
        self.last_update[a] = self.updates;
        if let Some((rb, _)) = b {
            self.last_update[rb] = self.updates;
        }
        let ja = self.materialise(pa);
        let jb = b.map(|(rb, pb)| (rb, self.materialise(&pb)));
        self.save(a);
        self.routes[a].jobs = ja;
        if let Some((rb, jb)) = jb {
            self.save(rb);
            self.routes[rb].jobs = jb;
            self.rebuild(rb);
        }
        self.rebuild(a);
    }

    fn mark_around(&mut self, j: u32) {
        let j = j as usize;
        self.promising[j] = true;
        let rt = &self.routes[self.route_of[j] as usize];
        let k = self.pos[j] as usize;
        if k > 0 {
            self.promising[rt.jobs[k - 1] as usize] = true;
        }
        if k + 1 < rt.jobs.len() {
            self.promising[rt.jobs[k + 1] as usize] = true;
        }
    }

    fn empty_route(&self) -> Option<usize> {
        self.region_routes
            .iter()
            .copied()
            .find(|&r| self.routes[r].jobs.is_empty())
    }

    /// The moves of `u` with `v` (a job, or `None`: the start of route `rv`), PyVRP's default
    /// operators: `u` (and the job after it) moved after `v`, swapped with `v` (and the job
    /// after it), and the routes' tails after `u` and `v` exchanged; within one route the
    /// moves and the single swap. Each is the new contents of `u`'s route and, between two
    /// routes, of `v`'s.
    fn moves(&self, u: u32, rv: usize, v: Option<u32>) -> [Option<(Plan, Option<Plan>)>; 6] {
        use Piece::*;
        let ru = self.route_of[u as usize] as usize;
        let i = self.pos[u as usize] as usize;
        let lu = self.routes[ru].jobs.len();
        let lv = self.routes[rv].jobs.len();
        // Insertion point: after v, or at the start.
        let kv = v.map_or(0, |v| self.pos[v as usize] as usize + 1);
        let x = (i + 1 < lu).then(|| self.routes[ru].jobs[i + 1]);
        let mut cands: [Option<(Plan, Option<Plan>)>; 6] = [None; 6];
        if ru != rv {
            cands[0] = Some((
                Plan::of(&[Pre(ru, i), Suf(ru, i + 1)]),
                Some(Plan::of(&[Pre(rv, kv), Job(u), Suf(rv, kv)])),
            ));
            if let Some(x) = x {
                cands[1] = Some((
                    Plan::of(&[Pre(ru, i), Suf(ru, i + 2)]),
                    Some(Plan::of(&[Pre(rv, kv), Job(u), Job(x), Suf(rv, kv)])),
                ));
            }
            if let Some(v) = v {
                let j = kv - 1;
                cands[2] = Some((
                    Plan::of(&[Pre(ru, i), Job(v), Suf(ru, i + 1)]),
                    Some(Plan::of(&[Pre(rv, j), Job(u), Suf(rv, j + 1)])),
                ));
                if let Some(x) = x {
                    cands[3] = Some((
                        Plan::of(&[Pre(ru, i), Job(v), Suf(ru, i + 2)]),
                        Some(Plan::of(&[Pre(rv, j), Job(u), Job(x), Suf(rv, j + 1)])),
                    ));
                    if j + 1 < lv {
                        let y = self.routes[rv].jobs[j + 1];
                        cands[4] = Some((
                            Plan::of(&[Pre(ru, i), Job(v), Job(y), Suf(ru, i + 2)]),
                            Some(Plan::of(&[Pre(rv, j), Job(u), Job(x), Suf(rv, j + 2)])),
                        ));
                    }
                }
            }
            cands[5] = Some((
                Plan::of(&[Pre(ru, i + 1), Suf(rv, kv)]),
                Some(Plan::of(&[Pre(rv, kv), Suf(ru, i + 1)])),
            ));
        } else {
            if kv < i {
                cands[0] = Some((
                    Plan::of(&[Pre(ru, kv), Job(u), Mid(ru, kv, i), Suf(ru, i + 1)]),
                    None,
                ));
            } else if kv > i + 1 {
                cands[0] = Some((
                    Plan::of(&[Pre(ru, i), Mid(ru, i + 1, kv), Job(u), Suf(ru, kv)]),
                    None,
                ));
            }
            if let Some(x) = x {
                if kv < i {
                    cands[1] = Some((
                        Plan::of(&[Pre(ru, kv), Job(u), Job(x), Mid(ru, kv, i), Suf(ru, i + 2)]),
                        None,
                    ));
                } else if kv > i + 2 {
                    cands[1] = Some((
                        Plan::of(&[Pre(ru, i), Mid(ru, i + 2, kv), Job(u), Job(x), Suf(ru, kv)]),
                        None,
                    ));
                }
            }
            if v.is_some() {
                let j = kv - 1;
                if j != i {
                    let (a, b) = (i.min(j), i.max(j));
                    let jobs = &self.routes[ru].jobs;
                    cands[2] = Some((
                        Plan::of(&[
                            Pre(ru, a),
                            Job(jobs[b]),
                            Mid(ru, a + 1, b),
                            Job(jobs[a]),
                            Suf(ru, b + 1),
                        ]),
                        None,
                    ));
                }
            }
        }
        cands
    }

    /// Applies the first move of `u` with `v` that lowers the penalised cost.
    fn try_moves(&mut self, u: u32, rv: usize, v: Option<u32>) -> bool {
        let ru = self.route_of[u as usize] as usize;
        let i = self.pos[u as usize] as usize;
        let x = self.routes[ru].jobs.get(i + 1).copied();
        let cands = self.moves(u, rv, v);
        let old_u = self.route_cost(ru);
        let old = if ru != rv {
            old_u + self.route_cost(rv)
        } else {
            old_u
        };
        for (pa, pb) in cands.into_iter().flatten() {
            let travel = self.travel_cost(&pa) + pb.as_ref().map_or(0.0, |pb| self.travel_cost(pb));
            if travel >= old - 1e-9 {
                continue;
            }
            let mut new = self.plan_cost(&pa);
            if let Some(pb) = &pb {
                new += self.plan_cost(pb);
            }
            if new < old - 1e-9 {
                self.apply(ru, &pa, pb.map(|p| (rv, p)));
                self.mark_around(u);
                if let Some(v) = v {
                    self.mark_around(v);
                }
                if let Some(x) = x {
                    self.promising[x as usize] = true;
                }
                return true;
            }
        }
        false
    }

    /// `u` alone in an empty route, when that lowers the penalised cost.
    fn try_empty(&mut self, u: u32) -> bool {
        let ru = self.route_of[u as usize] as usize;
        if self.routes[ru].jobs.len() < 2 {
            return false;
        }
        let Some(re) = self.empty_route() else {
            return false;
        };
        let i = self.pos[u as usize] as usize;
        let pa = Plan::of(&[Piece::Pre(ru, i), Piece::Suf(ru, i + 1)]);
        let pb = Plan::of(&[Piece::Pre(re, 0), Piece::Job(u), Piece::Suf(re, 0)]);
        let old = self.route_cost(ru);
        let new = self.plan_cost(&pa) + self.plan_cost(&pb);
        if new < old - 1e-9 {
            self.apply(ru, &pa, Some((re, pb)));
            self.mark_around(u);
            return true;
        }
        false
    }

    /// Local search over the promising jobs until none of their moves improves.
    fn search(&mut self) {
        self.rng.shuffle(&mut self.order);
        let inst = self.inst;
        let neighbours = Arc::clone(&self.neighbours);
        // As PyVRP: a promising job stays so for the whole search, and a pair is looked at
        // again only when one of its two routes changed since the job was last looked at.
        self.last_test.fill(-1);
        self.last_update.fill(0);
        self.updates = 0;
        loop {
            let mut improved = false;
            for oi in 0..self.order.len() {
                let u = self.order[oi];
                if !self.promising[u as usize] {
                    continue;
                }
                let last = self.last_test[u as usize];
                self.last_test[u as usize] = self.updates;
                for &v in &neighbours[u as usize] {
                    if v as usize >= inst.n || v == u {
                        continue;
                    }
                    let ru = self.route_of[u as usize] as usize;
                    let rv = self.route_of[v as usize] as usize;
                    if !self.in_region[rv]
                        || (self.last_update[ru] <= last && self.last_update[rv] <= last)
                    {
                        continue;
                    }
                    if self.try_moves(u, rv, Some(v)) {
                        improved = true;
                        continue;
                    }
                    if self.pos[v as usize] == 0 && self.try_moves(u, rv, None) {
                        improved = true;
                    }
                }
                if self.try_empty(u) {
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
    }

    /// Takes `j` off its route (the route is rebuilt).
    fn remove(&mut self, j: u32) {
        let r = self.route_of[j as usize] as usize;
        self.save(r);
        let k = self.pos[j as usize] as usize;
        self.routes[r].jobs.remove(k);
        self.rebuild(r);
    }

    fn insert_cheapest(&mut self, j: u32) {
        let inst = self.inst;
        let neighbours = Arc::clone(&self.neighbours);
        let mut best: Option<(f64, usize, usize)> = None;
        let consider = |me: &Self, r: usize, k: usize, best: &mut Option<(f64, usize, usize)>| {
            let plan = Plan::of(&[Piece::Pre(r, k), Piece::Job(j), Piece::Suf(r, k)]);
            let delta = me.plan_cost(&plan) - me.route_cost(r);
            if best.is_none_or(|(b, _, _)| delta < b) {
                *best = Some((delta, r, k));
            }
        };
        for &v in &neighbours[j as usize] {
            let v = v as usize;
            if v >= inst.n || v == j as usize || self.is_out(v) {
                continue;
            }
            let r = self.route_of[v] as usize;
            if !self.in_region[r] {
                continue;
            }
            let k = self.pos[v] as usize;
            consider(self, r, k + 1, &mut best);
            if k == 0 {
                consider(self, r, 0, &mut best);
            }
        }
        if let Some(re) = self.empty_route() {
            consider(self, re, 0, &mut best);
        }
        if best.is_none() {
            let r = self.region_routes[self.rng.below(self.region_routes.len())];
            for k in 0..=self.routes[r].jobs.len() {
                consider(self, r, k, &mut best);
            }
        }
        // Some place was priced: the last resort above looks at a whole route.
        let (r, k) = best.map_or((0, 0), |(_, r, k)| (r, k));
        self.save(r);
        self.routes[r].jobs.insert(k, j);
        self.rebuild(r);
    }

    fn is_out(&self, j: usize) -> bool {
        self.route_of[j] == u32::MAX
    }

    /// Removes up to 25 jobs around a random one and inserts them again at their cheapest.
    fn perturb(&mut self) {
        let inst = self.inst;
        self.promising.fill(false);
        let count = 1 + self.rng.below(MAX_PERTURBED);
        let u = self.region_jobs[self.rng.below(self.region_jobs.len())];
        let mut out = vec![u];
        let neighbours = Arc::clone(&self.neighbours);
        for &v in &neighbours[u as usize] {
            if out.len() >= count {
                break;
            }
            if (v as usize) < inst.n
                && !out.contains(&v)
                && self.in_region[self.route_of[v as usize] as usize]
            {
                out.push(v);
            }
        }
        for &j in &out {
            self.remove(j);
            self.route_of[j as usize] = u32::MAX;
        }
        self.rng.shuffle(&mut out);
        for &j in &out {
            self.insert_cheapest(j);
        }
        for &j in &out {
            self.mark_around(j);
        }
    }

    fn parts(&self) -> Parts {
        let (mut d, mut w, mut l) = (0.0, 0.0, 0);
        for r in 0..self.routes.len() {
            if self.routes[r].jobs.is_empty() {
                continue;
            }
            let s = self.total(r);
            d += self.per_distance * s.dist + self.per_time * s.time;
            w += s.warp;
            l += (s.load - self.cap).max(0);
        }
        (d, w, l)
    }

    fn price(&self, p: Parts) -> f64 {
        p.0 + self.warp_price * p.1 + self.load_price * p.2 as f64
    }

    fn undo(&mut self) {
        let saved = std::mem::take(&mut self.saved);
        // Every job the step moved was on a route it changed: reindexing those is enough.
        for (r, rt) in saved {
            self.routes[r] = rt;
            self.is_saved[r] = false;
            for (k, &j) in self.routes[r].jobs.iter().enumerate() {
                self.route_of[j as usize] = r as u32;
                self.pos[j as usize] = k as u32;
            }
        }
    }

    fn commit(&mut self) {
        for (r, _) in self.saved.drain(..) {
            self.is_saved[r] = false;
        }
    }

    /// Sets the search off from the solution it holds (feasible and complete).
    pub fn begin(&mut self) {
        let first = self.parts();
        // The planner's own schedule found the start feasible; should the segments' rounding
        // disagree, nothing this search finds is taken unless it is feasible by both.
        self.best = if feasible(first) {
            (first.0, self.snapshot())
        } else {
            (f64::INFINITY, self.snapshot())
        };
        self.first = first;
        self.promise_all();
        self.search();
        self.commit();
        self.current = self.parts();
        if feasible(self.current) && self.current.0 < self.best.0 {
            self.best = (self.current.0, self.snapshot());
        }
    }

    /// A copy of this search with its own random stream, to be set off by `restart` (a second
    /// search taking over from this one).
    pub fn twin(&self, seed: u64) -> Self {
        let mut twin = self.clone();
        twin.rng = Rng::new(seed);
        // Its budget runs on from where the other's stands; its own steps are counted apart.
        twin.inherited = twin.iterations;
        twin
    }

    /// Goes on from `routes` (complete and feasible, one job list per vehicle), changing only
    /// the routes marked in `region`; prices and the step count carry on.
    pub fn restart(&mut self, routes: &[Vec<u32>], region: &[bool]) {
        for (r, jobs) in routes.iter().enumerate() {
            self.routes[r].jobs.clone_from(jobs);
            self.rebuild(r);
        }
        self.set_region(region);
        // No job of another share may be looked at (each step's perturbation clears these
        // too; this keeps it so whatever runs first).
        self.promising.fill(false);
        self.current = self.parts();
        self.first = self.current;
        self.history.fill(None);
        self.best = if feasible(self.current) {
            (self.current.0, self.snapshot())
        } else {
            (f64::INFINITY, self.snapshot())
        };
    }

    /// The cheapest complete feasible routes found (job lists per vehicle) and their cost.
    pub fn best(&self) -> &(f64, Vec<Vec<u32>>) {
        &self.best
    }

    fn snapshot(&self) -> Vec<Vec<u32>> {
        self.routes.iter().map(|r| r.jobs.clone()).collect()
    }

    /// Searches until `clock` says `until` of the budget has passed; `report(cost, routes)`
    /// each time another eighth of it has.
    pub fn advance(
        &mut self,
        clock: &Clock,
        until: f64,
        report: &(dyn Fn(f64, f64, usize) + Sync),
    ) {
        loop {
            let fraction = clock.fraction(self.iterations);
            while self.next_report <= 8 && fraction * 8.0 >= self.next_report as f64 {
                let routes = self.best.1.iter().filter(|r| !r.is_empty()).count();
                report(self.next_report as f64 / 8.0, self.best.0, routes);
                self.next_report += 1;
            }
            if fraction >= until {
                return;
            }
            self.step();
        }
    }

    fn step(&mut self) {
        self.iterations += 1;
        self.perturb();
        self.search();
        let mut cand = self.parts();
        self.warp_seen.push(cand.1 == 0.0);
        self.load_seen.push(cand.2 == 0);
        if feasible(cand) && cand.0 < self.best.0 - 1e-9 {
            self.best = (cand.0, self.snapshot());
            // A new best: the local search over every job, not only the perturbed ones.
            self.promise_all();
            self.search();
            cand = self.parts();
            if feasible(cand) && cand.0 < self.best.0 {
                self.best = (cand.0, self.snapshot());
            }
        }
        // Late acceptance (Burke and Bykov 2017), as PyVRP: better than the current solution
        // or than the one `HISTORY` steps ago, on today's prices.
        let late = self.history[self.at].unwrap_or(self.first);
        let (c, cur, l) = (self.price(cand), self.price(self.current), self.price(late));
        if c < l || c < cur {
            self.commit();
            self.current = cand;
        } else {
            self.undo();
        }
        if self.price(self.current) < l || self.history[self.at].is_none() {
            self.history[self.at] = Some(self.current);
        }
        self.at = (self.at + 1) % HISTORY;
        if self.warp_seen.len() == UPDATE_EVERY {
            self.warp_price = adapt(self.warp_price, &self.warp_seen);
            self.load_price = adapt(self.load_price, &self.load_seen);
            self.warp_seen.clear();
            self.load_seen.clear();
        }
    }
}

/// The routes split into `groups` shares of neighbouring routes, for as many searches to
/// change one share each (a decomposition, as Vidal's HGS does on large instances): routes
/// ordered by the angle of their jobs' centre around the depot, cut into runs of equal
/// counts, the cuts turned by a quarter of a run per `turn` so that routes at a cut meet
/// their other neighbours next time. Empty routes are dealt out in turn. `None` when there
/// are fewer than two routes with jobs per share.
pub fn regions(
    inst: &Instance,
    routes: &[Vec<u32>],
    groups: usize,
    turn: usize,
) -> Option<Vec<Vec<bool>>> {
    let depot = inst.problem.vehicles.first()?.start;
    let mut used: Vec<(f64, usize)> = Vec::new();
    let mut empty = Vec::new();
    for (r, jobs) in routes.iter().enumerate() {
        if jobs.is_empty() {
            empty.push(r);
            continue;
        }
        let (mut x, mut y) = (0.0, 0.0);
        for &j in jobs {
            let at = inst.problem.jobs[j as usize].location;
            x += at.lon - depot.lon;
            y += at.lat - depot.lat;
        }
        used.push((y.atan2(x), r));
    }
    if groups < 2 || used.len() < 2 * groups {
        return None;
    }
    used.sort_by(|a, b| a.0.total_cmp(&b.0));
    let run = used.len() / groups;
    let shift = (turn * run.div_ceil(4)) % used.len();
    let mut shares = vec![vec![false; routes.len()]; groups];
    for (k, &(_, r)) in used.iter().enumerate() {
        let place = (k + used.len() - shift) % used.len();
        shares[(place / run).min(groups - 1)][r] = true;
    }
    for (k, &r) in empty.iter().enumerate() {
        shares[k % groups][r] = true;
    }
    Some(shares)
}

/// One share of every route from the search that changed it.
pub fn merge(searches: &[Ils], shares: &[Vec<bool>]) -> Vec<Vec<u32>> {
    let routes = shares.first().map_or(0, |s| s.len());
    (0..routes)
        .map(|r| {
            let owner = shares.iter().position(|s| s[r]).unwrap_or(0);
            searches[owner].best.1[r].clone()
        })
        .collect()
}

type Parts = (f64, f64, i64);

fn feasible(p: Parts) -> bool {
    p.1 == 0.0 && p.2 == 0
}

/// The share of a budget used: by time, or by steps where the budget is a number of them.
pub struct Clock {
    pub start: Instant,
    pub end: Option<Instant>,
    pub steps: Option<u64>,
}

impl Clock {
    fn fraction(&self, steps: u64) -> f64 {
        match (self.steps, self.end) {
            (Some(m), _) => steps as f64 / m.max(1) as f64,
            (None, Some(end)) => {
                let total = end.saturating_duration_since(self.start).as_secs_f64();
                self.start.elapsed().as_secs_f64() / total.max(1e-9)
            }
            (None, None) => 1.0,
        }
    }
}

fn adapt(price: f64, seen: &[bool]) -> f64 {
    let share = seen.iter().filter(|&&f| f).count() as f64 / seen.len() as f64;
    let diff = TARGET_FEASIBLE - share;
    let p = if diff.abs() < 0.05 {
        price
    } else if diff > 0.0 {
        price * 1.5
    } else {
        price * 0.9
    };
    p.clamp(0.01, 100_000.0)
}

/// The search's routes as the planner's state; `None` if the planner's own schedule finds a
/// route infeasible (rounding at a window's edge).
pub fn to_state(inst: &Instance, routes: &[Vec<u32>]) -> Option<State> {
    let mut st = State::new(inst);
    st.unassigned.clear();
    for (v, jobs) in routes.iter().enumerate() {
        if jobs.is_empty() {
            continue;
        }
        let r: &mut Route = &mut st.routes[v];
        let end = r.nodes.pop()?;
        r.nodes.extend(jobs.iter().map(|&j| j as usize));
        r.nodes.push(end);
        r.update(inst);
        if !r.feasible(inst) {
            return None;
        }
        for &j in jobs {
            st.route_of[j as usize] = v as u32;
        }
    }
    Some(st)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::construct;
    use crate::generate::{solomon_like, SolomonClass};
    use crate::model::Objective;

    fn problem(class: SolomonClass, customers: usize, seed: u64) -> crate::model::Problem {
        crate::io::solomon::parse(&solomon_like(class, customers, seed)).unwrap()
    }

    /// Every move's figures from the segments (distance, travel cost, load, lateness) agree
    /// with the planner's own schedule of the same routes, feasible or not: every pair of a
    /// job and one of its neighbours, on a day of tight windows (R1) whose first routes are
    /// left as they are and on the same day after a hundred steps (routes with lateness).
    #[test]
    fn segment_figures_equal_the_planners_schedules() {
        let p = problem(SolomonClass::R1, 120, 5);
        let inst = Instance::new(&p)
            .unwrap()
            .for_objective(Objective::Distance);
        assert!(supported(&inst));
        let st = construct::build(&inst, &mut Rng::new(1));
        let mut search = Ils::new(&inst, &st, Arc::new(proximity_neighbours(&inst)), 1);
        let (mut feasible_seen, mut late_seen, mut over_seen) = (0, 0, 0);
        for round in 0..2 {
            if round == 1 {
                search.begin();
                for _ in 0..100 {
                    search.step();
                }
            }
            for u in 0..inst.n as u32 {
                let near: Vec<u32> = search.neighbours[u as usize].clone();
                for v in near {
                    let rv = search.route_of[v as usize] as usize;
                    let mut tried = vec![search.moves(u, rv, Some(v))];
                    if search.pos[v as usize] == 0 {
                        tried.push(search.moves(u, rv, None));
                    }
                    for (pa, pb) in tried.into_iter().flatten().flatten() {
                        for plan in std::iter::once(pa).chain(pb) {
                            let jobs = search.materialise(&plan);
                            if jobs.is_empty() {
                                continue;
                            }
                            let seg = search.eval(&plan);
                            let mut route = Route::new(&inst, 0);
                            let end = route.nodes.pop().unwrap();
                            route.nodes.extend(jobs.iter().map(|&j| j as usize));
                            route.nodes.push(end);
                            route.update(&inst);
                            assert!((seg.dist - route.dist).abs() < 1e-6);
                            assert!((search.travel_cost(&plan) - route.cost).abs() < 1e-6);
                            let load: i64 =
                                jobs.iter().map(|&j| inst.delivery[j as usize] as i64).sum();
                            assert_eq!(seg.load, load);
                            let over = load > search.cap;
                            let late = seg.warp > 1e-6;
                            if !late && !over {
                                assert!(route.feasible(&inst), "{jobs:?}");
                                feasible_seen += 1;
                            } else {
                                assert!(!route.feasible(&inst), "{jobs:?}");
                                late_seen += usize::from(late);
                                over_seen += usize::from(over);
                            }
                        }
                    }
                }
            }
        }
        assert!(feasible_seen > 1000 && late_seen > 1000 && over_seen > 100);
    }

    /// The search keeps every job on a route, ends with routes the checker accepts and never
    /// longer than where it started; with a number of steps it is deterministic.
    #[test]
    fn the_search_ends_complete_feasible_and_no_longer() {
        for class in [SolomonClass::R1, SolomonClass::Rc2] {
            let p = problem(class, 150, 2);
            let inst = Instance::new(&p)
                .unwrap()
                .for_objective(Objective::Distance);
            let st = construct::build(&inst, &mut Rng::new(1));
            let neighbours = Arc::new(proximity_neighbours(&inst));
            let clock = Clock {
                start: Instant::now(),
                end: None,
                steps: Some(300),
            };
            let run = || {
                let mut search = Ils::new(&inst, &st, Arc::clone(&neighbours), 7);
                search.begin();
                search.advance(&clock, 1.0, &|_, _, _| {});
                assert_eq!(search.iterations, 300);
                search.best().clone()
            };
            let (cost, routes) = run();
            assert_eq!(run(), (cost, routes.clone()));
            assert!(cost < st.cost(), "{cost} against {}", st.cost());
            let found = to_state(&inst, &routes).unwrap();
            assert!((found.cost() - cost).abs() < 1e-6);
            let sol = crate::solver::to_solution(&inst, &found);
            let report = crate::check(&p, &sol).unwrap();
            assert_eq!(report.unassigned, 0);
            assert!((report.distance - cost).abs() < 1e-6);
        }
    }

    /// Two searches, each on its share of the routes: each changes only its own share and
    /// keeps its jobs there, and the routes put together from both are complete, accepted by
    /// the checker and no longer than either search's best (which holds the other share as it
    /// was); the shares' cuts move with the turn.
    #[test]
    fn shares_of_the_routes_are_searched_apart_and_put_together() {
        let p = problem(SolomonClass::R1, 200, 3);
        let inst = Instance::new(&p)
            .unwrap()
            .for_objective(Objective::Distance);
        let st = construct::build(&inst, &mut Rng::new(1));
        let neighbours = Arc::new(proximity_neighbours(&inst));
        let from: Vec<Vec<u32>> = Ils::new(&inst, &st, Arc::clone(&neighbours), 1).snapshot();
        let shares = regions(&inst, &from, 2, 0).unwrap();
        assert_ne!(shares, regions(&inst, &from, 2, 1).unwrap());
        assert!(regions(&inst, &from[..3], 2, 0).is_none());
        let clock = Clock {
            start: Instant::now(),
            end: None,
            steps: Some(200),
        };
        let mut searches: Vec<Ils> = (0..2)
            .map(|t| {
                let mut s = Ils::new(&inst, &st, Arc::clone(&neighbours), 3 + t);
                s.restart(&from, &shares[t as usize]);
                s.advance(&clock, 1.0, &|_, _, _| {});
                s
            })
            .collect();
        for (s, share) in searches.iter().zip(&shares) {
            let best = &s.best().1;
            let mut mine: Vec<u32> = Vec::new();
            let mut was: Vec<u32> = Vec::new();
            for r in 0..from.len() {
                if share[r] {
                    mine.extend(&best[r]);
                    was.extend(&from[r]);
                } else {
                    assert_eq!(best[r], from[r], "route {r} outside the share changed");
                }
            }
            mine.sort_unstable();
            was.sort_unstable();
            assert_eq!(mine, was);
            assert!(best != &from, "the search found nothing in 200 steps");
        }
        let merged = merge(&searches, &shares);
        searches[0].restart(&merged, &vec![true; merged.len()]);
        let cost = searches[0].best().0;
        assert!(cost < searches[1].best().0 && cost < st.cost());
        let found = to_state(&inst, &merged).unwrap();
        let sol = crate::solver::to_solution(&inst, &found);
        let report = crate::check(&p, &sol).unwrap();
        assert_eq!(report.unassigned, 0);
        assert!((report.distance - cost).abs() < 1e-6);
    }
}
