//! Plans of a day, their routes and stops.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::schema::{jobs, plan_routes, plan_stops, plans};
use super::{now, DbConnection};

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";
pub const SUPERSEDED: &str = "superseded";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub id: i64,
    pub date: NaiveDate,
    pub depot_id: Option<i64>,
    pub scope: String,
    pub status: String,
    pub created_by: i64,
    pub based_on_id: Option<i64>,
    pub reoptimizes_id: Option<i64>,
    pub time_limit_ms: i32,
    pub runner: Option<String>,
    pub heartbeat_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub progress: String,
    pub stats: Option<String>,
    pub problem: Option<String>,
    pub origin: Option<NaiveDateTime>,
    pub error: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = plans)]
pub struct NewPlan<'a> {
    pub date: NaiveDate,
    pub depot_id: Option<i64>,
    pub scope: &'a str,
    pub status: &'a str,
    pub created_by: i64,
    pub based_on_id: Option<i64>,
    pub reoptimizes_id: Option<i64>,
    pub time_limit_ms: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plan_routes)]
pub struct RouteRow {
    pub id: i64,
    pub plan_id: i64,
    pub courier_id: i64,
    pub vehicle: i32,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub distance_m: f64,
    pub violations: String,
    pub revision: i64,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = plan_routes)]
pub struct NewRoute {
    pub plan_id: i64,
    pub courier_id: i64,
    pub vehicle: i32,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub distance_m: f64,
    pub violations: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plan_stops)]
pub struct StopRow {
    pub id: i64,
    pub plan_id: i64,
    pub route_id: Option<i64>,
    pub seq: i32,
    pub job_id: Option<i64>,
    pub arrival_at: Option<NaiveDateTime>,
    pub start_at: Option<NaiveDateTime>,
    pub departure_at: Option<NaiveDateTime>,
    pub load: i32,
    pub locked: bool,
    pub reason: Option<String>,
    pub violations: String,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = plan_stops)]
pub struct NewStop {
    pub plan_id: i64,
    pub route_id: Option<i64>,
    pub seq: i32,
    pub job_id: Option<i64>,
    pub arrival_at: Option<NaiveDateTime>,
    pub start_at: Option<NaiveDateTime>,
    pub departure_at: Option<NaiveDateTime>,
    pub load: i32,
    pub locked: bool,
    pub reason: Option<String>,
    pub violations: String,
    pub outcome: Option<String>,
}

