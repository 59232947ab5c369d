//! Couriers' positions: batches from the phone (an offline phone sends what it collected),
//! and the dispatchers' live view of where each courier is and which visit he is on.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::DispatchSettings;
use crate::db::positions::{self, NewPosition};
use crate::db::types::{CourierId, JobId, UserId};
use crate::db::{fleet, jobs, now, DbConnection};
use crate::error::{ApiError, ApiResult};

/// One reported position, validated.
#[derive(Debug, Clone, Copy)]
pub struct Fix {
    pub at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

/// Stores a batch of positions, keeps the newest on the courier and re-times the route
/// he is driving when he is on his way to a visit; returns how many were stored.
pub fn record(
    conn: &mut DbConnection,
    dispatch: &DispatchSettings,
    user_id: UserId,
    fixes: &[Fix],
) -> ApiResult<usize> {
    // A courier account without a courier record has nowhere to be on the map.
    let courier_id = fleet::courier_for_user(conn, user_id)?.ok_or(ApiError::Forbidden)?;
    let received_at = now();
    let rows: Vec<NewPosition> = fixes
        .iter()
        .map(|p| NewPosition {
            courier_id,
            at: p.at,
            lat: p.lat,
            lon: p.lon,
            accuracy_m: p.accuracy_m,
            received_at,
        })
        .collect();
    let inserted = positions::insert(conn, &rows)?;
    if let Some(latest) = fixes.iter().max_by_key(|p| p.at) {
        fleet::update_last_position(conn, courier_id, latest.at, latest.lat, latest.lon)?;
        super::eta::after_positions(conn, dispatch, courier_id, received_at)?;
    }
    Ok(inserted)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingOn {
    pub job_id: JobId,
    pub kind: String,
    /// `en_route` or `arrived`.
    pub status: String,
    pub address: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourierPosition {
    pub courier_id: CourierId,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub last_seen_at: DateTime<Utc>,
    /// The visit he is on, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<WorkingOn>,
}

/// Where each courier was last seen, and the visit he is on (on the way or at the door): a
/// page of couriers by id, after `after`, with one more fetched than `limit` to tell that
/// there is more.
pub fn live(
    conn: &mut DbConnection,
    after: Option<CourierId>,
    limit: i64,
) -> ApiResult<Vec<CourierPosition>> {
    let seen = fleet::live_positions(conn, after, limit + 1)?;
    let ids: Vec<CourierId> = seen.iter().map(|p| p.courier_id).collect();
    let mut current: HashMap<CourierId, WorkingOn> = HashMap::new();
    for j in jobs::being_visited(conn, &ids)? {
        // Latest change first: the first job seen per courier is the one he is on.
        current.entry(j.courier_id).or_insert(WorkingOn {
            job_id: j.job_id,
            kind: j.kind.as_str().to_owned(),
            status: j.status.as_str().to_owned(),
            address: j.address,
        });
    }
    Ok(seen
        .into_iter()
        .map(|p| CourierPosition {
            job: current.remove(&p.courier_id),
            courier_id: p.courier_id,
            name: p.name,
            lat: p.lat,
            lon: p.lon,
            last_seen_at: p.seen_at.and_utc(),
        })
        .collect())
}
