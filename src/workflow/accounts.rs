//! Accounts: signing in and out, sessions, passwords, mobile numbers, password recovery by
//! SMS, and their clean-up.

use serde::{Deserialize, Serialize};

use super::attempts;
use super::error::{Error, Outcome};
use super::notify;
use super::second_factor::{self, SignIn};
use super::verify::{self, Purpose};
use crate::clock::fmt_ts;
use crate::domain::account::{
    CURRENT_PASSWORD, KNOWN_ADDRESS_SECS, RECOVERY_LOOKUP, SIGN_IN, SIGN_IN_ADDRESS, SIGN_IN_KNOWN,
};
use crate::domain::audit::ObjectType;
use crate::domain::fields::{clip, FieldErrors, MAX_LOGIN_RECORDED};
use crate::domain::password::check_new_password;
use crate::domain::principal::{Actor, Principal};
use crate::domain::registration::name_key;
use crate::domain::{CreditCode, Mobile};
use crate::security::{dummy_hash, hash_password, verify_password};
use crate::state::AppState;
use crate::store::flows::{self, FlowKind};
use crate::store::messages::{self, Message};
use crate::store::units::{self, Unit};
use crate::store::users::User;
use crate::store::{attempts as store_attempts, audit, sessions, sms_codes, users, Conn};

pub const MSG_WRONG: &str = "登录ID或密码错误";
pub const MSG_LOCKED: &str = "连续登录失败次数过多，请15分钟后再试";
pub const MSG_BLACKLISTED: &str = "帐号状态异常，请联系市外办处理";

/// A refusal of the sign-in form (one message for the whole form).
fn refused(message: &str) -> Error {
    Error::invalid("login_id", message)
}

/// Signs in with a login ID and password from `actor` (who asks, with their address): the new
/// session's id, or the pending sign-in that asks for the second factor. `replaces` is the
/// session the browser had, ended by a successful sign-in.
///
/// Attempts are limited per account and per address (domain::account): each is reserved
/// before the password is checked; the answer does not tell whether the ID exists. A unit on
/// the dishonesty list is refused only after the right password. Every refusal but an empty
/// form is written to the audit log, with the login ID shortened. An account with a second
/// factor, or whose role must have one, gets a pending sign-in instead of a session.
pub async fn sign_in(
    state: &AppState,
    actor: &Actor,
    login_id: &str,
    password: &str,
    replaces: Option<&str>,
) -> Outcome<SignIn> {
    let key = login_id.trim().to_lowercase();
    if key.is_empty() || password.is_empty() {
        return Err(refused("请输入登录ID和密码"));
    }
    // No login ID is longer; a longer one is kept shortened wherever it is recorded.
    let key = clip(&key, MAX_LOGIN_RECORDED).to_string();
    let now = state.now();
    let from_address = attempts::reserve(state, &SIGN_IN_ADDRESS, &actor.ip).await?;
    if !from_address.allowed {
        refusal(state, actor, "login.address_refused", &key, "").await?;
        return Err(refused(&format!(
            "本地址登录失败次数过多，请{}后再试",
            attempts::minutes(from_address.wait)
        )));
    }
    let user = users::by_login_key(state.pool(), &key).await?;
    let known = match &user {
        Some(u) => {
            store_attempts::is_known(state.pool(), u.id, &actor.ip, now - KNOWN_ADDRESS_SECS)
                .await?
        }
        None => false,
    };
    let (limit, subject) = if known {
        (SIGN_IN_KNOWN, format!("{key}|{}", actor.ip))
    } else {
        (SIGN_IN, key.clone())
    };
    let reserved = attempts::reserve(state, &limit, &subject).await?;
    if !reserved.allowed {
        refusal(state, actor, "login.locked_refused", &key, "").await?;
        return Err(refused(MSG_LOCKED));
    }
    let password_ok = match &user {
        Some(u) if !u.disabled => verify_password(password, &u.password_hash),
        _ => {
            // Same work as a real check, so the answer time does not tell whether the ID exists.
            let _ = verify_password(password, dummy_hash());
            false
        }
    };
    let Some(user) = user.filter(|_| password_ok) else {
        let n = reserved.count;
        let mut tx = state.db.begin().await?;
        audit::write(
            tx.conn(),
            actor,
            now,
            "login.failed",
            ObjectType::Login,
            &key,
            &format!("第{n}次"),
        )
        .await?;
        if n == limit.max {
            audit::write(
                tx.conn(),
                actor,
                now,
                "login.lockout",
                ObjectType::Login,
                &key,
                if known {
                    "本地址锁定15分钟"
                } else {
                    "锁定15分钟"
                },
            )
            .await?;
        }
        tx.commit().await?;
        return Err(refused(if n >= limit.max {
            MSG_LOCKED
        } else {
            MSG_WRONG
        }));
    };
    if let Some(unit_id) = user.unit_id {
        let unit = units::get(state.pool(), unit_id)
            .await?
            .ok_or(Error::NotFound)?;
        if unit.blacklisted {
            let mut tx = state.db.begin().await?;
            attempts::clear(tx.conn(), &limit, &subject).await?;
            attempts::release(tx.conn(), &SIGN_IN_ADDRESS, &actor.ip).await?;
            audit::write(
                tx.conn(),
                actor,
                now,
                "login.refused_blacklisted",
                ObjectType::Unit,
                &unit_id.to_string(),
                "",
            )
            .await?;
            tx.commit().await?;
            return Err(refused(MSG_BLACKLISTED));
        }
    }
    let mut tx = state.db.begin().await?;
    // The password was right: its attempt is given back. A lock of the account from elsewhere
    // stays (else each sign-in of the owner would give an attacker five more guesses).
    attempts::clear(tx.conn(), &limit, &subject).await?;
    attempts::release(tx.conn(), &SIGN_IN_ADDRESS, &actor.ip).await?;
    tx.commit().await?;
    // The password is right: the session, or first the second factor (second_factor.rs).
    // Signing in replaces any earlier session id.
    second_factor::after_password(state, actor, &user, replaces).await
}

