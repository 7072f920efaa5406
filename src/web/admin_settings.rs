//! Administration (issue 6, third part): settings (names, office phone, time limits, public
//! holidays) and the texts (registration notice, invitation notice, help page) as Markdown.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::export::{describe, respond, wants_xlsx, Sheet, MAX_ROWS};
use super::page::render;
use super::page::OkQuery;
use super::page::{layout, Layout};
use crate::domain::audit::ObjectType;
use crate::domain::fields::FieldErrors;
use crate::domain::refdata::SPECS;
use crate::domain::texts::Text;
use crate::state::AppState;
use crate::store::audit::Entry;
use crate::workflow::audit_log::{self, Criteria};
use crate::workflow::error::Error;
use crate::workflow::settings::{self, SettingsInput as SettingsForm};

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    l: Layout,
    form: SettingsForm,
    errors: FieldErrors,
}

/// The settings as the form shows them (one holiday a line).
async fn current(state: &AppState, ctx: &Ctx) -> AppResult<SettingsForm> {
    let mut form = settings::settings(state, ctx.principal()?).await?;
    form.holidays = form.holidays.replace(',', "\n");
    Ok(form)
}

pub async fn settings_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let mut l = layout(&state, &ctx, "系统设置").await?;
    if q.ok == "saved" {
        l.flash = "设置已保存。".into();
    }
    render(SettingsPage {
        l,
        form: current(&state, &ctx).await?,
        errors: FieldErrors::new(),
    })
}

pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<SettingsForm>,
) -> AppResult<Response> {
    match settings::save_settings(&state, ctx.principal()?, &f).await {
        Ok(()) => Ok(Redirect::to("/admin/settings?ok=saved").into_response()),
        Err(Error::Invalid(errors)) => render(SettingsPage {
            l: layout(&state, &ctx, "系统设置").await?,
            form: f,
            errors,
        }),
        Err(e) => Err(e.into()),
    }
}

/// The texts an administrator edits, as (key, label) for the page's links.
fn texts() -> Vec<(&'static str, &'static str)> {
    Text::ALL.iter().map(|t| (t.key(), t.label())).collect()
}

#[derive(Template)]
#[template(path = "admin_content.html")]
struct ContentPage {
    l: Layout,
    key: String,
    label: String,
    body: String,
    preview: String,
    errors: FieldErrors,
    texts: Vec<(&'static str, &'static str)>,
}

fn text_of(key: &str) -> AppResult<Text> {
    Text::parse(key).ok_or(AppError::NotFound)
}

pub async fn content_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let text = text_of(&key)?;
    let label = text.label();
    let c = settings::text(&state, ctx.principal()?, text).await?;
    let mut l = layout(&state, &ctx, label).await?;
    if q.ok == "saved" {
        l.flash = "已保存。".into();
    }
    render(ContentPage {
        l,
        preview: crate::markdown::render(&c.body),
        key,
        label: label.into(),
        body: c.body,
        errors: FieldErrors::new(),
        texts: texts(),
    })
}

#[derive(Deserialize, Default)]
pub struct ContentForm {
    #[serde(default)]
    body: String,
}

