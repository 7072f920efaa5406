//! 来华申报 (manual 2.3.1–2.3.7): the invitation notice, the group form with its visitors,
//! 【保存】, 【打印】, the stamped scan, 【提交】, and 申报历史查询.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::group::{
    data_hash, warnings, Choices, EntryType, Ground, GroupData, GroupForm, GroupState, VisitorData,
    VisitorForm, MAX_VISITORS, TOO_MANY_VISITORS,
};
use crate::domain::registration::RegState;
use crate::state::AppState;
use crate::store::groups::{self, Group, GroupRow, HistoryFilter, Visitor};
use crate::store::reference::{self, FileMeta};
use crate::store::refs::{Code, Country, Lists, MissionRef};
use crate::store::units::{self, Unit};
use crate::store::{audit, Actor};

/// The signed-in unit, which must be approved and not on the dishonesty list.
async fn approved_unit(state: &AppState, ctx: &Ctx) -> AppResult<Unit> {
    let unit = ctx.unit(state).await?.ok_or(AppError::NotFound)?;
    if unit.state != RegState::Approved {
        return Err(AppError::Conflict(
            "审核通过前无数据申报功能，请等待注册审核通过。".into(),
        ));
    }
    if unit.blacklisted {
        return Err(AppError::Conflict(
            "帐号状态异常，请联系市外办处理。".into(),
        ));
    }
    Ok(unit)
}

/// The unit's own group (never another unit's).
async fn own_group(state: &AppState, ctx: &Ctx, id: i64) -> AppResult<(Unit, Group)> {
    let unit = approved_unit(state, ctx).await?;
    let group = groups::get(state.pool(), id)
        .await?
        .filter(|g| g.unit_id == unit.id)
        .ok_or(AppError::NotFound)?;
    Ok((unit, group))
}

#[derive(Template)]
#[template(path = "groups_home.html")]
struct HomePage {
    l: Layout,
    rows: Vec<GroupRow>,
    overdue: String,
}

/// The warning about overdue post-visit registrations, and whether it blocks new groups.
async fn overdue_notice(state: &AppState, unit_id: i64) -> AppResult<(String, bool)> {
    let (n, blocks) = super::visits::overdue_warning(state, unit_id).await?;
    if n == 0 {
        return Ok((String::new(), false));
    }
    let text = if blocks {
        format!("您单位有{n}名到访人员的销签登记已逾期。按市外办规定，请先办理销签登记，再申报新的团组。")
    } else {
        format!("您单位有{n}名到访人员的销签登记已逾期，请尽快在“销签登记”中办理。")
    };
    Ok((text, blocks))
}

/// 来华申报.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let unit = approved_unit(&state, &ctx).await?;
    let rows = groups::latest(state.pool(), unit.id, 5).await?;
    let (overdue, _) = overdue_notice(&state, unit.id).await?;
    render(HomePage {
        l: layout(&state, &ctx, "来华申报").await?,
        rows,
        overdue,
    })
}

#[derive(Template)]
#[template(path = "groups_notice.html")]
struct NoticePage {
    l: Layout,
    title: String,
    html: String,
}

/// 2.3.1: the invitation notice, confirmed to continue.
pub async fn notice(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    approved_unit(&state, &ctx).await?;
    let c = reference::content(state.pool(), "invitation_notice").await?;
    render(NoticePage {
        l: layout(&state, &ctx, "团组申报").await?,
        title: c.title,
        html: crate::markdown::render(&c.body),
    })
}

/// A visitor block of the form.
pub struct VisitorSlot {
    pub index: usize,
    pub id: Option<i64>,
    pub form: VisitorForm,
    pub passport: Option<FileMeta>,
    pub visa: Option<FileMeta>,
}

/// An upload slot of the group.
pub struct FileSlot {
    pub code: &'static str,
    pub name: &'static str,
    pub required: bool,
    pub file: Option<FileMeta>,
}

#[derive(Template)]
#[template(path = "group_form.html")]
struct FormPage {
    l: Layout,
    group: Option<Group>,
    form: GroupForm,
    visitors: Vec<VisitorSlot>,
    errors: FieldErrors,
    nationalities: Vec<Country>,
    hosts: Vec<Country>,
    lists: Lists,
    entry_types: Vec<(&'static str, &'static str)>,
    grounds: Vec<(&'static str, &'static str)>,
    warnings: Vec<String>,
    files: Vec<FileSlot>,
    file_error: String,
    file_error_slot: String,
    submit_error: String,
    max_visitors: usize,
}

