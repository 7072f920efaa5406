//! The registration wizard (manual 1.3) and the unit's own registration pages (manual 1.5.1–1.5.3).

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::{cookie_header, Ctx, FLOW_COOKIE, SESSION_COOKIE};
use super::error::{AppError, AppResult};
use super::flow::{flow_load, flow_save, redirect_with_cookie, FlowKind};
use super::page::{flash_text, layout, render, Layout, OkQuery};
use super::unit_pages::{slots, Slot};
use crate::domain::fields::FieldErrors;
use crate::domain::registration::{RegForm, UNIT_TYPES};
use crate::domain::registration_flow::Request;
use crate::domain::Mobile;
use crate::state::AppState;
use crate::store::audit::Entry;
use crate::store::reference::District;
use crate::store::units::Change;
use crate::store::units::Unit;
use crate::workflow::error::Error;
use crate::workflow::registration::{self, AccountInput, Wizard, NOTICE_SECS};

async fn load_flow(state: &AppState, ctx: &Ctx) -> AppResult<Option<Wizard>> {
    Ok(flow_load(state, ctx, FlowKind::Register)
        .await?
        .and_then(|v| serde_json::from_value(v).ok()))
}

async fn save_flow(
    state: &AppState,
    ctx: &Ctx,
    flow: &Wizard,
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
    rules_title: String,
    rules_html: String,
    remaining: i64,
    error: String,
}

async fn notice_page(
    state: &AppState,
    ctx: &Ctx,
    remaining: i64,
    error: &str,
) -> AppResult<Response> {
    let c = registration::notice(state).await?;
    let rules = registration::personal_info_rules(state).await?;
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
        rules_title: rules.title,
        rules_html: crate::markdown::render(&rules.body),
        remaining,
        error: error.into(),
    })
}

/// 【用户注册】: shows the notice and starts the countdown (also kept on the server).
pub async fn start(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if ctx.user.is_some() {
        return Ok(Redirect::to("/home").into_response());
    }
    let flow = Wizard::start(state.now());
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
    if let Err(remaining) = flow.accept_notice(state.now()) {
        return notice_page(
            &state,
            &ctx,
            remaining,
            &format!("请认真阅读注册须知，{remaining}秒后再点击“我已阅读以上须知”"),
        )
        .await;
    }
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
    let done = if form.action == "send" {
        registration::send_code(&state, &mut flow, &form.mobile, &ctx.ip)
            .await
            .map(Some)
    } else {
        registration::check_code(&state, &mut flow, &form.mobile, &form.code)
            .await
            .map(|()| None)
    };
    match done {
        Ok(Some(m)) => {
            sent = format!("验证码已发送至{}，5分钟内有效", m.masked());
            save_flow(&state, &ctx, &flow, false).await?;
        }
        Ok(None) => {
            save_flow(&state, &ctx, &flow, false).await?;
            return Ok(Redirect::to("/register/org").into_response());
        }
        Err(Error::Invalid(e)) => errors = e,
        Err(e) => return Err(e.into()),
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
        districts: registration::districts(state).await?,
        unit_types: UNIT_TYPES,
        mobile,
        note,
    })
}

fn masked(mobile: &str) -> String {
    Mobile::parse(mobile)
        .map(|m| m.masked())
        .unwrap_or_default()
}

pub async fn org_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let Some(flow) = load_flow(&state, &ctx).await?.filter(|f| f.verified) else {
        return Ok(Redirect::to("/register/mobile").into_response());
    };
    let form = flow.org.as_ref().map(|d| d.to_form()).unwrap_or_default();
    let mobile = masked(&flow.mobile);
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

