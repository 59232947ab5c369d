//! Plans of a day, their routes and stops; and the published route a courier drives.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use domain::plan::{PlanObjective, PlanStatus};
use planner::{Problem, RouteViolation};
use serde::{Deserialize, Serialize};

use super::schema::{couriers, jobs, plan_routes, plan_stops, plans};
use super::types::{CourierId, DbEnum, JobId, Json, PlanId, UserId};
use super::{now, DbConnection};

/// One point of the best-cost-over-time curve a dispatcher watches while a plan runs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProgressPoint {
    pub elapsed_ms: u64,
    /// Share of the time budget used, 0..1.
    pub fraction: f64,
    pub cost: f64,
    pub vehicles: usize,
    pub unassigned: usize,
}

/// What dispatchers judge a plan by (`plans.stats`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Kpis {
    pub jobs_planned: usize,
    pub jobs_unassigned: usize,
    pub couriers_on_shift: usize,
    pub vehicles_used: usize,
    pub distance_km: f64,
    /// Sum of the routes' durations, depot to depot.
    pub working_hours: f64,
    /// Time between each visit's start and the end of its window: the smallest and the
    /// mean, in minutes (none when no stop has a window).
    pub min_slack_minutes: Option<f64>,
    pub mean_slack_minutes: Option<f64>,
    /// Problems a dispatcher's edits introduced (late, over capacity, missing skill...).
    pub violations: usize,
}

/// A plan without its problem (which can be megabytes: see [`problem`]).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub id: PlanId,
    pub date: NaiveDate,
    pub depot_id: Option<i64>,
    pub scope: String,
    #[diesel(deserialize_as = DbEnum<PlanStatus>)]
    pub status: PlanStatus,
    pub created_by: UserId,
    /// The published plan of the day when this one was queued.
    pub based_on_id: Option<PlanId>,
    pub reoptimizes_id: Option<PlanId>,
    pub time_limit_ms: i32,
    pub runner: Option<String>,
    pub heartbeat_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Json<Vec<ProgressPoint>>)]
    pub progress: Vec<ProgressPoint>,
    #[diesel(deserialize_as = Json<Option<Kpis>>)]
    pub stats: Option<Kpis>,
    pub origin: Option<NaiveDateTime>,
    pub error: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// How many times a worker claimed the plan (once, unless something is wrong).
    pub runs: i32,
    #[diesel(deserialize_as = DbEnum<PlanObjective>)]
    pub objective: PlanObjective,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = plans)]
pub struct NewPlan<'a> {
    pub date: NaiveDate,
    pub depot_id: Option<i64>,
    pub scope: &'a str,
    #[diesel(serialize_as = DbEnum<PlanStatus>)]
    pub status: PlanStatus,
    pub created_by: UserId,
    pub based_on_id: Option<PlanId>,
    pub reoptimizes_id: Option<PlanId>,
    pub time_limit_ms: i32,
    #[diesel(serialize_as = DbEnum<PlanObjective>)]
    pub objective: PlanObjective,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plan_routes)]
pub struct RouteRow {
    pub id: i64,
    pub plan_id: PlanId,
    pub courier_id: CourierId,
    /// The courier's index in the plan's problem.
    pub vehicle: i32,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub distance_m: f64,
    /// Route-level problems (over capacity at departure, shift overrun...).
    #[diesel(deserialize_as = Json<Vec<RouteViolation>>)]
    pub violations: Vec<RouteViolation>,
    /// Bumped whenever what the courier sees changes.
    pub revision: i64,
    /// When the live ETAs were last computed, and the estimated return then.
    pub etas_at: Option<NaiveDateTime>,
    pub eta_end_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = plan_routes)]
pub struct NewRoute {
    pub plan_id: PlanId,
    pub courier_id: CourierId,
    pub vehicle: i32,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub distance_m: f64,
    #[diesel(serialize_as = Json<Vec<RouteViolation>>)]
    pub violations: Vec<RouteViolation>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plan_stops)]
