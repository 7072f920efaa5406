//! Administration (issue 6, first part): staff accounts — create, edit, disable, reset the
//! password (shown once, to be changed at the next sign-in). The last active administrator
//! cannot be disabled or given another role.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::{respond, wants_xlsx, ListQuery, Sheet};
use super::page::render;
use super::page::{layout, Layout};
use crate::clock::fmt_ts;
use crate::domain::fields::FieldErrors;
use crate::state::AppState;
use crate::store::reference::District;
use crate::store::users::User;
use crate::workflow::admin::{self, Created, StaffInput as StaffForm, StaffRow};
use crate::workflow::error::Error;
use crate::workflow::second_factor;

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct ListPage {
    l: Layout,
    rows: Vec<StaffRow>,
    form: StaffForm,
    errors: FieldErrors,
    districts: Vec<District>,
    new_password: String,
    new_login: String,
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    form: StaffForm,
    errors: FieldErrors,
    shown: Option<Created>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let (new_login, new_password) = shown.map(|c| (c.login_id, c.password)).unwrap_or_default();
    render(ListPage {
        l: layout(state, ctx, "工作人员帐号").await?,
        rows: admin::staff(state, p).await?,
        form,
        errors,
        districts: admin::districts(state, p).await?,
        new_password,
        new_login,
    })
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    if wants_xlsx(&q.format) {
        let mut sheet = Sheet::new(
            "工作人员帐号",
            &["登录ID", "姓名", "角色", "所属县区", "状态"],
        );
        for r in admin::staff(&state, ctx.principal()?).await? {
            sheet.push(vec![
                (&r.u.login_id).into(),
                (&r.u.display_name).into(),
                r.u.role.label().into(),
                (&r.district).into(),
                if r.u.disabled { "已停用" } else { "正常" }.into(),
            ]);
        }
        return respond(&state, &ctx, "admin.staff", "工作人员帐号", "", vec![sheet]).await;
    }
    let form = StaffForm {
        role: "county".into(),
        ..StaffForm::default()
    };
    list_page(&state, &ctx, form, FieldErrors::new(), None).await
}

/// Creates a staff account with a random password shown once.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<StaffForm>,
) -> AppResult<Response> {
    let created = match admin::create_staff(&state, ctx.principal()?, &form).await {
        Ok(c) => c,
        Err(Error::Invalid(e)) => return list_page(&state, &ctx, form, e, None).await,
        Err(e) => return Err(e.into()),
    };
    let form = StaffForm {
        role: "county".into(),
        ..StaffForm::default()
    };
    list_page(&state, &ctx, form, FieldErrors::new(), Some(created)).await
}

#[derive(Template)]
#[template(path = "admin_staff_edit.html")]
struct EditPage {
    l: Layout,
    u: User,
    form: StaffForm,
    errors: FieldErrors,
    districts: Vec<District>,
    new_password: String,
    /// When the account's second factor was enrolled, as text; empty when it has none.
    second_factor: String,
    /// The signed-in administrator's own account (its factor is not reset here).
    own: bool,
}

fn form_of(u: &User) -> StaffForm {
    StaffForm {
        login_id: u.login_id.clone(),
        name: u.display_name.clone(),
        role: u.role.as_str().into(),
        district_id: u.district_id.map(|d| d.to_string()).unwrap_or_default(),
        disabled: if u.disabled {
            "1".into()
        } else {
            String::new()
        },
    }
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    u: User,
    form: StaffForm,
    errors: FieldErrors,
    new_password: String,
) -> AppResult<Response> {
    edit_page_with(state, ctx, u, form, errors, new_password, "").await
}

async fn edit_page_with(
    state: &AppState,
    ctx: &Ctx,
    u: User,
    form: StaffForm,
    errors: FieldErrors,
    new_password: String,
    flash: &str,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let districts = admin::districts_for(state, p, &u).await?;
    let second_factor = second_factor::enrolled_at(state, p, u.id)
        .await?
        .map(fmt_ts)
        .unwrap_or_default();
    let mut l = layout(state, ctx, "修改工作人员帐号").await?;
    l.flash = flash.to_string();
    render(EditPage {
        l,
        own: u.id == p.user_id,
        u,
        form,
        errors,
        districts,
        new_password,
        second_factor,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let u = admin::staff_account(&state, ctx.principal()?, id).await?;
    let form = form_of(&u);
    edit_page(&state, &ctx, u, form, FieldErrors::new(), String::new()).await
}

/// Saves name, role, district and disabled; a disabled account's sessions end.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<StaffForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let u = admin::staff_account(&state, p, id).await?;
    match admin::update_staff(&state, p, &u, &form).await {
        Ok(()) => Ok(Redirect::to("/admin/staff").into_response()),
        Err(Error::Invalid(e)) => edit_page(&state, &ctx, u, form, e, String::new()).await,
        Err(e) => Err(e.into()),
    }
}

/// Resets the password: a new random one shown once, to be changed at the next sign-in.
pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let u = admin::staff_account(&state, p, id).await?;
    let password = admin::reset_staff_password(&state, p, &u).await?;
    let form = form_of(&u);
    edit_page(&state, &ctx, u, form, FieldErrors::new(), password).await
}

/// [重置两步验证]: removes another account's second factor (a lost phone) and ends its sessions.
pub async fn reset_2fa(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let u = admin::staff_account(&state, p, id).await?;
    second_factor::reset_by_admin(&state, p, &u).await?;
    let form = form_of(&u);
    let flash = "两步验证已重置：该帐号的会话已结束，下次登录时按规定重新启用。";
    edit_page_with(
        &state,
        &ctx,
        u,
        form,
        FieldErrors::new(),
        String::new(),
        flash,
    )
    .await
}
