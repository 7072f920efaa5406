//! The whole life of a post-visit registration (销签登记), declared once: its states, the actions
//! on it, who may take each in which state ([`TABLE`]), who may see it, which state waits for
//! whom and the audit name of each action. The workflow layer enforces this table and the pages
//! show their buttons from it.
//!
//! ```text
//!                 SaveEntered(unit)                  Submit(unit)          CountyApprove(county)          Complete(city)
//!  Unregistered ──────────────────▶ Entered ─Save─▶ Draft ─────────▶ PendingCounty ─────────────▶ PendingCity ─────────▶ Completed
//!        └──────────── Save(unit) ─────────────────▶ ▲                  │ CountyReturn(county)       │ CityReturn(city)
//!                                                    │                  ▼                            ▼
//!                                                    └ Returned ◀───────────────────────────────────┘   (Submit(unit) again → PendingCounty)
//! ```
//!
//! A visitor of a dispatched group has no registration until the unit first saves one
//! ([`VisitState::Unregistered`], never stored). The unit saves the entry alone while the visitor
//! is still in China ([`VisitAction::SaveEntered`]) and the whole registration (entry and exit,
//! or a cancellation) once they left ([`VisitAction::Save`]); a returned registration stays
//! returned when saved whole, so the unit sees why it came back until it submits again.

use super::flow::{self, Rule, Table};
use super::principal::{Principal, Role};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitState {
    /// No registration saved yet (a visitor without a row; never stored).
    Unregistered,
    /// Entry registered, the visitor is still in China (exit pending).
    Entered,
    /// Saved, not submitted.
    Draft,
    PendingCounty,
    PendingCity,
    Completed,
    Returned,
}

impl VisitState {
    pub const ALL: [VisitState; 7] = [
        VisitState::Unregistered,
        VisitState::Entered,
        VisitState::Draft,
        VisitState::PendingCounty,
        VisitState::PendingCity,
        VisitState::Completed,
        VisitState::Returned,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VisitState::Unregistered => "unregistered",
            VisitState::Entered => "entered",
            VisitState::Draft => "draft",
            VisitState::PendingCounty => "pending_county",
            VisitState::PendingCity => "pending_city",
            VisitState::Completed => "completed",
            VisitState::Returned => "returned",
        }
    }
    pub fn parse(s: &str) -> Option<VisitState> {
        VisitState::ALL.into_iter().find(|v| v.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            VisitState::Unregistered => "未登记",
            VisitState::Entered => "已入境",
            VisitState::Draft => "待提交",
            VisitState::PendingCounty => "待县区外办审核",
            VisitState::PendingCity => "待市外办审核",
            VisitState::Completed => "已销签",
            VisitState::Returned => "退回",
        }
    }
    /// The unit may still change it.
    pub fn editable(self) -> bool {
        matches!(
            self,
            VisitState::Unregistered
                | VisitState::Entered
                | VisitState::Draft
                | VisitState::Returned
        )
    }
    /// Counts as registered for the overdue rule (submitted or done).
    pub fn registered(self) -> bool {
        matches!(
            self,
            VisitState::PendingCounty | VisitState::PendingCity | VisitState::Completed
        )
    }
}

/// What can be done to a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitAction {
    /// 【保存】 the entry alone, while the visitor is still in China.
    SaveEntered,
    /// 【保存】 the whole registration: entry and exit, or the cancellation.
    Save,
    /// Upload or replace a scan (entry and exit stamps, visa page, the statement).
    Upload,
    /// [提交] to the county.
    Submit,
    /// County 【审核通过】.
    CountyApprove,
    /// County 【退回】.
    CountyReturn,
    /// City 【审核通过】: 已销签.
    Complete,
    /// City 【退回】.
    CityReturn,
}

