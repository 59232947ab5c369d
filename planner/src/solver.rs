//! The driver: construction, then parallel ruin-and-recreate searches in slices (epochs)
//! that share the best solution; deterministic for a seed, a thread count and an
//! iteration budget.

use crate::instance::{earliest, Instance};
use crate::model::*;
use crate::rng::Rng;
use crate::search::anneal::Worker;
use crate::search::recreate::{recreate, Recreate};
use crate::search::{ils, local, State};
use crate::{construct, PlanError};
use rayon::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub elapsed: f64,
    /// Share of the budget used, 0..1.
    pub fraction: f64,
    pub cost: f64,
    pub vehicles: usize,
    pub unassigned: usize,
}

pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

#[derive(Clone)]
pub struct SolveOptions {
    pub objective: Objective,
    /// Iterations per thread (deterministic). Takes precedence over `time_limit`.
    pub iterations: Option<u64>,
    pub time_limit: Option<Duration>,
    pub seed: u64,
    /// 0 = one per core.
    pub threads: usize,
    pub progress: Option<ProgressFn>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            objective: Objective::Distance,
            iterations: None,
            time_limit: None,
            seed: 1,
            threads: 0,
            progress: None,
        }
    }
}

/// Used when neither iterations nor a time limit is given.
pub const DEFAULT_ITERATIONS: u64 = 5_000;

enum Budget {
    Iterations(u64),
    Until(Instant),
}

pub fn solve(p: &Problem, o: &SolveOptions) -> Result<Solution, PlanError> {
    let t0 = Instant::now();
    let inst = Instance::new(p)?.for_objective(o.objective);
    let hier = o.objective.fewest_vehicles_first();
    let budget = match (o.iterations, o.time_limit) {
        (Some(i), _) => Budget::Iterations(i),
        // A limit too far away to represent runs by iterations instead of panicking.
        (None, Some(t)) => t0
            .checked_add(t)
            .map_or(Budget::Iterations(DEFAULT_ITERATIONS), Budget::Until),
        (None, None) => Budget::Iterations(DEFAULT_ITERATIONS),
    };
    let mut rng = Rng::new(o.seed);
    let deadline = match budget {
        Budget::Until(t) => Some(t),
        Budget::Iterations(_) => None,
    };
    let mut init = construct::build(&inst, &mut rng);
    local::improve(&inst, &mut init, deadline);
    let threads = if o.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        o.threads
    };
    let mut best = init;
    let mut iterations = 0;
    if inst.n > 0 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| PlanError::Invalid(e.to_string()))?;
        let seed_of = |t: usize| o.seed.wrapping_mul(0x9E37_79B9).wrapping_add(t as u64);
        // With the distance objective on the instances it handles, half the threads start
        // the penalised local search beside the walk (`race_searches`).
        let race = threads >= 2
            && o.objective == Objective::Distance
            && best.unassigned.is_empty()
            && ils::supported(&inst);
        let walkers = if race { threads / 2 } else { threads };
        let mut d = Driver {
            inst: &inst,
            hier,
            workers: (0..walkers)
                .map(|t| Worker::new(&inst, &best, seed_of(t), hier))
                .collect(),
            t0,
            progress: o.progress.clone(),
            fraction_done: 0.0,
            heat: starting_heat(o.objective),
            open_chance: open_chance(o.objective),
            schedule: None,
        };
        if race {
            let searches = race_searches(&inst, &best, &mut d, &pool, &budget, threads, &seed_of);
            iterations = d.workers.iter().map(|w| w.iterations).sum::<u64>()
                + searches
                    .iter()
                    .map(|s| s.iterations - s.inherited)
                    .sum::<u64>();
            best = d.best_overall(false).clone();
            let shortest = searches
                .iter()
                .map(|s| s.best())
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((cost, routes)) = shortest {
                if *cost < best.cost() {
                    if let Some(st) = ils::to_state(&inst, routes) {
                        best = st;
                    }
                }
            }
        } else {
            pool.install(|| d.run(&budget, 0..EPOCHS));
            iterations = d.workers.iter().map(|w| w.iterations).sum();
            best = d.best_overall(false).clone();
        }
    }
    // Priority repair: whatever still fits goes in, opening routes if need be.
    if !best.unassigned.is_empty() {
        let none = vec![0; inst.n];
        let rc = Recreate {
            allow_empty: true,
            blink: 0.0,
            // Some(..): always highest priority first.
            urgency: Some(&none),
            open_bias: 1.0,
        };
        recreate(&inst, &mut best, Vec::new(), &mut rng, &rc);
    }
    let mut sol = to_solution(&inst, &best);
    sol.iterations = iterations;
    Ok(sol)
}

