//! Inviting units: the registration wizard and its account, the unit's registration and change
//! requests (saving, attachments, submitting), their review by county (初审) and city (审核),
//! and who may see a unit and its files. The rules are the table of
//! [`registration_flow`](crate::domain::registration_flow); this module enforces it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::attempts;
use super::error::{Error, Outcome};
use super::files::{self, Accept, Upload};
use super::{notify, verify};
use crate::db::is_unique_violation;
use crate::domain::account::{LOGIN_ID_CHECK_ADDRESS, LOGIN_ID_CHECK_FLOW};
use crate::domain::audit::ObjectType;
use crate::domain::fields::FieldErrors;
use crate::domain::fields::{clip, MAX_LOGIN_RECORDED};
use crate::domain::password::check_new_password;
use crate::domain::principal::{Actor, Principal, Role};
use crate::domain::registration::{RegData, RegForm};
use crate::domain::registration_flow::{
    self as flow, RegAction, RegState, Request, CREATE_AUDIT_NAME,
};
use crate::domain::{LoginId, Mobile};
use crate::security::{hash_password, hmac_hex};
use crate::state::AppState;
use crate::store::audit::{self, Entry};
use crate::store::flows;
use crate::store::reference::{self, AttachmentType, Content, District, FileMeta};
use crate::store::units::{self, Change, Decision, QueueItem, Unit};
use crate::store::users::{self, NewUser, User};

/// The attachment types of registrations.
const SCOPE: &str = "unit";

/// The unit of a unit account (read once per request for the page and the handler).
pub async fn own_unit(state: &AppState, unit_id: i64) -> Outcome<Option<Unit>> {
    Ok(units::get(state.pool(), unit_id).await?)
}

/// The districts a unit may choose.
pub async fn districts(state: &AppState) -> Outcome<Vec<District>> {
    Ok(reference::districts(state.pool()).await?)
}

// ---- the registration wizard (anonymous) ----

/// Seconds the registration notice must be shown before it can be accepted.
pub const NOTICE_SECS: i64 = 10;

/// The registration notice (须知) the wizard starts with.
pub async fn notice(state: &AppState) -> Outcome<Content> {
    Ok(reference::text(state.pool(), crate::domain::texts::Text::RegistrationNotice).await?)
}

/// 个人信息处理规则 (accepted with the notice; public at /rules).
pub async fn personal_info_rules(state: &AppState) -> Outcome<Content> {
    Ok(reference::text(state.pool(), crate::domain::texts::Text::PersonalInfoRules).await?)
}

/// The wizard's progress, kept in the browser's anonymous flow between steps.
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct Wizard {
    pub shown: i64,
    pub accepted: bool,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub org: Option<RegData>,
}

impl Wizard {
    /// 【用户注册】: the notice is shown from `now`.
    pub fn start(now: i64) -> Wizard {
        Wizard {
            shown: now,
            ..Wizard::default()
        }
    }
    /// "我已阅读以上须知": refused with the seconds left until the notice has been shown for
    /// [`NOTICE_SECS`].
    pub fn accept_notice(&mut self, now: i64) -> Result<(), i64> {
        let waited = now - self.shown;
        if waited < NOTICE_SECS {
            return Err(NOTICE_SECS - waited);
        }
        self.accepted = true;
        Ok(())
    }
    /// The organisation data once the mobile number is verified: the account step may come.
    pub fn ready_for_account(&self) -> Option<&RegData> {
        self.org.as_ref().filter(|_| self.verified)
    }
}

/// The purpose of the wizard's SMS codes.
const PURPOSE: verify::Purpose = verify::Purpose::Register;

/// The typed mobile number, or its refusal beside the field.
fn typed_mobile(mobile: &str) -> Outcome<Mobile> {
    Mobile::parse(mobile).map_err(|e| Error::invalid("mobile", e.to_string()))
}

/// A refusal of the SMS code, beside its field.
fn code_refused(e: impl std::fmt::Display) -> Error {
    Error::invalid("code", e.to_string())
}

