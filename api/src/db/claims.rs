//! Claims and their append-only history. Who may see a claim is part of every query
//! ([`Scope`]), so another owner's claim is simply not found.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::claim::{ClaimStatus, RejectReason, Remedy};
use domain::decision::Logistics;

use super::schema::{claim_events, claims};
use super::types::{ClaimId, CustomerId, DbEnum, Json, OptEnum, TimeWindow, UserId};
use super::{like_pattern, lower, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = claims)]
pub struct ClaimRow {
    pub id: ClaimId,
    pub number: String,
    pub customer_id: CustomerId,
    pub filed_by: UserId,
    pub serial_no: String,
    pub sku: Option<String>,
    pub defect_category: String,
    pub description: String,
    #[diesel(deserialize_as = DbEnum<Remedy>)]
    pub requested_remedy: Remedy,
    #[diesel(deserialize_as = DbEnum<ClaimStatus>)]
    pub status: ClaimStatus,
    pub assignee_id: Option<UserId>,
    /// `in_warranty`, `expired` or `unknown_serial` at filing.
    pub warranty_status: String,
    pub warranty_until: Option<NaiveDate>,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub refund_amount_cents: Option<i64>,
    pub stage_entered_at: NaiveDateTime,
    pub stage_due_at: Option<NaiveDateTime>,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    #[diesel(deserialize_as = Json<Vec<TimeWindow>>)]
    pub preferred_windows: Vec<TimeWindow>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
    /// The secret of the public tracking link (`/track/{token}`).
    pub tracking_token: Option<String>,
    /// When the current stage's deadline was escalated, and which stage that was.
    pub escalated_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = OptEnum<ClaimStatus>)]
    pub escalated_stage: Option<ClaimStatus>,
    #[diesel(deserialize_as = OptEnum<RejectReason>)]
    pub reason_code: Option<RejectReason>,
    #[diesel(deserialize_as = OptEnum<Logistics>)]
    pub logistics: Option<Logistics>,
    /// Why an approval went ahead outside the warranty.
    pub override_reason: Option<String>,
    /// The customer's rating, 1 to 5, once the claim ended.
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<NaiveDateTime>,
    /// The contract workshop a repair went to (`logistics: contractor`), or the supplier of
    /// a replacement (`logistics: supplier`).
    pub partner_id: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = claims)]
pub struct NewClaim<'a> {
    pub number: &'a str,
    pub customer_id: CustomerId,
    pub filed_by: UserId,
    pub serial_no: &'a str,
    pub sku: Option<&'a str>,
    pub defect_category: &'a str,
    pub description: &'a str,
    #[diesel(serialize_as = DbEnum<Remedy>)]
    pub requested_remedy: Remedy,
    #[diesel(serialize_as = DbEnum<ClaimStatus>)]
    pub status: ClaimStatus,
    pub assignee_id: Option<UserId>,
    pub warranty_status: &'a str,
    pub warranty_until: Option<NaiveDate>,
    pub stage_entered_at: NaiveDateTime,
    pub stage_due_at: Option<NaiveDateTime>,
    pub address: &'a str,
    pub lat: f64,
    pub lon: f64,
    #[diesel(serialize_as = Json<Vec<TimeWindow>>)]
    pub preferred_windows: Vec<TimeWindow>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub tracking_token: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = claim_events)]
pub struct ClaimEventRow {
    pub id: i64,
    pub claim_id: ClaimId,
    pub at: NaiveDateTime,
    pub actor_id: Option<UserId>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = claim_events)]
pub struct NewClaimEvent<'a> {
    pub claim_id: ClaimId,
    pub at: NaiveDateTime,
    pub actor_id: Option<UserId>,
    pub kind: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Which claims a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A customer: the claims about her.
    Customer(CustomerId),
    /// A dealer: the claims he filed.
    FiledBy(UserId),
    /// A manager: the claims assigned to him.
    AssignedTo(UserId),
    /// Heads and admins.
    All,
}

type BoxedClaims<'a> = claims::BoxedQuery<'a, super::DbBackend>;

fn scoped<'a>(scope: Scope) -> BoxedClaims<'a> {
    let query = claims::table.into_boxed();
    match scope {
        Scope::Customer(id) => query.filter(claims::customer_id.eq(id)),
        Scope::FiledBy(id) => query.filter(claims::filed_by.eq(id)),
        Scope::AssignedTo(id) => query.filter(claims::assignee_id.eq(id)),
        Scope::All => query,
    }
}

pub fn insert(conn: &mut DbConnection, new: NewClaim) -> QueryResult<ClaimRow> {
    diesel::insert_into(claims::table)
        .values(new)
        .returning(claims::all_columns)
        .get_result::<ClaimRow>(conn)
}

pub fn set_number(conn: &mut DbConnection, id: ClaimId, number: &str) -> QueryResult<ClaimRow> {
    diesel::update(claims::table.find(id))
        .set(claims::number.eq(number))
        .returning(claims::all_columns)
        .get_result::<ClaimRow>(conn)
}

