//! The whole life of an invitation group (团组), declared once: its states, the actions on it,
//! who may take each in which state ([`TABLE`]), who may see it, which states wait for whom,
//! the audit name of each action and the group's numbers. The workflow layer enforces this
//! table, pages show their buttons from it and the synthetic generator walks it.
//!
//! ```text
//!            Submit(unit)        CountyApprove(county)       Accept(city)      Report(city)      Dispatch(city)
//!   Draft ───────────────▶ PendingCounty ───────────▶ PendingCity ─────▶ Accepted ─────▶ Reported ─────▶ Dispatched
//!     ▲                     │ CountyReturn(county)      │ CityReturn(city)
//!     │                     ▼                           ▼
//!     └─────────── Returned ◀───────────────────────────┘   (Submit(unit) again → PendingCounty)
//!                      ▲  ▲
//!   Accepted ──────────┘  └──────── Reported        CityReturn(city) from 已受理; MinistryRefuse(city)
//!                                                    from 已上报外交部 (外交部不予核实)
//!
//!   PendingCounty ── Withdraw(unit) ──▶ Withdrawn    (editable; Submit(unit) again → PendingCounty)
//!   Dispatched ──── Cancel(unit, city) ──▶ Cancelled (取消邀请: its visitors get cancellation records)
//!   Draft ───────── Delete(unit)                     (the never-submitted draft is removed)
//! ```

use serde::{Deserialize, Serialize};

use super::flow::{self, Rule, Table};
use super::principal::{Principal, Role};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupState {
    Draft,
    PendingCounty,
    PendingCity,
    Accepted,
    Reported,
    Dispatched,
    Returned,
    /// 已撤回: withdrawn by its unit before the county acted; editable and resubmittable.
    Withdrawn,
    /// 已取消: a dispatched invitation called off by its unit or the city.
    Cancelled,
}

impl GroupState {
    pub const ALL: [GroupState; 9] = [
        GroupState::Draft,
        GroupState::PendingCounty,
        GroupState::PendingCity,
        GroupState::Accepted,
        GroupState::Reported,
        GroupState::Dispatched,
        GroupState::Returned,
        GroupState::Withdrawn,
        GroupState::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Draft => "draft",
            GroupState::PendingCounty => "pending_county",
            GroupState::PendingCity => "pending_city",
            GroupState::Accepted => "accepted",
            GroupState::Reported => "reported",
            GroupState::Dispatched => "dispatched",
            GroupState::Returned => "returned",
            GroupState::Withdrawn => "withdrawn",
            GroupState::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<GroupState> {
        GroupState::ALL.into_iter().find(|g| g.as_str() == s)
    }
    /// What the unit must do next (or what it waits for), for its 来华申报 home (issue 17).
    pub fn unit_next_step(self) -> &'static str {
        match self {
            GroupState::Draft => "补齐资料和附件，【打印】申请表并上传盖章签字的扫描件后【提交】。",
            GroupState::PendingCounty => "等待县区外办初审；初审前可【撤回】修改。",
            GroupState::PendingCity => "等待市外办审核受理。",
            GroupState::Accepted => "等待市外办上报外交部。",
            GroupState::Reported => "等待外交部核实和市外办发件。",
            GroupState::Dispatched => "下载邀请函；外宾入境后办理销签登记。",
            GroupState::Returned => "按退件原因修改后重新【提交】。",
            GroupState::Withdrawn => "修改后重新【提交】。",
            GroupState::Cancelled => "邀请已取消，无需办理。",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            GroupState::Draft => "未提交",
            GroupState::PendingCounty => "待县区外办初审",
            GroupState::PendingCity => "待市外办审核",
            GroupState::Accepted => "已受理",
            GroupState::Reported => "已上报外交部",
            GroupState::Dispatched => "已发件",
            GroupState::Returned => "退件",
            GroupState::Withdrawn => "已撤回",
            GroupState::Cancelled => "已取消",
        }
    }
    /// The unit may edit, print, upload and submit.
    pub fn editable(self) -> bool {
        matches!(
            self,
            GroupState::Draft | GroupState::Returned | GroupState::Withdrawn
        )
    }
    /// Counted as an open application (for the overlapping-passport warning).
    pub fn open(self) -> bool {
        !matches!(self, GroupState::Dispatched | GroupState::Cancelled)
    }
}

