//! Administration (issue 6, second part): units — search, a unit's page with its registration,
//! change requests and groups; the dishonesty list (失信企业名单) with a reason; rebinding the
//! mobile of a unit that lost its phone; resetting its password.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{describe, respond, wants_xlsx, Sheet, MAX_ROWS};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout};
use crate::domain::fields::FieldErrors;
use crate::state::AppState;
use crate::store::groups::GroupRow;
use crate::store::reference::District;
use crate::store::units::Change;
use crate::store::units::SearchRow;
use crate::store::units::Unit;
use crate::workflow::admin::{self, UnitQuery, UNIT_STATES};
use crate::workflow::error::{Error, Outcome};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "admin_units.html")]
struct SearchPage {
    l: Layout,
    rows: Vec<SearchRow>,
    total: i64,
    q: String,
    district: String,
    state: String,
    districts: Vec<District>,
    states: Vec<(&'static str, &'static str)>,
    page: i64,
    pages: i64,
    query: String,
    errors: FieldErrors,
}

const PAGE: i64 = 50;

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let uq = UnitQuery {
        text: &q.q,
        district: q.district.trim().parse::<i64>().ok(),
        state: UNIT_STATES
            .into_iter()
            .find(|s| s.as_str() == q.state.trim()),
    };
    let found = |limit, offset| admin::search_units(&state, p, &uq, limit, offset);
    if wants_xlsx(&q.format) {
        let (rows, _) = found(MAX_ROWS, 0).await?;
        let mut sheet = Sheet::new(
            "邀请单位",
            &[
                "单位全称",
                "统一社会信用代码",
                "登录ID",
                "所属县区",
                "状态",
                "失信企业名单",
            ],
        );
        for r in &rows {
            sheet.push(vec![
                (&r.name).into(),
                (&r.credit_code).into(),
                (&r.login_id).into(),
                (&r.district_name).into(),
                r.state.label().into(),
                if r.blacklisted { "是" } else { "" }.into(),
            ]);
        }
        let filters = describe(&[
            ("关键字", q.q.as_str()),
            ("县区", q.district.as_str()),
            ("状态", q.state.as_str()),
        ]);
        return respond(
            &state,
            &ctx,
            "admin.units",
            "邀请单位管理",
            &filters,
            vec![sheet],
        )
        .await;
    }
    let page = q.page.unwrap_or(1).max(1);
    // A refused query shows the form again with the message beside the field and no rows.
    let (rows, total, errors) = match found(PAGE, (page - 1) * PAGE).await {
        Ok((rows, total)) => (rows, total, FieldErrors::new()),
        Err(Error::Invalid(errors)) => (Vec::new(), 0, errors),
        Err(e) => return Err(e.into()),
    };
    let query = format!(
        "q={}&district={}&state={}",
        super::ctx::urlencode(q.q.trim()),
        super::ctx::urlencode(q.district.trim()),
        super::ctx::urlencode(q.state.trim())
    );
    render(SearchPage {
        l: layout(&state, &ctx, "邀请单位管理").await?,
        rows,
        total,
        q: q.q.trim().to_string(),
        district: q.district.trim().to_string(),
        state: q.state.trim().to_string(),
        districts: admin::districts(&state, p).await?,
        states: UNIT_STATES
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        page,
        pages: ((total + PAGE - 1) / PAGE).max(1),
        query,
        errors,
    })
}

#[derive(Template)]
#[template(path = "admin_unit.html")]
struct UnitPage {
    l: Layout,
    unit: Unit,
    login_id: String,
    changes: Vec<Change>,
    rows: Vec<GroupRow>,
    errors: FieldErrors,
    reason: String,
    mobile: String,
    new_password: String,
}

#[derive(Default)]
struct Typed {
    errors: FieldErrors,
    reason: String,
    mobile: String,
    new_password: String,
    flash: String,
}

async fn unit_page(state: &AppState, ctx: &Ctx, unit_id: i64, t: Typed) -> AppResult<Response> {
    let f = admin::unit_file(state, ctx.principal()?, unit_id).await?;
    let mut l = layout(state, ctx, "邀请单位").await?;
    l.flash = t.flash;
    render(UnitPage {
        l,
        unit: f.unit,
        login_id: f.login_id,
        changes: f.changes,
        rows: f.groups,
        errors: t.errors,
        reason: t.reason,
        mobile: t.mobile,
        new_password: t.new_password,
    })
}

pub async fn unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let flash = match q.ok.as_str() {
        "blacklisted" => "已列入失信企业名单，该单位无法登录。".to_string(),
        "unblacklisted" => "已移出失信企业名单，该单位可以正常登录。".to_string(),
        other => flash_text(other).to_string(),
    };
    unit_page(
        &state,
        &ctx,
        id,
        Typed {
            flash,
            ..Typed::default()
        },
    )
    .await
}

/// After an action on a unit: back to its page with a confirmation, or its page again with
/// the refusal beside the field and what was typed.
async fn answer(
    state: &AppState,
    ctx: &Ctx,
    unit_id: i64,
    done: Outcome<()>,
    ok: &str,
    typed: impl FnOnce(FieldErrors) -> Typed,
) -> AppResult<Response> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/admin/units/{unit_id}?ok={ok}")).into_response()),
        Err(Error::Invalid(errors)) => unit_page(state, ctx, unit_id, typed(errors)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// Puts the unit on the dishonesty list: a reason is required; its sessions end.
pub async fn blacklist(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    let done = admin::blacklist(&state, ctx.principal()?, id, &f.reason).await;
    answer(&state, &ctx, id, done, "blacklisted", |errors| Typed {
        errors,
        reason: f.reason,
        ..Typed::default()
    })
    .await
}

pub async fn unblacklist(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    admin::unblacklist(&state, ctx.principal()?, id).await?;
    Ok(Redirect::to(&format!("/admin/units/{id}?ok=unblacklisted")).into_response())
}

#[derive(Deserialize, Default)]
pub struct MobileForm {
    #[serde(default)]
    mobile: String,
}

/// Rebinds the mobile of a unit that can no longer receive SMS (no code: staff checked who
/// asked, by phone or in person).
pub async fn rebind(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<MobileForm>,
) -> AppResult<Response> {
    let done = admin::rebind_unit_mobile(&state, ctx.principal()?, id, &f.mobile).await;
    answer(&state, &ctx, id, done, "mobile", |errors| Typed {
        errors,
        mobile: f.mobile,
        ..Typed::default()
    })
    .await
}

/// Resets the unit's password: a new one shown once, to be changed at the next sign-in.
pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let password = admin::reset_unit_password(&state, ctx.principal()?, id).await?;
    unit_page(
        &state,
        &ctx,
        id,
        Typed {
            new_password: password,
            ..Typed::default()
        },
    )
    .await
}
