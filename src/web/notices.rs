//! Staff writing site messages: to one unit from its detail page (county and city), and to all
//! units or all units of a district (city).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::ctx::Ctx;
use super::error::AppResult;
use super::page::{layout, render, Layout};
use super::unit_pages::{detail_page, Extras, MessageForm};
use crate::domain::fields::FieldErrors;
use crate::state::AppState;
use crate::store::reference::District;
use crate::workflow::error::Error;
use crate::workflow::notices;
use crate::workflow::registration::{districts, Subject};

/// From a unit's detail page: one message to that unit.
pub async fn to_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(unit_id): Path<i64>,
    Form(form): Form<MessageForm>,
) -> AppResult<Response> {
    match notices::to_unit(&state, ctx.principal()?, unit_id, &form.draft()).await {
        Ok(()) => Ok(Redirect::to(&format!("/review/units/{unit_id}?ok=sent")).into_response()),
        Err(Error::Invalid(msg_errors)) => {
            let x = Extras {
                msg: form,
                msg_errors,
                ..Extras::default()
            };
            detail_page(&state, &ctx, Subject::Unit(unit_id), x).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "notice_new.html")]
struct NewPage {
    l: Layout,
    form: MessageForm,
    errors: FieldErrors,
    districts: Vec<District>,
}

pub async fn new_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let mut l = layout(&state, &ctx, "发送通知").await?;
    if ctx.path.contains("ok=sent") {
        l.flash = "通知已发送。".into();
    }
    render(NewPage {
        l,
        form: MessageForm {
            target: "all".into(),
            ..MessageForm::default()
        },
        errors: FieldErrors::new(),
        districts: districts(&state).await?,
    })
}

/// City staff: one message to every unit, or every unit of a district.
pub async fn broadcast(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<MessageForm>,
) -> AppResult<Response> {
    match notices::broadcast(&state, ctx.principal()?, &form.target, &form.draft()).await {
        Ok(()) => Ok(Redirect::to("/notices/new?ok=sent").into_response()),
        Err(Error::Invalid(errors)) => render(NewPage {
            l: layout(&state, &ctx, "发送通知").await?,
            form,
            errors,
            districts: districts(&state).await?,
        }),
        Err(e) => Err(e.into()),
    }
}