impl FormPage {
    pub fn gid(&self) -> i64 {
        self.group.as_ref().map(|g| g.id).unwrap_or(0)
    }
    pub fn saved(&self) -> bool {
        self.group.is_some()
    }
    pub fn printed_current(&self) -> bool {
        self.group.as_ref().is_some_and(|g| g.printed_current())
    }
    pub fn printed_stale(&self) -> bool {
        self.group
            .as_ref()
            .is_some_and(|g| g.printed_hash.is_some() && !g.printed_current())
    }
    pub fn scan_current(&self) -> bool {
        self.group.as_ref().is_some_and(|g| g.scan_current())
    }
    pub fn scan_stale(&self) -> bool {
        self.group
            .as_ref()
            .is_some_and(|g| g.scan_file_id.is_some() && !g.scan_current())
    }
}

fn entry_types() -> Vec<(&'static str, &'static str)> {
    EntryType::ALL
        .iter()
        .map(|e| (e.as_str(), e.label()))
        .collect()
}

fn grounds() -> Vec<(&'static str, &'static str)> {
    Ground::ALL
        .iter()
        .map(|g| (g.as_str(), g.label()))
        .collect()
}

/// The group's upload slots (per-visitor scans are in the visitor blocks).
pub fn file_slots(entry_type: &str, attachments: &BTreeMap<String, FileMeta>) -> Vec<FileSlot> {
    let multiple = EntryType::parse(entry_type).is_some_and(|e| e.multiple());
    let mut out = vec![FileSlot {
        code: "clerk_id",
        name: "经办人身份证复印件（加盖单位公章）",
        required: true,
        file: attachments.get("clerk_id").cloned(),
    }];
    if multiple || attachments.contains_key("multi_entry_proof") {
        out.push(FileSlot {
            code: "multi_entry_proof",
            name: "多次入境证明材料（出入境记录页等）",
            required: multiple,
            file: attachments.get("multi_entry_proof").cloned(),
        });
    }
    out.push(FileSlot {
        code: "other",
        name: "其他证明材料",
        required: false,
        file: attachments.get("other").cloned(),
    });
    out
}

struct PageInput {
    group: Option<Group>,
    form: GroupForm,
    visitors: Vec<VisitorSlot>,
    errors: FieldErrors,
    file_error: Option<(String, String)>,
    submit_error: String,
    flash: String,
}

async fn form_page(state: &AppState, ctx: &Ctx, p: PageInput) -> AppResult<Response> {
    let mut lists = state.ref_lists().await?;
    let (hosts, nationalities) = keep_retired_choices(&mut lists, &p.form, &p.visitors);
    let (warnings, attachments) = match &p.group {
        Some(g) => {
            let vs = groups::visitors(state.pool(), g.id).await?;
            (
                group_warnings(state, g, &vs).await?,
                groups::attachments(state.pool(), g.id).await?,
            )
        }
        None => (Vec::new(), BTreeMap::new()),
    };
    let files = file_slots(&p.form.entry_type, &attachments);
    let (file_error_slot, file_error) = p.file_error.unwrap_or_default();
    let mut l = layout(state, ctx, "团组申报").await?;
    l.flash = p.flash;
    render(FormPage {
        l,
        group: p.group,
        form: p.form,
        visitors: p.visitors,
        errors: p.errors,
        nationalities,
        hosts,
        lists,
        entry_types: entry_types(),
        grounds: grounds(),
        warnings,
        files,
        file_error,
        file_error_slot,
        submit_error: p.submit_error,
        max_visitors: MAX_VISITORS,
    })
}