impl VisitAction {
    pub const ALL: [VisitAction; 8] = [
        VisitAction::SaveEntered,
        VisitAction::Save,
        VisitAction::Upload,
        VisitAction::Submit,
        VisitAction::CountyApprove,
        VisitAction::CountyReturn,
        VisitAction::Complete,
        VisitAction::CityReturn,
    ];
    /// The action's name in the audit log.
    pub fn audit_name(self) -> &'static str {
        match self {
            VisitAction::SaveEntered | VisitAction::Save => "visit.save",
            VisitAction::Upload => "visit.file",
            VisitAction::Submit => "visit.submit",
            VisitAction::CountyApprove => "visit.county_approve",
            VisitAction::CountyReturn => "visit.county_return",
            VisitAction::Complete => "visit.complete",
            VisitAction::CityReturn => "visit.city_return",
        }
    }
    /// Whether the action sends the registration back to the unit with a reason.
    pub fn is_return(self) -> bool {
        matches!(self, VisitAction::CountyReturn | VisitAction::CityReturn)
    }
    /// A reviewer's decision: 【审核通过】 (`returned` false) or 【退回】 by `role`; `None` for
    /// roles that do not review.
    pub fn decision(role: Role, returned: bool) -> Option<VisitAction> {
        match (role, returned) {
            (Role::County, false) => Some(VisitAction::CountyApprove),
            (Role::County, true) => Some(VisitAction::CountyReturn),
            (Role::City, false) => Some(VisitAction::Complete),
            (Role::City, true) => Some(VisitAction::CityReturn),
            _ => None,
        }
    }
}

/// The audit name of the weekly reminder of a unit's overdue visitors (by the system, not a
/// step of a registration).
pub const OVERDUE_REMINDER_AUDIT_NAME: &str = "visit.overdue_reminder";

use Role::{City, County, Unit};
use VisitAction as A;
use VisitState as S;

const fn rule(from: S, action: A, by: Role, to: S) -> Rule<S, A> {
    Rule {
        from,
        action,
        by,
        to,
    }
}

/// Every rule of a registration's life.
pub const TABLE: Table<VisitState, VisitAction> = &[
    rule(S::Unregistered, A::SaveEntered, Unit, S::Entered),
    rule(S::Unregistered, A::Save, Unit, S::Draft),
    rule(S::Entered, A::SaveEntered, Unit, S::Entered),
    rule(S::Entered, A::Save, Unit, S::Draft),
    rule(S::Entered, A::Upload, Unit, S::Entered),
    rule(S::Draft, A::SaveEntered, Unit, S::Entered),
    rule(S::Draft, A::Save, Unit, S::Draft),
    rule(S::Draft, A::Upload, Unit, S::Draft),
    rule(S::Draft, A::Submit, Unit, S::PendingCounty),
    rule(S::Returned, A::SaveEntered, Unit, S::Entered),
    rule(S::Returned, A::Save, Unit, S::Returned),
    rule(S::Returned, A::Upload, Unit, S::Returned),
    rule(S::Returned, A::Submit, Unit, S::PendingCounty),
    rule(S::PendingCounty, A::CountyApprove, County, S::PendingCity),
    rule(S::PendingCounty, A::CountyReturn, County, S::Returned),
    rule(S::PendingCity, A::Complete, City, S::Completed),
    rule(S::PendingCity, A::CityReturn, City, S::Returned),
];

/// The state the principal's `action` leads to, for a registration of a visitor invited by
/// `unit` in `district` now in `from`; `None` when the principal may not take it there.
pub fn may(p: &Principal, from: S, action: A, district: i64, unit: i64) -> Option<S> {
    flow::may(TABLE, p, from, action, district, unit)
}

/// The actions a principal may take on this registration now (a page's buttons).
pub fn actions(p: &Principal, state: S, district: i64, unit: i64) -> Vec<A> {
    flow::allowed(TABLE, &VisitAction::ALL, p, state, district, unit)
}

/// The state whose registrations wait for `role` (its 销签待办), if any.
pub fn work_state(role: Role) -> Option<S> {
    flow::waiting_for(TABLE, role)
        .into_iter()
        .find(|s| !s.editable())
}

/// The state a save by the principal writes, or `None` when they may not save this visitor's
/// registration. The store saves in one upsert without reading the registration first: it
/// writes the state of a first save, except that a returned registration saved whole stays
/// returned (`Returned --Save--> Returned` in [`TABLE`]); its `WHERE` refuses the states
/// without a save.
pub fn saved_state(p: &Principal, action: A, district: i64, unit: i64) -> Option<S> {
    may(p, S::Unregistered, action, district, unit)
}

