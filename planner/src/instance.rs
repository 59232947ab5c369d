//! The problem compiled for the search: flat per-node arrays, compatibility, neighbours.
//!
//! Nodes: tasks `0..n` (jobs, then each shipment's pickup and delivery, as `model::Task`
//! numbers them), vehicle `v` start `n + 2v`, end `n + 2v + 1`, break `n + 2m + v`. Travel
//! points are the same numbers for tasks and depots; a break has none (it is taken where the
//! courier is).
//!
//! The search moves *units*: a job, or a shipment's pickup standing for the pair (its
//! delivery goes wherever its pickup goes, on the same route, after it).

use crate::model::{Objective, Problem, StepKind, Task, TimeWindow, UnassignedReason};
use crate::neighbours;
use crate::travel::{self, TravelTable};
use crate::PlanError;

pub const NO_POINT: usize = usize::MAX;
/// `partner` of a job (a task that is no shipment step).
pub const NO_PARTNER: usize = usize::MAX;

/// How the search prices a route (see [`Objective`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    /// Distance and travel time.
    Travel,
    /// Distance and the whole duration, departure to return.
    Duration,
    /// `Duration` plus the duration squared.
    Balanced,
    /// Distance and the return time after the shift's start.
    Finish,
}

impl Pricing {
    pub fn of(o: Objective) -> Self {
        match o {
            Objective::Distance | Objective::Hierarchical => Pricing::Travel,
            Objective::FewestCouriers | Objective::Cost => Pricing::Duration,
            Objective::Balanced => Pricing::Balanced,
            Objective::EarliestFinish => Pricing::Finish,
        }
    }
}

pub struct Instance<'a> {
    pub problem: &'a Problem,
    /// Tasks: jobs and shipment steps.
    pub n: usize,
    /// Jobs (tasks `0..jobs`); shipment steps follow.
    pub jobs: usize,
    pub m: usize,
    pub dims: usize,
    pub travel: TravelTable,
    pub point: Vec<usize>,
    pub service: Vec<f64>,
    /// Sorted, non-overlapping after normalisation.
    pub windows: Vec<Vec<TimeWindow>>,
    /// Per node, the end of its last window (minus infinity without one): a route leaving a
    /// position later cannot take it there or anywhere after.
    pub closes: Vec<f64>,
    /// Per node, its first window's start plus its service (infinity without a window): it
    /// cannot be done earlier wherever it goes.
    pub first_end: Vec<f64>,
    /// Per task, `dims` entries each: on board from the start (a job's delivery), removed
    /// here, added here (a pickup step adds its amount, a delivery step removes it).
    pub initial: Vec<i32>,
    pub delivery: Vec<i32>,
    pub pickup: Vec<i32>,
    /// The other step of a shipment step; `NO_PARTNER` for a job.
    pub partner: Vec<usize>,
    pub priority: Vec<u32>,
    /// Per vehicle, `dims` entries each.
    pub capacity: Vec<i32>,
    /// `compat[j * m + v]`: vehicle has the skills of job.
    pub compat: Vec<bool>,
    /// Jobs that can never be served, with why.
    pub reason: Vec<Option<UnassignedReason>>,
    pub weight: Vec<f64>,
    /// Vehicle "type" id (identical vehicles share one): an empty route per type is enough
    /// to try when inserting.
    pub vtype: Vec<usize>,
    /// How many types there are (a search for one empty route of each stops at this many).
    pub vtypes: usize,
    pub neighbours: Vec<Vec<u32>>,
    /// Fixed prefix per vehicle (job indices).
    pub fixed: Vec<Vec<usize>>,
    pub is_fixed: Vec<bool>,
    pub pricing: Pricing,
}

fn normalise(mut w: Vec<TimeWindow>) -> Vec<TimeWindow> {
    if w.is_empty() {
        return vec![TimeWindow::new(f64::NEG_INFINITY, f64::INFINITY)];
    }
    w.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut out: Vec<TimeWindow> = Vec::with_capacity(w.len());
    for tw in w {
        match out.last_mut() {
            Some(last) if tw.start <= last.end => last.end = last.end.max(tw.end),
            _ => out.push(tw),
        }
    }
    out
}

