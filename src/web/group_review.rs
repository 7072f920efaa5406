//! Review of invitation groups (manual 2.3.5–2.3.7, SPEC Invitation groups): county 初审;
//! city 【受理】 (受理编号), 【上报外交部】 (核实单号), 【发件】 (the letter), 【退件】. Queues show the
//! working days left; detail pages show every field, the scans and the timeline.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::export::{respond, wants_xlsx, Sheet};
use super::groups::{file_slots, FileSlot};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout, Pager, SectionQuery};
use crate::domain::fields::FieldErrors;
use crate::domain::group::{
    parse_date, parse_verification_no, working_days_left, EntryType, Ground, GroupState,
};
use crate::domain::settings::Setting;
use crate::state::AppState;
use crate::store::groups::{self, Group, GroupRow, Visitor};
use crate::store::reference::{self, FileMeta};
use crate::store::refs::Lists;
use crate::store::users::{Role, User};
use crate::store::{audit, units};
use crate::workflow::notify;

/// Who may see a group: its unit always; county staff of its district while it is with the
/// offices (not a draft, not back with the unit after a return); city staff once the county
/// passed it and while it is not back with the unit; administrators once submitted.
pub fn may_view_group(user: &User, g: &Group) -> bool {
    use GroupState::*;
    match user.role {
        Role::Unit => user.unit_id == Some(g.unit_id),
        Role::County => {
            user.district_id == Some(g.district_id) && !matches!(g.state, Draft | Returned)
        }
        Role::City => matches!(g.state, PendingCity | Accepted | Reported | Dispatched),
        Role::Admin => !matches!(g.state, Draft | Returned),
    }
}

/// The time limit and holidays from the settings.
pub async fn limits(state: &AppState) -> AppResult<(i64, Vec<NaiveDate>)> {
    let settings =
        reference::settings(state.pool(), &[Setting::ProcessingDays, Setting::Holidays]).await?;
    let days = settings
        .get(&Setting::ProcessingDays)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(5);
    let holidays = settings
        .get(&Setting::Holidays)
        .map(String::as_str)
        .unwrap_or_default()
        .split([',', '\n', ' '])
        .filter_map(parse_date)
        .collect();
    Ok((days, holidays))
}

fn beijing_date(ts: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&crate::clock::beijing()).date_naive())
        .unwrap_or_default()
}

/// The states a reviewer works on.
pub fn work_states(role: Role) -> &'static [GroupState] {
    match role {
        Role::County => &[GroupState::PendingCounty],
        Role::City => &[
            GroupState::PendingCity,
            GroupState::Accepted,
            GroupState::Reported,
        ],
        _ => &[],
    }
}

fn district_of(user: &User) -> Option<i64> {
    match user.role {
        Role::County => Some(user.district_id.unwrap_or(0)),
        _ => None,
    }
}

/// The query counting the groups waiting for this reviewer (for the navigation).
pub fn queue_count_sql(user: &User) -> String {
    groups::queue_count_sql(work_states(user.role), district_of(user))
}

/// Rows of one section of 团组待办 on a page.
const QUEUE_PAGE: i64 = 50;

pub struct Section {
    pub title: &'static str,
    /// The state's code, for the section's pager links.
    pub code: &'static str,
    pub rows: Vec<GroupRow>,
    /// The page shown and the section's true total.
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "review_groups.html")]
struct QueuePage {
    l: Layout,
    sections: Vec<Section>,
    limit: i64,
}

fn section_title(s: GroupState) -> &'static str {
    match s {
        GroupState::PendingCounty => "待初审",
        GroupState::PendingCity => "待审核受理",
        GroupState::Accepted => "已受理，待上报外交部",
        _ => "已上报，待发件",
    }
}

