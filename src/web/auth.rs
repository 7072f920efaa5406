//! Sign-in, sign-out and password recovery (manual 1.4–1.5).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

use super::ctx::{cookie_header, safe_next, Ctx, FLOW_COOKIE, SESSION_COOKIE};
use super::error::{AppError, AppResult};
use super::flow::{flow_load, flow_save, redirect_with_cookie, FlowKind, NewPasswordForm};
use super::page::{layout, render, Layout};
use crate::domain::fields::FieldErrors;
use crate::domain::password::check_new_password;
use crate::domain::registration::name_key;
use crate::domain::CreditCode;
use crate::security::{dummy_hash, hash_password, random_token, verify_password};
use crate::state::AppState;
use crate::store::users::Role;
use crate::store::{audit, flows, sessions, units, users};
use crate::workflow::verify;

pub const MAX_FAILURES: i64 = 5;
pub const LOCK_SECS: i64 = 15 * 60;
pub const MSG_WRONG: &str = "登录ID或密码错误";
pub const MSG_LOCKED: &str = "连续登录失败次数过多，请15分钟后再试";
pub const MSG_BLACKLISTED: &str = "帐号状态异常，请联系市外办处理";

#[derive(Deserialize, Default, Debug)]
pub struct LoginForm {
    #[serde(default)]
    pub login_id: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    ok: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    login_id: String,
    next: String,
    error: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LoginQuery>,
) -> AppResult<Response> {
    if ctx.user.is_some() {
        return Ok(Redirect::to("/home").into_response());
    }
    let mut l = layout(&state, &ctx, "用户登录").await?;
    l.flash = super::page::flash_text(&q.ok).to_string();
    render(LoginPage {
        l,
        login_id: String::new(),
        next: q.next,
        error: String::new(),
    })
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let refuse = |error: &str| {
        let state = state.clone();
        let ctx = ctx.clone();
        let login_id = form.login_id.trim().to_string();
        let next = form.next.clone();
        let error = error.to_string();
        async move {
            let l = layout(&state, &ctx, "用户登录").await?;
            render(LoginPage {
                l,
                login_id,
                next,
                error,
            })
        }
    };
    let key = form.login_id.trim().to_lowercase();
    if key.is_empty() || form.password.is_empty() {
        return refuse("请输入登录ID和密码").await;
    }
    let now = state.now();
    let (_, locked_until) = users::failures(state.pool(), &key).await?;
    if locked_until.is_some_and(|t| t > now) {
        let mut tx = state.db.begin().await?;
        audit::record(
            tx.conn(),
            &ctx.actor(),
            now,
            "login.locked_refused",
            "login",
            &key,
            "",
        )
        .await?;
        tx.commit().await?;
        return refuse(MSG_LOCKED).await;
    }
    let user = users::by_login_key(state.pool(), &key).await?;
    let password_ok = match &user {
        Some(u) if !u.disabled => verify_password(&form.password, &u.password_hash),
        _ => {
            // Same work as a real check, so the answer time does not tell whether the ID exists.
            let _ = verify_password(&form.password, dummy_hash());
            false
        }
    };
    let Some(user) = user.filter(|_| password_ok) else {
        let mut tx = state.db.begin().await?;
        let n = users::add_failure(tx.conn(), &key, now, MAX_FAILURES, LOCK_SECS).await?;
        audit::record(
            tx.conn(),
            &ctx.actor(),
            now,
            "login.failed",
            "login",
            &key,
            &format!("第{n}次"),
        )
        .await?;
        if n >= MAX_FAILURES {
            audit::record(
                tx.conn(),
                &ctx.actor(),
                now,
                "login.lockout",
                "login",
                &key,
                "锁定15分钟",
            )
            .await?;
        }
        tx.commit().await?;
        return refuse(if n >= MAX_FAILURES {
            MSG_LOCKED
        } else {
            MSG_WRONG
        })
        .await;
    };
    if let Some(unit_id) = user.unit_id {
        let unit = units::get(state.pool(), unit_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if unit.blacklisted {
            let mut tx = state.db.begin().await?;
            users::clear_failures(tx.conn(), &key).await?;
            audit::record(
                tx.conn(),
                &ctx.actor(),
                now,
                "login.refused_blacklisted",
                "unit",
                &unit_id.to_string(),
                "",
            )
            .await?;
            tx.commit().await?;
            return refuse(MSG_BLACKLISTED).await;
        }
    }
    let sid = random_token();
    let mut tx = state.db.begin().await?;
    users::clear_failures(tx.conn(), &key).await?;
    users::record_login(tx.conn(), user.id, now, &ctx.ip).await?;
    sessions::create(tx.conn(), &sid, user.id, now, &ctx.ip).await?;
    let actor = crate::store::Actor {
        user_id: Some(user.id),
        label: format!("{}（{}）", user.display_name, user.login_id),
        ip: ctx.ip.clone(),
    };
    audit::record(
        tx.conn(),
        &actor,
        now,
        "login.success",
        "user",
        &user.id.to_string(),
        "",
    )
    .await?;
    tx.commit().await?;
    // Signing in replaces any earlier session id.
    if let Some(old) = &ctx.session_id {
        sessions::delete(state.pool(), old).await?;
    }
    let target = safe_next(&form.next).unwrap_or_else(|| "/home".into());
    // A fresh CSRF seed too, so that no token from before the sign-in stays valid.
    Ok((
        axum::response::AppendHeaders([
            (
                header::SET_COOKIE,
                cookie_header(&state, SESSION_COOKIE, &sid, None),
            ),
            (
                header::SET_COOKIE,
                cookie_header(&state, super::ctx::CSRF_COOKIE, &random_token(), None),
            ),
        ]),
        Redirect::to(&target),
    )
        .into_response())
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if let Some(sid) = &ctx.session_id {
        sessions::delete(state.pool(), sid).await?;
        let mut tx = state.db.begin().await?;
        let uid = ctx
            .user
            .as_ref()
            .map(|u| u.id.to_string())
            .unwrap_or_default();
        audit::record(
            tx.conn(),
            &ctx.actor(),
            state.now(),
            "logout",
            "user",
            &uid,
            "",
        )
        .await?;
        tx.commit().await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            cookie_header(&state, SESSION_COOKIE, "", Some(0)),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}

/// `/`: the sign-in page, or the home of whoever is signed in.
pub async fn root(ctx: Ctx) -> Redirect {
    if ctx.user.is_some() {
        Redirect::to("/home")
    } else {
        Redirect::to("/login")
    }
}

/// `/home`: each role's start page.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?;
    match user.role {
        Role::Unit => super::account::unit_home(state, ctx).await,
        Role::County | Role::City => Ok(Redirect::to("/review").into_response()),
        Role::Admin => Ok(Redirect::to("/admin").into_response()),
    }
}

#[derive(Deserialize, Default)]
pub struct ForgotForm {
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    name: String,
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    l: Layout,
    credit_code: String,
    name: String,
    errors: FieldErrors,
}

pub async fn forgot_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    render(ForgotPage {
        l: layout(&state, &ctx, "忘记密码").await?,
        credit_code: String::new(),
        name: String::new(),
        errors: FieldErrors::new(),
    })
}

