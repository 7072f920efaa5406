//! Administration (issue 6): reference data — countries, missions, ports, purposes, cost
//! bearers, districts and registration attachment types. Entries are added, edited, retired and
//! restored; a retired entry stays on old records and is no longer offered by the forms. A
//! district that still has units cannot be retired.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::{urlencode, Ctx};
use super::error::AppResult;
use super::page::render;
use super::page::{layout, Layout};
use crate::domain::fields::{optional, FieldErrors, MAX_SEARCH};
use crate::domain::refdata::{Field, Input, Spec};
use crate::state::AppState;
use crate::store::refadmin::Entry;
use crate::workflow::error::Error;
use crate::workflow::refdata::{self, Posted};

/// A form field as the templates render it.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// "text", "select" or "check".
    pub widget: &'static str,
    pub value: String,
    /// (value, label, type-to-find keys: empty for short lists).
    pub options: Vec<(String, String, String)>,
    /// Whether the select gets type-to-find (`static/find.js`): a country field.
    pub find: bool,
    /// Shown, not editable (the key of an existing entry).
    pub fixed: bool,
    pub required: bool,
    pub max: usize,
}

/// One row of a list.
pub struct RowView {
    pub href: String,
    pub cells: Vec<String>,
    pub retired: bool,
}

/// Countries as (alpha3, "name (alpha3)", type-to-find keys): the active ones plus `keep`,
/// in pinyin order (as `refadmin::list` gives them).
fn country_options(countries: &[Entry], keep: &str) -> Vec<(String, String, String)> {
    countries
        .iter()
        .filter(|c| !c.retired || c.key == keep)
        .map(|c| {
            let label = if c.retired {
                format!("{}（{}，已停用）", c.get("name_zh"), c.key)
            } else {
                format!("{}（{}）", c.get("name_zh"), c.key)
            };
            let en: String = c.get("name_en").split_whitespace().collect();
            let keys = crate::collate::find_keys(&[c.get("name_zh")], &[&c.key, &en]);
            (c.key.clone(), label, keys)
        })
        .collect()
}

/// The form's fields with their values; `countries` are every country (for a country field).
fn fields(
    spec: &Spec,
    countries: &[Entry],
    values: &dyn Fn(&str) -> String,
    existing: bool,
) -> Vec<FieldView> {
    spec.fields
        .iter()
        .map(|f| {
            let value = values(f.name);
            let (widget, options) = match f.input {
                Input::Choice(c) => (
                    "select",
                    c.iter()
                        .map(|(v, l)| (v.to_string(), l.to_string(), String::new()))
                        .collect(),
                ),
                Input::Country => ("select", country_options(countries, &value)),
                Input::Check => ("check", Vec::new()),
                Input::Text | Input::Sort => ("text", Vec::new()),
            };
            FieldView {
                name: f.name,
                label: f.label,
                hint: f.hint,
                widget,
                value,
                options,
                find: f.input == Input::Country,
                fixed: existing && f.key,
                required: f.required,
                max: f.max,
            }
        })
        .collect()
}

fn display(f: &Field, value: &str, countries: &BTreeMap<String, String>) -> String {
    match f.input {
        Input::Choice(c) => c
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, l)| l.to_string())
            .unwrap_or_else(|| value.to_string()),
        Input::Check => if value == "1" { "是" } else { "否" }.to_string(),
        Input::Country => countries
            .get(value)
            .map(|n| format!("{n}（{value}）"))
            .unwrap_or_else(|| value.to_string()),
        Input::Text | Input::Sort => value.to_string(),
    }
}

fn href(spec: &Spec, key: &str) -> String {
    format!("/admin/refdata/{}/{}", spec.slug, urlencode(key))
}

// ---- overview ----

pub struct ListSummary {
    pub slug: &'static str,
    pub label: &'static str,
    pub note: &'static str,
    pub active: i64,
    pub retired: i64,
}

#[derive(Template)]
#[template(path = "admin_refdata.html")]
struct OverviewPage {
    l: Layout,
    lists: Vec<ListSummary>,
}

pub async fn overview(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let lists = refdata::overview(&state, ctx.principal()?)
        .await?
        .into_iter()
        .map(|(s, active, retired)| ListSummary {
            slug: s.slug,
            label: s.label,
            note: s.note,
            active,
            retired,
        })
        .collect();
    render(OverviewPage {
        l: layout(&state, &ctx, "基础数据管理").await?,
        lists,
    })
}

// ---- a list, and adding to it ----

#[derive(Template)]
#[template(path = "admin_refdata_list.html")]
struct ListPage {
    l: Layout,
    spec: &'static Spec,
    headers: Vec<&'static str>,
    rows: Vec<RowView>,
    total: usize,
    q: String,
    form: Vec<FieldView>,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    spec: &'static Spec,
    q: &str,
    posted: Option<&Posted>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let entries = refdata::entries(state, p, spec).await?;
    let all_countries = refdata::countries_for(state, p, spec).await?;
    let countries: BTreeMap<String, String> = all_countries
        .iter()
        .map(|c| (c.key.clone(), c.get("name_zh").to_string()))
        .collect();
    let needle = q.trim().to_lowercase();
    let total = entries.len();
    let rows: Vec<RowView> = entries
        .iter()
        .map(|e| RowView {
            href: href(spec, &e.key),
            cells: spec
                .fields
                .iter()
                .map(|f| display(f, e.get(f.name), &countries))
                .collect(),
            retired: e.retired,
        })
        .filter(|r| needle.is_empty() || r.cells.iter().any(|c| c.to_lowercase().contains(&needle)))
        .collect();
    let value = |name: &str| {
        posted
            .and_then(|p| p.get(name).cloned())
            .unwrap_or_default()
    };
    let form = fields(spec, &all_countries, &value, false);
    render(ListPage {
        l: layout(state, ctx, spec.label).await?,
        spec,
        headers: spec.fields.iter().map(|f| f.label).collect(),
        rows,
        total,
        q: q.trim().to_string(),
        form,
        errors,
    })
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(list): Path<String>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let spec = refdata::spec(&list)?;
    let mut errors = FieldErrors::new();
    let q = optional(&mut errors, "q", &q.q, "查找内容", MAX_SEARCH);
    list_page(&state, &ctx, spec, &q, None, errors).await
}