pub fn insert(conn: &mut DbConnection, new: &NewPlan) -> QueryResult<PlanRow> {
    diesel::insert_into(plans::table)
        .values(new)
        .returning(plans::all_columns)
        .get_result::<PlanRow>(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<PlanRow>> {
    plans::table
        .find(id)
        .select(PlanRow::as_select())
        .first(conn)
        .optional()
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
        .filter(plans::status.eq(PUBLISHED))
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
             heartbeat_at = $2, updated_at = $2 WHERE id = (SELECT id FROM plans \
             WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
        )
        .bind::<Text, _>(runner)
        .bind::<diesel::sql_types::Timestamp, _>(at)
        .get_result::<Id>(pg)
        .optional()?,
        DbConnection::Sqlite(lite) => diesel::sql_query(
            "UPDATE plans SET status = 'running', runner = ?1, started_at = ?2, \
             heartbeat_at = ?2, updated_at = ?2 WHERE id = (SELECT id FROM plans \
             WHERE status = 'queued' ORDER BY id LIMIT 1) RETURNING id",
        )
        .bind::<Text, _>(runner)
        .bind::<diesel::sql_types::Timestamp, _>(at)
        .get_result::<Id>(lite)
        .optional()?,
    };
    match claimed {
        Some(Id { id }) => find(conn, id),
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
            .filter(plans::status.eq(RUNNING))
            .filter(plans::heartbeat_at.lt(silent_since)),
    )
    .set((
        plans::status.eq(FAILED),
        plans::error.eq(error),
        plans::finished_at.eq(now()),
        plans::updated_at.eq(now()),
    ))
    .execute(conn)
}

/// The runner's sign of life with the progress so far; false once the plan is no longer
/// this runner's to finish (marked failed meanwhile).
pub fn heartbeat(
    conn: &mut DbConnection,
    id: i64,
    runner: &str,
    progress: &str,
) -> QueryResult<bool> {
    let n = diesel::update(
        plans::table
            .find(id)
            .filter(plans::status.eq(RUNNING))
            .filter(plans::runner.eq(runner)),
    )
    .set((plans::heartbeat_at.eq(now()), plans::progress.eq(progress)))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn store_problem(
    conn: &mut DbConnection,
    id: i64,
    problem: &str,
    origin: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(plans::table.find(id))
        .set((plans::problem.eq(problem), plans::origin.eq(origin)))
        .execute(conn)
}

/// Moves a running plan of this runner to `draft`; false if it is not running any more.
pub fn finish(
    conn: &mut DbConnection,
    id: i64,
    runner: &str,
    progress: &str,
    stats: &str,
) -> QueryResult<bool> {
    let at = now();
    let n = diesel::update(
        plans::table
            .find(id)
            .filter(plans::status.eq(RUNNING))
            .filter(plans::runner.eq(runner)),
    )
    .set((
        plans::status.eq(DRAFT),
        plans::progress.eq(progress),
        plans::stats.eq(stats),
        plans::finished_at.eq(at),
        plans::heartbeat_at.eq(at),
        plans::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn fail(conn: &mut DbConnection, id: i64, error: &str) -> QueryResult<usize> {
    diesel::update(plans::table.find(id).filter(plans::status.eq(RUNNING)))
        .set((
            plans::status.eq(FAILED),
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
    id: i64,
    version: i32,
    status: &str,
    stats: &str,
) -> QueryResult<Option<PlanRow>> {
    let at = now();
    diesel::update(plans::table.find(id).filter(plans::version.eq(version)))
        .set((
            plans::status.eq(status),
            plans::stats.eq(stats),
            plans::version.eq(version + 1),
            plans::updated_at.eq(at),
            plans::published_at.eq(if status == PUBLISHED { Some(at) } else { None }),
        ))
        .returning(plans::all_columns)
        .get_result::<PlanRow>(conn)
        .optional()
}

pub fn set_status(conn: &mut DbConnection, id: i64, status: &str) -> QueryResult<usize> {
    diesel::update(plans::table.find(id))
        .set((plans::status.eq(status), plans::updated_at.eq(now())))
        .execute(conn)
}

pub fn insert_route(conn: &mut DbConnection, route: &NewRoute) -> QueryResult<RouteRow> {
    diesel::insert_into(plan_routes::table)
        .values(route)
        .returning(plan_routes::all_columns)
        .get_result::<RouteRow>(conn)
}

/// Replaces a route's times and totals, bumping its revision.
pub fn update_route(conn: &mut DbConnection, id: i64, route: &NewRoute) -> QueryResult<usize> {
    diesel::update(plan_routes::table.find(id))
        .set((route, plan_routes::revision.eq(plan_routes::revision + 1)))
        .execute(conn)
}

pub fn insert_stops(conn: &mut DbConnection, stops: &[NewStop]) -> QueryResult<usize> {
    // Chunks keep each statement under SQLite's bound-parameter limit.
    let mut n = 0;
    // Batch inserts are backend-specific in diesel, so each backend gets its own call.
    for chunk in stops.chunks(500) {
        let query = diesel::insert_into(plan_stops::table).values(chunk);
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

pub fn delete_unassigned(conn: &mut DbConnection, plan_id: i64) -> QueryResult<usize> {
    diesel::delete(
        plan_stops::table
            .filter(plan_stops::plan_id.eq(plan_id))
            .filter(plan_stops::route_id.is_null()),
    )
    .execute(conn)
}

pub fn routes(conn: &mut DbConnection, plan_id: i64) -> QueryResult<Vec<RouteRow>> {
    plan_routes::table
        .filter(plan_routes::plan_id.eq(plan_id))
        .order(plan_routes::vehicle.asc())
        .select(RouteRow::as_select())
        .load(conn)
}

/// Every stop of a plan, route by route in order, the unassigned last.
pub fn stops(conn: &mut DbConnection, plan_id: i64) -> QueryResult<Vec<StopRow>> {
    plan_stops::table
        .filter(plan_stops::plan_id.eq(plan_id))
        .order((plan_stops::route_id.asc(), plan_stops::seq.asc()))
        .select(StopRow::as_select())
        .load(conn)
}

pub fn set_locked(
    conn: &mut DbConnection,
    plan_id: i64,
    job_id: i64,
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

/// Where a job stands, as publishing checks it.
#[derive(Debug, Clone, Queryable)]
pub struct JobState {
    pub id: i64,
    pub status: String,
    pub courier_id: Option<i64>,
    pub plan_id: Option<i64>,
}

pub fn job_states(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<JobState>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            jobs::table
                .filter(jobs::id.eq_any(chunk))
                .select((jobs::id, jobs::status, jobs::courier_id, jobs::plan_id))
                .load::<JobState>(conn)?,
        );
    }
    Ok(out)
}

/// Gives jobs to a courier under a published plan.
pub fn assign_jobs(
    conn: &mut DbConnection,
    ids: &[i64],
    courier_id: i64,
    plan_id: i64,
    status: &str,
) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += diesel::update(jobs::table.filter(jobs::id.eq_any(chunk)))
            .set((
                jobs::status.eq(status),
                jobs::courier_id.eq(courier_id),
                jobs::plan_id.eq(plan_id),
                jobs::updated_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

/// Keeps started or finished jobs with their courier, under the new plan.
pub fn move_jobs_to_plan(conn: &mut DbConnection, ids: &[i64], plan_id: i64) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += diesel::update(jobs::table.filter(jobs::id.eq_any(chunk)))
            .set(jobs::plan_id.eq(plan_id))
            .execute(conn)?;
    }
    Ok(n)
}

/// Hands back to planning the jobs a superseded plan had assigned and the new one does not
/// route.
pub fn release_jobs(conn: &mut DbConnection, old_plan: i64, keep: &[i64]) -> QueryResult<usize> {
    let assigned: Vec<i64> = jobs::table
        .filter(jobs::plan_id.eq(old_plan))
        .filter(jobs::status.eq(domain::job::JobStatus::Assigned.as_str()))
        .select(jobs::id)
        .load(conn)?;
    let keep: std::collections::HashSet<i64> = keep.iter().copied().collect();
    let release: Vec<i64> = assigned
        .into_iter()
        .filter(|id| !keep.contains(id))
        .collect();
    let mut n = 0;
    for chunk in release.chunks(500) {
        n += diesel::update(jobs::table.filter(jobs::id.eq_any(chunk)))
            .set((
                jobs::status.eq(domain::job::JobStatus::Unplanned.as_str()),
                jobs::courier_id.eq(None::<i64>),
                jobs::plan_id.eq(None::<i64>),
                jobs::updated_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(n)
}
