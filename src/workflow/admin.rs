//! Administration: staff accounts (create, edit, disable, reset the password) and the inviting
//! units an administrator looks after (the dishonesty list, rebinding a lost mobile, resetting
//! the password). Only administrators may do any of it.

use serde::Deserialize;

use super::accounts::replace_password;
use super::error::{Error, Outcome};
use crate::domain::audit::ObjectType;
use crate::domain::fields::{required, too_long, FieldErrors, MAX_SEARCH};
use crate::domain::principal::{Principal, Role};
use crate::domain::registration::RegState;
use crate::domain::{LoginId, Mobile};
use crate::security::{hash_password, random_password};
use crate::state::AppState;
use crate::store::groups::{self, GroupRow};
use crate::store::reference::{self, District};
use crate::store::units::{self, Change, SearchRow, Unit};
use crate::store::users::{self, NewUser, User};
use crate::store::{audit, sessions};

use super::roles::require_admin;

/// A staff account and the name of its district.
pub struct StaffRow {
    pub u: User,
    pub district: String,
}

/// The staff account form as typed.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct StaffInput {
    #[serde(default)]
    pub login_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub district_id: String,
    /// "1" when the account is disabled.
    #[serde(default)]
    pub disabled: String,
}

/// Every staff account with its district's name.
pub async fn staff(state: &AppState, p: &Principal) -> Outcome<Vec<StaffRow>> {
    require_admin(p)?;
    let mut out = Vec::new();
    for u in users::staff(state.pool()).await? {
        let district = match u.district_id {
            Some(d) => reference::district_name(state.pool(), d).await?,
            None => String::new(),
        };
        out.push(StaffRow { u, district });
    }
    Ok(out)
}

/// The districts a new staff account may belong to.
pub async fn districts(state: &AppState, p: &Principal) -> Outcome<Vec<District>> {
    require_admin(p)?;
    Ok(reference::districts(state.pool()).await?)
}

/// The districts an existing staff account may belong to: the active ones and its own.
pub async fn districts_for(state: &AppState, p: &Principal, u: &User) -> Outcome<Vec<District>> {
    require_admin(p)?;
    let mut out = reference::districts(state.pool()).await?;
    if let Some(id) = u.district_id.filter(|id| !out.iter().any(|d| d.id == *id)) {
        if let Some(n) = reference::retired_district_name(state.pool(), id).await? {
            out.push(District {
                id,
                name: format!("{n}（已停用）"),
            });
        }
    }
    Ok(out)
}

/// Checks role and district: (role, district) or errors added.
fn role_and_district(
    input: &StaffInput,
    districts: &[District],
    e: &mut FieldErrors,
) -> Option<(Role, Option<i64>)> {
    let role = match Role::parse(input.role.trim()) {
        Some(r) if r != Role::Unit => r,
        _ => {
            e.add("role", "请选择角色");
            return None;
        }
    };
    let district = if role == Role::County {
        match input.district_id.trim().parse::<i64>() {
            Ok(id) if districts.iter().any(|d| d.id == id) => Some(id),
            _ => {
                e.add("district_id", "县区外办帐号须选择所属县区");
                return None;
            }
        }
    } else {
        None
    };
    Some((role, district))
}

/// A new staff account, and its random password (shown once, to be changed at the first
/// sign-in).
pub struct Created {
    pub login_id: String,
    pub password: String,
}

