//! Review of invitation groups (manual 2.3.5–2.3.7, SPEC Invitation groups): county 初审;
//! city 【受理】 (受理编号), 【上报外交部】 (核实单号), 【发件】 (the letter), 【退件】. Queues show the
//! working days left; detail pages show every field, the scans and the timeline. The rules are
//! `workflow::groups`'; these handlers read the request, call it and render.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{respond, wants_xlsx, Sheet};
use super::group_view::{self, Typed};
use super::page::{flash_text, layout, render, Layout, OkQuery, Pager, SectionQuery};
use crate::domain::group::GroupState;
use crate::domain::group_flow::GroupAction;
use crate::state::AppState;
use crate::store::groups::GroupRow;
use crate::workflow::error::Error;
use crate::workflow::groups::{self as flow, Allowed, Input};

/// Rows of one section of 团组待办 on a page.
const QUEUE_PAGE: i64 = 50;

pub struct Section {
    pub title: &'static str,
    /// The state's code, for the section's pager links.
    pub code: &'static str,
    pub rows: Vec<GroupRow>,
    /// The page shown and the section's true total.
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "review_groups.html")]
struct QueuePage {
    l: Layout,
    sections: Vec<Section>,
    limit: i64,
    /// Invitations cancelled in the last 30 days (by the unit or the city).
    cancelled: Vec<crate::store::group_paths::Cancelled>,
}

fn section_title(s: GroupState) -> &'static str {
    match s {
        GroupState::PendingCounty => "待初审",
        GroupState::PendingCity => "待审核受理",
        GroupState::Accepted => "已受理，待上报外交部",
        _ => "已上报，待发件",
    }
}

/// 团组待办, oldest submission first, with the working days left: each of the reviewer's
/// states is a section of its own, paged 50 at a time (the export holds every row).
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SectionQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let xlsx = wants_xlsx(&q.format);
    let l = match xlsx {
        true => None,
        false => Some(layout(&state, &ctx, "团组待办").await?),
    };
    // The navigation has just counted the whole queue.
    let counted = l.as_ref().map(|l| l.group_queue);
    let page = |s: GroupState, total: i64| match xlsx {
        true => (super::export::MAX_ROWS, 0),
        false => {
            let pager = Pager::new(total, QUEUE_PAGE, q.page_of(s.as_str()));
            (QUEUE_PAGE, pager.offset(QUEUE_PAGE))
        }
    };
    let (limit, found) = flow::queue(&state, p, counted, page).await?;
    let sections: Vec<Section> = found
        .into_iter()
        .map(|s| Section {
            title: section_title(s.state),
            code: s.state.as_str(),
            pager: Pager::new(s.total, QUEUE_PAGE, q.page_of(s.state.as_str())),
            rows: s.rows,
        })
        .collect();
    if xlsx {
        let mut sheet = Sheet::new(
            "团组待办",
            &[
                "办理环节",
                "团组编号",
                "团组名称",
                "邀请单位",
                "县区",
                "人数",
                "团组人数",
                "提交时间",
                "剩余工作日",
                "受理编号",
                "核实单号",
            ],
        );
        for s in &sections {
            for r in &s.rows {
                sheet.push(vec![
                    s.title.into(),
                    (&r.number).into(),
                    (&r.name).into(),
                    (&r.unit_name).into(),
                    (&r.district_name).into(),
                    r.visitors.into(),
                    r.group_size.map(|n| n.to_string()).into(),
                    r.submitted_text().into(),
                    r.days_left.into(),
                    r.acceptance_no.clone().into(),
                    r.verification_no.clone().into(),
                ]);
            }
        }
        let listed: Vec<(i64, String)> = sections
            .iter()
            .flat_map(|s| s.rows.iter().map(|r| (r.id, r.number.clone())))
            .collect();
        let mut sheets = vec![sheet];
        let details =
            super::group_sheets::detail_sheets(&state, &ctx, "review.groups", "团组待办", &listed);
        sheets.extend(details.await?);
        return respond(&state, &ctx, "review.groups", "团组待办", "", sheets).await;
    }
    let mut l = match l {
        Some(l) => l,
        None => layout(&state, &ctx, "团组待办").await?,
    };
    l.flash = flash_text(&q.ok).to_string();
    let cancelled = crate::workflow::group_paths::recently_cancelled(&state, p).await?;
    render(QueuePage {
        l,
        sections,
        limit,
        cancelled,
    })
}

/// The record of a group, for whoever may see it.
pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let r = flow::record(&state, ctx.principal()?, id).await?;
    let typed = Typed {
        flash: flash_text(&q.ok).into(),
        ..Typed::default()
    };
    group_view::record_page(&state, &ctx, r, typed).await
}

/// A staff member may print the form of a group they can see.
pub async fn print(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    group_view::printed(flow::print(&state, ctx.principal()?, id).await?)
}

/// Takes the checked action `t`; a refused input shows the record again with the message beside
/// its field and what was typed (`typed`), anything else goes to `next`.
async fn act(
    state: &AppState,
    ctx: &Ctx,
    t: &Allowed,
    input: Input,
    typed: Typed,
    next: &str,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    match flow::act(state, p, t, input).await {
        Ok(()) => Ok(Redirect::to(next).into_response()),
        Err(Error::Invalid(errors)) => {
            let r = flow::record_again(state, p, t).await?;
            let typed = Typed { errors, ..typed };
            group_view::record_page(state, ctx, r, typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// County 【审核通过】 (初审).
pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let t = flow::review(&state, ctx.principal()?, id, GroupAction::CountyApprove).await?;
    let next = "/review/groups?ok=approved";
    act(&state, &ctx, &t, Input::Nothing, Typed::default(), next).await
}

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// 【退件】 by county (from 待初审) or city (from 待审核受理): the reason told once and in full.
pub async fn return_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let t = flow::review(&state, p, id, flow::returning(p)?).await?;
    let typed = Typed {
        reason: form.reason.clone(),
        ..Typed::default()
    };
    let next = "/review/groups?ok=group_returned";
    act(&state, &ctx, &t, Input::Reason(form.reason), typed, next).await
}

/// 【受理】: assigns the next 受理编号 of the year.
pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let t = flow::review(&state, ctx.principal()?, id, GroupAction::Accept).await?;
    let next = format!("/review/groups/{id}?ok=accepted");
    act(&state, &ctx, &t, Input::Nothing, Typed::default(), &next).await
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    verification_no: String,
}

/// 【上报外交部】: records the 核实单号 the Ministry's system returned.
pub async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ReportForm>,
) -> AppResult<Response> {
    let t = flow::review(&state, ctx.principal()?, id, GroupAction::Report).await?;
    let typed = Typed {
        verification_no: form.verification_no.clone(),
        ..Typed::default()
    };
    let next = format!("/review/groups/{id}?ok=reported");
    let input = Input::VerificationNo(form.verification_no);
    act(&state, &ctx, &t, input, typed, &next).await
}

/// 【发件】: uploads the letter PDF the Ministry's system produced; the unit gets an SMS.
pub async fn dispatch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let t = flow::review(&state, ctx.principal()?, id, GroupAction::Dispatch).await?;
    let letter = super::files::read_file(multipart, "file").await?;
    let next = format!("/review/groups/{id}?ok=dispatched");
    act(
        &state,
        &ctx,
        &t,
        Input::Letter(letter),
        Typed::default(),
        &next,
    )
    .await
}
