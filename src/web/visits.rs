//! 销签登记 (manual 2.3.8): the list of visitors of dispatched groups, the registration form
//! (实际成行 or 取消行程) with its scans, [提交], the county and city review, the overdue lists,
//! and the overdue reminder job.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::export::{self as xlsx, respond, wants_xlsx, Sheet};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout, Pager, SectionQuery};
use crate::domain::fields::FieldErrors;
use crate::domain::settings::Setting;
use crate::domain::visit::{VisitForm, VisitState};
use crate::state::AppState;
use crate::store::reference::{self, FileMeta};
use crate::store::refs::{self, Port};
use crate::store::users::{Role, User};
use crate::store::visits::{self, Record, Subject, VisitRow};
use crate::store::{audit, units};
use crate::workflow::notify;
use crate::workflow::visits::{cutoff, overdue_days, OVERDUE_DAYS};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    group: Option<i64>,
    #[serde(default)]
    ok: String,
}

#[derive(Template)]
#[template(path = "visits.html")]
struct ListPage {
    l: Layout,
    rows: Vec<VisitRow>,
    countries: BTreeMap<String, String>,
    days: i64,
}

/// Names of every country, retired ones included (old records keep theirs).
async fn country_names(state: &AppState) -> AppResult<BTreeMap<String, String>> {
    Ok(refs::country_names(state.pool()).await?)
}

/// The unit's list: one row per visitor of its dispatched groups, overdue rows first in red.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let unit_id = ctx.unit_id()?;
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if unit.state != crate::domain::registration::RegState::Approved {
        return Err(AppError::Conflict(
            "审核通过前无数据申报功能，请等待注册审核通过。".into(),
        ));
    }
    let days = overdue_days(&state).await?;
    let rows = visits::for_unit(state.pool(), unit_id, q.group, state.today(), days).await?;
    let mut l = layout(&state, &ctx, "销签登记").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(ListPage {
        l,
        rows,
        countries: country_names(&state).await?,
        days,
    })
}

/// The unit's own visitor of a dispatched group.
async fn own_subject(state: &AppState, ctx: &Ctx, visitor_id: i64) -> AppResult<Subject> {
    let unit_id = ctx.unit_id()?;
    let s = visits::subject(state.pool(), visitor_id)
        .await?
        .filter(|s| s.unit_id == unit_id)
        .ok_or(AppError::NotFound)?;
    if s.group_state != "dispatched" {
        return Err(AppError::Conflict(
            "只有市外办发件后的团组，才能进行销签登记".into(),
        ));
    }
    Ok(s)
}

fn dispatch_date(s: &Subject) -> NaiveDate {
    chrono::DateTime::from_timestamp(s.dispatched_at.unwrap_or(0), 0)
        .map(|t| t.with_timezone(&crate::clock::beijing()).date_naive())
        .unwrap_or_default()
}

pub struct FileSlot {
    pub kind: &'static str,
    pub name: &'static str,
    pub file: Option<FileMeta>,
}

