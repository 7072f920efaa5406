//! State of multi-step anonymous flows (registration wizard, password recovery), as JSON keyed by
//! the hash of a random cookie token.

use sqlx::Row;

use super::DbResult;
use crate::store::sessions::hash_id;

pub async fn load(
    pool: &sqlx::AnyPool,
    kind: &str,
    token: &str,
    not_before: i64,
) -> DbResult<Option<serde_json::Value>> {
    let row = sqlx::query(
        "SELECT data FROM flows WHERE token_hash = $1 AND kind = $2 AND updated_at >= $3",
    )
    .bind(hash_id(token))
    .bind(kind)
    .bind(not_before)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let text: String = r.try_get("data")?;
    Ok(serde_json::from_str(&text).ok())
}

pub async fn save(
    pool: &sqlx::AnyPool,
    kind: &str,
    token: &str,
    data: &serde_json::Value,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO flows (token_hash, kind, data, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (token_hash) DO UPDATE SET kind = excluded.kind, data = excluded.data,
            updated_at = excluded.updated_at",
    )
    .bind(hash_id(token))
    .bind(kind)
    .bind(data.to_string())
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut super::Conn, token: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM flows WHERE token_hash = $1")
        .bind(hash_id(token))
        .execute(conn)
        .await?;
    Ok(())
}
