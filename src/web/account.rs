//! The unit's home and account: 用户信息, [修改密码], rebinding the mobile ([绑定]).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::flow::NewPasswordForm;
use super::page::render;
use super::page::{layout, Layout};
use crate::clock::fmt_opt_ts;
use crate::domain::fields::FieldErrors;
use crate::domain::principal::Role;
use crate::state::AppState;
use crate::store::messages::Message;
use crate::store::units::Unit;
use crate::workflow::accounts::{self, NewPassword};
use crate::workflow::error::Error;
use crate::workflow::second_factor;

#[derive(Template)]
#[template(path = "home_unit.html")]
struct UnitHome {
    l: Layout,
    unit: Unit,
    last_login: String,
    last_ip: String,
    recent: Vec<Message>,
}

pub async fn unit_home(state: AppState, ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let unit = ctx.unit(&state).await?.ok_or(AppError::NotFound)?;
    let recent = accounts::recent_messages(&state, ctx.principal()?).await?;
    render(UnitHome {
        l: layout(&state, &ctx, "首页").await?,
        unit,
        last_login: fmt_opt_ts(user.prev_login_at),
        last_ip: user.prev_login_ip.unwrap_or_default(),
        recent,
    })
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountInfo {
    l: Layout,
    login_id: String,
    role_label: String,
    unit: Option<Unit>,
    last_login: String,
    last_ip: String,
    /// Whether the second factor is on, in words.
    second_factor: String,
}

/// 用户信息.
pub async fn info(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<super::page::OkQuery>,
) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let mut l = layout(&state, &ctx, "用户信息").await?;
    l.flash = super::page::flash_text(&q.ok).to_string();
    let unit = match user.role {
        Role::Unit => ctx.unit(&state).await?,
        _ => None,
    };
    let factor = second_factor::status(&state, ctx.principal()?, &user).await?;
    let second_factor = match (factor.enrolled_at, factor.mandatory) {
        (Some(_), _) => "已启用",
        (None, true) => "未启用（须启用）",
        (None, false) => "未启用",
    };
    render(AccountInfo {
        l,
        login_id: user.login_id.clone(),
        role_label: user.role.label().to_string(),
        unit,
        last_login: fmt_opt_ts(user.prev_login_at),
        last_ip: user.prev_login_ip.unwrap_or_default(),
        second_factor: second_factor.to_string(),
    })
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    l: Layout,
    must_change: bool,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct ChangePasswordForm {
    #[serde(default)]
    old_password: String,
    #[serde(flatten)]
    new: NewPasswordForm,
}

pub async fn password_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let must_change = ctx.user()?.must_change_password;
    render(PasswordPage {
        l: layout(&state, &ctx, "修改密码").await?,
        must_change,
        errors: FieldErrors::new(),
    })
}

/// [修改密码]: old password, new one twice.
pub async fn password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ChangePasswordForm>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let input = NewPassword {
        old: &form.old_password,
        password: &form.new.password,
        password2: &form.new.password2,
    };
    let sid = ctx.session_id.as_deref().unwrap_or("");
    match accounts::change_password(&state, ctx.principal()?, user, sid, &input).await {
        Ok(()) => {}
        Err(Error::Invalid(errors)) => {
            return render(PasswordPage {
                l: layout(&state, &ctx, "修改密码").await?,
                must_change: user.must_change_password,
                errors,
            })
        }
        Err(e) => return Err(e.into()),
    }
    let home = if user.role == Role::Unit {
        "/account?ok=password"
    } else {
        "/home"
    };
    Ok(Redirect::to(home).into_response())
}

#[derive(Template)]
#[template(path = "account_mobile.html")]
struct MobilePage {
    l: Layout,
    current: String,
    mobile: String,
    code: String,
    sent: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct RebindForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

pub async fn mobile_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let unit = ctx.unit(&state).await?.ok_or(AppError::NotFound)?;
    render(MobilePage {
        l: layout(&state, &ctx, "修改绑定手机").await?,
        current: unit.mobile_masked(),
        mobile: String::new(),
        code: String::new(),
        sent: String::new(),
        errors: FieldErrors::new(),
    })
}

/// A code to the new number, then [绑定].
pub async fn mobile(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<RebindForm>,
) -> AppResult<Response> {
    let unit = ctx.unit(&state).await?.ok_or(AppError::NotFound)?;
    let p = ctx.principal()?;
    let mut sent = String::new();
    let done = if form.action == "send" {
        accounts::send_rebind_code(&state, p, &unit, &form.mobile)
            .await
            .map(|m| sent = format!("验证码已发送至{}", m.masked()))
    } else {
        let input = accounts::Rebind {
            mobile: &form.mobile,
            code: &form.code,
            password: &form.password,
        };
        accounts::rebind_mobile(&state, p, ctx.user()?, &unit, &input).await
    };
    let errors = match done {
        Ok(()) if form.action == "send" => FieldErrors::new(),
        Ok(()) => return Ok(Redirect::to("/account?ok=mobile").into_response()),
        Err(Error::Invalid(errors)) => errors,
        Err(e) => return Err(e.into()),
    };
    render(MobilePage {
        l: layout(&state, &ctx, "修改绑定手机").await?,
        current: unit.mobile_masked(),
        mobile: form.mobile.trim().to_string(),
        code: form.code.trim().to_string(),
        sent,
        errors,
    })
}
