//! What a workflow function answers when it does not do what was asked.
//!
//! # Error policy
//!
//! Every failure is one of five kinds, and each kind has one treatment everywhere:
//!
//! | kind | when | the user sees | the log |
//! |---|---|---|---|
//! | [`Error::NotFound`] | the record does not exist, **or the principal may not see it** (one answer for both, so nobody learns what exists elsewhere) | 404 "页面不存在或您无权查看" | nothing |
//! | [`Error::Forbidden`] | the principal may see the record but their role may not take this action | 403 "您无权进行此操作" | nothing |
//! | [`Error::Stale`] | the principal's role takes this action, but not in the record's state now: most often someone else acted first (checked in the same `UPDATE … WHERE state = …`); also a unit whose registration is not (or no longer) approved, or a group not yet dispatched | 409 with what happened and what to do (refresh the list) | nothing |
//! | [`Error::Invalid`] | the input breaks a rule; the messages are per field | the same form again, what was typed kept, each message beside its field (a handler that has no form shows the first message, 400) | nothing |
//! | [`Error::Fault`], disk full ([`Unavailable::StorageFull`]) | nothing more can be written: SQLite `SQLITE_FULL` (13) or a write-side `SQLITE_IOERR` (SQLite maps `ENOSPC` to `SQLITE_FULL` on writes; the `-shm` index, `fsync` and truncation fail as `IOERR`), PostgreSQL SQLSTATE class 53 but 53300 (53100 `disk_full`), an `io::Error` `ENOSPC`/`EDQUOT` from the file store | 503 "服务器暂时无法保存数据，本次操作未保存…" with `Retry-After` | `error!` with the cause |
//! | [`Error::Fault`], database unreachable ([`Unavailable::Database`]) | no connection within `--db-timeout-secs` (pool timeout, refused, reset, pool closed), SQLite's write lock held elsewhere longer than that (`SQLITE_BUSY`), PostgreSQL shutting down or restarting (57P01, 57P02, 57P03), too many connections (53300), SQLSTATE class 08 | 503 "数据库暂时无法连接…" with `Retry-After` | `error!` with the cause |
//! | [`Error::Fault`] | anything else: a bug, a corrupt file | 500 "系统繁忙…", nothing internal | `error!` with the whole cause chain |
//!
//! The two 503 kinds are faults of the environment, told apart from the other faults by
//! [`unavailable`] where the page is made (`web::error`): they say that nothing was done and to
//! try again later, which is true, since a write transaction commits or leaves nothing (see
//! `db::Tx`), and an upload's file without its row is not linked to anything.
//!
//! Refusals (the first four) are answers, not faults: they are never logged as errors, and a
//! refusal writes nothing (the transaction is dropped, so it rolls back). Security events that
//! are refusals (a failed sign-in, a lockout) are written to the audit log by the workflow
//! function itself, in their own transaction. A fault is never swallowed: a function that
//! cannot finish returns it, and only work done after the commit that the user does not wait
//! for (an SMS after the state change) may log a fault and go on — it says so where it does.

use crate::domain::fields::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("页面不存在或您无权查看")]
    NotFound,
    #[error("您无权进行此操作")]
    Forbidden,
    #[error("{0}")]
    Stale(String),
    #[error("{}", first_message(.0))]
    Invalid(FieldErrors),
    #[error("internal error: {0:#}")]
    Fault(#[from] anyhow::Error),
}

fn first_message(e: &FieldErrors) -> String {
    e.first().unwrap_or("输入有误").to_string()
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Fault(e.into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Fault(e.into())
    }
}

impl Error {
    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Error {
        let mut e = FieldErrors::new();
        e.add(field, message);
        Error::Invalid(e)
    }
}

pub type Outcome<T> = Result<T, Error>;

/// Why a fault is the environment's, not ours: see the policy table above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// The disk (of SQLite, of the file store, or of a PostgreSQL tablespace) is full.
    StorageFull,
    /// The database did not answer in time, or is down.
    Database,
}

/// Whether a fault's cause chain holds a full disk or an unreachable database.
pub fn unavailable(e: &anyhow::Error) -> Option<Unavailable> {
    e.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
            return unavailable_sqlx(e);
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>() {
            return unavailable_io(e);
        }
        None
    })
}

