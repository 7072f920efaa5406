//! Administration (issue 6, third part): settings (names, office phone, time limits, public
//! holidays) and the texts (registration notice, invitation notice, help page) as Markdown.

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
use super::page::{layout, Layout};
use crate::domain::fields::{required, FieldErrors};
use crate::domain::group::parse_date;
use crate::domain::settings::Setting;
use crate::state::AppState;
use crate::store::{audit, reference};

#[derive(Deserialize, Default, Clone)]
pub struct SettingsForm {
    #[serde(default)]
    city_name: String,
    #[serde(default)]
    office_name: String,
    #[serde(default)]
    system_name: String,
    #[serde(default)]
    office_phone: String,
    #[serde(default)]
    processing_days: String,
    #[serde(default)]
    overdue_days: String,
    #[serde(default)]
    overdue_warn_days: String,
    #[serde(default)]
    overdue_blocks_applications: String,
    #[serde(default)]
    holidays: String,
}

const KEYS: [Setting; 9] = Setting::EDITABLE;

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    l: Layout,
    form: SettingsForm,
    errors: FieldErrors,
}

async fn current(state: &AppState) -> AppResult<SettingsForm> {
    let mut v = Vec::new();
    for k in KEYS {
        v.push(
            reference::setting(state.pool(), k)
                .await?
                .unwrap_or_default(),
        );
    }
    Ok(SettingsForm {
        city_name: v[0].clone(),
        office_name: v[1].clone(),
        system_name: v[2].clone(),
        office_phone: v[3].clone(),
        processing_days: v[4].clone(),
        overdue_days: v[5].clone(),
        overdue_warn_days: v[6].clone(),
        overdue_blocks_applications: v[7].clone(),
        holidays: v[8].replace(',', "\n"),
    })
}

pub async fn settings_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let mut l = layout(&state, &ctx, "系统设置").await?;
    if q.ok == "saved" {
        l.flash = "设置已保存。".into();
    }
    render(SettingsPage {
        l,
        form: current(&state).await?,
        errors: FieldErrors::new(),
    })
}

fn number(
    e: &mut FieldErrors,
    field: &str,
    value: &str,
    label: &str,
    min: i64,
    max: i64,
) -> String {
    match value.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => n.to_string(),
        _ => {
            e.add(field, format!("{label}应为{min}至{max}之间的整数"));
            value.trim().to_string()
        }
    }
}

pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<SettingsForm>,
) -> AppResult<Response> {
    let mut e = FieldErrors::new();
    let city = required(&mut e, "city_name", &f.city_name, "城市名称", 20);
    let office = required(&mut e, "office_name", &f.office_name, "外办名称", 50);
    let system = required(&mut e, "system_name", &f.system_name, "系统名称", 50);
    let phone = f.office_phone.trim().to_string();
    if !phone.is_empty() && !crate::domain::registration::valid_phone(&phone) {
        e.add("office_phone", "请输入正确的电话号码，如0519-85680000");
    }
    let processing = number(
        &mut e,
        "processing_days",
        &f.processing_days,
        "办理时限",
        1,
        60,
    );
    let overdue = number(
        &mut e,
        "overdue_days",
        &f.overdue_days,
        "销签逾期天数",
        1,
        365,
    );
    let warn = number(
        &mut e,
        "overdue_warn_days",
        &f.overdue_warn_days,
        "提示前的宽限天数",
        0,
        365,
    );
    let mut holidays = Vec::new();
    for part in f
        .holidays
        .split([',', '\n', ' ', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match parse_date(part) {
            Some(d) => holidays.push(d.to_string()),
            None => {
                e.add(
                    "holidays",
                    format!("“{part}”不是有效的日期，请按2026-10-01的格式每行填写一个"),
                );
                break;
            }
        }
    }
    holidays.sort();
    holidays.dedup();
    if !e.is_empty() {
        return render(SettingsPage {
            l: layout(&state, &ctx, "系统设置").await?,
            form: f,
            errors: e,
        });
    }
    let blocks = if f.overdue_blocks_applications == "1" {
        "1"
    } else {
        "0"
    };
    let values = [
        city.as_str(),
        office.as_str(),
        system.as_str(),
        phone.as_str(),
        processing.as_str(),
        overdue.as_str(),
        warn.as_str(),
        blocks,
        &holidays.join(","),
    ];
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let mut changed = Vec::new();
    for (k, v) in KEYS.iter().zip(values) {
        let old = reference::setting(state.pool(), *k)
            .await?
            .unwrap_or_default();
        if old != v {
            reference::set_setting(tx.conn(), *k, v).await?;
            changed.push(format!("{}: {old} → {v}", k.key()));
        }
    }
    if !changed.is_empty() {
        audit::record(
            tx.conn(),
            &ctx.actor(),
            now,
            "settings.update",
            "settings",
            "-",
            &changed.join("；"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings?ok=saved").into_response())
}

/// The texts an administrator edits.
const TEXTS: [(&str, &str); 3] = [
    ("registration_notice", "注册须知"),
    ("invitation_notice", "邀请外国人来华须知"),
    ("help", "系统帮助"),
];

#[derive(Template)]
#[template(path = "admin_content.html")]
struct ContentPage {
    l: Layout,
    key: String,
    label: String,
    body: String,
    preview: String,
    errors: FieldErrors,
    texts: Vec<(&'static str, &'static str)>,
}

fn label_of(key: &str) -> AppResult<&'static str> {
    TEXTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .ok_or(AppError::NotFound)
}

pub async fn content_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let label = label_of(&key)?;
    let c = reference::content(state.pool(), &key).await?;
    let mut l = layout(&state, &ctx, label).await?;
    if q.ok == "saved" {
        l.flash = "已保存。".into();
    }
    render(ContentPage {
        l,
        preview: crate::markdown::render(&c.body),
        key,
        label: label.into(),
        body: c.body,
        errors: FieldErrors::new(),
        texts: TEXTS.to_vec(),
    })
}

#[derive(Deserialize, Default)]
pub struct ContentForm {
    #[serde(default)]
    body: String,
}

pub async fn save_content(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(f): Form<ContentForm>,
) -> AppResult<Response> {
    let label = label_of(&key)?;
    let body = f.body.replace("\r\n", "\n").trim().to_string();
    if body.is_empty() || body.chars().count() > 50_000 {
        let mut errors = FieldErrors::new();
        errors.add(
            "body",
            if body.is_empty() {
                "内容不能为空"
            } else {
                "内容不能超过50000个字符"
            },
        );
        return render(ContentPage {
            l: layout(&state, &ctx, label).await?,
            preview: crate::markdown::render(&f.body),
            key,
            label: label.into(),
            body: f.body,
            errors,
            texts: TEXTS.to_vec(),
        });
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE content SET body = $1, updated_at = $2 WHERE key = $3")
        .bind(body.as_str())
        .bind(now)
        .bind(key.as_str())
        .execute(tx.conn())
        .await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "content.update",
        "content",
        &key,
        label,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/content/{key}?ok=saved")).into_response())
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    object_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    l: Layout,
    entries: Vec<audit::Entry>,
    total: i64,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    from: String,
    to: String,
    page: i64,
    pages: i64,
    query: String,
    error: String,
}

const AUDIT_PAGE: i64 = 50;

/// The audit log, filtered by actor, action, object and time. Read-only: no route changes or
/// deletes an entry.
pub async fn audit_log(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let day = |s: &str| {
        parse_date(s)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp() - 8 * 3600)
    };
    let mut error = String::new();
    if (!q.from.trim().is_empty() && day(&q.from).is_none())
        || (!q.to.trim().is_empty() && day(&q.to).is_none())
    {
        error = "日期格式应为2026-01-31".into();
    }
    let f = audit::Filter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        object_type: q.object_type.clone(),
        object_id: q.object_id.clone(),
        from: day(&q.from),
        to: day(&q.to).map(|t| t + 86_400),
    };
    if wants_xlsx(&q.format) && error.is_empty() {
        let (entries, _) = audit::search(state.pool(), &f, MAX_ROWS, 0).await?;
        let mut sheet = Sheet::new(
            "审计日志",
            &[
                "编号",
                "时间",
                "操作人",
                "地址",
                "操作",
                "操作代码",
                "对象类型",
                "对象编号",
                "说明",
            ],
        );
        for e in &entries {
            sheet.push(vec![
                e.id.into(),
                e.at_text().into(),
                (&e.actor).into(),
                (&e.ip).into(),
                e.action_text().into(),
                (&e.action).into(),
                (&e.object_type).into(),
                (&e.object_id).into(),
                (&e.detail).into(),
            ]);
        }
        let filters = describe(&[
            ("操作人", q.actor.as_str()),
            ("操作", q.action.as_str()),
            ("对象类型", q.object_type.as_str()),
            ("对象编号", q.object_id.as_str()),
            ("日期自", q.from.as_str()),
            ("至", q.to.as_str()),
        ]);
        return respond(&state, &ctx, "audit", "审计日志", &filters, vec![sheet]).await;
    }
    let page = q.page.unwrap_or(1).max(1);
    let (entries, total) =
        audit::search(state.pool(), &f, AUDIT_PAGE, (page - 1) * AUDIT_PAGE).await?;
    let enc = super::ctx::urlencode;
    let query = format!(
        "actor={}&action={}&object_type={}&object_id={}&from={}&to={}",
        enc(q.actor.trim()),
        enc(q.action.trim()),
        enc(q.object_type.trim()),
        enc(q.object_id.trim()),
        enc(q.from.trim()),
        enc(q.to.trim())
    );
    render(AuditPage {
        l: layout(&state, &ctx, "审计日志").await?,
        entries,
        total,
        actor: q.actor.trim().into(),
        action: q.action.trim().into(),
        object_type: q.object_type.trim().into(),
        object_id: q.object_id.trim().into(),
        from: q.from.trim().into(),
        to: q.to.trim().into(),
        page,
        pages: ((total + AUDIT_PAGE - 1) / AUDIT_PAGE).max(1),
        query,
        error,
    })
}
