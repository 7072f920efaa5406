//! Staff writing site messages: to one unit from its detail page (county and city), and to all
//! units or all units of a district (city).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::page::render;
use super::page::{layout, Layout};
use crate::domain::fields::{required, FieldErrors};
use crate::state::AppState;
use crate::store::reference::{self, District};
use crate::store::{audit, messages, units};

#[derive(Deserialize, Default, Clone)]
pub struct MessageForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub target: String,
}

pub const MAX_BODY: usize = 5000;

/// Checks a message's title and body: (title, body) or the errors.
pub fn validate(form: &MessageForm) -> Result<(String, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let title = required(&mut e, "title", &form.title, "标题", 100);
    let body = form.body.trim().to_string();
    if body.is_empty() {
        e.add("body", "请填写消息内容");
    } else if body.chars().count() > MAX_BODY {
        e.add("body", format!("消息内容不能超过{MAX_BODY}个字符"));
    }
    if e.is_empty() {
        Ok((title, body))
    } else {
        Err(e)
    }
}

/// From a unit's detail page: one message to that unit.
pub async fn to_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(unit_id): Path<i64>,
    Form(form): Form<MessageForm>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !super::review::may_view_unit(&state, &user, &unit).await? {
        return Err(AppError::NotFound);
    }
    let (title, body) = match validate(&form) {
        Ok(v) => v,
        Err(errors) => {
            return super::review::unit_detail_with_message(&state, &ctx, unit_id, form, errors)
                .await
        }
    };
    let now = state.now();
    let actor = ctx.actor();
    let mut tx = state.db.begin().await?;
    let id = messages::send(tx.conn(), unit_id, &actor, &title, &body, now).await?;
    audit::record(
        tx.conn(),
        &actor,
        now,
        "message.send",
        "unit",
        &unit_id.to_string(),
        &format!("站内信{id}：{title}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/review/units/{unit_id}?ok=sent")).into_response())
}

#[derive(Template)]
#[template(path = "notice_new.html")]
struct NewPage {
    l: Layout,
    form: MessageForm,
    errors: FieldErrors,
    districts: Vec<District>,
}

pub async fn new_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let mut l = layout(&state, &ctx, "发送通知").await?;
    if ctx.path.contains("ok=sent") {
        l.flash = "通知已发送。".into();
    }
    render(NewPage {
        l,
        form: MessageForm {
            target: "all".into(),
            ..MessageForm::default()
        },
        errors: FieldErrors::new(),
        districts: reference::districts(state.pool()).await?,
    })
}

/// City staff: one message to every unit, or every unit of a district.
pub async fn broadcast(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<MessageForm>,
) -> AppResult<Response> {
    let districts = reference::districts(state.pool()).await?;
    let target = match form.target.as_str() {
        "all" => Ok(None),
        t => match t.parse::<i64>() {
            Ok(id) if districts.iter().any(|d| d.id == id) => Ok(Some(id)),
            _ => Err("请选择发送对象"),
        },
    };
    let checked = validate(&form);
    let (target, (title, body)) = match (target, checked) {
        (Ok(t), Ok(v)) => (t, v),
        (t, c) => {
            let mut errors = c.err().unwrap_or_default();
            if let Err(m) = t {
                errors.add("target", m);
            }
            return render(NewPage {
                l: layout(&state, &ctx, "发送通知").await?,
                form,
                errors,
                districts,
            });
        }
    };
    let now = state.now();
    let actor = ctx.actor();
    let mut tx = state.db.begin().await?;
    let n = messages::broadcast(tx.conn(), target, &actor, &title, &body, now).await?;
    let scope = match target {
        Some(id) => districts
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        None => "全部单位".into(),
    };
    audit::record(
        tx.conn(),
        &actor,
        now,
        "message.broadcast",
        "district",
        &target.unwrap_or(0).to_string(),
        &format!("{scope}，{n}个单位：{title}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/notices/new?ok=sent").into_response())
}
