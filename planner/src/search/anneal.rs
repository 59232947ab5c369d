//! One search thread: ruin and recreate under simulated annealing (cost phase) or the SISR
//! fleet-minimisation rule (absence counters), in resumable slices so that the parallel
//! driver can share the best solution between slices.

use super::recreate::{recreate, recreate_opening, Recreate};
use super::ruin::{remove_route, ruin, RuinParams};
use super::{local, Score, State};
use crate::instance::Instance;
use crate::rng::Rng;

pub struct Worker {
    pub cur: State,
    pub best: State,
    pub best_score: Score,
    pub rng: Rng,
    pub hier: bool,
    /// Fleet phase: best complete solution and absence counts.
    pub absences: Vec<u32>,
    pub iterations: u64,
    /// Cost of one unit of unassigned weight in the annealing walk.
    pub penalty: f64,
    cand: State,
    /// Routes where `cur` may differ from `best`.
    best_dirty: Vec<usize>,
    /// No complete solution has fewer routes (`Instance::fleet_floor`).
    fleet_floor: usize,
    /// Share of the annealing steps whose recreate weighs an empty route's insertion at a
    /// random share of its cost: a greedy insertion alone seldom opens a route, since its
    /// first job pays the whole trip from the depot (see `solver::open_chance`).
    pub open_chance: f64,
}

impl Worker {
    pub fn new(inst: &Instance, start: &State, seed: u64, hier: bool) -> Self {
        Worker {
            cur: start.clone(),
            best: start.clone(),
            best_score: start.score(inst),
            rng: Rng::new(seed),
            hier,
            absences: vec![0; inst.n],
            iterations: 0,
            penalty: f64::INFINITY,
            best_dirty: Vec::new(),
            cand: start.clone(),
            fleet_floor: inst.fleet_floor(),
            open_chance: 0.0,
        }
    }

    /// Restarts from `s` if it is better than this worker's best.
    pub fn adopt(&mut self, inst: &Instance, s: &State, fleet: bool) {
        let sc = s.score(inst);
        let take = if fleet {
            // In the fleet phase only complete solutions count, fewer routes first.
            sc.unassigned == 0.0 && sc.vehicles < self.best_score.vehicles
        } else {
            sc.better(&self.best_score, self.hier)
        };
        if take {
            self.reset(inst, s);
        }
    }

    /// Continues from `s` (current, best and the candidate buffer).
    pub fn reset(&mut self, inst: &Instance, s: &State) {
        self.cur.clone_from(s);
        self.cand.clone_from(s);
        self.best.clone_from(s);
        self.best_score = s.score(inst);
        self.cur.touched.clear();
        self.cand.touched.clear();
        self.best_dirty.clear();
    }

    fn mark_dirty(&mut self, routes: &[usize]) {
        for &r in routes {
            if !self.best_dirty.contains(&r) {
                self.best_dirty.push(r);
            }
        }
    }

    /// best := cur, copying only the routes changed since the last copy.
    fn save_best(&mut self, inst: &Instance, sc: Score) {
        let dirty = std::mem::take(&mut self.best_dirty);
        self.best.copy_from(inst, &self.cur, &dirty);
        self.best.route_of.clone_from(&self.cur.route_of);
        self.best_score = sc;
    }

