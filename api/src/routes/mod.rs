//! HTTP handlers, one module per resource; `configure` mounts them under `/api/v1`.

pub mod auth;
pub mod claims;
pub mod fleet;
pub mod jobs;
pub mod me;
pub mod ops;
pub mod plans;
pub mod registry;
pub mod users;

use actix_web::web;
use base64::Engine;

use crate::error::{ApiError, ApiResult};
use crate::messages;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(ops::healthz).service(ops::readyz).service(
        web::scope("/api/v1")
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(users::create_user)
            .service(users::list_users)
            .service(users::update_user)
            .service(registry::create_product)
            .service(registry::create_sale)
            .service(registry::import_sales)
            .service(registry::get_warranty)
            .service(claims::create::create_claim)
            .service(claims::list::list_claims)
            .service(claims::get::get_claim)
            .service(claims::transition::transition_claim)
            .service(claims::decide::decide_claim)
            .service(claims::comment::comment_claim)
            .service(claims::reassign::reassign_claim)
            .service(claims::attachments::upload_attachment)
            .service(claims::attachments::download_attachment)
            .service(jobs::list_jobs)
            .service(fleet::create_depot)
            .service(fleet::list_depots)
            .service(fleet::create_courier)
            .service(fleet::list_couriers)
            .service(fleet::put_shift)
            // The couriers' mobile API and the dispatchers' live map (routes/me.rs).
            .service(me::get_route)
            .service(me::report_event)
            .service(me::upload_proof)
            .service(me::post_positions)
            .service(me::live_positions)
            // Dispatch plans.
            .service(plans::create_plan)
            .service(plans::list_plans)
            .service(plans::get_plan)
            .service(plans::plan_routes)
            .service(plans::plan_problem)
            .service(plans::edit_plan)
            .service(plans::publish_plan)
            .service(plans::reoptimize_plan),
    );
}

/// Every list answers `{items, next_cursor}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

pub fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        )),
    }
}

/// Cursors are opaque to clients: the id where the next page starts, encoded.
pub fn encode_cursor(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

pub fn decode_cursor(cursor: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.strip_prefix("id:").and_then(|id| id.parse().ok()))
        .map(Some)
        .ok_or_else(|| ApiError::field("cursor", messages::INVALID_CURSOR))
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
pub fn paginate<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    id_of: impl Fn(&R) -> i64,
    map: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(id_of(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
    }
}

/// Where an uploaded file belongs.
pub struct UploadTarget {
    pub claim_id: Option<i64>,
    pub job_id: Option<i64>,
    pub kind: &'static str,
    pub uploaded_by: i64,
}

/// Stores an upload after an access check that names its target: nothing is written for a
/// caller who may not upload there (so nobody fills the disk through others' objects), and
/// a refused body is still read so the client gets our answer, not a reset. 201 with the
/// stored attachment.
pub async fn accept_upload<F>(
    state: &crate::state::State,
    payload: actix_multipart::Multipart,
    target: F,
) -> ApiResult<actix_web::HttpResponse>
where
    F: FnOnce(&mut crate::db::DbConnection) -> ApiResult<UploadTarget> + Send + 'static,
{
    let target = match state.db(target).await {
        Ok(target) => target,
        Err(e) => {
            crate::storage::discard(payload).await;
            return Err(e);
        }
    };
    let root = state.settings.attachments_dir();
    let stored = crate::storage::receive(payload, &root, state.settings.max_upload_bytes).await?;
    let row = state
        .write(move |conn| {
            Ok(crate::db::attachments::insert(
                conn,
                &crate::db::attachments::NewAttachment {
                    claim_id: target.claim_id,
                    job_id: target.job_id,
                    kind: target.kind,
                    file_name: &stored.file_name,
                    content_type: stored.content_type,
                    bytes: stored.bytes,
                    sha256: &stored.sha256,
                    uploaded_by: target.uploaded_by,
                    created_at: crate::db::now(),
                },
            )?)
        })
        .await?;
    Ok(actix_web::HttpResponse::Created().json(claims::AttachmentInfo::from(row)))
}
