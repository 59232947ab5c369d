//! Couriers' reports about their visits (`job_events`): every report is kept, whether it
//! moved the job or came late and was recorded only. Their answers, for retries, are in
//! `idempotency_keys` like every other endpoint's.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::dispatch::CourierEvent;

use super::schema::job_events;
use super::types::{CourierId, DbEnum, JobId};
use super::DbConnection;

#[derive(Debug, Insertable)]
#[diesel(table_name = job_events, treat_none_as_default_value = false)]
pub struct NewReport<'a> {
    pub job_id: JobId,
    pub courier_id: CourierId,
    #[diesel(serialize_as = DbEnum<CourierEvent>)]
    pub kind: CourierEvent,
    pub at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    /// Whether the report moved the job.
    pub applied: bool,
}

pub fn insert(conn: &mut DbConnection, report: NewReport) -> QueryResult<usize> {
    diesel::insert_into(job_events::table)
        .values(report)
        .execute(conn)
}

/// The reasons the job's failed visits gave, oldest first.
pub fn fail_reasons(conn: &mut DbConnection, job_id: JobId) -> QueryResult<Vec<String>> {
    job_events::table
        .filter(job_events::job_id.eq(job_id))
        .filter(job_events::kind.eq(DbEnum(CourierEvent::Failed)))
        .filter(job_events::applied.eq(true))
        .filter(job_events::reason.is_not_null())
        .order((job_events::at.asc(), job_events::id.asc()))
        .select(job_events::reason.assume_not_null())
        .load(conn)
}

/// A report that moved its job: an arrival, a completion or a failure with its reason.
#[derive(Debug, Clone, Queryable)]
pub struct Outcome {
    pub job_id: JobId,
    pub kind: DbEnum<CourierEvent>,
    pub at: chrono::NaiveDateTime,
    pub reason: Option<String>,
}

/// What couriers reported about `job_ids` that moved the jobs, oldest first.
pub fn outcomes(conn: &mut DbConnection, job_ids: &[JobId]) -> QueryResult<Vec<Outcome>> {
    let kinds = [
        CourierEvent::Arrived,
        CourierEvent::Completed,
        CourierEvent::Failed,
    ]
    .map(DbEnum);
    let mut out = Vec::new();
    // Chunks keep the bound parameters under SQLite's limit on a large range.
    for chunk in job_ids.chunks(5_000) {
        out.extend(
            job_events::table
                .filter(job_events::job_id.eq_any(chunk))
                .filter(job_events::applied.eq(true))
                .filter(job_events::kind.eq_any(kinds))
                .order((job_events::at.asc(), job_events::id.asc()))
                .select((
                    job_events::job_id,
                    job_events::kind,
                    job_events::at,
                    job_events::reason,
                ))
                .load::<Outcome>(conn)?,
        );
    }
    Ok(out)
}

/// Every report that moved one of `job_ids`, oldest first: (job, kind, when).
pub fn applied(
    conn: &mut DbConnection,
    job_ids: &[JobId],
) -> QueryResult<Vec<(JobId, DbEnum<CourierEvent>, NaiveDateTime)>> {
    job_events::table
        .filter(job_events::job_id.eq_any(job_ids))
        .filter(job_events::applied.eq(true))
        .order((job_events::at.asc(), job_events::id.asc()))
        .select((job_events::job_id, job_events::kind, job_events::at))
        .load(conn)
}