/// The walk and the penalised local search are compared after this many eighths of the
/// budget, and the local search takes over unless the walk is shorter by more than
/// `WALK_MARGIN`: the walk is still warm then and gains more in the rest of the budget (on
/// the 18 generated 1,000-customer days at 30 s, the walk led by 3.0 % to 8.5 % on C1 and
/// C2, where it ends shorter, and by at most 0.6 % on the others, where the local search
/// ends shorter; earlier the two overlap: at an eighth the local search led on all three C1
/// days, planner/README "The penalised local search").
const RACE_EPOCHS: u64 = 3;
const WALK_MARGIN: f64 = 0.01;
/// After the race, the local search's threads each change a share of the routes, in this
/// many turns with the shares' cuts moved between them (`ils::regions`).
const SPLIT_TURNS: u64 = 5;
/// A step of the penalised local search costs about as much as this many steps of the walk
/// (1,000-customer R2 days at 30 s: about 22,000 walk steps a second on one thread against
/// 2,500), so that a budget in steps gives both about the same time.
const ILS_STEP_COST: u64 = 10;

/// The walk (half the threads) beside PyVRP's kind of search, a penalised iterated local
/// search (`search::ils`, the other half), for the first `RACE_EPOCHS` eighths of the budget;
/// then one of them takes every thread for the rest: the walk's workers all from its best, or
/// one local search per thread, each changing its own share of the routes
/// (`ils::regions`), put together after each of `SPLIT_TURNS` turns. Sharing the routes out
/// gives every job about as many steps as one search would make with all the threads; two
/// whole searches side by side only keep the shorter (on the six generated 1,000-customer R2
/// days at 30 s, 0.4 % shorter on every one; RC2 within run-to-run noise, planner/README
/// "The penalised local search"). The local search is about 1 % shorter
/// on R1, RC1, R2 and RC2 days, the walk 1 % to 3 % shorter on the clustered C1 and C2
/// (generated 1,000-customer days at 30 s, each alone on both threads). Deterministic for a
/// number of steps: both sides stop at the same share of their steps before they are
/// compared.
fn race_searches<'a>(
    inst: &'a Instance<'a>,
    first: &State,
    d: &mut Driver<'a>,
    pool: &rayon::ThreadPool,
    budget: &Budget,
    threads: usize,
    seed_of: &(dyn Fn(usize) -> u64 + Sync),
) -> Vec<ils::Ils<'a>> {
    let walkers = d.workers.len();
    let neighbours = Arc::new(ils::neighbours(inst));
    let clock = ils::Clock {
        start: Instant::now(),
        end: match budget {
            Budget::Until(t) => Some(*t),
            Budget::Iterations(_) => None,
        },
        steps: match budget {
            Budget::Iterations(n) => Some((n / ILS_STEP_COST).max(1)),
            Budget::Until(_) => None,
        },
    };
    let mut searches: Vec<ils::Ils> = (walkers..threads)
        .map(|t| ils::Ils::new(inst, first, Arc::clone(&neighbours), seed_of(t)))
        .collect();
    let silent = |_: f64, _: f64, _: usize| {};
    let probe = RACE_EPOCHS as f64 / EPOCHS as f64;
    pool.install(|| {
        rayon::join(
            || d.run(budget, 0..RACE_EPOCHS),
            || {
                searches.par_iter_mut().for_each(|s| {
                    s.begin();
                    s.advance(&clock, probe, &silent);
                })
            },
        )
    });
    let walk = d.best_overall(false).cost();
    let leader = (0..searches.len())
        .min_by(|&a, &b| searches[a].best().0.total_cmp(&searches[b].best().0))
        .filter(|&l| searches[l].best().0 < walk * (1.0 + WALK_MARGIN));
    if let Some(leader) = leader {
        // The local search leads: the walk's threads take over from its best (each search
        // restarts from it at the first turn below).
        let twins: Vec<ils::Ils> = (0..walkers)
            .map(|t| searches[leader].twin(seed_of(threads + t)))
            .collect();
        searches.extend(twins);
        // The curve shows the shortest so far of every search and the walk (the answer is
        // the shortest of them), once per eighth, from the first search.
        let walked = d.best_overall(false);
        let shortest = std::sync::Mutex::new((walk, walked.vehicles()));
        let note = |cost: f64, vehicles: usize| {
            let mut s = shortest.lock().unwrap_or_else(|e| e.into_inner());
            if cost < s.0 {
                *s = (cost, vehicles);
            }
            *s
        };
        let progress = d.progress.clone();
        let t0 = d.t0;
        let report = |fraction: f64, cost: f64, vehicles: usize| {
            let (cost, vehicles) = note(cost, vehicles);
            if let Some(cb) = &progress {
                cb(&Progress {
                    elapsed: t0.elapsed().as_secs_f64(),
                    fraction,
                    cost,
                    vehicles,
                    unassigned: 0,
                });
            }
        };
        let record = |_: f64, cost: f64, vehicles: usize| {
            note(cost, vehicles);
        };
        // The rest of the budget in turns: each search changes its own share of the routes
        // (`ils::regions`) from the routes put together at the end of the last turn.
        let mut from = searches[leader].best().1.clone();
        let groups = searches.len();
        for turn in 0..SPLIT_TURNS {
            let until = probe + (1.0 - probe) * (turn + 1) as f64 / SPLIT_TURNS as f64;
            let shares = ils::regions(inst, &from, groups, turn as usize);
            for (i, s) in searches.iter_mut().enumerate() {
                match &shares {
                    Some(shares) => s.restart(&from, &shares[i]),
                    None => s.restart(&from, &vec![true; from.len()]),
                }
            }
            let used = from.iter().filter(|r| !r.is_empty()).count();
            note(searches[0].best().0, used);
            pool.install(|| {
                searches.par_iter_mut().enumerate().for_each(|(i, s)| {
                    let r: &(dyn Fn(f64, f64, usize) + Sync) =
                        if i == 0 { &report } else { &record };
                    s.advance(&clock, until, r);
                })
            });
            from = match &shares {
                Some(shares) => ils::merge(&searches, shares),
                None => searches
                    .iter()
                    .map(|s| s.best())
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .map_or(from, |b| b.1.clone()),
            };
        }
        // The routes put together last are the answer's candidate (as the first search's best).
        searches[0].restart(&from, &vec![true; from.len()]);
    } else {
        // The walk leads: the local search's threads become walkers from the walk's best.
        let from = d.best_overall(false).clone();
        for t in walkers..threads {
            d.workers.push(Worker::new(inst, &from, seed_of(t), d.hier));
        }
        pool.install(|| d.run(budget, RACE_EPOCHS..EPOCHS));
    }
    searches
}

