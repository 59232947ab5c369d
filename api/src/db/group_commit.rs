//! Group commit of this process's SQLite writes.
//!
//! SQLite lets one writer in at a time, and with `synchronous=FULL` each commit waits for
//! the disk (about a millisecond here): 32 couriers reporting at once queued behind 32
//! flushes. So writers take turns in arrival order (a fair lock), and each runs its work
//! inside a savepoint of one shared `BEGIN IMMEDIATE` transaction; the writer that finds
//! nobody waiting behind it commits for all, and only then does any of them return. A
//! writer whose work fails (or panics) rolls back its own savepoint and no one else's; a failed commit
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
#[derive(Debug)]
pub(super) struct GroupCommit {
    /// Whose turn it is to write, handed on in arrival order; holds the open batch while
    /// the next writer takes its turn.
    turn: parking_lot::FairMutex<Option<Batch>>,
    /// Writers waiting for their turn.
    waiting: AtomicUsize,
    /// When the last batch was committed, if any since the last WAL checkpoint.
    pub(super) last_write: parking_lot::Mutex<Option<Instant>>,
    /// The longest a batch stays open for more writers ([`MAX_AGE`]).
    max_age: Duration,
}

impl Default for GroupCommit {
    fn default() -> Self {
        Self {
            turn: Default::default(),
            waiting: AtomicUsize::new(0),
            last_write: Default::default(),
            max_age: MAX_AGE,
        }
    }
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
                // Undo the panicking writer's savepoint alone, hand the batch on as any
                // failed writer does, then let the panic go on.
                let undone = <DbConnection as Connection>::TransactionManager::rollback_transaction(
                    &mut *batch.conn,
                );
                if undone.is_err() || batch.broken() {
                    batch.roll_back("a writer of the same batch failed");
                } else {
                    self.finish(turn, batch);
                }
                resume_unwind(panic)
            }
        };
        if batch.broken() {
            batch.roll_back("a writer of the same batch failed");
            return Err(ran.err().unwrap_or_else(|| {
                commit_failed("the write transaction broke".to_owned()).into()
            }));
        }
        if ran.is_ok() {
            batch.members += 1;
        }
        let committed = batch.committed.clone();
        let ended = self.finish(turn, batch);
        let value = ran?;
        match ended {
            // The next writer carries the batch on; this one waits for its commit.
            None => committed.wait()?,
            Some(done) => done?,
        }
        Ok(value)
    }

    /// Hands the batch on to the next writer when one waits (and the batch may grow), or
    /// ends it: commits it when it holds work, else rolls it back. `None` when handed on.
    fn finish(
        &self,
        mut turn: parking_lot::FairMutexGuard<'_, Option<Batch>>,
        batch: Batch,
    ) -> Option<Result<(), DieselError>> {
        let more_coming = self.waiting.load(Ordering::SeqCst) > 0
            && batch.members < MAX_MEMBERS
            && batch.opened.elapsed() < self.max_age;
        if more_coming {
            *turn = Some(batch);
            return None;
        }
        if batch.members == 0 {
            batch.roll_back("nothing to commit");
            return Some(Ok(()));
        }
        let committed = batch.commit();
        *self.last_write.lock() = Some(Instant::now());
        Some(committed)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::sync::mpsc;
    use std::thread;

    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;

    use crate::db::{self, DatabaseUrl};
    use crate::error::ApiError;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn insert(conn: &mut crate::db::DbConnection, name: &str) -> Result<(), ApiError> {
        conn.batch_execute(&format!("INSERT INTO notes (name) VALUES ('{name}')"))?;
        Ok(())
    }

    /// A writer that panics inside a shared batch undoes only its own work: the writer
    /// before it and the one after it are committed.
    #[test]
    fn a_panicking_writer_leaves_its_batch_to_the_others() {
        let dir = std::env::temp_dir().join(format!("group-commit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = DatabaseUrl::Sqlite(dir.join("test.db"));
        let pool = db::connect_pool(&url, 4).unwrap();
        pool.get()
            .unwrap()
            .batch_execute("CREATE TABLE notes (name TEXT NOT NULL)")
            .unwrap();

        // Batches stay open as long as anyone waits, so the three writers share one.
        let group = std::sync::Arc::new(super::GroupCommit {
            max_age: std::time::Duration::from_secs(30),
            ..Default::default()
        });
        let (started, first_running) = mpsc::channel();
        let first = thread::spawn({
            let (pool, group) = (pool.clone(), group.clone());
            move || {
                group.write(
                    || pool.get(),
                    |conn| {
                        insert(conn, "first")?;
                        started.send(()).unwrap();
                        // Long enough for the two others to queue behind it.
                        thread::sleep(std::time::Duration::from_millis(300));
                        Ok::<_, ApiError>(())
                    },
                )
            }
        });
        first_running.recv().unwrap();
        let panicking = thread::spawn({
            let (pool, group) = (pool.clone(), group.clone());
            move || {
                group.write(
                    || pool.get(),
                    |conn| -> Result<(), ApiError> {
                        insert(conn, "panicking")?;
                        panic!("a bug in a writer");
                    },
                )
            }
        });
        thread::sleep(std::time::Duration::from_millis(50));
        let last = thread::spawn({
            let (pool, group) = (pool.clone(), group.clone());
            move || group.write(|| pool.get(), |conn| insert(conn, "last"))
        });
        assert!(first.join().unwrap().is_ok());
        assert!(panicking.join().is_err(), "the panic goes on to its caller");
        assert!(last.join().unwrap().is_ok());

        let names = |name: &str| {
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM notes WHERE name = '{name}'"
            ))
            .get_result::<Count>(&mut *pool.get().unwrap())
            .unwrap()
            .n
        };
        assert_eq!(names("first"), 1);
        assert_eq!(names("last"), 1);
        assert_eq!(names("panicking"), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