/// 团组待办, oldest submission first, with the working days left: each of the reviewer's
/// states is a section of its own, paged 50 at a time (the export holds every row).
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SectionQuery>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let (limit, holidays) = limits(&state).await?;
    let today = state.today();
    let xlsx = wants_xlsx(&q.format);
    let district = district_of(&user);
    let states = work_states(user.role);
    let l = match xlsx {
        true => None,
        false => Some(layout(&state, &ctx, "团组待办").await?),
    };
    let mut sections = Vec::new();
    for s in states {
        // A county has one section: the navigation has just counted it.
        let total = match &l {
            Some(l) if states.len() == 1 => l.group_queue,
            _ => groups::queue_count(state.pool(), &[*s], district).await?,
        };
        let pager = Pager::new(total, QUEUE_PAGE, q.page_of(s.as_str()));
        let (count, offset) = if xlsx {
            (super::export::MAX_ROWS, 0)
        } else {
            (QUEUE_PAGE, pager.offset(QUEUE_PAGE))
        };
        let mut rows = groups::queue(state.pool(), *s, district, count, offset).await?;
        for r in &mut rows {
            r.days_left = working_days_left(
                beijing_date(r.submitted_at.unwrap_or(0)),
                today,
                limit,
                &holidays,
            );
        }
        sections.push(Section {
            title: section_title(*s),
            code: s.as_str(),
            rows,
            pager,
        });
    }
    if xlsx {
        let mut sheet = Sheet::new(
            "团组待办",
            &[
                "办理环节",
                "团组编号",
                "团组名称",
                "邀请单位",
                "县区",
                "人数",
                "提交时间",
                "剩余工作日",
                "受理编号",
                "核实单号",
            ],
        );
        for s in &sections {
            for r in &s.rows {
                sheet.push(vec![
                    s.title.into(),
                    (&r.number).into(),
                    (&r.name).into(),
                    (&r.unit_name).into(),
                    (&r.district_name).into(),
                    r.visitors.into(),
                    r.submitted_text().into(),
                    r.days_left.into(),
                    r.acceptance_no.clone().into(),
                    r.verification_no.clone().into(),
                ]);
            }
        }
        return respond(&state, &ctx, "review.groups", "团组待办", "", vec![sheet]).await;
    }
    let mut l = match l {
        Some(l) => l,
        None => layout(&state, &ctx, "团组待办").await?,
    };
    l.flash = flash_text(&q.ok).to_string();
    render(QueuePage { l, sections, limit })
}

pub struct VisitorView {
    pub v: Visitor,
    pub nationality: String,
    pub passport: Option<FileMeta>,
    pub visa: Option<FileMeta>,
}

#[derive(Template)]
#[template(path = "group_record.html")]
struct RecordPage {
    l: Layout,
    g: Group,
    purpose: String,
    cost_bearer: String,
    entry_type: String,
    ground: String,
    visitors: Vec<VisitorView>,
    files: Vec<FileSlot>,
    scan: Option<FileMeta>,
    letter: Option<FileMeta>,
    timeline: Vec<audit::Entry>,
    is_unit: bool,
    can_county: bool,
    can_accept: bool,
    can_report: bool,
    can_dispatch: bool,
    can_return: bool,
    days_left: Option<i64>,
    errors: FieldErrors,
    reason: String,
    verification_no: String,
}

impl RecordPage {
    fn days(&self) -> i64 {
        self.days_left.unwrap_or(0)
    }
    fn overdue(&self) -> bool {
        self.days() < 0
    }
    fn late_days(&self) -> i64 {
        -self.days()
    }
}

#[derive(Default)]
pub struct Typed {
    pub errors: FieldErrors,
    pub reason: String,
    pub verification_no: String,
    pub flash: String,
}

/// The read-only record of a group with the actions the viewer may take.
pub async fn record_page(
    state: &AppState,
    ctx: &Ctx,
    g: Group,
    flash: &str,
) -> AppResult<Response> {
    record_with(
        state,
        ctx,
        g,
        Typed {
            flash: flash.into(),
            ..Typed::default()
        },
    )
    .await
}

