//! Reference data an administrator edits (the lists of `domain::refdata`): entries are added,
//! edited, retired and restored, each in one transaction with its audit entry. A district
//! that still has units cannot be retired.

use std::collections::HashMap;

use super::error::{Error, Outcome};
use super::roles::require_admin;
use crate::db::is_unique_violation;
use crate::domain::fields::{required, FieldErrors};
use crate::domain::principal::Principal;
use crate::domain::refdata::{spec as find_spec, Input, RefList, Rule, Spec, SPECS};
use crate::state::AppState;
use crate::store::refadmin::{self, Entry, Value};
use crate::store::{audit, Conn};

/// A posted entry: form field → value.
pub type Posted = HashMap<String, String>;

/// The list at `slug`.
pub fn spec(slug: &str) -> Outcome<&'static Spec> {
    find_spec(slug).ok_or(Error::NotFound)
}

fn countries_spec() -> Outcome<&'static Spec> {
    SPECS
        .iter()
        .find(|s| s.list == RefList::Countries)
        .ok_or(Error::NotFound)
}

/// Every list with its (active, retired) counts.
pub async fn overview(state: &AppState, p: &Principal) -> Outcome<Vec<(&'static Spec, i64, i64)>> {
    require_admin(p)?;
    let mut out = Vec::new();
    for s in SPECS {
        let (active, retired) = refadmin::counts(state.pool(), s).await?;
        out.push((s, active, retired));
    }
    Ok(out)
}

/// Every entry of a list, retired ones included, in display order.
pub async fn entries(state: &AppState, p: &Principal, spec: &Spec) -> Outcome<Vec<Entry>> {
    require_admin(p)?;
    Ok(refadmin::list(state.pool(), spec).await?)
}

/// Every country, retired ones included, when the list has a country field (to name them and
/// offer them); nothing otherwise.
pub async fn countries_for(state: &AppState, p: &Principal, spec: &Spec) -> Outcome<Vec<Entry>> {
    require_admin(p)?;
    if spec.fields.iter().any(|f| f.input == Input::Country) {
        Ok(refadmin::list(state.pool(), countries_spec()?).await?)
    } else {
        Ok(Vec::new())
    }
}

pub async fn entry(state: &AppState, p: &Principal, spec: &Spec, key: &str) -> Outcome<Entry> {
    require_admin(p)?;
    refadmin::get(state.pool(), spec, key)
        .await?
        .ok_or(Error::NotFound)
}

/// The name of an attachment type's template file, if the list has templates and the entry
/// has one.
pub async fn template_name(
    state: &AppState,
    p: &Principal,
    spec: &Spec,
    entry: &Entry,
) -> Outcome<Option<String>> {
    require_admin(p)?;
    if !spec.has_templates() {
        return Ok(None);
    }
    let id = entry.key.parse::<i64>().unwrap_or_default();
    Ok(refadmin::template_name(state.pool(), id).await?)
}

/// Checks a posted entry against the list: the values to store, or the messages per field.
/// `existing` is the entry being edited (its key is fixed, its own values are no conflict).
async fn check(
    conn: &mut Conn,
    spec: &Spec,
    posted: &Posted,
    existing: Option<&Entry>,
) -> Outcome<Vec<(&'static str, Value)>> {
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
            Rule::VisaCode => {
                let mut chars = v.chars();
                let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
                    && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                if !ok {
                    e.add(
                        f.name,
                        format!("{}须以大写英文字母开头，只含大写字母和数字", f.label),
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
                let country = refadmin::get_on(conn, countries_spec()?, &v).await?;
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
    if e.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(e))
    }
}

/// The refusal for a unique violation that slipped past the checks (two administrators at
/// once).
fn unique_error(spec: &Spec) -> Error {
    let mut e = FieldErrors::new();
    if let Some(f) = spec.fields.iter().find(|f| f.unique) {
        e.add(f.name, format!("{}已存在", f.label));
    }
    Error::Invalid(e)
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

/// Adds an entry to a list; returns its key.
pub async fn add(state: &AppState, p: &Principal, spec: &Spec, posted: &Posted) -> Outcome<String> {
    require_admin(p)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let values = check(tx.conn(), spec, posted, None).await?;
    let key = match refadmin::insert(tx.conn(), spec, &values).await {
        Ok(k) => k,
        Err(err) if is_unique_violation(&err) => return Err(unique_error(spec)),
        Err(err) => return Err(err.into()),
    };
    let name = text_of(&values, spec.name_field);
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "refdata.add",
        spec.object_type,
        &spec.object_id(&key),
        &format!("{}：{name}", spec.label),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// Saves an entry's values (not its key); nothing is written when nothing changed.
pub async fn save(
    state: &AppState,
    p: &Principal,
    spec: &Spec,
    entry: &Entry,
    posted: &Posted,
) -> Outcome<()> {
    require_admin(p)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let values = check(tx.conn(), spec, posted, Some(entry)).await?;
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
        return Ok(());
    }
    match refadmin::update(tx.conn(), spec, &entry.key, &values).await {
        Ok(true) => {}
        Ok(false) => return Err(Error::NotFound),
        Err(err) if is_unique_violation(&err) => return Err(unique_error(spec)),
        Err(err) => return Err(err.into()),
    }
    audit::write(
        tx.conn(),
        &p.actor,
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
    Ok(())
}

/// Retires (`true`) or restores an entry; false when it already was so. A district that
/// still has units is not retired (refused on the field `retired`).
pub async fn set_retired(
    state: &AppState,
    p: &Principal,
    spec: &Spec,
    entry: &Entry,
    retired: bool,
) -> Outcome<bool> {
    require_admin(p)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if retired && spec.list == RefList::Districts {
        let id = entry.key.parse::<i64>().map_err(|_| Error::NotFound)?;
        let n = refadmin::units_in_district(tx.conn(), id).await?;
        if n > 0 {
            return Err(Error::invalid(
                "retired",
                format!("该县区尚有{n}家邀请单位，不能停用。"),
            ));
        }
    }
    if !refadmin::set_retired(tx.conn(), spec, &entry.key, retired).await? {
        // Already so: nothing to change.
        return Ok(false);
    }
    audit::write(
        tx.conn(),
        &p.actor,
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
    Ok(true)
}
