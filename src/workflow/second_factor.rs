//! The second sign-in factor: a TOTP authenticator (RFC 6238: HMAC-SHA1, six digits, 30-second
//! steps) with ten one-time recovery codes.
//!
//! - **Enrolment** on the account page (any account, units too): a new secret is shown as a QR
//!   code and as text; a code from the authenticator confirms it, and the recovery codes are
//!   shown once (only their HMAC under the server secret is kept).
//! - **Sign-in**: once the password is right ([`after_password`], the end of
//!   `accounts::sign_in`), an enrolled account, or one whose role must have a factor
//!   ([`Setting::SecondFactorRoles`], administrators by default), gets no session yet but a
//!   pending sign-in: a random token in the browser's cookie, kept for five minutes in the flows
//!   table. On its page the account types a code or a recovery code ([`complete`]), or, when it
//!   must have a factor and has none, enrols first; only then is the session created.
//! - A code is accepted for the current step and one on either side, and each step once (the
//!   newest accepted step is kept); a recovery code is used up.
//! - Guessing is limited per account: every code (TOTP or recovery) reserves an attempt of
//!   [`SECOND_FACTOR`] (5 per 15 minutes) before it is looked at (`workflow::attempts`), so a
//!   burst of parallel requests gets no more checked, and signing in again with the password
//!   gives no new guesses. A right code gives its attempt back; the wrong ones stay counted.
//! - An administrator resets another account's factor (a lost phone); so does
//!   `laihua staff reset-2fa LOGIN`. Every step is in the audit log; no secret or code is.

use rand::Rng;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Secret, TOTP};

use super::attempts;
use super::error::{Error, Outcome};
use crate::db::Tx;
use crate::domain::account::SECOND_FACTOR;
use crate::domain::audit::ObjectType;
use crate::domain::principal::{Actor, Principal, Role};
use crate::domain::second_factor::{
    accepted_steps, is_mandatory, parse_code, show_recovery, Typed, DEFAULT_ROLES, DIGITS,
    RECOVERY_ALPHABET, RECOVERY_CODES, RECOVERY_LEN, STEP_SECS,
};
use crate::domain::settings::Setting;
use crate::security::{hmac_hex, random_token, same};
use crate::state::AppState;
use crate::store::flows::{self, FlowKind};
use crate::store::second_factors::{self, Factor};
use crate::store::users::{self, User};
use crate::store::{attempts as store_attempts, audit, reference, sessions, units, Conn};

/// A pending sign-in lasts five minutes after the right password.
pub const PENDING_SECS: i64 = 5 * 60;

pub const MSG_WRONG: &str = "验证码不正确";
pub const MSG_REUSED: &str = "该动态验证码已使用过，请等身份验证器显示下一个验证码后再输入";
pub const MSG_MALFORMED: &str = "请输入身份验证器显示的6位动态验证码，或一个恢复码";
pub const MSG_ENROL_CODE: &str = "请输入身份验证器显示的6位动态验证码";
pub const MSG_ENROL_WRONG: &str =
    "验证码不正确：请确认已扫描本页的二维码、手机时间准确，再输入新的验证码";

/// Where a sign-in stands once its password was right.
pub enum SignIn {
    /// Signed in: the new session's id.
    Session(String),
    /// The second factor is asked first (or enrolled first, when the account must have one):
    /// the pending sign-in's token, for the browser to keep.
    SecondFactor(String),
}

/// A pending sign-in that ended well.
pub enum Completed {
    /// Signed in with a code or a recovery code: the new session's id.
    Session(String),
    /// Enrolled and signed in: the session's id and the recovery codes, to be shown once.
    Enrolled {
        session: String,
        recovery_codes: Vec<String>,
    },
}

/// A secret being enrolled, as the page shows it.
pub struct Enrolment {
    /// Base32, for typing into the authenticator by hand.
    pub secret: String,
    /// The `otpauth://totp/…` URL the QR code carries.
    pub url: String,
}

