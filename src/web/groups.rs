//! 来华申报 (manual 2.3.1–2.3.7): the invitation notice, the group form with its visitors,
//! 【保存】, 【打印】, the stamped scan, 【提交】, and 申报历史查询. The rules are
//! `workflow::groups`'; these handlers read the request, call it and render.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::group_view::{self, Typed};
use super::page::{flash_text, layout, render, Layout, OkQuery};
use crate::domain::fields::FieldErrors;
use crate::domain::group::{
    parse_date, EntryType, Ground, GroupForm, GroupState, VisitorForm, MAX_VISITORS,
    TOO_MANY_VISITORS,
};
use crate::domain::group_fields::{ItineraryForm, MAX_GROUP_SIZE, MAX_ITINERARY, STAY_HINT};
use crate::domain::group_flow::GroupAction;
use crate::state::AppState;
use crate::store::groups::Group;
use crate::store::groups::GroupRow;
use crate::store::refs::Code;
use crate::store::refs::Country;
use crate::store::refs::Lists;
use crate::store::refs::MissionRef;
use crate::workflow::entry;
use crate::workflow::error::Error;
use crate::workflow::groups::{
    self as flow, Allowed, Applicant, FileSlot, FormView, HistoryQuery as Filter, Opened, Progress,
    TypedVisitor, VisitorSlot,
};

/// The signed-in unit, which must be approved and not on the dishonesty list.
pub(super) async fn applicant(state: &AppState, ctx: &Ctx) -> AppResult<Applicant> {
    Ok(flow::applicant(ctx.principal()?, ctx.unit(state).await?)?)
}

#[derive(Template)]
#[template(path = "groups_home.html")]
struct HomePage {
    l: Layout,
    /// The latest groups.
    rows: Vec<GroupRow>,
    progress: Progress,
    overdue: String,
}

/// 来华申报.
pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let (rows, progress, overdue) = flow::home(&state, &a).await?;
    let mut l = layout(&state, &ctx, "来华申报").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(HomePage {
        l,
        rows,
        progress,
        overdue: overdue.message().unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "groups_notice.html")]
struct NoticePage {
    l: Layout,
    title: String,
    html: String,
}

impl NoticePage {
    /// The materials a group needs (the same list as on the form).
    pub fn materials(&self) -> Vec<(&'static str, &'static str)> {
        crate::domain::group::materials()
    }
}

/// 2.3.1: the invitation notice, confirmed to continue.
pub async fn notice(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let c = flow::notice(&state, &a).await?;
    render(NoticePage {
        l: layout(&state, &ctx, "团组申报").await?,
        title: c.title,
        html: crate::markdown::render(&c.body),
    })
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
    /// (slot code, message) of the refused uploads ("" for the form as a whole).
    file_errors: Vec<(String, String)>,
    submit_error: String,
    max_visitors: usize,
    /// Employers' countries (every active country, by name).
    countries: Vec<Country>,
    max_group_size: i64,
    stay_hint: &'static str,
    /// 再次邀请: the id and number of the group this new one is copied from.
    copy_of: Option<(i64, String)>,
    /// The 好差评 section of a returned group (its 退件 steps).
    rating_html: String,
    /// Why the visitors' spreadsheet was not imported: each wrong cell, or the file.
    import_errors: Vec<String>,
}