pub async fn forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let code = match CreditCode::parse(&form.credit_code) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.add("credit_code", e.to_string());
            None
        }
    };
    if form.name.trim().is_empty() {
        errors.add("name", "请填写单位全称");
    }
    let mut unit_id = None;
    if let (Some(code), true) = (code, errors.is_empty()) {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM units WHERE credit_code = $1 AND name_key = $2")
                .bind(code.as_str())
                .bind(name_key(&form.name))
                .fetch_optional(state.pool())
                .await?;
        match id {
            Some(id) => unit_id = Some(id),
            None => errors.add("name", "统一社会信用代码与单位全称不一致，请核对"),
        }
    }
    let Some(unit_id) = unit_id else {
        return render(ForgotPage {
            l: layout(&state, &ctx, "忘记密码").await?,
            credit_code: form.credit_code.trim().to_string(),
            name: form.name.trim().to_string(),
            errors,
        });
    };
    let cookie = flow_save(
        &state,
        &ctx,
        FlowKind::Reset,
        &json!({ "unit_id": unit_id, "verified": false }),
        true,
    )
    .await?;
    Ok(redirect_with_cookie("/forgot/sms", cookie))
}

#[derive(Template)]
#[template(path = "forgot_sms.html")]
struct ForgotSmsPage {
    l: Layout,
    masked: String,
    code: String,
    errors: FieldErrors,
    sent: String,
}

