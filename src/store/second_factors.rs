//! The second sign-in factor of accounts (TOTP secret, enrolment, the last step used) and their
//! recovery codes (hashes). The rules are in
//! `workflow::second_factor`.

use sqlx::Row;

use super::sql::{Conn, DbResult};

/// An account's factor: enrolled, or an enrolment under way (`enrolled_at` empty).
#[derive(Clone)]
pub struct Factor {
    pub user_id: i64,
    /// Base32 TOTP key. Never logged.
    pub secret: String,
    pub enrolled_at: Option<i64>,
    /// The newest time step whose code was accepted.
    pub last_step: i64,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("user_id", &self.user_id)
            .field("secret", &"…")
            .field("enrolled_at", &self.enrolled_at)
            .field("last_step", &self.last_step)
            .finish()
    }
}

pub async fn get(pool: &sqlx::AnyPool, user_id: i64) -> DbResult<Option<Factor>> {
    let row = sqlx::query(
        "SELECT user_id, secret, enrolled_at, last_step FROM second_factors WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Factor {
        user_id: r.try_get("user_id")?,
        secret: r.try_get("secret")?,
        enrolled_at: r.try_get("enrolled_at")?,
        last_step: r.try_get("last_step")?,
    }))
}

/// Starts (or starts again) an enrolment with a new secret, unless the account is enrolled:
/// whether it was started.
pub async fn start(conn: &mut Conn, user_id: i64, secret: &str, now: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "INSERT INTO second_factors (user_id, secret, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
            created_at = excluded.created_at, last_step = 0
         WHERE second_factors.enrolled_at IS NULL",
    )
    .bind(user_id)
    .bind(secret)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Completes the enrolment of `secret` (the one shown) with the step of the code that
/// confirmed it: false when the account is already enrolled or its secret changed meanwhile.
pub async fn confirm(
    conn: &mut Conn,
    user_id: i64,
    secret: &str,
    step: i64,
    now: i64,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE second_factors SET enrolled_at = $1, last_step = $2
         WHERE user_id = $3 AND secret = $4 AND enrolled_at IS NULL",
    )
    .bind(now)
    .bind(step)
    .bind(user_id)
    .bind(secret)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Accepts the code of `step` for an enrolled account, once: false when a code of this step
/// or a later one was accepted already.
pub async fn use_step(conn: &mut Conn, user_id: i64, step: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE second_factors SET last_step = $1
         WHERE user_id = $2 AND last_step < $1 AND enrolled_at IS NOT NULL",
    )
    .bind(step)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes the account's factor and recovery codes: whether it had a factor.
pub async fn delete(conn: &mut Conn, user_id: i64) -> DbResult<bool> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let r = sqlx::query("DELETE FROM second_factors WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Replaces the account's recovery codes by these hashes.
pub async fn set_recovery_codes(conn: &mut Conn, user_id: i64, hashes: &[String]) -> DbResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(h)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses the recovery code of this hash, once: false when it is not one of the account's or
/// was used already.
pub async fn use_recovery_code(
    conn: &mut Conn,
    user_id: i64,
    hash: &str,
    now: i64,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// How many of the account's recovery codes are left.
pub async fn recovery_codes_left(pool: &sqlx::AnyPool, user_id: i64) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(pool)
        .await
}

/// [`recovery_codes_left`] in the caller's transaction (after one was used in it).
pub async fn recovery_codes_left_in(conn: &mut Conn, user_id: i64) -> DbResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(conn)
        .await
}