impl FormPage {
    /// The refusal beside the upload slot `slot` ("" when none).
    pub fn file_error(&self, slot: &str) -> &str {
        self.file_errors
            .iter()
            .find(|(s, _)| s == slot)
            .map(|(_, m)| m.as_str())
            .unwrap_or("")
    }
    /// The materials a group needs, listed before anything is uploaded.
    pub fn materials(&self) -> Vec<(&'static str, &'static str)> {
        crate::domain::group::materials()
    }
    pub fn gid(&self) -> i64 {
        self.group.as_ref().map(|g| g.id).unwrap_or(0)
    }
    pub fn saved(&self) -> bool {
        self.group.is_some()
    }
    /// The visa type a purpose defaults to (the page's script preselects it).
    pub fn default_visa(&self, purpose: &str) -> &'static str {
        crate::domain::group_fields::default_visa_type(purpose).unwrap_or("")
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

/// What the form shows besides the workflow's view: messages and a confirmation.
#[derive(Default)]
pub(super) struct Shown {
    errors: FieldErrors,
    /// (slot code, message) of the refused uploads.
    file_errors: Vec<(String, String)>,
    submit_error: String,
    flash: String,
    /// 再次邀请 of this group (id, number).
    copy_of: Option<(i64, String)>,
    import_errors: Vec<String>,
}

impl Shown {
    /// The form with a message at its top.
    pub(super) fn flash(text: String) -> Shown {
        Shown {
            flash: text,
            ..Shown::default()
        }
    }
    /// The form with the reasons its visitors' spreadsheet was refused.
    pub(super) fn import_refused(errors: FieldErrors) -> Shown {
        Shown {
            import_errors: errors.iter().map(|(_, m)| m.clone()).collect(),
            ..Shown::default()
        }
    }
    /// The form of 再次邀请 of group `id` numbered `number`.
    pub(super) fn copy_of(id: i64, number: &str) -> Shown {
        Shown {
            copy_of: Some((id, number.to_string())),
            ..Shown::default()
        }
    }
}

pub(super) async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    view: FormView,
    s: Shown,
) -> AppResult<Response> {
    let mut lists = view.lists;
    let (hosts, nationalities) = keep_retired_choices(&mut lists, &view.form, &view.visitors);
    let countries = employer_countries(&mut lists, &view.visitors);
    let title = if s.copy_of.is_some() {
        "再次邀请"
    } else {
        "团组申报"
    };
    let mut l = layout(state, ctx, title).await?;
    l.flash = s.flash;
    let rating_html = match &view.group {
        Some(g) => super::ratings::section_html(state, ctx, g).await?,
        None => String::new(),
    };
    render(FormPage {
        rating_html,
        l,
        group: view.group,
        form: view.form,
        visitors: view.visitors,
        errors: s.errors,
        nationalities,
        hosts,
        lists,
        entry_types: entry_types(),
        grounds: grounds(),
        warnings: view.warnings,
        files: view.files,
        file_errors: s.file_errors,
        submit_error: s.submit_error,
        max_visitors: MAX_VISITORS,
        countries,
        max_group_size: MAX_GROUP_SIZE,
        stay_hint: STAY_HINT,
        copy_of: s.copy_of,
        import_errors: s.import_errors,
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

/// The countries an employer may be in, plus a retired one a visitor chose before (marked); a
/// retired visa type a visitor chose is added to the offered ones the same way.
fn employer_countries(lists: &mut Lists, visitors: &[VisitorSlot]) -> Vec<Country> {
    let mut countries = lists.countries.clone();
    for v in visitors {
        let c = &v.form.employer_country;
        if !c.is_empty()
            && !countries.iter().any(|x| &x.alpha3 == c)
            && lists.country_names.contains_key(c)
        {
            countries.push(Country {
                alpha3: c.clone(),
                name_zh: format!("{}（已停用）", lists.country_name(c)),
                name_en: String::new(),
            });
        }
        let t = &v.form.visa_type;
        if !t.is_empty()
            && lists.code_retired("visa_type", t)
            && !lists.visa_types.iter().any(|x| &x.code == t)
        {
            let name = lists.visa_type_name(t);
            lists.visa_types.push(Code {
                code: t.clone(),
                name_zh: format!("{name}，已停用"),
            });
        }
    }
    countries
}

/// 2.3.2: a new, empty group form (contact prefilled from the registration).
pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let view = flow::blank(&state, &a).await?;
    form_page(&state, &ctx, view, Shown::default()).await
}

/// The posted form: group fields, visitor blocks `v{i}_…` with hidden ids, and the button.
struct Posted {
    form: GroupForm,
    visitors: Vec<TypedVisitor>,
    action: String,
}

fn parse_posted(pairs: &[(String, String)]) -> Result<Posted, &'static str> {
    let get = |k: &str| value(pairs, k);
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
        size: get("size"),
        itinerary: itinerary_rows(pairs),
        informed: get("informed"),
    };
    let visitors = posted_visitors(pairs)?;
    Ok(Posted {
        form,
        visitors,
        action: get("action"),
    })
}