    /// Simulated annealing on cost; unassigned weight (and in hierarchical mode the vehicle
    /// count) may never get worse.
    pub fn anneal(&mut self, inst: &Instance, iters: u64, temp: impl Fn(u64) -> f64) {
        let prm = RuinParams::default();
        let mut cur_score = self.cur.score(inst);
        for it in 0..iters {
            self.iterations += 1;
            self.cand.touched.clear();
            let before = self.cand.vehicles();
            let removed = ruin(inst, &mut self.cand, &mut self.rng, &prm);
            let open_bias = if self.open_chance > 0.0 && self.rng.f64() < self.open_chance {
                // (0, 1]: a share of 0 would divide the recreate's bound by zero.
                1.0 - self.rng.f64()
            } else {
                1.0
            };
            let rc = Recreate {
                allow_empty: true,
                blink: 0.01,
                urgency: None,
                open_bias,
            };
            // Hierarchical: as many routes as the ruin emptied, on any vehicle, so the fleet
            // never grows but which vehicles serve can change (heterogeneous fleets); without
            // it an emptied route could never be served again.
            let max_open = if self.hier {
                before - self.cand.vehicles()
            } else {
                usize::MAX
            };
            recreate_opening(inst, &mut self.cand, removed, &mut self.rng, &rc, max_open);
            let cs = self.cand.score(inst);
            let accept = if cs.unassigned < cur_score.unassigned {
                true
            } else if cs.unassigned > cur_score.unassigned {
                // Leaving jobs out costs `penalty` each: rarely accepted, but it lets the
                // walk swap which jobs are out (the best is still kept lexicographically).
                let d = cs.cost - cur_score.cost
                    + self.penalty * (cs.unassigned - cur_score.unassigned);
                d < -temp(it) * self.rng.f64().max(1e-300).ln()
            } else if self.hier && cs.vehicles != cur_score.vehicles {
                cs.vehicles < cur_score.vehicles
            } else {
                let t = temp(it);
                cs.cost < cur_score.cost - t * self.rng.f64().max(1e-300).ln()
            };
            let changed = std::mem::take(&mut self.cand.touched);
            if accept {
                self.cur.copy_from(inst, &self.cand, &changed);
                self.mark_dirty(&changed);
                cur_score = cs;
                if cs.better(&self.best_score, self.hier) {
                    // Polish new bests with local search around what changed.
                    let jobs: Vec<usize> = changed
                        .iter()
                        .flat_map(|&r| self.cur.routes[r].nodes.iter().copied())
                        .filter(|&x| inst.is_unit(x))
                        .collect();
                    self.cur.touched.clear();
                    local::improve_jobs(inst, &mut self.cur, &jobs, None);
                    let moved = std::mem::take(&mut self.cur.touched);
                    self.cand.copy_from(inst, &self.cur, &moved);
                    self.mark_dirty(&moved);
                    cur_score = self.cur.score(inst);
                    self.save_best(inst, cur_score);
                }
            } else {
                self.cand.copy_from(inst, &self.cur, &changed);
            }
        }
    }

    /// Whether this worker's best serves everything with as few routes as capacity allows.
    pub fn at_fleet_floor(&self) -> bool {
        self.best_score.unassigned == 0.0 && self.best_score.vehicles <= self.fleet_floor
    }

    /// SISR fleet minimisation: whenever everything is served, record it and drop a route;
    /// accept a candidate leaving fewer jobs out or jobs that were out less often. Returns
    /// whether fewer routes may still be found (false once the best is at the fleet floor or
    /// down to one route).
    pub fn fleet(&mut self, inst: &Instance, iters: u64) -> bool {
        let prm = RuinParams::default();
        for _ in 0..iters {
            if self.at_fleet_floor() {
                return false;
            }
            self.iterations += 1;
            if self.cur.unassigned.is_empty() {
                let sc = self.cur.score(inst);
                if sc.better(&self.best_score, true) {
                    self.best.clone_from(&self.cur);
                    self.best_score = sc;
                    self.best_dirty.clear();
                }
                let used: Vec<usize> = (0..self.cur.routes.len())
                    .filter(|&r| !self.cur.routes[r].is_empty() && self.cur.routes[r].locked == 0)
                    .collect();
                if used.len() <= 1 {
                    return false;
                }
                // The route with fewest jobs half of the time, else a random one.
                let r = if self.rng.f64() < 0.5 {
                    used.iter()
                        .copied()
                        .min_by_key(|&r| self.cur.routes[r].jobs)
                        .unwrap_or(used[0])
                } else {
                    used[self.rng.below(used.len())]
                };
                let out = remove_route(inst, &mut self.cur, r);
                self.cur.unassigned.extend(out);
                self.cur.touched.clear();
                self.cand.copy_from(inst, &self.cur, &[r]);
                self.mark_dirty(&[r]);
            }
            self.cand.touched.clear();
            let removed = ruin(inst, &mut self.cand, &mut self.rng, &prm);
            let rc = Recreate {
                allow_empty: false,
                blink: 0.01,
                urgency: Some(&self.absences),
                open_bias: 1.0,
            };
            recreate(inst, &mut self.cand, removed, &mut self.rng, &rc);
            for &j in &self.cand.unassigned {
                self.absences[j] += 1;
            }
            let sum = |s: &State| {
                s.unassigned
                    .iter()
                    .map(|&j| self.absences[j] as u64)
                    .sum::<u64>()
            };
            let accept = self.cand.unassigned.len() < self.cur.unassigned.len()
                || sum(&self.cand) < sum(&self.cur);
            let changed = std::mem::take(&mut self.cand.touched);
            if accept {
                self.cur.copy_from(inst, &self.cand, &changed);
                self.mark_dirty(&changed);
            } else {
                self.cand.copy_from(inst, &self.cur, &changed);
            }
        }
        if self.cur.unassigned.is_empty() {
            let sc = self.cur.score(inst);
            if sc.better(&self.best_score, true) {
                self.best.clone_from(&self.cur);
                self.best_score = sc;
                self.best_dirty.clear();
            }
        }
        !self.at_fleet_floor()
    }
}
