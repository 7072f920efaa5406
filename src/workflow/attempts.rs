//! Attempts limited atomically: a slot is reserved before a secret is checked (the limits and
//! the policy are in domain::account).

use super::error::Outcome;
use crate::domain::account::Limit;
use crate::state::AppState;
use crate::store::{attempts, Conn};

/// A reserved attempt: within its limit or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reserved {
    /// Attempts counted with this one.
    pub count: i64,
    /// Whether this attempt is within the limit (the secret may be checked).
    pub allowed: bool,
    /// Seconds until the count starts again.
    pub wait: i64,
}

/// Reserves an attempt of `limit` for `subject`.
pub async fn reserve(state: &AppState, limit: &Limit, subject: &str) -> Outcome<Reserved> {
    let now = state.now();
    let (count, expires_at) = attempts::reserve(state.pool(), limit, subject, now).await?;
    Ok(Reserved {
        count,
        allowed: count <= limit.max,
        wait: (expires_at - now).max(0),
    })
}

/// Gives back an attempt that succeeded, in the caller's transaction.
pub async fn release(conn: &mut Conn, limit: &Limit, subject: &str) -> Outcome<()> {
    Ok(attempts::release(conn, limit, subject).await?)
}

/// Forgets the attempts of `subject` (a success, or a new password), in the caller's
/// transaction.
pub async fn clear(conn: &mut Conn, limit: &Limit, subject: &str) -> Outcome<()> {
    Ok(attempts::clear(conn, limit, subject).await?)
}

/// "N分钟" for a wait in seconds, rounded up.
pub fn minutes(wait: i64) -> String {
    format!("{}分钟", (wait + 59).div_euclid(60).max(1))
}
