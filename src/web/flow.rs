//! Anonymous multi-step flows (the registration wizard, password recovery): their data is kept
//! in the database under a random token in a cookie.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

use super::ctx::{cookie_header, Ctx, FLOW_COOKIE};
use super::error::AppResult;
use crate::security::random_token;
use crate::state::AppState;
pub use crate::store::flows::FlowKind;
use crate::workflow::accounts;

/// The data of this browser's flow of `kind`, if any.
pub async fn flow_load(
    state: &AppState,
    ctx: &Ctx,
    kind: FlowKind,
) -> AppResult<Option<serde_json::Value>> {
    let Some(token) = ctx.cookie(FLOW_COOKIE) else {
        return Ok(None);
    };
    Ok(accounts::flow_load(state, kind, token).await?)
}

/// Saves flow data; returns a Set-Cookie header value when a new token was made.
pub async fn flow_save(
    state: &AppState,
    ctx: &Ctx,
    kind: FlowKind,
    data: &serde_json::Value,
    fresh: bool,
) -> AppResult<Option<String>> {
    let (token, new) = match ctx.cookie(FLOW_COOKIE) {
        Some(t) if !fresh && t.len() >= 32 => (t.to_string(), false),
        _ => (random_token(), true),
    };
    accounts::flow_save(state, kind, &token, data).await?;
    Ok(new.then(|| cookie_header(state, FLOW_COOKIE, &token, None)))
}

pub fn redirect_with_cookie(to: &str, cookie: Option<String>) -> Response {
    match cookie {
        Some(c) => ([(header::SET_COOKIE, c)], Redirect::to(to)).into_response(),
        None => Redirect::to(to).into_response(),
    }
}

/// A new password typed twice (the forms of 找回密码, 修改密码 and the registration wizard).
#[derive(serde::Deserialize, Default)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password2: String,
}
