//! Group commit of this process's SQLite writes.
//!
//! SQLite lets one writer in at a time, and with `synchronous=FULL` each commit waits for
//! the disk (about a millisecond here): 32 couriers reporting at once queued behind 32
//! flushes. So writers take turns in arrival order (a fair lock), and each runs its work
//! inside a savepoint of one shared `BEGIN IMMEDIATE` transaction; the writer that finds
//! nobody waiting behind it commits for all, and only then does any of them return. A
//! writer whose work fails rolls back its own savepoint and no one else's; a failed commit
//! fails every writer of the batch, so nothing is acknowledged that is not on disk.
//! A batch is committed at the latest after [`MAX_MEMBERS`] writers or [`MAX_AGE`], so one
//! writer never waits long for the others.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, TransactionManager, TransactionManagerStatus};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;

use super::{DbConnection, PooledConn};

/// The most writers one commit acknowledges.
const MAX_MEMBERS: usize = 64;
/// The longest a batch stays open for more writers.
const MAX_AGE: Duration = Duration::from_millis(10);

/// The writers' queue and the transaction they share.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    /// Whose turn it is to write, handed on in arrival order; holds the open batch while
    /// the next writer takes its turn.
    turn: parking_lot::FairMutex<Option<Batch>>,
    /// Writers waiting for their turn.
    waiting: AtomicUsize,
    /// When the last batch was committed, if any since the last WAL checkpoint.
    pub(super) last_write: parking_lot::Mutex<Option<Instant>>,
}

/// An open `BEGIN IMMEDIATE` transaction and the writers whose work it holds.
struct Batch {
    conn: PooledConn,
    members: usize,
    opened: Instant,
    committed: Arc<Outcome>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

/// How a batch ended, for the writers waiting on it.
#[derive(Debug, Default)]
struct Outcome {
    result: parking_lot::Mutex<Option<Result<(), String>>>,
    ready: parking_lot::Condvar,
}

impl Outcome {
    fn set(&self, result: Result<(), String>) {
        *self.result.lock() = Some(result);
        self.ready.notify_all();
    }

    fn wait(&self) -> Result<(), DieselError> {
        let mut result = self.result.lock();
        loop {
            if let Some(done) = result.as_ref() {
                return done.clone().map_err(commit_failed);
            }
            self.ready.wait(&mut result);
        }
    }
}

fn commit_failed(message: String) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message))
}

impl Batch {
    fn commit(mut self) -> Result<(), DieselError> {
        let done =
            <DbConnection as Connection>::TransactionManager::commit_transaction(&mut *self.conn);
        self.committed
            .set(done.as_ref().map(drop).map_err(|e| e.to_string()));
        done
    }

    fn roll_back(mut self, why: &str) {
        let _ =
            <DbConnection as Connection>::TransactionManager::rollback_transaction(&mut *self.conn);
        self.committed.set(Err(why.to_owned()));
    }

    /// Whether the transaction can no longer be committed (diesel's own
    /// `is_broken_transaction_manager` also counts any open transaction as broken).
    fn broken(&mut self) -> bool {
        matches!(
            <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(
                &mut *self.conn,
            ),
            TransactionManagerStatus::InError
        )
    }
}

impl GroupCommit {
    /// Runs `f` as one writer of a batch (see the module): `Ok` only once its work is
    /// committed.
    pub(super) fn write<T, E, F>(
        &self,
        connect: impl FnOnce() -> Result<PooledConn, diesel::r2d2::PoolError>,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DieselError> + From<diesel::r2d2::PoolError>,
    {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut turn = self.turn.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let mut batch = match turn.take() {
            Some(open) => open,
            None => {
                let mut conn = connect()?;
                let db: &mut DbConnection = &mut conn;
                if let DbConnection::Sqlite(c) = db {
                    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
                }
                Batch {
                    conn,
                    members: 0,
                    opened: Instant::now(),
                    committed: Arc::default(),
                }
            }
        };
        // A savepoint: if `f` fails, only its own work is undone.
        let ran = catch_unwind(AssertUnwindSafe(|| {
            let conn: &mut DbConnection = &mut batch.conn;
            conn.transaction(f)
        }));
        let ran = match ran {
            Ok(ran) => ran,
            Err(panic) => {
                batch.roll_back("a writer of the same batch failed");
                resume_unwind(panic)
            }
        };
        if batch.broken() {
            batch.roll_back("a writer of the same batch failed");
            return Err(ran.err().unwrap_or_else(|| {
                commit_failed("the write transaction broke".to_owned()).into()
            }));
        }
        let member = ran.is_ok();
        if member {
            batch.members += 1;
        }
        let more_coming = self.waiting.load(Ordering::SeqCst) > 0
            && batch.members < MAX_MEMBERS
            && batch.opened.elapsed() < MAX_AGE;
        if more_coming {
            // The next writer carries the batch on; this one waits for its commit.
            let committed = batch.committed.clone();
            *turn = Some(batch);
            drop(turn);
            let value = ran?;
            committed.wait()?;
            return Ok(value);
        }
        if batch.members == 0 {
            batch.roll_back("nothing to commit");
            return ran;
        }
        let committed = batch.commit();
        *self.last_write.lock() = Some(Instant::now());
        drop(turn);
        let value = ran?;
        committed?;
        Ok(value)
    }

    /// Commits the open batch, if any, and holds the turn while `f` runs (for work that
    /// must not run inside a transaction, such as a WAL checkpoint).
    pub(super) fn between_batches<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut turn = self.turn.lock();
        if let Some(open) = turn.take() {
            if let Err(e) = open.commit() {
                tracing::warn!(error = %e, "committing a batch of writes failed");
            }
        }
        let out = f();
        drop(turn);
        out
    }
}
