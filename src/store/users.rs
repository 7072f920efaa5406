//! Accounts of units and staff.

use sqlx::Row;

use super::sql::{Conn, DbResult};

pub use crate::domain::principal::Role;

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub role: Role,
    pub login_id: String,
    pub password_hash: String,
    pub display_name: String,
    pub unit_id: Option<i64>,
    pub district_id: Option<i64>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub last_login_at: Option<i64>,
    pub last_login_ip: Option<String>,
    pub prev_login_at: Option<i64>,
    pub prev_login_ip: Option<String>,
}

const COLS: &str = "id, role, login_id, password_hash, display_name, unit_id, district_id, \
    must_change_password, disabled, last_login_at, last_login_ip, prev_login_at, prev_login_ip";

pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> DbResult<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        role: Role::parse(&role).ok_or_else(|| sqlx::Error::Decode("unknown role".into()))?,
        login_id: r.try_get("login_id")?,
        password_hash: r.try_get("password_hash")?,
        display_name: r.try_get("display_name")?,
        unit_id: r.try_get("unit_id")?,
        district_id: r.try_get("district_id")?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        last_login_at: r.try_get("last_login_at")?,
        last_login_ip: r.try_get("last_login_ip")?,
        prev_login_at: r.try_get("prev_login_at")?,
        prev_login_ip: r.try_get("prev_login_ip")?,
    })
}

pub async fn by_login_key(pool: &sqlx::AnyPool, key: &str) -> DbResult<Option<User>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM users WHERE login_key = $1"))
        .bind(key)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(pool: &sqlx::AnyPool, id: i64) -> DbResult<Option<User>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_unit(pool: &sqlx::AnyPool, unit_id: i64) -> DbResult<Option<User>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM users WHERE unit_id = $1 ORDER BY id LIMIT 1"
    ))
    .bind(unit_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub struct NewUser<'a> {
    pub role: Role,
    pub login_id: &'a str,
    pub login_key: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub unit_id: Option<i64>,
    pub district_id: Option<i64>,
    pub must_change_password: bool,
}

pub async fn insert(conn: &mut Conn, u: &NewUser<'_>, now: i64) -> DbResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (role, login_id, login_key, password_hash, display_name, unit_id,
            district_id, must_change_password, disabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9) RETURNING id",
    )
    .bind(u.role.as_str())
    .bind(u.login_id)
    .bind(u.login_key)
    .bind(u.password_hash)
    .bind(u.display_name)
    .bind(u.unit_id)
    .bind(u.district_id)
    .bind(i64::from(u.must_change_password))
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn set_password(
    conn: &mut Conn,
    user_id: i64,
    hash: &str,
    must_change: bool,
) -> DbResult<()> {
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
        .bind(hash)
        .bind(i64::from(must_change))
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn record_login(conn: &mut Conn, user_id: i64, now: i64, ip: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE users SET prev_login_at = last_login_at, prev_login_ip = last_login_ip,
            last_login_at = $1, last_login_ip = $2 WHERE id = $3",
    )
    .bind(now)
    .bind(ip)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn count_admins(pool: &sqlx::AnyPool) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
        .fetch_one(pool)
        .await
}

pub async fn login_key_taken(pool: &sqlx::AnyPool, key: &str) -> DbResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE login_key = $1")
        .bind(key)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

/// Staff accounts, for the admin overview.
pub async fn staff(pool: &sqlx::AnyPool) -> DbResult<Vec<User>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM users WHERE role <> 'unit' ORDER BY role, login_key"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Changes a staff account's name, role, district and whether it is disabled. Refuses (false)
/// when that would leave no active administrator. Runs inside the caller's transaction.
pub async fn update_staff(
    conn: &mut Conn,
    id: i64,
    name: &str,
    role: Role,
    district_id: Option<i64>,
    disabled: bool,
) -> DbResult<bool> {
    sqlx::query(
        "UPDATE users SET display_name = $1, role = $2, district_id = $3, disabled = $4
         WHERE id = $5 AND role <> 'unit'",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(district_id)
    .bind(i64::from(disabled))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&mut *conn)
            .await?;
    Ok(admins > 0)
}

/// The unit with this credit code and name (normalised by `name_key`), whose account recovers
/// its password.
pub async fn unit_by_code_and_name(
    pool: &sqlx::AnyPool,
    credit_code: &str,
    name_key: &str,
) -> DbResult<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM units WHERE credit_code = $1 AND name_key = $2")
        .bind(credit_code)
        .bind(name_key)
        .fetch_optional(pool)
        .await
}