async fn record_with(state: &AppState, ctx: &Ctx, g: Group, t: Typed) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let lists: Lists = state.ref_lists().await?;
    let vs = groups::visitors(state.pool(), g.id).await?;
    // Every scan's metadata in one statement.
    let ids: Vec<i64> = vs
        .iter()
        .flat_map(|v| [v.passport_file_id, v.visa_file_id])
        .chain([g.scan_file_id, g.letter_file_id])
        .flatten()
        .collect();
    let metas = reference::files(state.pool(), &ids).await?;
    let meta = |id: Option<i64>| id.and_then(|id| metas.get(&id).cloned());
    let scan = meta(g.scan_file_id);
    let letter = meta(g.letter_file_id);
    let visitors: Vec<VisitorView> = vs
        .into_iter()
        .map(|v| VisitorView {
            nationality: lists.country_name(&v.data.nationality),
            passport: meta(v.passport_file_id),
            visa: meta(v.visa_file_id),
            v,
        })
        .collect();
    let att = groups::attachments(state.pool(), g.id).await?;
    let files = file_slots(&g.data.entry_type, &att);
    let timeline = audit::for_object(state.pool(), "group", &g.id.to_string()).await?;
    let county_here = user.role == Role::County && user.district_id == Some(g.district_id);
    let city = user.role == Role::City;
    let days_left = match (g.submitted_at, g.state) {
        (
            Some(ts),
            GroupState::PendingCounty
            | GroupState::PendingCity
            | GroupState::Accepted
            | GroupState::Reported,
        ) => {
            let (limit, holidays) = limits(state).await?;
            Some(working_days_left(
                beijing_date(ts),
                state.today(),
                limit,
                &holidays,
            ))
        }
        _ => None,
    };
    let mut l = layout(state, ctx, &format!("团组{}", g.number)).await?;
    l.flash = t.flash;
    render(RecordPage {
        purpose: lists.purpose_name(&g.data.purpose),
        cost_bearer: lists.cost_bearer_name(&g.data.cost_bearer),
        entry_type: EntryType::parse(&g.data.entry_type)
            .map(|e| e.label())
            .unwrap_or("")
            .into(),
        ground: Ground::parse(&g.data.ground)
            .map(|e| e.label())
            .unwrap_or("")
            .into(),
        can_county: county_here && g.state == GroupState::PendingCounty,
        can_accept: city && g.state == GroupState::PendingCity,
        can_report: city && g.state == GroupState::Accepted,
        can_dispatch: city && g.state == GroupState::Reported,
        can_return: (county_here && g.state == GroupState::PendingCounty)
            || (city && g.state == GroupState::PendingCity),
        is_unit: user.role == Role::Unit,
        l,
        g,
        visitors,
        files,
        scan,
        letter,
        timeline,
        days_left,
        errors: t.errors,
        reason: t.reason,
        verification_no: t.verification_no,
    })
}

async fn visible_group(state: &AppState, ctx: &Ctx, id: i64) -> AppResult<(User, Group)> {
    let user = ctx.user()?.clone();
    let g = groups::get(state.pool(), id)
        .await?
        .filter(|g| may_view_group(&user, g))
        .ok_or(AppError::NotFound)?;
    Ok((user, g))
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let (_, g) = visible_group(&state, &ctx, id).await?;
    record_page(&state, &ctx, g, flash_text(&q.ok)).await
}

/// A staff member may print the form of a group they can see.
pub async fn print(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (_, g) = visible_group(&state, &ctx, id).await?;
    super::groups::print_group(&state, &ctx, &g).await
}

const STALE: &str = "该团组已被他人处理或状态已变化，请返回待办刷新后查看";

fn who(user: &User) -> &'static str {
    if user.role == Role::County {
        "县区外办"
    } else {
        "市外办"
    }
}