pub fn find(conn: &mut DbConnection, id: ClaimId, scope: Scope) -> QueryResult<Option<ClaimRow>> {
    scoped(scope)
        .filter(claims::id.eq(id))
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<ClaimStatus>,
    pub assignee_id: Option<UserId>,
    /// Only open claims past their stage deadline (at this time), most overdue first.
    pub overdue_at: Option<NaiveDateTime>,
    /// Only open claims, the soonest stage deadline first (a manager's queue).
    pub due_first: bool,
    /// With `overdue_at` or `due_first`: after this (deadline, id) in that order.
    pub after_due: Option<(NaiveDateTime, i64)>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub text: Option<String>,
    /// Newest first: only claims with a smaller id than this.
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub fn list(
    conn: &mut DbConnection,
    scope: Scope,
    filter: &ListFilter,
) -> QueryResult<Vec<ClaimRow>> {
    let mut query = scoped(scope)
        .select(ClaimRow::as_select())
        .limit(filter.limit);
    query = if filter.overdue_at.is_some() || filter.due_first {
        let mut by_due = query
            .filter(claims::status.eq_any(open_statuses()))
            // Claims without a deadline last on both backends (SQLite sorts NULL first).
            .order((
                claims::stage_due_at.is_null().asc(),
                claims::stage_due_at.asc(),
                claims::id.asc(),
            ));
        if let Some(now) = filter.overdue_at {
            by_due = by_due.filter(claims::stage_due_at.lt(now));
        }
        if let Some((due, id)) = filter.after_due {
            by_due = by_due.filter(
                claims::stage_due_at
                    .gt(due)
                    .or(claims::stage_due_at.eq(due).and(claims::id.gt(id))),
            );
        }
        by_due
    } else {
        query.order(claims::id.desc())
    };
    if let Some(status) = &filter.status {
        query = query.filter(claims::status.eq(DbEnum(*status)));
    }
    if let Some(assignee) = filter.assignee_id {
        query = query.filter(claims::assignee_id.eq(assignee));
    }
    if let Some(from) = filter.created_from {
        query = query.filter(claims::created_at.ge(from));
    }
    if let Some(to) = filter.created_to {
        query = query.filter(claims::created_at.lt(to));
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let pattern = like_pattern(text.trim());
        query = query.filter(
            lower(claims::number)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(claims::serial_no).like(pattern.clone()).escape('\\'))
                .or(lower(claims::description).like(pattern).escape('\\')),
        );
    }
    if let Some(before) = filter.before_id {
        query = query.filter(claims::id.lt(before));
    }
    query.load(conn)
}

/// Moves a claim to `to` if nobody changed it since `version` was read; `None` when someone
/// did (the caller answers 409). The version check makes concurrent decisions race safely on
/// both backends: the loser's UPDATE matches no row.
pub fn update_status(
    conn: &mut DbConnection,
    id: ClaimId,
    version: i32,
    to: ClaimStatus,
    stage_due_at: Option<NaiveDateTime>,
) -> QueryResult<Option<ClaimRow>> {
    let now = super::now();
    diesel::update(claims::table.find(id).filter(claims::version.eq(version)))
        .set((
            claims::status.eq(DbEnum(to)),
            claims::stage_entered_at.eq(now),
            claims::stage_due_at.eq(stage_due_at),
            claims::updated_at.eq(now),
            claims::version.eq(version + 1),
        ))
        .returning(claims::all_columns)
        .get_result::<ClaimRow>(conn)
        .optional()
}

/// What a decision records on its claim.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRecord<'a> {
    pub decision: &'a str,
    pub reason: Option<&'a str>,
    pub reason_code: Option<RejectReason>,
    pub refund_amount_cents: Option<i64>,
    pub logistics: Option<Logistics>,
    pub override_reason: Option<&'a str>,
    pub partner_id: Option<i64>,
}

pub fn record_decision(
    conn: &mut DbConnection,
    id: ClaimId,
    d: DecisionRecord,
) -> QueryResult<ClaimRow> {
    diesel::update(claims::table.find(id))
        .set((
            claims::decision.eq(d.decision),
            claims::decision_reason.eq(d.reason),
            claims::reason_code.eq(d.reason_code.map(DbEnum)),
            claims::refund_amount_cents.eq(d.refund_amount_cents),
            claims::logistics.eq(d.logistics.map(DbEnum)),
            claims::override_reason.eq(d.override_reason),
            claims::partner_id.eq(d.partner_id),
        ))
        .returning(claims::all_columns)
        .get_result::<ClaimRow>(conn)
}

/// The claim a tracking link points at.
pub fn find_by_token(conn: &mut DbConnection, token: &str) -> QueryResult<Option<ClaimRow>> {
    claims::table
        .filter(claims::tracking_token.eq(token))
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()
}

