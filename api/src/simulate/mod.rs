//! The day simulator (`claimroute simulate`): a city day planned and published through the
//! application code on a scratch database, then lived on a virtual clock (`crate::clock`).
//! Couriers drive their published routes as their phones would report them (departed,
//! positions on the way, arrived, completed or failed, with a proof photo's record where a
//! pickup needs one); travel and service times are drawn from log-normal distributions
//! around the planner's estimates; a share of the customers are not at home; new claims
//! are approved through the day. The server's own code runs on it: reports re-time the
//! routes (`app::visits`), the ETA sweep re-times them every minute and sends delay
//! notices, and with re-optimisation on, the `AUTO_REOPTIMIZE` code (`app::plans::auto`)
//! places new visits and moves late ones. What happened is written as events, and the day
//! is measured against its promises ([`outcome`]).

pub mod outcome;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::Instant;

use chrono::{Duration, DurationRound, NaiveDate, NaiveDateTime};
use domain::dispatch::CourierEvent;
use domain::job::JobStatus;
use domain::plan::PlanObjective;
use domain::report::completion_needs_proof;
use domain::sla::SlaPolicy;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

use crate::app::idempotency::Keyed;
use crate::app::plans::auto::{self, Outcome};
use crate::app::plans::input::{drive_seconds, road_m};
use crate::app::plans::publish::PublishRequest;
use crate::app::plans::run::{self, Curve};
use crate::app::visits::{eta, positions, proof_target, report};
use crate::auth::Role;
use crate::config::{DispatchSettings, Reoptimize, SimulateArgs, SimulatedCity};
use crate::db::attachments::{self, NewAttachment};
use crate::db::types::{CourierId, JobId, PlanId, TimeWindow, UserId};
use crate::db::{
    fleet, jobs, now, outbox, plans, users, write_tx, DatabaseUrl, DbConnection, Pool,
};
use crate::error::{ApiError, ApiResult};
use crate::seed::{self, load};
use outcome::{Event, Summary, Tally, VisitRecord};

/// Names the simulator in `plans.runner`.
const RUNNER: &str = "simulator";
/// How long a courier rings at the door of a customer who is not at home.
const NOT_HOME_MINUTES: f64 = 5.0;
/// A late visit no courier could take is tried again after this long (as the server does).
const RETRY_LATE: Duration = Duration::minutes(5);
/// New claims are approved between these hours (UTC) of the day, each for a three-hour
/// window starting at least an hour later.
const ARRIVALS_FROM: u32 = 8;
const ARRIVALS_UNTIL: u32 = 13;

/// Which city lives the day.
#[derive(Debug, Clone, Copy)]
pub enum City {
    /// The demo city (two depots, four couriers on shift, its approved claims) with
    /// `extra` more approved claims in its streets.
    Demo { extra: usize },
    /// A generated day (`claimroute seed-load`): `couriers` couriers, `stops` jobs each.
    Generated { couriers: usize, stops: usize },
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub city: City,
    /// The simulated day.
    pub date: NaiveDate,
    /// Seeds the city, the noise, the failures and the arrivals.
    pub seed: u64,
    /// The log-normal spread (sigma) of travel times around the estimate; the mean is the
    /// estimate.
    pub travel_noise: f64,
    /// The same for service times.
    pub service_noise: f64,
    /// Share of visits where nobody is at home.
    pub fail_rate: f64,
    /// New claims approved during the day for a visit the same day.
    pub arrivals: usize,
    /// Whether the `AUTO_REOPTIMIZE` code runs (new visits placed, late visits moved).
    pub reoptimize: bool,
    /// The planner's budget: iterations per thread (the same routes every run).
    pub iterations: u64,
    /// How often the ETA sweep (and the re-optimisation sweep) runs, in virtual time.
    pub sweep_every: Duration,
    /// How often a driving courier's phone sends its position.
    pub positions_every: Duration,
    /// How long before its window's end the plan aims to begin each visit
    /// (`PLAN_BUFFER_MINUTES`).
    pub plan_buffer_minutes: f64,
    /// How many minutes that buffer grows by per hour of the day
    /// (`PLAN_BUFFER_PER_HOUR_MINUTES`).
    pub plan_buffer_per_hour_minutes: f64,
}

/// A simulated day: what happened, and the figures.
#[derive(Debug)]
pub struct Day {
    pub events: Vec<Event>,
    pub summary: Summary,
}

/// What happens next in the day, in time order (ties in the order they were scheduled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Next {
    /// Courier `i` acts: leaves, arrives, ends a visit or a break.
    Act(usize),
    /// Courier `i`'s phone sends where he is on his way.
    Fix(usize),
    /// The ETA sweep (and the re-optimisation sweep).
    Sweep,
    /// New claim `k` is approved.
    Arrival(usize),
}