/// The posted value of field `name` ("" when absent).
fn value(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The visitor blocks `v{i}_…` of a posted form, in the order of their indexes (more than
/// the maximum refused).
pub(super) fn posted_visitors(
    pairs: &[(String, String)],
) -> Result<Vec<TypedVisitor>, &'static str> {
    let get = |k: &str| value(pairs, k);
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
    Ok(indexes
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
                    visa_type: f("visa_type"),
                    stay_days: f("stay_days"),
                    employer_country: f("employer_country"),
                    employer_city: f("employer_city"),
                    employer_address: f("employer_address"),
                    mrz: f("mrz"),
                },
            )
        })
        .collect())
}

/// The itinerary rows `t{i}_date`, `t{i}_city`, `t{i}_activity`, `t{i}_host`, in the order of
/// their indexes (a row posted by hand past the limit is refused on save).
fn itinerary_rows(pairs: &[(String, String)]) -> Vec<ItineraryForm> {
    let mut indexes: Vec<usize> = pairs
        .iter()
        .filter_map(|(k, _)| {
            let rest = k.strip_prefix('t')?;
            let (i, _) = rest.split_once('_')?;
            i.parse::<usize>().ok()
        })
        .filter(|i| *i <= MAX_ITINERARY)
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    let get = |k: String| value(pairs, &k);
    indexes
        .iter()
        .map(|i| ItineraryForm {
            date: get(format!("t{i}_date")),
            city: get(format!("t{i}_city")),
            activity: get(format!("t{i}_activity")),
            host: get(format!("t{i}_host")),
        })
        .collect()
}

/// 【保存】 of a new group: creates the draft with its number.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    save_or_rerender(&state, &ctx, &a, None, &pairs, None).await
}

/// 【保存】 (or adding/removing a visitor block) of an existing group.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Save).await?;
    save_or_rerender(&state, &ctx, &a, Some(&t), &pairs, None).await
}

/// Saves the posted form (a new group when `t` is none, copied from `copy` for 再次邀请), or
/// shows it again with its messages.
pub(super) async fn save_or_rerender(
    state: &AppState,
    ctx: &Ctx,
    a: &Applicant,
    t: Option<&Allowed>,
    pairs: &[(String, String)],
    copy: Option<&Group>,
) -> AppResult<Response> {
    let copy_of = copy.map(|g| (g.id, g.number.clone()));
    let mut posted = match parse_posted(pairs) {
        Ok(p) => p,
        Err(msg) => {
            // A sixth visitor posted by hand: the form as saved, with the message.
            let mut errors = FieldErrors::new();
            errors.add("visitors", msg);
            let view = flow::form_again(state, a, t, None).await?;
            let shown = Shown {
                errors,
                copy_of,
                ..Shown::default()
            };
            return form_page(state, ctx, view, shown).await;
        }
    };
    let mut errors = FieldErrors::new();
    if posted.action == "add_visitor" {
        errors = flow::add_visitor(&mut posted.visitors);
    } else if posted.action == "add_itinerary" {
        errors = flow::add_itinerary_row(&mut posted.form);
    } else if let Some(i) = posted
        .action
        .strip_prefix("remove_row_")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < posted.form.itinerary.len() {
            posted.form.itinerary.remove(i);
        }
    } else if let Some(i) = posted
        .action
        .strip_prefix("remove_")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < posted.visitors.len() {
            posted.visitors.remove(i);
        }
    } else if let Some(i) = posted
        .action
        .strip_prefix("mrz_")
        .and_then(|i| i.parse::<usize>().ok())
    {
        errors = entry::read_zones(state, &mut posted.visitors, Some(i)).await?;
    }
    if posted.action == "save" {
        // Zones pasted but not read yet are read first; one refused, nothing is saved.
        errors = entry::read_zones(state, &mut posted.visitors, None).await?;
    }
    if posted.action == "save" && errors.is_empty() {
        let saved = match copy {
            Some(src) => {
                crate::workflow::group_paths::save_copy(
                    state,
                    a,
                    src,
                    &posted.form,
                    &posted.visitors,
                )
                .await
            }
            None => flow::save(state, a, t, &posted.form, &posted.visitors).await,
        };
        match saved {
            Ok(id) => return Ok(Redirect::to(&format!("/groups/{id}?ok=saved")).into_response()),
            Err(Error::Invalid(invalid)) => errors = invalid,
            Err(e) => return Err(e.into()),
        }
    }
    let view = flow::form_again(state, a, t, Some((posted.form, posted.visitors))).await?;
    let shown = Shown {
        errors,
        copy_of,
        ..Shown::default()
    };
    form_page(state, ctx, view, shown).await
}

