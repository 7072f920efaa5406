//! The navigation's work-queue counts, in one statement.

use sqlx::Row;

use super::sql::DbResult;
use crate::domain::group::GroupState;
use crate::domain::registration_flow::RegState;
use crate::domain::visit::VisitState;

/// How many items wait in each queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Registrations and change requests.
    pub registrations: i64,
    pub groups: i64,
    /// Post-visit registrations.
    pub visits: i64,
    /// Open follow-up items of 差评 (好差评).
    pub followups: i64,
}

/// Counts registrations and change requests in `unit_state` (none when `None`), groups in
/// `group_states` and post-visit registrations in `visit_state`, in `district` or the whole city;
/// and the open follow-up items of 差评 when `followups`.
pub async fn counts(
    pool: &sqlx::AnyPool,
    unit_state: Option<RegState>,
    group_states: &[GroupState],
    visit_state: Option<VisitState>,
    district: Option<i64>,
    followups: bool,
) -> DbResult<QueueCounts> {
    const NONE: &str = "SELECT CAST(0 AS BIGINT)";
    let units = unit_state.map_or(NONE.into(), |s| super::units::queue_count_sql(s, district));
    let groups = match group_states {
        [] => NONE.into(),
        states => super::groups::queue_count_sql(states, district),
    };
    let visits = visit_state.map_or(NONE.into(), |s| super::visits::queue_count_sql(s, district));
    let followups = if followups {
        super::ratings::open_count_sql()
    } else {
        NONE.into()
    };
    let row = sqlx::query(&format!(
        "SELECT ({units}) AS units, ({groups}) AS grps, ({visits}) AS visits, \
         ({followups}) AS followups"
    ))
    .fetch_one(pool)
    .await?;
    Ok(QueueCounts {
        registrations: row.try_get("units")?,
        groups: row.try_get("grps")?,
        visits: row.try_get("visits")?,
        followups: row.try_get("followups")?,
    })
}