#[derive(Debug, Clone)]
struct Visit {
    job: JobId,
    to: (f64, f64),
    service: Duration,
    pickup_load: i32,
    /// The window the customer was promised: the one the planned start falls in.
    promised: Option<(NaiveDateTime, NaiveDateTime)>,
    windows: Vec<(NaiveDateTime, NaiveDateTime)>,
    arrived: Option<NaiveDateTime>,
    started: Option<NaiveDateTime>,
    fails: bool,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Between visits: he looks at his route for what is next.
    Ready,
    Driving(Box<Visit>),
    AtDoor(Box<Visit>),
    OnBreak,
    /// Driving back to the depot.
    Returning,
    /// At the depot with nothing on his route; he looks again while his shift lasts.
    Home,
}

#[derive(Debug, Clone, Copy)]
struct Leg {
    from: (f64, f64),
    to: (f64, f64),
    depart: NaiveDateTime,
    arrive: NaiveDateTime,
}

#[derive(Debug)]
struct Courier {
    id: CourierId,
    user: UserId,
    depot: (f64, f64),
    shift_end: NaiveDateTime,
    at: (f64, f64),
    leg: Option<Leg>,
    phase: Phase,
    break_taken: bool,
    started: NaiveDateTime,
    finished: NaiveDateTime,
    driven_m: f64,
    /// The published route (id, revision) a courier at home last found nothing on: he
    /// looks again only when it changes.
    idle_on: Option<(i64, i64)>,
}

/// What `next_step` finds on a courier's route.
enum Step {
    Visit(Box<Visit>),
    Break(Duration),
    Nothing,
}

/// Runs a day on the (scratch, freshly migrated) database behind `pool`.
pub fn simulate(pool: &Pool, dispatch: &DispatchSettings, spec: &Spec) -> anyhow::Result<Day> {
    let planned = prepare(pool, dispatch, spec)?;
    live(pool, &planned, spec)
}

/// A city seeded and its day planned and published, the evening before: what every
/// configuration of the same city, seed and plan lives.
pub struct Planned {
    plan: PlanId,
    dispatch: DispatchSettings,
    /// The seed's draws after the city was made: each day lived from here draws the same.
    rng: StdRng,
}

/// Refuses a spec the day cannot be lived with, before anything is seeded.
pub fn check(spec: &Spec) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&spec.fail_rate),
        "--fail-rate must be between 0 and 1"
    );
    anyhow::ensure!(
        spec.travel_noise >= 0.0 && spec.service_noise >= 0.0,
        "the noise must not be negative"
    );
    anyhow::ensure!(
        (0.0..=1440.0).contains(&spec.plan_buffer_minutes),
        "--plan-buffer-minutes must be from 0 to 1440"
    );
    anyhow::ensure!(
        (0.0..=60.0).contains(&spec.plan_buffer_per_hour_minutes),
        "--plan-buffer-per-hour-minutes must be from 0 to 60"
    );
    Ok(())
}

/// Seeds `spec`'s city on the (scratch, freshly migrated) database behind `pool` and plans
/// and publishes its day. Only the city, date, seed, planner budget and plan buffer of
/// `spec` matter here; the rest is the day's.
pub fn prepare(pool: &Pool, dispatch: &DispatchSettings, spec: &Spec) -> anyhow::Result<Planned> {
    check(spec)?;
    let sla = SlaPolicy::default();
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let dispatch = DispatchSettings {
        iterations: Some(spec.iterations.max(1)),
        plan_buffer: std::time::Duration::from_secs_f64(spec.plan_buffer_minutes * 60.0),
        plan_buffer_per_hour: std::time::Duration::from_secs_f64(
            spec.plan_buffer_per_hour_minutes * 60.0,
        ),
        ..dispatch.clone()
    };
    crate::clock::set_virtual(eve(spec.date).and_utc());
    let dispatcher = make_city(&mut *pool.get()?, &sla, spec, &mut rng)?;
    let plan = plan_day(pool, &dispatch, spec.date, dispatcher)?;
    Ok(Planned {
        plan,
        dispatch,
        rng,
    })
}

/// Lives the day `planned` on the database behind `pool` (the one it was planned on, or a
/// copy of it) with `spec`'s noise, failures, arrivals and re-optimisation.
pub fn live(pool: &Pool, planned: &Planned, spec: &Spec) -> anyhow::Result<Day> {
    check(spec)?;
    let sla = SlaPolicy::default();
    crate::clock::set_virtual(eve(spec.date).and_utc());
    let mut conn = pool.get()?;
    let mut sim = Simulation::new(
        &mut conn,
        &planned.dispatch,
        spec,
        planned.plan,
        planned.rng.clone(),
    )?;
    sim.run(&mut conn, &sla)?;
    sim.finish(&mut conn)
}

/// The city is made and planned the evening before its day.
fn eve(date: NaiveDate) -> NaiveDateTime {
    seed::at(date - Duration::days(1), 18)
}

