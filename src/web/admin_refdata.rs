//! Administration (issue 6): reference data — countries, missions, ports, purposes, cost
//! bearers, districts and registration attachment types. Entries are added, edited, retired and
//! restored; a retired entry stays on old records and is no longer offered by the forms. A
//! district that still has units cannot be retired.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::{urlencode, Ctx};
use super::error::{AppError, AppResult};
use super::page::render;
use super::page::{layout, Layout};
use crate::db::is_unique_violation;
use crate::domain::fields::{required, FieldErrors};
use crate::state::AppState;
use crate::store::refadmin::{self, Entry, Input, Rule, Spec, Value, SPECS};
use crate::store::{audit, Conn};

type Posted = HashMap<String, String>;

fn spec_of(slug: &str) -> AppResult<&'static Spec> {
    refadmin::spec(slug).ok_or(AppError::NotFound)
}

/// A form field as the templates render it.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// "text", "select" or "check".
    pub widget: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
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

/// Countries as (alpha3, "name (alpha3)"), every one or the active ones plus `keep`.
async fn country_options(state: &AppState, keep: &str) -> AppResult<Vec<(String, String)>> {
    let spec = spec_of("countries")?;
    Ok(refadmin::list(state.pool(), spec)
        .await?
        .into_iter()
        .filter(|c| !c.retired || c.key == keep)
        .map(|c| {
            let label = if c.retired {
                format!("{}（{}，已停用）", c.get("name_zh"), c.key)
            } else {
                format!("{}（{}）", c.get("name_zh"), c.key)
            };
            (c.key, label)
        })
        .collect())
}

async fn fields(
    state: &AppState,
    spec: &Spec,
    values: &(dyn Fn(&str) -> String + Sync),
    existing: bool,
) -> AppResult<Vec<FieldView>> {
    let mut out = Vec::new();
    for f in spec.fields {
        let value = values(f.name);
        let (widget, options) = match f.input {
            Input::Choice(c) => (
                "select",
                c.iter()
                    .map(|(v, l)| (v.to_string(), l.to_string()))
                    .collect(),
            ),
            Input::Country => ("select", country_options(state, &value).await?),
            Input::Check => ("check", Vec::new()),
            Input::Text | Input::Sort => ("text", Vec::new()),
        };
        out.push(FieldView {
            name: f.name,
            label: f.label,
            hint: f.hint,
            widget,
            value,
            options,
            fixed: existing && f.key,
            required: f.required,
            max: f.max,
        });
    }
    Ok(out)
}

fn display(f: &refadmin::Field, value: &str, countries: &BTreeMap<String, String>) -> String {
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
    let mut lists = Vec::new();
    for s in SPECS {
        let (active, retired) = refadmin::counts(state.pool(), s).await?;
        lists.push(ListSummary {
            slug: s.slug,
            label: s.label,
            note: s.note,
            active,
            retired,
        });
    }
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
    let entries = refadmin::list(state.pool(), spec).await?;
    let countries: BTreeMap<String, String> =
        if spec.fields.iter().any(|f| f.input == Input::Country) {
            refadmin::list(state.pool(), spec_of("countries")?)
                .await?
                .into_iter()
                .map(|c| (c.key.clone(), c.get("name_zh").to_string()))
                .collect()
        } else {
            BTreeMap::new()
        };
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
    let form = fields(state, spec, &value, false).await?;
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
    let spec = spec_of(&list)?;
    list_page(&state, &ctx, spec, &q.q, None, FieldErrors::new()).await
}

