//! State of multi-step anonymous flows (registration wizard, password recovery), as JSON keyed by
//! the hash of a random cookie token.

use sqlx::Row;

use super::sql::DbResult;
use crate::store::sessions::hash_id;

/// The anonymous multi-step flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// The registration wizard.
    Register,
    /// Password recovery.
    Reset,
    /// A sign-in whose password was right, waiting for the second factor.
    SignIn,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Register => "register",
            FlowKind::Reset => "reset",
            FlowKind::SignIn => "sign_in",
        }
    }
}

pub async fn load(
    pool: &sqlx::AnyPool,
    kind: FlowKind,
    token: &str,
    not_before: i64,
) -> DbResult<Option<serde_json::Value>> {
    let row = sqlx::query(
        "SELECT data FROM flows WHERE token_hash = $1 AND kind = $2 AND updated_at >= $3",
    )
    .bind(hash_id(token))
    .bind(kind.as_str())
    .bind(not_before)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let text: String = r.try_get("data")?;
    Ok(serde_json::from_str(&text).ok())
}

pub async fn save(
    pool: &sqlx::AnyPool,
    kind: FlowKind,
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
    .bind(kind.as_str())
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

/// Removes flows last touched before `before`.
pub async fn purge(pool: &sqlx::AnyPool, before: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM flows WHERE updated_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(())
}
