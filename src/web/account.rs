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
use crate::domain::password::check_new_password;
use crate::domain::Mobile;
use crate::security::{hash_password, verify_password};
use crate::state::AppState;
use crate::store::units::{self, Unit};
use crate::store::users::{self, Role};
use crate::store::{audit, messages};
use crate::workflow::verify;

#[derive(Template)]
#[template(path = "home_unit.html")]
struct UnitHome {
    l: Layout,
    unit: Unit,
    last_login: String,
    last_ip: String,
    recent: Vec<messages::Message>,
}

pub async fn unit_home(state: AppState, ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?.clone();
    let unit_id = ctx.unit_id()?;
    let unit = ctx.unit(&state).await?.ok_or(AppError::NotFound)?;
    let recent = messages::recent(state.pool(), unit_id, 5).await?;
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
    let unit = match user.unit_id {
        Some(id) => units::get(state.pool(), id).await?,
        None => None,
    };
    render(AccountInfo {
        l,
        login_id: user.login_id.clone(),
        role_label: user.role.label().to_string(),
        unit,
        last_login: fmt_opt_ts(user.prev_login_at),
        last_ip: user.prev_login_ip.unwrap_or_default(),
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
    let user = ctx.user()?.clone();
    let mut errors = FieldErrors::new();
    if !verify_password(&form.old_password, &user.password_hash) {
        errors.add("old_password", "原密码不正确");
    }
    let pw = check_new_password(
        &form.new.password,
        &form.new.password2,
        &user.login_id,
        &mut errors,
    );
    if pw.as_deref() == Some(form.old_password.as_str()) {
        errors.add("password", "新密码不能与原密码相同");
    }
    let (Some(pw), true) = (pw, errors.is_empty()) else {
        return render(PasswordPage {
            l: layout(&state, &ctx, "修改密码").await?,
            must_change: user.must_change_password,
            errors,
        });
    };
    let hash = hash_password(&pw)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    users::set_password(tx.conn(), user.id, &hash, false).await?;
    // Other sessions of this account end; this one goes on.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user.id)
        .bind(crate::store::sessions::hash_id(
            ctx.session_id.as_deref().unwrap_or(""),
        ))
        .execute(tx.conn())
        .await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "password.change",
        "user",
        &user.id.to_string(),
        "",
    )
    .await?;
    tx.commit().await?;
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
}

pub async fn mobile_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let unit = units::get(state.pool(), ctx.unit_id()?)
        .await?
        .ok_or(AppError::NotFound)?;
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
    let unit = units::get(state.pool(), ctx.unit_id()?)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let mut sent = String::new();
    match Mobile::parse(&form.mobile) {
        Err(e) => errors.add("mobile", e.to_string()),
        Ok(m) if m.as_str() == unit.mobile => {
            errors.add("mobile", "新手机号码与当前绑定的号码相同")
        }
        Ok(m) if form.action == "send" => {
            match verify::send_code(&state, m.as_str(), "rebind", &ctx.ip).await {
                Ok(()) => sent = format!("验证码已发送至{}", m.masked()),
                Err(e) => errors.add("code", e.to_string()),
            }
        }
        Ok(m) => match verify::check_code(&state, m.as_str(), "rebind", &form.code).await {
            Ok(()) => {
                let now = state.now();
                let mut tx = state.db.begin().await?;
                units::set_mobile(tx.conn(), unit.id, m.as_str(), now).await?;
                audit::record(
                    tx.conn(),
                    &ctx.actor(),
                    now,
                    "unit.mobile",
                    "unit",
                    &unit.id.to_string(),
                    &format!("{} → {}", unit.mobile_masked(), m.masked()),
                )
                .await?;
                tx.commit().await?;
                return Ok(Redirect::to("/account?ok=mobile").into_response());
            }
            Err(e) => errors.add("code", e.to_string()),
        },
    }
    render(MobilePage {
        l: layout(&state, &ctx, "修改绑定手机").await?,
        current: unit.mobile_masked(),
        mobile: form.mobile.trim().to_string(),
        code: form.code.trim().to_string(),
        sent,
        errors,
    })
}