/// The group page: the form while editable, the read-only record after.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let flash = flash_text(&q.ok).to_string();
    match flow::open(&state, &a, id).await? {
        Opened::Form(view) => {
            let shown = Shown {
                flash,
                ..Shown::default()
            };
            form_page(&state, &ctx, *view, shown).await
        }
        Opened::Record(r) => {
            let typed = Typed {
                flash,
                ..Typed::default()
            };
            group_view::record_page(&state, &ctx, *r, typed).await
        }
    }
}

/// The saved form again with a refusal shown beside the upload slot it names, or under the
/// 【提交】 button.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    a: &Applicant,
    t: &Allowed,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let view = flow::form_again(state, a, Some(t), None).await?;
    let shown = match errors.iter().next() {
        Some((field, message)) if field == "submit" => Shown {
            submit_error: message.clone(),
            ..Shown::default()
        },
        Some((field, message)) => Shown {
            file_errors: vec![(field.clone(), message.clone())],
            ..Shown::default()
        },
        None => Shown::default(),
    };
    form_page(state, ctx, view, shown).await
}

/// Uploads into a slot: `clerk_id`, `multi_entry_proof`, `other`, `scan` (the stamped form),
/// `passport-<visitor id>`, `visa-<visitor id>`.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, slot)): Path<(i64, String)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Upload).await?;
    let slot = match flow::upload_slot(&state, &t, &slot).await {
        Ok(slot) => slot,
        Err(Error::Invalid(errors)) => return refused(&state, &ctx, &a, &t, &errors).await,
        Err(e) => return Err(e.into()),
    };
    let file = super::files::read_file(multipart, "file").await?;
    match flow::upload(&state, &a, &t, &slot, &file).await {
        Ok(()) => Ok(Redirect::to(&format!("/groups/{id}?ok=uploaded#files")).into_response()),
        Err(Error::Invalid(errors)) => refused(&state, &ctx, &a, &t, &errors).await,
        Err(e) => Err(e.into()),
    }
}

/// 【上传所选文件】: the files chosen in the form's slots (named by slot code), each checked and
/// stored on its own; refusals are shown beside their slots and what was stored is kept. The
/// upload script sends one file at a time here and gets JSON.
pub async fn upload_all(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    headers: HeaderMap,
    multipart: Multipart,
) -> AppResult<Response> {
    let stored = store_all(&state, &ctx, id, multipart).await;
    if super::files::wants_json(&headers) {
        return Ok(super::files::json_answer(stored));
    }
    let stored = stored?;
    if stored.refused.is_empty() {
        return Ok(Redirect::to(&format!("/groups/{id}?ok=uploaded#files")).into_response());
    }
    let a = applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Upload).await?;
    let view = flow::form_again(&state, &a, Some(&t), None).await?;
    let shown = Shown {
        flash: match stored.stored.len() {
            0 => String::new(),
            n => format!("已上传{n}个文件；标红的文件未上传，请按提示重新选择。"),
        },
        file_errors: stored.refused,
        ..Shown::default()
    };
    form_page(&state, &ctx, view, shown).await
}

async fn store_all(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    mut multipart: Multipart,
) -> AppResult<super::files::Stored> {
    let a = applicant(state, ctx).await?;
    let t = flow::own(state, &a, id, GroupAction::Upload).await?;
    let mut done = super::files::Stored::default();
    while let Some((code, file)) = super::files::next_file(&mut multipart).await? {
        let outcome = match flow::upload_slot(state, &t, &code).await {
            Ok(slot) => flow::upload(state, &a, &t, &slot, &file).await,
            Err(e) => Err(e),
        };
        done.record(code, &file, outcome)?;
    }
    done.none_chosen();
    Ok(done)
}

