//! What the department's reports read: the claims filed in a period, the status moves and
//! escalations recorded in it, the deadlines that passed in it. Each read is one indexed
//! range scan; the grouping and the percentiles are computed in `app::reports`, the same
//! way for both backends.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{claim_events, claims, users};
use super::types::{ClaimId, DbEnum, UserId};
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
