//! One database layer for SQLite and PostgreSQL over sqlx's `Any` driver.
//!
//! Every column is TEXT or BIGINT so both backends decode the same Rust types; SQL uses `$n`
//! placeholders, which both accept. Migrations are embedded and append-only.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Connection, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Embedded migrations, in order. Never edit one that has shipped: append a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "groups", include_str!("../migrations/0002_groups.sql")),
    (3, "visits", include_str!("../migrations/0003_visits.sql")),
    (
        4,
        "audit_chain",
        include_str!("../migrations/0004_audit_chain.sql"),
    ),
    (7, "search", include_str!("../migrations/0007_search.sql")),
    (
        8,
        "unit_overdue",
        include_str!("../migrations/0008_unit_overdue.sql"),
    ),
    (
        9,
        "unread_messages",
        include_str!("../migrations/0009_unread_messages.sql"),
    ),
    (
        10,
        "unregistered_visitors",
        include_str!("../migrations/0010_unregistered_visitors.sql"),
    ),
    (
        11,
        "recent_messages",
        include_str!("../migrations/0011_recent_messages.sql"),
    ),
    (
        12,
        "district_queues",
        include_str!("../migrations/0012_district_queues.sql"),
    ),
    (
        13,
        "queue_district",
        include_str!("../migrations/0013_queue_district.sql"),
    ),
    (
        14,
        "attempts",
        include_str!("../migrations/0014_attempts.sql"),
    ),
    (
        15,
        "second_factor",
        include_str!("../migrations/0015_second_factor.sql"),
    ),
    (
        16,
        "files_sha256",
        include_str!("../migrations/0016_files_sha256.sql"),
    ),
    (
        17,
        "group_fields",
        include_str!("../migrations/0017_group_fields.sql"),
    ),
    (
        18,
        "group_paths",
        include_str!("../migrations/0018_group_paths.sql"),
    ),
    (
        19,
        "ratings",
        include_str!("../migrations/0019_ratings.sql"),
    ),
    (20, "keys", include_str!("../migrations/0020_keys.sql")),
    (
        21,
        "access_log",
        include_str!("../migrations/0021_access_log.sql"),
    ),
    (
        22,
        "sealing",
        include_str!("../migrations/0022_sealing.sql"),
    ),
    (
        23,
        "retention",
        include_str!("../migrations/0023_retention.sql"),
    ),
    (
        24,
        "api_tokens",
        include_str!("../migrations/0024_api_tokens.sql"),
    ),
    (
        25,
        "sms_queue",
        include_str!("../migrations/0025_sms_queue.sql"),
    ),
];

/// How long a request waits for the database when none is given (`--db-timeout-secs`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite allows one writer; serialising this process's write transactions avoids
    /// lock-upgrade deadlocks (other processes still wait on `busy_timeout`).
    write_lock: Option<Arc<Mutex<()>>>,
    /// How long a request waits for a connection, for SQLite's write lock, and for the
    /// in-process write queue before it is answered "database unavailable".
    timeout: Duration,
}

/// A write transaction on a connection of its own.
///
/// The transaction is begun and committed here, with plain `BEGIN` and `COMMIT` statements on a
/// pooled connection, and not with sqlx's `Transaction`: sqlx counts the open transactions of a
/// connection itself, and when SQLite had already rolled a transaction back on its own (it may
/// on `SQLITE_FULL`) or a `COMMIT` failed, that count stayed one too high. The pool then handed
/// the connection out again, its next "transaction" became a `SAVEPOINT` nested in a
/// transaction left open, and its "commit" a `RELEASE` that made nothing durable: saves were
/// confirmed and lost, and the connection kept SQLite's write lock. (Read in sqlx 0.8's SQLite
/// worker; `tests/faults_db.rs` lost confirmed saves and found the lock held with it.)
///
/// So a connection serves the next request only after a `COMMIT` that succeeded. On any other
/// end (a failed statement or `COMMIT`, a refusal, a request cancelled half-way) the `Tx` is
/// dropped uncommitted and its connection is closed, which rolls back whatever is still open
/// (SQLite on close, PostgreSQL when the session ends), and the pool opens a fresh one when
/// needed. SQLite's in-process write lock is released only once that connection is closed.
pub struct Tx {
    conn: Option<PoolConnection<Any>>,
    committed: bool,
    guard: Option<OwnedMutexGuard<()>>,
}

/// How long closing a failed transaction's connection may take before it is dropped as it is.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

