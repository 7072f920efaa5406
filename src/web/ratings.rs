//! 好差评 pages: the section on a group's page (the unit rates a step; everyone who sees the
//! group sees its ratings and replies), the rating form of one step, the city office's 差评整改
//! list and item, and 满意度统计 with its export. Handlers call `workflow::ratings`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{respond, wants_xlsx, Sheet, MAX_ROWS};
use super::page::{flash_text, layout, render, Layout, Pager, SectionQuery};
#[allow(unused_imports)] // the template calls `chart_svg`
use super::stats::ChartSvg;
use crate::domain::fields::FieldErrors;
use crate::domain::period::Period;
use crate::domain::principal::Role;
use crate::domain::rating::Level;
use crate::state::AppState;
use crate::store::groups::Group;
use crate::workflow::error::Error;
use crate::workflow::oversight::StatTable;
use crate::workflow::ratings::{self as flow, RatingView, StepView};

/// The five levels for the radio buttons: (code, label).
fn levels() -> Vec<(&'static str, &'static str)> {
    Level::ALL.iter().map(|l| (l.as_str(), l.label())).collect()
}

/// The rating form of one step, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct RatingForm {
    #[serde(default)]
    pub step: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Template)]
#[template(path = "rating_section.html")]
struct Section {
    csrf: String,
    gid: i64,
    is_unit: bool,
    steps: Vec<StepView>,
    /// The step whose form is shown on the group page: the newest the unit may rate (0: none).
    form_step_id: i64,
    levels: Vec<(&'static str, &'static str)>,
    form: RatingForm,
    errors: FieldErrors,
}

/// The 好差评 section of a group's page (empty while the group has no decided step), for its
/// unit with the form of the newest step it may rate, for the offices read-only.
pub async fn section_html(state: &AppState, ctx: &Ctx, g: &Group) -> AppResult<String> {
    let p = ctx.principal()?;
    let steps = flow::of_group(state, p, g).await?;
    if steps.is_empty() {
        return Ok(String::new());
    }
    let form_step_id = steps
        .iter()
        .rev()
        .find(|s| s.ratable)
        .map_or(0, |s| s.step.id);
    Ok(Section {
        csrf: ctx.csrf.clone(),
        gid: g.id,
        is_unit: p.role == Role::Unit,
        form_step_id,
        steps,
        levels: levels(),
        form: RatingForm::default(),
        errors: FieldErrors::new(),
    }
    .render()?)
}

#[derive(Template)]
#[template(path = "rating_form.html")]
struct FormPage {
    l: Layout,
    gid: i64,
    csrf: String,
    g: Group,
    s: StepView,
    levels: Vec<(&'static str, &'static str)>,
    form: RatingForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct StepQuery {
    #[serde(default)]
    step: String,
}

/// The step asked for: an id that is no step (0) when it is not a number, so that the group is
/// checked first (another unit's group is not found, one without decided steps refused).
fn step_id(s: &str) -> i64 {
    s.trim().parse::<i64>().unwrap_or(0)
}

/// The unit account may use its groups' pages now (approved, not on the dishonesty list).
async fn applicant(state: &AppState, ctx: &Ctx) -> AppResult<()> {
    crate::workflow::groups::applicant(ctx.principal()?, ctx.unit(state).await?)?;
    Ok(())
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    gid: i64,
    form: RatingForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let (g, s) = flow::step(state, p, gid, step_id(&form.step)).await?;
    let l = layout(state, ctx, &format!("团组{}好差评", g.number)).await?;
    render(FormPage {
        gid: g.id,
        csrf: l.csrf.clone(),
        l,
        g,
        s,
        levels: levels(),
        form,
        errors,
    })
}

/// The rating form of one step of the unit's group.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<StepQuery>,
) -> AppResult<Response> {
    applicant(&state, &ctx).await?;
    let form = RatingForm {
        step: q.step,
        ..RatingForm::default()
    };
    form_page(&state, &ctx, id, form, FieldErrors::new()).await
}

/// 【提交评价】: back to the group's page with 感谢您的评价。, or the form again with the
/// messages beside the fields and what was typed.
pub async fn rate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<RatingForm>,
) -> AppResult<Response> {
    applicant(&state, &ctx).await?;
    let p = ctx.principal()?;
    match flow::rate(&state, p, id, step_id(&f.step), &f.level, &f.comment).await {
        Ok(()) => Ok(Redirect::to(&format!("/groups/{id}?ok=rated")).into_response()),
        Err(Error::Invalid(errors)) => form_page(&state, &ctx, id, f, errors).await,
        Err(e) => Err(e.into()),
    }
}

// ---- 差评整改 ----

const FOLLOWUP_PAGE: i64 = 20;

/// A section of the follow-up list.
struct ItemSection {
    code: &'static str,
    title: &'static str,
    rows: Vec<RatingView>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "rating_followups.html")]
struct ListPage {
    l: Layout,
    sections: Vec<ItemSection>,
    limit: i64,
}

