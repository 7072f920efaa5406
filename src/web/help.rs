//! 模板下载 (templates of the attachment types), 系统帮助 (help for the unit clerk), and the
//! administrator's replacement of a template file.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::ctx::Ctx;
use super::error::AppResult;
use super::files::read_file;
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout};
use crate::state::AppState;
use crate::store::reference::AttachmentType;
use crate::workflow::error::Error;
use crate::workflow::settings::{self, Scope};

pub struct TemplateGroup {
    pub title: &'static str,
    pub items: Vec<AttachmentType>,
}

/// The attachment types by scope under their headings.
fn groups(by_scope: Vec<(Scope, Vec<AttachmentType>)>) -> Vec<TemplateGroup> {
    by_scope
        .into_iter()
        .map(|(scope, items)| TemplateGroup {
            title: match scope {
                Scope::Unit => "注册附件",
                Scope::Group => "团组申报附件",
                Scope::Visit => "销签登记附件",
            },
            items,
        })
        .collect()
}

/// 样式模板管理's list, every active attachment type.
async fn admin_groups(state: &AppState, ctx: &Ctx) -> AppResult<Vec<TemplateGroup>> {
    Ok(groups(
        settings::all_templates(state, ctx.principal()?).await?,
    ))
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
        groups: groups(settings::templates(&state).await?),
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

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    l: Layout,
    title: String,
    html: String,
}

/// 个人信息处理规则 (public: units tell their visitors, who may read it themselves).
pub async fn rules(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let c = crate::workflow::registration::personal_info_rules(&state).await?;
    render(RulesPage {
        l: layout(&state, &ctx, "个人信息处理规则").await?,
        title: c.title,
        html: crate::markdown::render(&c.body),
    })
}

/// 系统帮助: the help text (Markdown, edited by the office) with the office's phone.
pub async fn help(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let text = settings::help(&state).await?;
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
        groups: admin_groups(&state, &ctx).await?,
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
    let p = ctx.principal()?;
    let t = settings::template_type(&state, p, type_id).await?;
    let upload = read_file(multipart, "file").await?;
    match settings::replace_template(&state, p, &t, &upload).await {
        Ok(()) => Ok(Redirect::to("/admin/templates?ok=uploaded").into_response()),
        Err(Error::Invalid(e)) => render(ListPage {
            l: layout(&state, &ctx, "样式模板管理").await?,
            groups: admin_groups(&state, &ctx).await?,
            admin: true,
            error: e.first().unwrap_or_default().to_string(),
        }),
        Err(e) => Err(e.into()),
    }
}
