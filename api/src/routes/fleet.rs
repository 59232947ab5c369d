//! The fleet: depots, couriers and their shifts (dispatchers and admins).

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::{decode_cursor, page_limit, paginate, Page};
use crate::app::accounts::{self, CourierInput};
use crate::app::fleet::{self, BreakInput, DepotInput, ShiftInput};
use crate::auth::extract::Dispatch;
use crate::db::fleet::{CourierRow, DepotRow, ShiftRow};
use crate::db::types::{CourierId, UserId};
use crate::error::ApiResult;
use crate::extract::ValidJson;
use crate::messages;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateDepotRequest {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[validate(length(min = 1, max = 500))]
    pub address: String,
    #[validate(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    pub lon: f64,
    /// Local opening time, `HH:MM`.
    #[schema(value_type = String, example = "08:00")]
    pub opens: NaiveTime,
    /// Local closing time, `HH:MM`, after `opens`.
    #[schema(value_type = String, example = "20:00")]
    pub closes: NaiveTime,
    /// IANA zone the hours are in, e.g. `Europe/Berlin`.
    #[validate(length(min = 1, max = 64))]
    pub time_zone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepotResponse {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opens: String,
    pub closes: String,
    pub time_zone: String,
}

impl From<DepotRow> for DepotResponse {
    fn from(d: DepotRow) -> Self {
        Self {
            id: d.id,
            name: d.name,
            address: d.address,
            lat: d.lat,
            lon: d.lon,
            opens: clock(d.opens_minute),
            closes: clock(d.closes_minute),
            time_zone: d.time_zone,
        }
    }
}

/// A minute of the day as `HH:MM`.
pub(super) fn clock(minute: i32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateCourierRequest {
    /// The courier's sign-in account (role `courier`).
    pub user_id: UserId,
    #[validate(length(min = 3, max = 50))]
    pub phone: Option<String>,
    /// How many size units fit in the vehicle.
    #[validate(range(min = 1, max = 10000))]
    pub capacity: i32,
    /// E.g. `cash` for refund visits.
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "valid_skills"))]
    pub skills: Vec<String>,
    pub home_depot_id: i64,
}

