//! What every page shares: the layout (navigation, counts, pop-up), pagers, short
//! confirmations, and the embedded CSS and JavaScript.

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use crate::domain::principal::Role;
use crate::state::AppState;
use crate::workflow::navigation;

/// Data of the shared page layout.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub system_name: String,
    pub office_name: String,
    /// The office's phone from the settings (empty until an administrator sets it).
    pub office_phone: String,
    pub signed_in: bool,
    pub user_label: String,
    pub role: String,
    pub unread: i64,
    pub queue: i64,
    pub approved: bool,
    pub flash: String,
    /// The unread message that pops up at the bottom right on this page, if one is due.
    pub popup: Option<crate::store::messages::Message>,
    /// Groups waiting for this reviewer.
    pub group_queue: i64,
    /// Post-visit registrations waiting for this reviewer.
    pub visit_queue: i64,
    /// Open follow-up items of 差评 (city staff).
    pub followup_queue: i64,
    /// The path of this page (where the pop-up's buttons come back to).
    pub path: String,
    pub city: bool,
}

impl Layout {
    pub fn is_unit(&self) -> bool {
        self.role == "unit"
    }
    pub fn is_staff(&self) -> bool {
        self.role == "county" || self.role == "city"
    }
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

pub async fn layout(state: &AppState, ctx: &Ctx, title: &str) -> AppResult<Layout> {
    let site = crate::workflow::reference::site(state).await?;
    let mut l = Layout {
        title: title.to_string(),
        csrf: ctx.csrf.clone(),
        path: ctx.path.clone(),
        system_name: site.system_name,
        office_name: site.office_name,
        office_phone: site.office_phone,
        ..Layout::default()
    };
    if let (Some(u), Some(p)) = (&ctx.user, &ctx.principal) {
        l.signed_in = true;
        l.role = u.role.as_str().to_string();
        l.user_label = u.display_name.clone();
        match u.role {
            Role::Unit => {
                if let Some(unit) = ctx.unit(state).await? {
                    l.user_label = unit.data.name.clone();
                    l.approved = unit.state == crate::domain::registration::RegState::Approved;
                }
                (l.unread, l.popup) = navigation::reminder(state, p).await?;
            }
            Role::County | Role::City => {
                l.user_label = format!("{}（{}）", u.display_name, u.role.label());
                l.city = u.role == Role::City;
                let q = navigation::queues(state, p).await?;
                l.queue = q.registrations;
                l.group_queue = q.groups;
                l.visit_queue = q.visits;
                l.followup_queue = q.followups;
            }
            Role::Admin => {}
        }
    }
    Ok(l)
}

/// Which page of a long list is shown: `asked` (from the query string) kept within the pages
/// that `total` rows fill, `per` to a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pager {
    /// Every row of the list, not only those on this page.
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

impl Pager {
    pub fn new(total: i64, per: i64, asked: &str) -> Pager {
        let pages = ((total + per - 1) / per).max(1);
        let page = asked.trim().parse::<i64>().unwrap_or(1).clamp(1, pages);
        Pager { total, page, pages }
    }
    pub fn offset(&self, per: i64) -> i64 {
        (self.page - 1) * per
    }
}

/// The query of a work list made of sections paged on their own (团组待办, 销签待办):
/// `?section=<code>&page=<n>` shows a later page of one section, the others their first;
/// `?format=xlsx` exports every row; `?ok=` carries a confirmation.
#[derive(serde::Deserialize, Default)]
pub struct SectionQuery {
    #[serde(default)]
    pub ok: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub section: String,
    #[serde(default)]
    pub page: String,
}

impl SectionQuery {
    /// The page asked for the section `code` ("" when another section is paged).
    pub fn page_of(&self, code: &str) -> &str {
        if self.section == code {
            &self.page
        } else {
            ""
        }
    }
}

/// Short confirmations carried in `?ok=` after a redirect.
pub fn flash_text(code: &str) -> &'static str {
    match code {
        "submitted" => "提交成功，已通知属地县区外办进行初审。",
        "saved" => "已保存。",
        "uploaded" => "附件已上传。",
        "password" => "密码已修改。",
        "reset" => "密码已重置，请使用新密码登录。",
        "mobile" => "手机号码已绑定。",
        "revoked" => "令牌已吊销，使用它的请求将被拒绝。",
        "approved" => "已审核通过。",
        "returned" => "已退回，并已通知申请单位。",
        "change_submitted" => "变更申请已提交，审核通过前原注册信息继续有效。",
        "deleted" => "已删除。",
        "sent" => "站内信已发送。",
        "group_submitted" => "团组已提交，已通知县区外办初审。提交后团组不能修改。",
        "accepted" => "已受理。",
        "reported" => "已上报外交部。",
        "dispatched" => "已发件，并已短信通知邀请单位。",
        "visit_submitted" => "销签登记已提交，等待县区外办审核。",
        "group_returned" => "已退件，并已通知申请单位。",
        "withdrawn" => "已撤回，可修改后重新提交。",
        "draft_deleted" => "草稿已删除。",
        "invitation_cancelled" => "邀请已取消。",
        "signin_expired" => "登录已超时，请重新输入登录ID和密码。",
        "2fa_disabled" => "两步验证已停用。",
        "rated" => "感谢您的评价。",
        "followup_done" => "已办结，并已通知申请单位。",
        _ => "",
    }
}

/// The CSS and the little JavaScript, embedded in the binary (no CDN, works offline).
pub async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, mime): (&'static str, &'static str) = match file.as_str() {
        "app.css" => (
            include_str!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "print.css" => (
            include_str!("../../static/print.css"),
            "text/css; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../../static/favicon.svg"), "image/svg+xml"),
        "find.js" => (
            include_str!("../../static/find.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return AppError::NotFound.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `/favicon.ico`: browsers ask for it on pages that name no icon (a PDF opened in a tab);
/// the same SVG as `/static/favicon.svg`.
pub async fn favicon() -> Response {
    static_file(axum::extract::Path("favicon.svg".to_string())).await
}

/// Renders a page template.
pub fn render<T: Template>(t: T) -> AppResult<Response> {
    Ok(Html(t.render()?).into_response())
}

/// `?ok=<code>`: a confirmation after a redirect (see [`flash_text`]).
#[derive(serde::Deserialize, Default)]
pub struct OkQuery {
    #[serde(default)]
    pub ok: String,
}