/// The choices of the form, plus the entries retired since this group chose them, marked, so
/// that a saved group still shows what it chose (saving again asks for an active entry).
/// Returns the host countries and the nationalities to offer.
fn keep_retired_choices(
    lists: &mut Lists,
    form: &GroupForm,
    visitors: &[VisitorSlot],
) -> (Vec<Country>, Vec<Country>) {
    let mark = |name: String| format!("{name}（已停用）");
    for (kind, code) in [
        ("purpose", &form.purpose),
        ("cost_bearer", &form.cost_bearer),
    ] {
        if !code.is_empty() && lists.code_retired(kind, code) {
            let name = match kind {
                "purpose" => lists.purpose_name(code),
                _ => lists.cost_bearer_name(code),
            };
            let c = Code {
                code: code.clone(),
                name_zh: mark(name),
            };
            match kind {
                "purpose" => lists.purposes.push(c),
                _ => lists.cost_bearers.push(c),
            }
        }
    }
    if let Ok(id) = form.mission.parse::<i64>() {
        if let Some((host, name)) = lists.retired_missions.get(&id).cloned() {
            lists.missions.push(MissionRef {
                id,
                host_alpha3: host,
                name_zh: mark(name),
            });
        }
    }
    let retired_country = |lists: &Lists, alpha3: &str| Country {
        alpha3: alpha3.to_string(),
        name_zh: mark(lists.country_name(alpha3)),
        name_en: String::new(),
    };
    let mut hosts: Vec<Country> = lists.host_countries().into_iter().cloned().collect();
    if !form.country.is_empty()
        && !hosts.iter().any(|c| c.alpha3 == form.country)
        && lists.country_names.contains_key(&form.country)
    {
        hosts.push(retired_country(lists, &form.country));
    }
    let mut nationalities: Vec<Country> = lists.nationalities().into_iter().cloned().collect();
    for v in visitors {
        let n = &v.form.nationality;
        if !n.is_empty()
            && !nationalities.iter().any(|c| &c.alpha3 == n)
            && lists.country_names.contains_key(n)
        {
            nationalities.push(retired_country(lists, n));
        }
    }
    (hosts, nationalities)
}

/// Warnings of the saved version: passport validity, arrival soon, the same passport elsewhere.
async fn group_warnings(state: &AppState, g: &Group, vs: &[Visitor]) -> AppResult<Vec<String>> {
    let data: Vec<VisitorData> = vs.iter().map(|v| v.data.clone()).collect();
    let mut out = warnings(&g.data, &data, state.today());
    for v in vs {
        let others = groups::overlapping(
            state.pool(),
            g.id,
            &v.data.passport_no,
            &g.data.arrival.to_string(),
            &g.data.departure.to_string(),
        )
        .await?;
        if !others.is_empty() {
            out.push(format!(
                "护照号码{}（{}）已在同期的其他团组中申报：{}",
                v.data.passport_no,
                v.data.full_name(),
                others.join("、")
            ));
        }
    }
    Ok(out)
}

fn slots_from(vs: &[Visitor]) -> Vec<VisitorSlot> {
    vs.iter()
        .enumerate()
        .map(|(i, v)| VisitorSlot {
            index: i,
            id: Some(v.id),
            form: v.data.to_form(),
            passport: None,
            visa: None,
        })
        .collect()
}

async fn with_files(
    state: &AppState,
    mut slots: Vec<VisitorSlot>,
    vs: &[Visitor],
) -> AppResult<Vec<VisitorSlot>> {
    for s in &mut slots {
        if let Some(v) = s.id.and_then(|id| vs.iter().find(|v| v.id == id)) {
            if let Some(f) = v.passport_file_id {
                s.passport = reference::file(state.pool(), f).await?;
            }
            if let Some(f) = v.visa_file_id {
                s.visa = reference::file(state.pool(), f).await?;
            }
        }
    }
    Ok(slots)
}

/// 2.3.2: a new, empty group form (contact prefilled from the registration).
pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let unit = approved_unit(&state, &ctx).await?;
    if let (text, true) = overdue_notice(&state, unit.id).await? {
        return Err(AppError::Conflict(text));
    }
    let form = GroupForm {
        contact_name: unit.data.contact_name.clone(),
        contact_phone: unit.mobile.clone(),
        entry_type: "single".into(),
        ..GroupForm::default()
    };
    let visitors = vec![VisitorSlot {
        index: 0,
        id: None,
        form: VisitorForm::default(),
        passport: None,
        visa: None,
    }];
    form_page(
        &state,
        &ctx,
        PageInput {
            group: None,
            form,
            visitors,
            errors: FieldErrors::new(),
            file_error: None,
            submit_error: String::new(),
            flash: String::new(),
        },
    )
    .await
}

/// The posted form: group fields, visitor blocks `v{i}_…` with hidden ids, and the button.
struct Posted {
    form: GroupForm,
    visitors: Vec<(Option<i64>, VisitorForm)>,
    action: String,
}

