//! Sign-in, sign-out and password recovery (manual 1.4–1.5).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::{cookie_header, safe_next, with_session, Ctx, FLOW_COOKIE, SESSION_COOKIE};
use super::error::AppResult;
use super::flow::{redirect_with_cookie, NewPasswordForm};
use super::page::{layout, render, Layout};
use crate::domain::fields::{clip, FieldErrors, MAX_LOGIN_RECORDED};
use crate::domain::principal::Role;
use crate::security::random_token;
use crate::state::AppState;
use crate::workflow::accounts::{self, Recovery};
use crate::workflow::error::Error;
use crate::workflow::second_factor::SignIn;

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
    // No account has a login ID this long: what the audit log and the failure count record of
    // an unknown one is kept short.
    let login_id = clip(form.login_id.trim(), MAX_LOGIN_RECORDED);
    let sid = match accounts::sign_in(
        &state,
        &ctx.actor(),
        login_id,
        &form.password,
        ctx.session_id.as_deref(),
    )
    .await
    {
        Ok(SignIn::Session(sid)) => sid,
        Ok(SignIn::SecondFactor(token)) => {
            return Ok(super::second_factor::ask(&state, &token, &form.next))
        }
        Err(Error::Invalid(e)) => {
            return render(LoginPage {
                l: layout(&state, &ctx, "用户登录").await?,
                login_id: form.login_id.trim().to_string(),
                next: form.next,
                error: e.first().unwrap_or_default().to_string(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    let target = safe_next(&form.next).unwrap_or_else(|| "/home".into());
    Ok(with_session(
        &state,
        &sid,
        Redirect::to(&target).into_response(),
    ))
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    // A session id is kept only while its account is signed in.
    if let (Some(sid), Some(p)) = (&ctx.session_id, &ctx.principal) {
        accounts::sign_out(&state, p, sid).await?;
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
    match ctx.principal()?.role {
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
    let token = random_token();
    match accounts::recovery_start(&state, &ctx.actor(), &token, &form.credit_code, &form.name)
        .await
    {
        Ok(()) => {
            let cookie = cookie_header(&state, FLOW_COOKIE, &token, None);
            Ok(redirect_with_cookie("/forgot/sms", Some(cookie)))
        }
        Err(Error::Invalid(errors)) => render(ForgotPage {
            l: layout(&state, &ctx, "忘记密码").await?,
            credit_code: form.credit_code.trim().to_string(),
            name: form.name.trim().to_string(),
            errors,
        }),
        Err(e) => Err(e.into()),
    }
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

/// The password recovery under way in this browser, if any.
async fn recovery(state: &AppState, ctx: &Ctx) -> AppResult<Option<Recovery>> {
    Ok(accounts::recovery(state, ctx.cookie(FLOW_COOKIE)).await?)
}

pub async fn forgot_sms_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let Some(r) = recovery(&state, &ctx).await? else {
        return Ok(Redirect::to("/forgot").into_response());
    };
    render(ForgotSmsPage {
        l: layout(&state, &ctx, "忘记密码").await?,
        masked: r.unit.mobile_masked(),
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
    let Some(r) = recovery(&state, &ctx).await? else {
        return Ok(Redirect::to("/forgot").into_response());
    };
    let mut sent = String::new();
    let done = if form.action == "send" {
        accounts::recovery_send_code(&state, &r, &ctx.ip).await
    } else {
        accounts::recovery_check_code(&state, &r, &form.code).await
    };
    let errors = match done {
        Ok(()) if form.action == "send" => {
            sent = format!("验证码已发送至{}", r.unit.mobile_masked());
            FieldErrors::new()
        }
        Ok(()) => return Ok(Redirect::to("/forgot/reset").into_response()),
        Err(Error::Invalid(errors)) => errors,
        Err(e) => return Err(e.into()),
    };
    render(ForgotSmsPage {
        l: layout(&state, &ctx, "忘记密码").await?,
        masked: r.unit.mobile_masked(),
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
    match recovery(&state, &ctx).await? {
        Some(Recovery { verified: true, .. }) => render(ForgotResetPage {
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
    let Some(r) = recovery(&state, &ctx).await?.filter(|r| r.verified) else {
        return Ok(Redirect::to("/forgot").into_response());
    };
    match accounts::recovery_reset(&state, &r, &ctx.actor(), &form.password, &form.password2).await
    {
        Ok(()) => Ok(Redirect::to("/login?ok=reset").into_response()),
        Err(Error::Invalid(errors)) => render(ForgotResetPage {
            l: layout(&state, &ctx, "重置密码").await?,
            errors,
        }),
        Err(e) => Err(e.into()),
    }
}
