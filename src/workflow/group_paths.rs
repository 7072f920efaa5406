//! The paths of a group beside its review (issue 16), enforced like every action of
//! `domain::group_flow`: the unit's 【撤回】 before the county acts and its 【删除草稿】 of a
//! draft never submitted; the city's 【外交部不予核实】 of a reported group; 【取消邀请】 of a
//! dispatched invitation by its unit or the city, which gives its visitors cancellation records
//! instead of post-visit registrations; and 再次邀请, a new draft copied from an earlier group.
//! Each state change is one transaction whose `UPDATE` checks the state again, with its audit
//! entry and the unit's message (the SMS after the commit).

use std::time::Duration;

use super::access::{self, Kind, Seen};
use super::error::{Error, Outcome};
use super::groups::{
    claim, finish, form_view, overdue_block, own_group, refusal, save_as, Allowed, Applicant, Done,
    FormView, TypedVisitor,
};
use super::notify;
use crate::domain::audit::ObjectType;
use crate::domain::group::{GroupForm, GroupState};
use crate::domain::group_flow::GroupAction;
use crate::domain::principal::{Actor, Principal, Role};
use crate::state::AppState;
use crate::store::audit;
use crate::store::group_paths;
use crate::store::groups::{Change, Group};

/// The longest reason (取消原因, 外交部不予核实原因) kept.
const MAX_REASON: usize = 2000;

/// The reason typed into `field`, trimmed; refused when empty or too long.
fn reason<'a>(typed: &'a str, field: &str, what: &str) -> Outcome<&'a str> {
    let r = typed.trim();
    if r.is_empty() {
        return Err(Error::invalid(field, format!("请填写{what}")));
    }
    if r.chars().count() > MAX_REASON {
        return Err(Error::invalid(
            field,
            format!("{what}不能超过{MAX_REASON}个字符"),
        ));
    }
    Ok(r)
}

/// [`claim`], with the action's own refusal when someone else changed the group first.
async fn claim_for(
    state: &AppState,
    p: &Principal,
    t: &Allowed,
    change: Change<'_>,
    now: i64,
) -> Outcome<crate::db::Tx> {
    match claim(state, p, t, change, now).await {
        Err(Error::Stale(_)) => Err(Error::Stale(refusal(t.action()).into())),
        other => other,
    }
}

/// 【撤回】: the unit takes its submitted group back before the county acted; it leaves the
/// county's queue and may be edited and submitted again. Refused once the county acted.
pub async fn withdraw(state: &AppState, a: &Applicant, t: &Allowed) -> Outcome<()> {
    t.expect(GroupAction::Withdraw)?;
    let g = t.group();
    let now = state.now();
    let tx = claim_for(state, a.principal(), t, Change::None, now).await?;
    let done = Done::new(
        GroupAction::Withdraw,
        "撤回，县区外办未办理".into(),
        notify::group_withdrawn(&g.number),
    );
    finish(
        state,
        tx,
        g,
        &a.principal().actor,
        &Actor::system(),
        done,
        now,
    )
    .await
}

/// 【删除草稿】: removes a draft never submitted with its visitors and attachments; the stored
/// files go once the deletion is committed (and no other row names the same content).
pub async fn delete_draft(state: &AppState, a: &Applicant, t: &Allowed) -> Outcome<()> {
    t.expect(GroupAction::Delete)?;
    let g = t.group();
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let Some(shas) = group_paths::delete_draft(tx.conn(), g.id, a.unit().id).await? else {
        return Err(Error::Stale(refusal(GroupAction::Delete).into()));
    };
    audit::write(
        tx.conn(),
        &a.principal().actor,
        now,
        GroupAction::Delete.audit_name(),
        ObjectType::Group,
        &g.id.to_string(),
        &format!("删除草稿：团组编号{}（{}）", g.number, g.data.name),
    )
    .await?;
    tx.commit().await?;
    for sha in shas {
        // A file that cannot be removed now (busy, the store unreachable) is left to the
        // hourly orphan sweep: the deletion stands.
        if let Err(e) = super::files::remove_if_unreferenced(
            &state.db,
            &state.files,
            &sha,
            Duration::from_secs(5),
        )
        .await
        {
            tracing::warn!(sha256 = %sha, "removing a deleted draft's file: {e:#}");
        }
    }
    Ok(())
}

/// 【外交部不予核实】: the Ministry refused to verify the reported group; it goes back to the
/// unit (退件) with the Ministry's reason. The refused 核实单号 is cleared from the group (the
/// timeline keeps it); the 受理编号 is kept for the next acceptance. The reason's field is
/// `ministry_reason`.
pub async fn ministry_refuse(
    state: &AppState,
    p: &Principal,
    t: &Allowed,
    typed: &str,
) -> Outcome<()> {
    t.expect(GroupAction::MinistryRefuse)?;
    let g = t.group();
    let why = reason(typed, "ministry_reason", "外交部不予核实原因")?;
    let told = format!("外交部不予核实：{why}");
    let now = state.now();
    let change = Change::MinistryRefused {
        reason: &told,
        by: p.office(),
    };
    let tx = claim_for(state, p, t, change, now).await?;
    let detail = match &g.verification_no {
        Some(no) => format!("核实单号{no}，{told}"),
        None => told.clone(),
    };
    let done = Done::new(
        GroupAction::MinistryRefuse,
        detail,
        notify::group_ministry_refused(&g.number, why),
    );
    finish(state, tx, g, &p.actor, &p.actor, done, now).await
}