/// Opens a session of the account signed in from `ip`, in the caller's transaction (kept in
/// second_factor.rs, where every sign-in ends; the registration wizard opens its new account's
/// session through here).
pub use super::second_factor::open_session;

/// Writes a refused sign-in to the audit log.
async fn refusal(
    state: &AppState,
    actor: &Actor,
    action: &str,
    key: &str,
    detail: &str,
) -> Outcome<()> {
    let mut tx = state.db.begin().await?;
    audit::write(
        tx.conn(),
        actor,
        state.now(),
        action,
        ObjectType::Login,
        key,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives an account a new password (its hash) in the caller's transaction, when it was
/// forgotten or reset by an administrator: its failed sign-ins are forgotten and its sessions
/// end.
pub async fn replace_password(
    conn: &mut Conn,
    user: &User,
    hash: &str,
    must_change: bool,
) -> Outcome<()> {
    users::set_password(conn, user.id, hash, must_change).await?;
    attempts::clear(conn, &SIGN_IN, &user.login_id.to_lowercase()).await?;
    sessions::delete_for_user(conn, user.id).await?;
    Ok(())
}

/// Ends the principal's session `session_id`.
pub async fn sign_out(state: &AppState, p: &Principal, session_id: &str) -> Outcome<()> {
    sessions::delete(state.pool(), session_id).await?;
    let mut tx = state.db.begin().await?;
    audit::write(
        tx.conn(),
        &p.actor,
        state.now(),
        "logout",
        ObjectType::User,
        &p.user_id.to_string(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new password typed twice, and the old one where the account changes its own.
#[derive(Clone, Debug, Default)]
pub struct NewPassword<'a> {
    pub old: &'a str,
    pub password: &'a str,
    pub password2: &'a str,
}

/// Checks the current password typed by the principal for their own `account`, an attempt
/// reserved first (domain::account::CURRENT_PASSWORD); a wrong one is audited and noted beside
/// `field`. True when it is right; the caller then clears the attempts in its transaction.
async fn current_password_ok(
    state: &AppState,
    p: &Principal,
    account: &User,
    typed: &str,
    field: &str,
    errors: &mut FieldErrors,
) -> Outcome<bool> {
    if typed.is_empty() {
        errors.add(field, "请输入当前登录密码");
        return Ok(false);
    }
    let subject = account.id.to_string();
    let reserved = attempts::reserve(state, &CURRENT_PASSWORD, &subject).await?;
    let (ok, action, message) = if !reserved.allowed {
        (
            false,
            "password.current_locked",
            format!(
                "原密码错误次数过多，请{}后再试",
                attempts::minutes(reserved.wait)
            ),
        )
    } else if verify_password(typed, &account.password_hash) {
        (true, "", String::new())
    } else {
        (false, "password.wrong_current", "原密码不正确".to_string())
    };
    if !ok {
        let mut tx = state.db.begin().await?;
        audit::write(
            tx.conn(),
            &p.actor,
            state.now(),
            action,
            ObjectType::User,
            &subject,
            &format!("第{}次", reserved.count),
        )
        .await?;
        tx.commit().await?;
        errors.add(field, message);
    }
    Ok(ok)
}

/// [修改密码]: the principal's own password (`account` is their account, read with the
/// session), checked against the old one. The account's other sessions end; `session_id`,
/// the one that asks, goes on. A unit gets a site message.
pub async fn change_password(
    state: &AppState,
    p: &Principal,
    account: &User,
    session_id: &str,
    input: &NewPassword<'_>,
) -> Outcome<()> {
    if account.id != p.user_id {
        return Err(Error::Forbidden);
    }
    let mut errors = FieldErrors::new();
    let pw = check_new_password(
        input.password,
        input.password2,
        &account.login_id,
        &mut errors,
    );
    if pw.as_deref() == Some(input.old) {
        errors.add("password", "新密码不能与原密码相同");
    }
    // The old password is checked (and an attempt spent) only for an otherwise valid form.
    if !errors.is_empty() {
        if input.old.is_empty() {
            errors.add("old_password", "请输入当前登录密码");
        }
        return Err(Error::Invalid(errors));
    }
    if !current_password_ok(state, p, account, input.old, "old_password", &mut errors).await? {
        return Err(Error::Invalid(errors));
    }
    let Some(pw) = pw else {
        return Err(Error::Invalid(errors));
    };
    let hash = hash_password(&pw)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    attempts::clear(tx.conn(), &CURRENT_PASSWORD, &account.id.to_string()).await?;
    users::set_password(tx.conn(), account.id, &hash, false).await?;
    // Other sessions of this account end; this one goes on.
    sessions::delete_others(tx.conn(), account.id, session_id).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "password.change",
        ObjectType::User,
        &account.id.to_string(),
        "",
    )
    .await?;
    let mut queued = Default::default();
    if let Some(unit_id) = account.unit_id {
        let notice = notify::password_changed(&fmt_ts(now), &p.actor.ip);
        queued = notify::write(tx.conn(), unit_id, &p.actor, &notice, now).await?;
    }
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(())
}

/// The new number a unit asks to bind, checked.
fn new_mobile(unit: &Unit, typed: &str) -> Outcome<Mobile> {
    match Mobile::parse(typed) {
        Err(e) => Err(Error::invalid("mobile", e.to_string())),
        Ok(m) if m.as_str() == unit.mobile => {
            Err(Error::invalid("mobile", "新手机号码与当前绑定的号码相同"))
        }
        Ok(m) => Ok(m),
    }
}

/// The principal's own unit (`unit`, read with the request).
fn own(p: &Principal, unit: &Unit) -> Outcome<()> {
    if p.own_unit() == Some(unit.id) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// [获取验证码] for binding a new number to the principal's unit: the code goes to the new
/// number, which is returned.
pub async fn send_rebind_code(
    state: &AppState,
    p: &Principal,
    unit: &Unit,
    typed: &str,
) -> Outcome<Mobile> {
    own(p, unit)?;
    let m = new_mobile(unit, typed)?;
    verify::send_code(state, m.as_str(), Purpose::Rebind, &p.actor.ip)
        .await
        .map_err(|e| Error::invalid("code", e.to_string()))?;
    Ok(m)
}

/// [绑定]: binds the new number once the code sent to it is typed and the account's current
/// password confirmed. The old number gets an SMS and the unit a site message.
pub async fn rebind_mobile(
    state: &AppState,
    p: &Principal,
    account: &User,
    unit: &Unit,
    input: &Rebind<'_>,
) -> Outcome<()> {
    own(p, unit)?;
    if account.id != p.user_id {
        return Err(Error::Forbidden);
    }
    let m = new_mobile(unit, input.mobile)?;
    let mut errors = FieldErrors::new();
    if !current_password_ok(state, p, account, input.password, "password", &mut errors).await? {
        return Err(Error::Invalid(errors));
    }
    verify::check_code(state, m.as_str(), Purpose::Rebind, input.code)
        .await
        .map_err(|e| Error::invalid("code", e.to_string()))?;
    let now = state.now();
    let notice = notify::mobile_changed(&unit.mobile_masked(), &m.masked(), &fmt_ts(now));
    let mut tx = state.db.begin().await?;
    attempts::clear(tx.conn(), &CURRENT_PASSWORD, &account.id.to_string()).await?;
    // Written before the new number is bound: its SMS goes to the old number.
    let queued = notify::write(tx.conn(), unit.id, &p.actor, &notice, now).await?;
    units::set_mobile(tx.conn(), unit.id, m.as_str(), now).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "unit.mobile",
        ObjectType::Unit,
        &unit.id.to_string(),
        &format!("{} → {}", unit.mobile_masked(), m.masked()),
    )
    .await?;
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(())
}

/// The rebinding form's [绑定] as typed.
pub struct Rebind<'a> {
    pub mobile: &'a str,
    pub code: &'a str,
    /// The account's current password.
    pub password: &'a str,
}

/// The latest messages of the principal's unit, for its home page.
pub async fn recent_messages(state: &AppState, p: &Principal) -> Outcome<Vec<Message>> {
    let unit_id = p.own_unit().ok_or(Error::Forbidden)?;
    Ok(messages::recent(state.pool(), unit_id, 5).await?)
}

/// What the password recovery flow keeps between its steps.
#[derive(Serialize, Deserialize)]
struct RecoveryFlow {
    unit_id: i64,
    #[serde(default)]
    verified: bool,
}

/// A password recovery under way in a browser: its flow token, the unit found, and whether
/// the code sent to the unit's mobile was typed.
pub struct Recovery {
    token: String,
    pub unit: Unit,
    pub verified: bool,
}

async fn save_recovery(state: &AppState, token: &str, flow: &RecoveryFlow) -> Outcome<()> {
    let data = serde_json::to_value(flow).map_err(|e| Error::Fault(e.into()))?;
    flow_save(state, FlowKind::Reset, token, &data).await
}

/// 找回密码, first step: finds the unit by its credit code and full name and starts a recovery
/// under `token` (the browser's new flow token).
pub async fn recovery_start(
    state: &AppState,
    actor: &Actor,
    token: &str,
    credit_code: &str,
    name: &str,
) -> Outcome<()> {
    let mut errors = FieldErrors::new();
    let code = match CreditCode::parse(credit_code) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.add("credit_code", e.to_string());
            None
        }
    };
    crate::domain::fields::required(&mut errors, "name", name, "单位全称", 100);
    let (Some(code), true) = (code, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    // Whether a credit code and name belong to a registered unit is asked a limited number of
    // times per address.
    let reserved = attempts::reserve(state, &RECOVERY_LOOKUP, &actor.ip).await?;
    if !reserved.allowed {
        refusal(state, actor, "password.recovery_limited", code.as_str(), "").await?;
        return Err(Error::invalid(
            "name",
            format!("查询次数过多，请{}后再试", attempts::minutes(reserved.wait)),
        ));
    }
    let unit_id = users::unit_by_code_and_name(state.pool(), code.as_str(), &name_key(name))
        .await?
        .ok_or_else(|| Error::invalid("name", "统一社会信用代码与单位全称不一致，请核对"))?;
    save_recovery(
        state,
        token,
        &RecoveryFlow {
            unit_id,
            verified: false,
        },
    )
    .await
}

/// The recovery under way in the browser's flow `token`, if any.
pub async fn recovery(state: &AppState, token: Option<&str>) -> Outcome<Option<Recovery>> {
    let Some(token) = token else {
        return Ok(None);
    };
    let Some(data) = flow_load(state, FlowKind::Reset, token).await? else {
        return Ok(None);
    };
    let Ok(flow) = serde_json::from_value::<RecoveryFlow>(data) else {
        return Ok(None);
    };
    Ok(units::get(state.pool(), flow.unit_id)
        .await?
        .map(|unit| Recovery {
            token: token.to_string(),
            unit,
            verified: flow.verified,
        }))
}

/// [获取验证码]: a code to the unit's bound mobile, asked from `ip`.
pub async fn recovery_send_code(state: &AppState, r: &Recovery, ip: &str) -> Outcome<()> {
    verify::send_code(state, &r.unit.mobile, Purpose::Reset, ip)
        .await
        .map_err(|e| Error::invalid("code", e.to_string()))
}

/// Checks the code typed; the recovery may then set a new password.
pub async fn recovery_check_code(state: &AppState, r: &Recovery, code: &str) -> Outcome<()> {
    verify::check_code(state, &r.unit.mobile, Purpose::Reset, code)
        .await
        .map_err(|e| Error::invalid("code", e.to_string()))?;
    save_recovery(
        state,
        &r.token,
        &RecoveryFlow {
            unit_id: r.unit.id,
            verified: true,
        },
    )
    .await
}

/// The last step: the unit account's new password. Its failures are cleared, its sessions
/// and the recovery end.
pub async fn recovery_reset(
    state: &AppState,
    r: &Recovery,
    actor: &Actor,
    password: &str,
    password2: &str,
) -> Outcome<()> {
    if !r.verified {
        return Err(Error::Forbidden);
    }
    let user = users::by_unit(state.pool(), r.unit.id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut errors = FieldErrors::new();
    let Some(pw) = check_new_password(password, password2, &user.login_id, &mut errors) else {
        return Err(Error::Invalid(errors));
    };
    let hash = hash_password(&pw)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    replace_password(tx.conn(), &user, &hash, false).await?;
    flows::delete(tx.conn(), &r.token).await?;
    audit::write(
        tx.conn(),
        actor,
        now,
        "password.reset_by_sms",
        ObjectType::User,
        &user.id.to_string(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes expired sessions and abandoned anonymous flows (registration, password recovery).
pub async fn housekeeping(state: &AppState) -> Outcome<()> {
    let now = state.now();
    let idle = state.config.serve.session_idle_minutes * 60;
    let max = state.config.serve.session_max_hours * 3600;
    sessions::purge(state.pool(), now - idle, now - max).await?;
    flows::purge(state.pool(), now - 86_400).await?;
    store_attempts::purge(state.pool(), now).await?;
    store_attempts::purge_addresses(state.pool(), now - KNOWN_ADDRESS_SECS).await?;
    super::sms::purge(state).await?;
    // Codes live 5 minutes; the sliding hour of the limits needs the last hour's.
    sms_codes::purge(state.pool(), now - 7 * 86_400).await?;
    Ok(())
}

/// The account of a session that is still valid, refreshing its last activity at most once a
/// minute; `None` (and the session removed) when it expired by inactivity or age, or its
/// account was disabled or its unit put on the dishonesty list.
pub async fn resume_session(state: &AppState, sid: &str) -> Outcome<Option<User>> {
    let now = state.now();
    let Some(s) = sessions::load(state.pool(), sid).await? else {
        return Ok(None);
    };
    let idle = state.config.serve.session_idle_minutes * 60;
    let max = state.config.serve.session_max_hours * 3600;
    if now - s.last_seen_at > idle
        || now - s.created_at > max
        || s.user.disabled
        || s.unit_blacklisted
    {
        sessions::delete(state.pool(), sid).await?;
        return Ok(None);
    }
    if now - s.last_seen_at >= 60 {
        // Only the idle clock depends on it, and the request itself is valid: log and go on.
        if let Err(e) = sessions::touch(state.pool(), sid, now).await {
            tracing::warn!("refreshing a session's activity: {e}");
        }
    }
    Ok(Some(s.user))
}

/// The principal of a signed-in account acting from `ip`.
pub fn principal(user: &User, ip: &str) -> Principal {
    Principal {
        user_id: user.id,
        role: user.role,
        district_id: user.district_id,
        unit_id: user.unit_id,
        display_name: user.display_name.clone(),
        actor: Actor::account(user.id, &user.display_name, &user.login_id, ip),
    }
}

/// Anonymous flows expire two hours after their last step.
const FLOW_TTL: i64 = 2 * 3600;

/// The data of an anonymous flow (registration wizard, password recovery) kept under `token`,
/// if it has not expired.
pub async fn flow_load(
    state: &AppState,
    kind: FlowKind,
    token: &str,
) -> Outcome<Option<serde_json::Value>> {
    Ok(flows::load(state.pool(), kind, token, state.now() - FLOW_TTL).await?)
}

/// Keeps the data of an anonymous flow under `token`.
pub async fn flow_save(
    state: &AppState,
    kind: FlowKind,
    token: &str,
    data: &serde_json::Value,
) -> Outcome<()> {
    Ok(flows::save(state.pool(), kind, token, data, state.now()).await?)
}
