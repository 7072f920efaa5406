//! 个人信息访问记录 (issue 18): who saw a passport's visitors, and what an account saw, with the
//! export of either list. Handlers call `workflow::access`, which audits every query.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{respond, wants_xlsx, Sheet, MAX_ROWS};
use super::page::render;
use super::page::{layout, Layout};
use crate::state::AppState;
use crate::workflow::access::{self, Answer, EntryView};
use crate::workflow::error::Error;

#[derive(Deserialize, Default)]
pub struct AccessQuery {
    #[serde(default)]
    passport: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "admin_access.html")]
struct AccessPage {
    l: Layout,
    passport: String,
    login: String,
    /// Which question was asked: "passport", "login" or "".
    asked: &'static str,
    /// The refusal beside the field asked about.
    error: String,
    entries: Vec<EntryView>,
    total: i64,
    /// How many visitors the passport number found.
    found: usize,
    /// The account asked about: "姓名（登录ID）".
    user: String,
    page: i64,
    pages: i64,
    query: String,
}

const PAGE: i64 = 50;

/// The page: the two forms, and the entries of the question asked (the passport number when
/// both are filled in).
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AccessQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let passport = q.passport.trim().to_string();
    let login = q.login.trim().to_string();
    let asked = match (passport.is_empty(), login.is_empty()) {
        (false, _) => "passport",
        (true, false) => "login",
        (true, true) => "",
    };
    let export = wants_xlsx(&q.format);
    let page = q.page.unwrap_or(1).max(1);
    let (limit, offset) = match export {
        true => (MAX_ROWS, 0),
        false => (PAGE, (page - 1) * PAGE),
    };
    let answer = match asked {
        "passport" => Some(access::by_passport(&state, p, &passport, limit, offset).await),
        "login" => Some(access::by_user(&state, p, &login, limit, offset).await),
        _ => None,
    };
    let (answer, error) = match answer {
        Some(Ok(a)) => (Some(a), String::new()),
        Some(Err(Error::Invalid(e))) => (None, e.first().unwrap_or_default().to_string()),
        Some(Err(e)) => return Err(e.into()),
        None => (None, String::new()),
    };
    if export {
        if let Some(a) = &answer {
            let sheet = sheet(a, asked == "passport");
            let described = a.described.clone();
            return respond(
                &state,
                &ctx,
                "admin.access",
                "个人信息访问记录",
                &described,
                vec![sheet],
            )
            .await;
        }
    }
    // The pager carries the question as the form did (a GET; pages are not cached).
    let enc = super::ctx::urlencode;
    let query = match asked {
        "passport" => format!("passport={}", enc(&passport)),
        "login" => format!("login={}", enc(&login)),
        _ => String::new(),
    };
    let (entries, total, found, user) = match answer {
        Some(a) => (
            a.entries,
            a.total,
            a.visitors.len(),
            a.user
                .map(|u| format!("{}（{}）", u.display_name, u.login_id))
                .unwrap_or_default(),
        ),
        None => (Vec::new(), 0, 0, String::new()),
    };
    render(AccessPage {
        l: layout(&state, &ctx, "个人信息访问记录").await?,
        passport,
        login,
        asked,
        error,
        entries,
        total,
        found,
        user,
        page,
        pages: ((total + PAGE - 1) / PAGE).max(1),
        query,
    })
}

/// The export of an answer: one row per entry, the visitors named in one cell.
fn sheet(a: &Answer, by_passport: bool) -> Sheet {
    // A passport's question lists only that passport's visitors in each entry.
    let title = if by_passport {
        "按护照号码"
    } else {
        "按帐号"
    };
    let mut sheet = Sheet::new(
        title,
        &[
            "时间",
            "访问人",
            "单位或部门",
            "地址",
            "方式",
            "页面",
            "对象",
            "到访人员",
            "人数",
        ],
    );
    for v in &a.entries {
        let names = v
            .visitors
            .iter()
            .map(|s| match (&s.name, &s.group_number) {
                (Some(n), Some(g)) => format!("{n}（团组{g}）"),
                _ => format!("#{}（已删除）", s.visitor_id),
            })
            .collect::<Vec<_>>()
            .join("、");
        let names = match v.more() {
            0 => names,
            n => format!("{names} 等另{n}人"),
        };
        sheet.push(vec![
            v.at_text().into(),
            (&v.e.actor).into(),
            v.office().into(),
            (&v.e.ip).into(),
            v.kind_text().into(),
            (&v.e.page).into(),
            (&v.e.object).into(),
            names.into(),
            v.e.visitors.into(),
        ]);
    }
    sheet
}