pub async fn save_content(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(f): Form<ContentForm>,
) -> AppResult<Response> {
    let text = text_of(&key)?;
    match settings::save_text(&state, ctx.principal()?, text, &f.body).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/content/{key}?ok=saved")).into_response()),
        Err(Error::Invalid(errors)) => render(ContentPage {
            l: layout(&state, &ctx, text.label()).await?,
            preview: crate::markdown::render(&f.body),
            key,
            label: text.label().into(),
            body: f.body,
            errors,
            texts: texts(),
        }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    object_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    l: Layout,
    entries: Vec<Entry>,
    total: i64,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    from: String,
    to: String,
    page: i64,
    pages: i64,
    query: String,
    error: String,
}

const AUDIT_PAGE: i64 = 50;

/// The audit log, filtered by actor, action, object and time. Read-only: no route changes or
/// deletes an entry.
pub async fn audit_log(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let c = Criteria {
        actor: &q.actor,
        action: &q.action,
        object_type: &q.object_type,
        object_id: &q.object_id,
        from: &q.from,
        to: &q.to,
    };
    let mut error = String::new();
    if !c.dates_valid() {
        error = "日期格式应为2026-01-31".into();
    }
    let overlong = c.overlong();
    if let Some(m) = &overlong {
        error = m.clone();
    }
    if wants_xlsx(&q.format) && error.is_empty() {
        let (entries, _) = audit_log::search(&state, p, &c, MAX_ROWS, 0).await?;
        let mut sheet = Sheet::new(
            "审计日志",
            &[
                "编号",
                "时间",
                "操作人",
                "地址",
                "操作",
                "操作代码",
                "对象类型",
                "对象编号",
                "说明",
            ],
        );
        for e in &entries {
            sheet.push(vec![
                e.id.into(),
                e.at_text().into(),
                (&e.actor).into(),
                (&e.ip).into(),
                e.action_text().into(),
                (&e.action).into(),
                (&e.object_type).into(),
                (&e.object_id).into(),
                (&e.detail).into(),
            ]);
        }
        let filters = describe(&[
            ("操作人", q.actor.as_str()),
            ("操作", q.action.as_str()),
            ("对象类型", q.object_type.as_str()),
            ("对象编号", q.object_id.as_str()),
            ("日期自", q.from.as_str()),
            ("至", q.to.as_str()),
        ]);
        return respond(&state, &ctx, "audit", "审计日志", &filters, vec![sheet]).await;
    }
    let page = q.page.unwrap_or(1).max(1);
    let (entries, total) = match overlong {
        Some(_) => (Vec::new(), 0),
        None => audit_log::search(&state, p, &c, AUDIT_PAGE, (page - 1) * AUDIT_PAGE).await?,
    };
    let enc = super::ctx::urlencode;
    let query = format!(
        "actor={}&action={}&object_type={}&object_id={}&from={}&to={}",
        enc(q.actor.trim()),
        enc(q.action.trim()),
        enc(q.object_type.trim()),
        enc(q.object_id.trim()),
        enc(q.from.trim()),
        enc(q.to.trim())
    );
    render(AuditPage {
        l: layout(&state, &ctx, "审计日志").await?,
        entries,
        total,
        actor: q.actor.trim().into(),
        action: q.action.trim().into(),
        object_type: q.object_type.trim().into(),
        object_id: q.object_id.trim().into(),
        from: q.from.trim().into(),
        to: q.to.trim().into(),
        page,
        pages: ((total + AUDIT_PAGE - 1) / AUDIT_PAGE).max(1),
        query,
        error,
    })
}

/// Where an administrator sees the object of an audit entry, if it has a page (the audit
/// log's links).
pub trait ObjectLink {
    fn object_link(&self) -> Option<String>;
}

impl ObjectLink for Entry {
    fn object_link(&self) -> Option<String> {
        use ObjectType as T;
        let id = &self.object_id;
        match ObjectType::parse(&self.object_type)? {
            T::Unit => Some(format!("/admin/units/{id}")),
            T::User => Some(format!("/admin/staff/{id}")),
            T::Content => Some(format!("/admin/content/{id}")),
            T::Settings => Some("/admin/settings".into()),
            T::Group => Some(format!("/review/groups/{id}")),
            T::Change => Some(format!("/review/changes/{id}")),
            T::Visit => Some(format!("/review/visit-records/{id}")),
            t @ (T::Country | T::Mission | T::Port | T::District | T::AttachmentType) => {
                let list = SPECS.iter().find(|s| s.object_type == t)?;
                Some(format!("/admin/refdata/{}/{id}", list.slug))
            }
            // Keys are ASCII (ids, alpha-3 codes, lowercase codes): no escaping needed. Codes
            // are "kind:code" (purpose:business).
            T::Code => {
                let (kind, code) = id.split_once(':')?;
                let list = SPECS.iter().find(|s| s.code_kind == Some(kind))?;
                Some(format!("/admin/refdata/{}/{code}", list.slug))
            }
            T::AccessLog => Some("/admin/access".into()),
            T::Sms => Some(format!("/admin/sms?id={id}")),
            T::Login | T::Mobile | T::Export | T::DataKey | T::ApiToken => None,
        }
    }
}
