//! What couriers see and report: their published routes, their reports about visits
//! (`job_events`, which also keep the idempotent answers) and their positions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::jobs::JobRow;
use super::schema::{
    attachments, claims, courier_positions, couriers, customers, job_events, jobs, plan_routes,
    plan_stops, plans, products,
};
use super::DbConnection;

/// The status of a plan whose routes couriers drive (kept in step with `db::plans`).
const PUBLISHED: &str = "published";

/// A courier's route in the published plan of a day: the hot path of `GET /me/route`,
/// answered from `couriers_user_key`, `plan_routes_courier_idx` and the plans' key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable)]
pub struct RouteRef {
    pub route_id: i64,
    pub revision: i64,
}

pub fn published_route_of_user(
    conn: &mut DbConnection,
    user_id: i64,
    date: NaiveDate,
) -> QueryResult<Option<RouteRef>> {
    // The status is compared here rather than in SQL: a bound `plans.status = ?` meets the
    // partial index on published plans and makes SQLite prepare the statement again at
    // every execution, a third of a route read's cost. A courier has a route in few plans
    // of a day.
    let routes: Vec<(i64, i64, String)> = plan_routes::table
        .inner_join(plans::table)
        .inner_join(couriers::table)
        .filter(couriers::user_id.eq(user_id))
        .filter(plans::date.eq(date))
        .order(plans::id.desc())
        .select((plan_routes::id, plan_routes::revision, plans::status))
        .load(conn)?;
    Ok(routes
        .into_iter()
        .find(|(_, _, status)| status == PUBLISHED)
        .map(|(route_id, revision, _)| RouteRef { route_id, revision }))
}

#[derive(Debug, Clone, Queryable)]
pub struct RouteHead {
    pub id: i64,
    pub plan_id: i64,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub distance_m: f64,
    pub revision: i64,
}

pub fn route_head(conn: &mut DbConnection, route_id: i64) -> QueryResult<Option<RouteHead>> {
    plan_routes::table
        .find(route_id)
        .select((
            plan_routes::id,
            plan_routes::plan_id,
            plan_routes::start_at,
            plan_routes::end_at,
            plan_routes::distance_m,
            plan_routes::revision,
        ))
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable)]
pub struct RouteStopRow {
    pub seq: i32,
    /// `None` for the break.
    pub job_id: Option<i64>,
    pub arrival_at: Option<NaiveDateTime>,
    pub start_at: Option<NaiveDateTime>,
    pub departure_at: Option<NaiveDateTime>,
    pub load: i32,
    pub locked: bool,
    pub outcome: Option<String>,
}

pub fn route_stops(conn: &mut DbConnection, route_id: i64) -> QueryResult<Vec<RouteStopRow>> {
    plan_stops::table
        .filter(plan_stops::route_id.eq(route_id))
        .order((plan_stops::seq.asc(), plan_stops::id.asc()))
        .select((
            plan_stops::seq,
            plan_stops::job_id,
            plan_stops::arrival_at,
            plan_stops::start_at,
            plan_stops::departure_at,
            plan_stops::load,
            plan_stops::locked,
            plan_stops::outcome,
        ))
        .load(conn)
}

/// What a courier needs to know about the job of a stop.
#[derive(Debug, Clone, Queryable)]
pub struct StopJobRow {
    pub job_id: i64,
    pub kind: String,
    pub status: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// JSON list of `{start, end}`.
    pub windows: String,
    pub pickup_load: i32,
    pub cash_cents: Option<i64>,
    pub claim_number: String,
    pub serial_no: String,
    pub sku: Option<String>,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub product_name: Option<String>,
}

pub fn stop_jobs(conn: &mut DbConnection, job_ids: &[i64]) -> QueryResult<Vec<StopJobRow>> {
    jobs::table
        .inner_join(claims::table.inner_join(customers::table))
        .left_join(products::table.on(claims::sku.eq(products::sku.nullable())))
        .filter(jobs::id.eq_any(job_ids))
        .select((
            jobs::id,
            jobs::kind,
            jobs::status,
            jobs::address,
            jobs::lat,
            jobs::lon,
            jobs::windows,
            jobs::pickup_load,
            jobs::cash_cents,
            claims::number,
            claims::serial_no,
            claims::sku,
            customers::name,
            customers::phone,
            products::name.nullable(),
        ))
        .load(conn)
}

