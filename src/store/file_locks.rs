//! The file lock of a stored file (see `workflow::files`): who may remove a file named by its
//! hash, and whether a committed row references it.

use super::sql::{Conn, DbResult};

/// Advisory lock keys of files: `(SPACE, first 32 bits of the hash)`.
const SPACE: i32 = 0x4c48_4649;

fn key(sha: &str) -> i32 {
    let head = sha.get(..8).unwrap_or("0");
    u32::from_str_radix(head, 16).unwrap_or(0) as i32
}

fn is_postgres(conn: &Conn) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

/// Takes the shared file lock of `sha` until the transaction ends. PostgreSQL: a shared
/// transaction-level advisory lock; SQLite: the transaction's write lock, which a transaction
/// that inserts the file's row holds anyway.
pub async fn lock_shared(conn: &mut Conn, sha: &str) -> DbResult<()> {
    if is_postgres(conn) {
        // (Counted: the Any driver decodes no `void` column.)
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock_shared($1, $2)) AS l",
        )
        .bind(SPACE)
        .bind(key(sha))
        .fetch_one(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Tries to take the exclusive file lock of `sha` until the transaction ends: false while a
/// transaction holds the shared one (PostgreSQL). On SQLite it takes the write lock (waiting
/// up to the busy timeout for another process's writer; `Db::begin` already keeps this
/// process's writers out).
pub async fn try_lock_exclusive(conn: &mut Conn, sha: &str) -> DbResult<bool> {
    if is_postgres(conn) {
        sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_xact_lock($1, $2)")
            .bind(SPACE)
            .bind(key(sha))
            .fetch_one(&mut *conn)
            .await
    } else {
        sqlx::query("UPDATE files SET size = size WHERE id = -1")
            .execute(&mut *conn)
            .await?;
        Ok(true)
    }
}

/// How many committed rows (and the transaction's own) reference the file `sha`.
pub async fn rows_with(conn: &mut Conn, sha: &str) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE sha256 = $1")
        .bind(sha)
        .fetch_one(&mut *conn)
        .await
}

/// The hashes of every file with a row.
pub async fn referenced(pool: &sqlx::AnyPool) -> DbResult<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT sha256 FROM files")
        .fetch_all(pool)
        .await
}
