//! 销签登记 (manual 2.3.8): the list of visitors of dispatched groups, the registration form
//! (实际成行 or 取消行程) with its scans, [提交], the county and city review and the overdue
//! lists. The rules are `workflow::visits`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::export::{respond, wants_xlsx, Cell, Sheet, MAX_ROWS};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout, Pager, SectionQuery};
use crate::domain::fields::FieldErrors;
use crate::domain::visit::{Scan, VisitForm, VisitKind};
use crate::state::AppState;
use crate::store::audit::Entry;
use crate::store::reference::FileMeta;
use crate::store::refs::Port;
use crate::store::visits::Record;
use crate::store::visits::Subject;
use crate::store::visits::VisitRow;
use crate::workflow::error::Error;
use crate::workflow::visits::{self, Registration, Window, FORM};

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

/// The unit's list: one row per visitor of its dispatched groups, overdue rows first in red.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let list = visits::list(&state, ctx.principal()?, q.group).await?;
    let mut l = layout(&state, &ctx, "销签登记").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(ListPage {
        l,
        rows: list.rows,
        countries: list.countries,
        days: list.days,
    })
}

pub struct FileSlot {
    pub kind: &'static str,
    pub name: &'static str,
    pub file: Option<FileMeta>,
}

/// The scans a registration of `kind` has, with the file of each when uploaded.
fn slots(kind: VisitKind, files: &BTreeMap<Scan, FileMeta>) -> Vec<FileSlot> {
    kind.scans()
        .iter()
        .map(|k| FileSlot {
            kind: k.as_str(),
            name: k.label(),
            file: files.get(k).cloned(),
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
    /// (scan kind, message) of the refused uploads ("" for the form as a whole).
    file_errors: Vec<(String, String)>,
    submit_error: String,
    editable: bool,
    nationality: String,
}

impl FormPage {
    /// The scans of either kind, offered with the first 【保存】: (kind label, slots).
    fn first_slots(&self) -> Vec<(&'static str, Vec<FileSlot>)> {
        let none = BTreeMap::new();
        vec![
            ("实际成行", slots(VisitKind::Travelled, &none)),
            ("取消行程", slots(VisitKind::Cancelled, &none)),
        ]
    }
    /// The refusal beside the scan `kind` ("" when none).
    fn file_error(&self, kind: &str) -> &str {
        self.file_errors
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, m)| m.as_str())
            .unwrap_or("")
    }
    /// The ports grouped by kind for the selects (`<optgroup>`), in the order given.
    fn port_groups(&self) -> Vec<(String, Vec<&Port>)> {
        let mut groups: Vec<(String, Vec<&Port>)> = Vec::new();
        for p in &self.ports {
            let label = match p.kind_label() {
                l if l.is_empty() => "其他口岸".to_string(),
                l => l,
            };
            match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, v)) => v.push(p),
                None => groups.push((label, vec![p])),
            }
        }
        groups
    }
}

fn form_of(r: &Record) -> VisitForm {
    VisitForm {
        kind: r.kind.as_str().into(),
        entry_date: r.entry_date.clone().unwrap_or_default(),
        entry_port: r.entry_port_id.map(|p| p.to_string()).unwrap_or_default(),
        exit_date: r.exit_date.clone().unwrap_or_default(),
        exit_port: r.exit_port_id.map(|p| p.to_string()).unwrap_or_default(),
        cancel_reason: r.cancel_reason.clone().unwrap_or_default(),
    }
}

#[derive(Default)]
struct Extra {
    form: Option<VisitForm>,
    errors: FieldErrors,
    file_errors: Vec<(String, String)>,
    submit_error: String,
    flash: String,
}

impl Extra {
    /// A refusal of an upload or of [提交] shown on the form: beside the scan it names, or
    /// above the [提交] button.
    fn refused(errors: &FieldErrors) -> Extra {
        let mut x = Extra::default();
        for (field, message) in errors.iter() {
            if field == FORM {
                x.submit_error = message.clone();
            } else {
                x.file_errors.push((field.clone(), message.clone()));
            }
        }
        x
    }
}

