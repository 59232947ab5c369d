//! Persistence: one schema and one set of queries for SQLite and PostgreSQL.
//!
//! Every query is written once against [`DbConnection`], diesel's multi-backend connection.
//! Backend-specific code is limited to opening connections (SQLite pragmas) and the write
//! transaction helper (`BEGIN IMMEDIATE` on SQLite so writers queue instead of failing late).
//! All SQL lives in this module tree, one file per aggregate; column types shared by the
//! aggregates (enums, JSON documents, ids) are in [`types`].

pub mod attachments;
pub mod claims;
pub mod deliveries;
pub mod fleet;
mod group_commit;
pub mod idempotency;
pub mod jobs;
pub mod outbox;
pub mod page_sessions;
pub mod partners;
pub mod plans;
pub mod positions;
pub mod registry;
pub mod reports;
pub mod schema;
pub mod sweeps;
pub mod tokens;
pub mod types;
pub mod users;
pub mod visits;
pub mod webhooks;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// Ids per `IN (...)` list in the reads that take a list of any length: well under both
/// backends' bound-parameter limits.
pub const IDS_PER_QUERY: usize = 500;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

pub type DbBackend = <DbConnection as Connection>::Backend;
/// The connection pool, with this process's SQLite writer queue beside it (see [`write`]).
/// Dereferences to the r2d2 pool, so `pool.get()` hands out a connection as usual.
#[derive(Clone)]
pub struct Pool {
    connections: r2d2::Pool<Manager>,
    writer: std::sync::Arc<WriterQueue>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;
    fn deref(&self) -> &Self::Target {
        &self.connections
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("sqlite", &self.writer.sqlite)
            .finish_non_exhaustive()
    }
}

impl Pool {
    pub fn is_sqlite(&self) -> bool {
        self.writer.sqlite
    }
}

/// SQLite lets one writer in at a time and its busy handler polls with growing sleeps, so
/// writers that wait there are served late and out of order; this process's writers queue
/// here instead, in arrival order, and share commits ([`group_commit`]). PostgreSQL needs
/// none of it: its row locks queue, and its commits are grouped by the server.
#[derive(Debug)]
struct WriterQueue {
    sqlite: bool,
    group: group_commit::GroupCommit,
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres:// (got `{url}`)")
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// A PostgreSQL URL is shown without its password.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(url) => {
                let shown = match url::Url::parse(url) {
                    Ok(mut parsed) if parsed.password().is_some() => {
                        let _ = parsed.set_password(Some("redacted"));
                        parsed.to_string()
                    }
                    Ok(parsed) => parsed.to_string(),
                    Err(_) => "(unparsable URL)".to_owned(),
                };
                f.debug_tuple("Postgres").field(&shown).finish()
            }
        }
    }
}

/// How hard SQLite works to keep an acknowledged write (`SQLITE_SYNCHRONOUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Synchronous {
    /// Each commit is on disk before it is acknowledged: it survives a power cut.
    #[default]
    Full,
    /// Commits survive a crash of the process but a power cut may lose the last ones;
    /// faster writes.
    Normal,
}

/// Opens connections of the backend the URL names; the derive's own `establish` would guess.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    synchronous: Synchronous,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // The busy timeout comes first so that even switching to WAL waits for other
                // connections instead of failing; WAL lets readers run beside the writer;
                // foreign keys are off by default in SQLite.
                // The journal is cut back to 64 MiB after a checkpoint that empties it.
                let synchronous = match self.synchronous {
                    Synchronous::Full => "FULL",
                    Synchronous::Normal => "NORMAL",
                };
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; \
                     PRAGMA journal_size_limit = 67108864;"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Pg)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// As diesel's own r2d2 manager: a connection left in a broken transaction (or by a
    /// panicking thread) is dropped instead of going back to the pool.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::connection::TransactionManager;
        std::thread::panicking()
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