fn slots(kind: &str, files: &BTreeMap<String, FileMeta>) -> Vec<FileSlot> {
    let list: &[(&'static str, &'static str)] = if kind == "cancelled" {
        &[("statement", "情况说明（PDF）")]
    } else {
        &[
            ("entry_stamp", "入境章扫描件"),
            ("exit_stamp", "出境章扫描件"),
            ("visa_page", "签证页扫描件"),
        ]
    };
    list.iter()
        .map(|(k, n)| FileSlot {
            kind: k,
            name: n,
            file: files.get(*k).cloned(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "visit_form.html")]
struct FormPage {
    l: Layout,
    s: Subject,
    record: Option<Record>,
    form: VisitForm,
    errors: FieldErrors,
    ports: Vec<Port>,
    slots: Vec<FileSlot>,
    file_error: (String, String),
    submit_error: String,
    editable: bool,
    nationality: String,
}

fn form_of(r: &Record) -> VisitForm {
    VisitForm {
        kind: r.kind.clone(),
        entry_date: r.entry_date.clone().unwrap_or_default(),
        entry_port: r.entry_port_id.map(|p| p.to_string()).unwrap_or_default(),
        exit_date: r.exit_date.clone().unwrap_or_default(),
        exit_port: r.exit_port_id.map(|p| p.to_string()).unwrap_or_default(),
        cancel_reason: r.cancel_reason.clone().unwrap_or_default(),
    }
}

struct Extra {
    form: Option<VisitForm>,
    errors: FieldErrors,
    file_error: (String, String),
    submit_error: String,
    flash: String,
}

async fn form_page(state: &AppState, ctx: &Ctx, s: Subject, x: Extra) -> AppResult<Response> {
    let record = visits::record(state.pool(), s.visitor_id).await?;
    let form = x.form.unwrap_or_else(|| {
        record.as_ref().map(form_of).unwrap_or(VisitForm {
            kind: "travelled".into(),
            ..VisitForm::default()
        })
    });
    let files = match &record {
        Some(r) => visits::files(state.pool(), r.id).await?,
        None => BTreeMap::new(),
    };
    let editable = record.as_ref().is_none_or(|r| r.state.editable());
    let mut l = layout(state, ctx, "销签登记").await?;
    l.flash = x.flash;
    let nationality = country_names(state)
        .await?
        .get(&s.nationality)
        .cloned()
        .unwrap_or_default();
    let mut ports = refs::ports(state.pool()).await?;
    // A port retired since it was chosen stays visible (marked) until another is chosen.
    let names = refs::port_names(state.pool()).await?;
    for chosen in [&form.entry_port, &form.exit_port] {
        if let Ok(id) = chosen.parse::<i64>() {
            if let (false, Some(name)) = (ports.iter().any(|p| p.id == id), names.get(&id)) {
                ports.push(Port {
                    id,
                    name_zh: name.clone(),
                    kind: String::new(),
                    province_zh: "已停用".into(),
                });
            }
        }
    }
    render(FormPage {
        l,
        slots: slots(&form.kind, &files),
        s,
        record,
        form,
        errors: x.errors,
        ports,
        file_error: x.file_error,
        submit_error: x.submit_error,
        editable,
        nationality,
    })
}

fn extra() -> Extra {
    Extra {
        form: None,
        errors: FieldErrors::new(),
        file_error: (String::new(), String::new()),
        submit_error: String::new(),
        flash: String::new(),
    }
}

/// [未登记] → the form.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let s = own_subject(&state, &ctx, visitor_id).await?;
    let x = Extra {
        flash: flash_text(&q.ok).to_string(),
        ..extra()
    };
    form_page(&state, &ctx, s, x).await
}

/// Saves what was entered (entry alone while the visitor is still in China).
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
    Form(f): Form<VisitForm>,
) -> AppResult<Response> {
    let s = own_subject(&state, &ctx, visitor_id).await?;
    let ports: Vec<i64> = refs::ports(state.pool())
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    let data = match f.validate(&ports, dispatch_date(&s), state.today()) {
        Ok(d) => d,
        Err(errors) => {
            return form_page(
                &state,
                &ctx,
                s,
                Extra {
                    form: Some(f),
                    errors,
                    ..extra()
                },
            )
            .await
        }
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let Some(id) = visits::save(tx.conn(), &s, &data, now).await? else {
        return Err(AppError::Conflict(
            "销签登记已提交或已完成，不能修改".into(),
        ));
    };
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "visit.save",
        "visit",
        &id.to_string(),
        &format!("{}（{}）", s.name, data.kind()),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/visits/{visitor_id}?ok=saved")).into_response())
}

/// Scans: entry stamp, exit stamp, visa page (PDF, JPEG or PNG); the statement (PDF).
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((visitor_id, kind)): Path<(i64, String)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let s = own_subject(&state, &ctx, visitor_id).await?;
    if !matches!(
        kind.as_str(),
        "entry_stamp" | "exit_stamp" | "visa_page" | "statement"
    ) {
        return Err(AppError::NotFound);
    }
    let Some(record) = visits::record(state.pool(), visitor_id).await? else {
        let x = Extra {
            file_error: (kind, "请先填写登记信息并【保存】，再上传扫描件".into()),
            ..extra()
        };
        return form_page(&state, &ctx, s, x).await;
    };
    if !record.state.editable() {
        return Err(AppError::Conflict(
            "销签登记已提交或已完成，不能修改".into(),
        ));
    }
    // Only the scans of the registration's own type (travelled or cancelled).
    if !slots(&record.kind, &BTreeMap::new())
        .iter()
        .any(|sl| sl.kind == kind)
    {
        let msg = "该材料与登记类型不符，请先选择正确的登记类型并【保存】";
        let x = Extra {
            submit_error: msg.into(),
            ..extra()
        };
        return form_page(&state, &ctx, s, x).await;
    }
    let (name, bytes) = super::files::read_upload(multipart, "file").await?;
    let checked = if kind == "statement" {
        crate::files::check_pdf(&bytes)
    } else {
        crate::files::check_scan(&bytes)
    };
    let file_kind = match checked {
        Ok(k) => k,
        Err(e) => {
            let x = Extra {
                file_error: (kind, e.to_string()),
                ..extra()
            };
            return form_page(&state, &ctx, s, x).await;
        }
    };
    let sha = state.files.put(&bytes).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let file_id = reference::insert_file(
        tx.conn(),
        &sha,
        bytes.len() as i64,
        file_kind.mime(),
        &name,
        Some(ctx.user()?.id),
        now,
    )
    .await?;
    if !visits::set_file(tx.conn(), record.id, &kind, file_id, now).await? {
        return Err(AppError::Conflict(
            "销签登记已提交或已完成，不能修改".into(),
        ));
    }
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "visit.file",
        "visit",
        &record.id.to_string(),
        &name,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/visits/{visitor_id}?ok=uploaded")).into_response())
}

