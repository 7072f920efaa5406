//! The shape every state machine of the system is declared in: a table of
//! (state, action, who may) → next state. Enforcement (the workflow layer), the buttons a page
//! shows, the audit action names and the synthetic generator all read the tables; nothing else
//! decides which action is allowed where.
//!
//! Who may act is a [`Role`]. County staff act only on records of their own district; that
//! condition holds for every county rule and is checked once, in [`may`].

use super::principal::{Principal, Role};

/// One row of a state machine: `by` may take `action` on a record in state `from`, which then
/// is in state `to` (the same state for actions that change data but not the state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule<S, A> {
    pub from: S,
    pub action: A,
    pub by: Role,
    pub to: S,
}

impl<S, A> Rule<S, A> {
    /// A rule on one line of a table: `by` takes `action` in `from`, leading to `to`.
    pub const fn new(from: S, action: A, by: Role, to: S) -> Rule<S, A> {
        Rule {
            from,
            action,
            by,
            to,
        }
    }
}

/// A state machine: its rules, in the order a record usually goes through them.
pub type Table<S, A> = &'static [Rule<S, A>];

/// The state `action` by `role` leads to from `from`, or `None` when the table has no such rule.
pub fn next<S: Copy + PartialEq, A: Copy + PartialEq>(
    table: Table<S, A>,
    from: S,
    action: A,
    role: Role,
) -> Option<S> {
    table
        .iter()
        .find(|r| r.from == from && r.action == action && r.by == role)
        .map(|r| r.to)
}

/// Whether the principal may take `action` on a record in state `from` that belongs to
/// `district` (the unit's district) and `unit`: the role must have a rule, a county must be the
/// record's, a unit must own it. Returns the next state.
pub fn may<S: Copy + PartialEq, A: Copy + PartialEq>(
    table: Table<S, A>,
    p: &Principal,
    from: S,
    action: A,
    district: i64,
    unit: i64,
) -> Option<S> {
    let own = match p.role {
        Role::Unit => p.unit_id == Some(unit),
        Role::County => p.district_id == Some(district),
        Role::City | Role::Admin => true,
    };
    if own {
        next(table, from, action, p.role)
    } else {
        None
    }
}

/// The actions of `all` the principal may take on a record in state `from` of `unit` in
/// `district` (see [`may`]): a page's buttons.
pub fn allowed<S: Copy + PartialEq, A: Copy + PartialEq>(
    table: Table<S, A>,
    all: &[A],
    p: &Principal,
    from: S,
    district: i64,
    unit: i64,
) -> Vec<A> {
    all.iter()
        .copied()
        .filter(|a| may(table, p, from, *a, district, unit).is_some())
        .collect()
}

/// The states in which `role` has an action that moves the record on: the role's work queue.
pub fn waiting_for<S: Copy + PartialEq, A: Copy + PartialEq>(
    table: Table<S, A>,
    role: Role,
) -> Vec<S> {
    let mut out: Vec<S> = Vec::new();
    for r in table.iter().filter(|r| r.by == role && r.from != r.to) {
        if !out.contains(&r.from) {
            out.push(r.from);
        }
    }
    out
}

/// Every role, for tests that walk a table exhaustively.
pub const ROLES: [Role; 4] = [Role::Unit, Role::County, Role::City, Role::Admin];

/// Helpers for the exhaustive tests of each table.
#[cfg(test)]
pub(crate) mod testing {
    use std::fmt::Debug;

    use super::*;
    use crate::domain::principal::Actor;

    /// A principal of `role`: county staff of district 3, the account of unit 7.
    pub(crate) fn who(role: Role) -> Principal {
        Principal {
            user_id: 1,
            role,
            district_id: (role == Role::County).then_some(3),
            unit_id: (role == Role::Unit).then_some(7),
            display_name: "x".into(),
            actor: Actor::system(),
        }
    }

    /// Walks every state × action × role of `table` against `expected` (the life the SPEC
    /// describes), and checks that only the record's own unit or county may act: a record of
    /// district 3 and unit 7 is [`who`]'s, one of district 4 and unit 8 a stranger's.
    pub(crate) fn check_every_rule<S, A>(
        table: Table<S, A>,
        states: &[S],
        actions: &[A],
        expected: impl Fn(S, A, Role) -> Option<S>,
    ) where
        S: Copy + PartialEq + Debug,
        A: Copy + PartialEq + Debug,
    {
        for &from in states {
            for &action in actions {
                for role in ROLES {
                    check(table, from, action, role, expected(from, action, role));
                }
            }
        }
    }

    /// Checks one state × action × role of `table` against `expected`, and that only the
    /// record's own unit or county (unit 7 of district 3) may act: others meet the same refusal.
    pub(crate) fn check<S, A>(
        table: Table<S, A>,
        from: S,
        action: A,
        role: Role,
        expected: Option<S>,
    ) where
        S: Copy + PartialEq + std::fmt::Debug,
        A: Copy + PartialEq + std::fmt::Debug,
    {
        let what = format!("{from:?} {action:?} by {role:?}");
        assert_eq!(next(table, from, action, role), expected, "{what}");
        assert_eq!(
            may(table, &who(role), from, action, 3, 7),
            expected,
            "{what}"
        );
        let stranger = may(table, &who(role), from, action, 4, 8);
        match role {
            Role::Unit | Role::County => assert_eq!(stranger, None, "{what}"),
            Role::City | Role::Admin => assert_eq!(stranger, expected, "{what}"),
        }
    }
}