/// What can be done to a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupAction {
    /// 【保存】 the group and its visitors (also the first save, which creates it as a draft).
    Save,
    /// Upload or replace one of its files (the stamped form, scans, proofs).
    Upload,
    /// 【打印】 the application form.
    Print,
    /// 【提交】 to the county.
    Submit,
    /// County 【审核通过】 (初审).
    CountyApprove,
    /// County 【退件】.
    CountyReturn,
    /// City 【退件】.
    CityReturn,
    /// City 【受理】: draws the 受理编号.
    Accept,
    /// City 【上报外交部】: records the 核实单号.
    Report,
    /// City 【发件】: uploads the letter.
    Dispatch,
    /// Unit 【撤回】 before the county acted.
    Withdraw,
    /// Unit 【删除草稿】 of a draft never submitted (the group is removed: its rule's `to` is
    /// where it would stay if the deletion were refused).
    Delete,
    /// City 【外交部不予核实】: the Ministry refused to verify; back to the unit with its reason.
    MinistryRefuse,
    /// Unit or city 【取消邀请】 of a dispatched invitation, with a reason.
    Cancel,
}

impl GroupAction {
    pub const ALL: [GroupAction; 14] = [
        GroupAction::Save,
        GroupAction::Upload,
        GroupAction::Print,
        GroupAction::Submit,
        GroupAction::CountyApprove,
        GroupAction::CountyReturn,
        GroupAction::CityReturn,
        GroupAction::Accept,
        GroupAction::Report,
        GroupAction::Dispatch,
        GroupAction::Withdraw,
        GroupAction::Delete,
        GroupAction::MinistryRefuse,
        GroupAction::Cancel,
    ];
    /// The action's name in the audit log.
    pub fn audit_name(self) -> &'static str {
        match self {
            GroupAction::Save => "group.save",
            GroupAction::Upload => "group.file",
            GroupAction::Print => "group.print",
            GroupAction::Submit => "group.submit",
            GroupAction::CountyApprove => "group.county_approve",
            GroupAction::CountyReturn => "group.county_return",
            GroupAction::CityReturn => "group.city_return",
            GroupAction::Accept => "group.accept",
            GroupAction::Report => "group.report",
            GroupAction::Dispatch => "group.dispatch",
            GroupAction::Withdraw => "group.withdraw",
            GroupAction::Delete => "group.delete",
            GroupAction::MinistryRefuse => "group.ministry_refuse",
            GroupAction::Cancel => "group.cancel",
        }
    }
    /// Whether the action ends the offices' work rather than being it: a group where the role
    /// only has these does not wait for it (a dispatched group is in no queue though the city
    /// may cancel it).
    pub fn is_aside(self) -> bool {
        matches!(
            self,
            GroupAction::Withdraw | GroupAction::Delete | GroupAction::Cancel
        )
    }
    /// Whether the action sends the group back to the unit with a reason.
    pub fn is_return(self) -> bool {
        matches!(self, GroupAction::CountyReturn | GroupAction::CityReturn)
    }
}

/// The audit name of a group's creation (its first 【保存】).
pub const CREATE_AUDIT_NAME: &str = "group.create";

/// The audit name of 再次邀请: a new draft saved as a copy of an earlier group.
pub const COPY_AUDIT_NAME: &str = "group.copy";

use GroupAction as A;
use GroupState as S;
use Role::{City, County, Unit};

/// Every rule of a group's life.
pub const TABLE: Table<GroupState, GroupAction> = &[
    Rule {
        from: S::Draft,
        action: A::Save,
        by: Unit,
        to: S::Draft,
    },
    Rule {
        from: S::Draft,
        action: A::Upload,
        by: Unit,
        to: S::Draft,
    },
    Rule {
        from: S::Draft,
        action: A::Print,
        by: Unit,
        to: S::Draft,
    },
    Rule {
        from: S::Draft,
        action: A::Submit,
        by: Unit,
        to: S::PendingCounty,
    },
    Rule {
        from: S::Returned,
        action: A::Save,
        by: Unit,
        to: S::Returned,
    },
    Rule {
        from: S::Returned,
        action: A::Upload,
        by: Unit,
        to: S::Returned,
    },
    Rule {
        from: S::Returned,
        action: A::Print,
        by: Unit,
        to: S::Returned,
    },
    Rule {
        from: S::Returned,
        action: A::Submit,
        by: Unit,
        to: S::PendingCounty,
    },
    Rule {
        from: S::Withdrawn,
        action: A::Save,
        by: Unit,
        to: S::Withdrawn,
    },
    Rule {
        from: S::Withdrawn,
        action: A::Upload,
        by: Unit,
        to: S::Withdrawn,
    },
    Rule {
        from: S::Withdrawn,
        action: A::Print,
        by: Unit,
        to: S::Withdrawn,
    },
    Rule {
        from: S::Withdrawn,
        action: A::Submit,
        by: Unit,
        to: S::PendingCounty,
    },
    Rule {
        from: S::Draft,
        action: A::Delete,
        by: Unit,
        to: S::Draft,
    },
    Rule {
        from: S::PendingCounty,
        action: A::Withdraw,
        by: Unit,
        to: S::Withdrawn,
    },
    Rule {
        from: S::PendingCounty,
        action: A::CountyApprove,
        by: County,
        to: S::PendingCity,
    },
    Rule {
        from: S::PendingCounty,
        action: A::CountyReturn,
        by: County,
        to: S::Returned,
    },
    Rule {
        from: S::PendingCity,
        action: A::CityReturn,
        by: City,
        to: S::Returned,
    },
    Rule {
        from: S::PendingCity,
        action: A::Accept,
        by: City,
        to: S::Accepted,
    },
    Rule {
        from: S::Accepted,
        action: A::Report,
        by: City,
        to: S::Reported,
    },
    Rule {
        from: S::Accepted,
        action: A::CityReturn,
        by: City,
        to: S::Returned,
    },
    Rule {
        from: S::Reported,
        action: A::Dispatch,
        by: City,
        to: S::Dispatched,
    },
    Rule {
        from: S::Reported,
        action: A::MinistryRefuse,
        by: City,
        to: S::Returned,
    },
    Rule {
        from: S::Dispatched,
        action: A::Cancel,
        by: Unit,
        to: S::Cancelled,
    },
    Rule {
        from: S::Dispatched,
        action: A::Cancel,
        by: City,
        to: S::Cancelled,
    },
];