/// Records the customer's rating once; false if she had rated already.
pub fn rate(
    conn: &mut DbConnection,
    id: ClaimId,
    rating: i32,
    comment: Option<&str>,
) -> QueryResult<bool> {
    let n = diesel::update(claims::table.find(id).filter(claims::rating.is_null()))
        .set((
            claims::rating.eq(rating),
            claims::rating_comment.eq(comment),
            claims::rated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The statuses of a claim still being worked on, as stored.
pub fn open_statuses() -> Vec<DbEnum<ClaimStatus>> {
    ClaimStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(DbEnum)
        .collect()
}

/// Open claims past their stage deadline, per stage.
pub fn overdue_per_stage(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(ClaimStatus, i64)>> {
    let counts: Vec<(DbEnum<ClaimStatus>, i64)> = claims::table
        .filter(claims::stage_due_at.lt(now))
        .filter(claims::status.eq_any(open_statuses()))
        .group_by(claims::status)
        .select((claims::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(counts.into_iter().map(|(s, n)| (s.0, n)).collect())
}

/// Marks escalated every open claim whose stage deadline passed and whose current stage
/// was not escalated yet; returns them. One statement, so two sweeps running at once
/// escalate each claim once (on PostgreSQL the second waits for the row and then no longer
/// matches).
pub fn escalate_overdue(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<ClaimRow>> {
    let open = open_statuses();
    diesel::update(
        claims::table
            .filter(claims::stage_due_at.lt(now))
            .filter(claims::status.eq_any(open))
            .filter(
                claims::escalated_stage
                    .is_null()
                    .or(claims::escalated_stage.ne(claims::status.nullable())),
            ),
    )
    .set((
        claims::escalated_at.eq(now),
        claims::escalated_stage.eq(claims::status.nullable()),
    ))
    .returning(claims::all_columns)
    .get_results::<ClaimRow>(conn)
}

/// Open claims assigned to a manager (to hand them on when he is away).
pub fn open_of(conn: &mut DbConnection, assignee: UserId) -> QueryResult<Vec<ClaimRow>> {
    let open = open_statuses();
    claims::table
        .filter(claims::assignee_id.eq(assignee))
        .filter(claims::status.eq_any(open))
        .order(claims::id.asc())
        .select(ClaimRow::as_select())
        .load(conn)
}

pub fn reassign(
    conn: &mut DbConnection,
    id: ClaimId,
    version: i32,
    assignee: UserId,
) -> QueryResult<Option<ClaimRow>> {
    diesel::update(claims::table.find(id).filter(claims::version.eq(version)))
        .set((
            claims::assignee_id.eq(assignee),
            claims::updated_at.eq(super::now()),
            claims::version.eq(version + 1),
        ))
        .returning(claims::all_columns)
        .get_result::<ClaimRow>(conn)
        .optional()
}

pub fn insert_event(conn: &mut DbConnection, event: &NewClaimEvent) -> QueryResult<usize> {
    diesel::insert_into(claim_events::table)
        .values(event)
        .execute(conn)
}

pub fn history(conn: &mut DbConnection, claim_id: ClaimId) -> QueryResult<Vec<ClaimEventRow>> {
    claim_events::table
        .filter(claim_events::claim_id.eq(claim_id))
        .order(claim_events::id.asc())
        .select(ClaimEventRow::as_select())
        .load(conn)
}

/// Open claims of each of `assignees`, for the even spread of new claims. Naming them lets
/// the `(assignee_id, status)` index look up each pair: without it every filing scanned all
/// claims ever filed, closed ones too.
pub fn open_per_assignee(
    conn: &mut DbConnection,
    assignees: &[UserId],
) -> QueryResult<Vec<(UserId, i64)>> {
    let open = open_statuses();
    let counts: Vec<(Option<UserId>, i64)> = claims::table
        .filter(claims::assignee_id.eq_any(assignees.iter().map(|id| Some(*id))))
        .filter(claims::status.eq_any(open))
        .group_by(claims::assignee_id)
        .select((claims::assignee_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(counts
        .into_iter()
        .filter_map(|(id, n)| Some((id?, n)))
        .collect())
}

/// Dates a claim back (the demo's history is made today and moved to when it happened).
pub fn retime(
    conn: &mut DbConnection,
    id: ClaimId,
    created_at: NaiveDateTime,
    stage_entered_at: NaiveDateTime,
    stage_due_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(claims::table.find(id))
        .set((
            claims::created_at.eq(created_at),
            claims::updated_at.eq(stage_entered_at),
            claims::stage_entered_at.eq(stage_entered_at),
            claims::stage_due_at.eq(stage_due_at),
        ))
        .execute(conn)
}

/// Dates one history entry back (see [`retime`]).
pub fn retime_event(
    conn: &mut DbConnection,
    event_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(claim_events::table.find(event_id))
        .set(claim_events::at.eq(at))
        .execute(conn)
}
