//! The search: solution state, ruin and recreate under simulated annealing, fleet
//! minimisation, local search, and the parallel driver.

pub mod anneal;
pub mod ils;
pub mod local;
pub mod recreate;
pub mod ruin;

use crate::instance::Instance;
use crate::route::Route;

pub const NONE: u32 = u32::MAX;

#[derive(Debug)]
pub struct State {
    pub routes: Vec<Route>,
    /// Servable units (jobs, shipment pickups) currently left out.
    pub unassigned: Vec<usize>,
    pub route_of: Vec<u32>,
    /// Fixed jobs that could not be placed (never retried).
    pub fixed_out: Vec<usize>,
    /// Routes changed since the last `sync` (lets the search copy only those).
    pub touched: Vec<usize>,
}

impl Clone for State {
    fn clone(&self) -> Self {
        State {
            routes: self.routes.clone(),
            unassigned: self.unassigned.clone(),
            route_of: self.route_of.clone(),
            fixed_out: self.fixed_out.clone(),
            touched: self.touched.clone(),
        }
    }
    fn clone_from(&mut self, o: &Self) {
        self.routes.clone_from(&o.routes);
        self.unassigned.clone_from(&o.unassigned);
        self.route_of.clone_from(&o.route_of);
        self.fixed_out.clone_from(&o.fixed_out);
        self.touched.clone_from(&o.touched);
    }
}

/// Lexicographic score: unassigned weight, then vehicles (hierarchical only), then cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    pub unassigned: f64,
    pub vehicles: usize,
    pub cost: f64,
}

impl Score {
    pub fn better(&self, o: &Score, hier: bool) -> bool {
        if self.unassigned != o.unassigned {
            return self.unassigned < o.unassigned;
        }
        if hier && self.vehicles != o.vehicles {
            return self.vehicles < o.vehicles;
        }
        self.cost < o.cost - 1e-9
    }
}

impl State {
    /// Empty routes with the fixed prefixes placed; every other servable job unassigned.
    pub fn new(inst: &Instance) -> Self {
        let mut routes: Vec<Route> = (0..inst.m).map(|v| Route::new(inst, v)).collect();
        let mut route_of = vec![NONE; inst.n];
        let mut fixed_out = Vec::new();
        for (v, r) in routes.iter_mut().enumerate() {
            for &j in &inst.fixed[v] {
                let k = r.locked;
                let ok = inst.reason[j].is_none()
                    && r.insert_cost(inst, j, k, f64::INFINITY).is_some()
                    && inst.compatible(j, v);
                if ok {
                    r.insert(inst, j, k);
                    r.locked += 1;
                    route_of[j] = v as u32;
                } else {
                    fixed_out.push(j);
                }
            }
        }
        let unassigned = (0..inst.n)
            .filter(|&j| inst.is_unit(j) && inst.reason[j].is_none() && !inst.is_fixed[j])
            .collect();
        State {
            routes,
            unassigned,
            route_of,
            fixed_out,
            touched: Vec::new(),
        }
    }

    pub fn cost(&self) -> f64 {
        self.routes.iter().map(|r| r.cost).sum()
    }

    pub fn vehicles(&self) -> usize {
        self.routes.iter().filter(|r| !r.is_empty()).count()
    }

    pub fn unassigned_weight(&self, inst: &Instance) -> f64 {
        self.unassigned.iter().map(|&j| inst.weight[j]).sum()
    }

    pub fn score(&self, inst: &Instance) -> Score {
        Score {
            unassigned: self.unassigned_weight(inst),
            vehicles: self.vehicles(),
            cost: self.cost(),
        }
    }

    pub fn assigned(&self) -> usize {
        self.routes.iter().map(|r| r.jobs).sum()
    }

    /// Removes the job nodes in `jobs` from route `r` (no cache update).
    pub fn touch(&mut self, r: usize) {
        if !self.touched.contains(&r) {
            self.touched.push(r);
        }
    }

    /// Makes `self` equal to `src`, assuming they differ only in `src.touched` routes and
    /// the unassigned list (a ruin-and-recreate step), in O(routes) instead of O(all).
    pub fn copy_from(&mut self, inst: &Instance, src: &State, routes: &[usize]) {
        for &r in routes {
            self.routes[r].clone_from(&src.routes[r]);
            for &x in &src.routes[r].nodes {
                if x < self.route_of.len() {
                    self.route_of[x] = r as u32;
                }
            }
        }
        for &j in &self.unassigned {
            self.route_of[j] = src.route_of[j];
            if inst.is_pickup(j) {
                self.route_of[inst.partner[j]] = src.route_of[j];
            }
        }
        self.unassigned.clone_from(&src.unassigned);
        for i in 0..self.unassigned.len() {
            self.set_route(inst, self.unassigned[i], NONE);
        }
    }

    /// Records unit `unit` (and a pickup's delivery) on route `r`.
    fn set_route(&mut self, inst: &Instance, unit: usize, r: u32) {
        self.route_of[unit] = r;
        if inst.is_pickup(unit) {
            self.route_of[inst.partner[unit]] = r;
        }
    }

    /// Takes units (jobs, shipment pickups with their deliveries) off route `r` (no cache
    /// update).
    pub fn detach(&mut self, inst: &Instance, r: usize, units: &[usize]) {
        self.touch(r);
        self.routes[r]
            .nodes
            .retain(|&x| !(inst.is_job(x) && units.contains(&inst.unit_of(x))));
        for &j in units {
            self.set_route(inst, j, NONE);
        }
    }

    /// Inserts unit `j` into route `r` where `Route::best_insertion` said.
    pub fn insert(&mut self, inst: &Instance, j: usize, r: usize, at: (usize, usize)) {
        self.touch(r);
        self.routes[r].insert_unit(inst, j, at);
        self.set_route(inst, j, r as u32);
    }
}