async fn form_page(state: &AppState, ctx: &Ctx, s: Subject, x: Extra) -> AppResult<Response> {
    let Registration {
        subject: s,
        record,
        files,
        editable,
        nationality,
        mut ports,
        port_names,
    } = visits::registration(state, ctx.principal()?, s).await?;
    let form = x.form.unwrap_or_else(|| {
        record.as_ref().map(form_of).unwrap_or(VisitForm {
            kind: VisitKind::Travelled.as_str().into(),
            ..VisitForm::default()
        })
    });
    let mut l = layout(state, ctx, "销签登记").await?;
    l.flash = x.flash;
    // A port retired since it was chosen stays visible (marked) until another is chosen.
    for chosen in [&form.entry_port, &form.exit_port] {
        if let Ok(id) = chosen.parse::<i64>() {
            if let (false, Some(name)) = (ports.iter().any(|p| p.id == id), port_names.get(&id)) {
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
        slots: slots(VisitKind::from_stored(&form.kind), &files),
        s,
        record,
        form,
        errors: x.errors,
        ports,
        file_errors: x.file_errors,
        submit_error: x.submit_error,
        editable,
        nationality,
    })
}

/// [未登记] → the form.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let s = visits::subject(&state, ctx.principal()?, visitor_id).await?;
    let x = Extra {
        flash: flash_text(&q.ok).to_string(),
        ..Extra::default()
    };
    form_page(&state, &ctx, s, x).await
}

/// Saves what was entered (entry alone while the visitor is still in China). The form of a
/// registration not saved yet also offers its scans (multipart): they are stored after the
/// save, each checked on its own, refusals beside them.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let (f, chosen) = read_save(&state, req).await?;
    let p = ctx.principal()?;
    let s = visits::subject(&state, p, visitor_id).await?;
    match visits::save(&state, p, &s, &f).await {
        Ok(()) => {}
        Err(Error::Invalid(errors)) => {
            let mut x = Extra {
                form: Some(f),
                errors,
                ..Extra::default()
            };
            if !chosen.is_empty() {
                x.file_errors.push((
                    String::new(),
                    "登记信息未保存，所选扫描件也未上传：请按提示修改后重新选择文件".into(),
                ));
            }
            return form_page(&state, &ctx, s, x).await;
        }
        Err(e) => return Err(e.into()),
    }
    let mut done = super::files::Stored::default();
    let saved_kind = VisitKind::from_stored(&f.kind);
    for (kind, file) in chosen {
        let scan = Scan::parse(&kind).ok_or(AppError::NotFound)?;
        // A scan of the other kind (chosen before switching 实际成行/取消行程) is not wanted.
        if !saved_kind.scans().contains(&scan) {
            continue;
        }
        let outcome = match visits::upload_target(&state, p, &s, scan).await {
            Ok(record) => visits::upload(&state, p, &s, &record, scan, &file).await,
            Err(e) => Err(e),
        };
        done.record(kind, &file, outcome)?;
    }
    if done.refused.is_empty() {
        return Ok(Redirect::to(&format!("/visits/{visitor_id}?ok=saved")).into_response());
    }
    let x = Extra {
        flash: "已保存；标红的扫描件未上传，请按提示重新选择。".into(),
        file_errors: done.refused,
        ..Extra::default()
    };
    form_page(&state, &ctx, s, x).await
}

/// The registration form as posted: urlencoded, or multipart with the scans chosen with it.
async fn read_save(
    state: &AppState,
    req: axum::extract::Request,
) -> AppResult<(VisitForm, Vec<(String, crate::workflow::files::Upload)>)> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    let unreadable = || AppError::BadRequest("提交的表单内容有误，请返回上一页刷新后重试。".into());
    if !multipart {
        let Form(f) = Form::<VisitForm>::from_request(req, state)
            .await
            .map_err(|_| unreadable())?;
        return Ok((f, Vec::new()));
    }
    let body = Multipart::from_request(req, state)
        .await
        .map_err(|_| unreadable())?;
    let (fields, files) = super::files::read_form(body).await?;
    let mut f = VisitForm::default();
    for (name, value) in fields {
        match name.as_str() {
            "kind" => f.kind = value,
            "entry_date" => f.entry_date = value,
            "entry_port" => f.entry_port = value,
            "exit_date" => f.exit_date = value,
            "exit_port" => f.exit_port = value,
            "cancel_reason" => f.cancel_reason = value,
            _ => {}
        }
    }
    Ok((f, files))
}