/// [获取验证码]: sends a code to the typed number.
pub async fn send_code(
    state: &AppState,
    w: &mut Wizard,
    mobile: &str,
    ip: &str,
) -> Outcome<Mobile> {
    let m = typed_mobile(mobile)?;
    let sent = verify::send_code(state, m.as_str(), PURPOSE, ip).await;
    sent.map_err(code_refused)?;
    w.mobile = m.as_str().to_string();
    w.verified = false;
    Ok(m)
}

/// [第一步：校验短信验证码].
pub async fn check_code(state: &AppState, w: &mut Wizard, mobile: &str, code: &str) -> Outcome<()> {
    let m = typed_mobile(mobile)?;
    let checked = verify::check_code(state, m.as_str(), PURPOSE, code).await;
    checked.map_err(code_refused)?;
    w.mobile = m.as_str().to_string();
    w.verified = true;
    Ok(())
}

/// [继续设置账号、密码]: the organisation data, checked and not registered by another unit.
pub async fn set_org(state: &AppState, w: &mut Wizard, form: &RegForm) -> Outcome<()> {
    w.org = Some(check_org(state, form, None).await?);
    Ok(())
}

/// Checks organisation data, including that no other unit has its name or credit code.
async fn check_org(state: &AppState, form: &RegForm, except: Option<i64>) -> Outcome<RegData> {
    let ids: Vec<i64> = districts(state).await?.iter().map(|d| d.id).collect();
    let data = form.validate(&ids).map_err(Error::Invalid)?;
    let (name_taken, code_taken) = units::taken(state.pool(), &data, except).await?;
    let mut errors = FieldErrors::new();
    if name_taken {
        errors.add("name", "该单位全称已注册，如需找回帐号请使用“忘记密码”");
    }
    if code_taken {
        errors.add(
            "credit_code",
            "该统一社会信用代码已注册，如需找回帐号请使用“忘记密码”",
        );
    }
    if errors.is_empty() {
        Ok(data)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// The wizard's account step as typed.
pub struct AccountInput<'a> {
    pub login_id: &'a str,
    pub password: &'a str,
    pub password2: &'a str,
}

const LOGIN_TAKEN: &str = "该登录ID已被使用，请换一个";

/// Creates the unit (draft) and its account, signed in from `ip`: returns the new session's id.
/// `flow` is the wizard's token, removed with it.
pub async fn create_account(
    state: &AppState,
    w: &Wizard,
    input: &AccountInput<'_>,
    ip: &str,
    flow: Option<&str>,
) -> Outcome<String> {
    let data = w.ready_for_account().ok_or(Error::Forbidden)?;
    let mut errors = FieldErrors::new();
    let login = match LoginId::parse(input.login_id) {
        Ok(l) => Some(l),
        Err(e) => {
            errors.add("login_id", e.to_string());
            None
        }
    };
    let pw = check_new_password(
        input.password,
        input.password2,
        input.login_id.trim(),
        &mut errors,
    );
    if let Some(l) = &login {
        // Whether a login ID is taken is asked a limited number of times per wizard and address.
        let wizard = hmac_hex(&state.secret, &["login_id_check", flow.unwrap_or(ip)]);
        let by_flow = attempts::reserve(state, &LOGIN_ID_CHECK_FLOW, &wizard).await?;
        let by_address = attempts::reserve(state, &LOGIN_ID_CHECK_ADDRESS, ip).await?;
        if !by_flow.allowed || !by_address.allowed {
            let mut tx = state.db.begin().await?;
            audit::write(
                tx.conn(),
                &Actor::anonymous(ip),
                state.now(),
                "registration.login_id_limited",
                ObjectType::Login,
                clip(&l.key(), MAX_LOGIN_RECORDED),
                "",
            )
            .await?;
            tx.commit().await?;
            let wait = by_flow.wait.max(by_address.wait);
            return Err(Error::invalid(
                "login_id",
                format!("检查登录ID的次数过多，请{}后再试", attempts::minutes(wait)),
            ));
        }
        if users::login_key_taken(state.pool(), &l.key()).await? {
            errors.add("login_id", LOGIN_TAKEN);
        }
    }
    let (Some(login), Some(pw), true) = (login, pw, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let hash = hash_password(&pw)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let created = async {
        let unit_id = units::insert(tx.conn(), data, &w.mobile, now).await?;
        let user_id = users::insert(
            tx.conn(),
            &NewUser {
                role: Role::Unit,
                login_id: login.as_str(),
                login_key: &login.key(),
                password_hash: &hash,
                display_name: &data.contact_name,
                unit_id: Some(unit_id),
                district_id: None,
                must_change_password: false,
            },
            now,
        )
        .await?;
        Ok::<_, sqlx::Error>((unit_id, user_id))
    }
    .await;
    let (unit_id, user_id) = match created {
        Ok(ids) => ids,
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            // Someone registered the same name, code or login ID meanwhile: say which.
            return Err(
                if users::login_key_taken(state.pool(), &login.key()).await? {
                    Error::invalid("login_id", LOGIN_TAKEN)
                } else {
                    Error::invalid(
                        "login_id",
                        "单位全称或统一社会信用代码已被注册，请返回上一步核对",
                    )
                },
            );
        }
        Err(e) => return Err(e.into()),
    };
    let actor = Actor {
        user_id: Some(user_id),
        label: format!("{}（{}）", data.contact_name, login.as_str()),
        ip: ip.to_string(),
    };
    audit::write(
        tx.conn(),
        &actor,
        now,
        CREATE_AUDIT_NAME,
        Request::Registration.object_type(),
        &unit_id.to_string(),
        &format!("登录ID {}", login.as_str()),
    )
    .await?;
    let sid = super::accounts::open_session(tx.conn(), user_id, ip, now).await?;
    if let Some(token) = flow {
        flows::delete(tx.conn(), token).await?;
    }
    tx.commit().await?;
    Ok(sid)
}

// ---- the signed-in unit's registration ----

/// One attachment slot of a unit: its type and file, `replaced` when the file is a change
/// request's new one.
#[derive(Clone, Debug)]
pub struct AttachmentSlot {
    pub t: AttachmentType,
    pub file: Option<FileMeta>,
    pub replaced: bool,
}

/// The attachment slots of a unit: its `current` files, with a change request's `replaced`
/// ones in their place. Retired types stay listed where the unit gave a file of them.
async fn slots(
    state: &AppState,
    current: &BTreeMap<i64, FileMeta>,
    replaced: &BTreeMap<i64, i64>,
) -> Outcome<Vec<AttachmentSlot>> {
    let keep: Vec<i64> = current.keys().chain(replaced.keys()).copied().collect();
    let types = reference::attachment_types_shown(state.pool(), SCOPE, &keep).await?;
    let mut out = Vec::with_capacity(types.len());
    for t in types {
        let (file, is_new) = match replaced.get(&t.id) {
            Some(fid) => (reference::file(state.pool(), *fid).await?, true),
            None => (current.get(&t.id).cloned(), false),
        };
        out.push(AttachmentSlot {
            t,
            file,
            replaced: is_new,
        });
    }
    Ok(out)
}

/// A unit's registration as it stands: the unit, its current attachments, and its change
/// request that is not yet approved, if any.
pub struct Own {
    pub unit: Unit,
    pub attachments: BTreeMap<i64, FileMeta>,
    pub open_change: Option<Change>,
}

impl Own {
    /// What the unit's `action` applies to now (see [`flow::request_for`]).
    pub fn request_for(&self, action: RegAction) -> Option<Request> {
        let open = self.open_change.as_ref().map(|c| c.state);
        flow::request_for(action, self.unit.state, open)
    }
    /// The change request being edited: the open one, or a new one (id 0) from the approved data.
    fn change_draft(&self) -> Change {
        self.open_change.clone().unwrap_or_else(|| Change {
            id: 0,
            unit_id: self.unit.id,
            data: self.unit.data.clone(),
            attachments: BTreeMap::new(),
            state: RegState::Draft,
            return_reason: None,
            county_passed: false,
            submitted_at: None,
        })
    }
    /// What is edited now and the organisation data its form starts from.
    pub fn editing_data(&self) -> Option<(Request, RegData)> {
        let request = self.request_for(RegAction::Save)?;
        let data = match request {
            Request::Registration => self.unit.data.clone(),
            Request::Change => self.change_draft().data,
        };
        Some((request, data))
    }
}

/// The signed-in unit's registration.
pub async fn own(state: &AppState, p: &Principal) -> Outcome<Own> {
    let unit_id = p.own_unit().ok_or(Error::Forbidden)?;
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    let attachments = units::attachments(state.pool(), unit_id).await?;
    let open_change = units::open_change(state.pool(), unit_id).await?;
    Ok(Own {
        unit,
        attachments,
        open_change,
    })
}

/// 用户注册信息: the registration, its attachments, its open change request and its timeline.
pub struct OwnPage {
    pub own: Own,
    pub slots: Vec<AttachmentSlot>,
    /// The open change request's slots (empty without one).
    pub change_slots: Vec<AttachmentSlot>,
    pub timeline: Vec<Entry>,
    pub editable: bool,
}

pub async fn own_page(state: &AppState, p: &Principal) -> Outcome<OwnPage> {
    let own = own(state, p).await?;
    let unit_slots = slots(state, &own.attachments, &BTreeMap::new()).await?;
    let change_slots = match &own.open_change {
        Some(ch) => slots(state, &own.attachments, &ch.attachments).await?,
        None => Vec::new(),
    };
    let timeline = audit::timeline(
        state.pool(),
        Request::Registration.object_type(),
        &own.unit.id.to_string(),
    )
    .await?;
    let editable = own.request_for(RegAction::Save).is_some();
    Ok(OwnPage {
        own,
        slots: unit_slots,
        change_slots,
        timeline,
        editable,
    })
}

/// The attachments step: what is edited and its slots.
pub struct AttachmentsStep {
    pub unit_id: i64,
    pub editing: Request,
    pub slots: Vec<AttachmentSlot>,
}

/// The attachments step, or `None` while everything is under review.
pub async fn attachments_page(state: &AppState, p: &Principal) -> Outcome<Option<AttachmentsStep>> {
    let own = own(state, p).await?;
    let Some(editing) = own.request_for(RegAction::Upload) else {
        return Ok(None);
    };
    let replaced = match editing {
        Request::Registration => BTreeMap::new(),
        Request::Change => own.change_draft().attachments,
    };
    Ok(Some(AttachmentsStep {
        unit_id: own.unit.id,
        editing,
        slots: slots(state, &own.attachments, &replaced).await?,
    }))
}

const UNDER_REVIEW: &str = "注册信息正在审核中，暂不能修改";

/// Saves the organisation data: directly while not approved, as a change request after.
pub async fn save(state: &AppState, p: &Principal, form: &RegForm) -> Outcome<Request> {
    let own = own(state, p).await?;
    let Some(request) = own.request_for(RegAction::Save) else {
        return Err(Error::Stale(UNDER_REVIEW.into()));
    };
    let data = check_org(state, form, Some(own.unit.id)).await?;
    let now = state.now();
    let uid = own.unit.id.to_string();
    let object = Request::Registration.object_type();
    let action = request.audit_name(RegAction::Save);
    let mut tx = state.db.begin().await?;
    match request {
        Request::Registration => {
            match units::update_data(tx.conn(), own.unit.id, &data, now, true).await {
                Ok(true) => {}
                Ok(false) => return Err(Error::Stale(UNDER_REVIEW.into())),
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::invalid(
                        "name",
                        "单位全称或统一社会信用代码已被其他单位注册",
                    ))
                }
                Err(e) => return Err(e.into()),
            }
            audit::write(tx.conn(), &p.actor, now, action, object, &uid, "").await?;
        }
        Request::Change => {
            // Read again under the unit's lock: an attachment uploaded since the page was read
            // is kept.
            const CHANGE_LOCKED: &str = "变更申请正在审核中，暂不能修改";
            let Some(mut ch) = editable_change(tx.conn(), own.unit.id, now).await? else {
                return Err(Error::Stale(CHANGE_LOCKED.into()));
            };
            ch.data = data;
            if !units::update_change(tx.conn(), &ch, now).await? {
                return Err(Error::Stale(CHANGE_LOCKED.into()));
            }
            let id = ch.id;
            let detail = format!("变更申请{id}");
            audit::write(tx.conn(), &p.actor, now, action, object, &uid, &detail).await?;
        }
    }
    tx.commit().await?;
    Ok(request)
}