fn valid_skills(skills: &[String]) -> Result<(), ValidationError> {
    let ok = skills.iter().all(|s| {
        !s.is_empty()
            && s.len() <= 32
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("skills").with_message(messages::SKILL_FORMAT.into()))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourierResponse {
    pub id: CourierId,
    pub user_id: UserId,
    pub name: String,
    pub phone: Option<String>,
    pub capacity: i32,
    pub skills: Vec<String>,
    pub home_depot_id: i64,
}

impl From<CourierRow> for CourierResponse {
    fn from(c: CourierRow) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id,
            name: c.name,
            phone: c.phone,
            capacity: c.capacity,
            skills: c.skills,
            home_depot_id: c.home_depot_id,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ShiftBreak {
    #[validate(range(min = 1, max = 240))]
    pub minutes: i32,
    /// The break starts no earlier than this...
    pub earliest: DateTime<Utc>,
    /// ...and ends no later than this.
    pub latest: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PutShiftRequest {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub start_depot_id: i64,
    pub end_depot_id: i64,
    #[serde(rename = "break")]
    #[validate(nested)]
    pub break_: Option<ShiftBreak>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftResponse {
    pub courier_id: CourierId,
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub start_depot_id: i64,
    pub end_depot_id: i64,
    pub break_minutes: Option<i32>,
    pub break_earliest: Option<DateTime<Utc>>,
    pub break_latest: Option<DateTime<Utc>>,
}

impl From<ShiftRow> for ShiftResponse {
    fn from(s: ShiftRow) -> Self {
        Self {
            courier_id: s.courier_id,
            date: s.date,
            start: s.start_at.and_utc(),
            end: s.end_at.and_utc(),
            start_depot_id: s.start_depot_id,
            end_depot_id: s.end_depot_id,
            break_minutes: s.break_minutes,
            break_earliest: s.break_start_at.map(|t| t.and_utc()),
            break_latest: s.break_end_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Adds a depot.
#[utoipa::path(tag = "fleet", request_body = CreateDepotRequest, security(("bearer" = [])), responses(
    (status = 201, body = DepotResponse), (status = 422, body = crate::error::Problem)))]
#[post("/depots")]
pub async fn create_depot(
    state: State,
    _who: Dispatch,
    body: ValidJson<CreateDepotRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.0;
    let depot = state
        .write(move |conn| {
            fleet::create_depot(
                conn,
                &DepotInput {
                    name: &r.name,
                    address: &r.address,
                    lat: r.lat,
                    lon: r.lon,
                    opens: r.opens,
                    closes: r.closes,
                    time_zone: &r.time_zone,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(DepotResponse::from(depot)))
}

/// Lists the depots.
#[utoipa::path(tag = "fleet", security(("bearer" = [])), responses((status = 200, body = Page<DepotResponse>)))]
#[get("/depots")]
pub async fn list_depots(state: State, _who: Dispatch) -> ApiResult<HttpResponse> {
    let depots = state.db(fleet::list_depots).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: depots.into_iter().map(DepotResponse::from).collect(),
        next_cursor: None,
    }))
}

/// Registers a courier for a courier account.
#[utoipa::path(tag = "fleet", request_body = CreateCourierRequest, security(("bearer" = [])), responses(
    (status = 201, body = CourierResponse), (status = 422, body = crate::error::Problem)))]
#[post("/couriers")]
pub async fn create_courier(
    state: State,
    _who: Dispatch,
    body: ValidJson<CreateCourierRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.0;
    let courier = state
        .write(move |conn| {
            accounts::create_courier(
                conn,
                &CourierInput {
                    user_id: r.user_id,
                    phone: r.phone.as_deref(),
                    capacity: r.capacity,
                    skills: &r.skills,
                    home_depot_id: r.home_depot_id,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(CourierResponse::from(courier)))
}

/// Lists couriers, oldest first.
#[utoipa::path(tag = "fleet", params(PageQuery), security(("bearer" = [])), responses((status = 200, body = Page<CourierResponse>)))]
#[get("/couriers")]
pub async fn list_couriers(
    state: State,
    _who: Dispatch,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page_limit(query.limit)?;
    let after = decode_cursor(query.cursor.as_deref())?;
    let rows = state
        .db(move |conn| fleet::list_couriers(conn, after, limit + 1))
        .await?;
    Ok(HttpResponse::Ok().json(paginate(rows, limit, |c| c.id.0, CourierResponse::from)))
}

/// Sets a courier's shift for a date, replacing the one it had.
#[utoipa::path(tag = "fleet", params(("id" = i64, Path), ("date" = String, Path, description = "YYYY-MM-DD")),
    request_body = PutShiftRequest, security(("bearer" = [])), responses(
    (status = 200, body = ShiftResponse), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
#[put("/couriers/{id}/shifts/{date}")]
pub async fn put_shift(
    state: State,
    _who: Dispatch,
    path: web::Path<(i64, NaiveDate)>,
    body: ValidJson<PutShiftRequest>,
) -> ApiResult<HttpResponse> {
    let (courier_id, date) = path.into_inner();
    let r = body.0;
    let shift = ShiftInput {
        start: r.start,
        end: r.end,
        start_depot_id: r.start_depot_id,
        end_depot_id: r.end_depot_id,
        break_: r.break_.map(|b| BreakInput {
            minutes: b.minutes,
            earliest: b.earliest,
            latest: b.latest,
        }),
    };
    let shift = state
        .write(move |conn| fleet::put_shift(conn, CourierId(courier_id), date, &shift))
        .await?;
    Ok(HttpResponse::Ok().json(ShiftResponse::from(shift)))
}
