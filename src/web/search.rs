//! Staff search across units and groups (issue 6): part of a unit's name; a unit's credit code
//! or login ID, a group number, 受理编号, 核实单号, a visitor's passport number or name (exactly). County
//! staff find only their district; each role finds only what it may open.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{respond, wants_xlsx, Sheet};
use super::page::render;
use super::page::{layout, Layout};
use crate::domain::principal::Role;
use crate::state::AppState;
use crate::store::groups::GroupRow;
use crate::store::units::SearchRow;
use crate::workflow::error::Error;
use crate::workflow::oversight::{self, Found, SEARCH_LIMIT};

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

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let text = q.q.trim().to_string();
    let export = wants_xlsx(&q.format);
    let answer = match export {
        true => oversight::search_export(&state, p, &text).await,
        false => oversight::search(&state, p, &text)
            .await
            .map(|found| (found, String::new())),
    };
    let (searched, error, (found, filters)) = match answer {
        Ok(found) => (!text.is_empty(), String::new(), found),
        Err(Error::Invalid(e)) => (
            false,
            e.first().unwrap_or_default().to_string(),
            (Found::default(), String::new()),
        ),
        Err(e) => return Err(e.into()),
    };
    let Found {
        units: unit_rows,
        groups: group_rows,
    } = found;
    if searched && export {
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
                "团组人数",
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
                r.group_size.map(|n| n.to_string()).into(),
                r.state.label().into(),
                r.submitted_text().into(),
                r.acceptance_no.clone().into(),
                r.verification_no.clone().into(),
            ]);
        }
        let listed: Vec<(i64, String)> = group_rows
            .iter()
            .map(|r| (r.id, r.number.clone()))
            .collect();
        let mut sheets = vec![us, gs];
        let details =
            super::group_sheets::detail_sheets(&state, &ctx, "search", "综合查询", &listed);
        sheets.extend(details.await?);
        return respond(&state, &ctx, "search", "综合查询", &filters, sheets).await;
    }
    render(SearchPage {
        l: layout(&state, &ctx, "综合查询").await?,
        q_enc: super::ctx::urlencode(&text),
        q: text,
        searched,
        error,
        units: unit_rows,
        groups: group_rows,
        admin: p.role == Role::Admin,
        limit: SEARCH_LIMIT,
    })
}