fn parse_posted(pairs: &[(String, String)]) -> Result<Posted, &'static str> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = GroupForm {
        name: get("name"),
        purpose: get("purpose"),
        arrival: get("arrival"),
        departure: get("departure"),
        places: get("places"),
        cost_bearer: get("cost_bearer"),
        country: get("country"),
        mission: get("mission"),
        entry_type: get("entry_type"),
        ground: get("ground"),
        contact_name: get("contact_name"),
        contact_phone: get("contact_phone"),
        remarks: get("remarks"),
    };
    let mut indexes: Vec<usize> = pairs
        .iter()
        .filter_map(|(k, _)| {
            let rest = k.strip_prefix('v')?;
            let (i, _) = rest.split_once('_')?;
            i.parse::<usize>().ok()
        })
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    if indexes.iter().any(|i| *i >= MAX_VISITORS) {
        return Err(TOO_MANY_VISITORS);
    }
    let visitors = indexes
        .iter()
        .map(|i| {
            let f = |n: &str| get(&format!("v{i}_{n}"));
            (
                f("id").parse::<i64>().ok(),
                VisitorForm {
                    surname: f("surname"),
                    given_name: f("given_name"),
                    sex: f("sex"),
                    birth_date: f("birth_date"),
                    nationality: f("nationality"),
                    passport_no: f("passport_no"),
                    passport_expiry: f("passport_expiry"),
                    employer: f("employer"),
                    position: f("position"),
                },
            )
        })
        .collect();
    Ok(Posted {
        form,
        visitors,
        action: get("action"),
    })
}

/// A visitor to save, with its row id when it exists already.
type KeptVisitor = (Option<i64>, VisitorData);

/// Validates the whole form; (group, visitors) or the errors.
fn validate(
    lists: &Lists,
    posted: &Posted,
    today: NaiveDate,
) -> Result<(GroupData, Vec<KeptVisitor>), FieldErrors> {
    let purposes: Vec<&str> = lists.purposes.iter().map(|c| c.code.as_str()).collect();
    let bearers: Vec<&str> = lists.cost_bearers.iter().map(|c| c.code.as_str()).collect();
    let missions: Vec<(i64, &str)> = lists
        .missions
        .iter()
        .map(|m| (m.id, m.host_alpha3.as_str()))
        .collect();
    let nationalities: Vec<&str> = lists
        .nationalities()
        .iter()
        .map(|c| c.alpha3.as_str())
        .collect();
    let choices = Choices {
        purposes: &purposes,
        cost_bearers: &bearers,
        missions: &missions,
        nationalities: &nationalities,
    };
    let group = posted.form.validate(&choices, today);
    let mut errors = match &group {
        Ok(_) => FieldErrors::new(),
        Err(e) => e.clone(),
    };
    let departure = crate::domain::group::parse_date(&posted.form.departure);
    let filled: Vec<&(Option<i64>, VisitorForm)> = posted
        .visitors
        .iter()
        .filter(|(id, v)| id.is_some() || !v.is_blank())
        .collect();
    if filled.is_empty() {
        errors.add("visitors", "请至少填写一名到访人员");
    }
    let mut visitors = Vec::new();
    for (i, (id, v)) in filled.iter().enumerate() {
        if let Some(d) = v.validate(i, &choices, departure, today, &mut errors) {
            visitors.push((*id, d));
        }
    }
    let mut seen = Vec::new();
    for (i, (_, v)) in visitors.iter().enumerate() {
        if seen.contains(&v.passport_no) {
            errors.add(&format!("v{i}_passport_no"), "同一团组内护照号码重复");
        }
        seen.push(v.passport_no.clone());
    }
    match group {
        Ok(g) if errors.is_empty() => Ok((g, visitors)),
        _ => Err(errors),
    }
}

fn slots_of_posted(posted: &Posted) -> Vec<VisitorSlot> {
    posted
        .visitors
        .iter()
        .enumerate()
        .map(|(i, (id, f))| VisitorSlot {
            index: i,
            id: *id,
            form: f.clone(),
            passport: None,
            visa: None,
        })
        .collect()
}

/// 【保存】 of a new group: creates the draft with its number.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let unit = approved_unit(&state, &ctx).await?;
    save_or_rerender(state, ctx, unit, None, pairs).await
}

/// 【保存】 (or adding/removing a visitor block) of an existing group.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (unit, group) = own_group(&state, &ctx, id).await?;
    if !group.state.editable() {
        return Err(AppError::Conflict("团组已提交，不能修改".into()));
    }
    save_or_rerender(state, ctx, unit, Some(group), pairs).await
}

