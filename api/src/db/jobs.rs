//! Courier jobs: every write to the `jobs` table is here, from the decision that creates a
//! job to the publication that gives it to a courier and the report that ends its visit.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::job::{JobKind, JobStatus};

use super::schema::{claims, customers, jobs, partners, products};
use super::types::{ClaimId, CourierId, DbEnum, JobId, Json, PlanId, TimeWindow, UserId};
use super::{now, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: JobId,
    pub claim_id: ClaimId,
    #[diesel(deserialize_as = DbEnum<JobKind>)]
    pub kind: JobKind,
    #[diesel(deserialize_as = DbEnum<JobStatus>)]
    pub status: JobStatus,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// The customer's slots.
    #[diesel(deserialize_as = Json<Vec<TimeWindow>>)]
    pub windows: Vec<TimeWindow>,
    pub service_minutes: i32,
    pub delivery_load: i32,
    pub pickup_load: i32,
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub skills: Vec<String>,
    pub priority: i32,
    pub cash_cents: Option<i64>,
    pub date: Option<NaiveDate>,
    pub courier_id: Option<CourierId>,
    pub attempts: i32,
    pub fail_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The published plan that gave the job to its courier.
    pub plan_id: Option<PlanId>,
    pub done_at: Option<NaiveDateTime>,
    /// The workshop whose place and hours the job has, if not the customer's.
    pub partner_id: Option<i64>,
    /// The other leg of a shipment: the unit is collected by one job and handed over by the
    /// other, one courier, collection first.
    pub paired_job_id: Option<JobId>,
}

impl JobRow {
    /// Whether the job is one leg of a shipment.
    pub fn is_paired(&self) -> bool {
        self.paired_job_id.is_some()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    pub claim_id: ClaimId,
    #[diesel(serialize_as = DbEnum<JobKind>)]
    pub kind: JobKind,
    #[diesel(serialize_as = DbEnum<JobStatus>)]
    pub status: JobStatus,
    pub address: &'a str,
    pub lat: f64,
    pub lon: f64,
    #[diesel(serialize_as = Json<Vec<TimeWindow>>)]
    pub windows: Vec<TimeWindow>,
    pub service_minutes: i32,
    pub delivery_load: i32,
    pub pickup_load: i32,
    #[diesel(serialize_as = Json<Vec<String>>)]
    pub skills: Vec<String>,
    pub priority: i32,
    pub cash_cents: Option<i64>,
    pub date: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub partner_id: Option<i64>,
    pub paired_job_id: Option<JobId>,
}

pub fn insert(conn: &mut DbConnection, new: NewJob) -> QueryResult<JobRow> {
    diesel::insert_into(jobs::table)
        .values(new)
        .returning(jobs::all_columns)
        .get_result::<JobRow>(conn)
}

/// Links a shipment's first leg to its second (the second names the first when inserted).
pub fn pair(conn: &mut DbConnection, first: JobId, second: JobId) -> QueryResult<()> {
    diesel::update(jobs::table.find(first))
        .set(jobs::paired_job_id.eq(Some(second)))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: JobId) -> QueryResult<Option<JobRow>> {
    jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .optional()
}

pub fn for_claim(conn: &mut DbConnection, claim_id: ClaimId) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::claim_id.eq(claim_id))
        .order(jobs::id.asc())
        .select(JobRow::as_select())
        .load(conn)
}

