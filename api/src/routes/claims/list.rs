//! `GET /claims`: each caller sees only the claims of his scope.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::claim::ClaimStatus;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ClaimResponse;
use crate::app::claims;
use crate::auth::extract::ClaimReader;
use crate::db::claims::ClaimRow;
use crate::db::claims::ListFilter;
use crate::db::types::UserId;
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::routes::{decode_cursor, page_limit, paginate, paginate_by, Page};
use crate::state::State;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListClaimsQuery {
    #[param(value_type = Option<String>)]
    pub status: Option<ClaimStatus>,
    #[param(value_type = Option<i64>)]
    pub assignee: Option<UserId>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
    /// Matches the number, serial number or description, ignoring case.
    pub q: Option<String>,
    /// Only open claims past their stage deadline, most overdue first.
    pub overdue: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Lists claims, newest first: a customer sees hers, a dealer those he filed, a manager his,
/// a head and an admin all.
#[utoipa::path(tag = "claims", params(ListClaimsQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ClaimResponse>)))]
#[get("/claims")]
pub async fn list_claims(
    state: State,
    reader: ClaimReader,
    query: web::Query<ListClaimsQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let overdue = query.overdue.unwrap_or(false);
    let (before_id, after_due) = if overdue {
        (None, decode_due_cursor(query.cursor.as_deref())?)
    } else {
        (decode_cursor(query.cursor.as_deref())?, None)
    };
    let filter = ListFilter {
        overdue_at: overdue.then(|| Utc::now().naive_utc()),
        due_first: false,
        after_due,
        status: query.status,
        assignee_id: query.assignee,
        created_from: query.created_from.map(|t| t.naive_utc()),
        created_to: query.created_to.map(|t| t.naive_utc()),
        text: query.q.clone(),
        before_id,
        limit: limit + 1,
    };
    let user = *reader;
    let rows = state
        .db(move |conn| claims::list(conn, &user, &filter))
        .await?;
    let url = &state.settings.notify.public_url;
    let page = if overdue {
        paginate_by(rows, limit, encode_due_cursor, |c| {
            ClaimResponse::new(c, url).seen_by(user.role)
        })
    } else {
        paginate(
            rows,
            limit,
            |c| c.id.0,
            |c| ClaimResponse::new(c, url).seen_by(user.role),
        )
    };
    Ok(HttpResponse::Ok().json(page))
}

/// The overdue list's cursor: the last claim's deadline and id, opaque to clients.
fn encode_due_cursor(claim: &ClaimRow) -> String {
    use base64::Engine;
    let due = claim
        .stage_due_at
        .map_or(0, |d| d.and_utc().timestamp_micros());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("due:{due}:{}", claim.id))
}

fn decode_due_cursor(cursor: Option<&str>) -> ApiResult<Option<(chrono::NaiveDateTime, i64)>> {
    use base64::Engine;
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            let mut parts = text.strip_prefix("due:")?.split(':');
            let due = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
            let id = parts.next()?.parse().ok()?;
            Some((due.naive_utc(), id))
        })
        .map(Some)
        .ok_or_else(|| ApiError::field("cursor", messages::INVALID_CURSOR))
}