/// [提交]: complete data and scans go to the county office.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
) -> AppResult<Response> {
    let s = own_subject(&state, &ctx, visitor_id).await?;
    let Some(r) = visits::record(state.pool(), visitor_id).await? else {
        let x = Extra {
            submit_error: "请先填写登记信息并【保存】".into(),
            ..extra()
        };
        return form_page(&state, &ctx, s, x).await;
    };
    if !r.state.editable() {
        return Err(AppError::Conflict(
            "销签登记已提交或已完成，请勿重复提交".into(),
        ));
    }
    let files = visits::files(state.pool(), r.id).await?;
    let mut missing: Vec<&str> = slots(&r.kind, &files)
        .iter()
        .filter(|s| s.file.is_none())
        .map(|s| s.name)
        .collect();
    if r.kind == "travelled" && r.exit_date.is_none() {
        missing.insert(0, "实际出境日期和口岸（外宾出境后填写）");
    }
    if !missing.is_empty() {
        let x = Extra {
            submit_error: format!("提交前请补齐：{}", missing.join("、")),
            ..extra()
        };
        return form_page(&state, &ctx, s, x).await;
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !visits::submit(tx.conn(), r.id, now).await? {
        return Err(AppError::Conflict(
            "销签登记已提交或已完成，请勿重复提交".into(),
        ));
    }
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "visit.submit",
        "visit",
        &r.id.to_string(),
        &s.name,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/visits?ok=visit_submitted").into_response())
}

/// Who may see a registration: its unit; county staff of the district once submitted; city
/// staff once the county passed it; administrators once submitted.
fn may_view(user: &User, s: &Subject, r: &Record) -> bool {
    match user.role {
        Role::Unit => user.unit_id == Some(s.unit_id),
        Role::County => user.district_id == Some(s.district_id) && r.state.registered(),
        Role::City => matches!(r.state, VisitState::PendingCity | VisitState::Completed),
        Role::Admin => r.state.registered(),
    }
}

/// A scan of a registration.
pub async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((visitor_id, file_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let s = visits::subject(state.pool(), visitor_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = visits::record(state.pool(), visitor_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_view(&user, &s, &r) || !visits::owns_file(state.pool(), r.id, file_id).await? {
        return Err(AppError::NotFound);
    }
    super::files::serve_inline(&state, file_id).await
}

// ---- review ----

fn district_of(user: &User) -> Option<i64> {
    (user.role == Role::County).then(|| user.district_id.unwrap_or(0))
}

fn pending_of(user: &User) -> Option<VisitState> {
    match user.role {
        Role::County => Some(VisitState::PendingCounty),
        Role::City => Some(VisitState::PendingCity),
        _ => None,
    }
}

/// The query counting the registrations waiting for this reviewer (for the navigation).
pub fn queue_count_sql(user: &User) -> String {
    match pending_of(user) {
        Some(s) => visits::queue_count_sql(s, district_of(user)),
        None => "SELECT CAST(0 AS BIGINT)".into(),
    }
}

#[derive(Template)]
#[template(path = "review_visits.html")]
struct QueuePage {
    l: Layout,
    pending: Pager,
    rows: Vec<VisitRow>,
    late: Pager,
    overdue: Vec<VisitRow>,
    counts: Vec<(String, i64)>,
    days: i64,
    countries: BTreeMap<String, String>,
}

/// Rows on a page of 销签待办 (each of its two lists is paged on its own).
const QUEUE_PAGE: i64 = 50;

/// 销签待办 and the overdue list of the reviewer's district (all districts for the city), each
/// paged 50 at a time with its true total; the export holds every row of both.
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SectionQuery>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let days = overdue_days(&state).await?;
    let today = state.today();
    let district = district_of(&user);
    let cutoff = cutoff(today, days);
    let xlsx = wants_xlsx(&q.format);
    // The page's layout has counted the reviewer's waiting registrations for the navigation.
    let l = match xlsx {
        true => None,
        false => Some(layout(&state, &ctx, "销签待办").await?),
    };
    let waiting = match &l {
        Some(l) => l.visit_queue,
        None => xlsx::MAX_ROWS,
    };
    let pending = Pager::new(waiting, QUEUE_PAGE, q.page_of("pending"));
    let counts = visits::overdue_by_district(state.pool(), district, &cutoff).await?;
    let late = Pager::new(
        counts.iter().map(|c| c.1).sum(),
        QUEUE_PAGE,
        q.page_of("overdue"),
    );
    let (per, pending_at, late_at) = match xlsx {
        true => (xlsx::MAX_ROWS, 0, 0),
        false => (
            QUEUE_PAGE,
            pending.offset(QUEUE_PAGE),
            late.offset(QUEUE_PAGE),
        ),
    };
    let rows = match pending_of(&user) {
        Some(s) => visits::queue(state.pool(), s, district, today, days, per, pending_at).await?,
        None => Vec::new(),
    };
    let overdue =
        visits::overdue(state.pool(), district, &cutoff, today, days, per, late_at).await?;
    let countries = country_names(&state).await?;
    if xlsx {
        let nat = |a: &str| countries.get(a).cloned().unwrap_or_else(|| a.to_string());
        let mut pending = Sheet::new(
            "销签待办",
            &[
                "团组编号",
                "邀请单位",
                "县区",
                "姓名",
                "护照号码",
                "国籍",
                "提交时间",
            ],
        );
        for r in &rows {
            pending.push(vec![
                (&r.group_number).into(),
                (&r.unit_name).into(),
                (&r.district_name).into(),
                (&r.name).into(),
                (&r.passport_no).into(),
                nat(&r.nationality).into(),
                r.submitted_text().into(),
            ]);
        }
        let mut late = Sheet::new(
            "逾期未销签",
            &[
                "团组编号",
                "邀请单位",
                "县区",
                "姓名",
                "护照号码",
                "国籍",
                "计划出境",
                "状态",
            ],
        );
        for r in &overdue {
            late.push(vec![
                (&r.group_number).into(),
                (&r.unit_name).into(),
                (&r.district_name).into(),
                (&r.name).into(),
                (&r.passport_no).into(),
                nat(&r.nationality).into(),
                (&r.departure).into(),
                r.state_label().into(),
            ]);
        }
        return respond(
            &state,
            &ctx,
            "review.visits",
            "销签待办",
            "",
            vec![pending, late],
        )
        .await;
    }
    let mut l = match l {
        Some(l) => l,
        None => layout(&state, &ctx, "销签待办").await?,
    };
    l.flash = flash_text(&q.ok).to_string();
    render(QueuePage {
        l,
        pending,
        rows,
        late,
        overdue,
        counts,
        days,
        countries,
    })
}

#[derive(Template)]
#[template(path = "review_visit.html")]
struct DetailPage {
    l: Layout,
    s: Subject,
    r: Record,
    slots: Vec<FileSlot>,
    entry_port: String,
    exit_port: String,
    timeline: Vec<audit::Entry>,
    can_act: bool,
    reason: String,
    errors: FieldErrors,
    nationality: String,
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    visitor_id: i64,
    reason: String,
    errors: FieldErrors,
    flash: &str,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let s = visits::subject(state.pool(), visitor_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = visits::record(state.pool(), visitor_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_view(&user, &s, &r) {
        return Err(AppError::NotFound);
    }
    let files = visits::files(state.pool(), r.id).await?;
    // Every port, retired ones included: the record keeps the port it was registered with.
    let ports = refs::port_names(state.pool()).await?;
    let port = |id: Option<i64>| {
        id.and_then(|id| ports.get(&id))
            .cloned()
            .unwrap_or_default()
    };
    let timeline = audit::for_object(state.pool(), "visit", &r.id.to_string()).await?;
    let mut l = layout(state, ctx, "销签登记审核").await?;
    l.flash = flash.to_string();
    let nationality = country_names(state)
        .await?
        .get(&s.nationality)
        .cloned()
        .unwrap_or_default();
    render(DetailPage {
        l,
        can_act: pending_of(&user) == Some(r.state),
        slots: slots(&r.kind, &files),
        entry_port: port(r.entry_port_id),
        exit_port: port(r.exit_port_id),
        s,
        r,
        timeline,
        reason,
        errors,
        nationality,
    })
}

/// From an audit entry's registration number to its review page (which checks visibility).
pub async fn record_link(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let visitor_id = visits::visitor_of_record(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(axum::response::Redirect::to(&format!("/review/visits/{visitor_id}")).into_response())
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    detail_page(
        &state,
        &ctx,
        visitor_id,
        String::new(),
        FieldErrors::new(),
        flash_text(&q.ok),
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

const STALE: &str = "该销签登记已被他人处理或状态已变化，请返回待办刷新后查看";

async fn decide(
    state: AppState,
    ctx: Ctx,
    visitor_id: i64,
    reason: Option<String>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let s = visits::subject(state.pool(), visitor_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = visits::record(state.pool(), visitor_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_view(&user, &s, &r) {
        return Err(AppError::NotFound);
    }
    let from = pending_of(&user).ok_or(AppError::Forbidden)?;
    if r.state != from {
        return Err(AppError::Conflict(STALE.into()));
    }
    let by = if user.role == Role::County {
        "县区外办"
    } else {
        "市外办"
    };
    if let Some(text) = &reason {
        if text.trim().is_empty() {
            let mut errors = FieldErrors::new();
            errors.add(
                "reason",
                "请填写退回原因，一次性告知需要修改或补充的全部内容",
            );
            return detail_page(&state, &ctx, visitor_id, text.clone(), errors, "").await;
        }
    }
    let to = match (&reason, user.role) {
        (Some(_), _) => VisitState::Returned,
        (None, Role::County) => VisitState::PendingCity,
        (None, _) => VisitState::Completed,
    };
    let now = state.now();
    let actor = ctx.actor();
    let mut tx = state.db.begin().await?;
    let reason_ref = reason.as_deref().map(|r| (r.trim(), by));
    if !visits::transition(
        tx.conn(),
        r.id,
        from,
        to,
        district_of(&user),
        reason_ref,
        now,
    )
    .await?
    {
        return Err(AppError::Conflict(STALE.into()));
    }
    let action = match to {
        VisitState::Returned => {
            if user.role == Role::County {
                "visit.county_return"
            } else {
                "visit.city_return"
            }
        }
        VisitState::PendingCity => "visit.county_approve",
        _ => "visit.complete",
    };
    audit::record(
        tx.conn(),
        &actor,
        now,
        action,
        "visit",
        &r.id.to_string(),
        reason.as_deref().unwrap_or(""),
    )
    .await?;
    let notice = match to {
        VisitState::Returned => notify::visit_returned(
            &state.site().await?.office_name,
            &s.name,
            &s.group_number,
            by,
            reason.as_deref().unwrap_or(""),
        ),
        VisitState::PendingCity => notify::visit_county_passed(&s.name, &s.group_number),
        _ => notify::visit_completed(&s.name, &s.group_number),
    };
    notify::write(tx.conn(), s.unit_id, &actor, &notice, now).await?;
    tx.commit().await?;
    if let Some(unit) = units::get(state.pool(), s.unit_id).await? {
        notify::send_sms(&state, &unit.mobile, &notice).await;
    }
    Ok(Redirect::to(&format!(
        "/review/visits?ok={}",
        if reason.is_some() {
            "returned"
        } else {
            "approved"
        }
    ))
    .into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
) -> AppResult<Response> {
    decide(state, ctx, visitor_id, None).await
}

pub async fn return_visit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    decide(state, ctx, visitor_id, Some(f.reason)).await
}

/// Whether the unit has overdue registrations older than the configured limit, and whether the
/// office blocks new applications then (a setting, off by default).
pub async fn overdue_warning(state: &AppState, unit_id: i64) -> AppResult<(usize, bool)> {
    let set = reference::settings(
        state.pool(),
        &[
            Setting::OverdueDays,
            Setting::OverdueWarnDays,
            Setting::OverdueBlocksApplications,
        ],
    )
    .await?;
    let number = |key: Setting, default: i64| {
        set.get(&key)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(default)
    };
    let days = number(Setting::OverdueDays, OVERDUE_DAYS) + number(Setting::OverdueWarnDays, 0);
    let block = set
        .get(&Setting::OverdueBlocksApplications)
        .is_some_and(|v| v.trim() == "1");
    let n = visits::overdue_count(state.pool(), unit_id, &cutoff(state.today(), days)).await?;
    let n = usize::try_from(n).unwrap_or(0);
    Ok((n, block && n > 0))
}
