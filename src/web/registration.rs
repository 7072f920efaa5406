//! The registration wizard (manual 1.3) and the unit's own registration pages (manual 1.5.1–1.5.3).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::{Deserialize, Serialize};

use super::ctx::{cookie_header, Ctx, FLOW_COOKIE, SESSION_COOKIE};
use super::error::{AppError, AppResult};
use super::flow::{flow_load, flow_save, redirect_with_cookie, FlowKind};
use super::page::render;
use super::page::OkQuery;
use super::page::{flash_text, layout, Layout};
use crate::db::is_unique_violation;
use crate::domain::fields::FieldErrors;
use crate::domain::password::check_new_password;
use crate::domain::registration::{RegData, RegForm, RegState, UNIT_TYPES};
use crate::domain::{LoginId, Mobile};
use crate::security::{hash_password, random_token};
use crate::state::AppState;
use crate::store::reference::{self, AttachmentType, District, FileMeta};
use crate::store::units::{self, Change, Unit};
use crate::store::users::{self, NewUser, Role};
use crate::store::{audit, flows, sessions};
use crate::workflow::notify;
use crate::workflow::verify;

/// Seconds the registration notice must be shown before it can be accepted.
pub const NOTICE_SECS: i64 = 10;

#[derive(Serialize, Deserialize, Default, Clone)]
struct RegFlow {
    shown: i64,
    accepted: bool,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    org: Option<RegData>,
}

async fn load_flow(state: &AppState, ctx: &Ctx) -> AppResult<Option<RegFlow>> {
    Ok(flow_load(state, ctx, FlowKind::Register)
        .await?
        .and_then(|v| serde_json::from_value(v).ok()))
}

async fn save_flow(
    state: &AppState,
    ctx: &Ctx,
    flow: &RegFlow,
    fresh: bool,
) -> AppResult<Option<String>> {
    let v = serde_json::to_value(flow).map_err(|e| AppError::Internal(e.into()))?;
    flow_save(state, ctx, FlowKind::Register, &v, fresh).await
}

/// The step bar of the wizard.
pub const STEPS: &[&str] = &[
    "阅读注册须知",
    "验证手机号码",
    "补充机构信息",
    "填写注册账号信息",
    "添加附件",
    "提交注册申请",
];

#[derive(Template)]
#[template(path = "register_notice.html")]
struct NoticePage {
    l: Layout,
    step: usize,
    steps: &'static [&'static str],
    title: String,
    paragraphs: Vec<String>,
    remaining: i64,
    error: String,
}

async fn notice_page(
    state: &AppState,
    ctx: &Ctx,
    remaining: i64,
    error: &str,
) -> AppResult<Response> {
    let c = reference::content(state.pool(), "registration_notice").await?;
    render(NoticePage {
        l: layout(state, ctx, "用户注册").await?,
        step: 0,
        steps: STEPS,
        title: c.title,
        paragraphs: c
            .body
            .lines()
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
            .collect(),
        remaining,
        error: error.into(),
    })
}

/// 【用户注册】: shows the notice and starts the countdown (also kept on the server).
pub async fn start(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if ctx.user.is_some() {
        return Ok(Redirect::to("/home").into_response());
    }
    let flow = RegFlow {
        shown: state.now(),
        ..RegFlow::default()
    };
    let cookie = save_flow(&state, &ctx, &flow, true).await?;
    let mut resp = notice_page(&state, &ctx, NOTICE_SECS, "").await?;
    if let Some(c) = cookie {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// "我已阅读以上须知": refused until the notice has been shown for ten seconds.
pub async fn accept_notice(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let Some(mut flow) = load_flow(&state, &ctx).await? else {
        return Ok(Redirect::to("/register").into_response());
    };
    let waited = state.now() - flow.shown;
    if waited < NOTICE_SECS {
        let remaining = NOTICE_SECS - waited;
        return notice_page(
            &state,
            &ctx,
            remaining,
            &format!("请认真阅读注册须知，{remaining}秒后再点击“我已阅读以上须知”"),
        )
        .await;
    }
    flow.accepted = true;
    save_flow(&state, &ctx, &flow, false).await?;
    Ok(Redirect::to("/register/mobile").into_response())
}

#[derive(Template)]
#[template(path = "register_mobile.html")]
struct MobilePage {
    l: Layout,
    step: usize,
    steps: &'static [&'static str],
    mobile: String,
    code: String,
    sent: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct MobileForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    code: String,
}

pub async fn mobile_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let Some(flow) = load_flow(&state, &ctx).await?.filter(|f| f.accepted) else {
        return Ok(Redirect::to("/register").into_response());
    };
    render(MobilePage {
        l: layout(&state, &ctx, "用户注册").await?,
        step: 1,
        steps: STEPS,
        mobile: flow.mobile,
        code: String::new(),
        sent: String::new(),
        errors: FieldErrors::new(),
    })
}