pub fn find_job(conn: &mut DbConnection, id: i64) -> QueryResult<Option<JobRow>> {
    jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .optional()
}

/// A stop of a courier's route, as reports change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable)]
pub struct StopRef {
    pub stop_id: i64,
    pub route_id: i64,
}

/// The courier's stop for `job_id` in the plan that gave him the job.
pub fn stop_in_plan(
    conn: &mut DbConnection,
    plan_id: i64,
    courier_id: i64,
    job_id: i64,
) -> QueryResult<Option<StopRef>> {
    plan_stops::table
        .inner_join(plan_routes::table)
        .filter(plan_routes::plan_id.eq(plan_id))
        .filter(plan_routes::courier_id.eq(courier_id))
        .filter(plan_stops::job_id.eq(job_id))
        .order(plan_stops::id.desc())
        .select((plan_stops::id, plan_routes::id))
        .first(conn)
        .optional()
}

/// The courier's latest stop for `job_id` in a published plan whose visit already ended,
/// with its outcome: late reports about a visit that failed still find it.
pub fn ended_stop(
    conn: &mut DbConnection,
    courier_id: i64,
    job_id: i64,
) -> QueryResult<Option<(StopRef, String)>> {
    plan_stops::table
        .inner_join(plan_routes::table.inner_join(plans::table))
        .filter(plans::status.eq(PUBLISHED))
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

pub fn set_outcome(conn: &mut DbConnection, stop_id: i64, outcome: &str) -> QueryResult<usize> {
    diesel::update(plan_stops::table.find(stop_id))
        .set(plan_stops::outcome.eq(outcome))
        .execute(conn)
}

/// Tells the courier's phone that his route changed (its `ETag` follows the revision).
pub fn bump_revision(conn: &mut DbConnection, route_id: i64) -> QueryResult<usize> {
    diesel::update(plan_routes::table.find(route_id))
        .set(plan_routes::revision.eq(plan_routes::revision + 1))
        .execute(conn)
}

pub fn has_proof(conn: &mut DbConnection, job_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        attachments::table
            .filter(attachments::job_id.eq(job_id))
            .filter(attachments::kind.eq("proof")),
    ))
    .get_result(conn)
}

/// Moves the courier's job from status `from` to `to`; `None` when the job is no longer in
/// `from` or no longer his (someone changed it meanwhile).
pub fn advance_job(
    conn: &mut DbConnection,
    id: i64,
    courier_id: i64,
    from: &str,
    to: &str,
    done_at: Option<NaiveDateTime>,
) -> QueryResult<Option<JobRow>> {
    diesel::update(
        jobs::table
            .find(id)
            .filter(jobs::status.eq(from))
            .filter(jobs::courier_id.eq(courier_id)),
    )
    .set((
        jobs::status.eq(to),
        jobs::done_at.eq(done_at),
        jobs::updated_at.eq(super::now()),
    ))
    .returning(jobs::all_columns)
    .get_result::<JobRow>(conn)
    .optional()
}

/// Hands the courier's job back to planning after a failed visit; `None` as in
/// [`advance_job`].
pub fn fail_job(
    conn: &mut DbConnection,
    id: i64,
    courier_id: i64,
    from: &str,
    to: &str,
    reason: &str,
) -> QueryResult<Option<JobRow>> {
    diesel::update(
        jobs::table
            .find(id)
            .filter(jobs::status.eq(from))
            .filter(jobs::courier_id.eq(courier_id)),
    )
    .set((
        jobs::status.eq(to),
        jobs::courier_id.eq(None::<i64>),
        jobs::plan_id.eq(None::<i64>),
        jobs::attempts.eq(jobs::attempts + 1),
        jobs::fail_reason.eq(reason),
        jobs::updated_at.eq(super::now()),
    ))
    .returning(jobs::all_columns)
    .get_result::<JobRow>(conn)
    .optional()
}

/// A report stored with the answer it got, so a retry with the same key gets it again.
#[derive(Debug, Clone, Queryable)]
pub struct StoredAnswer {
    pub request_hash: String,
    pub response_body: String,
}