/// [`unavailable`] of a database error.
pub fn unavailable_sqlx(e: &sqlx::Error) -> Option<Unavailable> {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Some(Unavailable::Database)
        }
        sqlx::Error::Io(io) => unavailable_io(io).or(Some(Unavailable::Database)),
        sqlx::Error::Database(db) => {
            if let Some(e) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                let code: i64 = sqlx::error::DatabaseError::code(e)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                return sqlite_code(code);
            }
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                return db.code().and_then(|c| postgres_state(&c));
            }
            None
        }
        _ => None,
    }
}

/// SQLite's (extended) result codes: <https://sqlite.org/rescode.html>.
fn sqlite_code(code: i64) -> Option<Unavailable> {
    const SQLITE_IOERR: i64 = 10;
    const SQLITE_FULL: i64 = 13;
    const SQLITE_BUSY: i64 = 5;
    // The IOERR codes of writing: WRITE, FSYNC, DIR_FSYNC, TRUNCATE, SHMOPEN, SHMSIZE, SHMMAP.
    const WRITE_IOERRS: [i64; 7] = [3, 4, 5, 6, 18, 19, 21];
    match code & 0xff {
        SQLITE_FULL => Some(Unavailable::StorageFull),
        SQLITE_IOERR if WRITE_IOERRS.contains(&(code >> 8)) => Some(Unavailable::StorageFull),
        SQLITE_BUSY => Some(Unavailable::Database),
        _ => None,
    }
}

/// PostgreSQL's SQLSTATE: <https://www.postgresql.org/docs/current/errcodes-appendix.html>.
fn postgres_state(state: &str) -> Option<Unavailable> {
    match state {
        // too_many_connections: the server is there but takes no one more.
        "53300" => Some(Unavailable::Database),
        // insufficient_resources: disk_full, out_of_memory, configuration_limit_exceeded.
        s if s.starts_with("53") => Some(Unavailable::StorageFull),
        // admin_shutdown, crash_shutdown, cannot_connect_now.
        "57P01" | "57P02" | "57P03" => Some(Unavailable::Database),
        s if s.starts_with("08") => Some(Unavailable::Database),
        _ => None,
    }
}

/// [`unavailable`] of an I/O error: a full disk (or quota) when writing a file; a connection
/// refused, reset or cut (the database's socket).
pub fn unavailable_io(e: &std::io::Error) -> Option<Unavailable> {
    use std::io::ErrorKind;
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    if e.kind() == ErrorKind::StorageFull
        || e.kind() == ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT))
    {
        return Some(Unavailable::StorageFull);
    }
    match e.kind() {
        ErrorKind::ConnectionRefused
        | ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::NotConnected
        | ErrorKind::BrokenPipe
        | ErrorKind::TimedOut
        | ErrorKind::HostUnreachable
        | ErrorKind::NetworkUnreachable
        | ErrorKind::UnexpectedEof => Some(Unavailable::Database),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes() {
        assert_eq!(sqlite_code(13), Some(Unavailable::StorageFull));
        // SQLITE_IOERR_SHMSIZE: opening a database on a full disk.
        assert_eq!(sqlite_code(4874), Some(Unavailable::StorageFull));
        assert_eq!(sqlite_code(778), Some(Unavailable::StorageFull));
        // SQLITE_IOERR_READ is not a full disk.
        assert_eq!(sqlite_code(266), None);
        assert_eq!(sqlite_code(5), Some(Unavailable::Database));
        assert_eq!(sqlite_code(517), Some(Unavailable::Database));
        // Constraint violations are not the environment.
        assert_eq!(sqlite_code(2067), None);
    }

    #[test]
    fn postgres_states() {
        assert_eq!(postgres_state("53100"), Some(Unavailable::StorageFull));
        assert_eq!(postgres_state("53000"), Some(Unavailable::StorageFull));
        assert_eq!(postgres_state("53300"), Some(Unavailable::Database));
        assert_eq!(postgres_state("57P01"), Some(Unavailable::Database));
        assert_eq!(postgres_state("08006"), Some(Unavailable::Database));
        assert_eq!(postgres_state("23505"), None);
        assert_eq!(postgres_state("40001"), None);
    }

    #[test]
    fn file_and_pool_errors_in_a_chain() {
        let full = anyhow::Error::from(std::io::Error::from_raw_os_error(28)).context("writing");
        assert_eq!(unavailable(&full), Some(Unavailable::StorageFull));
        let timed_out = anyhow::Error::from(sqlx::Error::PoolTimedOut);
        assert_eq!(unavailable(&timed_out), Some(Unavailable::Database));
        let refused = anyhow::Error::from(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(unavailable(&refused), Some(Unavailable::Database));
        assert_eq!(unavailable(&anyhow::anyhow!("a bug")), None);
    }
}