const ATTACHMENTS_LOCKED: &str = "注册信息正在审核中，暂不能修改附件";

/// Where an upload of an attachment goes: the unit, what it edits now (its registration or a
/// change request) and the attachment type. Checked before the upload is read.
pub struct UploadTarget {
    unit_id: i64,
    request: Request,
    type_name: String,
    type_id: i64,
}

/// The target of an upload of attachment type `type_id` by the signed-in unit: refused while
/// everything is under review, not found for a type that registrations do not use.
pub async fn upload_target(state: &AppState, p: &Principal, type_id: i64) -> Outcome<UploadTarget> {
    let own = own(state, p).await?;
    let Some(request) = own.request_for(RegAction::Upload) else {
        return Err(Error::Stale(ATTACHMENTS_LOCKED.into()));
    };
    let types = reference::attachment_types(state.pool(), SCOPE).await?;
    let t = types
        .iter()
        .find(|t| t.id == type_id)
        .ok_or(Error::NotFound)?;
    Ok(UploadTarget {
        unit_id: own.unit.id,
        request,
        type_name: t.name.clone(),
        type_id,
    })
}

/// Locks the change request an approved unit edits in the caller's transaction: the unit's row
/// (so that no review applies a change meanwhile), then its open change request, read again
/// inside the transaction, or a new one from the unit's approved data. None when the unit is
/// no longer approved or its change request is under review.
async fn editable_change(
    conn: &mut crate::store::Conn,
    unit_id: i64,
    now: i64,
) -> Outcome<Option<Change>> {
    if !units::lock_approved(conn, unit_id).await? {
        return Ok(None);
    }
    match units::open_change(&mut *conn, unit_id).await? {
        Some(ch) if ch.state.editable() => Ok(Some(ch)),
        Some(_) => Ok(None),
        None => {
            let unit = units::get(&mut *conn, unit_id)
                .await?
                .ok_or(Error::NotFound)?;
            let id = units::insert_change(conn, unit_id, &unit.data, now).await?;
            Ok(Some(Change {
                id,
                unit_id,
                data: unit.data,
                attachments: BTreeMap::new(),
                state: RegState::Draft,
                return_reason: None,
                county_passed: false,
                submitted_at: None,
            }))
        }
    }
}

