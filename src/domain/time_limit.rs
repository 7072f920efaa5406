//! The office's time limits as the settings give them, parsed in one place: the working days
//! within which it answers a group and the public holidays that are not working days; the days
//! after a planned departure when a visitor without 销签登记 is overdue, and the warning and
//! block on a unit's pages.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::group::parse_date;
use super::settings::Setting;

/// 办理时限 in working days, when the setting is missing or unreadable.
pub const PROCESSING_DAYS: i64 = 5;

/// Days after the planned departure when an unregistered visitor is overdue, when the setting
/// is missing or unreadable.
pub const OVERDUE_DAYS: i64 = 30;

fn number(settings: &HashMap<Setting, String>, key: Setting, default: i64) -> i64 {
    settings
        .get(&key)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(default)
}

/// The processing limit and the holidays from the settings [`Setting::ProcessingDays`] and
/// [`Setting::Holidays`] (dates separated by commas, spaces or lines; others are skipped).
pub fn limits_from(settings: &HashMap<Setting, String>) -> (i64, Vec<NaiveDate>) {
    let days = number(settings, Setting::ProcessingDays, PROCESSING_DAYS);
    let holidays = settings
        .get(&Setting::Holidays)
        .map(String::as_str)
        .unwrap_or_default()
        .split([',', '\n', ' '])
        .filter_map(parse_date)
        .collect();
    (days, holidays)
}

/// The overdue limit from the setting [`Setting::OverdueDays`].
pub fn overdue_days_from(value: Option<&str>) -> i64 {
    value
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(OVERDUE_DAYS)
}

/// When a unit's pages warn of its overdue visitors, from [`Setting::OverdueDays`],
/// [`Setting::OverdueWarnDays`] and [`Setting::OverdueBlocksApplications`]: the days after a
/// planned departure (the overdue limit and the extra days), and whether new applications are
/// blocked then.
pub fn overdue_warning_from(settings: &HashMap<Setting, String>) -> (i64, bool) {
    let days = number(settings, Setting::OverdueDays, OVERDUE_DAYS)
        + number(settings, Setting::OverdueWarnDays, 0);
    let block = settings
        .get(&Setting::OverdueBlocksApplications)
        .is_some_and(|v| v.trim() == "1");
    (days, block)
}

/// The settings [`overdue_warning_from`] reads.
pub const OVERDUE_WARNING_SETTINGS: [Setting; 3] = [
    Setting::OverdueDays,
    Setting::OverdueWarnDays,
    Setting::OverdueBlocksApplications,
];

/// The settings [`limits_from`] reads.
pub const LIMIT_SETTINGS: [Setting; 2] = [Setting::ProcessingDays, Setting::Holidays];

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(Setting, &str)]) -> HashMap<Setting, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn limits_and_holidays() {
        let (days, holidays) = limits_from(&set(&[
            (Setting::ProcessingDays, " 7 "),
            (Setting::Holidays, "2026-10-01,2026-10-02\n2026-10-03 x"),
        ]));
        assert_eq!(days, 7);
        assert_eq!(holidays.len(), 3);
        assert_eq!(limits_from(&set(&[])), (PROCESSING_DAYS, Vec::new()));
        assert_eq!(
            limits_from(&set(&[(Setting::ProcessingDays, "x")])).0,
            PROCESSING_DAYS
        );
    }

    #[test]
    fn overdue_limits() {
        assert_eq!(overdue_days_from(None), OVERDUE_DAYS);
        assert_eq!(overdue_days_from(Some(" 12")), 12);
        assert_eq!(overdue_days_from(Some("")), OVERDUE_DAYS);
        assert_eq!(overdue_warning_from(&set(&[])), (OVERDUE_DAYS, false));
        assert_eq!(
            overdue_warning_from(&set(&[
                (Setting::OverdueDays, "10"),
                (Setting::OverdueWarnDays, "5"),
                (Setting::OverdueBlocksApplications, "1"),
            ])),
            (15, true)
        );
    }
}
