//! Personal access tokens of the JSON API (issue 19): only the token's SHA-256 is kept.

use sqlx::Row;

use super::sessions::hash_id;
use super::sql::{Conn, DbResult};
use super::users::User;

/// A token as its owner's list shows it.
#[derive(Clone, Debug)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
}

const COLUMNS: &str =
    "id, name, prefix, created_at, expires_at, revoked_at, last_used_at, last_used_ip";

fn token(r: &sqlx::any::AnyRow) -> DbResult<Token> {
    Ok(Token {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
        last_used_ip: r.try_get("last_used_ip")?,
    })
}

pub async fn insert(
    conn: &mut Conn,
    user_id: i64,
    name: &str,
    secret: &str,
    prefix: &str,
    now: i64,
    expires_at: i64,
) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(hash_id(secret))
    .bind(prefix)
    .bind(now)
    .bind(expires_at)
    .fetch_one(&mut *conn)
    .await
}

/// The account's tokens, newest first.
pub async fn for_user(pool: &sqlx::AnyPool, user_id: i64) -> DbResult<Vec<Token>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(token).collect()
}

/// How many of the account's tokens are usable at `now`.
pub async fn active_count(conn: &mut Conn, user_id: i64, now: i64) -> DbResult<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
}

/// Revokes the account's token `id`; its name and prefix when it was usable.
pub async fn revoke(
    conn: &mut Conn,
    user_id: i64,
    id: i64,
    now: i64,
) -> DbResult<Option<(String, String)>> {
    let row = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1
         WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL RETURNING name, prefix",
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((r.try_get("name")?, r.try_get("prefix")?)))
        .transpose()
}

/// A presented token: the token and its account, whatever their state (the caller decides).
pub struct Presented {
    pub token: Token,
    pub user: User,
    pub unit_blacklisted: bool,
}

pub async fn find(pool: &sqlx::AnyPool, secret: &str) -> DbResult<Option<Presented>> {
    let row = sqlx::query(
        "SELECT t.id AS t_id, t.name AS t_name, t.prefix, t.created_at AS t_created,
            t.expires_at, t.revoked_at, t.last_used_at AS t_used, t.last_used_ip AS t_ip,
            COALESCE(n.blacklisted, 0) AS bl,
            u.id, u.role, u.login_id, u.password_hash, u.display_name, u.unit_id, u.district_id,
            u.must_change_password, u.disabled, u.last_login_at, u.last_login_ip, u.prev_login_at,
            u.prev_login_ip
         FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN units n ON n.id = u.unit_id
         WHERE t.token_hash = $1",
    )
    .bind(hash_id(secret))
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Presented {
        token: Token {
            id: r.try_get("t_id")?,
            name: r.try_get("t_name")?,
            prefix: r.try_get("prefix")?,
            created_at: r.try_get("t_created")?,
            expires_at: r.try_get("expires_at")?,
            revoked_at: r.try_get("revoked_at")?,
            last_used_at: r.try_get("t_used")?,
            last_used_ip: r.try_get("t_ip")?,
        },
        user: super::users::from_row(&r)?,
        unit_blacklisted: r.try_get::<i64, _>("bl")? != 0,
    }))
}

/// Records a use (with the audit entry, in the caller's transaction).
pub async fn touch(conn: &mut Conn, id: i64, now: i64, ip: &str) -> DbResult<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1, last_used_ip = $2 WHERE id = $3")
        .bind(now)
        .bind(ip)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