/// Writes the audit entry and the unit's message, commits, then sends the SMS.
async fn finish(
    state: &AppState,
    ctx: &Ctx,
    g: &Group,
    mut tx: crate::db::Tx,
    action: &str,
    detail: &str,
    notice: notify::Notice,
) -> AppResult<()> {
    let now = state.now();
    let actor = ctx.actor();
    audit::record(
        tx.conn(),
        &actor,
        now,
        action,
        "group",
        &g.id.to_string(),
        detail,
    )
    .await?;
    notify::write(tx.conn(), g.unit_id, &actor, &notice, now).await?;
    tx.commit().await?;
    if let Some(unit) = units::get(state.pool(), g.unit_id).await? {
        notify::send_sms(state, &unit.mobile, &notice).await;
    }
    Ok(())
}

/// County 【审核通过】 (初审).
pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (user, g) = visible_group(&state, &ctx, id).await?;
    if user.role != Role::County {
        return Err(AppError::Forbidden);
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let ok = groups::transition(
        tx.conn(),
        id,
        GroupState::PendingCounty,
        GroupState::PendingCity,
        district_of(&user),
        "",
        &[],
        now,
    )
    .await?;
    if !ok {
        return Err(AppError::Conflict(STALE.into()));
    }
    finish(
        &state,
        &ctx,
        &g,
        tx,
        "group.county_approve",
        "",
        notify::group_county_passed(&g.number),
    )
    .await?;
    Ok(Redirect::to("/review/groups?ok=approved").into_response())
}

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// 【退件】 by county (from 待初审) or city (from 待审核受理): the reason told once and in full.
pub async fn return_group(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    let (user, g) = visible_group(&state, &ctx, id).await?;
    let from = match user.role {
        Role::County => GroupState::PendingCounty,
        Role::City => GroupState::PendingCity,
        _ => return Err(AppError::Forbidden),
    };
    if g.state != from {
        return Err(AppError::Conflict(STALE.into()));
    }
    let reason = form.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 2000 {
        let mut errors = FieldErrors::new();
        errors.add(
            "reason",
            if reason.is_empty() {
                "请填写退件原因，一次性告知需要修改或补充的全部内容"
            } else {
                "退件原因不能超过2000个字符"
            },
        );
        return record_with(
            &state,
            &ctx,
            g,
            Typed {
                errors,
                reason: form.reason,
                ..Typed::default()
            },
        )
        .await;
    }
    let now = state.now();
    let by = who(&user);
    let mut tx = state.db.begin().await?;
    let ok = groups::transition(
        tx.conn(),
        id,
        from,
        GroupState::Returned,
        district_of(&user),
        ", return_reason = $6, returned_by = $7",
        &[Some(reason.clone()), Some(by.to_string())],
        now,
    )
    .await?;
    if !ok {
        return Err(AppError::Conflict(STALE.into()));
    }
    let notice = notify::group_returned(&state.site().await?.office_name, &g.number, by, &reason);
    finish(
        &state,
        &ctx,
        &g,
        tx,
        &format!(
            "group.{}_return",
            if user.role == Role::County {
                "county"
            } else {
                "city"
            }
        ),
        &reason,
        notice,
    )
    .await?;
    Ok(Redirect::to("/review/groups?ok=returned").into_response())
}