pub fn connect_pool(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<Pool> {
    connect_pool_with(url, max_size, Synchronous::default())
}

pub fn connect_pool_with(
    url: &DatabaseUrl,
    max_size: u32,
    synchronous: Synchronous,
) -> anyhow::Result<Pool> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    let connections = r2d2::Pool::builder()
        .max_size(max_size)
        // A SQLite connection is a file handle that cannot drop out under us; testing it on
        // every checkout was a measurable share of a route read. A PostgreSQL one can.
        .test_on_check_out(!url.is_sqlite())
        .connection_timeout(Duration::from_secs(10))
        .build(Manager {
            url: url.clone(),
            synchronous,
        })?;
    Ok(Pool {
        connections,
        writer: std::sync::Arc::new(WriterQueue {
            sqlite: url.is_sqlite(),
            group: Default::default(),
        }),
    })
}

/// Runs `f` in a write transaction on a connection of `pool`: on SQLite as one writer of a
/// group commit (see [`group_commit`]), on PostgreSQL in a transaction of its own. Returns
/// once the work is committed. Blocking: call it off the async workers.
pub fn write<T, E, F>(pool: &Pool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error> + From<r2d2::PoolError>,
{
    if pool.is_sqlite() {
        pool.writer.group.write(|| pool.get(), f)
    } else {
        write_tx(&mut *pool.get()?, f)
    }
}

/// On SQLite, when nothing was written for `idle`: folds the write-ahead log back into the
/// database and truncates it, so a burst of writes does not leave a large file behind.
/// Returns whether it ran. Takes the writer's turn, so it never races this process's
/// writers; readers and other processes are waited for by SQLite's busy timeout.
pub fn checkpoint_if_idle(pool: &Pool, idle: Duration) -> anyhow::Result<bool> {
    if !pool.is_sqlite() {
        return Ok(false);
    }
    let due = pool
        .writer
        .group
        .last_write
        .lock()
        .is_some_and(|at| at.elapsed() >= idle);
    if !due {
        return Ok(false);
    }
    pool.writer
        .group
        .between_batches(|| -> anyhow::Result<()> {
            let mut conn = pool.get()?;
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
            *pool.writer.group.last_write.lock() = None;
            Ok(())
        })?;
    Ok(true)
}

/// Writes a consistent copy of a SQLite database to the new file `path` (`VACUUM INTO`):
/// the simulator lives one planned day several times, each on its own copy.
pub fn copy_sqlite(conn: &mut DbConnection, path: &std::path::Path) -> anyhow::Result<()> {
    let DbConnection::Sqlite(conn) = conn else {
        anyhow::bail!("only a SQLite database is copied to a file");
    };
    let path = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{} is not UTF-8", path.display()))?;
    // A file name is no bind parameter in VACUUM INTO's grammar; quotes are doubled.
    conn.batch_execute(&format!("VACUUM INTO '{}'", path.replace('\'', "''")))?;
    Ok(())
}

/// Applies every pending migration of the connection's backend; returns the applied versions.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// Reverts every applied migration (used by the migration tests).
pub fn revert_all_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(drop),
        DbConnection::Pg(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(drop),
    }
    .map_err(|e| anyhow::anyhow!("migration revert failed: {e}"))
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock is taken up
/// front, so two writers queue on the busy timeout instead of one failing at commit), an
/// ordinary transaction on PostgreSQL. `f` may nest `conn.transaction` (savepoints).
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if let DbConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        match f(conn) {
            Ok(value) => {
                <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                Ok(value)
            }
            Err(e) => {
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
                Err(e)
            }
        }
    } else {
        conn.transaction(f)
    }
}

diesel::define_sql_function! {
    /// SQL `lower`, for case-insensitive search on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// The cheapest statement: the database answers.
pub fn ping(conn: &mut DbConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// The process's time (`crate::clock`: the wall clock, or the simulator's).
pub fn now() -> chrono::NaiveDateTime {
    crate::clock::now().naive_utc()
}
