//! 好差评 (GB/T 39734-2020, GB/T 39735-2020): a unit rates each step of its group that the
//! offices decided — every 发件 and every 退件 — on five levels with a comment. 不满意 or worse
//! opens a follow-up item (差评整改) for the city office, due within [`FOLLOW_UP_DAYS`] working
//! days; once the office replied, the unit may rate the step again (the next round).

use chrono::NaiveDate;

use super::fields::FieldErrors;
use super::group::GroupState;
use super::group_flow::{GroupAction, TABLE};

/// Working days within which the city office answers a follow-up item.
pub const FOLLOW_UP_DAYS: i64 = 15;
/// Most characters of a comment.
pub const MAX_COMMENT: usize = 1000;
/// Most characters of the office's reply (整改情况).
pub const MAX_REPLY: usize = 2000;

/// The five levels of satisfaction, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    VerySatisfied,
    Satisfied,
    Basic,
    Dissatisfied,
    VeryDissatisfied,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::VerySatisfied,
        Level::Satisfied,
        Level::Basic,
        Level::Dissatisfied,
        Level::VeryDissatisfied,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Level::VerySatisfied => "very_satisfied",
            Level::Satisfied => "satisfied",
            Level::Basic => "basic",
            Level::Dissatisfied => "dissatisfied",
            Level::VeryDissatisfied => "very_dissatisfied",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }
    pub fn label(self) -> &'static str {
        match self {
            Level::VerySatisfied => "非常满意",
            Level::Satisfied => "满意",
            Level::Basic => "基本满意",
            Level::Dissatisfied => "不满意",
            Level::VeryDissatisfied => "非常不满意",
        }
    }
    /// 好评: counted as satisfied in the satisfaction rate.
    pub fn satisfied(self) -> bool {
        matches!(self, Level::VerySatisfied | Level::Satisfied | Level::Basic)
    }
    /// 差评: the comment is required and a follow-up item opens.
    pub fn needs_follow_up(self) -> bool {
        !self.satisfied()
    }
}

/// Where a rating's follow-up stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowUp {
    /// A satisfied rating: nothing to follow up.
    None,
    /// Waits for the city office.
    Open,
    /// The office replied: the unit may rate again.
    Done,
}

impl FollowUp {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::None => "none",
            FollowUp::Open => "open",
            FollowUp::Done => "done",
        }
    }
    pub fn parse(s: &str) -> Option<FollowUp> {
        [FollowUp::None, FollowUp::Open, FollowUp::Done]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

/// The group actions whose steps a unit rates: those the offices take that send the group to
/// 已发件 or back to the unit (退件), as the group's state machine declares them — a return
/// added to the table is ratable without a change here.
pub fn ratable_actions() -> Vec<GroupAction> {
    GroupAction::ALL
        .into_iter()
        .filter(|a| {
            TABLE.iter().any(|r| {
                r.action == *a
                    && r.from != r.to
                    && matches!(r.to, GroupState::Dispatched | GroupState::Returned)
            })
        })
        .collect()
}

/// The ratable action of an audit name, if it is one.
pub fn ratable_action(audit_name: &str) -> Option<GroupAction> {
    ratable_actions()
        .into_iter()
        .find(|a| a.audit_name() == audit_name)
}

/// A rating as typed, checked: the level, and the comment (required for 不满意 and worse).
pub fn parse_rating(level: &str, comment: &str) -> Result<(Level, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let level = Level::parse(level);
    let comment = comment.trim().to_string();
    match level {
        None => errors.add("level", "请选择满意程度"),
        Some(l) if l.needs_follow_up() && comment.is_empty() => errors.add(
            "comment",
            "选择“不满意”或“非常不满意”时，请在评价内容中说明不满意的原因",
        ),
        _ => {}
    }
    if comment.chars().count() > MAX_COMMENT {
        errors.add("comment", format!("评价内容不能超过{MAX_COMMENT}个字符"));
    }
    match level {
        Some(l) if errors.is_empty() => Ok((l, comment)),
        _ => Err(errors),
    }
}

/// The office's reply as typed, checked.
pub fn parse_reply(reply: &str) -> Result<String, FieldErrors> {
    let reply = reply.trim().to_string();
    let mut errors = FieldErrors::new();
    if reply.is_empty() {
        errors.add("reply", "请填写整改情况，说明已采取的整改措施和结果");
    } else if reply.chars().count() > MAX_REPLY {
        errors.add("reply", format!("整改情况不能超过{MAX_REPLY}个字符"));
    }
    if errors.is_empty() {
        Ok(reply)
    } else {
        Err(errors)
    }
}

/// The day `n` working days after `from` (weekends and `holidays` skipped): the last day of a
/// limit that starts counting the day after `from`, as `group::working_days_between` counts.
pub fn add_working_days(from: NaiveDate, n: i64, holidays: &[NaiveDate]) -> NaiveDate {
    use chrono::Datelike;
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        if d.weekday().number_from_monday() <= 5 && !holidays.contains(&d) {
            left -= 1;
        }
    }
    d
}

