//! The couriers' side of a day: the route a courier's phone shows ([`route`]), his
//! reports about visits ([`report`]), the photos that prove them ([`proof_target`]) and his
//! positions ([`positions`]). A report moves the job and the courier's stop; the claim
//! follows through `app::claims`, which alone writes claim history.

pub mod eta;
pub mod positions;
pub mod report;
pub mod route;

use domain::dispatch::Visit;
use domain::report::visit_of;

use super::accounts::courier_of;
use super::attachments::UploadTarget;
use crate::db::attachments::PROOF;
use crate::db::jobs::{self, JobRow};
use crate::db::plans::{self, StopRef};
use crate::db::types::{CourierId, JobId, UserId};
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};

/// A job as one courier may report on it.
#[derive(Debug, Clone)]
pub struct CourierJob {
    pub job: JobRow,
    /// Where his visit stands; `None` when the job is his but not in a state to visit
    /// (cancelled, say).
    pub visit: Option<Visit>,
    /// His stop for it in a published plan, if there is one.
    pub stop: Option<StopRef>,
    /// The job is given to him now (not only a visit of his that already ended).
    pub current: bool,
}

/// The job if it is the courier's: given to him now, or a stop of his published route
/// whose visit already ended (so late reports after a failed visit are still his).
/// Anything else is a 404, so others' jobs are not revealed.
pub fn courier_job(
    conn: &mut DbConnection,
    courier_id: CourierId,
    job_id: JobId,
) -> ApiResult<CourierJob> {
    let job = jobs::find(conn, job_id)?.ok_or(ApiError::NotFound)?;
    if job.courier_id == Some(courier_id) {
        let stop = match job.plan_id {
            Some(plan_id) => plans::stop_in_plan(conn, plan_id, courier_id, job_id)?,
            None => None,
        };
        return Ok(CourierJob {
            visit: visit_of(job.status),
            job,
            stop,
            current: true,
        });
    }
    match plans::ended_stop(conn, courier_id, job_id)? {
        Some((stop, outcome)) => Ok(CourierJob {
            visit: outcome.parse::<Visit>().ok().filter(|v| v.is_over()),
            job,
            stop: Some(stop),
            current: false,
        }),
        None => Err(ApiError::NotFound),
    }
}

/// Where a courier's proof photo goes: on the job, and on its claim so that those who see
/// the claim see the proof. Only for his own jobs.
pub fn proof_target(
    conn: &mut DbConnection,
    user_id: UserId,
    job_id: JobId,
) -> ApiResult<UploadTarget> {
    let courier_id = courier_of(conn, user_id)?;
    let claim_id = courier_job(conn, courier_id, job_id)?.job.claim_id;
    Ok(UploadTarget {
        claim_id: Some(claim_id),
        job_id: Some(job_id),
        kind: PROOF,
        uploaded_by: user_id,
    })
}
