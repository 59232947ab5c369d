//! SQLite's write-ahead log, kept small: after a burst of writes it is folded into the
//! database and truncated once the process has written nothing for a while.

use std::time::Duration;

use crate::db::{checkpoint_if_idle, Pool};

const LOOK_EVERY: Duration = Duration::from_secs(15);
/// Quiet this long counts as idle: long enough to stay out of a burst's way.
const IDLE: Duration = Duration::from_secs(10);

pub fn start(pool: Pool) {
    if !pool.is_sqlite() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let pool = pool.clone();
            match tokio::task::spawn_blocking(move || checkpoint_if_idle(&pool, IDLE)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint task failed"),
            }
        }
    });
}
