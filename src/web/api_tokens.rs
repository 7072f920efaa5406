//! The account page's API tokens (issue 19): create (named, expiring; shown once), list with
//! their last use, revoke.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::AppResult;
use super::page::{layout, render, Layout, OkQuery};
use crate::domain::fields::FieldErrors;
use crate::state::AppState;
use crate::store::api_tokens::Token;
use crate::workflow::api_tokens::{self as flow, MAX_DAYS};
use crate::workflow::error::Error;

#[derive(Template)]
#[template(path = "account_tokens.html")]
struct TokensPage {
    l: Layout,
    tokens: Vec<Token>,
    now: i64,
    /// The token just created (shown this once).
    created: String,
    name: String,
    days: String,
    max_days: i64,
    errors: FieldErrors,
}

impl TokensPage {
    pub fn at(&self, t: &i64) -> String {
        crate::clock::fmt_ts(*t)
    }
    pub fn status(&self, t: &Token) -> &'static str {
        if t.revoked_at.is_some() {
            "已吊销"
        } else if t.expires_at <= self.now {
            "已过期"
        } else {
            "有效"
        }
    }
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    created: String,
    form: CreateForm,
    errors: FieldErrors,
    ok: &str,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let tokens = flow::list(state, p).await?;
    let mut l = layout(state, ctx, "API令牌").await?;
    l.flash = super::page::flash_text(ok).to_string();
    if !created.is_empty() {
        l.flash = "令牌已创建。".into();
    }
    render(TokensPage {
        l,
        tokens,
        now: state.now(),
        created,
        name: form.name,
        days: if form.days.is_empty() {
            "90".into()
        } else {
            form.days
        },
        max_days: MAX_DAYS,
        errors,
    })
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<OkQuery>,
) -> AppResult<Response> {
    page(
        &state,
        &ctx,
        String::new(),
        CreateForm::default(),
        FieldErrors::new(),
        &q.ok,
    )
    .await
}

/// 【创建令牌】: the token shown once on the page that answers.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CreateForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    match flow::create(&state, p, &form.name, &form.days).await {
        Ok(created) => {
            page(
                &state,
                &ctx,
                created.secret,
                CreateForm::default(),
                FieldErrors::new(),
                "",
            )
            .await
        }
        Err(Error::Invalid(e)) => page(&state, &ctx, String::new(), form, e, "").await,
        Err(e) => Err(e.into()),
    }
}

/// 【吊销】.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    flow::revoke(&state, ctx.principal()?, id).await?;
    Ok(Redirect::to("/account/tokens?ok=revoked").into_response())
}
