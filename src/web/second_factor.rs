//! The second sign-in factor's pages: the pending sign-in's code (or, for an account that must
//! have a factor and has none, its enrolment), 两步验证 on the account page, and the recovery
//! codes shown once.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::{cookie_header, safe_next, urlencode, with_session, Ctx, SIGNIN_COOKIE};
use super::error::AppResult;
use super::page::{flash_text, layout, render, Layout, OkQuery};
use crate::clock::fmt_ts;
use crate::domain::fields::FieldErrors;
use crate::domain::second_factor::show_secret;
use crate::state::AppState;
use crate::workflow::error::Error;
use crate::workflow::second_factor::{self, Completed, Enrolment, Pending, PENDING_SECS};

/// After the right password: to the pending sign-in's page, its token in a cookie that lasts as
/// long as it does.
pub fn ask(state: &AppState, token: &str, next: &str) -> Response {
    let target = match safe_next(next) {
        Some(n) => format!("/login/2fa?next={}", urlencode(&n)),
        None => "/login/2fa".into(),
    };
    (
        [(
            header::SET_COOKIE,
            cookie_header(state, SIGNIN_COOKIE, token, Some(PENDING_SECS)),
        )],
        Redirect::to(&target),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    action: String,
}

/// A secret being enrolled as the page shows it: the QR code (inline SVG) and the text.
struct Setup {
    qr: String,
    secret: String,
}

/// Pixels per module of the enrolment's QR code: whole pixels keep its modules sharp.
const QR_MODULE_PX: usize = 4;

fn setup(e: &Enrolment) -> Setup {
    Setup {
        qr: crate::pdf::qr_svg_px(&e.url, QR_MODULE_PX, "两步验证二维码"),
        secret: show_secret(&e.secret),
    }
}

#[derive(Template)]
#[template(path = "login_2fa.html")]
struct CodePage {
    l: Layout,
    login_id: String,
    next: String,
    code: String,
    errors: FieldErrors,
    setup: Option<Setup>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    l: Layout,
    codes: Vec<String>,
    /// Where [继续] leads.
    next: String,
}

fn expired() -> Response {
    Redirect::to("/login?ok=signin_expired").into_response()
}

async fn code_page(
    state: &AppState,
    ctx: &Ctx,
    p: &Pending,
    next: String,
    code: String,
    errors: FieldErrors,
) -> AppResult<Response> {
    let setup = p.enrolment.as_ref().map(setup);
    let title = if setup.is_some() {
        "启用两步验证"
    } else {
        "两步验证"
    };
    render(CodePage {
        l: layout(state, ctx, title).await?,
        login_id: p.login_id().to_string(),
        next,
        code,
        errors,
        setup,
    })
}

/// `/login/2fa`: the code of a pending sign-in, or the enrolment it needs first.
pub async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let Some(p) = second_factor::pending(&state, ctx.cookie(SIGNIN_COOKIE)).await? else {
        return Ok(expired());
    };
    code_page(&state, &ctx, &p, q.next, String::new(), FieldErrors::new()).await
}

/// The code typed: signed in (after an enrolment, with the recovery codes shown once).
pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let Some(p) = second_factor::pending(&state, ctx.cookie(SIGNIN_COOKIE)).await? else {
        return Ok(expired());
    };
    let done =
        second_factor::complete(&state, &ctx.actor(), &p, &f.code, ctx.session_id.as_deref()).await;
    let target = safe_next(&f.next).unwrap_or_else(|| "/home".into());
    let (sid, page) = match done {
        Ok(Completed::Session(sid)) => (sid, Redirect::to(&target).into_response()),
        Ok(Completed::Enrolled {
            session,
            recovery_codes,
        }) => {
            let page = render(RecoveryCodesPage {
                l: layout(&state, &ctx, "两步验证已启用").await?,
                codes: recovery_codes,
                next: target,
            })?;
            (session, page)
        }
        Err(Error::Invalid(errors)) => {
            return code_page(&state, &ctx, &p, f.next, f.code.trim().to_string(), errors).await
        }
        Err(e) => return Err(e.into()),
    };
    let ended = cookie_header(&state, SIGNIN_COOKIE, "", Some(0));
    Ok(with_session(
        &state,
        &sid,
        (AppendHeaders([(header::SET_COOKIE, ended)]), page).into_response(),
    ))
}

#[derive(Template)]
#[template(path = "account_2fa.html")]
struct AccountPage {
    l: Layout,
    /// When it was enrolled, as text; empty when not.
    enrolled_at: String,
    recovery_codes_left: i64,
    mandatory: bool,
    setup: Option<Setup>,
    code: String,
    errors: FieldErrors,
}

async fn account_page_with(
    state: &AppState,
    ctx: &Ctx,
    code: String,
    errors: FieldErrors,
    flash: &str,
) -> AppResult<Response> {
    let s = second_factor::status(state, ctx.principal()?, ctx.user()?).await?;
    let mut l = layout(state, ctx, "两步验证").await?;
    l.flash = flash.to_string();
    render(AccountPage {
        l,
        enrolled_at: s.enrolled_at.map(fmt_ts).unwrap_or_default(),
        recovery_codes_left: s.recovery_codes_left,
        mandatory: s.mandatory,
        setup: s.enrolment.as_ref().map(setup),
        code,
        errors,
    })
}

/// `/account/2fa`: the account's second factor.
pub async fn account_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    account_page_with(
        &state,
        &ctx,
        String::new(),
        FieldErrors::new(),
        flash_text(&q.ok),
    )
    .await
}

/// [启用两步验证] (a new secret), [确认启用] (with a code; the recovery codes shown once) and
/// [停用两步验证] (with a code, where the role does not have to keep one).
pub async fn account(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let user = ctx.user()?;
    let done = match f.action.as_str() {
        "start" => {
            second_factor::start(&state, p, user).await?;
            return Ok(Redirect::to("/account/2fa").into_response());
        }
        "confirm" => match second_factor::confirm(&state, p, user, &f.code).await {
            Ok(codes) => {
                return render(RecoveryCodesPage {
                    l: layout(&state, &ctx, "两步验证已启用").await?,
                    codes,
                    next: "/account/2fa".into(),
                })
            }
            Err(e) => e,
        },
        "disable" => match second_factor::disable(&state, p, user, &f.code).await {
            Ok(()) => return Ok(Redirect::to("/account/2fa?ok=2fa_disabled").into_response()),
            Err(e) => e,
        },
        _ => return Ok(Redirect::to("/account/2fa").into_response()),
    };
    match done {
        Error::Invalid(errors) => {
            account_page_with(&state, &ctx, f.code.trim().to_string(), errors, "").await
        }
        e => Err(e.into()),
    }
}
