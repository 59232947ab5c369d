//! The problem compiled for the search: flat per-node arrays, compatibility, neighbours.
//!
//! Nodes: jobs `0..n`, vehicle `v` start `n + 2v`, end `n + 2v + 1`, break `n + 2m + v`.
//! Travel points are the same numbers for jobs and depots; a break has none (it is taken
//! where the courier is).

use crate::model::{Objective, Problem, TimeWindow, UnassignedReason};
use crate::neighbours;
use crate::travel::{self, TravelTable};

pub const NO_POINT: usize = usize::MAX;

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
    pub n: usize,
    pub m: usize,
    pub dims: usize,
    pub travel: TravelTable,
    pub point: Vec<usize>,
    pub service: Vec<f64>,
    /// Sorted, non-overlapping after normalisation.
    pub windows: Vec<Vec<TimeWindow>>,
    /// Per job, `dims` entries each.
    pub delivery: Vec<i32>,
    pub pickup: Vec<i32>,
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
    pub fn new(p: &'a Problem) -> Result<Self, String> {
        crate::validate(p)?;
        let n = p.jobs.len();
        let m = p.vehicles.len();
        let dims = p
            .jobs
            .iter()
            .map(|j| j.delivery.len().max(j.pickup.len()))
            .chain(p.vehicles.iter().map(|v| v.capacity.len()))
            .max()
            .unwrap_or(0);
        let travel = travel::table(p)?;
        let total = n + 3 * m;
        let mut point = vec![NO_POINT; total];
        let mut service = vec![0.0; total];
        let mut windows = vec![Vec::new(); total];
        for (i, j) in p.jobs.iter().enumerate() {
            point[i] = i;
            service[i] = j.service;
            windows[i] = normalise(j.time_windows.clone());
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
        let pad = |x: &[i32]| {
            let mut o = x.to_vec();
            o.resize(dims, 0);
            o
        };
        let delivery: Vec<i32> = p.jobs.iter().flat_map(|j| pad(&j.delivery)).collect();
        let pickup: Vec<i32> = p.jobs.iter().flat_map(|j| pad(&j.pickup)).collect();
        let capacity: Vec<i32> = p.vehicles.iter().flat_map(|v| pad(&v.capacity)).collect();
        let mut compat = vec![false; n * m];
        for (i, j) in p.jobs.iter().enumerate() {
            for (v, veh) in p.vehicles.iter().enumerate() {
                compat[i * m + v] = j.skills.iter().all(|s| veh.skills.contains(s));
            }
        }
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
                    return Err(format!("vehicle {}: unknown fixed job {id}", veh.id));
                };
                if is_fixed[j] {
                    return Err(format!("job {id} is fixed on two vehicles"));
                }
                is_fixed[j] = true;
                fixed[v].push(j);
            }
        }
        let mut inst = Instance {
            problem: p,
            n,
            m,
            dims,
            travel,
            point,
            service,
            windows,
            delivery,
            pickup,
            capacity,
            compat,
            reason: vec![None; n],
            weight: p.jobs.iter().map(|j| 1.0 + j.priority as f64).collect(),
            vtype,
            neighbours: Vec::new(),
            fixed,
            is_fixed,
            pricing: Pricing::Travel,
        };
        inst.reason = (0..n).map(|j| inst.why_unservable(j)).collect();
        inst.neighbours = neighbours::build(&inst, 40);
        Ok(inst)
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
    #[inline]
    pub fn is_break(&self, node: usize) -> bool {
        node >= self.n + 2 * self.m
    }
    #[inline]
    pub fn is_job(&self, node: usize) -> bool {
        node < self.n
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

    /// Can `j` be served alone by `v` (skills, load, time)?
    pub fn fits_alone(&self, j: usize, v: usize) -> Result<(), UnassignedReason> {
        if !self.compatible(j, v) {
            return Err(UnassignedReason::Skills);
        }
        let cap = self.cap(v);
        if (0..self.dims).any(|d| self.delivery(j)[d] > cap[d] || self.pickup(j)[d] > cap[d]) {
            return Err(UnassignedReason::Capacity);
        }
        let r = crate::route::Route::new(self, v);
        match r.best_insertion(self, j, f64::INFINITY, || false) {
            Some(_) => Ok(()),
            None => Err(UnassignedReason::TimeWindow),
        }
    }

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