#[derive(Deserialize, Default)]
pub struct CodeForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub code: String,
}

async fn reset_unit(state: &AppState, ctx: &Ctx) -> AppResult<Option<(units::Unit, bool)>> {
    let Some(flow) = flow_load(state, ctx, FlowKind::Reset).await? else {
        return Ok(None);
    };
    let Some(unit_id) = flow.get("unit_id").and_then(|v| v.as_i64()) else {
        return Ok(None);
    };
    let verified = flow
        .get("verified")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    Ok(units::get(state.pool(), unit_id)
        .await?
        .map(|u| (u, verified)))
}

pub async fn forgot_sms_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let Some((unit, _)) = reset_unit(&state, &ctx).await? else {
        return Ok(Redirect::to("/forgot").into_response());
    };
    render(ForgotSmsPage {
        l: layout(&state, &ctx, "忘记密码").await?,
        masked: unit.mobile_masked(),
        code: String::new(),
        errors: FieldErrors::new(),
        sent: String::new(),
    })
}

pub async fn forgot_sms(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let Some((unit, _)) = reset_unit(&state, &ctx).await? else {
        return Ok(Redirect::to("/forgot").into_response());
    };
    let mut errors = FieldErrors::new();
    let mut sent = String::new();
    if form.action == "send" {
        match verify::send_code(&state, &unit.mobile, "reset", &ctx.ip).await {
            Ok(()) => sent = format!("验证码已发送至{}", unit.mobile_masked()),
            Err(e) => errors.add("code", e.to_string()),
        }
    } else {
        match verify::check_code(&state, &unit.mobile, "reset", &form.code).await {
            Ok(()) => {
                flow_save(
                    &state,
                    &ctx,
                    FlowKind::Reset,
                    &json!({ "unit_id": unit.id, "verified": true }),
                    false,
                )
                .await?;
                return Ok(Redirect::to("/forgot/reset").into_response());
            }
            Err(e) => errors.add("code", e.to_string()),
        }
    }
    render(ForgotSmsPage {
        l: layout(&state, &ctx, "忘记密码").await?,
        masked: unit.mobile_masked(),
        code: form.code.trim().to_string(),
        errors,
        sent,
    })
}

#[derive(Template)]
#[template(path = "forgot_reset.html")]
struct ForgotResetPage {
    l: Layout,
    errors: FieldErrors,
}

pub async fn forgot_reset_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    match reset_unit(&state, &ctx).await? {
        Some((_, true)) => render(ForgotResetPage {
            l: layout(&state, &ctx, "重置密码").await?,
            errors: FieldErrors::new(),
        }),
        _ => Ok(Redirect::to("/forgot").into_response()),
    }
}

pub async fn forgot_reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<NewPasswordForm>,
) -> AppResult<Response> {
    let Some((unit, true)) = reset_unit(&state, &ctx).await? else {
        return Ok(Redirect::to("/forgot").into_response());
    };
    let user = users::by_unit(state.pool(), unit.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let Some(pw) = check_new_password(&form.password, &form.password2, &user.login_id, &mut errors)
    else {
        return render(ForgotResetPage {
            l: layout(&state, &ctx, "重置密码").await?,
            errors,
        });
    };
    let hash = hash_password(&pw)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    users::set_password(tx.conn(), user.id, &hash, false).await?;
    users::clear_failures(tx.conn(), &user.login_id.to_lowercase()).await?;
    sessions::delete_for_user(tx.conn(), user.id).await?;
    if let Some(token) = ctx.cookie(FLOW_COOKIE) {
        flows::delete(tx.conn(), token).await?;
    }
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "password.reset_by_sms",
        "user",
        &user.id.to_string(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/login?ok=reset").into_response())
}
