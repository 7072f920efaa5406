//! The audit log as an administrator reads it: filtered by actor, action, object and time.
//! Read-only: nothing changes or deletes an entry.

use super::error::{Error, Outcome};
use super::roles::require_admin;
use crate::domain::audit::ObjectType;
use crate::domain::fields::{too_long, MAX_SEARCH};
use crate::domain::group::parse_date;
use crate::domain::principal::Principal;
use crate::state::AppState;
use crate::store::audit::{self, Entry, Filter};

/// The filters as typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Criteria<'a> {
    /// Part of the actor's name.
    pub actor: &'a str,
    /// The beginning of the action code (`unit.`, `login.`).
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    /// First day (2026-01-31), in Beijing.
    pub from: &'a str,
    /// Last day, included.
    pub to: &'a str,
}

/// The start of a day in Beijing as a timestamp.
fn day(s: &str) -> Option<i64> {
    parse_date(s)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp() - 8 * 3600)
}

impl Criteria<'_> {
    /// The message when a typed filter is longer than a search term may be.
    pub fn overlong(&self) -> Option<String> {
        [
            (self.actor, "操作人"),
            (self.action, "操作"),
            (self.object_type, "对象类型"),
            (self.object_id, "对象编号"),
        ]
        .iter()
        .find_map(|(v, label)| too_long(v.trim(), label, MAX_SEARCH))
    }
    /// Whether both dates are empty or valid (an invalid one is left out of the filter).
    pub fn dates_valid(&self) -> bool {
        [self.from, self.to]
            .iter()
            .all(|s| s.trim().is_empty() || day(s).is_some())
    }
}

/// A page of the entries that match, newest first, and how many match in all.
pub async fn search(
    state: &AppState,
    p: &Principal,
    c: &Criteria<'_>,
    limit: i64,
    offset: i64,
) -> Outcome<(Vec<Entry>, i64)> {
    require_admin(p)?;
    if let Some(m) = c.overlong() {
        return Err(Error::invalid("filters", m));
    }
    let object_type = match c.object_type.trim() {
        "" => None,
        t => match ObjectType::parse(t) {
            Some(t) => Some(t),
            // No entry is about an unknown kind of object.
            None => return Ok((Vec::new(), 0)),
        },
    };
    let f = Filter {
        actor: c.actor.to_string(),
        action: c.action.to_string(),
        object_type,
        object_id: c.object_id.to_string(),
        from: day(c.from),
        to: day(c.to).map(|t| t + 86_400),
    };
    Ok(audit::search(state.pool(), &f, limit, offset).await?)
}