pub fn find_answer(
    conn: &mut DbConnection,
    courier_id: i64,
    key: &str,
) -> QueryResult<Option<StoredAnswer>> {
    job_events::table
        .filter(job_events::courier_id.eq(courier_id))
        .filter(job_events::idempotency_key.eq(key))
        .select((job_events::request_hash, job_events::response_body))
        .first(conn)
        .optional()
}

#[derive(Debug, Insertable)]
#[diesel(table_name = job_events, treat_none_as_default_value = false)]
pub struct NewJobEvent<'a> {
    pub job_id: i64,
    pub courier_id: i64,
    pub kind: &'a str,
    pub at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    pub applied: bool,
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub response_body: &'a str,
}

/// Fails on `job_events_courier_key` when a concurrent request with the same key won.
pub fn insert_event(conn: &mut DbConnection, event: &NewJobEvent) -> QueryResult<usize> {
    diesel::insert_into(job_events::table)
        .values(event)
        .execute(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct JobEventRow {
    pub kind: String,
    pub at: NaiveDateTime,
    pub applied: bool,
}

/// A job's reports, oldest first (for the tests and the dispatcher's view).
pub fn events_of_job(conn: &mut DbConnection, job_id: i64) -> QueryResult<Vec<JobEventRow>> {
    job_events::table
        .filter(job_events::job_id.eq(job_id))
        .order((job_events::at.asc(), job_events::id.asc()))
        .select((job_events::kind, job_events::at, job_events::applied))
        .load(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = courier_positions, treat_none_as_default_value = false)]
pub struct NewPosition {
    pub courier_id: i64,
    pub at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub received_at: NaiveDateTime,
}

/// Rows per INSERT: well under SQLite's and PostgreSQL's bind limits (6 per row).
const POSITIONS_PER_INSERT: usize = 500;

/// Multi-row INSERTs, written per backend: diesel's multi-backend connection cannot build
/// one (SQLite has no `DEFAULT` keyword), while each backend's own connection can.
pub fn insert_positions(conn: &mut DbConnection, points: &[NewPosition]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in points.chunks(POSITIONS_PER_INSERT) {
        let insert = diesel::insert_into(courier_positions::table).values(chunk);
        inserted += match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        };
    }
    Ok(inserted)
}

/// Keeps the courier's latest position on his row, unless a newer one is already there
/// (batches from an offline phone may arrive after fresher ones).
pub fn update_last_position(
    conn: &mut DbConnection,
    courier_id: i64,
    at: NaiveDateTime,
    lat: f64,
    lon: f64,
) -> QueryResult<usize> {
    diesel::update(
        couriers::table.find(courier_id).filter(
            couriers::last_seen_at
                .is_null()
                .or(couriers::last_seen_at.lt(at)),
        ),
    )
    .set((
        couriers::last_lat.eq(lat),
        couriers::last_lon.eq(lon),
        couriers::last_seen_at.eq(at),
    ))
    .execute(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct LivePosition {
    pub courier_id: i64,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub seen_at: NaiveDateTime,
}

/// Couriers with a known position, by id.
pub fn live_positions(conn: &mut DbConnection) -> QueryResult<Vec<LivePosition>> {
    couriers::table
        .filter(couriers::last_seen_at.is_not_null())
        .order(couriers::id.asc())
        .select((
            couriers::id,
            couriers::name,
            couriers::last_lat.assume_not_null(),
            couriers::last_lon.assume_not_null(),
            couriers::last_seen_at.assume_not_null(),
        ))
        .load(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct WorkingJob {
    pub courier_id: i64,
    pub job_id: i64,
    pub kind: String,
    pub status: String,
    pub address: String,
}

/// The jobs couriers are working on right now (on the way or at the door), latest change
/// first.
pub fn working_jobs(conn: &mut DbConnection, statuses: &[&str]) -> QueryResult<Vec<WorkingJob>> {
    jobs::table
        .filter(jobs::status.eq_any(statuses))
        .filter(jobs::courier_id.is_not_null())
        .order((jobs::updated_at.desc(), jobs::id.desc()))
        .select((
            jobs::courier_id.assume_not_null(),
            jobs::id,
            jobs::kind,
            jobs::status,
            jobs::address,
        ))
        .load(conn)
}