/// The satisfaction rate in percent (satisfied of all), none without ratings.
pub fn satisfaction_rate(satisfied: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| (satisfied as f64) * 100.0 / (total as f64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::group::{parse_date, working_days_left};

    #[test]
    fn levels_and_their_follow_up() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        assert_eq!(Level::parse("meh"), None);
        let labels: Vec<&str> = Level::ALL.iter().map(|l| l.label()).collect();
        assert_eq!(
            labels,
            ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        );
        assert!(Level::Basic.satisfied() && !Level::Basic.needs_follow_up());
        assert!(Level::Dissatisfied.needs_follow_up() && Level::VeryDissatisfied.needs_follow_up());
    }

    #[test]
    fn dispatch_and_every_return_are_ratable() {
        let names: Vec<&str> = ratable_actions().iter().map(|a| a.audit_name()).collect();
        assert!(names.contains(&"group.dispatch"));
        assert!(names.contains(&"group.county_return"));
        assert!(names.contains(&"group.city_return"));
        assert!(!names.contains(&"group.accept") && !names.contains(&"group.submit"));
        assert_eq!(
            ratable_action("group.dispatch"),
            Some(GroupAction::Dispatch)
        );
        assert_eq!(ratable_action("group.save"), None);
    }

    #[test]
    fn a_bad_rating_needs_a_comment() {
        assert!(parse_rating("satisfied", "").is_ok());
        let e = parse_rating("dissatisfied", "  ").unwrap_err();
        assert!(e.has("comment"));
        assert!(parse_rating("", "x").unwrap_err().has("level"));
        assert_eq!(
            parse_rating("very_dissatisfied", " 太慢 ").unwrap(),
            (Level::VeryDissatisfied, "太慢".to_string())
        );
        assert!(parse_rating("satisfied", &"字".repeat(1001)).is_err());
        assert!(parse_reply(" ").unwrap_err().has("reply"));
        assert_eq!(parse_reply(" 已改进 ").unwrap(), "已改进");
    }

    #[test]
    fn due_date_agrees_with_the_days_left() {
        let d = |s| parse_date(s).unwrap();
        // Monday 2026-11-30 + 15 working days, with one holiday on the way.
        let holidays = [d("2026-12-08")];
        let due = add_working_days(d("2026-11-30"), FOLLOW_UP_DAYS, &holidays);
        assert_eq!(due, d("2026-12-22"));
        assert_eq!(
            working_days_left(d("2026-11-30"), due, FOLLOW_UP_DAYS, &holidays),
            0
        );
        // Rated on a Saturday: counting starts on Monday.
        assert_eq!(add_working_days(d("2026-12-05"), 1, &[]), d("2026-12-07"));
        assert_eq!(satisfaction_rate(3, 4), Some(75.0));
        assert_eq!(satisfaction_rate(0, 0), None);
    }
}