async fn save_or_rerender(
    state: AppState,
    ctx: Ctx,
    unit: Unit,
    group: Option<Group>,
    pairs: Vec<(String, String)>,
) -> AppResult<Response> {
    let existing = match &group {
        Some(g) => groups::visitors(state.pool(), g.id).await?,
        None => Vec::new(),
    };
    let mut posted = match parse_posted(&pairs) {
        Ok(p) => p,
        Err(msg) => {
            // A sixth visitor posted by hand.
            let mut errors = FieldErrors::new();
            errors.add("visitors", msg);
            let form = group
                .as_ref()
                .map(|g| g.data.to_form(&g.country))
                .unwrap_or_default();
            let slots = with_files(&state, slots_from(&existing), &existing).await?;
            return form_page(
                &state,
                &ctx,
                PageInput {
                    group,
                    form,
                    visitors: slots,
                    errors,
                    file_error: None,
                    submit_error: String::new(),
                    flash: String::new(),
                },
            )
            .await;
        }
    };
    let mut errors = FieldErrors::new();
    if posted.action == "add_visitor" {
        if posted.visitors.len() >= MAX_VISITORS {
            errors.add("visitors", TOO_MANY_VISITORS);
        } else {
            posted.visitors.push((None, VisitorForm::default()));
        }
    } else if let Some(i) = posted
        .action
        .strip_prefix("remove_")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < posted.visitors.len() {
            posted.visitors.remove(i);
        }
    }
    if posted.action != "save" {
        let slots = with_files(&state, slots_of_posted(&posted), &existing).await?;
        return form_page(
            &state,
            &ctx,
            PageInput {
                group,
                form: posted.form,
                visitors: slots,
                errors,
                file_error: None,
                submit_error: String::new(),
                flash: String::new(),
            },
        )
        .await;
    }
    let lists = state.ref_lists().await?;
    let (data, visitors) = match validate(&lists, &posted, state.today()) {
        Ok(v) => v,
        Err(errors) => {
            let slots = with_files(&state, slots_of_posted(&posted), &existing).await?;
            return form_page(
                &state,
                &ctx,
                PageInput {
                    group,
                    form: posted.form,
                    visitors: slots,
                    errors,
                    file_error: None,
                    submit_error: String::new(),
                    flash: String::new(),
                },
            )
            .await;
        }
    };
    let vdata: Vec<VisitorData> = visitors.iter().map(|(_, v)| v.clone()).collect();
    let hash = data_hash(&data, &vdata);
    let now = state.now();
    let actor = ctx.actor();
    let mut tx = state.db.begin().await?;
    let id = match &group {
        None => {
            let year = state
                .today()
                .format("%Y")
                .to_string()
                .parse::<i64>()
                .unwrap_or(0);
            let seq = groups::next_in_sequence(tx.conn(), "group", year).await?;
            let number = format!("{year}{seq:04}");
            let id = groups::insert(tx.conn(), unit.id, &number, &data, &hash, now).await?;
            audit::record(
                tx.conn(),
                &actor,
                now,
                "group.create",
                "group",
                &id.to_string(),
                &format!("团组编号{number}"),
            )
            .await?;
            id
        }
        Some(g) => {
            if !groups::update(tx.conn(), g.id, &data, &hash, now).await? {
                return Err(AppError::Conflict("团组已提交，不能修改".into()));
            }
            let detail = if g.data_hash != hash && g.printed_hash.is_some() {
                "数据已修改，原打印件作废"
            } else {
                ""
            };
            audit::record(
                tx.conn(),
                &actor,
                now,
                "group.save",
                "group",
                &g.id.to_string(),
                detail,
            )
            .await?;
            g.id
        }
    };
    groups::save_visitors(tx.conn(), id, &visitors).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/groups/{id}?ok=saved")).into_response())
}

/// The group page: the form while editable, the read-only record after.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let (_, group) = own_group(&state, &ctx, id).await?;
    if !group.state.editable() {
        return super::group_review::record_page(&state, &ctx, group, flash_text(&q.ok)).await;
    }
    let vs = groups::visitors(state.pool(), id).await?;
    let slots = with_files(&state, slots_from(&vs), &vs).await?;
    let form = group.data.to_form(&group.country);
    form_page(
        &state,
        &ctx,
        PageInput {
            group: Some(group),
            form,
            visitors: slots,
            errors: FieldErrors::new(),
            file_error: None,
            submit_error: String::new(),
            flash: flash_text(&q.ok).to_string(),
        },
    )
    .await
}