pub async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(list): Path<String>,
    Form(posted): Form<Posted>,
) -> AppResult<Response> {
    let spec = refdata::spec(&list)?;
    match refdata::add(&state, ctx.principal()?, spec, &posted).await {
        Ok(key) => Ok(Redirect::to(&format!("{}?ok=added", href(spec, &key))).into_response()),
        Err(Error::Invalid(errors)) => {
            list_page(&state, &ctx, spec, "", Some(&posted), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- one entry: edit, retire, restore ----

#[derive(Template)]
#[template(path = "admin_refdata_edit.html")]
struct EditPage {
    l: Layout,
    spec: &'static Spec,
    entry: Entry,
    href: String,
    form: Vec<FieldView>,
    errors: FieldErrors,
    /// Why retiring was refused.
    refusal: String,
    /// For an attachment type: its template file's name, if it has one.
    template: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ItemQuery {
    #[serde(default)]
    ok: String,
}

/// What the edit page shows besides the entry.
#[derive(Default)]
struct Shown<'a> {
    /// The posted values to show again (with `errors`).
    posted: Option<&'a Posted>,
    errors: FieldErrors,
    refusal: String,
    flash: &'static str,
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    spec: &'static Spec,
    entry: Entry,
    shown: Shown<'_>,
) -> AppResult<Response> {
    let Shown {
        posted,
        errors,
        refusal,
        flash,
    } = shown;
    let value = |name: &str| match posted.and_then(|p| p.get(name)) {
        Some(v) if !(spec.field(name).is_some_and(|f| f.key)) => v.clone(),
        _ => entry.get(name).to_string(),
    };
    let p = ctx.principal()?;
    let countries = refdata::countries_for(state, p, spec).await?;
    let form = fields(spec, &countries, &value, true);
    let template = refdata::template_name(state, p, spec, &entry).await?;
    let mut l = layout(state, ctx, &format!("{}：{}", spec.label, entry.name(spec))).await?;
    l.flash = flash.to_string();
    render(EditPage {
        l,
        spec,
        href: href(spec, &entry.key),
        entry,
        form,
        errors,
        refusal,
        template,
    })
}

pub async fn item(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((list, item)): Path<(String, String)>,
    Query(q): Query<ItemQuery>,
) -> AppResult<Response> {
    let spec = refdata::spec(&list)?;
    let entry = refdata::entry(&state, ctx.principal()?, spec, &item).await?;
    let flash = match q.ok.as_str() {
        "added" => "已新增。",
        "saved" => "已保存。",
        "retired" => "已停用：不再供选择，已有记录仍显示其名称。",
        "restored" => "已恢复使用。",
        _ => "",
    };
    edit_page(
        &state,
        &ctx,
        spec,
        entry,
        Shown {
            flash,
            ..Shown::default()
        },
    )
    .await
}

pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((list, item)): Path<(String, String)>,
    Form(posted): Form<Posted>,
) -> AppResult<Response> {
    let spec = refdata::spec(&list)?;
    let p = ctx.principal()?;
    let entry = refdata::entry(&state, p, spec, &item).await?;
    match refdata::save(&state, p, spec, &entry, &posted).await {
        Ok(()) => Ok(Redirect::to(&format!("{}?ok=saved", href(spec, &entry.key))).into_response()),
        Err(Error::Invalid(errors)) => {
            edit_page(
                &state,
                &ctx,
                spec,
                entry,
                Shown {
                    posted: Some(&posted),
                    errors,
                    ..Shown::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn retire(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((list, item)): Path<(String, String)>,
) -> AppResult<Response> {
    set_retired(state, ctx, &list, &item, true).await
}

pub async fn restore(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((list, item)): Path<(String, String)>,
) -> AppResult<Response> {
    set_retired(state, ctx, &list, &item, false).await
}

async fn set_retired(
    state: AppState,
    ctx: Ctx,
    list: &str,
    item: &str,
    retired: bool,
) -> AppResult<Response> {
    let spec = refdata::spec(list)?;
    let p = ctx.principal()?;
    let entry = refdata::entry(&state, p, spec, item).await?;
    let target = href(spec, &entry.key);
    match refdata::set_retired(&state, p, spec, &entry, retired).await {
        Ok(true) => {
            let ok = if retired { "retired" } else { "restored" };
            Ok(Redirect::to(&format!("{target}?ok={ok}")).into_response())
        }
        // Already so: nothing changed.
        Ok(false) => Ok(Redirect::to(&target).into_response()),
        Err(Error::Invalid(e)) => {
            edit_page(
                &state,
                &ctx,
                spec,
                entry,
                Shown {
                    refusal: e.first().unwrap_or_default().to_string(),
                    ..Shown::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