impl Tx {
    /// Commits; `Ok` only once the database has made the transaction durable (SQLite in WAL
    /// mode with `synchronous = FULL`, PostgreSQL with `synchronous_commit` on).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.conn().execute("COMMIT").await?;
        self.committed = true;
        Ok(())
    }

    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        match self.conn.as_mut() {
            Some(conn) => conn,
            // `conn` is taken only in `drop`.
            None => unreachable!("a transaction's connection is present until it is dropped"),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let guard = self.guard.take();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if tokio::time::timeout(CLOSE_TIMEOUT, conn.close())
                        .await
                        .is_err()
                    {
                        tracing::warn!("closing a database connection after a failed transaction took too long; dropped");
                    }
                    drop(guard);
                });
            }
            Err(_) => {
                conn.close_on_drop();
                drop(conn);
                drop(guard);
            }
        }
    }
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        Db::connect_with(url, false, DEFAULT_TIMEOUT).await
    }

    /// `bulk` is for the data generator, see [`Db::connect_with`].
    pub async fn connect_for(url: &str, bulk: bool) -> anyhow::Result<Db> {
        Db::connect_with(url, bulk, DEFAULT_TIMEOUT).await
    }

    /// `bulk` is for the data generator, a process of its own that writes millions of rows:
    /// each SQLite connection keeps up to 1 GiB of pages in its cache (instead of 2 MB) so that
    /// the indexes being filled are not read again from the file at every insert, and
    /// PostgreSQL commits without waiting for the disk (a load cut short is generated again).
    ///
    /// `timeout` bounds how long a request waits for the database: for a pooled connection
    /// (connecting included: an unreachable PostgreSQL is retried until then), for SQLite's
    /// write lock held by another process (`busy_timeout`), and for this process's own queue
    /// of SQLite writers. Past it the request fails with an error the pages answer with 503
    /// "database unavailable"; the pool reconnects by itself once the database is back.
    pub async fn connect_with(url: &str, bulk: bool, timeout: Duration) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let timeout = timeout.max(Duration::from_secs(1));
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL (use sqlite:… or postgres://…)");
        };
        let options: AnyConnectOptions = url.parse()?;
        let busy_ms = timeout.as_millis();
        let pool = match backend {
            Backend::Sqlite => {
                // One connection first, outside the pool: the pool retries a connection whose
                // set-up fails until its timeout and then reports only that it timed out; here
                // the cause (typically a full disk: SQLite cannot size its `-shm` index) is
                // reported at once.
                let mut first = sqlx::AnyConnection::connect_with(&options).await?;
                sqlite_setup(&mut first, busy_ms, bulk).await?;
                first.close().await?;
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(timeout)
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move { sqlite_setup(conn, busy_ms, bulk).await })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(timeout)
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            // JIT compilation pays off for long analytical queries, not for
                            // pages: it added 20 ms to a search whose rows were estimated in
                            // thousands and turned out to be two.
                            conn.execute("SET jit = off").await?;
                            if bulk {
                                conn.execute("SET synchronous_commit = off").await?;
                            } else {
                                // A session whose client vanished in the middle of a
                                // transaction (a network that drops packets without a reset)
                                // is ended by the server after a minute, so that the rows it
                                // locked are not held for the quarter of an hour TCP takes
                                // to give up. Our transactions never wait that long between
                                // two statements.
                                conn.execute("SET idle_in_transaction_session_timeout = '60s'")
                                    .await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
        };
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Db {
            pool,
            backend,
            write_lock,
            timeout,
        })
    }

    /// Starts a transaction meant to write (on SQLite `BEGIN IMMEDIATE`: it takes the write
    /// lock at once, waiting for another process's writer up to the timeout, so that a
    /// transaction that reads before it writes never fails on upgrading its lock).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let guard = match &self.write_lock {
            Some(lock) => Some(
                tokio::time::timeout(self.timeout, lock.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?,
            ),
            None => None,
        };
        let conn = self.pool.acquire().await?;
        let mut tx = Tx {
            conn: Some(conn),
            committed: false,
            guard,
        };
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        tx.conn().execute(begin).await?;
        Ok(tx)
    }

    fn dialect(&self, sql: &str) -> String {
        let id = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        sql.replace("{ID}", id)
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migrate_to(i64::MAX).await
    }

    /// Applies the embedded migrations that have not run yet, up to version `last` (a restore
    /// brings an empty database to the schema of its backup, loads the rows, then migrates on).
    pub async fn migrate_to(&self, last: i64) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        tx.conn()
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .await?;
        if self.backend == Backend::Postgres {
            // Two instances starting together must not both migrate.
            tx.conn()
                .execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                .await?;
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 <= last) {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(tx.conn())
                    .await?;
            if done.is_some() {
                continue;
            }
            for stmt in split_statements(&self.dialect(sql)) {
                tx.conn()
                    .execute(stmt.as_str())
                    .await
                    .map_err(|e| anyhow::anyhow!("migration {version} {name}: {e}: {stmt}"))?;
            }
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(*version)
            .bind(*name)
            .bind(chrono::Utc::now().timestamp())
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The versions of the embedded migrations, in order.
pub fn migration_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.0).collect()
}

/// The settings of every SQLite connection. `synchronous = FULL`: in WAL mode SQLite then
/// syncs the log at every commit, so a commit that returned survives a power cut (with
/// `NORMAL` the last commits may be lost then, though never on a crash of the process alone).
/// It costs one `fsync` per write transaction, nothing on reads.
async fn sqlite_setup(
    conn: &mut sqlx::AnyConnection,
    busy_ms: u128,
    bulk: bool,
) -> Result<(), sqlx::Error> {
    conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
        .await?;
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA synchronous = FULL").await?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    // Deleted and overwritten content is zeroed in the file, so that a value written in clear
    // by an earlier version and then sealed does not linger in free pages.
    conn.execute("PRAGMA secure_delete = ON").await?;
    if bulk {
        conn.execute("PRAGMA cache_size = -1048576").await?;
    }
    Ok(())
}

/// Splits a migration file into statements, dropping `--` comment lines.
fn split_statements(sql: &str) -> Vec<String> {
    let cleaned: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    cleaned
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// True when the error is a unique-constraint violation (either backend).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db
                    .code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}
