//! `GET /claims`: each caller sees only the claims of his scope.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::claim::ClaimStatus;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ClaimResponse;
use crate::app::claims;
use crate::auth::extract::ClaimReader;
use crate::db::claims::ListFilter;
use crate::db::types::UserId;
use crate::error::ApiResult;
use crate::routes::{decode_cursor, page_limit, paginate, Page};
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
    let filter = ListFilter {
        status: query.status,
        assignee_id: query.assignee,
        created_from: query.created_from.map(|t| t.naive_utc()),
        created_to: query.created_to.map(|t| t.naive_utc()),
        text: query.q.clone(),
        before_id: decode_cursor(query.cursor.as_deref())?,
        limit: limit + 1,
    };
    let user = *reader;
    let rows = state
        .db(move |conn| claims::list(conn, &user, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |c| c.id.0, ClaimResponse::from)))
}
