//! Review of registrations and change requests by county (初审) and city (审核) staff.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::export::{respond, wants_xlsx, ListQuery, Sheet};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout};
use super::registration::Slot;
use crate::domain::fields::FieldErrors;
use crate::domain::registration::RegState;
use crate::state::AppState;
use crate::store::reference::{self, FileMeta};
use crate::store::units::{self, Change, QueueItem, Reviewer, Unit};
use crate::store::users::{Role, User};
use crate::store::{audit, Actor};
use crate::workflow::notify;

pub fn reviewer_of(user: &User) -> Option<Reviewer> {
    match user.role {
        Role::County => user
            .district_id
            .map(|district_id| Reviewer::County { district_id }),
        Role::City => Some(Reviewer::City),
        _ => None,
    }
}

/// Whether this account may see the unit's registration and files.
pub async fn may_view_unit(state: &AppState, user: &User, unit: &Unit) -> AppResult<bool> {
    Ok(match user.role {
        Role::Unit => user.unit_id == Some(unit.id),
        Role::County => {
            user.district_id == Some(unit.data.district_id) && unit.state != RegState::Draft
        }
        Role::City => {
            unit.state == RegState::Approved || units::county_passed(state.pool(), unit.id).await?
        }
        Role::Admin => true,
    })
}

/// Whether this account may see a change request (of a unit it may see): county once submitted,
/// city once county passed it.
pub fn may_view_change(user: &User, change: &Change) -> bool {
    match user.role {
        Role::Unit => user.unit_id == Some(change.unit_id),
        Role::County => change.submitted_at.is_some(),
        Role::City => change.county_passed || change.state == RegState::Approved,
        Role::Admin => true,
    }
}

#[derive(Template)]
#[template(path = "review_queue.html")]
struct QueuePage {
    l: Layout,
    items: Vec<QueueItem>,
    stage: &'static str,
}

/// 待办: the reviewer's queue, oldest first.
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let reviewer = reviewer_of(ctx.user()?).ok_or(AppError::Forbidden)?;
    let items = units::queue(state.pool(), reviewer).await?;
    if wants_xlsx(&q.format) {
        let mut sheet = Sheet::new(
            "待办",
            &[
                "类型",
                "单位全称",
                "统一社会信用代码",
                "所属县区",
                "提交时间",
            ],
        );
        for i in &items {
            sheet.push(vec![
                i.kind_label().into(),
                (&i.name).into(),
                (&i.credit_code).into(),
                (&i.district_name).into(),
                i.submitted_text().into(),
            ]);
        }
        return respond(
            &state,
            &ctx,
            "review.units",
            "注册审核待办",
            "",
            vec![sheet],
        )
        .await;
    }
    let mut l = layout(&state, &ctx, "待办").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(QueuePage {
        l,
        items,
        stage: match reviewer {
            Reviewer::County { .. } => "初审",
            Reviewer::City => "审核",
        },
    })
}

/// A field shown on the detail page, with the proposed value for change requests.
pub struct Row {
    pub label: &'static str,
    pub value: String,
    pub proposed: String,
}

impl Row {
    pub fn changed(&self) -> bool {
        !self.proposed.is_empty() && self.proposed != self.value
    }
}

fn rows(unit: &Unit, district_names: &BTreeMap<i64, String>, change: Option<&Change>) -> Vec<Row> {
    let d = &unit.data;
    let p = change.map(|c| &c.data);
    let dn = |id: i64| district_names.get(&id).cloned().unwrap_or_default();
    let mut out = vec![
        ("单位全称", d.name.clone(), p.map(|p| p.name.clone())),
        (
            "单位英文名称",
            d.english_name.clone(),
            p.map(|p| p.english_name.clone()),
        ),
        (
            "统一社会信用代码",
            d.credit_code.clone(),
            p.map(|p| p.credit_code.clone()),
        ),
        ("所属县区", dn(d.district_id), p.map(|p| dn(p.district_id))),
        ("单位地址", d.address.clone(), p.map(|p| p.address.clone())),
        (
            "单位类型",
            d.unit_type.clone(),
            p.map(|p| p.unit_type.clone()),
        ),
        (
            "法定代表人",
            d.legal_rep.clone(),
            p.map(|p| p.legal_rep.clone()),
        ),
        (
            "联系人",
            d.contact_name.clone(),
            p.map(|p| p.contact_name.clone()),
        ),
        (
            "联系电话",
            d.landline.clone(),
            p.map(|p| p.landline.clone()),
        ),
        ("电子邮箱", d.email.clone(), p.map(|p| p.email.clone())),
    ]
    .into_iter()
    .map(|(label, value, proposed)| Row {
        label,
        value,
        proposed: proposed.unwrap_or_default(),
    })
    .collect::<Vec<_>>();
    out.push(Row {
        label: "手机号码",
        value: unit.mobile.clone(),
        proposed: String::new(),
    });
    out
}

