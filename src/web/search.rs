//! Staff search across units and groups (issue 6): part of a unit's name; a unit's credit code
//! or login ID, a group number, 受理编号, 核实单号, a visitor's passport number or name (exactly). County
//! staff find only their district; each role finds only what it may open.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{describe, respond, wants_xlsx, Sheet};
use super::page::render;
use super::page::{layout, Layout};
use crate::domain::group::GroupState;
use crate::domain::registration::RegState;
use crate::state::AppState;
use crate::store::groups::{self, GroupRow};
use crate::store::units::{self, SearchRow};
use crate::store::users::{Role, User};

/// Most results of each kind.
const LIMIT: i64 = 200;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    q: String,
    q_enc: String,
    searched: bool,
    error: String,
    units: Vec<SearchRow>,
    groups: Vec<GroupRow>,
    admin: bool,
    limit: i64,
}

/// The district a county account is limited to.
fn district_of(user: &User) -> Option<i64> {
    match user.role {
        Role::County => Some(user.district_id.unwrap_or(0)),
        _ => None,
    }
}

/// The units an account may open from the results (as `review::may_view_unit`, without the
/// county-passed check of returned registrations, which the city finds in its queues).
fn unit_visible(user: &User, state: RegState) -> bool {
    match user.role {
        Role::County => state != RegState::Draft,
        Role::City => matches!(state, RegState::PendingCity | RegState::Approved),
        Role::Admin => true,
        Role::Unit => false,
    }
}

/// The group states an account may open (as `group_review::may_view_group`).
fn group_states(user: &User) -> &'static [GroupState] {
    use GroupState::*;
    match user.role {
        Role::County | Role::Admin => &[PendingCounty, PendingCity, Accepted, Reported, Dispatched],
        Role::City => &[PendingCity, Accepted, Reported, Dispatched],
        Role::Unit => &[],
    }
}

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let text = q.q.trim().to_string();
    let chars = text.chars().count();
    let mut error = String::new();
    if chars > 100 {
        error = "查询内容不能超过100个字符".into();
    }
    let searched = !text.is_empty() && error.is_empty();
    let (mut unit_rows, mut group_rows) = (Vec::new(), Vec::new());
    if searched {
        // Part of a name needs at least two characters, so that one letter does not list
        // every unit.
        if chars >= 2 {
            unit_rows = units::search_staff(state.pool(), &text, district_of(&user), LIMIT)
                .await?
                .into_iter()
                .filter(|r| unit_visible(&user, r.state))
                .collect();
        }
        group_rows = groups::search_staff(
            state.pool(),
            &text,
            group_states(&user),
            district_of(&user),
            LIMIT,
        )
        .await?;
    }
    if searched && wants_xlsx(&q.format) {
        let mut us = Sheet::new(
            "邀请单位",
            &["单位全称", "统一社会信用代码", "登录ID", "所属县区", "状态"],
        );
        for r in &unit_rows {
            us.push(vec![
                (&r.name).into(),
                (&r.credit_code).into(),
                (&r.login_id).into(),
                (&r.district_name).into(),
                r.state.label().into(),
            ]);
        }
        let mut gs = Sheet::new(
            "团组",
            &[
                "团组编号",
                "团组名称",
                "邀请单位",
                "县区",
                "人数",
                "状态",
                "提交时间",
                "受理编号",
                "核实单号",
            ],
        );
        for r in &group_rows {
            gs.push(vec![
                (&r.number).into(),
                (&r.name).into(),
                (&r.unit_name).into(),
                (&r.district_name).into(),
                r.visitors.into(),
                r.state.label().into(),
                r.submitted_text().into(),
                r.acceptance_no.clone().into(),
                r.verification_no.clone().into(),
            ]);
        }
        let filters = describe(&[("查询", text.as_str())]);
        return respond(&state, &ctx, "search", "综合查询", &filters, vec![us, gs]).await;
    }
    render(SearchPage {
        l: layout(&state, &ctx, "综合查询").await?,
        q_enc: super::ctx::urlencode(&text),
        q: text,
        searched,
        error,
        units: unit_rows,
        groups: group_rows,
        admin: user.role == Role::Admin,
        limit: LIMIT,
    })
}