/// [继续设置账号、密码].
pub async fn org(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<RegForm>,
) -> AppResult<Response> {
    let Some(mut flow) = load_flow(&state, &ctx).await?.filter(|f| f.verified) else {
        return Ok(Redirect::to("/register/mobile").into_response());
    };
    match registration::set_org(&state, &mut flow, &form).await {
        Ok(()) => {
            save_flow(&state, &ctx, &flow, false).await?;
            Ok(Redirect::to("/register/account").into_response())
        }
        Err(Error::Invalid(errors)) => {
            let mobile = masked(&flow.mobile);
            org_page(&state, &ctx, true, form, errors, mobile, String::new()).await
        }
        Err(e) => Err(e.into()),
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
    if flow.ready_for_account().is_none() {
        return Ok(Redirect::to("/register/org").into_response());
    }
    let input = AccountInput {
        login_id: &form.login_id,
        password: &form.password,
        password2: &form.password2,
    };
    let token = ctx.cookie(FLOW_COOKIE);
    match registration::create_account(&state, &flow, &input, &ctx.ip, token).await {
        Ok(sid) => Ok(redirect_with_cookie(
            "/registration/attachments",
            Some(cookie_header(&state, SESSION_COOKIE, &sid, None)),
        )),
        Err(Error::Invalid(errors)) => render(AccountPage {
            l: layout(&state, &ctx, "用户注册").await?,
            step: 3,
            steps: STEPS,
            login_id: form.login_id.trim().to_string(),
            errors,
        }),
        Err(e) => Err(e.into()),
    }
}

// ---- the signed-in unit's registration ----

#[derive(Template)]
#[template(path = "registration.html")]
struct RegistrationPage {
    l: Layout,
    unit: Unit,
    slots: Vec<Slot>,
    change: Option<Change>,
    change_slots: Vec<Slot>,
    editable: bool,
    timeline: Vec<Entry>,
    upload: bool,
    unit_id: i64,
}

/// 用户注册信息: the registration, its state and the reviewers' reasons.
pub async fn view(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let page = registration::own_page(&state, ctx.principal()?).await?;
    let mut l = layout(&state, &ctx, "用户注册信息").await?;
    l.flash = flash_text(&q.ok).to_string();
    render(RegistrationPage {
        upload: false,
        unit_id: page.own.unit.id,
        l,
        unit: page.own.unit,
        slots: slots(page.slots),
        change: page.own.open_change,
        change_slots: slots(page.change_slots),
        editable: page.editable,
        timeline: page.timeline,
    })
}

pub async fn edit_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let own = registration::own(&state, ctx.principal()?).await?;
    let Some((editing, data)) = own.editing_data() else {
        return Ok(Redirect::to("/registration").into_response());
    };
    let note = match editing {
        Request::Registration => String::new(),
        Request::Change => "您的单位已审核通过。修改后的信息需提交县区外办和市外办审核，审核通过前原注册信息继续有效。".to_string(),
    };
    org_page(
        &state,
        &ctx,
        false,
        data.to_form(),
        FieldErrors::new(),
        own.unit.mobile_masked(),
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
    match registration::save(&state, ctx.principal()?, &form).await {
        Ok(_) => Ok(Redirect::to("/registration/attachments?ok=saved").into_response()),
        Err(Error::Invalid(errors)) => {
            let mobile = ctx
                .unit(&state)
                .await?
                .map(|u| u.mobile_masked())
                .unwrap_or_default();
            org_page(&state, &ctx, false, form, errors, mobile, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
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
    file_errors: &[(String, String)],
    submit_error: &str,
) -> AppResult<Response> {
    let Some(page) = registration::attachments_page(state, ctx.principal()?).await? else {
        return Ok(Redirect::to("/registration").into_response());
    };
    let mut slots = slots(page.slots);
    let mut submit_error = submit_error.to_string();
    for (slot, msg) in file_errors {
        match slots.iter_mut().find(|s| s.t.id.to_string() == *slot) {
            Some(s) => s.error = msg.clone(),
            // Not beside a slot (nothing chosen): under the table.
            None => submit_error = msg.clone(),
        }
    }
    let mut l = layout(state, ctx, "添加附件").await?;
    l.flash = flash.to_string();
    render(AttachmentsPage {
        l,
        step: 4,
        steps: STEPS,
        slots,
        is_change: page.editing == Request::Change,
        submit_error,
        upload: true,
        unit_id: page.unit_id,
    })
}

pub async fn attachments(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    attachments_page(&state, &ctx, flash_text(&q.ok), &[], "").await
}

/// Uploads one attachment (PDF checked by content, at most 10 MB).
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(type_id): Path<i64>,
    multipart: Multipart,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    // Checked before the file is read, and again when it is stored.
    let target = registration::upload_target(&state, p, type_id).await?;
    let file = super::files::read_file(multipart, "file").await?;
    match registration::upload(&state, p, &target, &file).await {
        Ok(()) => Ok(Redirect::to("/registration/attachments?ok=uploaded").into_response()),
        Err(Error::Invalid(e)) => {
            let msg = e.first().unwrap_or_default();
            attachments_page(
                &state,
                &ctx,
                "",
                &[(type_id.to_string(), msg.to_string())],
                "",
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// 【上传所选文件】: the attachments chosen in the form (inputs named by attachment type id), each
/// checked and stored on its own; refusals beside their slots, what was stored kept. The
/// upload script sends one file at a time here and gets JSON.
pub async fn upload_all(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let stored = async {
        let p = ctx.principal()?;
        let mut done = super::files::Stored::default();
        while let Some((slot, file)) = super::files::next_file(&mut multipart).await? {
            let type_id = slot.parse::<i64>().map_err(|_| AppError::NotFound)?;
            let outcome = match registration::upload_target(&state, p, type_id).await {
                Ok(target) => registration::upload(&state, p, &target, &file).await,
                Err(e) => Err(e),
            };
            done.record(slot, &file, outcome)?;
        }
        done.none_chosen();
        Ok(done)
    }
    .await;
    if super::files::wants_json(&headers) {
        return Ok(super::files::json_answer(stored));
    }
    let stored = stored?;
    if stored.refused.is_empty() {
        return Ok(Redirect::to("/registration/attachments?ok=uploaded").into_response());
    }
    let flash = match stored.stored.len() {
        0 => String::new(),
        n => format!("已上传{n}个附件；标红的附件未上传，请按提示重新选择。"),
    };
    attachments_page(&state, &ctx, &flash, &stored.refused, "").await
}

/// [提交注册] (or, for an approved unit, submitting the change request).
pub async fn submit(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    match registration::submit(&state, ctx.principal()?).await {
        Ok(request) => {
            let flash = match request {
                Request::Registration => "submitted",
                Request::Change => "change_submitted",
            };
            Ok(Redirect::to(&format!("/registration?ok={flash}")).into_response())
        }
        Err(Error::Invalid(e)) => {
            let msg = e.first().unwrap_or_default();
            attachments_page(&state, &ctx, "", &[], msg).await
        }
        Err(e) => Err(e.into()),
    }
}
