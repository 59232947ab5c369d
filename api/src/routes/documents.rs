//! Documents as PDF: a claim's acts and a courier's route sheet.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use domain::locale::Locale;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::documents::{self, ClaimDocument, LanguageAsk, Pdf};
use crate::auth::extract::{ClaimReader, Courier, Dispatch};
use crate::db::types::{ClaimId, CourierId, PlanId};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use crate::state::State;

#[derive(Debug, Deserialize, IntoParams)]
pub struct LanguageQuery {
    /// `en` or `ru`. Default: the `Accept-Language` header, else the language of the person
    /// the document is for.
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SheetQuery {
    /// `YYYY-MM-DD`; today (UTC) when absent.
    #[param(value_type = Option<String>)]
    pub date: Option<NaiveDate>,
    /// `en` or `ru`, as for the claim documents.
    pub lang: Option<String>,
}

pub(crate) fn language(req: &HttpRequest, lang: Option<&str>) -> ApiResult<LanguageAsk> {
    let query = match lang {
        Some(text) => Some(
            text.parse::<Locale>()
                .map_err(|_| ApiError::field("lang", messages::LANGUAGE))?,
        ),
        None => None,
    };
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language);
    Ok(LanguageAsk { query, accept })
}

fn pdf_response(pdf: Pdf) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Inline,
            parameters: vec![DispositionParam::Filename(pdf.file_name)],
        })
        // Documents carry personal data: never kept by shared caches.
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(pdf.bytes)
}

/// A claim's document as PDF on A4: `claim_act.pdf` (given at filing, with a QR code of
/// the tracking link) or `decision_act.pdf` (the exchange or refund act, the repair order,
/// or the rejection letter; 409 before a decision). Visible to whoever may see the claim;
/// another owner's claim is a 404.
#[utoipa::path(tag = "documents",
    params(("id" = i64, Path), ("document" = String, Path,
        description = "`claim_act.pdf` or `decision_act.pdf`"), LanguageQuery),
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)))]
#[get("/claims/{id}/documents/{document}")]
pub async fn claim_document(
    state: State,
    reader: ClaimReader,
    path: web::Path<(i64, String)>,
    query: web::Query<LanguageQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (id, name) = path.into_inner();
    let kind = ClaimDocument::parse(&name).ok_or(ApiError::NotFound)?;
    let language = language(&req, query.lang.as_deref())?;
    let user = *reader;
    let shared = state.clone();
    let pdf = state
        .db(move |conn| {
            documents::claim_document(conn, &shared, &user, ClaimId(id), kind, language)
        })
        .await?;
    Ok(pdf_response(pdf))
}

/// A courier's route sheet for a plan as PDF on A4: the stops in driving order with the
/// window, ETA, address and contact, what to bring and take back, a box to tick and a line
/// to sign at each, the break, the cash to carry and a map of the route.
#[utoipa::path(tag = "documents",
    params(("id" = i64, Path), ("courier_id" = i64, Path), LanguageQuery),
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)))]
#[get("/plans/{id}/routes/{courier_id}/sheet.pdf")]
pub async fn plan_route_sheet(
    state: State,
    _who: Dispatch,
    path: web::Path<(i64, i64)>,
    query: web::Query<LanguageQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (plan, courier) = path.into_inner();
    let language = language(&req, query.lang.as_deref())?;
    let shared = state.clone();
    let pdf = state
        .db(move |conn| {
            documents::plan_route_sheet(conn, &shared, PlanId(plan), CourierId(courier), language)
        })
        .await?;
    Ok(pdf_response(pdf))
}

/// The signed-in courier's route sheet for his published route of a day, as PDF (the
/// paper to fall back on when the phone dies). A day without a route gives a sheet with
/// no stops.
#[utoipa::path(tag = "couriers", params(SheetQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
              (status = 403, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)))]
#[get("/me/route/sheet.pdf")]
pub async fn my_route_sheet(
    state: State,
    who: Courier,
    query: web::Query<SheetQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let date = query.date.unwrap_or_else(|| Utc::now().date_naive());
    let language = language(&req, query.lang.as_deref())?;
    let user = who.id;
    let shared = state.clone();
    let pdf = state
        .db(move |conn| documents::my_route_sheet(conn, &shared, user, date, language))
        .await?;
    Ok(pdf_response(pdf))
}