/// Seeds the city and its day's approved claims; the dispatcher who plans.
fn make_city(
    conn: &mut DbConnection,
    sla: &SlaPolicy,
    spec: &Spec,
    rng: &mut StdRng,
) -> anyhow::Result<UserId> {
    let password = hex::encode(rand::random::<[u8; 12]>());
    match spec.city {
        City::Demo { extra } => {
            seed::demo::seed(conn, sla, &password, spec.date - Duration::days(1))?;
            let dealer = user_id(conn, "dealer1@demo.test")?;
            write_tx(conn, |conn| -> ApiResult<()> {
                seed::ensure_products(conn, &load::PRODUCTS)?;
                for i in 0..extra {
                    load::file_approved_claim(conn, sla, (dealer, spec.date), rng, i, |rng| {
                        load::slot(rng, spec.date)
                    })?;
                }
                Ok(())
            })
            .map_err(|e| anyhow::anyhow!("seeding the demo day failed: {e}"))?;
            user_id(conn, "dispatcher@demo.test")
        }
        City::Generated { couriers, stops } => {
            load::seed_load(
                conn,
                sla,
                &load::LoadSpec {
                    couriers,
                    stops,
                    date: spec.date,
                    password,
                    seed: spec.seed,
                    progress: false,
                },
            )?;
            user_id(conn, load::DISPATCHER)
        }
    }
}

fn user_id(conn: &mut DbConnection, email: &str) -> anyhow::Result<UserId> {
    users::find_by_email(conn, email)?
        .map(|u| u.id)
        .ok_or_else(|| anyhow::anyhow!("{email} is missing"))
}

