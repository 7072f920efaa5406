//! Server-side sessions. The cookie carries a random id; the database keeps only its hash.

use sqlx::Row;

use super::sql::{Conn, DbResult};
use super::users::User;

pub fn hash_id(id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(id.as_bytes()))
}

pub async fn create(conn: &mut Conn, id: &str, user_id: i64, now: i64, ip: &str) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, ip) VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(hash_id(id))
    .bind(user_id)
    .bind(now)
    .bind(ip)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct Loaded {
    pub user: User,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub unit_blacklisted: bool,
}

/// Loads a session and its user.
pub async fn load(pool: &sqlx::AnyPool, id: &str) -> DbResult<Option<Loaded>> {
    let row = sqlx::query(
        "SELECT s.created_at AS s_created, s.last_seen_at AS s_seen, COALESCE(n.blacklisted, 0) AS bl,
            u.id, u.role, u.login_id, u.password_hash, u.display_name, u.unit_id, u.district_id,
            u.must_change_password, u.disabled, u.last_login_at, u.last_login_ip, u.prev_login_at,
            u.prev_login_ip
         FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN units n ON n.id = u.unit_id
         WHERE s.id_hash = $1",
    )
    .bind(hash_id(id))
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Loaded {
        user: super::users::from_row(&r)?,
        created_at: r.try_get("s_created")?,
        last_seen_at: r.try_get("s_seen")?,
        unit_blacklisted: r.try_get::<i64, _>("bl")? != 0,
    }))
}

pub async fn touch(pool: &sqlx::AnyPool, id: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(hash_id(id))
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete(pool: &sqlx::AnyPool, id: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(hash_id(id))
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_for_user(conn: &mut Conn, user_id: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends the other sessions of an account (a password change keeps the session that made it).
pub async fn delete_others(conn: &mut Conn, user_id: i64, keep: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(hash_id(keep))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes sessions that can no longer be used.
pub async fn purge(pool: &sqlx::AnyPool, idle_before: i64, created_before: i64) -> DbResult<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(idle_before)
        .bind(created_before)
        .execute(pool)
        .await?;
    Ok(r.rows_affected())
}