/// Checks a posted entry against the list: the values to store, or the messages per field.
/// `existing` is the entry being edited (its key is fixed, its own values are no conflict).
async fn check(
    conn: &mut Conn,
    spec: &Spec,
    posted: &Posted,
    existing: Option<&Entry>,
) -> AppResult<Result<Vec<(&'static str, Value)>, FieldErrors>> {
    let mut e = FieldErrors::new();
    let mut out = Vec::new();
    for f in spec.fields {
        if f.key && existing.is_some() {
            continue;
        }
        let raw = posted.get(f.name).map(String::as_str).unwrap_or("");
        match f.input {
            Input::Check => {
                out.push((f.name, Value::Int(i64::from(raw == "1"))));
                continue;
            }
            Input::Sort => {
                let t = raw.trim();
                if t.is_empty() {
                    out.push((f.name, Value::Int(refadmin::next_sort(conn, spec).await?)));
                } else {
                    match t.parse::<i64>() {
                        Ok(n) if (0..=999_999_999).contains(&n) => {
                            out.push((f.name, Value::Int(n)))
                        }
                        _ => e.add(f.name, "排序号应为0至999999999之间的整数"),
                    }
                }
                continue;
            }
            _ => {}
        }
        let v = if f.required {
            required(&mut e, f.name, raw, f.label, f.max)
        } else {
            let v = raw.trim().to_string();
            if v.chars().count() > f.max {
                e.add(f.name, format!("{}不能超过{}个字符", f.label, f.max));
            } else if v.chars().any(char::is_control) {
                e.add(f.name, format!("{}含有无效字符", f.label));
            }
            v
        };
        if e.has(f.name) {
            continue;
        }
        match f.rule {
            Rule::Upper(n) => {
                if v.chars().count() != n || !v.chars().all(|c| c.is_ascii_uppercase()) {
                    e.add(f.name, format!("{}应为{n}个大写英文字母", f.label));
                    continue;
                }
            }
            Rule::Code => {
                let mut chars = v.chars();
                let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
                    && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    e.add(
                        f.name,
                        format!(
                            "{}须以小写英文字母开头，只含小写字母、数字和下划线",
                            f.label
                        ),
                    );
                    continue;
                }
            }
            Rule::None => {}
        }
        match f.input {
            Input::Choice(c) if !c.iter().any(|(x, _)| *x == v) => {
                e.add(f.name, format!("请选择{}", f.label));
                continue;
            }
            Input::Country => {
                let unchanged = existing.is_some_and(|x| x.get(f.name) == v);
                let country = refadmin::get_on(conn, spec_of("countries")?, &v).await?;
                match country {
                    Some(c) if !c.retired || unchanged => {}
                    Some(_) => {
                        e.add(f.name, "该国家已停用，请选择其他国家");
                        continue;
                    }
                    None => {
                        e.add(f.name, format!("请选择{}", f.label));
                        continue;
                    }
                }
            }
            _ => {}
        }
        if f.unique
            && refadmin::taken(conn, spec, f.name, &v, existing.map(|x| x.key.as_str())).await?
        {
            e.add(f.name, format!("{}“{v}”已存在", f.label));
            continue;
        }
        out.push((f.name, Value::Text(v)));
    }
    Ok(if e.is_empty() { Ok(out) } else { Err(e) })
}

/// The message for a unique violation that slipped past the checks (two administrators at once).
fn unique_error(spec: &Spec) -> FieldErrors {
    let mut e = FieldErrors::new();
    if let Some(f) = spec.fields.iter().find(|f| f.unique) {
        e.add(f.name, format!("{}已存在", f.label));
    }
    e
}

fn text_of(values: &[(&str, Value)], name: &str) -> String {
    values
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| match v {
            Value::Text(s) => s.clone(),
            Value::Int(i) => i.to_string(),
        })
        .unwrap_or_default()
}

