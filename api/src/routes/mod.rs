//! HTTP handlers, one module per resource: each extracts and validates a request, calls one
//! `app` function and maps its answer; `configure` mounts them (under `/api/v1`).

pub mod auth;
pub mod claims;
pub mod documents;
pub mod fleet;
pub mod jobs;
pub mod me;
pub mod ops;
pub mod partners;
pub mod plans;
pub mod registry;
pub mod reports;
pub mod track;
pub mod users;
pub mod webhooks;

use base64::Engine;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, OpenApiFactory};

use crate::error::{ApiError, ApiResult};
use crate::messages;

/// Every route of the API, in one list: `configure` mounts each handler and adds its
/// `#[utoipa::path]` to the OpenAPI document in the same call, so the two cannot drift
/// apart; `schema_references` lists every schema the handlers name, before the document
/// merges them by name (a test checks that no two share one).
macro_rules! api_routes {
    (ops: [$($op:path),* $(,)?], v1: [$($handler:path),* $(,)?] $(,)?) => {
        pub fn configure(cfg: &mut ServiceConfig) {
            cfg$(.service($op))*.service(scope("/api/v1")$(.service($handler))*);
        }

        pub fn schema_references() -> Vec<(String, RefOr<Schema>)> {
            let mut out = Vec::new();
            $(OpenApiFactory::schemas(&$op, &mut out);)*
            $(OpenApiFactory::schemas(&$handler, &mut out);)*
            out
        }
    };
}

api_routes!(
    ops: [ops::healthz, ops::readyz, ops::metrics],
    v1: [
        auth::login,
        auth::refresh,
        auth::logout,
        auth::logout_all,
        users::create_user,
        users::list_users,
        users::update_user,
        registry::create_product,
        registry::create_sale,
        registry::import_sales,
        registry::get_warranty,
        claims::create::create_claim,
        claims::list::list_claims,
        claims::get::get_claim,
        claims::transition::transition_claim,
        claims::decide::decide_claim,
        claims::comment::comment_claim,
        claims::reassign::reassign_claim,
        claims::attachments::upload_attachment,
        claims::attachments::attachment_thumbnail,
        claims::attachments::download_attachment,
        claims::remedies::repair_done,
        claims::remedies::received,
        claims::remedies::withdraw,
        claims::notifications::list_notifications,
        documents::claim_document,
        jobs::list_jobs,
        jobs::cancel_job,
        fleet::create_depot,
        fleet::list_depots,
        partners::create_partner,
        partners::list_partners,
        partners::get_partner,
        partners::update_partner,
        fleet::create_courier,
        fleet::list_couriers,
        fleet::put_shift,
        // The couriers' mobile API and the dispatchers' live map.
        me::get_route,
        documents::my_route_sheet,
        me::report_event,
        me::upload_proof,
        me::post_positions,
        me::live_positions,
        plans::create_plan,
        plans::list_plans,
        plans::get_plan,
        plans::plan_routes,
        documents::plan_route_sheet,
        plans::plan_problem,
        plans::edit_plan,
        plans::publish_plan,
        plans::reoptimize_plan,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::delete_webhook,
        webhooks::webhook_deliveries,
        reports::claims_report,
        reports::defects_report,
        reports::delivery_report,
        // Public: a claim's tracking link.
        track::track,
        track::feedback,
        track::visit_slots,
        track::book_slot,
    ],
);

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
    rows: Vec<R>,
    limit: i64,
    id_of: impl Fn(&R) -> i64,
    map: impl Fn(R) -> T,
) -> Page<T> {
    paginate_by(rows, limit, |r| encode_cursor(id_of(r)), map)
}

/// [`paginate`] with a cursor made from the last row by `cursor_of`.
pub fn paginate_by<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    cursor_of: impl Fn(&R) -> String,
    map: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        rows.last().map(cursor_of)
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
    }
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(de).map(Some)
}
