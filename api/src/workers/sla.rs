//! The SLA sweep: every `SLA_SWEEP_SECONDS` any replica escalates the claims past their
//! stage deadline (`app::claims::escalate_overdue`); each claim is escalated once per stage
//! however many replicas sweep at once.

use std::time::Duration;

use std::sync::Arc;

use super::write;
use crate::app::claims;
use crate::db::Pool;
use crate::metrics::Metrics;

pub fn start(pool: Pool, every: Duration, metrics: Arc<Metrics>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let swept = write(&pool, |conn| {
                claims::escalate_overdue(conn)
                    .map_err(|e| super::WorkerError::Internal(anyhow::anyhow!("{e}")))
            })
            .await;
            match swept {
                Ok(stages) if stages.is_empty() => {}
                Ok(stages) => {
                    metrics.escalated(&stages);
                    tracing::info!(escalated = stages.len(), "overdue claims escalated");
                }
                Err(e) => tracing::warn!(error = %e, "the SLA sweep failed"),
            }
        }
    });
}