#[derive(Debug, Default, Clone)]
pub struct JobFilter {
    pub claim_id: Option<ClaimId>,
    pub status: Option<JobStatus>,
    pub date: Option<NaiveDate>,
    /// Only jobs of claims assigned to this manager.
    pub assignee_id: Option<UserId>,
    pub after_id: Option<i64>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConnection, filter: &JobFilter) -> QueryResult<Vec<JobRow>> {
    let mut query = jobs::table
        .select(JobRow::as_select())
        .order(jobs::id.asc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(claim_id) = filter.claim_id {
        query = query.filter(jobs::claim_id.eq(claim_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(jobs::status.eq(DbEnum(status)));
    }
    if let Some(date) = filter.date {
        query = query.filter(jobs::date.eq(date));
    }
    if let Some(assignee) = filter.assignee_id {
        let own_claims = claims::table
            .filter(claims::assignee_id.eq(assignee))
            .select(claims::id);
        query = query.filter(jobs::claim_id.eq_any(own_claims));
    }
    if let Some(after) = filter.after_id {
        query = query.filter(jobs::id.gt(after));
    }
    query.load(conn)
}

/// Jobs waiting for a route on `date`: unplanned and due that day or earlier (a missed or
/// failed visit is carried over, not lost).
pub fn unplanned_due(conn: &mut DbConnection, date: NaiveDate) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::status.eq(DbEnum(JobStatus::Unplanned)))
        .filter(jobs::date.le(date))
        .order(jobs::id.asc())
        .select(JobRow::as_select())
        .load(conn)
}

/// Runs `read` over the ids a chunk at a time and gathers the rows.
fn read_chunked<T>(
    conn: &mut DbConnection,
    ids: &[JobId],
    mut read: impl FnMut(&mut DbConnection, &[JobId]) -> QueryResult<Vec<T>>,
) -> QueryResult<Vec<T>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::IDS_PER_QUERY) {
        out.extend(read(conn, chunk)?);
    }
    Ok(out)
}

/// Runs `write` over the ids a chunk at a time; the rows it changed.
fn write_chunked(
    conn: &mut DbConnection,
    ids: &[JobId],
    mut write: impl FnMut(&mut DbConnection, &[JobId]) -> QueryResult<usize>,
) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(super::IDS_PER_QUERY) {
        n += write(conn, chunk)?;
    }
    Ok(n)
}

pub fn by_ids(conn: &mut DbConnection, ids: &[JobId]) -> QueryResult<Vec<JobRow>> {
    read_chunked(conn, ids, |conn, chunk| {
        jobs::table
            .filter(jobs::id.eq_any(chunk))
            .select(JobRow::as_select())
            .load(conn)
    })
}

/// Claim number per job, for the routes dispatchers read.
pub fn claim_numbers(conn: &mut DbConnection, ids: &[JobId]) -> QueryResult<Vec<(JobId, String)>> {
    read_chunked(conn, ids, |conn, chunk| {
        jobs::table
            .inner_join(claims::table)
            .filter(jobs::id.eq_any(chunk))
            .select((jobs::id, claims::number))
            .load(conn)
    })
}

/// What a courier needs to know about the job of a stop.
#[derive(Debug, Clone, Queryable)]
pub struct VisitDetails {
    pub job_id: JobId,
    #[diesel(deserialize_as = DbEnum<JobKind>)]
    pub kind: JobKind,
    #[diesel(deserialize_as = DbEnum<JobStatus>)]
    pub status: JobStatus,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    #[diesel(deserialize_as = Json<Vec<TimeWindow>>)]
    pub windows: Vec<TimeWindow>,
    pub pickup_load: i32,
    pub cash_cents: Option<i64>,
    pub claim_number: String,
    pub serial_no: String,
    pub sku: Option<String>,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub product_name: Option<String>,
    /// The workshop or supplier the visit is at, whom the courier meets there instead.
    pub partner_name: Option<String>,
    pub partner_phone: Option<String>,
    pub paired_job_id: Option<JobId>,
}

pub fn visit_details(conn: &mut DbConnection, ids: &[JobId]) -> QueryResult<Vec<VisitDetails>> {
    read_chunked(conn, ids, |conn, chunk| {
        jobs::table
            .inner_join(claims::table.inner_join(customers::table))
            .left_join(products::table.on(claims::sku.eq(products::sku.nullable())))
            .left_join(partners::table.on(jobs::partner_id.eq(partners::id.nullable())))
            .filter(jobs::id.eq_any(chunk))
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
                partners::name.nullable(),
                partners::phone.nullable(),
                jobs::paired_job_id,
            ))
            .load(conn)
    })
}