pub struct StopRow {
    pub id: i64,
    pub plan_id: PlanId,
    /// `None` for an unassigned job.
    pub route_id: Option<i64>,
    pub seq: i32,
    /// `None` for the break.
    pub job_id: Option<JobId>,
    pub arrival_at: Option<NaiveDateTime>,
    pub start_at: Option<NaiveDateTime>,
    pub departure_at: Option<NaiveDateTime>,
    pub load: i32,
    pub locked: bool,
    /// Why an unassigned job was left out.
    pub reason: Option<String>,
    #[diesel(deserialize_as = Json<Vec<RouteViolation>>)]
    pub violations: Vec<RouteViolation>,
    /// How the visit ended (`done`, `failed`).
    pub outcome: Option<String>,
    /// The current arrival estimate (live ETAs) while the visit is ahead and departs from
    /// the plan by more than a minute; `None` reads "as planned".
    pub eta_at: Option<NaiveDateTime>,
    /// That estimate passes the end of the promised window (less the margin).
    pub delayed: bool,
    /// When the customer was last told of a delay of this visit.
    pub delay_noticed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = plan_stops)]
pub struct NewStop {
    pub plan_id: PlanId,
    pub route_id: Option<i64>,
    pub seq: i32,
    pub job_id: Option<JobId>,
    pub arrival_at: Option<NaiveDateTime>,
    pub start_at: Option<NaiveDateTime>,
    pub departure_at: Option<NaiveDateTime>,
    pub load: i32,
    pub locked: bool,
    pub reason: Option<String>,
    #[diesel(serialize_as = Json<Vec<RouteViolation>>)]
    pub violations: Vec<RouteViolation>,
    pub outcome: Option<String>,
    pub delay_noticed_at: Option<NaiveDateTime>,
}

