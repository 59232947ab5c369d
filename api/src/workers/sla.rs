//! The SLA sweep: every `SLA_SWEEP_SECONDS` any replica escalates the claims past their
//! stage deadline (`app::claims::escalate_overdue`); each claim is escalated once per stage
//! however many replicas sweep at once.

use std::time::Duration;

use super::write;
use crate::app::claims;
use crate::db::Pool;

pub fn start(pool: Pool, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let swept = write(&pool, |conn| {
                claims::escalate_overdue(conn)
                    .map_err(|e| super::WorkerError::Internal(anyhow::anyhow!("{e}")))
            })
            .await;
            match swept {
                Ok(0) => {}
                Ok(n) => tracing::info!(escalated = n, "overdue claims escalated"),
                Err(e) => tracing::warn!(error = %e, "the SLA sweep failed"),
            }
        }
    });
}