async fn page_with_error(
    state: &AppState,
    ctx: &Ctx,
    group: Group,
    file_error: Option<(String, String)>,
    submit_error: &str,
) -> AppResult<Response> {
    let vs = groups::visitors(state.pool(), group.id).await?;
    let slots = with_files(state, slots_from(&vs), &vs).await?;
    let form = group.data.to_form(&group.country);
    form_page(
        state,
        ctx,
        PageInput {
            group: Some(group),
            form,
            visitors: slots,
            errors: FieldErrors::new(),
            file_error,
            submit_error: submit_error.to_string(),
            flash: String::new(),
        },
    )
    .await
}

/// Uploads into a slot: `clerk_id`, `multi_entry_proof`, `other`, `scan` (the stamped form),
/// `passport-<visitor id>`, `visa-<visitor id>`.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, slot)): Path<(i64, String)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let (_, group) = own_group(&state, &ctx, id).await?;
    if !group.state.editable() {
        return Err(AppError::Conflict("团组已提交，不能修改附件".into()));
    }
    let visitor = match slot.split_once('-') {
        Some((kind @ ("passport" | "visa"), vid)) => {
            let vid: i64 = vid.parse().map_err(|_| AppError::NotFound)?;
            let vs = groups::visitors(state.pool(), id).await?;
            if !vs.iter().any(|v| v.id == vid) {
                return Err(AppError::NotFound);
            }
            Some((kind, vid))
        }
        _ => None,
    };
    if visitor.is_none()
        && !matches!(
            slot.as_str(),
            "clerk_id" | "multi_entry_proof" | "other" | "scan"
        )
    {
        return Err(AppError::NotFound);
    }
    if slot == "scan" && !group.printed_current() {
        return page_with_error(
            &state,
            &ctx,
            group,
            Some((
                slot,
                "请先【打印】当前版本的申请表，盖章签字后再上传扫描件".into(),
            )),
            "",
        )
        .await;
    }
    let (name, bytes) = super::files::read_upload(multipart, "file").await?;
    let kind = match crate::files::check_scan(&bytes) {
        Ok(k) => k,
        Err(e) => {
            return page_with_error(&state, &ctx, group, Some((slot, e.to_string())), "").await
        }
    };
    let sha = state.files.put(&bytes).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let file_id = reference::insert_file(
        tx.conn(),
        &sha,
        bytes.len() as i64,
        kind.mime(),
        &name,
        Some(ctx.user()?.id),
        now,
    )
    .await?;
    let ok = match (visitor, slot.as_str()) {
        (Some((kind, vid)), _) => {
            groups::set_visitor_file(tx.conn(), id, vid, kind, file_id).await?
        }
        (None, "scan") => groups::set_scan(tx.conn(), id, file_id, now).await?,
        (None, code) => {
            groups::set_attachment(tx.conn(), id, code, file_id, now).await?;
            true
        }
    };
    if !ok {
        return Err(AppError::Conflict("团组已变化，请刷新页面后重试".into()));
    }
    let what = match (visitor, slot.as_str()) {
        (Some(("visa", _)), _) => "曾来华签证页",
        (Some(_), _) => "护照首页",
        (None, "scan") => "盖章签字的申请表扫描件",
        (None, "clerk_id") => "经办人身份证复印件",
        (None, "multi_entry_proof") => "多次入境证明材料",
        _ => "其他证明材料",
    };
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "group.file",
        "group",
        &id.to_string(),
        &format!("{what}：{name}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/groups/{id}?ok=uploaded#files")).into_response())
}

/// What is missing before 【提交】.
async fn missing_for_submit(state: &AppState, group: &Group) -> AppResult<Vec<String>> {
    let mut missing = Vec::new();
    let vs = groups::visitors(state.pool(), group.id).await?;
    if vs.is_empty() {
        missing.push("到访人员".to_string());
    }
    for v in &vs {
        if v.passport_file_id.is_none() {
            missing.push(format!("{}的护照扫描件", v.data.full_name()));
        }
    }
    let att = groups::attachments(state.pool(), group.id).await?;
    for slot in file_slots(&group.data.entry_type, &att) {
        if slot.required && slot.file.is_none() {
            missing.push(slot.name.to_string());
        }
    }
    if !group.printed_current() {
        missing.push("当前版本的【打印】（保存后内容有修改，请重新打印）".into());
    } else if !group.scan_current() {
        missing.push("盖章签字的申请表扫描件（须为当前打印版本）".into());
    }
    Ok(missing)
}