/// A visit's step, applied to the job only if it is still in `from` and still the
/// courier's: `None` when someone changed it meanwhile (the caller answers 409).
#[derive(Debug, Clone)]
pub struct VisitStep<'a> {
    pub id: JobId,
    pub courier_id: CourierId,
    pub from: JobStatus,
    pub to: JobStatus,
    pub change: StepChange<'a>,
}

#[derive(Debug, Clone, Copy)]
pub enum StepChange<'a> {
    /// On the way, at the door.
    Advance,
    /// The visit succeeded at this time.
    Done(NaiveDateTime),
    /// The visit failed: the job goes back to planning with one attempt more.
    Failed { reason: &'a str, attempts: i32 },
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = jobs)]
struct StepChangeset<'a> {
    status: DbEnum<JobStatus>,
    done_at: Option<Option<NaiveDateTime>>,
    courier_id: Option<Option<CourierId>>,
    plan_id: Option<Option<PlanId>>,
    attempts: Option<i32>,
    fail_reason: Option<&'a str>,
    updated_at: NaiveDateTime,
}

pub fn apply_step(conn: &mut DbConnection, step: &VisitStep) -> QueryResult<Option<JobRow>> {
    let mut set = StepChangeset {
        status: DbEnum(step.to),
        done_at: None,
        courier_id: None,
        plan_id: None,
        attempts: None,
        fail_reason: None,
        updated_at: now(),
    };
    match step.change {
        StepChange::Advance => set.done_at = Some(None),
        StepChange::Done(at) => set.done_at = Some(Some(at)),
        StepChange::Failed { reason, attempts } => {
            set.courier_id = Some(None);
            set.plan_id = Some(None);
            set.attempts = Some(attempts);
            set.fail_reason = Some(reason);
        }
    }
    diesel::update(
        jobs::table
            .find(step.id)
            .filter(jobs::status.eq(DbEnum(step.from)))
            .filter(jobs::courier_id.eq(step.courier_id)),
    )
    .set(&set)
    .returning(jobs::all_columns)
    .get_result::<JobRow>(conn)
    .optional()
}

/// Where a job stands, as publishing checks it.
#[derive(Debug, Clone, Queryable)]
pub struct JobState {
    pub id: JobId,
    #[diesel(deserialize_as = DbEnum<JobStatus>)]
    pub status: JobStatus,
    pub courier_id: Option<CourierId>,
    pub plan_id: Option<PlanId>,
}

pub fn states(conn: &mut DbConnection, ids: &[JobId]) -> QueryResult<Vec<JobState>> {
    read_chunked(conn, ids, |conn, chunk| {
        jobs::table
            .filter(jobs::id.eq_any(chunk))
            .select((jobs::id, jobs::status, jobs::courier_id, jobs::plan_id))
            .load(conn)
    })
}

/// Gives jobs to a courier under a published plan.
pub fn assign(
    conn: &mut DbConnection,
    ids: &[JobId],
    courier_id: CourierId,
    plan_id: PlanId,
) -> QueryResult<usize> {
    write_chunked(conn, ids, |conn, chunk| {
        diesel::update(jobs::table.filter(jobs::id.eq_any(chunk)))
            .set((
                jobs::status.eq(DbEnum(JobStatus::Assigned)),
                jobs::courier_id.eq(courier_id),
                jobs::plan_id.eq(plan_id),
                jobs::updated_at.eq(now()),
            ))
            .execute(conn)
    })
}

/// Keeps started or finished jobs with their courier, under the new plan.
pub fn keep_under_plan(
    conn: &mut DbConnection,
    ids: &[JobId],
    plan_id: PlanId,
) -> QueryResult<usize> {
    write_chunked(conn, ids, |conn, chunk| {
        diesel::update(jobs::table.filter(jobs::id.eq_any(chunk)))
            .set(jobs::plan_id.eq(plan_id))
            .execute(conn)
    })
}