/// 【受理】: assigns the next 受理编号 of the year.
pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (user, g) = visible_group(&state, &ctx, id).await?;
    if user.role != Role::City {
        return Err(AppError::Forbidden);
    }
    if g.state != GroupState::PendingCity {
        return Err(AppError::Conflict(STALE.into()));
    }
    let now = state.now();
    let year: i64 = state.today().format("%Y").to_string().parse().unwrap_or(0);
    let mut tx = state.db.begin().await?;
    // Claim the group first: of two city users acting at once only one gets past this, so
    // exactly one number is drawn.
    let ok = groups::transition(
        tx.conn(),
        id,
        GroupState::PendingCity,
        GroupState::Accepted,
        None,
        "",
        &[],
        now,
    )
    .await?;
    if !ok {
        return Err(AppError::Conflict(STALE.into()));
    }
    let seq = groups::next_in_sequence(tx.conn(), "acceptance", year).await?;
    let no = format!("SL{year}{seq:05}");
    sqlx::query("UPDATE invitation_groups SET acceptance_no = $1 WHERE id = $2")
        .bind(no.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
    finish(
        &state,
        &ctx,
        &g,
        tx,
        "group.accept",
        &format!("受理编号{no}"),
        notify::group_accepted(&g.number, &no),
    )
    .await?;
    Ok(Redirect::to(&format!("/review/groups/{id}?ok=accepted")).into_response())
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    verification_no: String,
}

/// 【上报外交部】: records the 核实单号 the Ministry's system returned.
pub async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ReportForm>,
) -> AppResult<Response> {
    let (user, g) = visible_group(&state, &ctx, id).await?;
    if user.role != Role::City {
        return Err(AppError::Forbidden);
    }
    if g.state != GroupState::Accepted {
        return Err(AppError::Conflict(STALE.into()));
    }
    let Some(no) = parse_verification_no(&form.verification_no) else {
        let mut errors = FieldErrors::new();
        errors.add("verification_no", "核实单号只能由字母和数字组成（6至40位），请按外交部系统返回的单号填写，不要包含空格或符号");
        return record_with(
            &state,
            &ctx,
            g,
            Typed {
                errors,
                verification_no: form.verification_no,
                ..Typed::default()
            },
        )
        .await;
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let ok = groups::transition(
        tx.conn(),
        id,
        GroupState::Accepted,
        GroupState::Reported,
        None,
        ", verification_no = $6",
        &[Some(no.clone())],
        now,
    )
    .await?;
    if !ok {
        return Err(AppError::Conflict(STALE.into()));
    }
    finish(
        &state,
        &ctx,
        &g,
        tx,
        "group.report",
        &format!("核实单号{no}"),
        notify::group_reported(&g.number, &no),
    )
    .await?;
    Ok(Redirect::to(&format!("/review/groups/{id}?ok=reported")).into_response())
}

/// 【发件】: uploads the letter PDF the Ministry's system produced; the unit gets an SMS.
pub async fn dispatch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let (user, g) = visible_group(&state, &ctx, id).await?;
    if user.role != Role::City {
        return Err(AppError::Forbidden);
    }
    if g.state != GroupState::Reported {
        return Err(AppError::Conflict(STALE.into()));
    }
    let (name, bytes) = super::files::read_upload(multipart, "file").await?;
    if let Err(e) = crate::files::check_pdf(&bytes) {
        let mut errors = FieldErrors::new();
        errors.add("letter", e.to_string());
        return record_with(
            &state,
            &ctx,
            g,
            Typed {
                errors,
                ..Typed::default()
            },
        )
        .await;
    }
    let sha = state.files.put(&bytes).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let file_id = reference::insert_file(
        tx.conn(),
        &sha,
        bytes.len() as i64,
        "application/pdf",
        &name,
        Some(user.id),
        now,
    )
    .await?;
    let ok = groups::transition(
        tx.conn(),
        id,
        GroupState::Reported,
        GroupState::Dispatched,
        None,
        "",
        &[],
        now,
    )
    .await?;
    if !ok {
        return Err(AppError::Conflict(STALE.into()));
    }
    sqlx::query("UPDATE invitation_groups SET letter_file_id = $1 WHERE id = $2")
        .bind(file_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let notice = notify::group_dispatched(&state.site().await?.office_name, &g.number);
    finish(
        &state,
        &ctx,
        &g,
        tx,
        "group.dispatch",
        &format!("邀请函：{name}"),
        notice,
    )
    .await?;
    Ok(Redirect::to(&format!("/review/groups/{id}?ok=dispatched")).into_response())
}
