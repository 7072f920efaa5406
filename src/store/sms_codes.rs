//! SMS verification codes: stored as keyed hashes, single use, limited tries and sends.

use sqlx::Row;

use super::sql::{Conn, DbResult};
use crate::domain::account::CodePurpose;

pub struct Code {
    pub id: i64,
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i64,
}

/// Stores a new code and voids earlier unused ones for the same number and purpose.
pub async fn insert(
    conn: &mut Conn,
    mobile: &str,
    purpose: CodePurpose,
    code_hash: &str,
    ip: &str,
    now: i64,
    ttl: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE sms_codes SET consumed = 1 WHERE mobile = $1 AND purpose = $2 AND consumed = 0",
    )
    .bind(mobile)
    .bind(purpose.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO sms_codes (mobile, purpose, code_hash, ip, created_at, expires_at, attempts, consumed)
         VALUES ($1, $2, $3, $4, $5, $6, 0, 0)",
    )
    .bind(mobile)
    .bind(purpose.as_str())
    .bind(code_hash)
    .bind(ip)
    .bind(now)
    .bind(now + ttl)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest usable code for this number and purpose.
pub async fn current(
    pool: &sqlx::AnyPool,
    mobile: &str,
    purpose: CodePurpose,
) -> DbResult<Option<Code>> {
    let row = sqlx::query(
        "SELECT id, code_hash, expires_at, attempts FROM sms_codes
         WHERE mobile = $1 AND purpose = $2 AND consumed = 0 ORDER BY id DESC LIMIT 1",
    )
    .bind(mobile)
    .bind(purpose.as_str())
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Code {
        id: r.try_get("id")?,
        code_hash: r.try_get("code_hash")?,
        expires_at: r.try_get("expires_at")?,
        attempts: r.try_get("attempts")?,
    }))
}

/// Counts a try of the code before it is compared, in one statement: the tries so far with
/// this one, or `None` when `max` tries were already made.
pub async fn reserve_try(pool: &sqlx::AnyPool, id: i64, max: i64) -> DbResult<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE sms_codes SET attempts = attempts + 1
         WHERE id = $1 AND attempts < $2 AND consumed = 0 RETURNING attempts",
    )
    .bind(id)
    .bind(max)
    .fetch_optional(pool)
    .await
}

/// Voids a code whose tries are used up.
pub async fn void(pool: &sqlx::AnyPool, id: i64) -> DbResult<()> {
    sqlx::query("UPDATE sms_codes SET consumed = 1 WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Uses the code up; false when someone else used it first.
pub async fn consume(pool: &sqlx::AnyPool, id: i64) -> DbResult<bool> {
    let r = sqlx::query("UPDATE sms_codes SET consumed = 1 WHERE id = $1 AND consumed = 0")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes the codes created before `before` (used, expired, or past every limit's window).
pub async fn purge(pool: &sqlx::AnyPool, before: i64) -> DbResult<u64> {
    let done = sqlx::query("DELETE FROM sms_codes WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// When the codes sent to `mobile` since `since` were sent (any purpose), oldest first.
pub async fn sent_since(pool: &sqlx::AnyPool, mobile: &str, since: i64) -> DbResult<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT created_at FROM sms_codes WHERE mobile = $1 AND created_at > $2
         ORDER BY created_at",
    )
    .bind(mobile)
    .bind(since)
    .fetch_all(pool)
    .await
}