/// Hands back to planning the jobs a superseded plan had assigned and the new one does not
/// route.
pub fn release(conn: &mut DbConnection, old_plan: PlanId, keep: &[JobId]) -> QueryResult<usize> {
    let assigned: Vec<JobId> = jobs::table
        .filter(jobs::plan_id.eq(old_plan))
        .filter(jobs::status.eq(DbEnum(JobStatus::Assigned)))
        .select(jobs::id)
        .load(conn)?;
    let keep: std::collections::HashSet<JobId> = keep.iter().copied().collect();
    let release: Vec<JobId> = assigned
        .into_iter()
        .filter(|id| !keep.contains(id))
        .collect();
    write_chunked(conn, &release, |conn, chunk| {
        diesel::update(jobs::table.filter(jobs::id.eq_any(chunk)))
            .set((
                jobs::status.eq(DbEnum(JobStatus::Unplanned)),
                jobs::courier_id.eq(None::<CourierId>),
                jobs::plan_id.eq(None::<PlanId>),
                jobs::updated_at.eq(now()),
            ))
            .execute(conn)
    })
}

#[derive(Debug, Clone, Queryable)]
pub struct WorkingJob {
    pub courier_id: CourierId,
    pub job_id: JobId,
    #[diesel(deserialize_as = DbEnum<JobKind>)]
    pub kind: JobKind,
    #[diesel(deserialize_as = DbEnum<JobStatus>)]
    pub status: JobStatus,
    pub address: String,
}

/// The jobs these couriers are on right now (on the way or at the door), latest change first.
pub fn being_visited(
    conn: &mut DbConnection,
    couriers: &[CourierId],
) -> QueryResult<Vec<WorkingJob>> {
    jobs::table
        .filter(jobs::status.eq_any([DbEnum(JobStatus::EnRoute), DbEnum(JobStatus::Arrived)]))
        .filter(jobs::courier_id.eq_any(couriers))
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

/// Calls a job off unless its visit is under way or over; `None` when it is.
pub fn cancel(conn: &mut DbConnection, id: JobId, reason: &str) -> QueryResult<Option<JobRow>> {
    diesel::update(jobs::table.find(id).filter(jobs::status.eq_any([
        DbEnum(JobStatus::Unplanned),
        DbEnum(JobStatus::Planned),
        DbEnum(JobStatus::Assigned),
    ])))
    .set((
        jobs::status.eq(DbEnum(JobStatus::Cancelled)),
        jobs::courier_id.eq(None::<CourierId>),
        jobs::plan_id.eq(None::<PlanId>),
        jobs::fail_reason.eq(reason),
        jobs::updated_at.eq(now()),
    ))
    .returning(jobs::all_columns)
    .get_result::<JobRow>(conn)
    .optional()
}

/// Takes a visit not yet under way off its courier and back to planning (the other leg of
/// its shipment went back); false when it has started or ended.
pub fn back_to_planning(conn: &mut DbConnection, id: JobId) -> QueryResult<bool> {
    let n =
        diesel::update(jobs::table.find(id).filter(
            jobs::status.eq_any([DbEnum(JobStatus::Planned), DbEnum(JobStatus::Assigned)]),
        ))
        .set((
            jobs::status.eq(DbEnum(JobStatus::Unplanned)),
            jobs::courier_id.eq(None::<CourierId>),
            jobs::plan_id.eq(None::<PlanId>),
            jobs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Gives a visit not yet under way the slot its customer booked: that window, that day,
/// and back in planning until a plan routes it. False when the visit has started or ended.
pub fn rebook(
    conn: &mut DbConnection,
    id: JobId,
    window: TimeWindow,
    date: NaiveDate,
) -> QueryResult<bool> {
    let n = diesel::update(jobs::table.find(id).filter(jobs::status.eq_any([
        DbEnum(JobStatus::Unplanned),
        DbEnum(JobStatus::Planned),
        DbEnum(JobStatus::Assigned),
    ])))
    .set((
        jobs::status.eq(DbEnum(JobStatus::Unplanned)),
        jobs::windows.eq(Json(vec![window])),
        jobs::date.eq(Some(date)),
        jobs::courier_id.eq(None::<CourierId>),
        jobs::plan_id.eq(None::<PlanId>),
        jobs::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