#[derive(Template)]
#[template(path = "review_detail.html")]
struct DetailPage {
    l: Layout,
    unit: Unit,
    change: Option<Change>,
    rows: Vec<Row>,
    slots: Vec<Slot>,
    timeline: Vec<audit::Entry>,
    can_act: bool,
    action_base: String,
    reason: String,
    comment: String,
    errors: FieldErrors,
    msg: super::notices::MessageForm,
    msg_errors: FieldErrors,
    upload: bool,
    unit_id: i64,
}

/// What a re-rendered detail page keeps: typed reason/comment, the message form, errors.
#[derive(Default)]
pub struct Extras {
    pub reason: String,
    pub comment: String,
    pub errors: FieldErrors,
    pub msg: super::notices::MessageForm,
    pub msg_errors: FieldErrors,
    pub flash: String,
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    unit_id: i64,
    change_id: Option<i64>,
    x: Extras,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_view_unit(state, user, &unit).await? {
        return Err(AppError::NotFound);
    }
    let change = match change_id {
        Some(id) => Some(
            units::change(state.pool(), id)
                .await?
                .filter(|c| c.unit_id == unit.id && may_view_change(user, c))
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let reviewer = reviewer_of(user);
    let pending = change.as_ref().map(|c| c.state).unwrap_or(unit.state);
    let can_act = reviewer.is_some_and(|r| r.pending_state() == pending);
    let districts: BTreeMap<i64, String> =
        sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM districts")
            .fetch_all(state.pool())
            .await?
            .into_iter()
            .collect();
    let current = units::attachments(state.pool(), unit.id).await?;
    // Retired types stay listed where the unit gave a file of them.
    let mut keep: Vec<i64> = current.keys().copied().collect();
    if let Some(c) = &change {
        keep.extend(c.attachments.keys());
    }
    let types = reference::attachment_types_shown(state.pool(), "unit", &keep).await?;
    let mut slots = Vec::new();
    for t in types {
        let replaced = change
            .as_ref()
            .and_then(|c| c.attachments.get(&t.id))
            .copied();
        let file: Option<FileMeta> = match replaced {
            Some(fid) => reference::file(state.pool(), fid).await?,
            None => current.get(&t.id).cloned(),
        };
        slots.push(Slot {
            t,
            file,
            replaced: replaced.is_some(),
            error: String::new(),
        });
    }
    let (object, oid) = match &change {
        Some(c) => ("change", c.id.to_string()),
        None => ("unit", unit.id.to_string()),
    };
    let timeline = audit::for_object(state.pool(), object, &oid).await?;
    let action_base = match &change {
        Some(c) => format!("/review/changes/{}", c.id),
        None => format!("/review/units/{}", unit.id),
    };
    let mut l = layout(
        state,
        ctx,
        if change.is_some() {
            "注册信息变更审核"
        } else {
            "注册审核"
        },
    )
    .await?;
    l.flash = x.flash;
    render(DetailPage {
        upload: false,
        unit_id: unit.id,
        rows: rows(&unit, &districts, change.as_ref()),
        l,
        unit,
        change,
        slots,
        timeline,
        can_act,
        action_base,
        reason: x.reason,
        comment: x.comment,
        errors: x.errors,
        msg: x.msg,
        msg_errors: x.msg_errors,
    })
}

pub async fn unit_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let flash = flash_text(&q.ok).to_string();
    detail_page(
        &state,
        &ctx,
        id,
        None,
        Extras {
            flash,
            ..Extras::default()
        },
    )
    .await
}

/// The unit's detail page again, keeping a message that could not be sent.
pub async fn unit_detail_with_message(
    state: &AppState,
    ctx: &Ctx,
    unit_id: i64,
    msg: super::notices::MessageForm,
    msg_errors: FieldErrors,
) -> AppResult<Response> {
    let x = Extras {
        msg,
        msg_errors,
        ..Extras::default()
    };
    detail_page(state, ctx, unit_id, None, x).await
}

pub async fn change_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let change = units::change(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let flash = flash_text(&q.ok).to_string();
    detail_page(
        &state,
        &ctx,
        change.unit_id,
        Some(id),
        Extras {
            flash,
            ..Extras::default()
        },
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    reason: String,
}

const MAX_REASON: usize = 2000;
const STALE: &str = "该申请已被他人处理或状态已变化，请返回待办刷新后查看";

fn who(reviewer: Reviewer) -> &'static str {
    match reviewer {
        Reviewer::County { .. } => "县区外办",
        Reviewer::City => "市外办",
    }
}

/// Shared by 【审核通过】 and 【退回】 of registrations and change requests.
async fn decide(
    state: AppState,
    ctx: Ctx,
    unit_id: i64,
    change_id: Option<i64>,
    form: DecisionForm,
    approve: bool,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let reviewer = reviewer_of(&user).ok_or(AppError::Forbidden)?;
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_view_unit(&state, &user, &unit).await? {
        return Err(AppError::NotFound);
    }
    let current = match change_id {
        None => unit.state,
        Some(cid) => {
            let change = units::change(state.pool(), cid)
                .await?
                .filter(|c| c.unit_id == unit_id && may_view_change(&user, c))
                .ok_or(AppError::NotFound)?;
            change.state
        }
    };
    if current != reviewer.pending_state() {
        return Err(AppError::Conflict(STALE.into()));
    }
    let reason = form.reason.trim().to_string();
    let comment = form.comment.trim().to_string();
    if !approve {
        let mut errors = FieldErrors::new();
        if reason.is_empty() {
            errors.add(
                "reason",
                "请填写退回原因，一次性告知需要补充或修改的全部内容",
            );
        } else if reason.chars().count() > MAX_REASON {
            errors.add("reason", format!("退回原因不能超过{MAX_REASON}个字符"));
        }
        if !errors.is_empty() {
            let x = Extras {
                reason: form.reason,
                comment: form.comment,
                errors,
                ..Extras::default()
            };
            return detail_page(&state, &ctx, unit_id, change_id, x).await;
        }
    }
    let now = state.now();
    let actor: Actor = ctx.actor();
    let office = state.site().await?.office_name.clone();
    let stage = reviewer.action_prefix();
    let verb = if approve { "approve" } else { "return" };
    let mut tx = state.db.begin().await?;
    let (ok, notice, object, oid) = match change_id {
        None => {
            let ok = units::review(
                tx.conn(),
                unit_id,
                reviewer,
                (!approve).then_some(reason.as_str()),
                now,
            )
            .await?;
            let notice = match (approve, reviewer) {
                (true, Reviewer::County { .. }) => notify::registration_county_passed(&office),
                (true, Reviewer::City) => notify::registration_approved(&office),
                (false, r) => notify::registration_returned(&office, who(r), &reason),
            };
            (ok, notice, "unit", unit_id.to_string())
        }
        Some(cid) => {
            let ok = units::review_change(
                tx.conn(),
                cid,
                reviewer,
                (!approve).then_some(reason.as_str()),
                now,
            )
            .await?;
            if ok && approve && matches!(reviewer, Reviewer::City) {
                let change = units::change(state.pool(), cid)
                    .await?
                    .ok_or(AppError::NotFound)?;
                if let Err(e) = units::apply_change(tx.conn(), &change, now).await {
                    if crate::db::is_unique_violation(&e) {
                        return Err(AppError::Conflict(
                            "变更后的单位全称或统一社会信用代码与其他单位重复，请退回该变更申请"
                                .into(),
                        ));
                    }
                    return Err(e.into());
                }
            }
            let notice = match (approve, reviewer) {
                (true, Reviewer::County { .. }) => notify::change_county_passed(&office),
                (true, Reviewer::City) => notify::change_approved(&office),
                (false, r) => notify::change_returned(&office, who(r), &reason),
            };
            (ok, notice, "change", cid.to_string())
        }
    };
    if !ok {
        return Err(AppError::Conflict(STALE.into()));
    }
    let detail = if approve { comment } else { reason };
    audit::record(
        tx.conn(),
        &actor,
        now,
        &format!("{object}.{stage}_{verb}"),
        object,
        &oid,
        &detail,
    )
    .await?;
    if object == "change" {
        // The unit's own timeline shows change decisions too.
        audit::record(
            tx.conn(),
            &actor,
            now,
            &format!("change.{stage}_{verb}"),
            "unit",
            &unit_id.to_string(),
            &detail,
        )
        .await?;
    }
    notify::write(tx.conn(), unit_id, &actor, &notice, now).await?;
    tx.commit().await?;
    notify::send_sms(&state, &unit.mobile, &notice).await;
    Ok(Redirect::to(&format!(
        "/review?ok={}",
        if approve { "approved" } else { "returned" }
    ))
    .into_response())
}

pub async fn unit_approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, ctx, id, None, form, true).await
}

