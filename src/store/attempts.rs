//! Attempt counters (see domain::account for the limits) and the addresses accounts signed in
//! from.

use sqlx::Row;

use super::sql::{Conn, DbResult};
use crate::domain::account::Limit;

/// Reserves one attempt of `limit` for `subject` at `now`, in one statement: the count with
/// this attempt, and when the count starts again. The attempt is within the limit when the
/// count is at most `limit.max`.
pub async fn reserve(
    pool: &sqlx::AnyPool,
    limit: &Limit,
    subject: &str,
    now: i64,
) -> DbResult<(i64, i64)> {
    let row = sqlx::query(
        "INSERT INTO attempts (scope, subject, n, expires_at) VALUES ($1, $2, 1, $3 + $4)
         ON CONFLICT (scope, subject) DO UPDATE SET
           n = CASE WHEN attempts.expires_at <= $3 THEN 1 ELSE attempts.n + 1 END,
           expires_at = CASE WHEN attempts.expires_at <= $3 OR attempts.n < $5 THEN $3 + $4
                             ELSE attempts.expires_at END
         RETURNING n, expires_at",
    )
    .bind(limit.scope)
    .bind(subject)
    .bind(now)
    .bind(limit.period)
    .bind(limit.max)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("n")?, row.try_get("expires_at")?))
}

/// Gives one reserved attempt back (a success that should not count).
pub async fn release(conn: &mut Conn, limit: &Limit, subject: &str) -> DbResult<()> {
    sqlx::query("UPDATE attempts SET n = n - 1 WHERE scope = $1 AND subject = $2 AND n > 0")
        .bind(limit.scope)
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the attempts of `limit` for `subject`.
pub async fn clear(conn: &mut Conn, limit: &Limit, subject: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM attempts WHERE scope = $1 AND subject = $2")
        .bind(limit.scope)
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes the counters that have started again.
pub async fn purge(pool: &sqlx::AnyPool, now: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM attempts WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// Whether the account signed in from `ip` at or after `since`.
pub async fn is_known(pool: &sqlx::AnyPool, user_id: i64, ip: &str, since: i64) -> DbResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM known_addresses WHERE user_id = $1 AND ip = $2 AND last_at >= $3",
    )
    .bind(user_id)
    .bind(ip)
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

/// Remembers that the account signed in from `ip` at `now`.
pub async fn remember(conn: &mut Conn, user_id: i64, ip: &str, now: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO known_addresses (user_id, ip, last_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, ip) DO UPDATE SET last_at = $3",
    )
    .bind(user_id)
    .bind(ip)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the addresses not used since `before`.
pub async fn purge_addresses(pool: &sqlx::AnyPool, before: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM known_addresses WHERE last_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(())
}
