//! The whole life of an inviting unit's registration and of its change requests (变更申请),
//! declared once: their states, the actions on them, who may take each in which state
//! ([`TABLE`]), who may see them, which states wait for whom, when a unit may open a change
//! request, and the audit name of each action. The workflow layer enforces this table and the
//! review pages show their buttons from it.
//!
//! ```text
//!            Submit(unit)        CountyApprove(county)       CityApprove(city)
//!   Draft ───────────────▶ PendingCounty ───────────▶ PendingCity ───────────▶ Approved
//!     ▲                     │ CountyReturn(county)      │ CityReturn(city)
//!     │                     ▼                           ▼
//!     └─────────── Returned ◀───────────────────────────┘   (Submit(unit) again → PendingCounty)
//! ```
//!
//! A change request goes through the same two reviews (SPEC), so both machines are this one
//! table; they differ in their audit names ([`Request::audit_name`]), in who sees them
//! ([`may_view`], [`may_view_change`]) and in that a unit opens a change request only once its
//! registration is approved, one at a time ([`request_for`]). The approved data stays in force until
//! the change is approved.

use super::audit::ObjectType;
use super::flow::{self, Rule, Table};
use super::principal::{Principal, Role};

/// Registration (and change request) states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegState {
    Draft,
    PendingCounty,
    PendingCity,
    Approved,
    Returned,
}

impl RegState {
    pub const ALL: [RegState; 5] = [
        RegState::Draft,
        RegState::PendingCounty,
        RegState::PendingCity,
        RegState::Approved,
        RegState::Returned,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RegState::Draft => "draft",
            RegState::PendingCounty => "pending_county",
            RegState::PendingCity => "pending_city",
            RegState::Approved => "approved",
            RegState::Returned => "returned",
        }
    }
    pub fn parse(s: &str) -> Option<RegState> {
        match s {
            "draft" => Some(RegState::Draft),
            "pending_county" => Some(RegState::PendingCounty),
            "pending_city" => Some(RegState::PendingCity),
            "approved" => Some(RegState::Approved),
            "returned" => Some(RegState::Returned),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            RegState::Draft => "未提交",
            RegState::PendingCounty => "待县区外办初审",
            RegState::PendingCity => "待市外办审核",
            RegState::Approved => "审核通过",
            RegState::Returned => "退回补充",
        }
    }
    /// The unit may edit and (re)submit.
    pub fn editable(self) -> bool {
        matches!(self, RegState::Draft | RegState::Returned)
    }
}

/// What can be done to a registration or a change request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegAction {
    /// Save the organisation data (修改注册信息).
    Save,
    /// Upload or replace one attachment.
    Upload,
    /// [提交注册] (a change request: 【提交】).
    Submit,
    /// County 【审核通过】 (初审).
    CountyApprove,
    /// County 【退回】 (退回补充).
    CountyReturn,
    /// City 【审核通过】.
    CityApprove,
    /// City 【退回】 (退回补充).
    CityReturn,
}

impl RegAction {
    pub const ALL: [RegAction; 7] = [
        RegAction::Save,
        RegAction::Upload,
        RegAction::Submit,
        RegAction::CountyApprove,
        RegAction::CountyReturn,
        RegAction::CityApprove,
        RegAction::CityReturn,
    ];
    /// Whether the action is a reviewer's (approving or returning).
    pub fn is_review(self) -> bool {
        !matches!(
            self,
            RegAction::Save | RegAction::Upload | RegAction::Submit
        )
    }
    /// Whether the action sends the request back to the unit with a reason.
    pub fn is_return(self) -> bool {
        matches!(self, RegAction::CountyReturn | RegAction::CityReturn)
    }
    /// The review a reviewer of `role` gives with 【审核通过】 (`approve`) or 【退回】; `None` for
    /// those who do not review.
    pub fn review(role: Role, approve: bool) -> Option<RegAction> {
        match (role, approve) {
            (Role::County, true) => Some(RegAction::CountyApprove),
            (Role::County, false) => Some(RegAction::CountyReturn),
            (Role::City, true) => Some(RegAction::CityApprove),
            (Role::City, false) => Some(RegAction::CityReturn),
            _ => None,
        }
    }
}

