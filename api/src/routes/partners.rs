//! Workshops and suppliers: managers, heads and admins keep them, dispatchers read them.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveTime, Utc};
use domain::partner::PartnerKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{decode_cursor, double_option, page_limit, paginate, Page};
use crate::app::partners::{self, PartnerChanges, PartnerFilter, PartnerInput};
use crate::auth::extract::{PartnerReader, Registrar};
use crate::db::partners::PartnerRow;
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreatePartnerRequest {
    /// `workshop` (repairs units sent to it) or `supplier` (hands out replacement units).
    #[schema(value_type = String, example = "workshop")]
    pub kind: PartnerKind,
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[validate(length(min = 1, max = 500))]
    pub address: String,
    #[validate(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    pub lon: f64,
    /// Local time from which a courier can hand over or collect, `HH:MM`.
    #[schema(value_type = String, example = "09:00")]
    pub opens: NaiveTime,
    /// Local closing time, `HH:MM`, after `opens`.
    #[schema(value_type = String, example = "18:00")]
    pub closes: NaiveTime,
    /// IANA zone the hours are in, e.g. `Europe/Berlin`.
    #[validate(length(min = 1, max = 64))]
    pub time_zone: String,
    #[validate(length(min = 3, max = 50))]
    pub phone: Option<String>,
    /// Where the partner hears of units on their way.
    #[validate(email)]
    pub email: Option<String>,
    /// Product categories it takes (as the catalogue names them); empty or absent: all.
    #[serde(default)]
    #[validate(length(max = 50))]
    pub categories: Vec<String>,
}

/// Changes to a partner; absent fields stay. `lat` and `lon` come together.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePartnerRequest {
    #[validate(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 500))]
    pub address: Option<String>,
    #[validate(range(min = -90.0, max = 90.0))]
    pub lat: Option<f64>,
    #[validate(range(min = -180.0, max = 180.0))]
    pub lon: Option<f64>,
    #[schema(value_type = Option<String>, example = "09:00")]
    pub opens: Option<NaiveTime>,
    #[schema(value_type = Option<String>, example = "18:00")]
    pub closes: Option<NaiveTime>,
    #[validate(length(min = 1, max = 64))]
    pub time_zone: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 3, max = 50))]
    pub phone: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(email)]
    pub email: Option<Option<String>>,
    #[validate(length(max = 50))]
    pub categories: Option<Vec<String>>,
    /// `false` retires the partner (new decisions cannot name it; claims that did keep it),
    /// `true` brings it back.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerResponse {
    pub id: i64,
    #[schema(value_type = String)]
    pub kind: PartnerKind,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opens: String,
    pub closes: String,
    pub time_zone: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Empty: every category.
    pub categories: Vec<String>,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<PartnerRow> for PartnerResponse {
    fn from(p: PartnerRow) -> Self {
        Self {
            id: p.id,
            kind: p.kind,
            name: p.name,
            address: p.address,
            lat: p.lat,
            lon: p.lon,
            opens: super::fleet::clock(p.opens_minute),
            closes: super::fleet::clock(p.closes_minute),
            time_zone: p.time_zone,
            phone: p.phone,
            email: p.email,
            categories: p.categories,
            active: p.active,
            updated_at: p.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListPartnersQuery {
    /// `workshop` or `supplier`.
    #[param(value_type = Option<String>)]
    pub kind: Option<PartnerKind>,
    /// Only partners that take units of this product category.
    pub category: Option<String>,
    /// Also list retired partners.
    #[serde(default)]
    pub include_retired: bool,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Registers a workshop or a supplier.
#[utoipa::path(tag = "partners", request_body = CreatePartnerRequest, security(("bearer" = [])), responses(
    (status = 201, body = PartnerResponse), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[post("/partners")]
pub async fn create_partner(
    state: State,
    _who: Registrar,
    body: ValidJson<CreatePartnerRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.0;
    let input = PartnerInput {
        kind: r.kind,
        name: r.name,
        address: r.address,
        lat: r.lat,
        lon: r.lon,
        opens: r.opens,
        closes: r.closes,
        time_zone: r.time_zone,
        phone: r.phone,
        email: r.email,
        categories: r.categories,
    };
    let partner = state
        .write(move |conn| partners::create(conn, input))
        .await?;
    Ok(HttpResponse::Created().json(PartnerResponse::from(partner)))
}

/// Lists workshops and suppliers, oldest first; retired ones only when asked.
#[utoipa::path(tag = "partners", params(ListPartnersQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<PartnerResponse>)))]
#[get("/partners")]
pub async fn list_partners(
    state: State,
    _who: PartnerReader,
    query: web::Query<ListPartnersQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = decode_cursor(query.cursor.as_deref())?;
    let filter = PartnerFilter {
        kind: query.kind,
        category: query.category.map(|c| c.trim().to_owned()),
        include_retired: query.include_retired,
    };
    let rows = state
        .db(move |conn| partners::list(conn, &filter, after, limit + 1))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |p| p.id, PartnerResponse::from)))
}

/// One workshop or supplier.
#[utoipa::path(tag = "partners", security(("bearer" = [])), responses(
    (status = 200, body = PartnerResponse), (status = 404, body = crate::error::Problem)))]
#[get("/partners/{id}")]
pub async fn get_partner(
    state: State,
    _who: PartnerReader,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let partner = state.db(move |conn| partners::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(PartnerResponse::from(partner)))
}

/// Changes a partner's details, hours or categories, or retires it.
#[utoipa::path(tag = "partners", request_body = UpdatePartnerRequest, security(("bearer" = [])), responses(
    (status = 200, body = PartnerResponse), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[patch("/partners/{id}")]
pub async fn update_partner(
    state: State,
    _who: Registrar,
    path: web::Path<i64>,
    body: ValidJson<UpdatePartnerRequest>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let r = body.0;
    let changes = PartnerChanges {
        name: r.name,
        address: r.address,
        lat: r.lat,
        lon: r.lon,
        opens: r.opens,
        closes: r.closes,
        time_zone: r.time_zone,
        phone: r.phone,
        email: r.email,
        categories: r.categories,
        active: r.active,
    };
    let partner = state
        .write(move |conn| partners::update(conn, id, changes))
        .await?;
    Ok(HttpResponse::Ok().json(PartnerResponse::from(partner)))
}
