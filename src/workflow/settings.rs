//! What an administrator sets for the whole site: the settings (names, office phone, time
//! limits, public holidays), the texts (notices, help) and the templates of the attachment
//! types; and how the public help and template pages read them.

use serde::Deserialize;

use super::error::{Error, Outcome};
use super::files::{self, Accept, Upload};
use super::roles::require_admin;
use crate::domain::access_log::{
    MAX_PERSONAL_DATA_YEARS, MAX_RETENTION_DAYS, MIN_PERSONAL_DATA_YEARS, MIN_RETENTION_DAYS,
};
use crate::domain::audit::ObjectType;
use crate::domain::fields::{clip, optional, required, FieldErrors};
use crate::domain::group::parse_date;
use crate::domain::principal::{Principal, Role};
use crate::domain::second_factor::{is_mandatory, roles_setting};
use crate::domain::settings::Setting;
use crate::domain::texts::Text;
use crate::state::AppState;
use crate::store::audit;
use crate::store::reference::{self, AttachmentType, Content};

/// The settings form: every editable setting as text, in [`Setting::EDITABLE`]'s order.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct SettingsInput {
    #[serde(default)]
    pub city_name: String,
    #[serde(default)]
    pub office_name: String,
    #[serde(default)]
    pub system_name: String,
    #[serde(default)]
    pub office_phone: String,
    #[serde(default)]
    pub processing_days: String,
    #[serde(default)]
    pub overdue_days: String,
    #[serde(default)]
    pub overdue_warn_days: String,
    /// "1" when overdue post-visit registrations block new applications.
    #[serde(default)]
    pub overdue_blocks_applications: String,
    /// Public holidays, dates separated by commas, spaces or lines.
    #[serde(default)]
    pub holidays: String,
    /// "1" for each role whose accounts must have a second sign-in factor.
    #[serde(default)]
    pub second_factor_county: String,
    #[serde(default)]
    pub second_factor_city: String,
    #[serde(default)]
    pub second_factor_admin: String,
    /// Days the access log is kept (at least 180).
    #[serde(default)]
    pub access_log_retention_days: String,
    /// Years visitors' personal data is kept after a group ended.
    #[serde(default)]
    pub personal_data_retention_years: String,
}

impl SettingsInput {
    /// The roles ticked as having to use a second factor.
    fn second_factor_roles(&self) -> String {
        let ticked = [
            (Role::County, &self.second_factor_county),
            (Role::City, &self.second_factor_city),
            (Role::Admin, &self.second_factor_admin),
        ];
        let roles: Vec<Role> = ticked
            .iter()
            .filter(|(_, v)| v.as_str() == "1")
            .map(|(r, _)| *r)
            .collect();
        roles_setting(&roles)
    }
}

const KEYS: [Setting; 12] = Setting::EDITABLE;