/// [获取验证码] and [第一步：校验短信验证码].
pub async fn mobile(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<MobileForm>,
) -> AppResult<Response> {
    let Some(mut flow) = load_flow(&state, &ctx).await?.filter(|f| f.accepted) else {
        return Ok(Redirect::to("/register").into_response());
    };
    let mut errors = FieldErrors::new();
    let mut sent = String::new();
    match Mobile::parse(&form.mobile) {
        Err(e) => errors.add("mobile", e.to_string()),
        Ok(m) if form.action == "send" => {
            match verify::send_code(&state, m.as_str(), verify::Purpose::Register, &ctx.ip).await {
                Ok(()) => {
                    sent = format!("验证码已发送至{}，5分钟内有效", m.masked());
                    flow.mobile = m.as_str().to_string();
                    flow.verified = false;
                    save_flow(&state, &ctx, &flow, false).await?;
                }
                Err(e) => errors.add("code", e.to_string()),
            }
        }
        Ok(m) => {
            match verify::check_code(&state, m.as_str(), verify::Purpose::Register, &form.code)
                .await
            {
                Ok(()) => {
                    flow.mobile = m.as_str().to_string();
                    flow.verified = true;
                    save_flow(&state, &ctx, &flow, false).await?;
                    return Ok(Redirect::to("/register/org").into_response());
                }
                Err(e) => errors.add("code", e.to_string()),
            }
        }
    }
    render(MobilePage {
        l: layout(&state, &ctx, "用户注册").await?,
        step: 1,
        steps: STEPS,
        mobile: form.mobile.trim().to_string(),
        code: form.code.trim().to_string(),
        sent,
        errors,
    })
}

/// The organisation form, shared by the wizard and the registration edit page.
#[derive(Template)]
#[template(path = "register_org.html")]
struct OrgPage {
    l: Layout,
    step: usize,
    steps: &'static [&'static str],
    wizard: bool,
    form: RegForm,
    errors: FieldErrors,
    districts: Vec<District>,
    unit_types: &'static [&'static str],
    mobile: String,
    note: String,
}

async fn org_page(
    state: &AppState,
    ctx: &Ctx,
    wizard: bool,
    form: RegForm,
    errors: FieldErrors,
    mobile: String,
    note: String,
) -> AppResult<Response> {
    render(OrgPage {
        l: layout(
            state,
            ctx,
            if wizard {
                "用户注册"
            } else {
                "修改注册信息"
            },
        )
        .await?,
        step: 2,
        steps: STEPS,
        wizard,
        form,
        errors,
        districts: reference::districts(state.pool()).await?,
        unit_types: UNIT_TYPES,
        mobile,
        note,
    })
}

pub async fn org_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let Some(flow) = load_flow(&state, &ctx).await?.filter(|f| f.verified) else {
        return Ok(Redirect::to("/register/mobile").into_response());
    };
    let form = flow.org.as_ref().map(RegData::to_form).unwrap_or_default();
    let mobile = Mobile::parse(&flow.mobile)
        .map(|m| m.masked())
        .unwrap_or_default();
    org_page(
        &state,
        &ctx,
        true,
        form,
        FieldErrors::new(),
        mobile,
        String::new(),
    )
    .await
}

/// Validates organisation data including uniqueness of name and credit code.
async fn validate_org(
    state: &AppState,
    form: &RegForm,
    except: Option<i64>,
) -> AppResult<Result<RegData, FieldErrors>> {
    let ids: Vec<i64> = reference::districts(state.pool())
        .await?
        .iter()
        .map(|d| d.id)
        .collect();
    let data = match form.validate(&ids) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
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
    Ok(if errors.is_empty() {
        Ok(data)
    } else {
        Err(errors)
    })
}

