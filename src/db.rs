//! One database layer for SQLite and PostgreSQL over sqlx's `Any` driver.
//!
//! Every column is TEXT or BIGINT so both backends decode the same Rust types; SQL uses `$n`
//! placeholders, which both accept. Migrations are embedded and append-only.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
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
];

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite allows one writer; serialising this process's write transactions avoids
    /// lock-upgrade deadlocks (other processes still wait on `busy_timeout`).
    write_lock: Option<Arc<Mutex<()>>>,
}

pub struct Tx {
    pub tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        Db::connect_for(url, false).await
    }

    /// `bulk` is for the data generator, a process of its own that writes millions of rows:
    /// each SQLite connection keeps up to 1 GiB of pages in its cache (instead of 2 MB) so that
    /// the indexes being filled are not read again from the file at every insert, and
    /// PostgreSQL commits without waiting for the disk (a load cut short is generated again).
    pub async fn connect_for(url: &str, bulk: bool) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL (use sqlite:… or postgres://…)");
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            if bulk {
                                conn.execute("PRAGMA cache_size = -1048576").await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            // JIT compilation pays off for long analytical queries, not for
                            // pages: it added 20 ms to a search whose rows were estimated in
                            // thousands and turned out to be two.
                            conn.execute("SET jit = off").await?;
                            if bulk {
                                conn.execute("SET synchronous_commit = off").await?;
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
        })
    }

    /// Starts a transaction meant to write.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin().await?;
        Ok(Tx { tx, _guard: guard })
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
        for (version, name, sql) in MIGRATIONS {
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