// Writes return the id and read the row back: the multi-backend connection cannot
// `RETURNING` a selection that leaves a column (the problem) out.
pub fn insert(conn: &mut DbConnection, new: NewPlan) -> QueryResult<PlanRow> {
    let id: PlanId = diesel::insert_into(plans::table)
        .values(new)
        .returning(plans::id)
        .get_result(conn)?;
    find(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: PlanId) -> QueryResult<Option<PlanRow>> {
    plans::table
        .find(id)
        .select(PlanRow::as_select())
        .first(conn)
        .optional()
}

/// The planner input a plan was computed from, with its time origin.
pub fn problem(
    conn: &mut DbConnection,
    id: PlanId,
) -> QueryResult<Option<(Problem, NaiveDateTime)>> {
    let stored: Option<(Option<Problem>, Option<NaiveDateTime>)> = plans::table
        .find(id)
        .select((plans::problem, plans::origin))
        .first::<(Json<Option<Problem>>, Option<NaiveDateTime>)>(conn)
        .optional()?
        .map(|(problem, origin)| (problem.0, origin));
    Ok(stored.and_then(|(problem, origin)| Some((problem?, origin?))))
}

pub fn list(
    conn: &mut DbConnection,
    date: Option<NaiveDate>,
    after_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<PlanRow>> {
    let mut query = plans::table
        .select(PlanRow::as_select())
        .order(plans::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(date) = date {
        query = query.filter(plans::date.eq(date));
    }
    if let Some(after) = after_id {
        query = query.filter(plans::id.gt(after));
    }
    query.load(conn)
}

pub fn published(
    conn: &mut DbConnection,
    date: NaiveDate,
    scope: &str,
) -> QueryResult<Option<PlanRow>> {
    plans::table
        .filter(plans::date.eq(date))
        .filter(plans::scope.eq(scope))
        .filter(plans::status.eq(DbEnum(PlanStatus::Published)))
        .select(PlanRow::as_select())
        .first(conn)
        .optional()
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Takes the oldest queued plan for `runner`. On PostgreSQL the row is claimed with
/// `FOR UPDATE SKIP LOCKED`, so replicas polling at once each take a different plan; on
/// SQLite the caller's `BEGIN IMMEDIATE` already makes the claim exclusive.
pub fn claim_next(conn: &mut DbConnection, runner: &str) -> QueryResult<Option<PlanRow>> {
    let at = now();
    let claimed = match conn {
        DbConnection::Pg(pg) => diesel::sql_query(
            "UPDATE plans SET status = 'running', runner = $1, started_at = $2, \
             heartbeat_at = $2, updated_at = $2, runs = runs + 1 WHERE id = (SELECT id \
             FROM plans WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id",
        )
        .bind::<Text, _>(runner)
        .bind::<diesel::sql_types::Timestamp, _>(at)
        .get_result::<Id>(pg)
        .optional()?,
        DbConnection::Sqlite(lite) => diesel::sql_query(
            "UPDATE plans SET status = 'running', runner = ?1, started_at = ?2, \
             heartbeat_at = ?2, updated_at = ?2, runs = runs + 1 WHERE id = (SELECT id \
             FROM plans WHERE status = 'queued' ORDER BY id LIMIT 1) RETURNING id",
        )
        .bind::<Text, _>(runner)
        .bind::<diesel::sql_types::Timestamp, _>(at)
        .get_result::<Id>(lite)
        .optional()?,
    };
    match claimed {
        Some(Id { id }) => find(conn, PlanId(id)),
        None => Ok(None),
    }
}

/// Locks every plan of a date and scope until the transaction ends (PostgreSQL), so two
/// publications of that scope run one after the other. SQLite's write lock does the same.
pub fn lock_scope(conn: &mut DbConnection, date: NaiveDate, scope: &str) -> QueryResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM plans WHERE date = $1 AND scope = $2 FOR UPDATE")
            .bind::<Date, _>(date)
            .bind::<Text, _>(scope)
            .load::<Id>(pg)?;
    }
    Ok(())
}

/// Marks failed the running plans whose runner stopped reporting (a crashed process).
pub fn fail_stale(
    conn: &mut DbConnection,
    silent_since: NaiveDateTime,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(
        plans::table
            .filter(plans::status.eq(DbEnum(PlanStatus::Running)))
            .filter(plans::heartbeat_at.lt(silent_since)),
    )
    .set((
        plans::status.eq(DbEnum(PlanStatus::Failed)),
        plans::error.eq(error),
        plans::finished_at.eq(now()),
        plans::updated_at.eq(now()),
    ))
    .execute(conn)
}

/// The plan while `runner` is still computing it.
type RunningWith<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Find<plans::table, PlanId>,
        diesel::dsl::Eq<plans::status, DbEnum<PlanStatus>>,
    >,
    diesel::dsl::Eq<plans::runner, &'a str>,
>;

/// The filter of every write a run makes, so a run declared lost (marked failed by
/// another worker) can no longer change its plan.
fn running_with(id: PlanId, runner: &str) -> RunningWith<'_> {
    plans::table
        .find(id)
        .filter(plans::status.eq(DbEnum(PlanStatus::Running)))
        .filter(plans::runner.eq(runner))
}

/// The runner's sign of life with the progress so far; false once the plan is no longer
/// this runner's to finish (marked failed meanwhile).
pub fn heartbeat(
    conn: &mut DbConnection,
    id: PlanId,
    runner: &str,
    progress: Vec<ProgressPoint>,
) -> QueryResult<bool> {
    let n = diesel::update(running_with(id, runner))
        .set((
            plans::heartbeat_at.eq(now()),
            plans::progress.eq(Json(progress)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Keeps the exact input of the run, so edits re-time against it and anyone can re-check.
pub fn store_problem(
    conn: &mut DbConnection,
    id: PlanId,
    runner: &str,
    problem: Problem,
    origin: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(running_with(id, runner))
        .set((plans::problem.eq(Json(problem)), plans::origin.eq(origin)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Moves a running plan of this runner to `draft`; false if it is not running any more.
pub fn finish(
    conn: &mut DbConnection,
    id: PlanId,
    runner: &str,
    progress: Vec<ProgressPoint>,
    stats: Kpis,
) -> QueryResult<bool> {
    let at = now();
    let n = diesel::update(running_with(id, runner))
        .set((
            plans::status.eq(DbEnum(PlanStatus::Draft)),
            plans::progress.eq(Json(progress)),
            plans::stats.eq(Json(stats)),
            plans::finished_at.eq(at),
            plans::heartbeat_at.eq(at),
            plans::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks this runner's run failed with the reason a dispatcher reads.
pub fn fail(conn: &mut DbConnection, id: PlanId, runner: &str, error: &str) -> QueryResult<usize> {
    diesel::update(running_with(id, runner))
        .set((
            plans::status.eq(DbEnum(PlanStatus::Failed)),
            plans::error.eq(error),
            plans::finished_at.eq(now()),
            plans::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// Sets the status and stats of a plan at `version`, bumping it; `None` when the version
/// is stale.
pub fn update(
    conn: &mut DbConnection,
    id: PlanId,
    version: i32,
    status: PlanStatus,
    stats: Kpis,
) -> QueryResult<Option<PlanRow>> {
    let at = now();
    let updated = diesel::update(plans::table.find(id).filter(plans::version.eq(version)))
        .set((
            plans::status.eq(DbEnum(status)),
            plans::stats.eq(Json(stats)),
            plans::version.eq(version + 1),
            plans::updated_at.eq(at),
            plans::published_at.eq((status == PlanStatus::Published).then_some(at)),
        ))
        .returning(plans::id)
        .get_result::<PlanId>(conn)
        .optional()?;
    match updated {
        Some(id) => find(conn, id),
        None => Ok(None),
    }
}

/// New KPIs after a change of the plan's routes; bumps the version (a dispatcher holding
/// the old one reloads).
pub fn set_stats(conn: &mut DbConnection, id: PlanId, stats: Kpis) -> QueryResult<usize> {
    diesel::update(plans::table.find(id))
        .set((
            plans::stats.eq(Json(stats)),
            plans::version.eq(plans::version + 1),
            plans::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// The plans in `statuses` that route or leave out any of the jobs.
pub fn holding_jobs(
    conn: &mut DbConnection,
    jobs: &[JobId],
    statuses: &[PlanStatus],
) -> QueryResult<Vec<PlanId>> {
    plan_stops::table
        .inner_join(plans::table)
        .filter(plan_stops::job_id.eq_any(jobs))
        .filter(plans::status.eq_any(statuses.iter().copied().map(DbEnum)))
        .select(plans::id)
        .distinct()
        .order(plans::id.asc())
        .load(conn)
}

pub fn set_status(conn: &mut DbConnection, id: PlanId, status: PlanStatus) -> QueryResult<usize> {
    diesel::update(plans::table.find(id))
        .set((
            plans::status.eq(DbEnum(status)),
            plans::updated_at.eq(now()),
        ))
        .execute(conn)
}

pub fn insert_route(conn: &mut DbConnection, route: NewRoute) -> QueryResult<RouteRow> {
    diesel::insert_into(plan_routes::table)
        .values(route)
        .returning(plan_routes::all_columns)
        .get_result::<RouteRow>(conn)
}

/// Replaces a route's times and totals, bumping its revision.
pub fn update_route(conn: &mut DbConnection, id: i64, route: NewRoute) -> QueryResult<usize> {
    diesel::update(plan_routes::table.find(id))
        .set((route, plan_routes::revision.eq(plan_routes::revision + 1)))
        .execute(conn)
}

/// Tells the courier's phone that his route changed (its `ETag` follows the revision).
pub fn bump_revision(conn: &mut DbConnection, route_id: i64) -> QueryResult<usize> {
    diesel::update(plan_routes::table.find(route_id))
        .set(plan_routes::revision.eq(plan_routes::revision + 1))
        .execute(conn)
}

pub fn insert_stops(conn: &mut DbConnection, stops: &[NewStop]) -> QueryResult<usize> {
    // Chunks keep each statement under SQLite's bound-parameter limit; batch inserts are
    // backend-specific in diesel, so each backend gets its own call.
    let mut n = 0;
    for chunk in stops.chunks(500) {
        let query = diesel::insert_into(plan_stops::table).values(chunk.to_vec());
        n += match conn {
            DbConnection::Pg(pg) => query.execute(pg)?,
            DbConnection::Sqlite(lite) => query.execute(lite)?,
        };
    }
    Ok(n)
}

pub fn delete_route_stops(conn: &mut DbConnection, route_id: i64) -> QueryResult<usize> {
    diesel::delete(plan_stops::table.filter(plan_stops::route_id.eq(route_id))).execute(conn)
}

pub fn delete_unassigned(conn: &mut DbConnection, plan_id: PlanId) -> QueryResult<usize> {
    diesel::delete(
        plan_stops::table
            .filter(plan_stops::plan_id.eq(plan_id))
            .filter(plan_stops::route_id.is_null()),
    )
    .execute(conn)
}

pub fn routes(conn: &mut DbConnection, plan_id: PlanId) -> QueryResult<Vec<RouteRow>> {
    plan_routes::table
        .filter(plan_routes::plan_id.eq(plan_id))
        .order(plan_routes::vehicle.asc())
        .select(RouteRow::as_select())
        .load(conn)
}

pub fn route(conn: &mut DbConnection, route_id: i64) -> QueryResult<Option<RouteRow>> {
    plan_routes::table
        .find(route_id)
        .select(RouteRow::as_select())
        .first(conn)
        .optional()
}

/// Every stop of a plan, route by route in order, the unassigned last.
pub fn stops(conn: &mut DbConnection, plan_id: PlanId) -> QueryResult<Vec<StopRow>> {
    plan_stops::table
        .filter(plan_stops::plan_id.eq(plan_id))
        .order((plan_stops::route_id.asc(), plan_stops::seq.asc()))
        .select(StopRow::as_select())
        .load(conn)
}

/// One route's stops in the order the courier drives them.
pub fn route_stops(conn: &mut DbConnection, route_id: i64) -> QueryResult<Vec<StopRow>> {
    plan_stops::table
        .filter(plan_stops::route_id.eq(route_id))
        .order((plan_stops::seq.asc(), plan_stops::id.asc()))
        .select(StopRow::as_select())
        .load(conn)
}

pub fn set_locked(
    conn: &mut DbConnection,
    plan_id: PlanId,
    job_id: JobId,
    locked: bool,
) -> QueryResult<usize> {
    diesel::update(
        plan_stops::table
            .filter(plan_stops::plan_id.eq(plan_id))
            .filter(plan_stops::job_id.eq(job_id)),
    )
    .set(plan_stops::locked.eq(locked))
    .execute(conn)
}

pub fn set_outcome(conn: &mut DbConnection, stop_id: i64, outcome: &str) -> QueryResult<usize> {
    diesel::update(plan_stops::table.find(stop_id))
        .set(plan_stops::outcome.eq(outcome))
        .execute(conn)
}

/// A courier's route in the published plan of a day: the hot path of `GET /me/route`,
/// answered from `couriers_user_key`, `plan_routes_courier_idx` and the plans' key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRef {
    pub route_id: i64,
    pub revision: i64,
}

pub fn published_route_of_user(
    conn: &mut DbConnection,
    user_id: UserId,
    date: NaiveDate,
) -> QueryResult<Option<RouteRef>> {
    // The status is compared here rather than in SQL: a bound `plans.status = ?` meets the
    // partial index on published plans and makes SQLite prepare the statement again at
    // every execution, a third of a route read's cost. A courier has a route in few plans
    // of a day.
    let routes: Vec<(i64, i64, DbEnum<PlanStatus>)> = plan_routes::table
        .inner_join(plans::table)
        .inner_join(couriers::table)
        .filter(couriers::user_id.eq(user_id))
        .filter(plans::date.eq(date))
        .order(plans::id.desc())
        .select((plan_routes::id, plan_routes::revision, plans::status))
        .load(conn)?;
    Ok(routes
        .into_iter()
        .find(|(_, _, status)| status.0 == PlanStatus::Published)
        .map(|(route_id, revision, _)| RouteRef { route_id, revision }))
}

/// A stop of a courier's route, as reports change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopRef {
    pub stop_id: i64,
    pub route_id: i64,
}

/// The courier's stop for `job_id` in the plan that gave him the job.
pub fn stop_in_plan(
    conn: &mut DbConnection,
    plan_id: PlanId,
    courier_id: CourierId,
    job_id: JobId,
) -> QueryResult<Option<StopRef>> {
    plan_stops::table
        .inner_join(plan_routes::table)
        .filter(plan_routes::plan_id.eq(plan_id))
        .filter(plan_routes::courier_id.eq(courier_id))
        .filter(plan_stops::job_id.eq(job_id))
        .order(plan_stops::id.desc())
        .select((plan_stops::id, plan_routes::id))
        .first::<(i64, i64)>(conn)
        .optional()
        .map(|row| row.map(|(stop_id, route_id)| StopRef { stop_id, route_id }))
}

/// The courier's latest stop for `job_id` in a published plan whose visit already ended,
/// with its outcome: late reports about a visit that failed still find it.
pub fn ended_stop(
    conn: &mut DbConnection,
    courier_id: CourierId,
    job_id: JobId,
) -> QueryResult<Option<(StopRef, String)>> {
    plan_stops::table
        .inner_join(plan_routes::table.inner_join(plans::table))
        .filter(plans::status.eq(DbEnum(PlanStatus::Published)))
        .filter(plan_routes::courier_id.eq(courier_id))
        .filter(plan_stops::job_id.eq(job_id))
        .filter(plan_stops::outcome.is_not_null())
        .order(plan_stops::id.desc())
        .select((
            plan_stops::id,
            plan_routes::id,
            plan_stops::outcome.assume_not_null(),
        ))
        .first::<(i64, i64, String)>(conn)
        .optional()
        .map(|row| row.map(|(stop_id, route_id, outcome)| (StopRef { stop_id, route_id }, outcome)))
}

/// A visit a published plan gives a time.
#[derive(Debug, Clone, Queryable)]
pub struct PlannedStop {
    pub job_id: JobId,
    pub date: NaiveDate,
    /// The planned start of the visit.
    pub eta: Option<NaiveDateTime>,
    /// The current arrival estimate (live ETAs), once the day is under way.
    pub live_eta: Option<NaiveDateTime>,
    pub delayed: bool,
}

/// The earliest visit of these jobs in a published plan.
pub fn next_planned_stop(
    conn: &mut DbConnection,
    jobs: &[JobId],
) -> QueryResult<Option<PlannedStop>> {
    if jobs.is_empty() {
        return Ok(None);
    }
    plan_stops::table
        .inner_join(plans::table)
        .filter(plan_stops::job_id.eq_any(jobs))
        .filter(plan_stops::route_id.is_not_null())
        .filter(plans::status.eq(DbEnum(PlanStatus::Published)))
        .order((plans::date.asc(), plan_stops::start_at.asc()))
        .select((
            plan_stops::job_id.assume_not_null(),
            plans::date,
            plan_stops::start_at,
            plan_stops::eta_at,
            plan_stops::delayed,
        ))
        .first(conn)
        .optional()
}

/// The published plans of the days `[from, to)`, by date.
pub fn published_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<PlanRow>> {
    plans::table
        .filter(plans::date.ge(from))
        .filter(plans::date.lt(to))
        .filter(plans::status.eq(DbEnum(PlanStatus::Published)))
        .order((plans::date.asc(), plans::id.asc()))
        .select(PlanRow::as_select())
        .load(conn)
}

/// A stop's new live estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopEta {
    pub stop_id: i64,
    pub eta_at: Option<NaiveDateTime>,
    pub delayed: bool,
}

/// Stores the live estimates of a route's stops that changed, the route's estimated
/// return, and bumps its revision (the courier's phone refetches it).
pub fn store_etas(
    conn: &mut DbConnection,
    route_id: i64,
    changed: &[StopEta],
    eta_end_at: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<()> {
    for stop in changed {
        diesel::update(plan_stops::table.find(stop.stop_id))
            .set((
                plan_stops::eta_at.eq(stop.eta_at),
                plan_stops::delayed.eq(stop.delayed),
            ))
            .execute(conn)?;
    }
    diesel::update(plan_routes::table.find(route_id))
        .set((
            plan_routes::etas_at.eq(at),
            plan_routes::eta_end_at.eq(eta_end_at),
            plan_routes::revision.eq(plan_routes::revision + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that the customer was told of a delay of this stop.
pub fn set_delay_noticed(
    conn: &mut DbConnection,
    stop_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(plan_stops::table.find(stop_id))
        .set(plan_stops::delay_noticed_at.eq(at))
        .execute(conn)
}

/// The routes of published plans of the days `[from, to]` under way at `at`: begun, with
/// a visit whose outcome is not known yet. Two indexed reads of those days' rows only, not
/// a scan of every plan ever kept.
pub fn routes_under_way(
    conn: &mut DbConnection,
    (from, to): (NaiveDate, NaiveDate),
    at: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let begun: Vec<i64> = plan_routes::table
        .inner_join(plans::table)
        .filter(plans::date.ge(from))
        .filter(plans::date.le(to))
        .filter(plans::status.eq(DbEnum(PlanStatus::Published)))
        .filter(plan_routes::start_at.le(at))
        .select(plan_routes::id)
        .load(conn)?;
    let mut open = Vec::new();
    for chunk in begun.chunks(super::IDS_PER_QUERY) {
        let ids: Vec<Option<i64>> = chunk.iter().copied().map(Some).collect();
        open.extend(
            plan_stops::table
                .filter(plan_stops::route_id.eq_any(ids))
                .filter(plan_stops::job_id.is_not_null())
                .filter(plan_stops::outcome.is_null())
                .select(plan_stops::route_id.assume_not_null())
                .distinct()
                .load::<i64>(conn)?,
        );
    }
    open.sort_unstable();
    Ok(open)
}

/// Visits of the published plans of the days `[from, to]` whose live estimate passes
/// their promised window (a past day's visit never made keeps its flag: not counted).
pub fn delayed_visits(
    conn: &mut DbConnection,
    (from, to): (NaiveDate, NaiveDate),
) -> QueryResult<i64> {
    plan_stops::table
        .inner_join(plans::table)
        .inner_join(jobs::table)
        .filter(plans::date.ge(from))
        .filter(plans::date.le(to))
        .filter(plans::status.eq(DbEnum(PlanStatus::Published)))
        // A shipment's legs move together, by an edit; a relief moves one visit.
        .filter(jobs::paired_job_id.is_null())
        .filter(plan_stops::delayed.eq(true))
        .count()
        .get_result(conn)
}

/// Replaces the stored problem of a draft or published plan (a booked slot changes a job's
/// windows or brings a job into the day), so later edits re-time against it.
pub fn replace_problem(
    conn: &mut DbConnection,
    id: PlanId,
    problem: &Problem,
) -> QueryResult<usize> {
    diesel::update(plans::table.find(id))
        .set((
            plans::problem.eq(Json(problem.clone())),
            plans::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// The plans of a day in `status`, newest first.
pub fn of_day(
    conn: &mut DbConnection,
    date: NaiveDate,
    status: PlanStatus,
) -> QueryResult<Vec<PlanRow>> {
    plans::table
        .filter(plans::date.eq(date))
        .filter(plans::status.eq(DbEnum(status)))
        .order(plans::id.desc())
        .select(PlanRow::as_select())
        .load(conn)
}

/// Which of `jobs` plan `plan_id` routes or leaves out.
pub fn held_of(
    conn: &mut DbConnection,
    plan_id: PlanId,
    jobs: &[JobId],
) -> QueryResult<Vec<JobId>> {
    let mut out = Vec::new();
    for chunk in jobs.chunks(super::IDS_PER_QUERY) {
        out.extend(
            plan_stops::table
                .filter(plan_stops::plan_id.eq(plan_id))
                .filter(plan_stops::job_id.eq_any(chunk))
                .select(plan_stops::job_id.assume_not_null())
                .load::<JobId>(conn)?,
        );
    }
    Ok(out)
}

/// The late visits of the published plans of the days `[from, to]` that can still move
/// alone (flagged `delayed`, not locked, no outcome, not a shipment's leg), as (plan, job).
pub fn late_visits(
    conn: &mut DbConnection,
    (from, to): (NaiveDate, NaiveDate),
) -> QueryResult<Vec<(PlanId, JobId)>> {
    plan_stops::table
        .inner_join(plans::table)
        .inner_join(jobs::table)
        .filter(plans::date.ge(from))
        .filter(plans::date.le(to))
        .filter(plans::status.eq(DbEnum(PlanStatus::Published)))
        // A shipment's legs move together, by an edit; a relief moves one visit.
        .filter(jobs::paired_job_id.is_null())
        .filter(plan_stops::delayed.eq(true))
        .filter(plan_stops::locked.eq(false))
        .filter(plan_stops::outcome.is_null())
        .select((plans::id, plan_stops::job_id.assume_not_null()))
        .order((plans::id.asc(), plan_stops::id.asc()))
        .load(conn)
}
