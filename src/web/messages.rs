//! The unit's site messages (站内信): list, detail, mark read, delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use super::ctx::Ctx;
use super::error::AppResult;
use super::page::render;
use super::page::{flash_text, layout, Layout};
use crate::state::AppState;
use crate::store::messages::Message;
use crate::workflow::messages;

const PAGE_SIZE: i64 = 20;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    ok: String,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct ListPage {
    l: Layout,
    items: Vec<Message>,
    page: i64,
    pages: i64,
    total: i64,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = q.page.unwrap_or(1).max(1);
    let (items, total) =
        messages::list(&state, ctx.principal()?, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let mut l = layout(&state, &ctx, "站内信").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(ListPage {
        l,
        items,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        total,
    })
}

#[derive(Template)]
#[template(path = "message.html")]
struct DetailPage {
    l: Layout,
    m: Message,
}

/// Opening a message marks it read.
pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let m = messages::open(&state, ctx.principal()?, id).await?;
    render(DetailPage {
        l: layout(&state, &ctx, "消息详细").await?,
        m,
    })
}

#[derive(Deserialize, Default)]
pub struct BackForm {
    #[serde(default)]
    back: String,
}

/// After [我知道了] or [删除]: the page's script gets 204; a plain form goes back where it was.
fn done(ctx: &Ctx, back: &str, default: &str) -> Response {
    if ctx.fetch {
        return StatusCode::NO_CONTENT.into_response();
    }
    let to = super::ctx::safe_next(back).unwrap_or_else(|| default.to_string());
    Redirect::to(&to).into_response()
}

/// [我知道了]: marks the message read.
pub async fn read(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<BackForm>,
) -> AppResult<Response> {
    messages::mark_read(&state, ctx.principal()?, id).await?;
    Ok(done(&ctx, &form.back, "/messages"))
}

/// [删除]: gone for this unit; it never pops up again.
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<BackForm>,
) -> AppResult<Response> {
    messages::delete(&state, ctx.principal()?, id).await?;
    Ok(done(&ctx, &form.back, "/messages?ok=deleted"))
}

#[derive(Serialize)]
struct Popup {
    id: i64,
    title: String,
    body: String,
    sender: String,
    at: String,
    unread: i64,
}

/// The reminder the page's script asks for every minute: the newest unread message when it is
/// due (claimed on the server, so tabs and instances agree), else 204. Without a unit session
/// there is nothing to say: 204, never an error page.
pub async fn popup(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let Some(p) = &ctx.principal else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let (unread, Some(m)) = messages::reminder(&state, p).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    Ok(Json(Popup {
        id: m.id,
        at: m.created_text(),
        title: m.title,
        body: m.body,
        sender: m.sender_label,
        unread,
    })
    .into_response())
}