/// A sign-in waiting for its second factor in a browser.
pub struct Pending {
    token: String,
    user: User,
    /// The secret to enrol first, when the account has no factor yet.
    pub enrolment: Option<Enrolment>,
}

impl Pending {
    /// The login ID signing in.
    pub fn login_id(&self) -> &str {
        &self.user.login_id
    }
}

/// What the flows table keeps of a pending sign-in.
#[derive(Serialize, Deserialize)]
struct PendingFlow {
    user_id: i64,
}

/// The account's second factor as its account page shows it.
pub struct Status {
    /// When it was enrolled (None: not enrolled).
    pub enrolled_at: Option<i64>,
    pub recovery_codes_left: i64,
    /// The account's role must have one (it cannot be turned off).
    pub mandatory: bool,
    /// An enrolment under way: its secret.
    pub enrolment: Option<Enrolment>,
}

// ---- the pieces ----

/// Whether the setting makes a second factor mandatory for `role`.
pub async fn mandatory_for(state: &AppState, role: Role) -> Outcome<bool> {
    let roles = reference::setting(state.pool(), Setting::SecondFactorRoles)
        .await?
        .unwrap_or_else(|| DEFAULT_ROLES.to_string());
    Ok(is_mandatory(&roles, role))
}

/// A new random secret: 160 bits (RFC 4226's recommendation), base32.
fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// The TOTP generator of a secret, labelled for the authenticator with `issuer` and the login
/// ID.
fn totp(secret: &str, issuer: &str, account: &str) -> Outcome<TOTP> {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .map_err(|_| Error::Fault(anyhow::anyhow!("a stored TOTP secret is not base32")))?;
    // The otpauth label separates issuer and account with ':'.
    let issuer = issuer.replace(':', " ");
    let account = account.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS as u64,
        bytes,
        Some(issuer),
        account,
    )
    .map_err(|e| Error::Fault(anyhow::anyhow!("TOTP parameters: {e:?}")))
}

/// How a typed TOTP code compares with the steps accepted now.
enum StepMatch {
    /// The code of this step, newer than any accepted before.
    Fresh(i64),
    /// The code of a step accepted before.
    Used,
    None,
}

fn match_step(t: &TOTP, code: &str, now: i64, last_step: i64) -> StepMatch {
    let mut used = false;
    for step in accepted_steps(now) {
        let expected = t.generate(u64::try_from(step * STEP_SECS).unwrap_or(0));
        if same(&expected, code) {
            if step > last_step {
                return StepMatch::Fresh(step);
            }
            used = true;
        }
    }
    if used {
        StepMatch::Used
    } else {
        StepMatch::None
    }
}

/// The enrolment page's view of a secret. The authenticator lists it as "常州市外办 (login
/// ID)": short, so that the QR code stays easy to scan.
async fn enrolment_of(state: &AppState, user: &User, secret: &str) -> Outcome<Enrolment> {
    let issuer = format!("{}外办", super::reference::site(state).await?.city_name);
    let t = totp(secret, &issuer, &user.login_id)?;
    Ok(Enrolment {
        secret: secret.to_string(),
        url: t.get_url(),
    })
}

/// The keyed hash a recovery code is kept as (of its normalised form, for this account).
fn recovery_hash(state: &AppState, user_id: i64, code: &str) -> String {
    hmac_hex(
        &state.secret,
        &["recovery-code", &user_id.to_string(), code],
    )
}