/// The distance objective's walk starts hotter (four times the mean edge, was half): Solomon at
/// 1 s, mean gap to the distance best-known 1.13 % -> 0.71 % at twice; 1,000 customers at 30 s
/// about 1 % shorter (benches/records/large-1000-30s-distance.md), where three and four times
/// were no better. Since the walk opens routes (`open_chance`) and straight-line travel is
/// computed inline (1.7 times the steps), four times is better on the six generated R2 and
/// RC2 days at 30 s: mean distance 19,750 and 19,781 (two runs) against 19,844-19,862 at
/// twice (three runs), 19,981 at once, 19,755 at eight times; C1, C2, R1 and RC1 within
/// noise (121,843 against 121,878 for the four); Solomon at 1 s 0.13 % shorter in total.
/// The others keep half: with fewest vehicles first it made no difference beyond run-to-run
/// noise (Solomon at 1 s, 1,000 customers at the smallest fleet), and the objectives that
/// price time are on another scale (a balanced route's squared duration: a hotter walk lost
/// the balanced objective's test).
fn starting_heat(objective: Objective) -> f64 {
    match objective {
        Objective::Distance => 4.0,
        _ => 0.5,
    }
}

/// How often the distance objective's walk weighs an empty route at a random share of its
/// cost (`Worker::open_chance`). Its shortest days often use more routes than the walk
/// reaches by true costs alone: on generated 1,000-customer R2 and RC2 days it stopped at
/// 26-29 routes where PyVRP's shorter solutions use 31-32. On those six days at 30 s, mean
/// distance against the walk without it (20,066 and 20,109 in two runs): 19,963 with a chance
/// of 0.3 (share drawn from 0.1-1), 19,864 at 0.5, 19,770 at 0.7, 19,869 at 1 (share drawn
/// from 0-1), with 28-33 routes; C1, C2, R1 and RC1 within run-to-run noise; Solomon at 1 s
/// 0.3 % shorter in total. 0.6 in the run of all 18 days with the peers of build 6809b95
/// (benches/records/large-1000-30s-distance-four-peers.md, since re-run): R2 and RC2 0.6 % and
/// 0.8 % longer than PyVRP, from 1.5 % and 1.9 %.
/// The other objectives keep 0: fewest vehicles first wants fewer routes, not more, and the
/// objectives that price time were not measured with it.
fn open_chance(objective: Objective) -> f64 {
    match objective {
        Objective::Distance => 0.6,
        _ => 0.0,
    }
}