/// Which of the two machines an action is on: the unit's registration (注册申请) or one of its
/// change requests (变更申请).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Registration,
    Change,
}

impl Request {
    pub const ALL: [Request; 2] = [Request::Registration, Request::Change];
    pub fn label(self) -> &'static str {
        match self {
            Request::Registration => "注册申请",
            Request::Change => "变更申请",
        }
    }
    /// The object type of its entries in the audit log.
    pub fn object_type(self) -> ObjectType {
        match self {
            Request::Registration => ObjectType::Unit,
            Request::Change => ObjectType::Change,
        }
    }
    /// The action's name in the audit log.
    pub fn audit_name(self, action: RegAction) -> &'static str {
        use RegAction as A;
        match (self, action) {
            (Request::Registration, A::Save) => "unit.update",
            (Request::Registration, A::Upload) => "unit.attachment",
            (Request::Registration, A::Submit) => "unit.submit",
            (Request::Registration, A::CountyApprove) => "unit.county_approve",
            (Request::Registration, A::CountyReturn) => "unit.county_return",
            (Request::Registration, A::CityApprove) => "unit.city_approve",
            (Request::Registration, A::CityReturn) => "unit.city_return",
            (Request::Change, A::Save) => "change.update",
            (Request::Change, A::Upload) => "change.attachment",
            (Request::Change, A::Submit) => "change.submit",
            (Request::Change, A::CountyApprove) => "change.county_approve",
            (Request::Change, A::CountyReturn) => "change.county_return",
            (Request::Change, A::CityApprove) => "change.city_approve",
            (Request::Change, A::CityReturn) => "change.city_return",
        }
    }
}

/// The audit name of a unit's creation (the wizard's account step).
pub const CREATE_AUDIT_NAME: &str = "unit.create";

use RegAction as A;
use RegState as S;
use Role::{City, County, Unit};

/// Every rule of a registration's life, and of a change request's (the same two reviews).
pub const TABLE: Table<RegState, RegAction> = &[
    Rule::new(S::Draft, A::Save, Unit, S::Draft),
    Rule::new(S::Draft, A::Upload, Unit, S::Draft),
    Rule::new(S::Draft, A::Submit, Unit, S::PendingCounty),
    Rule::new(S::Returned, A::Save, Unit, S::Returned),
    Rule::new(S::Returned, A::Upload, Unit, S::Returned),
    Rule::new(S::Returned, A::Submit, Unit, S::PendingCounty),
    Rule::new(S::PendingCounty, A::CountyApprove, County, S::PendingCity),
    Rule::new(S::PendingCounty, A::CountyReturn, County, S::Returned),
    Rule::new(S::PendingCity, A::CityApprove, City, S::Approved),
    Rule::new(S::PendingCity, A::CityReturn, City, S::Returned),
];

/// The state the principal's `action` leads to, for a registration or change request of `unit`
/// in `district` now in `from`; `None` when the principal may not take it there.
pub fn may(p: &Principal, from: S, action: A, district: i64, unit: i64) -> Option<S> {
    flow::may(TABLE, p, from, action, district, unit)
}

/// The actions a principal may take on it now (a page's buttons).
pub fn actions(p: &Principal, state: S, district: i64, unit: i64) -> Vec<A> {
    flow::allowed(TABLE, &RegAction::ALL, p, state, district, unit)
}

/// The states whose registrations and change requests wait for `role` (its 待办).
pub fn work_states(role: Role) -> Vec<S> {
    let mut states = flow::waiting_for(TABLE, role);
    // What waits for the unit itself (a draft, a return) is no work queue.
    states.retain(|s| !s.editable());
    states
}

