//! `GET /claims/{id}/notifications`: what was sent about a claim.

use actix_web::{get, web, HttpResponse};

use crate::app::notifications::{self, Notification};
use crate::auth::extract::ClaimStaff;
use crate::db::types::ClaimId;
use crate::error::ApiResult;
use crate::routes::Page;
use crate::state::State;

/// Every mail and webhook call about the claim: to whom, through which channel, when, and
/// how it stands (`pending`, `failed` and to be retried, `sent`, `dead`). Managers (for
/// their claims), heads and admins.
#[utoipa::path(tag = "claims", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Page<Notification>), (status = 404, body = crate::error::Problem)))]
#[get("/claims/{id}/notifications")]
pub async fn list_notifications(
    state: State,
    staff: ClaimStaff,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = ClaimId(path.into_inner());
    let user = *staff;
    let items = state
        .db(move |conn| notifications::of_claim(conn, &user, id))
        .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}