struct Driver<'a> {
    inst: &'a Instance<'a>,
    hier: bool,
    workers: Vec<Worker>,
    t0: Instant,
    progress: Option<ProgressFn>,
    fraction_done: f64,
    /// The starting temperature in mean edge costs of the first solution.
    heat: f64,
    open_chance: f64,
    /// When the walk started and the first solution's mean edge cost (kept across parts).
    schedule: Option<(Instant, f64)>,
}

const EPOCHS: u64 = 8;
/// Share of the budget for fleet minimisation (hierarchical objective).
const FLEET_SHARE: f64 = 0.3;
/// Jobs polished by the heavier local search at each synchronisation.
const POLISH_JOBS: usize = 1000;

impl Driver<'_> {
    fn best_overall(&self, fleet: bool) -> &State {
        let mut bi = 0;
        for i in 1..self.workers.len() {
            let (a, b) = (&self.workers[i].best_score, &self.workers[bi].best_score);
            let better = if fleet {
                a.unassigned == 0.0
                    && (b.unassigned > 0.0
                        || a.vehicles < b.vehicles
                        || a.vehicles == b.vehicles && a.cost < b.cost)
            } else {
                a.better(b, self.hier)
            };
            if better {
                bi = i;
            }
        }
        &self.workers[bi].best
    }

    /// Some worker's best complete solution has as few routes as capacity allows.
    fn at_fleet_floor(&self) -> bool {
        self.workers.iter().any(Worker::at_fleet_floor)
    }

    /// Runs the slices `epochs` of the budget (all of them with fewest vehicles first; the
    /// distance walk may be run in parts, see [`solve`]).
    fn run(&mut self, budget: &Budget, epochs: std::ops::Range<u64>) {
        let inst = self.inst;
        let phases: &[(bool, f64)] = if self.hier {
            &[(true, FLEET_SHARE), (false, 1.0 - FLEET_SHARE)]
        } else {
            &[(false, 1.0)]
        };
        // Temperatures relative to the mean edge cost of the first solution.
        let &mut (start, avg) = self.schedule.get_or_insert_with(|| {
            let s0 = self.workers[0].best.score(inst);
            let edges = (s0.vehicles + self.workers[0].best.assigned()).max(1) as f64;
            (Instant::now(), s0.cost / edges)
        });
        let total_time = match budget {
            Budget::Until(t) => t.saturating_duration_since(start).as_secs_f64(),
            Budget::Iterations(_) => 0.0,
        };
        let (t_hi, t_lo) = (self.heat * avg, 0.005 * avg);
        for w in &mut self.workers {
            w.penalty = 3.0 * avg;
            w.open_chance = self.open_chance;
        }
        // No complete solution has fewer routes than the fleet floor: the fleet phase stops
        // there and leaves the rest of its budget to the distance (on generated 1,000-customer
        // R2 and RC2 days the first solution is often there already, and the phase had spent
        // 30 % for nothing).
        let mut phase_start = 0.0;
        for (i, &(fleet, share)) in phases.iter().enumerate() {
            if fleet && (inst.n < 2 || self.at_fleet_floor()) {
                continue;
            }
            // The last phase takes what the fleet phase left.
            let share = if i + 1 == phases.len() {
                1.0 - phase_start
            } else {
                share
            };
            let mut reached = phase_start + share;
            let epochs = if self.hier { 0..EPOCHS } else { epochs.clone() };
            for e in epochs {
                let f0 = phase_start + share * e as f64 / EPOCHS as f64;
                let f1 = phase_start + share * (e + 1) as f64 / EPOCHS as f64;
                match budget {
                    Budget::Iterations(n) => {
                        let slice = ((*n as f64 * (f1 - f0)).round() as u64).max(1);
                        self.workers.par_iter_mut().for_each(|w| {
                            if fleet {
                                w.fleet(inst, slice);
                            } else {
                                let (a, b) =
                                    ((f0 - phase_start) / share, (f1 - phase_start) / share);
                                w.anneal(inst, slice, |it| {
                                    let f = a + (b - a) * it as f64 / slice as f64;
                                    t_hi * (t_lo / t_hi).powf(f)
                                });
                            }
                        });
                    }
                    Budget::Until(_) => {
                        // 2 % of the budget is kept for the polish after each slice.
                        let end = start + Duration::from_secs_f64(total_time * f1 * 0.98);
                        self.workers.par_iter_mut().for_each(|w| loop {
                            let now = Instant::now();
                            if now >= end {
                                break;
                            }
                            if fleet {
                                if !w.fleet(inst, 5) {
                                    break;
                                }
                            } else {
                                let f = (now - start).as_secs_f64() / total_time.max(1e-9);
                                let f = ((f - phase_start) / share).clamp(0.0, 1.0);
                                let t = t_hi * (t_lo / t_hi).powf(f);
                                w.anneal(inst, 5, |_| t);
                            }
                        });
                    }
                }
                // Share the best, polished by the heavier local search when not in the
                // fleet phase.
                let mut best = self.best_overall(fleet).clone();
                if !fleet {
                    // All jobs on small problems, a rotating window of them on large ones.
                    let w = inst.n.min(POLISH_JOBS);
                    let from = (e as usize * w) % inst.n;
                    let jobs: Vec<usize> = (0..w).map(|i| (from + i) % inst.n).collect();
                    let deadline = match budget {
                        Budget::Until(t) => Some(
                            (Instant::now() + Duration::from_secs_f64(0.02 * total_time)).min(*t),
                        ),
                        Budget::Iterations(_) => None,
                    };
                    local::improve_pairs(inst, &mut best, &jobs, deadline);
                    local::improve_jobs(inst, &mut best, &jobs, deadline);
                }
                for w in &mut self.workers {
                    w.adopt(inst, &best, fleet);
                }
                self.fraction_done = f1;
                self.report(&best);
                if fleet && self.at_fleet_floor() {
                    reached = f1;
                    break;
                }
            }
            if fleet {
                // Everyone continues from the best complete solution.
                let best = self.best_overall(true).clone();
                for w in &mut self.workers {
                    w.reset(inst, &best);
                }
            }
            phase_start = reached;
        }
    }

    fn report(&self, best: &State) {
        if let Some(cb) = &self.progress {
            let sc = best.score(self.inst);
            cb(&Progress {
                elapsed: self.t0.elapsed().as_secs_f64(),
                fraction: self.fraction_done,
                cost: sc.cost,
                vehicles: sc.vehicles,
                unassigned: best.unassigned.len(),
            });
        }
    }
}

