//! 短信发送记录 (issue 20): every SMS the system sent or tries to send, the failed and unknown
//! ones first to hand, and 【重新发送】 for a notification that did not go out.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::page::{layout, render, Layout};
use crate::state::AppState;
use crate::workflow::sms::{self, MessageView, Show};

#[derive(Deserialize, Default)]
pub struct SmsQuery {
    #[serde(default)]
    show: String,
    #[serde(default)]
    page: Option<i64>,
    /// The message an audit entry links to (shown highlighted when on the page).
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    ok: String,
}

#[derive(Template)]
#[template(path = "admin_sms.html")]
struct SmsPage {
    l: Layout,
    show: &'static str,
    messages: Vec<MessageView>,
    counts: Vec<(&'static str, i64)>,
    provider: &'static str,
    total: i64,
    page: i64,
    pages: i64,
    query: String,
    marked: i64,
    resent: bool,
    max_attempts: i64,
}

const PAGE: i64 = 50;

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SmsQuery>,
) -> AppResult<Response> {
    let show = Show::parse(&q.show);
    let page = q.page.unwrap_or(1).max(1);
    let listing = sms::list(&state, ctx.principal()?, show, PAGE, (page - 1) * PAGE).await?;
    render(SmsPage {
        l: layout(&state, &ctx, "短信发送记录").await?,
        show: show.key(),
        messages: listing.messages,
        counts: listing.counts,
        provider: listing.provider,
        total: listing.total,
        page,
        pages: ((listing.total + PAGE - 1) / PAGE).max(1),
        query: format!("show={}", show.key()),
        marked: q.id.unwrap_or(0),
        resent: q.ok == "resent",
        max_attempts: sms::MAX_ATTEMPTS,
    })
}

/// 【重新发送】.
pub async fn resend(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    sms::resend(&state, ctx.principal()?, id).await?;
    Ok(Redirect::to(&format!("/admin/sms?id={id}&ok=resent")).into_response())
}