/// 【提交】: read-only from now on; the county office is told.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (unit, group) = own_group(&state, &ctx, id).await?;
    if !group.state.editable() {
        return Err(AppError::Conflict("团组已提交，请勿重复提交".into()));
    }
    let missing = missing_for_submit(&state, &group).await?;
    if !missing.is_empty() {
        return page_with_error(
            &state,
            &ctx,
            group,
            None,
            &format!("提交前请补齐：{}", missing.join("；")),
        )
        .await;
    }
    let now = state.now();
    let actor = ctx.actor();
    let mut tx = state.db.begin().await?;
    if !groups::submit(tx.conn(), id, now).await? {
        return Err(AppError::Conflict("团组已提交或已变化，请刷新页面".into()));
    }
    let resubmit = group.state == GroupState::Returned;
    audit::record(
        tx.conn(),
        &actor,
        now,
        "group.submit",
        "group",
        &id.to_string(),
        if resubmit { "重新提交" } else { "" },
    )
    .await?;
    let notice = crate::workflow::notify::group_submitted(&group.number);
    crate::workflow::notify::write(tx.conn(), unit.id, &Actor::system(), &notice, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/groups/{id}?ok=group_submitted")).into_response())
}

/// The application form's data for the PDF and the HTML print page.
pub async fn form_data(state: &AppState, group: &Group) -> AppResult<crate::pdf::FormData> {
    let unit = units::get(state.pool(), group.unit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let lists = state.ref_lists().await?;
    let vs = groups::visitors(state.pool(), group.id).await?;
    let entry = EntryType::parse(&group.data.entry_type)
        .map(|e| e.label())
        .unwrap_or("");
    let ground = Ground::parse(&group.data.ground)
        .map(|g| g.label())
        .unwrap_or("");
    Ok(crate::pdf::FormData {
        group_number: group.number.clone(),
        data_hash: group.data_hash.clone(),
        printed_at: crate::clock::fmt_ts(state.now()),
        office_name: state.site().await?.office_name.clone(),
        unit: crate::pdf::UnitInfo {
            name: unit.data.name.clone(),
            english_name: unit.data.english_name.clone(),
            credit_code: unit.data.credit_code.clone(),
            address: unit.data.address.clone(),
            contact_name: unit.data.contact_name.clone(),
            contact_phone: unit.data.landline.clone(),
            district: unit.district_name.clone(),
        },
        group: crate::pdf::GroupInfo {
            name: group.data.name.clone(),
            purpose: lists.purpose_name(&group.data.purpose),
            arrival: group.data.arrival.to_string(),
            departure: group.data.departure.to_string(),
            places: group.data.places.clone(),
            cost_bearer: lists.cost_bearer_name(&group.data.cost_bearer),
            country: group.country_name.clone(),
            mission: group.mission_name.clone(),
            entry_type: entry.to_string(),
            entry_ground: ground.to_string(),
            contact_name: group.data.contact_name.clone(),
            contact_phone: group.data.contact_phone.clone(),
            remarks: group.data.remarks.clone(),
        },
        visitors: vs
            .iter()
            .map(|v| crate::pdf::VisitorInfo {
                seq: v.seq as u32,
                surname: v.data.surname.clone(),
                given_name: v.data.given_name.clone(),
                sex: v.data.sex_label().to_string(),
                birth_date: v.data.birth_date.to_string(),
                nationality: lists.country_name(&v.data.nationality),
                passport_no: v.data.passport_no.clone(),
                passport_expiry: v.data.passport_expiry.to_string(),
                employer: v.data.employer.clone(),
                position: v.data.position.clone(),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "group_print.html")]
struct PrintPage {
    f: crate::pdf::FormData,
    qr: String,
    short_hash: String,
}

/// 【打印】: the PDF 《邀请外国人来华申请表》 of the saved version (or, without a CJK font, the
/// same form as an A4 HTML page the browser prints). Printing an editable group records which
/// version was printed.
pub async fn print(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (_, group) = own_group(&state, &ctx, id).await?;
    print_group(&state, &ctx, &group).await
}

pub async fn print_group(state: &AppState, ctx: &Ctx, group: &Group) -> AppResult<Response> {
    let data = form_data(state, group).await?;
    if data.visitors.is_empty() {
        return Err(AppError::Conflict("请先填写到访人员并【保存】".into()));
    }
    if group.state.editable()
        && ctx
            .user
            .as_ref()
            .is_some_and(|u| u.unit_id == Some(group.unit_id))
    {
        let now = state.now();
        let mut tx = state.db.begin().await?;
        if groups::mark_printed(tx.conn(), group.id, &group.data_hash).await?
            && !group.printed_current()
        {
            audit::record(
                tx.conn(),
                &ctx.actor(),
                now,
                "group.print",
                "group",
                &group.id.to_string(),
                &format!("数据版本{}", group.short_hash()),
            )
            .await?;
        }
        tx.commit().await?;
    }
    let file_name = format!("邀请外国人来华申请表-{}.pdf", group.number);
    let rendered = state.printer.render_blocking(data.clone()).await;
    match rendered {
        Ok(pdf) => Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    super::files::disposition("inline", &file_name),
                ),
            ],
            pdf,
        )
            .into_response()),
        Err(crate::pdf::PdfError::NoFont) => {
            let payload = crate::pdf::qr_payload(&data.group_number, &data.data_hash);
            let page = PrintPage {
                qr: crate::pdf::qr_svg(&payload),
                short_hash: data.data_hash.chars().take(16).collect(),
                f: data,
            };
            Ok(Html(page.render()?).into_response())
        }
        Err(e) => Err(AppError::Internal(anyhow::anyhow!(
            "printing group {}: {e}",
            group.number
        ))),
    }
}