/// [继续设置账号、密码].
pub async fn org(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<RegForm>,
) -> AppResult<Response> {
    let Some(mut flow) = load_flow(&state, &ctx).await?.filter(|f| f.verified) else {
        return Ok(Redirect::to("/register/mobile").into_response());
    };
    match validate_org(&state, &form, None).await? {
        Ok(data) => {
            flow.org = Some(data);
            save_flow(&state, &ctx, &flow, false).await?;
            Ok(Redirect::to("/register/account").into_response())
        }
        Err(errors) => {
            let mobile = Mobile::parse(&flow.mobile)
                .map(|m| m.masked())
                .unwrap_or_default();
            org_page(&state, &ctx, true, form, errors, mobile, String::new()).await
        }
    }
}

#[derive(Template)]
#[template(path = "register_account.html")]
struct AccountPage {
    l: Layout,
    step: usize,
    steps: &'static [&'static str],
    login_id: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct AccountForm {
    #[serde(default)]
    login_id: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

pub async fn account_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if load_flow(&state, &ctx).await?.and_then(|f| f.org).is_none() {
        return Ok(Redirect::to("/register/org").into_response());
    }
    render(AccountPage {
        l: layout(&state, &ctx, "用户注册").await?,
        step: 3,
        steps: STEPS,
        login_id: String::new(),
        errors: FieldErrors::new(),
    })
}

/// Creates the unit (draft) and its account, signs in, and goes on to the attachments.
pub async fn account(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<AccountForm>,
) -> AppResult<Response> {
    let Some(flow) = load_flow(&state, &ctx).await? else {
        return Ok(Redirect::to("/register").into_response());
    };
    let Some(data) = flow.org.clone().filter(|_| flow.verified) else {
        return Ok(Redirect::to("/register/org").into_response());
    };
    let mut errors = FieldErrors::new();
    let login = match LoginId::parse(&form.login_id) {
        Ok(l) => Some(l),
        Err(e) => {
            errors.add("login_id", e.to_string());
            None
        }
    };
    let pw = check_new_password(
        &form.password,
        &form.password2,
        form.login_id.trim(),
        &mut errors,
    );
    if let Some(l) = &login {
        if users::login_key_taken(state.pool(), &l.key()).await? {
            errors.add("login_id", "该登录ID已被使用，请换一个");
        }
    }
    let again = |errors: FieldErrors| {
        let state = state.clone();
        let ctx = ctx.clone();
        let login_id = form.login_id.trim().to_string();
        async move {
            render(AccountPage {
                l: layout(&state, &ctx, "用户注册").await?,
                step: 3,
                steps: STEPS,
                login_id,
                errors,
            })
        }
    };
    let (Some(login), Some(pw), true) = (login, pw, errors.is_empty()) else {
        return again(errors).await;
    };
    let hash = hash_password(&pw)?;
    let now = state.now();
    let sid = random_token();
    let mut tx = state.db.begin().await?;
    let created = async {
        let unit_id = units::insert(tx.conn(), &data, &flow.mobile, now).await?;
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
            let mut errors = FieldErrors::new();
            if users::login_key_taken(state.pool(), &login.key()).await? {
                errors.add("login_id", "该登录ID已被使用，请换一个");
            } else {
                errors.add(
                    "login_id",
                    "单位全称或统一社会信用代码已被注册，请返回上一步核对",
                );
            }
            return again(errors).await;
        }
        Err(e) => return Err(e.into()),
    };
    let actor = crate::store::Actor {
        user_id: Some(user_id),
        label: format!("{}（{}）", data.contact_name, login.as_str()),
        ip: ctx.ip.clone(),
    };
    audit::record(
        tx.conn(),
        &actor,
        now,
        "unit.create",
        "unit",
        &unit_id.to_string(),
        &format!("登录ID {}", login.as_str()),
    )
    .await?;
    users::record_login(tx.conn(), user_id, now, &ctx.ip).await?;
    sessions::create(tx.conn(), &sid, user_id, now, &ctx.ip).await?;
    if let Some(token) = ctx.cookie(FLOW_COOKIE) {
        flows::delete(tx.conn(), token).await?;
    }
    tx.commit().await?;
    Ok(redirect_with_cookie(
        "/registration/attachments",
        Some(cookie_header(&state, SESSION_COOKIE, &sid, None)),
    ))
}