/// Ten new recovery codes: (as shown, hashes to keep).
fn new_recovery_codes(state: &AppState, user_id: i64) -> (Vec<String>, Vec<String>) {
    let mut rng = rand::thread_rng();
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    while shown.len() < RECOVERY_CODES {
        let code: String = (0..RECOVERY_LEN)
            .map(|_| RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
            .collect();
        let hash = recovery_hash(state, user_id, &code);
        if !hashes.contains(&hash) {
            hashes.push(hash);
            shown.push(show_recovery(&code));
        }
    }
    (shown, hashes)
}

/// Opens a session of the account signed in from `ip`, in the caller's transaction: its id. The
/// sign-in is recorded (shown next time) and the address becomes known to the account.
pub async fn open_session(conn: &mut Conn, user_id: i64, ip: &str, now: i64) -> Outcome<String> {
    let sid = random_token();
    store_attempts::remember(conn, user_id, ip, now).await?;
    users::record_login(conn, user_id, now, ip).await?;
    sessions::create(conn, &sid, user_id, now, ip).await?;
    Ok(sid)
}

/// The last step of a sign-in, in the caller's transaction: the session and the audit entry
/// (`how`: with which factor). The new session's id.
async fn open_session_in(
    conn: &mut Conn,
    user: &User,
    ip: &str,
    now: i64,
    how: &str,
) -> Outcome<String> {
    let sid = open_session(conn, user.id, ip, now).await?;
    audit::write(
        conn,
        &Actor::account(user.id, &user.display_name, &user.login_id, ip),
        now,
        "login.success",
        ObjectType::User,
        &user.id.to_string(),
        how,
    )
    .await?;
    Ok(sid)
}

/// Ends the session the browser had before it signed in again.
async fn end_replaced(state: &AppState, replaces: Option<&str>) -> Outcome<()> {
    if let Some(old) = replaces {
        sessions::delete(state.pool(), old).await?;
    }
    Ok(())
}

// ---- signing in ----

/// The rest of a sign-in whose password was right (and whose unit is not refused): a session
/// at once, or a pending sign-in when the account has a second factor or its role must have
/// one (which then gets a new secret to enrol). `replaces` is the session the browser had,
/// ended by a successful sign-in.
pub async fn after_password(
    state: &AppState,
    actor: &Actor,
    user: &User,
    replaces: Option<&str>,
) -> Outcome<SignIn> {
    let now = state.now();
    let factor = second_factors::get(state.pool(), user.id).await?;
    let enrolled = factor.as_ref().is_some_and(|f| f.enrolled_at.is_some());
    if !enrolled && !mandatory_for(state, user.role).await? {
        let mut tx = state.db.begin().await?;
        let sid = open_session_in(tx.conn(), user, &actor.ip, now, "").await?;
        tx.commit().await?;
        end_replaced(state, replaces).await?;
        return Ok(SignIn::Session(sid));
    }
    let token = random_token();
    let mut tx = state.db.begin().await?;
    if !enrolled {
        second_factors::start(tx.conn(), user.id, &new_secret(), now).await?;
    }
    audit::write(
        tx.conn(),
        actor,
        now,
        "login.second_factor_asked",
        ObjectType::User,
        &user.id.to_string(),
        if enrolled {
            "密码正确，待输入动态验证码"
        } else {
            "密码正确，须先启用两步验证"
        },
    )
    .await?;
    tx.commit().await?;
    let data = serde_json::to_value(PendingFlow { user_id: user.id })
        .map_err(|e| Error::Fault(e.into()))?;
    flows::save(state.pool(), FlowKind::SignIn, &token, &data, now).await?;
    Ok(SignIn::SecondFactor(token))
}

/// The pending sign-in of the browser's `token`, if it has not expired and its account may
/// still sign in.
pub async fn pending(state: &AppState, token: Option<&str>) -> Outcome<Option<Pending>> {
    let Some(token) = token else { return Ok(None) };
    let now = state.now();
    let Some(data) = flows::load(state.pool(), FlowKind::SignIn, token, now - PENDING_SECS).await?
    else {
        return Ok(None);
    };
    let Ok(flow) = serde_json::from_value::<PendingFlow>(data) else {
        return Ok(None);
    };
    let Some(user) = users::by_id(state.pool(), flow.user_id).await? else {
        return Ok(None);
    };
    if !may_still_sign_in(state, &user).await? {
        return Ok(None);
    }
    let enrolment = match second_factors::get(state.pool(), user.id).await? {
        Some(Factor {
            enrolled_at: Some(_),
            ..
        }) => None,
        Some(f) => Some(enrolment_of(state, &user, &f.secret).await?),
        // Reset meanwhile: sign in again.
        None => return Ok(None),
    };
    Ok(Some(Pending {
        token: token.to_string(),
        user,
        enrolment,
    }))
}

/// The account was not disabled nor its unit put on the dishonesty list since its password.
async fn may_still_sign_in(state: &AppState, user: &User) -> Outcome<bool> {
    if user.disabled {
        return Ok(false);
    }
    if let Some(unit_id) = user.unit_id {
        let unit = units::get(state.pool(), unit_id).await?;
        if unit.is_none_or(|u| u.blacklisted) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The second step of a pending sign-in: the code (or a recovery code) typed, or, for an
/// account enrolling, the code that confirms the secret shown. The session is created only
/// now; the pending sign-in ends.
pub async fn complete(
    state: &AppState,
    actor: &Actor,
    pending: &Pending,
    typed: &str,
    replaces: Option<&str>,
) -> Outcome<Completed> {
    let user = &pending.user;
    let now = state.now();
    if let Some(enrolment) = &pending.enrolment {
        let mut tx = state.db.begin().await?;
        let codes = confirm_in(state, &mut tx, user, &enrolment.secret, typed, actor).await?;
        flows::delete(tx.conn(), &pending.token).await?;
        let sid = open_session_in(tx.conn(), user, &actor.ip, now, "启用两步验证").await?;
        tx.commit().await?;
        end_replaced(state, replaces).await?;
        return Ok(Completed::Enrolled {
            session: sid,
            recovery_codes: codes,
        });
    }
    let Accepted { mut tx, how } = check_code(state, actor, user, typed).await?;
    flows::delete(tx.conn(), &pending.token).await?;
    let sid = open_session_in(tx.conn(), user, &actor.ip, now, how).await?;
    tx.commit().await?;
    end_replaced(state, replaces).await?;
    Ok(Completed::Session(sid))
}

/// A transaction in which a code was accepted (and used up), to be committed with what it
/// allows; `how` names the factor for the audit log.
struct Accepted {
    tx: Tx,
    how: &'static str,
}

/// Checks a code or recovery code of an enrolled account under the limit [`SECOND_FACTOR`]:
/// the open transaction that used it up, or a refusal (audited).
async fn check_code(
    state: &AppState,
    actor: &Actor,
    user: &User,
    typed: &str,
) -> Outcome<Accepted> {
    let typed = parse_code(typed);
    if typed == Typed::Malformed {
        return Err(Error::invalid("code", MSG_MALFORMED));
    }
    let now = state.now();
    let object = user.id.to_string();
    let limited = |wait| {
        Error::invalid(
            "code",
            format!("验证码错误次数过多，请{}后再试", attempts::minutes(wait)),
        )
    };
    let reserved = attempts::reserve(state, &SECOND_FACTOR, &object).await?;
    if !reserved.allowed {
        let mut tx = state.db.begin().await?;
        audit::write(
            tx.conn(),
            actor,
            now,
            "login.second_factor_locked",
            ObjectType::User,
            &object,
            &format!("已有{}次错误，未核对", SECOND_FACTOR.max),
        )
        .await?;
        tx.commit().await?;
        return Err(limited(reserved.wait));
    }
    let factor = second_factors::get(state.pool(), user.id)
        .await?
        .filter(|f| f.enrolled_at.is_some())
        .ok_or(Error::NotFound)?;
    let mut tx = state.db.begin().await?;
    let (accepted, how, refusal) = match &typed {
        Typed::Totp(code) => {
            let t = totp(&factor.secret, "", &user.login_id)?;
            match match_step(&t, code, now, factor.last_step) {
                StepMatch::Fresh(step) => (
                    second_factors::use_step(tx.conn(), user.id, step).await?,
                    "动态验证码",
                    MSG_REUSED,
                ),
                StepMatch::Used => (false, "动态验证码已使用过", MSG_REUSED),
                StepMatch::None => (false, "动态验证码", MSG_WRONG),
            }
        }
        Typed::Recovery(code) => {
            let hash = recovery_hash(state, user.id, code);
            let used = second_factors::use_recovery_code(tx.conn(), user.id, &hash, now).await?;
            if used {
                let left = second_factors::recovery_codes_left_in(tx.conn(), user.id).await?;
                audit::write(
                    tx.conn(),
                    actor,
                    now,
                    "second_factor.recovery_code_used",
                    ObjectType::User,
                    &object,
                    &format!("剩余{left}个恢复码"),
                )
                .await?;
            }
            (used, "恢复码", MSG_WRONG)
        }
        Typed::Malformed => (false, "", MSG_MALFORMED),
    };
    if accepted {
        // A right code gives its attempt back; wrong ones stay counted.
        attempts::release(tx.conn(), &SECOND_FACTOR, &object).await?;
        return Ok(Accepted { tx, how });
    }
    drop(tx);
    let n = reserved.count;
    let mut tx = state.db.begin().await?;
    audit::write(
        tx.conn(),
        actor,
        now,
        "login.second_factor_failed",
        ObjectType::User,
        &object,
        &format!("{how}错误，第{n}次"),
    )
    .await?;
    tx.commit().await?;
    if n >= SECOND_FACTOR.max {
        return Err(limited(SECOND_FACTOR.period));
    }
    Err(Error::invalid("code", refusal))
}

/// Confirms the enrolment of `secret` (the one shown to the account) with a code from the
/// authenticator, in the caller's transaction: the recovery codes to show once. Audited.
async fn confirm_in(
    state: &AppState,
    tx: &mut Tx,
    user: &User,
    secret: &str,
    typed: &str,
    actor: &Actor,
) -> Outcome<Vec<String>> {
    let Typed::Totp(code) = parse_code(typed) else {
        return Err(Error::invalid("code", MSG_ENROL_CODE));
    };
    let now = state.now();
    let t = totp(secret, "", &user.login_id)?;
    let StepMatch::Fresh(step) = match_step(&t, &code, now, 0) else {
        return Err(Error::invalid("code", MSG_ENROL_WRONG));
    };
    if !second_factors::confirm(tx.conn(), user.id, secret, step, now).await? {
        return Err(Error::Stale(
            "两步验证已在别处启用或重新开始，请刷新页面".into(),
        ));
    }
    let (shown, hashes) = new_recovery_codes(state, user.id);
    second_factors::set_recovery_codes(tx.conn(), user.id, &hashes).await?;
    audit::write(
        tx.conn(),
        actor,
        now,
        "second_factor.enrol",
        ObjectType::User,
        &user.id.to_string(),
        &format!("身份验证器，{RECOVERY_CODES}个恢复码"),
    )
    .await?;
    Ok(shown)
}

// ---- the account page ----

/// The principal's own account (`account`, read with the session).
fn own(p: &Principal, account: &User) -> Outcome<()> {
    if account.id == p.user_id {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The principal's second factor, for their account page.
pub async fn status(state: &AppState, p: &Principal, account: &User) -> Outcome<Status> {
    own(p, account)?;
    let factor = second_factors::get(state.pool(), account.id).await?;
    let enrolment = match &factor {
        Some(f) if f.enrolled_at.is_none() => Some(enrolment_of(state, account, &f.secret).await?),
        _ => None,
    };
    Ok(Status {
        enrolled_at: factor.as_ref().and_then(|f| f.enrolled_at),
        recovery_codes_left: second_factors::recovery_codes_left(state.pool(), account.id).await?,
        mandatory: mandatory_for(state, account.role).await?,
        enrolment,
    })
}

/// [启用两步验证]: a new secret to enrol (again, when an enrolment was under way).
pub async fn start(state: &AppState, p: &Principal, account: &User) -> Outcome<()> {
    own(p, account)?;
    let mut tx = state.db.begin().await?;
    if !second_factors::start(tx.conn(), account.id, &new_secret(), state.now()).await? {
        return Err(Error::Stale("您的帐号已启用两步验证".into()));
    }
    tx.commit().await?;
    Ok(())
}

/// [确认启用]: the code from the authenticator confirms the secret shown; the recovery codes,
/// to be shown once.
pub async fn confirm(
    state: &AppState,
    p: &Principal,
    account: &User,
    typed: &str,
) -> Outcome<Vec<String>> {
    own(p, account)?;
    let Some(factor) = second_factors::get(state.pool(), account.id)
        .await?
        .filter(|f| f.enrolled_at.is_none())
    else {
        return Err(Error::Stale(
            "没有进行中的启用，请重新点击“启用两步验证”".into(),
        ));
    };
    let mut tx = state.db.begin().await?;
    let codes = confirm_in(state, &mut tx, account, &factor.secret, typed, &p.actor).await?;
    tx.commit().await?;
    Ok(codes)
}

/// [停用两步验证], where the account's role does not have to keep one: a current code (or a
/// recovery code) confirms it, under the same limit as at sign-in.
pub async fn disable(state: &AppState, p: &Principal, account: &User, typed: &str) -> Outcome<()> {
    own(p, account)?;
    if mandatory_for(state, account.role).await? {
        return Err(Error::Forbidden);
    }
    let Accepted { mut tx, .. } = check_code(state, &p.actor, account, typed).await?;
    second_factors::delete(tx.conn(), account.id).await?;
    audit::write(
        tx.conn(),
        &p.actor,
        state.now(),
        "second_factor.disable",
        ObjectType::User,
        &account.id.to_string(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- administrators and the command line ----

/// When another account's factor was enrolled (None: it has none), for an administrator.
pub async fn enrolled_at(state: &AppState, p: &Principal, user_id: i64) -> Outcome<Option<i64>> {
    if p.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    Ok(second_factors::get(state.pool(), user_id)
        .await?
        .and_then(|f| f.enrolled_at))
}

/// Removes an account's factor and recovery codes (a lost phone) and ends its sessions: it
/// signs in with the password alone, or enrols again at its next sign-in when its role must
/// have one. Whether it had a factor.
async fn reset_in(state: &AppState, actor: &Actor, user: &User, detail: &str) -> Outcome<bool> {
    let mut tx = state.db.begin().await?;
    let had = second_factors::delete(tx.conn(), user.id).await?;
    attempts::clear(tx.conn(), &SECOND_FACTOR, &user.id.to_string()).await?;
    sessions::delete_for_user(tx.conn(), user.id).await?;
    audit::write(
        tx.conn(),
        actor,
        state.now(),
        "second_factor.reset",
        ObjectType::User,
        &user.id.to_string(),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(had)
}

/// [重置两步验证] on the staff page: an administrator resets another account's factor (never
/// their own: another administrator does that, or the command line).
pub async fn reset_by_admin(state: &AppState, p: &Principal, user: &User) -> Outcome<()> {
    if p.role != Role::Admin || user.id == p.user_id {
        return Err(Error::Forbidden);
    }
    if !reset_in(state, &p.actor, user, &user.login_id).await? {
        return Err(Error::Stale("该帐号没有启用两步验证".into()));
    }
    Ok(())
}

/// `laihua staff reset-2fa LOGIN`: whether the login ID names an account (`None` when not) and
/// it had a factor.
pub async fn reset_from_command_line(state: &AppState, login: &str) -> Outcome<Option<bool>> {
    let key = login.trim().to_lowercase();
    let Some(user) = users::by_login_key(state.pool(), &key).await? else {
        return Ok(None);
    };
    let actor = Actor {
        user_id: None,
        label: "命令行".into(),
        ip: "-".into(),
    };
    let detail = format!("{}（laihua staff reset-2fa）", user.login_id);
    Ok(Some(reset_in(state, &actor, &user, &detail).await?))
}