pub async fn unit_return(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, ctx, id, None, form, false).await
}

async fn change_unit(state: &AppState, id: i64) -> AppResult<i64> {
    Ok(units::change(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?
        .unit_id)
}

pub async fn change_approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let unit_id = change_unit(&state, id).await?;
    decide(state, ctx, unit_id, Some(id), form, true).await
}

pub async fn change_return(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let unit_id = change_unit(&state, id).await?;
    decide(state, ctx, unit_id, Some(id), form, false).await
}

#[derive(Template)]
#[template(path = "admin_home.html")]
struct AdminHome {
    l: Layout,
    staff: Vec<User>,
    counts: Vec<(String, i64)>,
    recent: Vec<audit::Entry>,
    font: String,
    font_missing: String,
}

/// The administrator's overview: staff accounts, units by state, latest audit entries.
pub async fn admin_home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let staff = crate::store::users::staff(state.pool()).await?;
    let mut counts = Vec::new();
    for s in [
        RegState::Draft,
        RegState::PendingCounty,
        RegState::PendingCity,
        RegState::Returned,
        RegState::Approved,
    ] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE state = $1")
            .bind(s.as_str())
            .fetch_one(state.pool())
            .await?;
        counts.push((s.label().to_string(), n));
    }
    let recent = audit::recent(state.pool(), 30).await?;
    let font = state
        .printer
        .font_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let font_missing = state
        .printer
        .missing_font_help(&state.config.data_dir)
        .unwrap_or_default();
    render(AdminHome {
        font,
        font_missing,
        l: layout(&state, &ctx, "系统管理").await?,
        staff,
        counts,
        recent,
    })
}