/// 【提交】: read-only from now on; the county office is told.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let t = flow::own(&state, &a, id, GroupAction::Submit).await?;
    match flow::submit(&state, &a, &t).await {
        Ok(()) => Ok(Redirect::to(&format!("/groups/{id}?ok=group_submitted")).into_response()),
        Err(Error::Invalid(errors)) => refused(&state, &ctx, &a, &t, &errors).await,
        Err(e) => Err(e.into()),
    }
}

/// 【打印】: the PDF 《邀请外国人来华申请表》 of the saved version (or, without a CJK font, the
/// same form as an A4 HTML page the browser prints).
pub async fn print(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    group_view::printed(flow::print(&state, a.principal(), id).await?)
}

/// A file of a group, to whoever may see the group.
pub async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    flow::file(&state, ctx.principal()?, id, file_id).await?;
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
    progress: Progress,
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

/// 申报历史查询 (2.3.6–2.3.7).
pub async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(h): Query<HistoryQuery>,
) -> AppResult<Response> {
    let a = applicant(&state, &ctx).await?;
    let mut error = String::new();
    let from = parse_date(&h.from);
    let to = parse_date(&h.to);
    if (!h.from.trim().is_empty() && from.is_none()) || (!h.to.trim().is_empty() && to.is_none()) {
        error = "日期格式应为2026-01-31".into();
    }
    let filter = Filter {
        from,
        to,
        state: GroupState::parse(h.state.trim()),
        text: h.q.clone(),
    };
    let page = h.page.unwrap_or(1).max(1);
    let (rows, total) =
        match flow::history(&state, &a, &filter, HISTORY_PAGE, (page - 1) * HISTORY_PAGE).await {
            Ok(found) => found,
            Err(Error::Invalid(e)) => {
                error = e.first().unwrap_or_default().to_string();
                (Vec::new(), 0)
            }
            Err(e) => return Err(e.into()),
        };
    let query = format!(
        "from={}&to={}&state={}&q={}",
        super::ctx::urlencode(h.from.trim()),
        super::ctx::urlencode(h.to.trim()),
        super::ctx::urlencode(h.state.trim()),
        super::ctx::urlencode(h.q.trim())
    );
    let progress = flow::progress(&state, &a).await?;
    render(HistoryPage {
        l: layout(&state, &ctx, "申报历史查询").await?,
        progress,
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

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    mrz: String,
}

/// What the page's script is told of a pasted zone.
#[derive(serde::Serialize)]
struct ZoneRead {
    ok: bool,
    /// The reason a zone was refused.
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    /// The filled fields by name (`surname`, `sex`, …), when read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<(&'static str, String)>,
    /// A field the zone could not fill, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<(&'static str, String)>,
}

/// 【读取机读区】 with the page's script: the zone read by the same function as the button's
/// form post, answered in JSON without leaving the page.
pub async fn read_zone(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ZoneForm>,
) -> AppResult<Response> {
    let _ = applicant(&state, &ctx).await?;
    let lists = crate::workflow::reference::lists(&state).await?;
    let answer = match entry::read_zone(&lists, &VisitorForm::default(), &f.mrz, &state) {
        Ok(read) => {
            let v = read.form;
            let mut fields = vec![
                ("surname", v.surname),
                ("given_name", v.given_name),
                ("sex", v.sex),
                ("birth_date", v.birth_date),
                ("passport_no", v.passport_no),
                ("passport_expiry", v.passport_expiry),
            ];
            if read.warning.is_none() {
                fields.push(("nationality", v.nationality));
            }
            ZoneRead {
                ok: true,
                message: String::new(),
                fields,
                warning: read.warning,
            }
        }
        Err(message) => ZoneRead {
            ok: false,
            message,
            fields: Vec::new(),
            warning: None,
        },
    };
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(answer),
    )
        .into_response())
}