/// The settings as stored (holidays separated by commas).
pub async fn settings(state: &AppState, p: &Principal) -> Outcome<SettingsInput> {
    require_admin(p)?;
    let mut v = Vec::new();
    for k in KEYS {
        v.push(
            reference::setting(state.pool(), k)
                .await?
                .unwrap_or_default(),
        );
    }
    let mut v = v.into_iter();
    let mut next = || v.next().unwrap_or_default();
    let mut input = SettingsInput {
        city_name: next(),
        office_name: next(),
        system_name: next(),
        office_phone: next(),
        processing_days: next(),
        overdue_days: next(),
        overdue_warn_days: next(),
        overdue_blocks_applications: next(),
        holidays: next(),
        ..SettingsInput::default()
    };
    let roles = next();
    input.access_log_retention_days = next();
    input.personal_data_retention_years = next();
    let ticked = |role| {
        if is_mandatory(&roles, role) {
            "1".to_string()
        } else {
            String::new()
        }
    };
    input.second_factor_county = ticked(Role::County);
    input.second_factor_city = ticked(Role::City);
    input.second_factor_admin = ticked(Role::Admin);
    Ok(input)
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

/// The most holidays the settings hold (several years of them).
pub const MAX_HOLIDAYS: usize = 1000;

/// Checks and saves the settings; the audit entry lists what changed.
pub async fn save_settings(state: &AppState, p: &Principal, f: &SettingsInput) -> Outcome<()> {
    require_admin(p)?;
    let mut e = FieldErrors::new();
    let city = required(&mut e, "city_name", &f.city_name, "城市名称", 20);
    let office = required(&mut e, "office_name", &f.office_name, "外办名称", 50);
    let system = required(&mut e, "system_name", &f.system_name, "系统名称", 50);
    let phone = optional(
        &mut e,
        "office_phone",
        &f.office_phone,
        "市外办联系电话",
        30,
    );
    if !phone.is_empty()
        && !e.has("office_phone")
        && !crate::domain::registration::valid_phone(&phone)
    {
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
    // Left empty (a settings page opened before the field existed), the period stays as it is.
    // Below the law's minimum the message says so (网络安全法第二十一条: six months at least).
    let retention = match f.access_log_retention_days.trim().parse::<i64>() {
        _ if f.access_log_retention_days.trim().is_empty() => {
            super::access::retention_days(state).await?.to_string()
        }
        Ok(n) if n < MIN_RETENTION_DAYS => {
            e.add(
                "access_log_retention_days",
                format!(
                    "访问记录至少保存{MIN_RETENTION_DAYS}天（《网络安全法》第二十一条：不少于六个月）"
                ),
            );
            n.to_string()
        }
        _ => number(
            &mut e,
            "access_log_retention_days",
            &f.access_log_retention_days,
            "访问记录保存期限",
            MIN_RETENTION_DAYS,
            MAX_RETENTION_DAYS,
        ),
    };
    // Left empty (a page opened before the field existed), it stays as it is.
    let personal_years = if f.personal_data_retention_years.trim().is_empty() {
        super::retention::years(state).await?.to_string()
    } else {
        number(
            &mut e,
            "personal_data_retention_years",
            &f.personal_data_retention_years,
            "个人信息保存期限",
            MIN_PERSONAL_DATA_YEARS,
            MAX_PERSONAL_DATA_YEARS,
        )
    };
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
                    format!(
                        "“{}”不是有效的日期，请按2026-10-01的格式每行填写一个",
                        clip(part, 20)
                    ),
                );
                break;
            }
        }
    }
    holidays.sort();
    holidays.dedup();
    if holidays.len() > MAX_HOLIDAYS {
        e.add(
            "holidays",
            format!("法定节假日最多填写{MAX_HOLIDAYS}个日期，请删去已过去的年份"),
        );
    }
    if !e.is_empty() {
        return Err(Error::Invalid(e));
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
        &f.second_factor_roles(),
        retention.as_str(),
        personal_years.as_str(),
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
        audit::write(
            tx.conn(),
            &p.actor,
            now,
            "settings.update",
            ObjectType::Settings,
            "-",
            &changed.join("；"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A text as an administrator edits it.
pub async fn text(state: &AppState, p: &Principal, text: Text) -> Outcome<Content> {
    require_admin(p)?;
    Ok(reference::text(state.pool(), text).await?)
}

/// Saves a text (Markdown, not empty, 50,000 characters at most).
pub async fn save_text(state: &AppState, p: &Principal, text: Text, body: &str) -> Outcome<()> {
    require_admin(p)?;
    let body = body.replace("\r\n", "\n").trim().to_string();
    if body.is_empty() {
        return Err(Error::invalid("body", "内容不能为空"));
    }
    if body.chars().count() > 50_000 {
        return Err(Error::invalid("body", "内容不能超过50000个字符"));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    reference::set_text(tx.conn(), text, &body, now).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "content.update",
        ObjectType::Content,
        text.key(),
        text.label(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// 系统帮助 (public): the help text (Markdown) with `{office_contact}` replaced by the office
/// and its phone.
pub async fn help(state: &AppState) -> Outcome<String> {
    let c = reference::text(state.pool(), Text::Help).await?;
    let phone = reference::setting(state.pool(), Setting::OfficePhone)
        .await?
        .unwrap_or_default();
    let contact = if phone.trim().is_empty() {
        format!(
            "请与{}联系",
            crate::workflow::reference::site(state).await?.office_name
        )
    } else {
        format!(
            "{}，电话 {}",
            crate::workflow::reference::site(state).await?.office_name,
            phone.trim()
        )
    };
    Ok(c.body.replace("{office_contact}", &contact))
}

/// Which records an attachment type belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A unit's registration.
    Unit,
    Group,
    /// A post-visit registration.
    Visit,
}

impl Scope {
    const ALL: [Scope; 3] = [Scope::Unit, Scope::Group, Scope::Visit];
    fn as_str(self) -> &'static str {
        match self {
            Scope::Unit => "unit",
            Scope::Group => "group",
            Scope::Visit => "visit",
        }
    }
}

/// The active attachment types by scope (scopes without any left out); `all` keeps the types
/// without a template, else only those with one are listed.
async fn types_by_scope(state: &AppState, all: bool) -> Outcome<Vec<(Scope, Vec<AttachmentType>)>> {
    let mut out = Vec::new();
    for scope in Scope::ALL {
        let items: Vec<AttachmentType> = reference::attachment_types(state.pool(), scope.as_str())
            .await?
            .into_iter()
            .filter(|t| all || t.template_file_id.is_some())
            .collect();
        if !items.is_empty() {
            out.push((scope, items));
        }
    }
    Ok(out)
}

/// 模板下载 (public): the attachment types that have a template.
pub async fn templates(state: &AppState) -> Outcome<Vec<(Scope, Vec<AttachmentType>)>> {
    types_by_scope(state, false).await
}

/// 样式模板管理: every active attachment type, so that a type added without a template can
/// get one.
pub async fn all_templates(
    state: &AppState,
    p: &Principal,
) -> Outcome<Vec<(Scope, Vec<AttachmentType>)>> {
    require_admin(p)?;
    types_by_scope(state, true).await
}

/// An attachment type whose template is replaced: its id and name.
pub struct TemplateType {
    pub id: i64,
    pub name: String,
}

/// What a retired attachment type's template replacement is told.
const TYPE_RETIRED: &str = "该附件类型已停用，不能更换模板；请先在基础数据中恢复该类型";

/// An attachment type in use whose template the administrator replaces: checked before the
/// upload is read (and again when it is stored).
pub async fn template_type(state: &AppState, p: &Principal, id: i64) -> Outcome<TemplateType> {
    require_admin(p)?;
    let name = reference::attachment_type_name(state.pool(), id)
        .await?
        .ok_or(Error::NotFound)?;
    if reference::attachment_type_retired(state.pool(), id).await? != Some(false) {
        return Err(Error::Stale(TYPE_RETIRED.into()));
    }
    Ok(TemplateType { id, name })
}

/// Replaces the template file of an attachment type (PDF, Word, Excel or RTF). A refusal of
/// the file names the type.
pub async fn replace_template(
    state: &AppState,
    p: &Principal,
    t: &TemplateType,
    upload: &Upload,
) -> Outcome<()> {
    require_admin(p)?;
    let checked = match files::check(upload, Accept::Template, "file") {
        Err(Error::Invalid(e)) => {
            let why = e.first().unwrap_or_default().to_string();
            return Err(Error::invalid("file", format!("{}：{why}", t.name)));
        }
        other => other?,
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !reference::lock_active_type(tx.conn(), t.id).await? {
        return Err(Error::Stale(TYPE_RETIRED.into()));
    }
    let file_id = files::store(state, tx.conn(), checked, Some(p.user_id), now).await?;
    reference::set_template(tx.conn(), t.id, file_id, &upload.name).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "template.replace",
        ObjectType::AttachmentType,
        &t.id.to_string(),
        &format!("{}：{}", t.name, upload.name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