/// Uploads one attachment (a PDF, checked by content) to `target` (from [`upload_target`]): the
/// registration's, or a change request's replacement. The registration (or change request) is
/// checked again, locked in the transaction that links the file: one submitted meanwhile keeps
/// its files and nothing is stored.
pub async fn upload(
    state: &AppState,
    p: &Principal,
    target: &UploadTarget,
    file: &Upload,
) -> Outcome<()> {
    if p.own_unit() != Some(target.unit_id) {
        return Err(Error::NotFound);
    }
    let checked = files::check(file, Accept::Pdf, "file")?;
    let now = state.now();
    let type_id = target.type_id;
    let mut tx = state.db.begin().await?;
    match target.request {
        Request::Registration => {
            if !units::lock_editable(tx.conn(), target.unit_id).await? {
                return Err(Error::Stale(ATTACHMENTS_LOCKED.into()));
            }
            let file_id = files::store(state, tx.conn(), checked, Some(p.user_id), now).await?;
            units::set_attachment(tx.conn(), target.unit_id, type_id, file_id, now).await?;
        }
        Request::Change => {
            let Some(mut ch) = editable_change(tx.conn(), target.unit_id, now).await? else {
                return Err(Error::Stale(ATTACHMENTS_LOCKED.into()));
            };
            let file_id = files::store(state, tx.conn(), checked, Some(p.user_id), now).await?;
            ch.attachments.insert(type_id, file_id);
            if !units::update_change(tx.conn(), &ch, now).await? {
                return Err(Error::Stale(ATTACHMENTS_LOCKED.into()));
            }
        }
    }
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        target.request.audit_name(RegAction::Upload),
        Request::Registration.object_type(),
        &target.unit_id.to_string(),
        &format!("{}：{}", target.type_name, file.name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The refusal of 【提交】 when nothing of the unit waits for it (submitted already).
const SUBMITTED: &str = "注册信息已提交，正在审核中";

/// What the unit's 【提交】 sends now: its registration or, once approved, its change request
/// (refused when neither waits for it).
pub fn submitting(own: &Own) -> Outcome<Request> {
    own.request_for(RegAction::Submit)
        .ok_or_else(|| Error::Stale(SUBMITTED.into()))
}

/// The names of the required attachments `request` still lacks: 【提交】 refuses while there is
/// any, and the confirmation step does not ask first (the page says what to upload).
pub async fn missing_for_submit(
    state: &AppState,
    own: &Own,
    request: Request,
) -> Outcome<Vec<String>> {
    let types = reference::attachment_types(state.pool(), SCOPE).await?;
    let replaced = match request {
        Request::Change => own.change_draft().attachments,
        Request::Registration => BTreeMap::new(),
    };
    Ok(types
        .into_iter()
        .filter(|t| {
            t.required && !own.attachments.contains_key(&t.id) && !replaced.contains_key(&t.id)
        })
        .map(|t| t.name)
        .collect())
}

/// [提交注册], or for an approved unit 【提交】 of its change request: refused (on the field
/// `submit`) while a required attachment is missing.
pub async fn submit(state: &AppState, p: &Principal) -> Outcome<Request> {
    let own = own(state, p).await?;
    let request = submitting(&own)?;
    let missing = missing_for_submit(state, &own, request).await?;
    let mut change = own.change_draft();
    if !missing.is_empty() {
        return Err(Error::invalid(
            "submit",
            format!("请上传必选附件：{}", missing.join("、")),
        ));
    }
    let now = state.now();
    let actor = &p.actor;
    let uid = own.unit.id.to_string();
    let action = request.audit_name(RegAction::Submit);
    let mut tx = state.db.begin().await?;
    let (ok, notice) = match request {
        Request::Registration => {
            let ok = units::submit(tx.conn(), own.unit.id, now).await?;
            if ok {
                let object = request.object_type();
                audit::write(tx.conn(), actor, now, action, object, &uid, "").await?;
            }
            (ok, notify::registration_submitted())
        }
        Request::Change => {
            // Under the unit's lock, as its uploads: the change request as it is now.
            let Some(locked) = editable_change(tx.conn(), own.unit.id, now).await? else {
                return Err(Error::Stale(SUBMITTED.into()));
            };
            change.id = locked.id;
            let ok = units::submit_change(tx.conn(), change.id, now).await?;
            if ok {
                // The unit's timeline shows it, and so does the change request's.
                audit::write(
                    tx.conn(),
                    actor,
                    now,
                    action,
                    Request::Registration.object_type(),
                    &uid,
                    &format!("变更申请{}", change.id),
                )
                .await?;
                audit::write(
                    tx.conn(),
                    actor,
                    now,
                    action,
                    request.object_type(),
                    &change.id.to_string(),
                    "",
                )
                .await?;
            }
            (ok, notify::change_submitted())
        }
    };
    if !ok {
        return Err(Error::Stale(SUBMITTED.into()));
    }
    let queued = notify::write(tx.conn(), own.unit.id, &Actor::system(), &notice, now).await?;
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(request)
}

// ---- who may see a unit ----

/// Whether the principal may see the unit's registration and files.
pub async fn may_view_unit(state: &AppState, p: &Principal, unit: &Unit) -> Outcome<bool> {
    let passed = flow::needs_county_passed(p.role, unit.state)
        && units::county_passed(state.pool(), unit.id).await?;
    Ok(flow::may_view(
        p,
        unit.state,
        unit.data.district_id,
        unit.id,
        passed,
    ))
}

/// Whether the principal may see a change request of a unit they may see.
fn may_view_change(p: &Principal, change: &Change) -> bool {
    flow::may_view_change(
        p,
        change.state,
        change.unit_id,
        change.submitted_at.is_some(),
        change.county_passed,
    )
}

/// A unit the principal may see: the unit, or `NotFound`.
pub async fn visible_unit(state: &AppState, p: &Principal, unit_id: i64) -> Outcome<Unit> {
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(Error::NotFound)?;
    if may_view_unit(state, p, &unit).await? {
        Ok(unit)
    } else {
        Err(Error::NotFound)
    }
}

/// An attachment of a unit (current, or of a change request: the unit sees its drafts', the
/// reviewers only submitted ones') for whoever may see the unit.
pub async fn unit_file(
    state: &AppState,
    p: &Principal,
    unit_id: i64,
    file_id: i64,
) -> Outcome<(FileMeta, Vec<u8>)> {
    visible_unit(state, p, unit_id).await?;
    let with_drafts = p.role == Role::Unit;
    if !units::owns_file(state.pool(), unit_id, file_id, with_drafts).await? {
        return Err(Error::NotFound);
    }
    files::read(state, file_id).await
}

// ---- review by county and city ----

/// The state of the registrations and change requests a principal reviews, and the district
/// they review (county staff: their own; the city: all); `None` for those who do not review
/// (a county account without a district reviews nothing).
pub fn review_scope(p: &Principal) -> Option<(RegState, Option<i64>)> {
    if p.role == Role::County && p.district_id.is_none() {
        return None;
    }
    let state = flow::work_states(p.role).first().copied()?;
    Some((state, p.district_scope()))
}

/// 待办: the registrations and change requests waiting for the principal, oldest first.
pub async fn queue(state: &AppState, p: &Principal) -> Outcome<Vec<QueueItem>> {
    let (reg_state, district) = review_scope(p).ok_or(Error::Forbidden)?;
    Ok(units::queue(state.pool(), reg_state, district).await?)
}

/// What is reviewed: a unit's registration, or a change request (by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Unit(i64),
    Change(i64),
}

/// The unit and, for a change request, the change, both visible to the principal.
async fn subject(state: &AppState, p: &Principal, s: Subject) -> Outcome<(Unit, Option<Change>)> {
    match s {
        Subject::Unit(id) => Ok((visible_unit(state, p, id).await?, None)),
        Subject::Change(id) => {
            let change = units::change(state.pool(), id)
                .await?
                .ok_or(Error::NotFound)?;
            let unit = visible_unit(state, p, change.unit_id).await?;
            if !may_view_change(p, &change) {
                return Err(Error::NotFound);
            }
            Ok((unit, Some(change)))
        }
    }
}

/// The review detail page: the unit, the change request if one is reviewed, every district's
/// name (the proposed district may differ), the attachments, the timeline and the principal's
/// actions.
pub struct ReviewPage {
    pub unit: Unit,
    pub change: Option<Change>,
    pub district_names: BTreeMap<i64, String>,
    pub slots: Vec<AttachmentSlot>,
    pub timeline: Vec<Entry>,
    pub actions: Vec<RegAction>,
}

pub async fn review_page(state: &AppState, p: &Principal, s: Subject) -> Outcome<ReviewPage> {
    let (unit, change) = subject(state, p, s).await?;
    let current = change.as_ref().map(|c| c.state).unwrap_or(unit.state);
    let actions = flow::actions(p, current, unit.data.district_id, unit.id);
    let district_names = units::district_names(state.pool()).await?;
    let attachments = units::attachments(state.pool(), unit.id).await?;
    let replaced = change
        .as_ref()
        .map(|c| c.attachments.clone())
        .unwrap_or_default();
    let slots = slots(state, &attachments, &replaced).await?;
    let (object, oid) = match &change {
        Some(c) => (Request::Change.object_type(), c.id.to_string()),
        None => (Request::Registration.object_type(), unit.id.to_string()),
    };
    let timeline = audit::timeline(state.pool(), object, &oid).await?;
    Ok(ReviewPage {
        unit,
        change,
        district_names,
        slots,
        timeline,
        actions,
    })
}

/// The longest reason of a return (and comment of an approval).
pub const MAX_REASON: usize = crate::domain::fields::MAX_REASON;
const STALE: &str = "该申请已被他人处理或状态已变化，请返回待办刷新后查看";

/// 【审核通过】 (`approve`, with an optional comment) or 【退回】 (with the reason, required) by
/// the principal's office. The unit is told by site message and, after the commit, SMS. A
/// change request approved by the city is put into force.
pub async fn decide(
    state: &AppState,
    p: &Principal,
    s: Subject,
    approve: bool,
    reason: &str,
    comment: &str,
) -> Outcome<()> {
    let action = RegAction::review(p.role, approve)
        .filter(|_| review_scope(p).is_some())
        .ok_or(Error::Forbidden)?;
    let (unit, change) = subject(state, p, s).await?;
    let (request, current) = match &change {
        None => (Request::Registration, unit.state),
        Some(c) => (Request::Change, c.state),
    };
    let to = flow::may(p, current, action, unit.data.district_id, unit.id)
        .ok_or_else(|| Error::Stale(STALE.into()))?;
    let reason = reason.trim().to_string();
    let comment = comment.trim().to_string();
    if action.is_return() {
        if reason.is_empty() {
            return Err(Error::invalid(
                "reason",
                "请填写退回原因，一次性告知需要补充或修改的全部内容",
            ));
        } else if reason.chars().count() > MAX_REASON {
            return Err(Error::invalid(
                "reason",
                format!("退回原因不能超过{MAX_REASON}个字符"),
            ));
        }
    } else if comment.chars().count() > MAX_REASON {
        return Err(Error::invalid(
            "comment",
            format!("审核意见不能超过{MAX_REASON}个字符"),
        ));
    }
    let decision = Decision {
        from: current,
        to,
        district: p.district_scope(),
        reason: action.is_return().then_some(reason.as_str()),
    };
    let now = state.now();
    let by = p.office();
    let mut tx = state.db.begin().await?;
    let (ok, notice, oid) = match &change {
        None => {
            let ok = units::review(tx.conn(), unit.id, &decision, now).await?;
            let notice = match action {
                RegAction::CountyApprove => notify::registration_county_passed(),
                RegAction::CityApprove => notify::registration_approved(),
                _ => notify::registration_returned(by, &reason),
            };
            (ok, notice, unit.id.to_string())
        }
        Some(c) => {
            let ok = units::review_change(tx.conn(), c.id, &decision, now).await?;
            if ok && to == RegState::Approved {
                let change = units::change(state.pool(), c.id)
                    .await?
                    .ok_or(Error::NotFound)?;
                if let Err(e) = units::apply_change(tx.conn(), &change, now).await {
                    if is_unique_violation(&e) {
                        return Err(Error::Stale(
                            "变更后的单位全称或统一社会信用代码与其他单位重复，请退回该变更申请"
                                .into(),
                        ));
                    }
                    return Err(e.into());
                }
            }
            let notice = match action {
                RegAction::CountyApprove => notify::change_county_passed(),
                RegAction::CityApprove => notify::change_approved(),
                _ => notify::change_returned(by, &reason),
            };
            (ok, notice, c.id.to_string())
        }
    };
    if !ok {
        return Err(Error::Stale(STALE.into()));
    }
    let detail = if approve { comment } else { reason };
    let name = request.audit_name(action);
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        name,
        request.object_type(),
        &oid,
        &detail,
    )
    .await?;
    if request == Request::Change {
        // The unit's own timeline shows change decisions too.
        let uid = unit.id.to_string();
        let object = Request::Registration.object_type();
        audit::write(tx.conn(), &p.actor, now, name, object, &uid, &detail).await?;
    }
    let queued = notify::write(tx.conn(), unit.id, &p.actor, &notice, now).await?;
    tx.commit().await?;
    notify::send(state, queued).await;
    Ok(())
}

// ---- the administrators' overview ----

/// The administrators' home: staff accounts, units by registration state, latest audit entries.
pub struct Overview {
    pub staff: Vec<User>,
    pub counts: Vec<(RegState, i64)>,
    pub recent: Vec<Entry>,
}

pub async fn overview(state: &AppState, p: &Principal) -> Outcome<Overview> {
    if p.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    let staff = users::staff(state.pool()).await?;
    let mut counts = Vec::new();
    for s in [
        RegState::Draft,
        RegState::PendingCounty,
        RegState::PendingCity,
        RegState::Returned,
        RegState::Approved,
    ] {
        counts.push((s, units::count_in_state(state.pool(), s).await?));
    }
    let recent = audit::recent(state.pool(), 30).await?;
    Ok(Overview {
        staff,
        counts,
        recent,
    })
}
