//! 销签登记: the post-visit registrations of dispatched groups' visitors, their review, and
//! the reminders of overdue ones.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::error::Outcome;
use super::notify;
use crate::domain::principal::Actor;
use crate::domain::settings::Setting;
use crate::state::AppState;
use crate::store::visits::{self, VisitRow};
use crate::store::{audit, reference, units};

/// Days after the planned departure when an unregistered visitor is overdue, when the
/// setting is missing.
pub const OVERDUE_DAYS: i64 = 30;

/// Days after the planned departure when an unregistered visitor is overdue (setting).
pub async fn overdue_days(state: &AppState) -> Outcome<i64> {
    Ok(reference::setting(state.pool(), Setting::OverdueDays)
        .await?
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(OVERDUE_DAYS))
}

pub fn cutoff(today: NaiveDate, days: i64) -> String {
    (today - chrono::Duration::days(days)).to_string()
}

/// Sends the first reminder to units whose visitors became overdue and a weekly one after.
/// Each reminder is claimed in the database, so several server instances send it once.
/// Returns the number of visitors reminded.
pub async fn run_overdue(state: &AppState) -> Outcome<usize> {
    let days = overdue_days(state).await?;
    let today = state.today();
    // Every overdue visitor: those reminded within the week are left out below.
    let rows = visits::overdue(
        state.pool(),
        None,
        &cutoff(today, days),
        today,
        days,
        i64::MAX,
        0,
    )
    .await?;
    let now = state.now();
    const EVERY: i64 = 7 * 86_400;
    // Units whose overdue visitors were all reminded within the week need no transaction.
    let recent = visits::reminded_since(state.pool(), now - EVERY).await?;
    let mut by_unit: BTreeMap<i64, Vec<VisitRow>> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| !recent.contains(&r.visitor_id)) {
        by_unit.entry(r.unit_id).or_default().push(r);
    }
    let mut n = 0;
    for (unit_id, rows) in by_unit {
        let mut tx = state.db.begin().await?;
        // Lock the unit first: another instance working on the same unit waits here, then
        // finds every reminder already claimed.
        units::lock(tx.conn(), unit_id).await?;
        let mut claimed = Vec::new();
        for r in rows {
            if visits::claim_reminder(tx.conn(), r.visitor_id, now, EVERY).await? {
                claimed.push(r);
            }
        }
        if claimed.is_empty() {
            tx.commit().await?;
            continue;
        }
        n += claimed.len();
        let list: Vec<String> = claimed
            .iter()
            .map(|r| {
                format!(
                    "团组{} {}（计划{}出境）",
                    r.group_number, r.name, r.departure
                )
            })
            .collect();
        let notice = notify::visit_overdue(&state.site().await?.office_name, &list);
        notify::write(tx.conn(), unit_id, &Actor::system(), &notice, now).await?;
        audit::record(
            tx.conn(),
            &Actor::system(),
            now,
            "visit.overdue_reminder",
            "unit",
            &unit_id.to_string(),
            &list.join("；"),
        )
        .await?;
        tx.commit().await?;
        if let Some(unit) = units::get(state.pool(), unit_id).await? {
            notify::send_sms(state, &unit.mobile, &notice).await;
        }
    }
    Ok(n)
}