/// Scans: entry stamp, exit stamp, visa page (PDF, JPEG or PNG); the statement (PDF).
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((visitor_id, kind)): Path<(i64, String)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let s = visits::subject(&state, p, visitor_id).await?;
    let scan = Scan::parse(&kind).ok_or(AppError::NotFound)?;
    let record = match visits::upload_target(&state, p, &s, scan).await {
        Ok(record) => record,
        Err(Error::Invalid(errors)) => {
            return form_page(&state, &ctx, s, Extra::refused(&errors)).await
        }
        Err(e) => return Err(e.into()),
    };
    let file = super::files::read_file(multipart, "file").await?;
    match visits::upload(&state, p, &s, &record, scan, &file).await {
        Ok(()) => Ok(Redirect::to(&format!("/visits/{visitor_id}?ok=uploaded")).into_response()),
        Err(Error::Invalid(errors)) => form_page(&state, &ctx, s, Extra::refused(&errors)).await,
        Err(e) => Err(e.into()),
    }
}

/// 【上传所选文件】: the scans chosen in the form (inputs named by scan kind), each checked and
/// stored on its own; refusals beside their scans, what was stored kept. The upload script
/// sends one file at a time here and gets JSON.
pub async fn upload_all(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let stored = async {
        let p = ctx.principal()?;
        let s = visits::subject(&state, p, visitor_id).await?;
        let mut done = super::files::Stored::default();
        while let Some((kind, file)) = super::files::next_file(&mut multipart).await? {
            let scan = Scan::parse(&kind).ok_or(AppError::NotFound)?;
            let outcome = match visits::upload_target(&state, p, &s, scan).await {
                Ok(record) => visits::upload(&state, p, &s, &record, scan, &file).await,
                Err(e) => Err(e),
            };
            done.record(kind, &file, outcome)?;
        }
        done.none_chosen();
        Ok(done)
    }
    .await;
    if super::files::wants_json(&headers) {
        return Ok(super::files::json_answer(stored));
    }
    let stored = stored?;
    if stored.refused.is_empty() {
        return Ok(
            Redirect::to(&format!("/visits/{visitor_id}?ok=uploaded#scans")).into_response(),
        );
    }
    let s = visits::subject(&state, ctx.principal()?, visitor_id).await?;
    let x = Extra {
        flash: match stored.stored.len() {
            0 => String::new(),
            n => format!("已上传{n}个扫描件；标红的文件未上传，请按提示重新选择。"),
        },
        file_errors: stored.refused,
        ..Extra::default()
    };
    form_page(&state, &ctx, s, x).await
}

/// [提交]: complete data and scans go to the county office.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(visitor_id): Path<i64>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let s = visits::subject(&state, p, visitor_id).await?;
    match visits::submit(&state, p, &s).await {
        Ok(()) => Ok(Redirect::to("/visits?ok=visit_submitted").into_response()),
        Err(Error::Invalid(errors)) => form_page(&state, &ctx, s, Extra::refused(&errors)).await,
        Err(e) => Err(e.into()),
    }
}