/// The state the principal's `action` leads to, for a group of `unit` in `district` now in
/// `from`; `None` when the principal may not take it there.
pub fn may(p: &Principal, from: S, action: A, district: i64, unit: i64) -> Option<S> {
    flow::may(TABLE, p, from, action, district, unit)
}

/// The actions a principal may take on this group now (a page's buttons).
pub fn actions(p: &Principal, state: S, district: i64, unit: i64) -> Vec<A> {
    flow::allowed(TABLE, &GroupAction::ALL, p, state, district, unit)
}

/// Whether `role` takes `action` in some state: a principal refused in this state is told the
/// group has moved on; one whose role never takes it, that they may not.
pub fn role_takes(role: Role, action: A) -> bool {
    TABLE.iter().any(|r| r.action == action && r.by == role)
}

/// The 【退件】 of `role` (county and city each have their own), if it has one.
pub fn return_action(role: Role) -> Option<A> {
    GroupAction::ALL
        .into_iter()
        .find(|a| a.is_return() && role_takes(role, *a))
}

/// The states whose groups wait for `role` (its 团组待办), in the order they are worked.
pub fn work_states(role: Role) -> Vec<S> {
    flow::waiting_for(TABLE, role)
        .into_iter()
        .filter(|s| !s.editable())
        .filter(|s| {
            TABLE
                .iter()
                .any(|r| r.from == *s && r.by == role && !r.action.is_aside())
        })
        .collect()
}

/// The states of a group still being processed, each shown in its unit's 办理进度: with the
/// unit (not yet submitted, returned, withdrawn) or with an office. Dispatched groups (办结)
/// and cancelled ones are done.
pub const IN_PROGRESS: [S; 7] = [
    S::Draft,
    S::PendingCounty,
    S::PendingCity,
    S::Accepted,
    S::Reported,
    S::Returned,
    S::Withdrawn,
];

/// Whether a group in `state` waits for an office, so that its working-day limit runs.
pub fn with_offices(state: S) -> bool {
    [Role::County, Role::City]
        .into_iter()
        .any(|r| work_states(r).contains(&state))
}

/// Who may see a group: its unit always; county staff of its district while it is with the
/// offices (not a draft, not back with the unit after a return); city staff once the county
/// passed it and while it is not back with the unit (a cancelled invitation stays visible);
/// administrators once submitted.
pub fn may_view(p: &Principal, state: S, district: i64, unit: i64) -> bool {
    match p.role {
        Role::Unit => p.unit_id == Some(unit),
        Role::County => p.district_id == Some(district) && !state.editable(),
        Role::City => matches!(
            state,
            S::PendingCity | S::Accepted | S::Reported | S::Dispatched | S::Cancelled
        ),
        Role::Admin => !state.editable(),
    }
}

/// The per-year sequences a group draws numbers from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sequence {
    /// The group number, drawn at its first 【保存】.
    Group,
    /// The 受理编号, drawn at 【受理】.
    Acceptance,
}