/// Plans the day as a dispatcher's `POST /plans` and the plan worker would, and publishes
/// it (accepting whatever the planner could not avoid).
fn plan_day(
    pool: &Pool,
    dispatch: &DispatchSettings,
    date: NaiveDate,
    dispatcher: UserId,
) -> anyhow::Result<PlanId> {
    let claimed = {
        let conn = &mut *pool.get()?;
        let queued = write_tx(conn, |conn| {
            crate::app::plans::queue(conn, dispatcher, date, None, 60_000, PlanObjective::Cost)
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        write_tx(conn, |conn| plans::claim_next(conn, RUNNER))?
            .ok_or_else(|| anyhow::anyhow!("plan {} was not claimed", queued.id))?
    };
    run::compute(pool, &claimed, RUNNER, dispatch, &Curve::default())
        .map_err(|e| anyhow::anyhow!("planning the day failed: {e}"))?;
    let request = PublishRequest {
        version: None,
        accept_violations: true,
    };
    write_tx(&mut *pool.get()?, |conn| {
        crate::app::plans::publish(conn, claimed.id, dispatcher, &request)
    })
    .map_err(|e| anyhow::anyhow!("publishing the day failed: {e}"))?;
    Ok(claimed.id)
}

struct Simulation<'a> {
    spec: &'a Spec,
    plan: PlanId,
    dispatch: &'a DispatchSettings,
    date: NaiveDate,
    rng: StdRng,
    travel: LogNormal<f64>,
    service: LogNormal<f64>,
    couriers: Vec<Courier>,
    queue: BinaryHeap<Reverse<(NaiveDateTime, u64, Next)>>,
    scheduled: u64,
    arrivals: Vec<NaiveDateTime>,
    arrived_jobs: HashSet<JobId>,
    tried_late: HashMap<(PlanId, JobId), NaiveDateTime>,
    events: Vec<Event>,
    tally: Tally,
    started_wall: Instant,
    /// Who files the claims that arrive during the day.
    dealer: UserId,
}

/// A log-normal whose mean is 1: `estimate x draw` is right on average.
fn unit_mean_lognormal(sigma: f64) -> anyhow::Result<LogNormal<f64>> {
    LogNormal::new(-sigma * sigma / 2.0, sigma).map_err(|e| anyhow::anyhow!("{e}"))
}

impl<'a> Simulation<'a> {
    fn new(
        conn: &mut DbConnection,
        dispatch: &'a DispatchSettings,
        spec: &'a Spec,
        plan: PlanId,
        mut rng: StdRng,
    ) -> anyhow::Result<Self> {
        let routes = plans::routes(conn, plan)?;
        let stops = plans::stops(conn, plan)?;
        let depots: HashMap<i64, (f64, f64)> = fleet::list_depots(conn)?
            .into_iter()
            .map(|d| (d.id, (d.lat, d.lon)))
            .collect();
        let shifts: HashMap<CourierId, (fleet::ShiftRow, fleet::CourierRow)> =
            fleet::on_shift(conn, spec.date, None)?
                .into_iter()
                .map(|(s, c)| (c.id, (s, c)))
                .collect();
        let mut tally = Tally {
            planned_visits: stops
                .iter()
                .filter(|s| s.route_id.is_some() && s.job_id.is_some())
                .count(),
            left_out: stops.iter().filter(|s| s.route_id.is_none()).count(),
            planned_km: routes.iter().map(|r| r.distance_m).sum::<f64>() / 1000.0,
            planned_hours: routes
                .iter()
                .map(|r| hours(r.end_at - r.start_at))
                .sum::<f64>(),
            delayed_before: outbox::count_of(conn, "visit.delayed")?,
            told_before: outbox::count_of(conn, "claim.visit_planned")?,
            ..Tally::default()
        };
        let mut couriers = Vec::new();
        let mut sorted = routes;
        sorted.sort_by_key(|r| r.courier_id);
        for route in sorted {
            let Some((shift, courier)) = shifts.get(&route.courier_id) else {
                continue;
            };
            let depot = depots
                .get(&shift.start_depot_id)
                .copied()
                .ok_or_else(|| anyhow::anyhow!("depot {} missing", shift.start_depot_id))?;
            couriers.push(Courier {
                id: courier.id,
                user: courier.user_id,
                depot,
                shift_end: shift.end_at,
                at: depot,
                leg: None,
                phase: Phase::Ready,
                break_taken: false,
                started: route.start_at,
                finished: route.start_at,
                driven_m: 0.0,
                idle_on: None,
            });
        }
        tally.couriers = couriers.len();
        let from = seed::at(spec.date, ARRIVALS_FROM);
        let span = (ARRIVALS_UNTIL - ARRIVALS_FROM) as i64 * 3600;
        let mut arrivals: Vec<NaiveDateTime> = (0..spec.arrivals)
            .map(|_| from + Duration::seconds(rng.gen_range(0..span)))
            .collect();
        arrivals.sort();
        let mut sim = Self {
            spec,
            plan,
            dispatch,
            date: spec.date,
            travel: unit_mean_lognormal(spec.travel_noise)?,
            service: unit_mean_lognormal(spec.service_noise)?,
            rng,
            couriers,
            queue: BinaryHeap::new(),
            scheduled: 0,
            arrivals,
            arrived_jobs: HashSet::new(),
            tried_late: HashMap::new(),
            events: Vec::new(),
            tally,
            started_wall: Instant::now(),
            dealer: dealer_of(conn, &spec.city)?,
        };
        let starts: Vec<NaiveDateTime> = sim.couriers.iter().map(|c| c.started).collect();
        for (i, start) in starts.iter().enumerate() {
            sim.schedule(*start, Next::Act(i));
        }
        if let Some(first) = starts.iter().min() {
            sim.schedule(*first, Next::Sweep);
        }
        for (k, at) in sim.arrivals.clone().into_iter().enumerate() {
            sim.schedule(at, Next::Arrival(k));
        }
        Ok(sim)
    }

    fn schedule(&mut self, at: NaiveDateTime, next: Next) {
        self.scheduled += 1;
        self.queue.push(Reverse((at, self.scheduled, next)));
    }

    fn run(&mut self, conn: &mut DbConnection, sla: &SlaPolicy) -> anyhow::Result<()> {
        let rules = report::Rules {
            sla: sla.clone(),
            dispatch: self.dispatch.clone(),
            max_visit_attempts: domain::report::DEFAULT_MAX_VISIT_ATTEMPTS,
        };
        // Nothing of the day may run past the next morning.
        let cutoff = seed::at(self.date + Duration::days(1), 6);
        while let Some(Reverse((at, _, next))) = self.queue.pop() {
            if at > cutoff {
                break;
            }
            crate::clock::set_virtual(at.and_utc());
            match next {
                Next::Act(i) => self.act(conn, &rules, i, at)?,
                Next::Fix(i) => self.fix(conn, i, at)?,
                Next::Sweep => self.sweep(conn, at)?,
                Next::Arrival(k) => self.arrival(conn, sla, k, at)?,
            }
        }
        Ok(())
    }

    /// Courier `i` does what his phase calls for at `at`.
    fn act(
        &mut self,
        conn: &mut DbConnection,
        rules: &report::Rules,
        i: usize,
        at: NaiveDateTime,
    ) -> anyhow::Result<()> {
        let phase = std::mem::replace(&mut self.couriers[i].phase, Phase::Ready);
        match phase {
            Phase::Ready | Phase::OnBreak | Phase::Home => self.next_move(conn, rules, i, at),
            Phase::Driving(mut visit) => {
                self.arrive(i);
                let (lat, lon) = visit.to;
                self.report(conn, rules, i, visit.job, CourierEvent::Arrived, at, None)?;
                visit.arrived = Some(at);
                // He waits at the door for the window to open.
                let start = visit
                    .windows
                    .iter()
                    .find(|(_, end)| *end >= at)
                    .map_or(at, |(start, _)| at.max(*start));
                visit.started = Some(start);
                visit.fails = self.rng.gen_bool(self.spec.fail_rate);
                let lasts = if visit.fails {
                    minutes(NOT_HOME_MINUTES * self.service.sample(&mut self.rng))
                } else {
                    scaled(visit.service, self.service.sample(&mut self.rng))
                };
                self.couriers[i].at = (lat, lon);
                self.couriers[i].phase = Phase::AtDoor(visit);
                self.schedule(start + lasts, Next::Act(i));
                Ok(())
            }
            Phase::AtDoor(visit) => {
                let event = if visit.fails {
                    CourierEvent::Failed
                } else {
                    if completion_needs_proof(visit.pickup_load) {
                        self.photograph(conn, i, visit.job)?;
                    }
                    CourierEvent::Completed
                };
                let reason = visit.fails.then_some("nobody at home");
                // A refused report (counted in the figures) leaves no visit behind.
                if self.report(conn, rules, i, visit.job, event, at, reason)? {
                    self.tally.record(&visit, &self.arrived_jobs);
                    self.events.push(Event::Visit(VisitRecord::of(
                        self.couriers[i].id,
                        &visit,
                        at,
                        self.arrived_jobs.contains(&visit.job),
                    )));
                }
                self.next_move(conn, rules, i, at)
            }
            Phase::Returning => {
                self.arrive(i);
                let courier = &mut self.couriers[i];
                courier.finished = at;
                courier.phase = Phase::Home;
                Ok(())
            }
        }
    }

    /// Ends courier `i`'s leg.
    fn arrive(&mut self, i: usize) {
        let courier = &mut self.couriers[i];
        if let Some(leg) = courier.leg.take() {
            courier.at = leg.to;
            courier.driven_m += road_m(self.dispatch, leg.from, leg.to);
        }
    }

    /// Courier `i` sets off from where he is to `to` at `at`; when he will be there.
    fn drive(&mut self, i: usize, to: (f64, f64), at: NaiveDateTime) -> NaiveDateTime {
        let from = self.couriers[i].at;
        let estimate =
            Duration::milliseconds((drive_seconds(self.dispatch, from, to) * 1000.0) as i64);
        let arrive = at + scaled(estimate, self.travel.sample(&mut self.rng));
        self.couriers[i].leg = Some(Leg {
            from,
            to,
            depart: at,
            arrive,
        });
        arrive
    }

    /// Courier `i`, free at `at`, takes the next thing his route holds.
    fn next_move(
        &mut self,
        conn: &mut DbConnection,
        rules: &report::Rules,
        i: usize,
        at: NaiveDateTime,
    ) -> anyhow::Result<()> {
        match self.next_step(conn, i)? {
            Step::Visit(visit) => {
                self.report(conn, rules, i, visit.job, CourierEvent::Departed, at, None)?;
                let arrive = self.drive(i, visit.to, at);
                let every = self.spec.positions_every;
                let mut fix = at + every;
                while fix < arrive {
                    self.schedule(fix, Next::Fix(i));
                    fix += every;
                }
                self.couriers[i].phase = Phase::Driving(visit);
                self.schedule(arrive, Next::Act(i));
            }
            Step::Break(length) => {
                self.couriers[i].break_taken = true;
                self.couriers[i].phase = Phase::OnBreak;
                self.schedule(at + length, Next::Act(i));
            }
            Step::Nothing if self.couriers[i].at == self.couriers[i].depot => {
                self.couriers[i].phase = Phase::Home;
            }
            Step::Nothing => {
                let arrive = self.drive(i, self.couriers[i].depot, at);
                self.couriers[i].phase = Phase::Returning;
                self.schedule(arrive, Next::Act(i));
            }
        }
        Ok(())
    }

    /// The first stop of courier `i`'s published route still his to visit, or his break
    /// when it comes first and is not taken yet.
    fn next_step(&mut self, conn: &mut DbConnection, i: usize) -> anyhow::Result<Step> {
        let route = plans::published_route_of_user(conn, self.couriers[i].user, self.date)?;
        self.step_on(conn, i, route)
    }

    /// As `next_step`, on the published route already read.
    fn step_on(
        &mut self,
        conn: &mut DbConnection,
        i: usize,
        route: Option<plans::RouteRef>,
    ) -> anyhow::Result<Step> {
        let courier = &self.couriers[i];
        let Some(route) = route else {
            return Ok(Step::Nothing);
        };
        let stops = plans::route_stops(conn, route.route_id)?;
        let ids: Vec<JobId> = stops.iter().filter_map(|s| s.job_id).collect();
        let jobs: HashMap<JobId, jobs::JobRow> = jobs::by_ids(conn, &ids)?
            .into_iter()
            .map(|j| (j.id, j))
            .collect();
        for stop in &stops {
            let Some(job) = stop.job_id.and_then(|id| jobs.get(&id)) else {
                if stop.job_id.is_none() && !courier.break_taken {
                    if let (Some(start), Some(end)) = (stop.start_at, stop.departure_at) {
                        return Ok(Step::Break(end - start));
                    }
                }
                continue;
            };
            if stop.outcome.is_some()
                || job.courier_id != Some(courier.id)
                || job.status != JobStatus::Assigned
            {
                continue;
            }
            let mut windows: Vec<(NaiveDateTime, NaiveDateTime)> = job
                .windows
                .iter()
                .map(|w: &TimeWindow| (w.start.naive_utc(), w.end.naive_utc()))
                .collect();
            windows.sort();
            let planned_start = stop.start_at.unwrap_or(now());
            return Ok(Step::Visit(Box::new(Visit {
                job: job.id,
                to: (job.lat, job.lon),
                service: Duration::minutes(i64::from(job.service_minutes)),
                pickup_load: job.pickup_load,
                promised: domain::eta::promised(&windows, planned_start),
                windows,
                arrived: None,
                started: None,
                fails: false,
            })));
        }
        Ok(Step::Nothing)
    }

    /// Sends courier `i`'s report as his phone would; whether it moved the job. A refusal
    /// (the job changed meanwhile) is recorded, not fatal.
    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        conn: &mut DbConnection,
        rules: &report::Rules,
        i: usize,
        job: JobId,
        event: CourierEvent,
        at: NaiveDateTime,
        reason: Option<&str>,
    ) -> anyhow::Result<bool> {
        self.tally.reports += 1;
        let (lat, lon) = self.couriers[i].leg.map_or(self.couriers[i].at, |l| l.from);
        let report = report::Report {
            job_id: job,
            event,
            at,
            lat,
            lon,
            reason: reason.map(str::to_owned),
            note: None,
        };
        let keyed = Keyed::new(
            self.couriers[i].user,
            Some(format!("sim-{}", self.tally.reports)),
            "POST /me/jobs/{id}/events",
            &(job.0, event.as_str(), at),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        match write_tx(conn, |conn| report::report(conn, rules, &keyed, &report)) {
            Ok(answer) => Ok(serde_json::from_str::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|body| body["applied"].as_bool())
                .unwrap_or(false)),
            Err(ApiError::Conflict(_) | ApiError::NotFound) => {
                self.tally.refused_reports += 1;
                Ok(false)
            }
            Err(e) => Err(anyhow::anyhow!("a report of job {job} failed: {e}")),
        }
    }

    /// The proof photo a pickup needs before it counts as done (its record: the simulator
    /// keeps no bytes).
    fn photograph(&mut self, conn: &mut DbConnection, i: usize, job: JobId) -> anyhow::Result<()> {
        let user = self.couriers[i].user;
        write_tx(conn, |conn| -> ApiResult<()> {
            let target = proof_target(conn, user, job)?;
            attachments::insert(
                conn,
                &NewAttachment {
                    claim_id: target.claim_id,
                    job_id: target.job_id,
                    kind: target.kind,
                    file_name: "simulated-proof.jpg",
                    content_type: "image/jpeg",
                    bytes: 0,
                    sha256: "",
                    uploaded_by: user,
                    created_at: now(),
                    width: None,
                    height: None,
                    thumbnail: false,
                },
            )?;
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("the proof of job {job}: {e}"))
    }

    /// Courier `i`'s phone sends where he is on his leg.
    fn fix(&mut self, conn: &mut DbConnection, i: usize, at: NaiveDateTime) -> anyhow::Result<()> {
        let Some(leg) = self.couriers[i].leg else {
            return Ok(());
        };
        let total = (leg.arrive - leg.depart).num_milliseconds().max(1) as f64;
        let share = ((at - leg.depart).num_milliseconds() as f64 / total).clamp(0.0, 1.0);
        let fix = positions::Fix {
            at,
            lat: leg.from.0 + (leg.to.0 - leg.from.0) * share,
            lon: leg.from.1 + (leg.to.1 - leg.from.1) * share,
            accuracy_m: Some(10.0),
        };
        let user = self.couriers[i].user;
        write_tx(conn, |conn| {
            positions::record(conn, self.dispatch, user, &[fix])
        })
        .map_err(|e| anyhow::anyhow!("positions: {e}"))?;
        self.tally.position_batches += 1;
        Ok(())
    }

    /// The server's sweeps at `at`: live ETAs (and delay notices), then with re-optimisation
    /// new visits placed and late ones moved; couriers at the depot look at their routes
    /// again. Scheduled again while anyone is still out.
    fn sweep(&mut self, conn: &mut DbConnection, at: NaiveDateTime) -> anyhow::Result<()> {
        let routes = plans::routes_under_way(conn, domain::eta::days_under_way(at), at)?;
        for route in routes {
            write_tx(conn, |conn| {
                eta::retime_route(conn, self.dispatch, route, at)
            })
            .map_err(|e| anyhow::anyhow!("re-timing route {route}: {e}"))?;
        }
        if self.spec.reoptimize {
            self.place_waiting(conn, at)?;
            self.relieve_late(conn, at)?;
        }
        let idle: Vec<usize> = (0..self.couriers.len())
            .filter(|&i| {
                matches!(self.couriers[i].phase, Phase::Home) && at < self.couriers[i].shift_end
            })
            .collect();
        for i in idle {
            let route = plans::published_route_of_user(conn, self.couriers[i].user, self.date)?;
            let seen = route.map(|r| (r.route_id, r.revision));
            if seen == self.couriers[i].idle_on {
                continue;
            }
            self.couriers[i].idle_on = seen;
            if !matches!(self.step_on(conn, i, route)?, Step::Nothing) {
                self.schedule(at, Next::Act(i));
            }
        }
        let out = self
            .couriers
            .iter()
            .any(|c| !matches!(c.phase, Phase::Home) || at < c.shift_end);
        let arrivals_ahead = self.arrivals.last().is_some_and(|last| *last > at);
        if out || arrivals_ahead {
            self.schedule(at + self.spec.sweep_every, Next::Sweep);
        }
        Ok(())
    }

    /// New visits waiting for the published day go on a route (`AUTO_REOPTIMIZE`); the
    /// computation's wall time of each is kept.
    fn place_waiting(&mut self, conn: &mut DbConnection, at: NaiveDateTime) -> anyhow::Result<()> {
        let now_utc = at.and_utc();
        let waiting = auto::waiting(conn, now_utc).map_err(|e| anyhow::anyhow!("{e}"))?;
        for (plan, job) in waiting {
            let wall = Instant::now();
            let outcome = write_tx(conn, |conn| {
                auto::place(conn, self.dispatch, plan, job, now_utc)
            })
            .map_err(|e| anyhow::anyhow!("placing job {job}: {e}"))?;
            self.tally
                .placing_ms
                .push(wall.elapsed().as_secs_f64() * 1000.0);
            match outcome {
                Outcome::Placed => self.tally.placed += 1,
                Outcome::LeftOut => self.tally.no_room += 1,
                Outcome::Skipped => {}
            }
        }
        Ok(())
    }

    /// Late visits move to a courier who can make them (`AUTO_REOPTIMIZE`); one nobody can
    /// take is tried again after five minutes.
    fn relieve_late(&mut self, conn: &mut DbConnection, at: NaiveDateTime) -> anyhow::Result<()> {
        let now_utc = at.and_utc();
        self.tried_late.retain(|_, tried| at - *tried < RETRY_LATE);
        let late: Vec<_> = auto::late(conn, now_utc)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .into_iter()
            .filter(|key| !self.tried_late.contains_key(key))
            .collect();
        for &key in &late {
            self.tried_late.insert(key, at);
        }
        let movable = auto::relievable(conn, &late, now_utc).map_err(|e| anyhow::anyhow!("{e}"))?;
        for (plan, job) in movable {
            // As in the server's sweep, a visit that cannot move does not hold up the rest.
            match write_tx(conn, |conn| auto::relieve(conn, plan, job, now_utc)) {
                Ok(Outcome::Placed) => self.tally.moved += 1,
                Ok(_) | Err(ApiError::Conflict(_)) => {}
                Err(e) => return Err(anyhow::anyhow!("moving job {job}: {e}")),
            }
        }
        Ok(())
    }

    /// New claim `k` is filed and approved for a window later today.
    fn arrival(
        &mut self,
        conn: &mut DbConnection,
        sla: &SlaPolicy,
        k: usize,
        at: NaiveDateTime,
    ) -> anyhow::Result<()> {
        let dealer = self.dealer;
        let start = (at + Duration::hours(1))
            .duration_trunc(Duration::hours(1))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            + Duration::hours(1);
        let window = TimeWindow {
            start: start.and_utc(),
            end: (start + Duration::hours(3)).and_utc(),
        };
        let index = 1_000_000 + k;
        let rng = &mut self.rng;
        let date = self.date;
        let made = write_tx(conn, |conn| {
            load::file_approved_claim(conn, sla, (dealer, date), rng, index, |_| window)
        })
        .map_err(|e| anyhow::anyhow!("a new claim: {e}"))?;
        self.tally.arrivals += 1;
        for job in &made {
            self.arrived_jobs.insert(job.id);
            self.tally.arrival_jobs += 1;
        }
        self.events.push(Event::Claim {
            at: at.and_utc(),
            jobs: made.iter().map(|j| j.id).collect(),
            window: (window.start, window.end),
        });
        // The server's one-second sweep places it at once.
        if self.spec.reoptimize {
            self.place_waiting(conn, at)?;
        }
        Ok(())
    }

    fn finish(mut self, conn: &mut DbConnection) -> anyhow::Result<Day> {
        self.tally.driven_km = self.couriers.iter().map(|c| c.driven_m).sum::<f64>() / 1000.0;
        self.tally.worked_hours = self
            .couriers
            .iter()
            .map(|c| hours(c.finished - c.started))
            .sum();
        self.tally.delayed_after = outbox::count_of(conn, "visit.delayed")?;
        self.tally.told_after = outbox::count_of(conn, "claim.visit_planned")?;
        self.tally.not_reached = plans::stops(conn, self.plan)?
            .iter()
            .filter(|s| s.route_id.is_some() && s.job_id.is_some() && s.outcome.is_none())
            .count();
        let summary = self.tally.summary(
            self.spec,
            &self.events,
            self.started_wall.elapsed().as_secs_f64(),
        );
        Ok(Day {
            events: self.events,
            summary,
        })
    }
}

fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

fn minutes(m: f64) -> Duration {
    Duration::milliseconds((m * 60_000.0) as i64)
}

fn scaled(d: Duration, factor: f64) -> Duration {
    Duration::milliseconds((d.num_milliseconds() as f64 * factor) as i64)
}

/// The dealer who files a city's new claims.
fn dealer_of(conn: &mut DbConnection, city: &City) -> anyhow::Result<UserId> {
    let email = match city {
        City::Demo { .. } => "dealer1@demo.test",
        City::Generated { .. } => load::DEALER,
    };
    let user = users::find_by_email(conn, email)?
        .filter(|u| u.role == Role::Dealer)
        .ok_or_else(|| anyhow::anyhow!("{email} is missing"))?;
    Ok(user.id)
}

/// `claimroute simulate`: one city planned on a scratch database and its day lived once for
/// each travel noise and re-optimisation asked for (each on a copy of the planned
/// database, so the days differ only in what was asked); the figures on standard output (a
/// markdown row per day) and in the files asked for.
pub fn command(args: &SimulateArgs) -> anyhow::Result<Vec<Summary>> {
    let base = Spec {
        city: match args.city {
            SimulatedCity::Demo => City::Demo { extra: args.extra },
            SimulatedCity::Generated => City::Generated {
                couriers: args.couriers,
                stops: args.stops,
            },
        },
        date: args
            .date
            .unwrap_or_else(|| (chrono::Utc::now() + Duration::days(1)).date_naive()),
        seed: args.seed,
        travel_noise: 0.0,
        service_noise: 0.0,
        fail_rate: args.fail_rate,
        arrivals: args.arrivals,
        reoptimize: false,
        iterations: args.iterations,
        sweep_every: Duration::seconds(args.sweep_seconds.max(1)),
        positions_every: Duration::seconds(args.position_seconds.max(1)),
        plan_buffer_minutes: args.plan_buffer_minutes,
        plan_buffer_per_hour_minutes: args.plan_buffer_per_hour_minutes,
    };
    let mut specs = Vec::new();
    for noise in dedup(&args.travel_noise) {
        for reoptimize in dedup(&args.reoptimize) {
            specs.push(Spec {
                travel_noise: noise,
                service_noise: args.service_noise.unwrap_or(noise),
                reoptimize: reoptimize == Reoptimize::On,
                ..base.clone()
            });
        }
    }
    for spec in &specs {
        check(spec)?;
    }
    anyhow::ensure!(
        specs.len() == 1 || args.events.is_none(),
        "--events takes one day's events: give one --travel-noise and one --reoptimize"
    );
    let scratch = Scratch::new(args.scratch_database.as_deref())?;
    anyhow::ensure!(
        specs.len() == 1 || scratch.url.is_sqlite(),
        "several days are lived on copies of the planned database, which needs a SQLite \
         scratch database"
    );
    let pool = crate::db::connect_pool(&scratch.url, 1)?;
    {
        let mut conn = pool.get()?;
        crate::db::run_migrations(&mut conn)?;
        anyhow::ensure!(
            users::count(&mut conn)? == 0,
            "the scratch database must be empty: the simulator fills it with a city"
        );
    }
    let planned = prepare(&pool, &DispatchSettings::default(), &base)?;
    print!("{}", outcome::TABLE_HEADER);
    let mut summaries = Vec::new();
    for spec in &specs {
        let day = if specs.len() == 1 {
            live(&pool, &planned, spec)?
        } else {
            let copy = Scratch::new(None)?;
            crate::db::copy_sqlite(&mut *pool.get()?, copy.path()?)?;
            live(&crate::db::connect_pool(&copy.url, 1)?, &planned, spec)?
        };
        if let Some(path) = &args.events {
            let mut lines = String::new();
            for event in &day.events {
                lines.push_str(&serde_json::to_string(event)?);
                lines.push('\n');
            }
            std::fs::write(path, lines)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        }
        let row = outcome::table_row(&day.summary);
        if let Some(path) = &args.table {
            use std::io::Write as _;
            let new = !path.exists();
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            if new {
                file.write_all(outcome::TABLE_HEADER.as_bytes())?;
            }
            file.write_all(row.as_bytes())?;
        }
        print!("{row}");
        summaries.push(day.summary);
    }
    drop(pool);
    if let Some(path) = &args.out {
        let json = match summaries.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            several => serde_json::to_string_pretty(several)?,
        };
        std::fs::write(path, json)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(summaries)
}

/// The values in the order given, each once.
fn dedup<T: PartialEq + Copy>(values: &[T]) -> Vec<T> {
    let mut seen = Vec::new();
    for v in values {
        if !seen.contains(v) {
            seen.push(*v);
        }
    }
    seen
}

/// The database a simulation runs on: the one given, or a temporary SQLite file removed
/// when the run ends.
struct Scratch {
    url: DatabaseUrl,
    temporary: Option<std::path::PathBuf>,
}

impl Scratch {
    /// The temporary SQLite file's path (where a copy is written).
    fn path(&self) -> anyhow::Result<&std::path::Path> {
        self.temporary
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("a given scratch database is not copied over"))
    }

    fn new(given: Option<&str>) -> anyhow::Result<Self> {
        if let Some(url) = given {
            return Ok(Self {
                url: DatabaseUrl::parse(url)?,
                temporary: None,
            });
        }
        let path = std::env::temp_dir().join(format!(
            "claimroute-simulate-{}-{}.db",
            std::process::id(),
            hex::encode(rand::random::<[u8; 4]>())
        ));
        Ok(Self {
            url: DatabaseUrl::Sqlite(path.clone()),
            temporary: Some(path),
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = &self.temporary {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
    }
}
