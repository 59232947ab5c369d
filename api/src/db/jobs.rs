//! Courier jobs created from decisions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{claims, jobs};
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub claim_id: i64,
    pub kind: String,
    pub status: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub windows: String,
    pub service_minutes: i32,
    pub delivery_load: i32,
    pub pickup_load: i32,
    pub skills: String,
    pub priority: i32,
    pub cash_cents: Option<i64>,
    pub date: Option<NaiveDate>,
    pub courier_id: Option<i64>,
    pub attempts: i32,
    pub fail_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The published plan that gave the job to its courier.
    pub plan_id: Option<i64>,
    pub done_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    pub claim_id: i64,
    pub kind: &'a str,
    pub status: &'a str,
    pub address: &'a str,
    pub lat: f64,
    pub lon: f64,
    pub windows: &'a str,
    pub service_minutes: i32,
    pub delivery_load: i32,
    pub pickup_load: i32,
    pub skills: &'a str,
    pub priority: i32,
    pub cash_cents: Option<i64>,
    pub date: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewJob) -> QueryResult<JobRow> {
    diesel::insert_into(jobs::table)
        .values(new)
        .returning(jobs::all_columns)
        .get_result::<JobRow>(conn)
}

pub fn for_claim(conn: &mut DbConnection, claim_id: i64) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::claim_id.eq(claim_id))
        .order(jobs::id.asc())
        .select(JobRow::as_select())
        .load(conn)
}

#[derive(Debug, Default, Clone)]
pub struct JobFilter {
    pub claim_id: Option<i64>,
    pub status: Option<String>,
    pub date: Option<NaiveDate>,
    /// Only jobs of claims assigned to this manager.
    pub assignee_id: Option<i64>,
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
    if let Some(status) = &filter.status {
        query = query.filter(jobs::status.eq(status.clone()));
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
        .filter(jobs::status.eq(domain::job::JobStatus::Unplanned.as_str()))
        .filter(jobs::date.le(date))
        .order(jobs::id.asc())
        .select(JobRow::as_select())
        .load(conn)
}

pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<JobRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            jobs::table
                .filter(jobs::id.eq_any(chunk))
                .select(JobRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Claim number per job, for the routes dispatchers read.
pub fn claim_numbers(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            jobs::table
                .inner_join(claims::table)
                .filter(jobs::id.eq_any(chunk))
                .select((jobs::id, claims::number))
                .load::<(i64, String)>(conn)?,
        );
    }
    Ok(out)
}