// ---- the signed-in unit's registration ----

/// What the unit is editing: its registration (before approval) or a change request (after).
enum Target {
    Unit,
    Change(Box<Change>),
}

struct Current {
    unit: Unit,
    attachments: BTreeMap<i64, FileMeta>,
    open_change: Option<Change>,
}

async fn current(state: &AppState, ctx: &Ctx) -> AppResult<Current> {
    let unit_id = ctx.unit_id()?;
    let unit = units::get(state.pool(), unit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let attachments = units::attachments(state.pool(), unit_id).await?;
    let open_change = units::open_change(state.pool(), unit_id).await?;
    Ok(Current {
        unit,
        attachments,
        open_change,
    })
}

/// The editable target, or None when everything is under review.
fn editable_target(c: &Current) -> Option<Target> {
    if c.unit.state.editable() {
        return Some(Target::Unit);
    }
    if c.unit.state == RegState::Approved {
        return match &c.open_change {
            None => Some(Target::Change(Box::new(Change {
                id: 0,
                unit_id: c.unit.id,
                data: c.unit.data.clone(),
                attachments: BTreeMap::new(),
                state: RegState::Draft,
                return_reason: None,
                county_passed: false,
                submitted_at: None,
            }))),
            Some(ch) if ch.state.editable() => Some(Target::Change(Box::new(ch.clone()))),
            Some(_) => None,
        };
    }
    None
}

/// One attachment slot on a page.
pub struct Slot {
    pub t: AttachmentType,
    pub file: Option<FileMeta>,
    pub replaced: bool,
    pub error: String,
}

#[derive(Template)]
#[template(path = "registration.html")]
struct RegistrationPage {
    l: Layout,
    unit: Unit,
    slots: Vec<Slot>,
    change: Option<Change>,
    change_slots: Vec<Slot>,
    editable: bool,
    timeline: Vec<audit::Entry>,
    upload: bool,
    unit_id: i64,
}

async fn slots(
    state: &AppState,
    files: &BTreeMap<i64, FileMeta>,
    replaced: &BTreeMap<i64, i64>,
) -> AppResult<Vec<Slot>> {
    // Retired types stay listed where the unit gave a file of them.
    let keep: Vec<i64> = files.keys().chain(replaced.keys()).copied().collect();
    let types = reference::attachment_types_shown(state.pool(), "unit", &keep).await?;
    let mut out = Vec::with_capacity(types.len());
    for t in types {
        let (file, is_new) = match replaced.get(&t.id) {
            Some(fid) => (reference::file(state.pool(), *fid).await?, true),
            None => (files.get(&t.id).cloned(), false),
        };
        out.push(Slot {
            t,
            file,
            replaced: is_new,
            error: String::new(),
        });
    }
    Ok(out)
}

/// 用户注册信息: the registration, its state and the reviewers' reasons.
pub async fn view(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let c = current(&state, &ctx).await?;
    let mut l = layout(&state, &ctx, "用户注册信息").await?;
    l.flash = flash_text(&q.ok).to_string();
    let unit_slots = slots(&state, &c.attachments, &BTreeMap::new()).await?;
    let change_slots = match &c.open_change {
        Some(ch) => slots(&state, &c.attachments, &ch.attachments).await?,
        None => Vec::new(),
    };
    let timeline = audit::for_object(state.pool(), "unit", &c.unit.id.to_string()).await?;
    let editable = editable_target(&c).is_some();
    render(RegistrationPage {
        upload: false,
        unit_id: c.unit.id,
        l,
        unit: c.unit,
        slots: unit_slots,
        change: c.open_change,
        change_slots,
        editable,
        timeline,
    })
}

pub async fn edit_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let c = current(&state, &ctx).await?;
    let Some(target) = editable_target(&c) else {
        return Ok(Redirect::to("/registration").into_response());
    };
    let (form, note) = match &target {
        Target::Unit => (c.unit.data.to_form(), String::new()),
        Target::Change(ch) => (ch.data.to_form(), "您的单位已审核通过。修改后的信息需提交县区外办和市外办审核，审核通过前原注册信息继续有效。".to_string()),
    };
    org_page(
        &state,
        &ctx,
        false,
        form,
        FieldErrors::new(),
        c.unit.mobile_masked(),
        note,
    )
    .await
}

