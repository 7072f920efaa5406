//! Administration (issue 6, second part): units — search, a unit's page with its registration,
//! change requests and groups; the dishonesty list (失信企业名单) with a reason; rebinding the
//! mobile of a unit that lost its phone; resetting its password.

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
use super::page::{flash_text, layout, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::registration::RegState;
use crate::domain::Mobile;
use crate::security::{hash_password, random_password};
use crate::state::AppState;
use crate::store::groups::{self, GroupRow};
use crate::store::reference::{self, District};
use crate::store::units::{self, Change, SearchRow, Unit};
use crate::store::{audit, sessions, users};

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
}

const PAGE: i64 = 50;

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let district = q.district.trim().parse::<i64>().ok();
    let st = [
        RegState::Draft,
        RegState::PendingCounty,
        RegState::PendingCity,
        RegState::Approved,
        RegState::Returned,
    ]
    .into_iter()
    .find(|s| s.as_str() == q.state.trim());
    if wants_xlsx(&q.format) {
        let (rows, _) = units::search(state.pool(), &q.q, district, st, MAX_ROWS, 0).await?;
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
    let (rows, total) =
        units::search(state.pool(), &q.q, district, st, PAGE, (page - 1) * PAGE).await?;
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
        districts: reference::districts(state.pool()).await?,
        states: [
            RegState::Draft,
            RegState::PendingCounty,
            RegState::PendingCity,
            RegState::Approved,
            RegState::Returned,
        ]
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect(),
        page,
        pages: ((total + PAGE - 1) / PAGE).max(1),
        query,
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
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let login_id = users::by_unit(state.pool(), unit_id)
        .await?
        .map(|u| u.login_id)
        .unwrap_or_default();
    let changes = units::changes_of(state.pool(), unit_id).await?;
    let rows = groups::latest(state.pool(), unit_id, 20).await?;
    let mut l = layout(state, ctx, "邀请单位").await?;
    l.flash = t.flash;
    render(UnitPage {
        l,
        unit,
        login_id,
        changes,
        rows,
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
    let unit = units::get(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let reason = f.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        let mut errors = FieldErrors::new();
        errors.add(
            "reason",
            if reason.is_empty() {
                "请填写列入失信企业名单的原因"
            } else {
                "原因不能超过500个字符"
            },
        );
        return unit_page(
            &state,
            &ctx,
            id,
            Typed {
                errors,
                reason: f.reason,
                ..Typed::default()
            },
        )
        .await;
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    units::set_blacklist(tx.conn(), id, Some(&reason), now).await?;
    if let Some(u) = users::by_unit(state.pool(), id).await? {
        sessions::delete_for_user(tx.conn(), u.id).await?;
    }
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "unit.blacklist",
        "unit",
        &id.to_string(),
        &format!("{}：{reason}", unit.data.name),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/units/{id}?ok=blacklisted")).into_response())
}

pub async fn unblacklist(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let unit = units::get(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    units::set_blacklist(tx.conn(), id, None, now).await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "unit.unblacklist",
        "unit",
        &id.to_string(),
        &unit.data.name,
    )
    .await?;
    tx.commit().await?;
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
    let unit = units::get(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mobile = match Mobile::parse(&f.mobile) {
        Ok(m) => m,
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.add("mobile", e.to_string());
            return unit_page(
                &state,
                &ctx,
                id,
                Typed {
                    errors,
                    mobile: f.mobile,
                    ..Typed::default()
                },
            )
            .await;
        }
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    units::set_mobile(tx.conn(), id, mobile.as_str(), now).await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "unit.mobile_by_staff",
        "unit",
        &id.to_string(),
        &format!("{} → {}", unit.mobile_masked(), mobile.masked()),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/units/{id}?ok=mobile")).into_response())
}

/// Resets the unit's password: a new one shown once, to be changed at the next sign-in.
pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let user = users::by_unit(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let password = random_password();
    let hash = hash_password(&password)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    users::set_password(tx.conn(), user.id, &hash, true).await?;
    users::clear_failures(tx.conn(), &user.login_id.to_lowercase()).await?;
    sessions::delete_for_user(tx.conn(), user.id).await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "unit.reset_password",
        "unit",
        &id.to_string(),
        &user.login_id,
    )
    .await?;
    tx.commit().await?;
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
