//! The pages of a group's paths beside its review (issue 16): 【撤回】, 【删除草稿】,
//! 【外交部不予核实】, 【取消邀请】 and 再次邀请. The rules are `workflow::group_paths`'; these
//! handlers read the request, call it and render.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::group_view::{self, Typed};
use super::groups::{form_page, save_or_rerender, Shown};
use crate::domain::group_flow::GroupAction;
use crate::state::AppState;
use crate::workflow::error::Error;
use crate::workflow::group_paths as paths;
use crate::workflow::groups::{self as flow, Allowed, Applicant};

async fn applicant(state: &AppState, ctx: &Ctx) -> AppResult<Applicant> {
    Ok(flow::applicant(ctx.principal()?, ctx.unit(state).await?)?)
}

/// 【撤回】 of a group the county has not acted on yet.
pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Withdraw).await?;
    paths::withdraw(&state, &a, &t).await?;
    Ok(Redirect::to(&format!("/groups/{id}?ok=withdrawn")).into_response())
}

/// 【删除草稿】 of a draft never submitted; back to 来华申报.
pub async fn delete_draft(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Delete).await?;
    paths::delete_draft(&state, &a, &t).await?;
    Ok(Redirect::to("/groups?ok=draft_deleted").into_response())
}

#[derive(Deserialize, Default)]
pub struct CancelForm {
    #[serde(default)]
    cancel_reason: String,
}

/// Cancels the checked group `t`; a refused reason shows the record again with the message
/// beside the field and what was typed.
async fn cancel(
    state: &AppState,
    ctx: &Ctx,
    t: &Allowed,
    typed: String,
    next: &str,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    match paths::cancel(state, p, t, &typed).await {
        Ok(()) => Ok(Redirect::to(next).into_response()),
        Err(Error::Invalid(errors)) => {
            let r = flow::record_again(state, p, t).await?;
            let typed = Typed {
                errors,
                cancel_reason: typed,
                ..Typed::default()
            };
            group_view::record_page(state, ctx, r, typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The unit's 【取消邀请】 of its dispatched group.
pub async fn unit_cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<CancelForm>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Cancel).await?;
    let next = format!("/groups/{id}?ok=invitation_cancelled");
    cancel(&state, &ctx, &t, form.cancel_reason, &next).await
}

/// The city's 【取消邀请】 of a dispatched group.
pub async fn city_cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<CancelForm>,
) -> AppResult<Response> {
    let t = flow::review(&state, ctx.principal()?, id, GroupAction::Cancel).await?;
    let next = format!("/review/groups/{id}?ok=invitation_cancelled");
    cancel(&state, &ctx, &t, form.cancel_reason, &next).await
}

#[derive(Deserialize, Default)]
pub struct MinistryForm {
    #[serde(default)]
    ministry_reason: String,
}

/// 【外交部不予核实】 of a reported group: back to the unit with the Ministry's reason.
pub async fn ministry_refuse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<MinistryForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let t = flow::review(&state, p, id, GroupAction::MinistryRefuse).await?;
    match paths::ministry_refuse(&state, p, &t, &form.ministry_reason).await {
        Ok(()) => Ok(Redirect::to("/review/groups?ok=group_returned").into_response()),
        Err(Error::Invalid(errors)) => {
            let r = flow::record_again(&state, p, &t).await?;
            let typed = Typed {
                errors,
                ministry_reason: form.ministry_reason,
                ..Typed::default()
            };
            group_view::record_page(&state, &ctx, r, typed).await
        }
        Err(e) => Err(e.into()),
    }
}

/// 再次邀请: the form of a new group prefilled from group `id` (planned dates blank, no files).
pub async fn copy_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let src = paths::copy_source(&state, &a, id).await?;
    let view = paths::copy_form(&state, &a, &src).await?;
    form_page(&state, &ctx, view, Shown::copy_of(src.id, &src.number)).await
}

/// 【保存】 (or a visitor block added or removed) of the 再次邀请 form.
pub async fn copy_save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let src = paths::copy_source(&state, &a, id).await?;
    save_or_rerender(&state, &ctx, &a, None, &pairs, Some(&src)).await
}