/// 差评整改: the open items, oldest first with their working days left, and the closed ones.
pub async fn followups(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SectionQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let xlsx = wants_xlsx(&q.format);
    let mut sections = Vec::new();
    for (code, title, open) in [("open", "待办结", true), ("done", "已办结", false)] {
        // The total first (a count), then the asked page of it (every row for the export).
        let (_, total) = flow::followups(&state, p, open, 0, 0).await?;
        let pager = Pager::new(total, FOLLOWUP_PAGE, q.page_of(code));
        let (limit, offset) = match xlsx {
            true => (MAX_ROWS, 0),
            false => (FOLLOWUP_PAGE, pager.offset(FOLLOWUP_PAGE)),
        };
        let (rows, _) = flow::followups(&state, p, open, limit, offset).await?;
        sections.push(ItemSection {
            code,
            title,
            rows,
            pager,
        });
    }
    if xlsx {
        return export_followups(&state, &ctx, &sections).await;
    }
    let mut l = layout(&state, &ctx, "差评整改").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(ListPage {
        l,
        sections,
        limit: crate::domain::rating::FOLLOW_UP_DAYS,
    })
}

/// 差评整改 as an .xlsx file: the open items, then the closed ones.
async fn export_followups(
    state: &AppState,
    ctx: &Ctx,
    sections: &[ItemSection],
) -> AppResult<Response> {
    let mut sheet = Sheet::new(
        "差评整改",
        &[
            "状态",
            "团组编号",
            "团组名称",
            "邀请单位",
            "县区",
            "评价环节",
            "评价",
            "评价内容",
            "评价时间",
            "办理期限",
            "剩余工作日",
            "整改情况",
            "办结时间",
        ],
    );
    for s in sections {
        for r in &s.rows {
            sheet.push(vec![
                s.title.into(),
                (&r.r.group_number).into(),
                (&r.r.group_name).into(),
                (&r.r.unit_name).into(),
                (&r.r.district_name).into(),
                r.step().into(),
                r.r.level.label().into(),
                (&r.r.comment).into(),
                r.rated_text().into(),
                r.due_text().into(),
                match r.days_left {
                    Some(d) => d.into(),
                    None => "".into(),
                },
                r.reply_text().into(),
                match r.is_done() {
                    true => r.replied_text().into(),
                    false => "".into(),
                },
            ]);
        }
    }
    respond(state, ctx, "followups", "差评整改", "", vec![sheet]).await
}

#[derive(Template)]
#[template(path = "rating_followup.html")]
struct ItemPage {
    l: Layout,
    item: RatingView,
    reply: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct ReplyForm {
    #[serde(default)]
    reply: String,
}

async fn item_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    reply: String,
    errors: FieldErrors,
) -> AppResult<Response> {
    let item = flow::followup(state, ctx.principal()?, id).await?;
    let l = layout(state, ctx, "差评整改").await?;
    render(ItemPage {
        l,
        item,
        reply,
        errors,
    })
}

/// One follow-up item: the rating, its comment, and the reply form while open.
pub async fn followup(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    item_page(&state, &ctx, id, String::new(), FieldErrors::new()).await
}

/// 【办结】: back to the list with 已办结，并已通知申请单位。, or the item again with the message.
pub async fn reply(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> AppResult<Response> {
    match flow::reply(&state, ctx.principal()?, id, &f.reply).await {
        Ok(()) => Ok(Redirect::to("/review/followups?ok=followup_done").into_response()),
        Err(Error::Invalid(errors)) => item_page(&state, &ctx, id, f.reply, errors).await,
        Err(e) => Err(e.into()),
    }
}

// ---- 满意度统计 ----

#[derive(Deserialize, Default)]
pub struct StatsQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "rating_stats.html")]
struct StatsPage {
    l: Layout,
    from: String,
    to: String,
    errors: FieldErrors,
    scope: String,
    tables: Vec<StatTable>,
    query: String,
}

/// 满意度统计 for a period (county staff: their district), with `?format=xlsx` its export.
pub async fn stats(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let scope = flow::scope_name(&state, p).await?;
    let (from, to, errors, tables) = match Period::parse(&q.from, &q.to, state.today()) {
        Ok(period) => {
            let tables = flow::statistics(&state, p, &period).await?;
            (
                period.from.to_string(),
                period.to.to_string(),
                FieldErrors::new(),
                tables,
            )
        }
        Err(errors) => (
            q.from.trim().to_string(),
            q.to.trim().to_string(),
            errors,
            Vec::new(),
        ),
    };
    if wants_xlsx(&q.format) && errors.is_empty() {
        let sheets = tables.iter().map(super::stats::sheet_of).collect();
        let filters = format!("{scope}，{from}至{to}");
        return respond(&state, &ctx, "satisfaction", "满意度统计", &filters, sheets).await;
    }
    render(StatsPage {
        l: layout(&state, &ctx, "满意度统计").await?,
        query: format!("from={from}&to={to}"),
        from,
        to,
        errors,
        scope,
        tables,
    })
}