/// A file of a group, to whoever may see the group.
pub async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let group = groups::get(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !super::group_review::may_view_group(&user, &group)
        || !groups::owns_file(state.pool(), id, file_id).await?
    {
        return Err(AppError::NotFound);
    }
    super::files::serve_inline(&state, file_id).await
}

#[derive(Deserialize, Default)]
pub struct HistoryQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "groups_history.html")]
struct HistoryPage {
    l: Layout,
    rows: Vec<GroupRow>,
    from: String,
    to: String,
    state: String,
    q: String,
    page: i64,
    pages: i64,
    total: i64,
    states: Vec<(&'static str, &'static str)>,
    query: String,
    error: String,
}

const HISTORY_PAGE: i64 = 20;

/// Beijing midnight of a date, as unix seconds.
fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp() - 8 * 3600)
        .unwrap_or(0)
}

/// 申报历史查询 (2.3.6–2.3.7).
pub async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(h): Query<HistoryQuery>,
) -> AppResult<Response> {
    let unit = approved_unit(&state, &ctx).await?;
    let mut error = String::new();
    let from = crate::domain::group::parse_date(&h.from);
    let to = crate::domain::group::parse_date(&h.to);
    if (!h.from.trim().is_empty() && from.is_none()) || (!h.to.trim().is_empty() && to.is_none()) {
        error = "日期格式应为2026-01-31".into();
    }
    let filter = HistoryFilter {
        from_ts: from.map(day_start),
        to_ts: to.map(|d| day_start(d) + 86_400),
        state: GroupState::parse(h.state.trim()),
        text: h.q.trim().chars().take(50).collect(),
    };
    let page = h.page.unwrap_or(1).max(1);
    let (rows, total) = groups::history(
        state.pool(),
        unit.id,
        &filter,
        HISTORY_PAGE,
        (page - 1) * HISTORY_PAGE,
    )
    .await?;
    let query = format!(
        "from={}&to={}&state={}&q={}",
        super::ctx::urlencode(h.from.trim()),
        super::ctx::urlencode(h.to.trim()),
        super::ctx::urlencode(h.state.trim()),
        super::ctx::urlencode(h.q.trim())
    );
    render(HistoryPage {
        l: layout(&state, &ctx, "申报历史查询").await?,
        rows,
        from: h.from.trim().to_string(),
        to: h.to.trim().to_string(),
        state: h.state.trim().to_string(),
        q: h.q.trim().to_string(),
        page,
        pages: ((total + HISTORY_PAGE - 1) / HISTORY_PAGE).max(1),
        total,
        states: GroupState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        query,
        error,
    })
}