/// Saves the organisation data: directly while not approved, as a change request after.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<RegForm>,
) -> AppResult<Response> {
    let c = current(&state, &ctx).await?;
    let Some(target) = editable_target(&c) else {
        return Err(AppError::Conflict("注册信息正在审核中，暂不能修改".into()));
    };
    let data = match validate_org(&state, &form, Some(c.unit.id)).await? {
        Ok(d) => d,
        Err(errors) => {
            return org_page(
                &state,
                &ctx,
                false,
                form,
                errors,
                c.unit.mobile_masked(),
                String::new(),
            )
            .await
        }
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let uid = c.unit.id.to_string();
    match target {
        Target::Unit => {
            let saved = units::update_data(tx.conn(), c.unit.id, &data, now, true).await;
            match saved {
                Ok(true) => {}
                Ok(false) => {
                    return Err(AppError::Conflict("注册信息正在审核中，暂不能修改".into()))
                }
                Err(e) if is_unique_violation(&e) => {
                    drop(tx);
                    let mut errors = FieldErrors::new();
                    errors.add("name", "单位全称或统一社会信用代码已被其他单位注册");
                    return org_page(
                        &state,
                        &ctx,
                        false,
                        form,
                        errors,
                        c.unit.mobile_masked(),
                        String::new(),
                    )
                    .await;
                }
                Err(e) => return Err(e.into()),
            }
            audit::record(
                tx.conn(),
                &ctx.actor(),
                now,
                "unit.update",
                "unit",
                &uid,
                "",
            )
            .await?;
        }
        Target::Change(mut ch) => {
            if ch.id == 0 {
                let id = units::insert_change(tx.conn(), c.unit.id, &data, now).await?;
                audit::record(
                    tx.conn(),
                    &ctx.actor(),
                    now,
                    "change.update",
                    "unit",
                    &uid,
                    &format!("变更申请{id}"),
                )
                .await?;
            } else {
                ch.data = data;
                if !units::update_change(tx.conn(), &ch, now).await? {
                    return Err(AppError::Conflict("变更申请正在审核中，暂不能修改".into()));
                }
                audit::record(
                    tx.conn(),
                    &ctx.actor(),
                    now,
                    "change.update",
                    "unit",
                    &uid,
                    &format!("变更申请{}", ch.id),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(Redirect::to("/registration/attachments?ok=saved").into_response())
}

#[derive(Template)]
#[template(path = "registration_attachments.html")]
struct AttachmentsPage {
    l: Layout,
    step: usize,
    steps: &'static [&'static str],
    slots: Vec<Slot>,
    is_change: bool,
    submit_error: String,
    upload: bool,
    unit_id: i64,
}

async fn attachments_page(
    state: &AppState,
    ctx: &Ctx,
    flash: &str,
    error_for: Option<(i64, String)>,
    submit_error: &str,
) -> AppResult<Response> {
    let c = current(state, ctx).await?;
    let Some(target) = editable_target(&c) else {
        return Ok(Redirect::to("/registration").into_response());
    };
    let (mut slots, is_change) = match &target {
        Target::Unit => (slots(state, &c.attachments, &BTreeMap::new()).await?, false),
        Target::Change(ch) => (slots(state, &c.attachments, &ch.attachments).await?, true),
    };
    if let Some((type_id, msg)) = error_for {
        for s in &mut slots {
            if s.t.id == type_id {
                s.error = msg.clone();
            }
        }
    }
    let mut l = layout(state, ctx, "添加附件").await?;
    l.flash = flash.to_string();
    render(AttachmentsPage {
        l,
        step: 4,
        steps: STEPS,
        slots,
        is_change,
        submit_error: submit_error.into(),
        upload: true,
        unit_id: c.unit.id,
    })
}

pub async fn attachments(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    attachments_page(&state, &ctx, flash_text(&q.ok), None, "").await
}

/// Uploads one attachment (PDF checked by content, at most 10 MB).
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(type_id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let c = current(&state, &ctx).await?;
    let Some(target) = editable_target(&c) else {
        return Err(AppError::Conflict(
            "注册信息正在审核中，暂不能修改附件".into(),
        ));
    };
    let types = reference::attachment_types(state.pool(), "unit").await?;
    let Some(t) = types.iter().find(|t| t.id == type_id) else {
        return Err(AppError::NotFound);
    };
    let (name, bytes) = super::files::read_upload(multipart, "file").await?;
    let kind = match crate::files::check_pdf(&bytes) {
        Ok(k) => k,
        Err(e) => {
            return attachments_page(&state, &ctx, "", Some((type_id, e.to_string())), "").await
        }
    };
    let sha = state.files.put(&bytes).await?;
    let now = state.now();
    let user_id = ctx.user()?.id;
    let mut tx = state.db.begin().await?;
    let file_id = reference::insert_file(
        tx.conn(),
        &sha,
        bytes.len() as i64,
        kind.mime(),
        &name,
        Some(user_id),
        now,
    )
    .await?;
    let uid = c.unit.id.to_string();
    match target {
        Target::Unit => {
            units::set_attachment(tx.conn(), c.unit.id, type_id, file_id, now).await?;
            audit::record(
                tx.conn(),
                &ctx.actor(),
                now,
                "unit.attachment",
                "unit",
                &uid,
                &format!("{}：{name}", t.name),
            )
            .await?;
        }
        Target::Change(mut ch) => {
            if ch.id == 0 {
                ch.id = units::insert_change(tx.conn(), c.unit.id, &ch.data, now).await?;
            }
            ch.attachments.insert(type_id, file_id);
            units::update_change(tx.conn(), &ch, now).await?;
            audit::record(
                tx.conn(),
                &ctx.actor(),
                now,
                "change.attachment",
                "unit",
                &uid,
                &format!("{}：{name}", t.name),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(Redirect::to("/registration/attachments?ok=uploaded").into_response())
}

/// [提交注册] (or, for an approved unit, submitting the change request).
pub async fn submit(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let c = current(&state, &ctx).await?;
    let Some(target) = editable_target(&c) else {
        return Err(AppError::Conflict("注册信息已提交，正在审核中".into()));
    };
    let types = reference::attachment_types(state.pool(), "unit").await?;
    let replaced = match &target {
        Target::Change(ch) => ch.attachments.clone(),
        Target::Unit => BTreeMap::new(),
    };
    let missing: Vec<&str> = types
        .iter()
        .filter(|t| {
            t.required && !c.attachments.contains_key(&t.id) && !replaced.contains_key(&t.id)
        })
        .map(|t| t.name.as_str())
        .collect();
    if !missing.is_empty() {
        return attachments_page(
            &state,
            &ctx,
            "",
            None,
            &format!("请上传必选附件：{}", missing.join("、")),
        )
        .await;
    }
    let now = state.now();
    let actor = ctx.actor();
    let uid = c.unit.id.to_string();
    let mut tx = state.db.begin().await?;
    let (ok, notice, flash) = match target {
        Target::Unit => {
            let ok = units::submit(tx.conn(), c.unit.id, now).await?;
            if ok {
                audit::record(tx.conn(), &actor, now, "unit.submit", "unit", &uid, "").await?;
            }
            (ok, notify::registration_submitted(), "submitted")
        }
        Target::Change(mut ch) => {
            if ch.id == 0 {
                ch.id = units::insert_change(tx.conn(), c.unit.id, &ch.data, now).await?;
            }
            let ok = units::submit_change(tx.conn(), ch.id, now).await?;
            if ok {
                audit::record(
                    tx.conn(),
                    &actor,
                    now,
                    "change.submit",
                    "unit",
                    &uid,
                    &format!("变更申请{}", ch.id),
                )
                .await?;
                audit::record(
                    tx.conn(),
                    &actor,
                    now,
                    "change.submit",
                    "change",
                    &ch.id.to_string(),
                    "",
                )
                .await?;
            }
            (ok, notify::change_submitted(), "change_submitted")
        }
    };
    if !ok {
        return Err(AppError::Conflict("注册信息已提交，正在审核中".into()));
    }
    notify::write(
        tx.conn(),
        c.unit.id,
        &crate::store::Actor::system(),
        &notice,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/registration?ok={flash}")).into_response())
}