/// What a unit's `action` (saving, uploading, submitting) applies to now, given its
/// registration's state and its change request that is not yet approved, if any: its
/// registration while the table lets the unit act on it; once approved, a change request (the
/// open one, or a new one, which starts as a draft); nothing while either is under review.
pub fn request_for(action: A, unit_state: S, open_change: Option<S>) -> Option<Request> {
    let unit_may = |s| flow::next(TABLE, s, action, Unit).is_some();
    if unit_may(unit_state) {
        Some(Request::Registration)
    } else if unit_state == S::Approved && unit_may(open_change.unwrap_or(S::Draft)) {
        Some(Request::Change)
    } else {
        None
    }
}

/// Who may see a unit's registration and files: the unit itself; county staff of its district
/// once it was submitted (returned ones too); city staff once approved or once the county
/// passed it (`county_passed`: at least once, whatever happened since); administrators always.
pub fn may_view(p: &Principal, state: S, district: i64, unit: i64, county_passed: bool) -> bool {
    match p.role {
        Role::Unit => p.unit_id == Some(unit),
        Role::County => p.district_id == Some(district) && state != S::Draft,
        Role::City => state == S::Approved || county_passed,
        Role::Admin => true,
    }
}

/// Whether [`may_view`]'s answer depends on `county_passed` (which then has to be read).
pub fn needs_county_passed(role: Role, state: S) -> bool {
    role == Role::City && state != S::Approved
}