/// Creates a staff account with a random password.
pub async fn create_staff(state: &AppState, p: &Principal, input: &StaffInput) -> Outcome<Created> {
    require_admin(p)?;
    let districts = reference::districts(state.pool()).await?;
    let mut e = FieldErrors::new();
    let login = match LoginId::parse(&input.login_id) {
        Ok(l) => Some(l),
        Err(err) => {
            e.add("login_id", err.to_string());
            None
        }
    };
    let name = required(&mut e, "name", &input.name, "姓名", 50);
    let rd = role_and_district(input, &districts, &mut e);
    if let Some(l) = &login {
        if users::login_key_taken(state.pool(), &l.key()).await? {
            e.add("login_id", "该登录ID已被使用");
        }
    }
    let (Some(login), Some((role, district)), true) = (login, rd, e.is_empty()) else {
        return Err(Error::Invalid(e));
    };
    let password = random_password();
    let hash = hash_password(&password)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let id = users::insert(
        tx.conn(),
        &NewUser {
            role,
            login_id: login.as_str(),
            login_key: &login.key(),
            password_hash: &hash,
            display_name: &name,
            unit_id: None,
            district_id: district,
            must_change_password: true,
        },
        now,
    )
    .await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "staff.create",
        ObjectType::User,
        &id.to_string(),
        &format!("{} {}", role.as_str(), login.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(Created {
        login_id: login.as_str().to_string(),
        password,
    })
}

/// A staff account (not a unit's).
pub async fn staff_account(state: &AppState, p: &Principal, id: i64) -> Outcome<User> {
    require_admin(p)?;
    users::by_id(state.pool(), id)
        .await?
        .filter(|u| u.role != Role::Unit)
        .ok_or(Error::NotFound)
}

/// Saves a staff account's name, role, district and whether it is disabled; a disabled
/// account's sessions end. The last active administrator cannot be disabled or given another
/// role.
pub async fn update_staff(
    state: &AppState,
    p: &Principal,
    u: &User,
    input: &StaffInput,
) -> Outcome<()> {
    let districts = districts_for(state, p, u).await?;
    let mut e = FieldErrors::new();
    let name = required(&mut e, "name", &input.name, "姓名", 50);
    let rd = role_and_district(input, &districts, &mut e);
    let (Some((role, district)), true) = (rd, e.is_empty()) else {
        return Err(Error::Invalid(e));
    };
    let disabled = input.disabled == "1";
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !users::update_staff(tx.conn(), u.id, &name, role, district, disabled).await? {
        return Err(Error::invalid(
            "role",
            "这是最后一个启用的管理员帐号，不能停用或改为其他角色",
        ));
    }
    if disabled {
        sessions::delete_for_user(tx.conn(), u.id).await?;
    }
    let detail = format!(
        "{} → 角色{} 县区{} {}",
        u.login_id,
        role.as_str(),
        district.map(|d| d.to_string()).unwrap_or_default(),
        if disabled { "停用" } else { "启用" }
    );
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "staff.update",
        ObjectType::User,
        &u.id.to_string(),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Resets a staff account's password: the new random one, to be changed at the next sign-in.
pub async fn reset_staff_password(state: &AppState, p: &Principal, u: &User) -> Outcome<String> {
    require_admin(p)?;
    let id = u.id.to_string();
    reset_password(state, p, u, "staff.reset_password", ObjectType::User, &id).await
}

/// Gives an account a new random password to be changed at the next sign-in, clears its
/// failures and ends its sessions; the audit entry names `object`.
async fn reset_password(
    state: &AppState,
    p: &Principal,
    u: &User,
    action: &str,
    object_type: ObjectType,
    object_id: &str,
) -> Outcome<String> {
    let password = random_password();
    let hash = hash_password(&password)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    replace_password(tx.conn(), u, &hash, true).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        action,
        object_type,
        object_id,
        &u.login_id,
    )
    .await?;
    tx.commit().await?;
    Ok(password)
}

/// The registration states a unit search may ask for, in the page's order.
pub const UNIT_STATES: [RegState; 5] = [
    RegState::Draft,
    RegState::PendingCounty,
    RegState::PendingCity,
    RegState::Approved,
    RegState::Returned,
];

/// What the unit search asks for.
#[derive(Clone, Copy, Debug, Default)]
pub struct UnitQuery<'a> {
    /// Words of the name, credit code or login ID.
    pub text: &'a str,
    pub district: Option<i64>,
    pub state: Option<RegState>,
}

