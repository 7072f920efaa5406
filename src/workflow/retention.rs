//! Retention of visitors' personal data (issue 18, PIPL Art. 19, 47): once the period of the
//! setting 个人信息保存期限（年） (3 years by default) has passed since a group's last post-visit
//! registration was completed or its invitation was cancelled, the hourly job erases its
//! visitors' personal data and every file of the group (see `store::retention::erase_group`
//! for what goes and what is kept for the statistics), one group to a transaction, each erasure
//! in the audit log. The audit and access logs are not touched here (`workflow::access` keeps
//! the access log at least 180 days; the audit log is never purged).

use std::time::Duration;

use chrono::{Months, TimeZone, Utc};

use super::error::Outcome;
use crate::domain::access_log::personal_data_years_from;
use crate::domain::audit::ObjectType;
use crate::domain::settings::Setting;
use crate::state::AppState;
use crate::store::{audit, reference, retention, Actor};

/// The period in force, in years.
pub async fn years(state: &AppState) -> Outcome<i64> {
    let value = reference::setting(state.pool(), Setting::PersonalDataRetentionYears).await?;
    Ok(personal_data_years_from(value.as_deref()))
}

/// What a run erased.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    pub groups: usize,
    pub files: usize,
}

/// The moment `years` calendar years before `now`.
fn cutoff(now: i64, years: i64) -> i64 {
    let months = Months::new(u32::try_from(years * 12).unwrap_or(u32::MAX));
    Utc.timestamp_opt(now, 0)
        .single()
        .and_then(|t| t.checked_sub_months(months))
        .map_or(i64::MIN, |t| t.timestamp())
}

/// Erases the personal data of every group past the period.
pub async fn run(state: &AppState) -> Outcome<Erased> {
    let years = years(state).await?;
    let now = state.now();
    let before = cutoff(now, years);
    let mut done = Erased::default();
    loop {
        let due = retention::due_groups(state.pool(), before, 100).await?;
        if due.is_empty() {
            break;
        }
        for id in due {
            let mut tx = state.db.begin().await?;
            let Some(shas) = retention::erase_group(tx.conn(), id, now).await? else {
                continue;
            };
            audit::write(
                tx.conn(),
                &Actor::system(),
                now,
                "personal_data.erase",
                ObjectType::Group,
                &id.to_string(),
                &format!(
                    "保存期限{years}年届满：删除来访人员个人信息及{}个扫描件",
                    shas.len()
                ),
            )
            .await?;
            tx.commit().await?;
            done.groups += 1;
            for sha in shas {
                // A file that cannot be removed now is left to the hourly orphan sweep.
                match super::files::remove_if_unreferenced(
                    &state.db,
                    &state.files,
                    &sha,
                    Duration::from_secs(5),
                )
                .await
                {
                    Ok(super::files::Removal::Removed) => done.files += 1,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(sha256 = %sha, "removing an erased group's file: {e:#}")
                    }
                }
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_calendar_years_back() {
        // 2026-11-30 00:00 UTC, three years back: 2023-11-30; from 2028-02-29, one year back
        // is 2027-02-28.
        assert_eq!(cutoff(1_795_996_800, 3), 1_701_302_400);
        assert_eq!(cutoff(1_835_395_200, 1), 1_803_772_800);
    }
}
