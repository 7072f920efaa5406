//! 模板下载 (templates of the attachment types), 系统帮助 (help for the unit clerk), and the
//! administrator's replacement of a template file.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout};
use crate::state::AppState;
use crate::store::audit;
use crate::store::reference::{self, AttachmentType};

pub struct TemplateGroup {
    pub title: &'static str,
    pub items: Vec<AttachmentType>,
}

/// The attachment types with a template; for the administrator every active type, so that a
/// type added without one can get its template here.
async fn groups(state: &AppState, admin: bool) -> AppResult<Vec<TemplateGroup>> {
    let mut out = Vec::new();
    for (scope, title) in [
        ("unit", "注册附件"),
        ("group", "团组申报附件"),
        ("visit", "销签登记附件"),
    ] {
        let items: Vec<AttachmentType> = reference::attachment_types(state.pool(), scope)
            .await?
            .into_iter()
            .filter(|t| admin || t.template_file_id.is_some())
            .collect();
        if !items.is_empty() {
            out.push(TemplateGroup { title, items });
        }
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "templates_list.html")]
struct ListPage {
    l: Layout,
    groups: Vec<TemplateGroup>,
    admin: bool,
    error: String,
}

/// 模板下载.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    render(ListPage {
        l: layout(&state, &ctx, "模板下载").await?,
        groups: groups(&state, false).await?,
        admin: false,
        error: String::new(),
    })
}

#[derive(Template)]
#[template(path = "help.html")]
struct HelpPage {
    l: Layout,
    html: String,
}

/// 系统帮助: the help text (Markdown, edited by the office) with the office's phone.
pub async fn help(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let c = reference::content(state.pool(), "help").await?;
    let phone = reference::setting(state.pool(), crate::domain::settings::Setting::OfficePhone)
        .await?
        .unwrap_or_default();
    let contact = if phone.trim().is_empty() {
        format!("请与{}联系", state.site().await?.office_name)
    } else {
        format!("{}，电话 {}", state.site().await?.office_name, phone.trim())
    };
    let text = c.body.replace("{office_contact}", &contact);
    render(HelpPage {
        l: layout(&state, &ctx, "系统帮助").await?,
        html: crate::markdown::render(&text),
    })
}

/// The administrator's template list with an upload per type.
pub async fn admin_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let mut l = layout(&state, &ctx, "样式模板管理").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(ListPage {
        l,
        groups: groups(&state, true).await?,
        admin: true,
        error: String::new(),
    })
}

/// Replaces the template file of an attachment type (PDF, Word, Excel or RTF; 10 MB at most).
pub async fn admin_replace(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(type_id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT name FROM attachment_types WHERE id = $1")
            .bind(type_id)
            .fetch_optional(state.pool())
            .await?;
    let type_name = exists.ok_or(AppError::NotFound)?;
    let (name, bytes) = super::files::read_upload(multipart, "file").await?;
    let kind = match crate::files::check_template(&bytes) {
        Ok(k) => k,
        Err(e) => {
            return render(ListPage {
                l: layout(&state, &ctx, "样式模板管理").await?,
                groups: groups(&state, true).await?,
                admin: true,
                error: format!("{type_name}：{e}"),
            })
        }
    };
    let sha = state.files.put(&bytes).await?;
    let now = state.now();
    let user_id = ctx.user()?.id;
    let mut tx = state.db.begin().await?;
    let file_id = reference::insert_file(
        tx.conn(),
        &sha,
        bytes.len() as i64,
        kind.mime(),
        &name,
        Some(user_id),
        now,
    )
    .await?;
    sqlx::query(
        "UPDATE attachment_types SET template_file_id = $1, template_name = $2 WHERE id = $3",
    )
    .bind(file_id)
    .bind(name.as_str())
    .bind(type_id)
    .execute(tx.conn())
    .await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "template.replace",
        "attachment_type",
        &type_id.to_string(),
        &format!("{type_name}：{name}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/templates?ok=uploaded").into_response())
}