/// A load vector per task, padded to `dims` (missing entries are 0).
fn per_dim<'p>(
    tasks: &[Task<'p>],
    dims: usize,
    f: impl Fn(&Task<'p>) -> Option<&'p [i32]>,
) -> Vec<i32> {
    tasks
        .iter()
        .flat_map(|t| {
            let v = f(t).unwrap_or(&[]);
            (0..dims).map(move |d| v.get(d).copied().unwrap_or(0))
        })
        .collect()
}

/// Earliest time >= `t` inside one of `w` (INFINITY if none).
#[inline]
pub fn earliest(w: &[TimeWindow], t: f64) -> f64 {
    for tw in w {
        if t <= tw.end {
            return t.max(tw.start);
        }
    }
    f64::INFINITY
}

/// Latest time <= `t` inside one of `w` (NEG_INFINITY if none).
#[inline]
pub fn latest(w: &[TimeWindow], t: f64) -> f64 {
    for tw in w.iter().rev() {
        if t >= tw.start {
            return t.min(tw.end);
        }
    }
    f64::NEG_INFINITY
}

impl<'a> Instance<'a> {
    /// The instance a search runs on: a dense travel table while it fits, and granular
    /// neighbourhoods.
    pub fn new(p: &'a Problem) -> Result<Self, PlanError> {
        crate::validate(p).map_err(PlanError::Invalid)?;
        let mut inst = Self::with_travel(p, travel::table(p)?)?;
        inst.judge(0..inst.n);
        inst.neighbours = neighbours::build(&inst, 40);
        Ok(inst)
    }

    /// The instance a few insertions into given routes need: travel computed leg by leg,
    /// no neighbourhoods, and `reason` worked out for the `judged` tasks only (every other
    /// is `None`: a route's stop is checked where it is placed anyway). The rest costs
    /// O(n^2), O(n log n) or a trial route per task to build, far more than placing one
    /// job on a day of thousands (a live day does it every few minutes).
    pub fn lean(p: &'a Problem, judged: &[usize]) -> Result<Self, PlanError> {
        crate::validate(p).map_err(PlanError::Invalid)?;
        let (model, factor) = travel::model(p)?;
        let mut inst = Self::with_travel(p, TravelTable::Lazy(model, factor))?;
        let n = inst.n;
        inst.judge(judged.iter().copied().filter(|&j| j < n));
        Ok(inst)
    }

    /// Everything but the neighbourhoods, on `travel` (`p` validated).
    fn with_travel(p: &'a Problem, travel: TravelTable) -> Result<Self, PlanError> {
        let n = p.task_count();
        let m = p.vehicles.len();
        let tasks: Vec<Task> = (0..n).filter_map(|i| p.task(i)).collect();
        let dims = p
            .jobs
            .iter()
            .map(|j| j.delivery.len().max(j.pickup.len()))
            .chain(
                p.shipments
                    .iter()
                    .map(|s| s.amount.len().max(s.delivery.pickup.len())),
            )
            .chain(p.vehicles.iter().map(|v| v.capacity.len()))
            .max()
            .unwrap_or(0);
        let total = n + 3 * m;
        let mut point = vec![NO_POINT; total];
        let mut service = vec![0.0; total];
        let mut windows = vec![Vec::new(); total];
        for (i, t) in tasks.iter().enumerate() {
            point[i] = i;
            service[i] = t.service();
            windows[i] = normalise(t.time_windows().to_vec());
        }
        for (v, veh) in p.vehicles.iter().enumerate() {
            point[n + 2 * v] = n + 2 * v;
            point[n + 2 * v + 1] = n + 2 * v + 1;
            windows[n + 2 * v] = vec![veh.shift];
            windows[n + 2 * v + 1] = vec![veh.shift];
            match veh.break_ {
                Some(b) => {
                    service[n + 2 * m + v] = b.duration;
                    windows[n + 2 * m + v] = vec![b.window];
                }
                None => windows[n + 2 * m + v] = normalise(Vec::new()),
            }
        }
        let initial = per_dim(&tasks, dims, |t| match *t {
            Task::Job(j) => Some(j.delivery.as_slice()),
            Task::Step(..) => None,
        });
        let delivery = per_dim(&tasks, dims, |t| match *t {
            Task::Job(j) => Some(j.delivery.as_slice()),
            Task::Step(s, StepKind::Delivery) => Some(s.amount.as_slice()),
            Task::Step(_, StepKind::Pickup) => None,
        });
        let pickup = per_dim(&tasks, dims, |t| match *t {
            Task::Job(j) => Some(j.pickup.as_slice()),
            Task::Step(s, StepKind::Pickup) => Some(s.amount.as_slice()),
            Task::Step(s, StepKind::Delivery) => Some(s.delivery.pickup.as_slice()),
        });
        let capacity: Vec<i32> = p
            .vehicles
            .iter()
            .flat_map(|v| (0..dims).map(|d| v.capacity.get(d).copied().unwrap_or(0)))
            .collect();
        let mut compat = vec![false; n * m];
        for (i, t) in tasks.iter().enumerate() {
            for (v, veh) in p.vehicles.iter().enumerate() {
                compat[i * m + v] = t.skills().iter().all(|s| veh.skills.contains(s));
            }
        }
        let partner = (0..n)
            .map(|i| match tasks[i] {
                Task::Job(_) => NO_PARTNER,
                Task::Step(_, StepKind::Pickup) => i + 1,
                Task::Step(_, StepKind::Delivery) => i - 1,
            })
            .collect();
        let mut vtype = vec![0; m];
        let mut reps: Vec<usize> = Vec::new();
        for (v, a) in p.vehicles.iter().enumerate() {
            let same = |b: &crate::model::Vehicle| {
                a.start == b.start
                    && a.end == b.end
                    && a.shift == b.shift
                    && a.capacity == b.capacity
                    && a.skills == b.skills
                    && a.max_duration == b.max_duration
                    && a.break_ == b.break_
                    && a.max_tasks == b.max_tasks
                    && a.cost_per_distance == b.cost_per_distance
                    && a.cost_per_time == b.cost_per_time
                    && a.fixed_jobs.is_empty()
                    && b.fixed_jobs.is_empty()
                    && !matches!(p.travel, crate::model::TravelSpec::Matrix { .. })
            };
            match reps.iter().position(|&r| same(&p.vehicles[r])) {
                Some(t) => vtype[v] = t,
                None => {
                    vtype[v] = reps.len();
                    reps.push(v);
                }
            }
        }
        let ids: std::collections::HashMap<&str, usize> = p
            .jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.id.as_str(), i))
            .collect();
        let mut fixed = vec![Vec::new(); m];
        let mut is_fixed = vec![false; n];
        for (v, veh) in p.vehicles.iter().enumerate() {
            for id in &veh.fixed_jobs {
                let Some(&j) = ids.get(id.as_str()) else {
                    return Err(PlanError::Invalid(format!(
                        "vehicle {}: unknown fixed job {id}",
                        veh.id
                    )));
                };
                if is_fixed[j] {
                    return Err(PlanError::Invalid(format!(
                        "job {id} is fixed on two vehicles"
                    )));
                }
                is_fixed[j] = true;
                fixed[v].push(j);
            }
        }
        let closes = windows
            .iter()
            .map(|w| w.last().map_or(f64::NEG_INFINITY, |w| w.end))
            .collect();
        let first_end = windows
            .iter()
            .zip(&service)
            .map(|(w, s)| w.first().map_or(f64::INFINITY, |w| w.start + s))
            .collect();
        Ok(Instance {
            problem: p,
            n,
            jobs: p.jobs.len(),
            m,
            dims,
            travel,
            point,
            service,
            windows,
            closes,
            first_end,
            initial,
            delivery,
            pickup,
            partner,
            priority: tasks.iter().map(|t| t.priority()).collect(),
            capacity,
            compat,
            reason: vec![None; n],
            weight: tasks.iter().map(|t| 1.0 + t.priority() as f64).collect(),
            vtypes: reps.len(),
            vtype,
            neighbours: Vec::new(),
            fixed,
            is_fixed,
            pricing: Pricing::Travel,
        })
    }

    /// Works out why each of `tasks` can never be served, if it cannot: a shipment is judged
    /// once, by its pickup, and both halves carry the pair's reason.
    fn judge(&mut self, tasks: impl Iterator<Item = usize>) {
        let mut judged = vec![false; self.n];
        for j in tasks {
            let unit = if self.is_delivery(j) {
                self.partner[j]
            } else {
                j
            };
            if std::mem::replace(&mut judged[unit], true) {
                continue;
            }
            let reason = self.why_unservable(unit);
            self.reason[unit] = reason;
            if self.is_pickup(unit) {
                self.reason[self.partner[unit]] = reason;
            }
        }
    }

    /// Fewest routes any solution serving every job needs by capacity alone: in each
    /// dimension the jobs' deliveries are all on board at their route's start and their
    /// pickups at its end, so the routes' capacities, largest first, must cover each sum.
    /// Shipments, fixed jobs and jobs that can never be served are left out, which only
    /// lowers the bound.
    pub fn fleet_floor(&self) -> usize {
        let counted = |j: &usize| {
            self.partner[*j] == NO_PARTNER && !self.is_fixed[*j] && self.reason[*j].is_none()
        };
        (0..self.dims)
            .map(|d| {
                let mut caps: Vec<i64> = (0..self.m).map(|v| self.cap(v)[d] as i64).collect();
                caps.sort_unstable_by(|a, b| b.cmp(a));
                let need = |amount: &dyn Fn(usize) -> i32| -> usize {
                    let total: i64 = (0..self.n).filter(counted).map(|j| amount(j) as i64).sum();
                    let mut covered = 0;
                    caps.iter()
                        .take_while(|&&c| {
                            let short = covered < total;
                            covered += c;
                            short
                        })
                        .count()
                };
                need(&|j| self.delivery(j)[d]).max(need(&|j| self.pickup(j)[d]))
            })
            .max()
            .unwrap_or(0)
    }

    /// The same instance priced for `o` (the default is `Objective::Distance`).
    pub fn for_objective(mut self, o: Objective) -> Self {
        self.pricing = Pricing::of(o);
        self
    }

    #[inline]
    pub fn start_node(&self, v: usize) -> usize {
        self.n + 2 * v
    }
    #[inline]
    pub fn end_node(&self, v: usize) -> usize {
        self.n + 2 * v + 1
    }
    #[inline]
    pub fn break_node(&self, v: usize) -> usize {
        self.n + 2 * self.m + v
    }
    /// When `node` is left if reached at `t`: its first window start not before `t` plus its
    /// service; `None` if every window has closed.
    #[inline]
    pub fn leave(&self, node: usize, t: f64) -> Option<f64> {
        let s = earliest(&self.windows[node], t);
        s.is_finite().then(|| s + self.service[node])
    }
    #[inline]
    pub fn is_break(&self, node: usize) -> bool {
        node >= self.n + 2 * self.m
    }
    #[inline]
    pub fn is_job(&self, node: usize) -> bool {
        node < self.n
    }
    /// A shipment's pickup (it stands for the pair in the search).
    #[inline]
    pub fn is_pickup(&self, node: usize) -> bool {
        node < self.n && self.partner[node] > node && self.partner[node] != NO_PARTNER
    }
    /// A shipment's delivery (it moves with its pickup).
    #[inline]
    pub fn is_delivery(&self, node: usize) -> bool {
        node < self.n && self.partner[node] < node
    }
    /// What the search moves: a job or a shipment's pickup.
    #[inline]
    pub fn is_unit(&self, node: usize) -> bool {
        node < self.n && !self.is_delivery(node)
    }
    /// The unit a task moves with: itself, or a delivery's pickup.
    #[inline]
    pub fn unit_of(&self, node: usize) -> usize {
        if self.is_delivery(node) {
            self.partner[node]
        } else {
            node
        }
    }
    #[inline]
    pub fn initial(&self, j: usize) -> &[i32] {
        &self.initial[j * self.dims..(j + 1) * self.dims]
    }
    #[inline]
    pub fn delivery(&self, j: usize) -> &[i32] {
        &self.delivery[j * self.dims..(j + 1) * self.dims]
    }
    #[inline]
    pub fn pickup(&self, j: usize) -> &[i32] {
        &self.pickup[j * self.dims..(j + 1) * self.dims]
    }
    #[inline]
    pub fn cap(&self, v: usize) -> &[i32] {
        &self.capacity[v * self.dims..(v + 1) * self.dims]
    }
    #[inline]
    pub fn compatible(&self, j: usize, v: usize) -> bool {
        self.compat[j * self.m + v]
    }

    /// Can unit `j` be served alone by `v` (skills, load, time)?
    pub fn fits_alone(&self, j: usize, v: usize) -> Result<(), UnassignedReason> {
        let j = self.unit_of(j);
        if !self.compatible(j, v) {
            return Err(UnassignedReason::Skills);
        }
        let cap = self.cap(v);
        // A shipment's delivery may take something back too (an exchange).
        let taken_back = |d: usize| {
            if self.is_pickup(j) {
                self.pickup(self.partner[j])[d]
            } else {
                0
            }
        };
        if (0..self.dims).any(|d| {
            self.delivery(j)[d] > cap[d] || self.pickup(j)[d] > cap[d] || taken_back(d) > cap[d]
        }) {
            return Err(UnassignedReason::Capacity);
        }
        let r = crate::route::Route::new(self, v);
        match r.best_insertion(self, j, f64::INFINITY, || false) {
            Some(_) => Ok(()),
            None => Err(UnassignedReason::TimeWindow),
        }
    }

    /// For a job or a shipment's pickup (which stands for the pair).
    fn why_unservable(&self, j: usize) -> Option<UnassignedReason> {
        let mut worst = UnassignedReason::Skills;
        for v in 0..self.m {
            match self.fits_alone(j, v) {
                Ok(()) => return None,
                Err(UnassignedReason::TimeWindow) => worst = UnassignedReason::TimeWindow,
                Err(UnassignedReason::Capacity) if worst == UnassignedReason::Skills => {
                    worst = UnassignedReason::Capacity
                }
                Err(_) => {}
            }
        }
        Some(worst)
    }
}
