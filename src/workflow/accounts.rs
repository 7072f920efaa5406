//! Accounts: signing in and out, sessions, passwords, mobile numbers, and their clean-up.

use super::error::Outcome;
use crate::domain::principal::{Actor, Principal};
use crate::state::AppState;
use crate::store::flows::{self, FlowKind};
use crate::store::sessions;
use crate::store::users::User;

/// Removes expired sessions and abandoned anonymous flows (registration, password recovery).
pub async fn housekeeping(state: &AppState) -> Outcome<()> {
    let now = state.now();
    let idle = state.config.serve.session_idle_minutes * 60;
    let max = state.config.serve.session_max_hours * 3600;
    sessions::purge(state.pool(), now - idle, now - max).await?;
    flows::purge(state.pool(), now - 86_400).await?;
    Ok(())
}

/// The account of a session that is still valid, refreshing its last activity at most once a
/// minute; `None` (and the session removed) when it expired by inactivity or age, or its
/// account was disabled or its unit put on the dishonesty list.
pub async fn resume_session(state: &AppState, sid: &str) -> Outcome<Option<User>> {
    let now = state.now();
    let Some(s) = sessions::load(state.pool(), sid).await? else {
        return Ok(None);
    };
    let idle = state.config.serve.session_idle_minutes * 60;
    let max = state.config.serve.session_max_hours * 3600;
    if now - s.last_seen_at > idle
        || now - s.created_at > max
        || s.user.disabled
        || s.unit_blacklisted
    {
        sessions::delete(state.pool(), sid).await?;
        return Ok(None);
    }
    if now - s.last_seen_at >= 60 {
        // Only the idle clock depends on it, and the request itself is valid: log and go on.
        if let Err(e) = sessions::touch(state.pool(), sid, now).await {
            tracing::warn!("refreshing a session's activity: {e}");
        }
    }
    Ok(Some(s.user))
}

/// The principal of a signed-in account acting from `ip`.
pub fn principal(user: &User, ip: &str) -> Principal {
    Principal {
        user_id: user.id,
        role: user.role,
        district_id: user.district_id,
        unit_id: user.unit_id,
        display_name: user.display_name.clone(),
        actor: Actor {
            user_id: Some(user.id),
            label: format!("{}（{}）", user.display_name, user.login_id),
            ip: ip.to_string(),
        },
    }
}

/// Anonymous flows expire two hours after their last step.
const FLOW_TTL: i64 = 2 * 3600;

/// The data of an anonymous flow (registration wizard, password recovery) kept under `token`,
/// if it has not expired.
pub async fn flow_load(
    state: &AppState,
    kind: FlowKind,
    token: &str,
) -> Outcome<Option<serde_json::Value>> {
    Ok(flows::load(state.pool(), kind, token, state.now() - FLOW_TTL).await?)
}

/// Keeps the data of an anonymous flow under `token`.
pub async fn flow_save(
    state: &AppState,
    kind: FlowKind,
    token: &str,
    data: &serde_json::Value,
) -> Outcome<()> {
    Ok(flows::save(state.pool(), kind, token, data, state.now()).await?)
}