/// Who may see a change request of a unit they may see: the unit; county staff once it was
/// submitted; city staff once the county passed it (at least once) or it was approved;
/// administrators always.
pub fn may_view_change(
    p: &Principal,
    state: S,
    unit: i64,
    submitted: bool,
    county_passed: bool,
) -> bool {
    match p.role {
        Role::Unit => p.unit_id == Some(unit),
        Role::County => submitted,
        Role::City => county_passed || state == S::Approved,
        Role::Admin => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::flow::testing::{check, who};
    use crate::domain::flow::ROLES;

    /// Every state × action × role, for the registration and the change request, against the
    /// life the SPEC describes: draft → pending_county → pending_city → approved, returned
    /// reachable from both pending states and left only by resubmission to pending_county.
    #[test]
    fn every_state_action_and_role_of_both_machines() {
        for request in Request::ALL {
            for from in RegState::ALL {
                for action in RegAction::ALL {
                    for role in ROLES {
                        let expected = match (from, action, role) {
                            (S::Draft | S::Returned, A::Save | A::Upload, Unit) => Some(from),
                            (S::Draft | S::Returned, A::Submit, Unit) => Some(S::PendingCounty),
                            (S::PendingCounty, A::CountyApprove, County) => Some(S::PendingCity),
                            (S::PendingCounty, A::CountyReturn, County) => Some(S::Returned),
                            (S::PendingCity, A::CityApprove, City) => Some(S::Approved),
                            (S::PendingCity, A::CityReturn, City) => Some(S::Returned),
                            _ => None,
                        };
                        check(TABLE, from, action, role, expected);
                        assert_eq!(may(&who(role), from, action, 3, 7), expected);
                        // Each machine names its actions apart in the audit log.
                        let name = request.audit_name(action);
                        assert!(name.starts_with(match request {
                            Request::Registration => "unit.",
                            Request::Change => "change.",
                        }));
                    }
                }
            }
        }
    }

    #[test]
    fn only_draft_and_returned_are_editable() {
        assert!(RegState::Draft.editable());
        assert!(RegState::Returned.editable());
        assert!(!RegState::PendingCounty.editable());
        assert!(!RegState::Approved.editable());
    }

    #[test]
    fn returned_is_left_only_by_resubmission_and_approved_never() {
        for r in TABLE
            .iter()
            .filter(|r| r.from == S::Returned && r.to != r.from)
        {
            assert_eq!((r.action, r.to), (A::Submit, S::PendingCounty));
        }
        assert!(!TABLE.iter().any(|r| r.from == S::Approved));
        assert!(RegState::ALL
            .iter()
            .all(|s| *s == S::Draft || TABLE.iter().any(|r| r.to == *s && r.from != *s)));
        for s in RegState::ALL {
            assert_eq!(RegState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn audit_names_are_as_they_always_were() {
        let names: Vec<&str> = Request::ALL
            .into_iter()
            .flat_map(|r| RegAction::ALL.map(|a| r.audit_name(a)))
            .collect();
        assert_eq!(
            names,
            [
                "unit.update",
                "unit.attachment",
                "unit.submit",
                "unit.county_approve",
                "unit.county_return",
                "unit.city_approve",
                "unit.city_return",
                "change.update",
                "change.attachment",
                "change.submit",
                "change.county_approve",
                "change.county_return",
                "change.city_approve",
                "change.city_return",
            ]
        );
        assert_eq!(CREATE_AUDIT_NAME, "unit.create");
    }

    #[test]
    fn reviews_and_work_queues() {
        assert_eq!(work_states(County), vec![S::PendingCounty]);
        assert_eq!(work_states(City), vec![S::PendingCity]);
        assert!(work_states(Unit).is_empty() && work_states(Role::Admin).is_empty());
        for role in ROLES {
            for approve in [true, false] {
                match RegAction::review(role, approve) {
                    Some(a) => {
                        assert_eq!(a.is_return(), !approve);
                        assert!(a.is_review());
                        assert!(TABLE.iter().any(|r| r.action == a && r.by == role));
                    }
                    None => assert!(!matches!(role, County | City)),
                }
            }
        }
    }

    #[test]
    fn a_unit_edits_its_registration_before_approval_and_changes_after() {
        for action in [A::Save, A::Upload, A::Submit] {
            for s in RegState::ALL {
                let expected = match s {
                    S::Draft | S::Returned => Some(Request::Registration),
                    S::Approved => Some(Request::Change),
                    _ => None,
                };
                assert_eq!(request_for(action, s, None), expected, "{s:?}");
            }
            for c in RegState::ALL {
                let expected = c.editable().then_some(Request::Change);
                assert_eq!(request_for(action, S::Approved, Some(c)), expected, "{c:?}");
            }
            assert_eq!(
                request_for(action, S::Returned, Some(S::PendingCity)),
                Some(Request::Registration)
            );
        }
        for action in RegAction::ALL.into_iter().filter(|a| a.is_review()) {
            for s in RegState::ALL {
                assert_eq!(request_for(action, s, None), None);
            }
        }
    }

    #[test]
    fn visibility() {
        for s in RegState::ALL {
            assert!(may_view(&who(Unit), s, 3, 7, false));
            assert!(!may_view(&who(Unit), s, 3, 8, true));
            assert_eq!(may_view(&who(County), s, 3, 7, false), s != S::Draft);
            assert!(!may_view(&who(County), s, 4, 7, true));
            assert_eq!(may_view(&who(City), s, 3, 7, false), s == S::Approved);
            assert!(may_view(&who(City), s, 3, 7, true));
            assert!(may_view(&who(Role::Admin), s, 3, 7, false));
            // The flag is read exactly when the answer depends on it.
            for role in ROLES {
                let p = who(role);
                let differs = may_view(&p, s, 3, 7, true) != may_view(&p, s, 3, 7, false);
                assert_eq!(differs, needs_county_passed(role, s), "{role:?} {s:?}");
            }
            assert!(may_view_change(&who(Unit), s, 7, false, false));
            assert!(!may_view_change(&who(Unit), s, 8, true, true));
            assert!(may_view_change(&who(County), s, 7, true, false));
            assert!(!may_view_change(&who(County), s, 7, false, true));
            assert_eq!(
                may_view_change(&who(City), s, 7, true, false),
                s == S::Approved
            );
            assert!(may_view_change(&who(City), s, 7, false, true));
            assert!(may_view_change(&who(Role::Admin), s, 7, false, false));
        }
    }
}