/// What refuses a 取消邀请 once a visitor's entry is registered.
pub const ENTERED: &str = "已有到访人员登记了实际入境，不能取消邀请；请为每位到访人员办理销签登记（未成行的人员登记为取消行程）。";

/// 【取消邀请】 of a dispatched invitation by its unit or the city, with the reason (field
/// `cancel_reason`): its visitors get cancellation records instead of post-visit registrations
/// and leave the overdue lists. Refused when any visitor's entry into China is registered;
/// a registration saved at the same moment waits for this (or this for it).
pub async fn cancel(state: &AppState, p: &Principal, t: &Allowed, typed: &str) -> Outcome<()> {
    t.expect(GroupAction::Cancel)?;
    let g = t.group();
    let why = reason(typed, "cancel_reason", "取消原因")?;
    let now = state.now();
    let mut tx = claim_for(state, p, t, Change::None, now).await?;
    // Read after the group's row is held: a registration committed before is seen here, one
    // after finds the group cancelled.
    if group_paths::entries_registered(tx.conn(), g.id).await? > 0 {
        return Err(Error::Stale(ENTERED.into()));
    }
    let by_unit = p.role == Role::Unit;
    let by = if by_unit { "申请单位" } else { p.office() };
    group_paths::record_cancellation(tx.conn(), g.id, why, by, Some(p.user_id), now).await?;
    let done = Done::new(
        GroupAction::Cancel,
        format!("{by}取消邀请：{why}"),
        notify::group_cancelled(&g.number, by_unit, why),
    );
    let sender = if by_unit {
        Actor::system()
    } else {
        p.actor.clone()
    };
    finish(state, tx, g, &p.actor, &sender, done, now).await
}

/// The applicant's group to copy for 再次邀请: any of its groups but a draft (edit that instead).
pub async fn copy_source(state: &AppState, a: &Applicant, id: i64) -> Outcome<Group> {
    let g = own_group(state, a, id).await?;
    if g.state == GroupState::Draft {
        return Err(Error::Stale(
            "草稿不能再次邀请，请直接修改并提交该草稿。".into(),
        ));
    }
    Ok(g)
}

/// 再次邀请: the form of a new group prefilled from `src` and its visitors: the whole form of
/// each (planned dates left blank), no files; refused like a new group while overdue
/// registrations block new groups.
pub async fn copy_form(state: &AppState, a: &Applicant, src: &Group) -> Outcome<FormView> {
    let overdue = overdue_block(state, a.unit().id).await?;
    if overdue.blocks {
        return Err(Error::Stale(overdue.message().unwrap_or_default()));
    }
    // The planned dates are new; so are the days of the itinerary, whose cities, activities
    // and hosts are kept.
    let mut form = GroupForm {
        arrival: String::new(),
        departure: String::new(),
        ..src.data.to_form(&src.country)
    };
    for row in &mut form.itinerary {
        row.date.clear();
    }
    let seen = Seen::group(Kind::Page, "再次邀请", src.id);
    let visitors: Vec<TypedVisitor> = access::group_visitors(state, a.principal(), src.id, &seen)
        .await?
        .iter()
        .map(|v| (None, v.data.to_form()))
        .collect();
    form_view(state, a.principal(), None, form, Some(visitors)).await
}

/// 【保存】 of a 再次邀请 form: a new draft with a new number (the normal checks, passports
/// again among them), `group.copy` in the same transaction; `src` is untouched.
pub async fn save_copy(
    state: &AppState,
    a: &Applicant,
    src: &Group,
    form: &GroupForm,
    typed: &[TypedVisitor],
) -> Outcome<i64> {
    save_as(state, a, None, form, typed, Some(src)).await
}

/// How long a cancelled invitation is listed in the offices' 团组待办.
const CANCELLED_LISTED_DAYS: i64 = 30;

/// The invitations cancelled in the last 30 days that a reviewer is told of in 团组待办 (the
/// county its district's, the city all): how an office learns of a unit's 取消邀请.
pub async fn recently_cancelled(
    state: &AppState,
    p: &Principal,
) -> Outcome<Vec<group_paths::Cancelled>> {
    if !matches!(p.role, Role::County | Role::City) {
        return Ok(Vec::new());
    }
    let since = state.now() - CANCELLED_LISTED_DAYS * 86_400;
    Ok(group_paths::cancelled_since(state.pool(), since, p.district_scope(), 50).await?)
}
