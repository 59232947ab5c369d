//! What the department's reports read: the claims filed in a period, the status moves and
//! escalations recorded in it, the deadlines that passed in it. Each read is one indexed
//! range scan; the grouping and the percentiles are computed in `app::reports`, the same
//! way for both backends.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{claim_events, claims, jobs, products, sales, users};
use super::types::{ClaimId, DbEnum, JobId, UserId};
use super::DbConnection;
use crate::auth::Role;

/// A status move of a claim, with the claim's filing time.
#[derive(Debug, Clone, Queryable)]
pub struct MoveRow {
    pub claim_id: ClaimId,
    pub filed_at: NaiveDateTime,
    pub at: NaiveDateTime,
    pub actor_id: Option<UserId>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
}

/// When the claims in scope filed in `[from, to)` were filed.
pub fn filed(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    assignee: Option<UserId>,
) -> QueryResult<Vec<NaiveDateTime>> {
    let mut query = claims::table
        .filter(claims::created_at.ge(from))
        .filter(claims::created_at.lt(to))
        .select(claims::created_at)
        .into_boxed();
    if let Some(assignee) = assignee {
        query = query.filter(claims::assignee_id.eq(assignee));
    }
    query.load(conn)
}

/// Every move (`kind` events) of the claims in scope that moved in `[from, to)`, the earlier
/// ones too (a stay that ended in the period began with the move before), by claim and
/// time.
pub fn moves(
    conn: &mut DbConnection,
    kind: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    assignee: Option<UserId>,
) -> QueryResult<Vec<MoveRow>> {
    let in_period = diesel::alias!(claim_events as in_period);
    let moved_in_period = in_period
        .filter(in_period.field(claim_events::kind).eq(kind.to_owned()))
        .filter(in_period.field(claim_events::at).ge(from))
        .filter(in_period.field(claim_events::at).lt(to))
        .select(in_period.field(claim_events::claim_id));
    let rows: Vec<(MoveRow, Option<UserId>)> = claim_events::table
        .inner_join(claims::table)
        .filter(claim_events::kind.eq(kind.to_owned()))
        .filter(claim_events::claim_id.eq_any(moved_in_period))
        .filter(claim_events::at.lt(to))
        .order((
            claim_events::claim_id.asc(),
            claim_events::at.asc(),
            claim_events::id.asc(),
        ))
        .select((
            (
                claim_events::claim_id,
                claims::created_at,
                claim_events::at,
                claim_events::actor_id,
                claim_events::from_status,
                claim_events::to_status,
            ),
            claims::assignee_id,
        ))
        .load(conn)?;
    // The scope is applied here: a boxed query cannot hold the subselect.
    Ok(rows
        .into_iter()
        .filter(|(_, of)| assignee.is_none() || *of == assignee)
        .map(|(row, _)| row)
        .collect())
}

/// The stage of each escalation (`kind` events) in `[from, to)` of the claims in scope.
pub fn escalations(
    conn: &mut DbConnection,
    kind: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    assignee: Option<UserId>,
) -> QueryResult<Vec<Option<String>>> {
    let mut query = claim_events::table
        .inner_join(claims::table)
        .filter(claim_events::kind.eq(kind.to_owned()))
        .filter(claim_events::at.ge(from))
        .filter(claim_events::at.lt(to))
        .select(claim_events::from_status)
        .into_boxed();
    if let Some(assignee) = assignee {
        query = query.filter(claims::assignee_id.eq(assignee));
    }
    query.load(conn)
}

/// Open claims in scope whose stage deadline passed in `[from, to)` and which are still in
/// that stage: their stage and assignee.
pub fn still_overdue(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    assignee: Option<UserId>,
) -> QueryResult<Vec<(DbEnum<domain::claim::ClaimStatus>, Option<UserId>)>> {
    let mut query = claims::table
        .filter(claims::status.eq_any(super::claims::open_statuses()))
        .filter(claims::stage_due_at.ge(from))
        .filter(claims::stage_due_at.lt(to))
        .select((claims::status, claims::assignee_id))
        .into_boxed();
    if let Some(assignee) = assignee {
        query = query.filter(claims::assignee_id.eq(assignee));
    }
    query.load(conn)
}

/// The managers (all, or one), by id: id and name.
pub fn managers(
    conn: &mut DbConnection,
    only: Option<UserId>,
) -> QueryResult<Vec<(UserId, String)>> {
    let mut query = users::table
        .filter(users::role.eq(DbEnum(Role::Manager)))
        .order(users::id.asc())
        .select((users::id, users::name))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(users::id.eq(id));
    }
    query.load(conn)
}

/// Claims filed in a period, counted per defect category, product, series and sale batch
/// (products by the claim's SKU, batches by its serial number's sale).
#[derive(Debug, Clone, Queryable)]
pub struct DefectCount {
    pub defect: String,
    pub sku: Option<String>,
    pub category: Option<String>,
    pub series: Option<String>,
    pub batch: Option<String>,
    pub claims: i64,
}

pub fn claims_by_defect(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<DefectCount>> {
    claims::table
        .left_join(products::table.on(products::sku.nullable().eq(claims::sku)))
        .left_join(sales::table.on(sales::serial_no.eq(claims::serial_no)))
        .filter(claims::created_at.ge(from))
        .filter(claims::created_at.lt(to))
        .group_by((
            claims::defect_category,
            claims::sku,
            products::category,
            products::series,
            sales::batch_id,
        ))
        .select((
            claims::defect_category,
            claims::sku,
            products::category.nullable(),
            products::series.nullable(),
            sales::batch_id.nullable(),
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// Units sold in a period, per product and sale batch.
#[derive(Debug, Clone, Queryable)]
pub struct SoldCount {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub series: Option<String>,
    pub batch: Option<String>,
    pub units: i64,
}

pub fn units_sold(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<SoldCount>> {
    sales::table
        .inner_join(products::table.on(products::sku.eq(sales::sku)))
        .filter(sales::sold_at.ge(from))
        .filter(sales::sold_at.lt(to))
        .group_by((
            sales::sku,
            products::name,
            products::category,
            products::series,
            sales::batch_id,
        ))
        .select((
            sales::sku,
            products::name,
            products::category,
            products::series,
            sales::batch_id,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// For each claim filed in a period whose unit's sale is known: its product series, when
/// it was filed and when the unit was sold (time to failure).
pub fn failure_ages(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(Option<String>, NaiveDateTime, NaiveDate)>> {
    claims::table
        .inner_join(sales::table.on(sales::serial_no.eq(claims::serial_no)))
        .left_join(products::table.on(products::sku.eq(sales::sku)))
        .filter(claims::created_at.ge(from))
        .filter(claims::created_at.lt(to))
        .select((
            products::series.nullable(),
            claims::created_at,
            sales::sold_at,
        ))
        .load(conn)
}

/// A job's claim, with the claim's decision (the remedy) and product.
#[derive(Debug, Clone, Queryable)]
pub struct JobClaim {
    pub job_id: JobId,
    pub claim_id: ClaimId,
    pub remedy: Option<String>,
    pub sku: Option<String>,
}

pub fn claims_of_jobs(conn: &mut DbConnection, job_ids: &[JobId]) -> QueryResult<Vec<JobClaim>> {
    let mut out = Vec::new();
    for chunk in job_ids.chunks(5_000) {
        out.extend(
            jobs::table
                .inner_join(claims::table)
                .filter(jobs::id.eq_any(chunk))
                .select((jobs::id, claims::id, claims::decision, claims::sku))
                .load::<JobClaim>(conn)?,
        );
    }
    Ok(out)
}
