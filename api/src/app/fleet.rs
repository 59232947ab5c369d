//! The fleet a dispatcher plans with: depots with their opening hours and time zone, the
//! couriers, and each courier's shift of a day.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use domain::FieldError;

use crate::db::fleet::{self, CourierRow, DepotRow, NewDepot, NewShift, ShiftRow};
use crate::db::types::CourierId;
use crate::db::{now, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// A depot, validated except for what the checks here add.
#[derive(Debug, Clone)]
pub struct DepotInput<'a> {
    pub name: &'a str,
    pub address: &'a str,
    pub lat: f64,
    pub lon: f64,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub time_zone: &'a str,
}

pub fn create_depot(conn: &mut DbConnection, d: &DepotInput) -> ApiResult<DepotRow> {
    let hours = opening_hours(d.opens, d.closes, d.time_zone)?;
    Ok(fleet::insert_depot(
        conn,
        &NewDepot {
            name: d.name.trim(),
            address: d.address.trim(),
            lat: d.lat,
            lon: d.lon,
            opens_minute: hours.opens_minute,
            closes_minute: hours.closes_minute,
            time_zone: &hours.time_zone,
            created_at: now(),
        },
    )?)
}

/// A place's local opening hours as stored: minutes of the day in its own time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub time_zone: String,
}

/// Checks a depot's or a partner's hours: closing after opening, a zone the planner knows
/// (it turns the local hours into UTC with it).
pub fn opening_hours(
    opens: NaiveTime,
    closes: NaiveTime,
    time_zone: &str,
) -> ApiResult<OpeningHours> {
    if closes <= opens {
        return Err(ApiError::field("closes", messages::CLOSES_BEFORE_OPENS));
    }
    let time_zone = time_zone.trim();
    if time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::field("time_zone", messages::TIME_ZONE_UNKNOWN));
    }
    let minute = |t: NaiveTime| i32::try_from(t.hour() * 60 + t.minute()).unwrap_or(0);
    Ok(OpeningHours {
        opens_minute: minute(opens),
        closes_minute: minute(closes),
        time_zone: time_zone.to_owned(),
    })
}

pub fn list_depots(conn: &mut DbConnection) -> ApiResult<Vec<DepotRow>> {
    Ok(fleet::list_depots(conn)?)
}

pub fn list_couriers(
    conn: &mut DbConnection,
    after_id: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<CourierRow>> {
    Ok(fleet::list_couriers(conn, after_id, limit)?)
}

/// A courier's shift of a day; the break is the least time off and the span it may fall in.
#[derive(Debug, Clone)]
pub struct ShiftInput {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub start_depot_id: i64,
    pub end_depot_id: i64,
    pub break_: Option<BreakInput>,
}

#[derive(Debug, Clone, Copy)]
pub struct BreakInput {
    pub minutes: i32,
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
}

/// Sets a courier's shift for a date, replacing the one it had.
pub fn put_shift(
    conn: &mut DbConnection,
    courier_id: CourierId,
    date: NaiveDate,
    s: &ShiftInput,
) -> ApiResult<ShiftRow> {
    // The date is the start depot's local one (UTC when the depot is unknown: that is
    // reported below).
    let start_depot = fleet::find_depot(conn, s.start_depot_id)?;
    let zone = start_depot
        .as_ref()
        .and_then(|d| d.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    check_shift(date, s, zone)?;
    fleet::find_courier(conn, courier_id)?.ok_or(ApiError::NotFound)?;
    let unknown = |field| ApiError::field(field, messages::NOT_FOUND);
    start_depot.ok_or_else(|| unknown("start_depot_id"))?;
    fleet::find_depot(conn, s.end_depot_id)?.ok_or_else(|| unknown("end_depot_id"))?;
    Ok(fleet::put_shift(
        conn,
        &NewShift {
            courier_id,
            date,
            start_at: s.start.naive_utc(),
            end_at: s.end.naive_utc(),
            start_depot_id: s.start_depot_id,
            end_depot_id: s.end_depot_id,
            break_minutes: s.break_.map(|b| b.minutes),
            break_start_at: s.break_.map(|b| b.earliest.naive_utc()),
            break_end_at: s.break_.map(|b| b.latest.naive_utc()),
        },
    )?)
}

/// A shift covers its date in the depot's time zone `zone` (it may start the evening before
/// or end after midnight, as night shifts do, but lasts at most a day) and its break fits
/// inside it.
fn check_shift(date: NaiveDate, s: &ShiftInput, zone: chrono_tz::Tz) -> ApiResult<()> {
    let mut errors = Vec::new();
    if s.end <= s.start {
        errors.push(FieldError::new("end", messages::WINDOW_ORDER));
    } else if s.end - s.start > chrono::Duration::hours(24) {
        errors.push(FieldError::new("end", messages::SHIFT_TOO_LONG));
    }
    let local_date = |at: DateTime<Utc>| at.with_timezone(&zone).date_naive();
    let touches_date = local_date(s.start) <= date && local_date(s.end) >= date;
    if !touches_date {
        errors.push(FieldError::new("start", messages::SHIFT_OFF_DATE));
    }
    if let Some(b) = &s.break_ {
        let room = b.latest - b.earliest;
        if b.earliest < s.start
            || b.latest > s.end
            || room < chrono::Duration::minutes(i64::from(b.minutes))
        {
            errors.push(FieldError::new("break", messages::BREAK_OUTSIDE_SHIFT));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}
