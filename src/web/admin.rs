//! Administration (issue 6, first part): staff accounts — create, edit, disable, reset the
//! password (shown once, to be changed at the next sign-in). The last active administrator
//! cannot be disabled or given another role.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use super::export::{respond, wants_xlsx, ListQuery, Sheet};
use super::page::render;
use super::page::{layout, Layout};
use crate::domain::fields::{required, FieldErrors};
use crate::domain::LoginId;
use crate::security::{hash_password, random_password};
use crate::state::AppState;
use crate::store::reference::{self, District};
use crate::store::users::{self, NewUser, Role, User};
use crate::store::{audit, sessions};

#[derive(Deserialize, Default, Clone)]
pub struct StaffForm {
    #[serde(default)]
    login_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    district_id: String,
    #[serde(default)]
    disabled: String,
}

pub struct StaffRow {
    pub u: User,
    pub district: String,
}

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

async fn rows(state: &AppState) -> AppResult<Vec<StaffRow>> {
    let mut out = Vec::new();
    for u in users::staff(state.pool()).await? {
        let district = match u.district_id {
            Some(d) => reference::district_name(state.pool(), d).await?,
            None => String::new(),
        };
        out.push(StaffRow { u, district });
    }
    Ok(out)
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    form: StaffForm,
    errors: FieldErrors,
    shown: Option<(String, String)>,
) -> AppResult<Response> {
    let (new_login, new_password) = shown.unwrap_or_default();
    render(ListPage {
        l: layout(state, ctx, "工作人员帐号").await?,
        rows: rows(state).await?,
        form,
        errors,
        districts: reference::districts(state.pool()).await?,
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
        for r in rows(&state).await? {
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

/// Checks role and district: (role, district) or errors added.
fn role_and_district(
    form: &StaffForm,
    districts: &[District],
    e: &mut FieldErrors,
) -> Option<(Role, Option<i64>)> {
    let role = match Role::parse(form.role.trim()) {
        Some(r) if r != Role::Unit => r,
        _ => {
            e.add("role", "请选择角色");
            return None;
        }
    };
    let district = if role == Role::County {
        match form.district_id.trim().parse::<i64>() {
            Ok(id) if districts.iter().any(|d| d.id == id) => Some(id),
            _ => {
                e.add("district_id", "县区外办帐号须选择所属县区");
                return None;
            }
        }
    } else {
        None
    };
    Some((role, district))
}

/// Creates a staff account with a random password shown once.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<StaffForm>,
) -> AppResult<Response> {
    let districts = reference::districts(state.pool()).await?;
    let mut e = FieldErrors::new();
    let login = match LoginId::parse(&form.login_id) {
        Ok(l) => Some(l),
        Err(err) => {
            e.add("login_id", err.to_string());
            None
        }
    };
    let name = required(&mut e, "name", &form.name, "姓名", 50);
    let rd = role_and_district(&form, &districts, &mut e);
    if let Some(l) = &login {
        if users::login_key_taken(state.pool(), &l.key()).await? {
            e.add("login_id", "该登录ID已被使用");
        }
    }
    let (Some(login), Some((role, district)), true) = (login, rd, e.is_empty()) else {
        return list_page(&state, &ctx, form, e, None).await;
    };
    let password = random_password();
    let hash = hash_password(&password)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let id = users::insert(
        tx.conn(),
        &NewUser {
            role,
            login_id: login.as_str(),
            login_key: &login.key(),
            password_hash: &hash,
            display_name: &name,
            unit_id: None,
            district_id: district,
            must_change_password: true,
        },
        now,
    )
    .await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "staff.create",
        "user",
        &id.to_string(),
        &format!("{} {}", role.as_str(), login.as_str()),
    )
    .await?;
    tx.commit().await?;
    let form = StaffForm {
        role: "county".into(),
        ..StaffForm::default()
    };
    list_page(
        &state,
        &ctx,
        form,
        FieldErrors::new(),
        Some((login.as_str().to_string(), password)),
    )
    .await
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
}

async fn staff_user(state: &AppState, id: i64) -> AppResult<User> {
    users::by_id(state.pool(), id)
        .await?
        .filter(|u| u.role != Role::Unit)
        .ok_or(AppError::NotFound)
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
    let districts = reference::districts_with(state.pool(), u.district_id).await?;
    render(EditPage {
        l: layout(state, ctx, "修改工作人员帐号").await?,
        u,
        form,
        errors,
        districts,
        new_password,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let u = staff_user(&state, id).await?;
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
    let u = staff_user(&state, id).await?;
    let districts = reference::districts_with(state.pool(), u.district_id).await?;
    let mut e = FieldErrors::new();
    let name = required(&mut e, "name", &form.name, "姓名", 50);
    let rd = role_and_district(&form, &districts, &mut e);
    let (Some((role, district)), true) = (rd, e.is_empty()) else {
        return edit_page(&state, &ctx, u, form, e, String::new()).await;
    };
    let disabled = form.disabled == "1";
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !users::update_staff(tx.conn(), id, &name, role, district, disabled).await? {
        drop(tx);
        let mut e = FieldErrors::new();
        e.add(
            "role",
            "这是最后一个启用的管理员帐号，不能停用或改为其他角色",
        );
        return edit_page(&state, &ctx, u, form, e, String::new()).await;
    }
    if disabled {
        sessions::delete_for_user(tx.conn(), id).await?;
    }
    let detail = format!(
        "{} → 角色{} 县区{} {}",
        u.login_id,
        role.as_str(),
        district.map(|d| d.to_string()).unwrap_or_default(),
        if disabled { "停用" } else { "启用" }
    );
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "staff.update",
        "user",
        &id.to_string(),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/staff").into_response())
}

/// Resets the password: a new random one shown once, to be changed at the next sign-in.
pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let u = staff_user(&state, id).await?;
    let password = random_password();
    let hash = hash_password(&password)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    users::set_password(tx.conn(), id, &hash, true).await?;
    users::clear_failures(tx.conn(), &u.login_id.to_lowercase()).await?;
    sessions::delete_for_user(tx.conn(), id).await?;
    audit::record(
        tx.conn(),
        &ctx.actor(),
        now,
        "staff.reset_password",
        "user",
        &id.to_string(),
        &u.login_id,
    )
    .await?;
    tx.commit().await?;
    let form = form_of(&u);
    edit_page(&state, &ctx, u, form, FieldErrors::new(), password).await
}