/// Reports a search state: schedules recomputed with the start delayed to avoid waiting.
pub fn to_solution(inst: &Instance, st: &State) -> Solution {
    let p = inst.problem;
    let d = inst.dims;
    let mut routes = Vec::new();
    for r in st.routes.iter().filter(|r| !r.is_empty()) {
        let veh = &p.vehicles[r.v];
        let start_time = r.departure();
        let mut t = start_time;
        let mut stops = Vec::new();
        for k in 1..r.nodes.len() - 1 {
            let x = r.nodes[k];
            let (a, b) = (r.eloc[k - 1], r.eloc[k]);
            let arrival = t + if a == b { 0.0 } else { inst.travel.time(a, b) };
            let start = earliest(&inst.windows[x], arrival);
            t = start + inst.service[x];
            let job = inst.is_job(x).then_some(x);
            stops.push(Stop {
                job,
                job_id: job.and_then(|j| p.task(j)).map(|t| t.id().into_owned()),
                arrival,
                start,
                departure: t,
                load: r.load[k * d..(k + 1) * d].to_vec(),
            });
        }
        let last = r.nodes.len() - 1;
        let (a, b) = (r.eloc[last - 1], r.eloc[last]);
        let end_time = t + if a == b { 0.0 } else { inst.travel.time(a, b) };
        routes.push(Route {
            vehicle: r.v,
            vehicle_id: veh.id.clone(),
            start_time,
            end_time,
            stops,
            distance: r.dist,
            duration: end_time - start_time,
            // The stated cost means one thing whatever the objective (see `check`).
            cost: veh.cost_per_distance * r.dist + veh.cost_per_time * r.time,
        });
    }
    let mut unassigned: Vec<Unassigned> = Vec::new();
    for j in (0..inst.n).filter(|&j| inst.is_unit(j)) {
        let reason = if let Some(reason) = inst.reason[j] {
            reason
        } else if st.fixed_out.contains(&j) {
            UnassignedReason::Fixed
        } else if st.unassigned.contains(&j) {
            UnassignedReason::NoRoom
        } else {
            continue;
        };
        // A shipment is named by its own id (its pickup's task number stands for it).
        let job_id = match p.task(j) {
            Some(Task::Step(s, _)) => s.id.clone(),
            Some(t) => t.id().into_owned(),
            None => String::new(),
        };
        unassigned.push(Unassigned {
            job: j,
            job_id,
            reason,
        });
    }
    Solution {
        // `+ 0.0`: an empty f64 sum is -0.0.
        distance: routes.iter().map(|r| r.distance).sum::<f64>() + 0.0,
        duration: routes.iter().map(|r| r.duration).sum::<f64>() + 0.0,
        cost: routes.iter().map(|r| r.cost).sum::<f64>() + 0.0,
        vehicles: routes.len(),
        routes,
        unassigned,
        iterations: 0,
    }
}
