//! The unit's site messages (站内信): list, detail, mark read, delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::render;
use super::{flash_text, layout, AppError, AppResult, Ctx, Layout};
use crate::app::AppState;
use crate::store::messages::{self, Message};

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
    let unit_id = ctx.unit_id()?;
    let page = q.page.unwrap_or(1).max(1);
    let (items, total) =
        messages::list(state.pool(), unit_id, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
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
    let unit_id = ctx.unit_id()?;
    let m = messages::get(state.pool(), unit_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    messages::mark_read(state.pool(), unit_id, id, state.now()).await?;
    render(DetailPage {
        l: layout(&state, &ctx, "消息详细").await?,
        m,
    })
}

pub async fn read(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let unit_id = ctx.unit_id()?;
    if !messages::mark_read(state.pool(), unit_id, id, state.now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/messages").into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let unit_id = ctx.unit_id()?;
    if !messages::delete(state.pool(), unit_id, id, state.now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/messages?ok=deleted").into_response())
}