impl Sequence {
    /// The name of its counter in the database.
    pub fn counter(self) -> &'static str {
        match self {
            Sequence::Group => "group",
            Sequence::Acceptance => "acceptance",
        }
    }
    /// The number for the `seq`-th of `year`: a group number `YYYYNNNN` (e.g. 20200007), a
    /// 受理编号 `SLYYYYNNNNN` (e.g. SL202600012).
    pub fn format(self, year: i32, seq: i64) -> String {
        match self {
            Sequence::Group => format!("{year}{seq:04}"),
            Sequence::Acceptance => format!("SL{year}{seq:05}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::flow::testing::{check_every_rule, who};

    /// 办理进度 lists every group an office works on or the unit may still submit.
    #[test]
    fn in_progress_is_every_state_but_the_finished_ones() {
        for s in GroupState::ALL {
            let done = matches!(s, S::Dispatched | S::Cancelled);
            assert_eq!(IN_PROGRESS.contains(&s), !done, "{s:?}");
            if with_offices(s) || s.editable() {
                assert!(IN_PROGRESS.contains(&s), "{s:?}");
            }
        }
    }

    /// Every state × action × role, against the life the SPEC describes.
    #[test]
    fn every_state_action_and_role() {
        check_every_rule(
            TABLE,
            &GroupState::ALL,
            &GroupAction::ALL,
            |from, action, role| match (from, action, role) {
                (S::Draft | S::Returned | S::Withdrawn, A::Save | A::Upload | A::Print, Unit) => {
                    Some(from)
                }
                (S::Draft | S::Returned | S::Withdrawn, A::Submit, Unit) => Some(S::PendingCounty),
                (S::Draft, A::Delete, Unit) => Some(S::Draft),
                (S::PendingCounty, A::Withdraw, Unit) => Some(S::Withdrawn),
                (S::PendingCounty, A::CountyApprove, County) => Some(S::PendingCity),
                (S::PendingCounty, A::CountyReturn, County) => Some(S::Returned),
                (S::PendingCity | S::Accepted, A::CityReturn, City) => Some(S::Returned),
                (S::PendingCity, A::Accept, City) => Some(S::Accepted),
                (S::Accepted, A::Report, City) => Some(S::Reported),
                (S::Reported, A::Dispatch, City) => Some(S::Dispatched),
                (S::Reported, A::MinistryRefuse, City) => Some(S::Returned),
                (S::Dispatched, A::Cancel, Unit | City) => Some(S::Cancelled),
                _ => None,
            },
        );
    }

    #[test]
    fn only_cancelling_leaves_a_dispatched_group_and_every_state_is_reached() {
        assert!(GroupState::ALL
            .iter()
            .all(|s| *s == S::Draft || TABLE.iter().any(|r| r.to == *s && r.from != *s)));
        assert!(TABLE
            .iter()
            .filter(|r| r.from == S::Dispatched)
            .all(|r| r.action == A::Cancel && r.to == S::Cancelled));
        assert!(!TABLE.iter().any(|r| r.from == S::Cancelled));
        assert!(!S::Cancelled.open() && !S::Cancelled.editable() && S::Withdrawn.editable());
    }

    #[test]
    fn work_queues_and_visibility() {
        assert_eq!(work_states(County), vec![S::PendingCounty]);
        assert_eq!(
            work_states(City),
            vec![S::PendingCity, S::Accepted, S::Reported]
        );
        assert!(work_states(Unit).is_empty() && work_states(Role::Admin).is_empty());
        for s in GroupState::ALL {
            assert!(may_view(&who(Unit), s, 3, 7));
            assert!(!may_view(&who(Unit), s, 3, 8));
            assert_eq!(may_view(&who(County), s, 3, 7), !s.editable());
            assert!(!may_view(&who(County), s, 4, 7));
            assert_eq!(may_view(&who(Role::Admin), s, 3, 7), !s.editable());
        }
        assert!(!may_view(&who(City), S::PendingCounty, 3, 7));
        assert!(!may_view(&who(City), S::Withdrawn, 3, 7));
        assert!(may_view(&who(City), S::Dispatched, 3, 7));
        assert!(may_view(&who(City), S::Cancelled, 3, 7));
    }

    #[test]
    fn returns_and_the_running_clock() {
        assert_eq!(return_action(County), Some(A::CountyReturn));
        assert_eq!(return_action(City), Some(A::CityReturn));
        assert_eq!(return_action(Unit), None);
        assert_eq!(return_action(Role::Admin), None);
        assert!(role_takes(Unit, A::Submit) && !role_takes(City, A::CountyApprove));
        let running: Vec<S> = GroupState::ALL
            .into_iter()
            .filter(|s| with_offices(*s))
            .collect();
        assert_eq!(
            running,
            vec![S::PendingCounty, S::PendingCity, S::Accepted, S::Reported]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(Sequence::Group.format(2020, 7), "20200007");
        assert_eq!(Sequence::Acceptance.format(2026, 12), "SL202600012");
        assert_eq!(GroupAction::CityReturn.audit_name(), "group.city_return");
        assert_eq!(GroupAction::Withdraw.audit_name(), "group.withdraw");
        assert_eq!(GroupAction::Delete.audit_name(), "group.delete");
        assert_eq!(
            GroupAction::MinistryRefuse.audit_name(),
            "group.ministry_refuse"
        );
        assert_eq!(GroupAction::Cancel.audit_name(), "group.cancel");
        assert_eq!(COPY_AUDIT_NAME, "group.copy");
    }
}