/// A page of the units that match, and how many match in all.
pub async fn search_units(
    state: &AppState,
    p: &Principal,
    q: &UnitQuery<'_>,
    limit: i64,
    offset: i64,
) -> Outcome<(Vec<SearchRow>, i64)> {
    require_admin(p)?;
    if let Some(m) = too_long(q.text.trim(), "查询内容", MAX_SEARCH) {
        return Err(Error::invalid("q", m));
    }
    Ok(units::search(state.pool(), q.text, q.district, q.state, limit, offset).await?)
}

/// A unit as its administrator's page shows it.
pub struct UnitFile {
    pub unit: Unit,
    pub login_id: String,
    pub changes: Vec<Change>,
    /// Its latest groups.
    pub groups: Vec<GroupRow>,
}

pub async fn unit_file(state: &AppState, p: &Principal, unit_id: i64) -> Outcome<UnitFile> {
    require_admin(p)?;
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    let login_id = users::by_unit(state.pool(), unit_id)
        .await?
        .map(|u| u.login_id)
        .unwrap_or_default();
    let changes = units::changes_of(state.pool(), unit_id).await?;
    let groups = groups::latest(state.pool(), unit_id, 20).await?;
    Ok(UnitFile {
        unit,
        login_id,
        changes,
        groups,
    })
}

async fn unit(state: &AppState, p: &Principal, unit_id: i64) -> Outcome<Unit> {
    require_admin(p)?;
    units::get(state.pool(), unit_id)
        .await?
        .ok_or(Error::NotFound)
}

/// Puts a unit on the dishonesty list (失信企业名单): a reason is required; its account can no
/// longer sign in and its sessions end.
pub async fn blacklist(state: &AppState, p: &Principal, unit_id: i64, reason: &str) -> Outcome<()> {
    let unit = unit(state, p, unit_id).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid("reason", "请填写列入失信企业名单的原因"));
    }
    if reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "原因不能超过500个字符"));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    units::set_blacklist(tx.conn(), unit_id, Some(reason), now).await?;
    if let Some(u) = users::by_unit(state.pool(), unit_id).await? {
        sessions::delete_for_user(tx.conn(), u.id).await?;
    }
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "unit.blacklist",
        ObjectType::Unit,
        &unit_id.to_string(),
        &format!("{}：{reason}", unit.data.name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a unit off the dishonesty list.
pub async fn unblacklist(state: &AppState, p: &Principal, unit_id: i64) -> Outcome<()> {
    let unit = unit(state, p, unit_id).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    units::set_blacklist(tx.conn(), unit_id, None, now).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "unit.unblacklist",
        ObjectType::Unit,
        &unit_id.to_string(),
        &unit.data.name,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Rebinds the mobile of a unit that can no longer receive SMS (no code: staff checked who
/// asked, by phone or in person).
pub async fn rebind_unit_mobile(
    state: &AppState,
    p: &Principal,
    unit_id: i64,
    typed: &str,
) -> Outcome<()> {
    let unit = unit(state, p, unit_id).await?;
    let mobile = Mobile::parse(typed).map_err(|e| Error::invalid("mobile", e.to_string()))?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    units::set_mobile(tx.conn(), unit_id, mobile.as_str(), now).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "unit.mobile_by_staff",
        ObjectType::Unit,
        &unit_id.to_string(),
        &format!("{} → {}", unit.mobile_masked(), mobile.masked()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Resets a unit account's password: the new random one, to be changed at the next sign-in.
pub async fn reset_unit_password(state: &AppState, p: &Principal, unit_id: i64) -> Outcome<String> {
    require_admin(p)?;
    let user = users::by_unit(state.pool(), unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    let id = unit_id.to_string();
    reset_password(
        state,
        p,
        &user,
        "unit.reset_password",
        ObjectType::Unit,
        &id,
    )
    .await
}