/// Who may see a registration: its unit always; county staff of its district once submitted;
/// city staff once the county passed it; administrators once submitted.
pub fn may_view(p: &Principal, state: S, district: i64, unit: i64) -> bool {
    match p.role {
        Role::Unit => p.unit_id == Some(unit),
        Role::County => p.district_id == Some(district) && state.registered(),
        Role::City => matches!(state, S::PendingCity | S::Completed),
        Role::Admin => state.registered(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::flow::testing::{check_every_rule, who};
    use crate::domain::flow::ROLES;

    /// Every state × action × role, against the life the SPEC describes.
    #[test]
    fn every_state_action_and_role() {
        check_every_rule(
            TABLE,
            &VisitState::ALL,
            &VisitAction::ALL,
            |from, action, role| match (from, action, role) {
                (_, A::SaveEntered, Unit) if from.editable() => Some(S::Entered),
                (S::Returned, A::Save, Unit) => Some(S::Returned),
                (_, A::Save, Unit) if from.editable() => Some(S::Draft),
                (S::Entered | S::Draft | S::Returned, A::Upload, Unit) => Some(from),
                (S::Draft | S::Returned, A::Submit, Unit) => Some(S::PendingCounty),
                (S::PendingCounty, A::CountyApprove, County) => Some(S::PendingCity),
                (S::PendingCounty, A::CountyReturn, County) => Some(S::Returned),
                (S::PendingCity, A::Complete, City) => Some(S::Completed),
                (S::PendingCity, A::CityReturn, City) => Some(S::Returned),
                _ => None,
            },
        );
    }

    #[test]
    fn nothing_leaves_a_completed_registration_and_every_state_is_reached() {
        assert!(VisitState::ALL
            .iter()
            .all(|s| *s == S::Unregistered || TABLE.iter().any(|r| r.to == *s && r.from != *s)));
        assert!(!TABLE.iter().any(|r| r.from == S::Completed));
        assert!(!TABLE.iter().any(|r| r.to == S::Unregistered));
    }

    /// The store's upsert writes `saved_state` and keeps `returned` on a whole save: the same
    /// state as the table for every state a save is allowed in.
    #[test]
    fn one_upsert_applies_the_table() {
        for from in VisitState::ALL.into_iter().filter(|s| s.editable()) {
            for action in [A::SaveEntered, A::Save] {
                let written = saved_state(&who(Unit), action, 3, 7);
                let upsert = match (from, written) {
                    (S::Returned, Some(S::Draft)) => Some(S::Returned),
                    (_, w) => w,
                };
                assert_eq!(upsert, flow::next(TABLE, from, action, Unit), "{from:?}");
            }
        }
    }

    #[test]
    fn work_queues_visibility_and_decisions() {
        assert_eq!(work_state(County), Some(S::PendingCounty));
        assert_eq!(work_state(City), Some(S::PendingCity));
        assert_eq!(work_state(Unit), None);
        assert_eq!(work_state(Role::Admin), None);
        for s in VisitState::ALL {
            assert!(may_view(&who(Unit), s, 3, 7));
            assert!(!may_view(&who(Unit), s, 3, 8));
            assert_eq!(may_view(&who(County), s, 3, 7), s.registered());
            assert!(!may_view(&who(County), s, 4, 7));
            assert_eq!(
                may_view(&who(City), s, 3, 7),
                matches!(s, S::PendingCity | S::Completed)
            );
            assert_eq!(may_view(&who(Role::Admin), s, 3, 7), s.registered());
        }
        // A reviewer's two buttons are the two actions the table gives them in their work state.
        for role in ROLES {
            let decisions: Vec<A> = [false, true]
                .into_iter()
                .filter_map(|returned| VisitAction::decision(role, returned))
                .collect();
            let buttons = work_state(role)
                .map(|s| actions(&who(role), s, 3, 7))
                .unwrap_or_default();
            assert_eq!(decisions, buttons, "{role:?}");
            assert!(
                decisions.iter().map(|a| a.is_return()).eq([false, true]) || decisions.is_empty()
            );
        }
        assert_eq!(VisitAction::Complete.audit_name(), "visit.complete");
        assert_eq!(VisitAction::SaveEntered.audit_name(), "visit.save");
    }
}
