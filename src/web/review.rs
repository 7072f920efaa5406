//! Review of registrations and change requests by county (初审) and city (审核) staff, and the
//! administrators' overview.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{respond, wants_xlsx, ListQuery, Sheet};
use super::page::{flash_text, layout, render, Layout, OkQuery};
use super::unit_pages::{detail_page, Extras};
use crate::domain::principal::Role;
use crate::state::AppState;
use crate::store::audit::Entry;
use crate::store::units::QueueItem;
use crate::store::users::User;
use crate::workflow::error::Error;
use crate::workflow::registration::{self, Subject};

#[derive(Template)]
#[template(path = "review_queue.html")]
struct QueuePage {
    l: Layout,
    items: Vec<QueueItem>,
    stage: &'static str,
}

/// 待办: the reviewer's queue, oldest first.
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let items = registration::queue(&state, p).await?;
    if wants_xlsx(&q.format) {
        let mut sheet = Sheet::new(
            "待办",
            &[
                "类型",
                "单位全称",
                "统一社会信用代码",
                "所属县区",
                "提交时间",
            ],
        );
        for i in &items {
            sheet.push(vec![
                i.kind.label().into(),
                (&i.name).into(),
                (&i.credit_code).into(),
                (&i.district_name).into(),
                i.submitted_text().into(),
            ]);
        }
        return respond(
            &state,
            &ctx,
            "review.units",
            "注册审核待办",
            "",
            vec![sheet],
        )
        .await;
    }
    let stage = if p.role == Role::County {
        "初审"
    } else {
        "审核"
    };
    let mut l = layout(&state, &ctx, "待办").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(QueuePage { l, items, stage })
}

async fn detail(state: &AppState, ctx: &Ctx, subject: Subject, ok: &str) -> AppResult<Response> {
    let x = Extras {
        flash: flash_text(ok).to_string(),
        ..Extras::default()
    };
    detail_page(state, ctx, subject, x).await
}

pub async fn unit_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    detail(&state, &ctx, Subject::Unit(id), &q.ok).await
}

pub async fn change_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    detail(&state, &ctx, Subject::Change(id), &q.ok).await
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    reason: String,
}

/// 【审核通过】 and 【退回】 of registrations and change requests; a refused reason shows the page
/// again with what was typed.
async fn decide(
    state: AppState,
    ctx: Ctx,
    subject: Subject,
    form: DecisionForm,
    approve: bool,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    match registration::decide(&state, p, subject, approve, &form.reason, &form.comment).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/review?ok={}",
            if approve { "approved" } else { "returned" }
        ))
        .into_response()),
        Err(Error::Invalid(errors)) => {
            let x = Extras {
                reason: form.reason,
                comment: form.comment,
                errors,
                ..Extras::default()
            };
            detail_page(&state, &ctx, subject, x).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn unit_approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, ctx, Subject::Unit(id), form, true).await
}

pub async fn unit_return(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, ctx, Subject::Unit(id), form, false).await
}

pub async fn change_approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, ctx, Subject::Change(id), form, true).await
}

pub async fn change_return(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, ctx, Subject::Change(id), form, false).await
}

#[derive(Template)]
#[template(path = "admin_home.html")]
struct AdminHome {
    l: Layout,
    staff: Vec<User>,
    counts: Vec<(String, i64)>,
    recent: Vec<Entry>,
    font: String,
    font_missing: String,
    /// Notifications failed for good or of unknown outcome.
    sms_problems: i64,
}

/// The administrator's overview: staff accounts, units by state, latest audit entries.
pub async fn admin_home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let o = registration::overview(&state, ctx.principal()?).await?;
    let font = state
        .printer
        .font_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let font_missing = state
        .printer
        .missing_font_help(&state.config.data_dir)
        .unwrap_or_default();
    render(AdminHome {
        font,
        font_missing,
        l: layout(&state, &ctx, "系统管理").await?,
        staff: o.staff,
        counts: o
            .counts
            .into_iter()
            .map(|(s, n)| (s.label().to_string(), n))
            .collect(),
        recent: o.recent,
        sms_problems: crate::workflow::sms::problems(&state).await?,
    })
}
