//! The partners registry: workshops that repair units under contract and suppliers that
//! hand out replacements, each a place with its opening hours that a courier may be sent to.
//! Managers (and heads and admins) keep it; dispatchers read it, since the routes will.

use chrono::NaiveTime;
use domain::partner::{normalise_categories, serves_category, PartnerKind};
use domain::FieldError;

use super::fleet::opening_hours;
use super::registry::normalise_email;
use crate::db::partners::{self, PartnerRow, PartnerValues};
use crate::db::registry;
use crate::db::{now, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// A partner as a manager describes it, shape-checked by the route.
#[derive(Debug, Clone)]
pub struct PartnerInput {
    pub kind: PartnerKind,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub time_zone: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Product categories it takes; empty for every category.
    pub categories: Vec<String>,
}

/// What a manager changes of a partner; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct PartnerChanges {
    pub name: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub opens: Option<NaiveTime>,
    pub closes: Option<NaiveTime>,
    pub time_zone: Option<String>,
    /// `Some(None)` clears it.
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub categories: Option<Vec<String>>,
    /// `false` retires the partner: new decisions cannot name it, old ones keep it.
    pub active: Option<bool>,
}

pub fn create(conn: &mut DbConnection, input: PartnerInput) -> ApiResult<PartnerRow> {
    let values = checked(conn, input, true)?;
    Ok(partners::insert(conn, values, now())?)
}

pub fn update(conn: &mut DbConnection, id: i64, changes: PartnerChanges) -> ApiResult<PartnerRow> {
    let row = partners::find_for_update(conn, id)?.ok_or(ApiError::NotFound)?;
    // A location is one point: half of one would move the partner somewhere nobody gave.
    if changes.lat.is_some() != changes.lon.is_some() {
        let missing = if changes.lat.is_none() { "lat" } else { "lon" };
        return Err(ApiError::field(missing, messages::LAT_LON_TOGETHER));
    }
    let clock = |minute: i32| {
        let minute = u32::try_from(minute).unwrap_or(0);
        NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or_default()
    };
    let active = changes.active.unwrap_or(row.active);
    let merged = PartnerInput {
        kind: row.kind,
        name: changes.name.unwrap_or(row.name),
        address: changes.address.unwrap_or(row.address),
        lat: changes.lat.unwrap_or(row.lat),
        lon: changes.lon.unwrap_or(row.lon),
        opens: changes.opens.unwrap_or_else(|| clock(row.opens_minute)),
        closes: changes.closes.unwrap_or_else(|| clock(row.closes_minute)),
        time_zone: changes.time_zone.unwrap_or(row.time_zone),
        phone: changes.phone.unwrap_or(row.phone),
        email: changes.email.unwrap_or(row.email),
        categories: changes.categories.unwrap_or(row.categories),
    };
    let values = checked(conn, merged, active)?;
    Ok(partners::update(conn, id, values)?)
}

pub fn get(conn: &mut DbConnection, id: i64) -> ApiResult<PartnerRow> {
    partners::find(conn, id)?.ok_or(ApiError::NotFound)
}

/// What a list of partners is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    pub kind: Option<PartnerKind>,
    /// Only those that take units of this product category.
    pub category: Option<String>,
    pub include_retired: bool,
}

/// Up to `limit` partners after `after_id` that pass the filter, in id order.
pub fn list(
    conn: &mut DbConnection,
    filter: &PartnerFilter,
    after_id: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<PartnerRow>> {
    let mut out = Vec::new();
    let mut after = after_id;
    // The category is checked here, against the JSON list, so pages are refilled until full.
    loop {
        let rows = partners::list(conn, filter.kind, filter.include_retired, after, limit)?;
        let exhausted = i64::try_from(rows.len()).unwrap_or(i64::MAX) < limit;
        after = rows.last().map(|r| r.id).or(after);
        out.extend(rows.into_iter().filter(|r| match &filter.category {
            Some(c) => serves_category(&r.categories, c),
            None => true,
        }));
        if exhausted || i64::try_from(out.len()).unwrap_or(i64::MAX) >= limit {
            out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            return Ok(out);
        }
    }
}

/// The row to write: texts trimmed, e-mail normalised, hours and categories checked (every
/// category one the catalogue has, so a typo cannot leave a workshop that takes nothing).
/// Every problem is reported at once, so the manager fixes the form in one go.
fn checked(conn: &mut DbConnection, p: PartnerInput, active: bool) -> ApiResult<PartnerValues> {
    let mut errors: Vec<FieldError> = [("name", &p.name), ("address", &p.address)]
        .into_iter()
        .filter(|(_, value)| value.trim().is_empty())
        .map(|(field, _)| FieldError::new(field, messages::BLANK))
        .collect();
    let hours = match opening_hours(p.opens, p.closes, &p.time_zone) {
        Ok(hours) => Some(hours),
        Err(ApiError::Validation(wrong)) => {
            errors.extend(wrong);
            None
        }
        Err(other) => return Err(other),
    };
    let known = registry::catalogue_categories(conn)?;
    errors.extend(
        p.categories
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.trim().is_empty() && !known.iter().any(|k| k == c.trim()))
            .map(|(i, _)| FieldError::new(format!("categories[{i}]"), messages::UNKNOWN_CATEGORY)),
    );
    let Some(hours) = hours.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let text = |t: Option<String>| t.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    Ok(PartnerValues {
        kind: p.kind,
        name: p.name.trim().to_owned(),
        address: p.address.trim().to_owned(),
        lat: p.lat,
        lon: p.lon,
        opens_minute: hours.opens_minute,
        closes_minute: hours.closes_minute,
        time_zone: hours.time_zone,
        phone: text(p.phone),
        email: text(p.email).map(|e| normalise_email(&e)),
        categories: normalise_categories(&p.categories),
        active,
        updated_at: now(),
    })
}