pub async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(list): Path<String>,
    Form(posted): Form<Posted>,
) -> AppResult<Response> {
    let spec = spec_of(&list)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let values = match check(tx.conn(), spec, &posted, None).await? {
        Ok(v) => v,
        Err(errors) => {
            drop(tx);
            return list_page(&state, &ctx, spec, "", Some(&posted), errors).await;
        }
    };
    let key = match refadmin::insert(tx.conn(), spec, &values).await {
        Ok(k) => k,
        Err(err) if is_unique_violation(&err) => {
            drop(tx);
            return list_page(&state, &ctx, spec, "", Some(&posted), unique_error(spec)).await;
        }
        Err(err) => return Err(err.into()),
    };
    let name = text_of(&values, spec.name_field);
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "refdata.add",
        spec.object_type,
        &spec.object_id(&key),
        &format!("{}：{name}", spec.label),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?ok=added", href(spec, &key))).into_response())
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

async fn entry_of(state: &AppState, spec: &Spec, item: &str) -> AppResult<Entry> {
    refadmin::get(state.pool(), spec, item)
        .await?
        .ok_or(AppError::NotFound)
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
    let form = fields(state, spec, &value, true).await?;
    let template = if spec.table == "attachment_types" {
        let id = entry.key.parse::<i64>().unwrap_or_default();
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT template_name FROM attachment_types WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(state.pool())
        .await?
        .flatten()
    } else {
        None
    };
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
    let spec = spec_of(&list)?;
    let entry = entry_of(&state, spec, &item).await?;
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
    let spec = spec_of(&list)?;
    let entry = entry_of(&state, spec, &item).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let values = match check(tx.conn(), spec, &posted, Some(&entry)).await? {
        Ok(v) => v,
        Err(errors) => {
            drop(tx);
            return edit_page(
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
            .await;
        }
    };
    let changed: Vec<String> = values
        .iter()
        .filter_map(|(name, _)| {
            let old = entry.get(name);
            let new = text_of(&values, name);
            let label = spec.field(name).map(|f| f.label).unwrap_or(name);
            (old != new).then(|| format!("{label}：{old} → {new}"))
        })
        .collect();
    if changed.is_empty() {
        drop(tx);
        return Ok(Redirect::to(&format!("{}?ok=saved", href(spec, &entry.key))).into_response());
    }
    match refadmin::update(tx.conn(), spec, &entry.key, &values).await {
        Ok(true) => {}
        Ok(false) => return Err(AppError::NotFound),
        Err(err) if is_unique_violation(&err) => {
            drop(tx);
            return edit_page(
                &state,
                &ctx,
                spec,
                entry,
                Shown {
                    posted: Some(&posted),
                    errors: unique_error(spec),
                    ..Shown::default()
                },
            )
            .await;
        }
        Err(err) => return Err(err.into()),
    }
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "refdata.update",
        spec.object_type,
        &spec.object_id(&entry.key),
        &format!(
            "{}：{}；{}",
            spec.label,
            entry.name(spec),
            changed.join("；")
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?ok=saved", href(spec, &entry.key))).into_response())
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
    let spec = spec_of(list)?;
    let entry = entry_of(&state, spec, item).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if retired && spec.table == "districts" {
        let id = entry.key.parse::<i64>().map_err(|_| AppError::NotFound)?;
        let n = refadmin::units_in_district(tx.conn(), id).await?;
        if n > 0 {
            drop(tx);
            return edit_page(
                &state,
                &ctx,
                spec,
                entry,
                Shown {
                    refusal: format!("该县区尚有{n}家邀请单位，不能停用。"),
                    ..Shown::default()
                },
            )
            .await;
        }
    }
    let target = href(spec, &entry.key);
    if !refadmin::set_retired(tx.conn(), spec, &entry.key, retired).await? {
        // Already so: nothing to change.
        drop(tx);
        return Ok(Redirect::to(&target).into_response());
    }
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        if retired {
            "refdata.retire"
        } else {
            "refdata.restore"
        },
        spec.object_type,
        &spec.object_id(&entry.key),
        &format!("{}：{}", spec.label, entry.name(spec)),
    )
    .await?;
    tx.commit().await?;
    let ok = if retired { "retired" } else { "restored" };
    Ok(Redirect::to(&format!("{target}?ok={ok}")).into_response())
}