/// A scan of a registration.
pub async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((visitor_id, file_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    visits::may_read_file(&state, ctx.principal()?, visitor_id, file_id).await?;
    super::files::serve_inline(&state, file_id).await
}

// ---- review ----

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
    let p = ctx.principal()?;
    let xlsx = wants_xlsx(&q.format);
    // The page's layout has counted the reviewer's waiting registrations for the navigation.
    let l = match xlsx {
        true => None,
        false => Some(layout(&state, &ctx, "销签待办").await?),
    };
    let waiting = match &l {
        Some(l) => l.visit_queue,
        None => MAX_ROWS,
    };
    let pending = Pager::new(waiting, QUEUE_PAGE, q.page_of("pending"));
    let overdue = visits::overdue(&state, p).await?;
    let late = Pager::new(overdue.total(), QUEUE_PAGE, q.page_of("overdue"));
    let window = match xlsx {
        true => Window::Export,
        false => Window::Page {
            per: QUEUE_PAGE,
            pending_offset: pending.offset(QUEUE_PAGE),
            overdue_offset: late.offset(QUEUE_PAGE),
        },
    };
    let (rows, overdue_rows) = visits::queue(&state, p, &overdue, window).await?;
    let countries = visits::country_names(&state).await?;
    if xlsx {
        let sheets = queue_sheets(&rows, &overdue_rows, &countries);
        return respond(&state, &ctx, "review.visits", "销签待办", "", sheets).await;
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
        overdue: overdue_rows,
        counts: overdue.counts,
        days: overdue.days,
        countries,
    })
}

/// 销签待办's export: the waiting registrations and the overdue visitors.
fn queue_sheets(
    rows: &[VisitRow],
    overdue: &[VisitRow],
    countries: &BTreeMap<String, String>,
) -> Vec<Sheet> {
    // The columns both sheets share, then each sheet's own.
    let sheet = |title: &str,
                 own: &[&'static str],
                 rows: &[VisitRow],
                 cells: &dyn Fn(&VisitRow) -> Vec<Cell>| {
        let mut headers = vec!["团组编号", "邀请单位", "县区", "姓名", "护照号码", "国籍"];
        headers.extend_from_slice(own);
        let mut sheet = Sheet::new(title, &headers);
        for r in rows {
            let nationality = countries
                .get(&r.nationality)
                .cloned()
                .unwrap_or_else(|| r.nationality.clone());
            let mut row: Vec<Cell> = vec![
                (&r.group_number).into(),
                (&r.unit_name).into(),
                (&r.district_name).into(),
                (&r.name).into(),
                (&r.passport_no).into(),
                nationality.into(),
            ];
            row.extend(cells(r));
            sheet.push(row);
        }
        sheet
    };
    vec![
        sheet("销签待办", &["提交时间"], rows, &|r| {
            vec![r.submitted_text().into()]
        }),
        sheet(
            "逾期未销签",
            &["计划出境", "状态"],
            overdue,
            &|r| vec![(&r.departure).into(), r.state_label().into()],
        ),
    ]
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
    timeline: Vec<Entry>,
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
    let review = visits::review(state, ctx.principal()?, visitor_id).await?;
    let mut l = layout(state, ctx, "销签登记审核").await?;
    l.flash = flash.to_string();
    render(DetailPage {
        l,
        can_act: !review.actions.is_empty(),
        slots: slots(review.record.kind, &review.files),
        entry_port: review.entry_port,
        exit_port: review.exit_port,
        s: review.subject,
        r: review.record,
        timeline: review.timeline,
        reason,
        errors,
        nationality: review.nationality,
    })
}

/// From an audit entry's registration number to its review page (which checks visibility).
pub async fn record_link(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let visitor_id = visits::visitor_of_record(&state, id).await?;
    Ok(Redirect::to(&format!("/review/visits/{visitor_id}")).into_response())
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

async fn decide(
    state: AppState,
    ctx: Ctx,
    visitor_id: i64,
    reason: Option<String>,
) -> AppResult<Response> {
    match visits::decide(&state, ctx.principal()?, visitor_id, reason.as_deref()).await {
        Ok(action) => Ok(Redirect::to(&format!(
            "/review/visits?ok={}",
            if action.is_return() {
                "returned"
            } else {
                "approved"
            }
        ))
        .into_response()),
        Err(Error::Invalid(errors)) => {
            let typed = reason.unwrap_or_default();
            detail_page(&state, &ctx, visitor_id, typed, errors, "").await
        }
        Err(e) => Err(e.into()),
    }
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
