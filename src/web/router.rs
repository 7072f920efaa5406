//! Every route in one place, each with who may use it.

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, MethodRouter};
use axum::Router;

use super::ctx::{guard, Access};
use super::{
    account, admin, admin_access, admin_refdata, admin_settings, admin_sms, admin_units,
    api_tokens, auth, files, group_paths, group_review, groups, help, messages, notices, ratings,
    registration, review, search, second_factor, stats, visitor_sheet, visits,
};
use crate::state::AppState;

/// Body limit of ordinary forms.
const FORM_BODY: usize = 256 * 1024;
/// Body limit of upload forms: above the 10 MB file limit so that an oversized file gets the
/// form's own message rather than a bare refusal.
const UPLOAD_BODY: usize = 16 * 1024 * 1024;
/// Body limit of the forms of several file inputs (each file still at most 10 MB): 50 MB of
/// files in one submission, as the pages say, plus the multipart framing.
const FILES_BODY: usize = 51 * 1024 * 1024;

/// The route table: (path, access, handler). Tests walk the same table.
pub fn routes() -> Vec<(&'static str, Access, MethodRouter<AppState>)> {
    use Access::*;
    vec![
        ("/", Public, get(auth::root)),
        ("/login", Public, get(auth::login_page).post(auth::login)),
        ("/logout", Public, post(auth::logout)),
        (
            "/login/2fa",
            Public,
            get(second_factor::login_page).post(second_factor::login),
        ),
        ("/forgot", Public, get(auth::forgot_page).post(auth::forgot)),
        (
            "/forgot/sms",
            Public,
            get(auth::forgot_sms_page).post(auth::forgot_sms),
        ),
        (
            "/forgot/reset",
            Public,
            get(auth::forgot_reset_page).post(auth::forgot_reset),
        ),
        (
            "/register",
            Public,
            get(registration::start).post(registration::accept_notice),
        ),
        (
            "/register/mobile",
            Public,
            get(registration::mobile_page).post(registration::mobile),
        ),
        (
            "/register/org",
            Public,
            get(registration::org_form).post(registration::org),
        ),
        (
            "/register/account",
            Public,
            get(registration::account_form).post(registration::account),
        ),
        ("/templates", Public, get(help::list)),
        ("/templates/{type_id}", Public, get(files::template)),
        ("/help", Public, get(help::help)),
        ("/rules", Public, get(help::rules)),
        ("/home", Signed, get(auth::home)),
        ("/account", Signed, get(account::info)),
        (
            "/account/tokens",
            Unit,
            get(api_tokens::list).post(api_tokens::create),
        ),
        (
            "/account/tokens/{id}/revoke",
            Unit,
            post(api_tokens::revoke),
        ),
        (
            "/account/password",
            Signed,
            get(account::password_form).post(account::password),
        ),
        (
            "/account/2fa",
            Signed,
            get(second_factor::account_page).post(second_factor::account),
        ),
        (
            "/account/mobile",
            Unit,
            get(account::mobile_form).post(account::mobile),
        ),
        ("/registration", Unit, get(registration::view)),
        (
            "/registration/edit",
            Unit,
            get(registration::edit_form).post(registration::edit),
        ),
        (
            "/registration/attachments",
            Unit,
            get(registration::attachments)
                .post(registration::upload_all)
                .layer(DefaultBodyLimit::max(FILES_BODY)),
        ),
        (
            "/registration/attachments/{type_id}",
            Unit,
            post(registration::upload).layer(DefaultBodyLimit::max(UPLOAD_BODY)),
        ),
        ("/registration/submit", Unit, post(registration::submit)),
        (
            "/units/{unit_id}/files/{file_id}",
            Signed,
            get(files::unit_file),
        ),
        ("/groups", Unit, get(groups::home).post(groups::create)),
        ("/groups/new", Unit, get(groups::notice)),
        ("/groups/form", Unit, get(groups::new_form)),
        ("/groups/mrz", Unit, post(groups::read_zone)),
        ("/groups/visitors.xlsx", Unit, get(visitor_sheet::template)),
        (
            "/groups/import",
            Unit,
            post(visitor_sheet::import_new).layer(DefaultBodyLimit::max(visitor_sheet::SHEET_BODY)),
        ),
        ("/groups/fill", Unit, post(visitor_sheet::fill_new)),
        (
            "/groups/{id}/import",
            Unit,
            post(visitor_sheet::import_into)
                .layer(DefaultBodyLimit::max(visitor_sheet::SHEET_BODY)),
        ),
        ("/groups/{id}/fill", Unit, post(visitor_sheet::fill_into)),
        ("/groups/{id}", Unit, get(groups::page).post(groups::save)),
        ("/groups/{id}/print", Unit, post(groups::print)),
        (
            "/groups/{id}/files",
            Unit,
            post(groups::upload_all).layer(DefaultBodyLimit::max(FILES_BODY)),
        ),
        (
            "/groups/{id}/upload/{slot}",
            Unit,
            post(groups::upload).layer(DefaultBodyLimit::max(UPLOAD_BODY)),
        ),
        ("/groups/{id}/submit", Unit, post(groups::submit)),
        ("/groups/{id}/withdraw", Unit, post(group_paths::withdraw)),
        ("/groups/{id}/delete", Unit, post(group_paths::delete_draft)),
        ("/groups/{id}/cancel", Unit, post(group_paths::unit_cancel)),
        (
            "/groups/{id}/copy",
            Unit,
            get(group_paths::copy_form).post(group_paths::copy_save),
        ),
        (
            "/groups/{id}/rating",
            Unit,
            get(ratings::form).post(ratings::rate),
        ),
        ("/groups/{id}/files/{file_id}", Signed, get(groups::file)),
        ("/history", Unit, get(groups::history)),
        ("/visits", Unit, get(visits::list)),
        (
            "/visits/{visitor_id}",
            Unit,
            get(visits::form)
                .post(visits::save)
                .layer(DefaultBodyLimit::max(FILES_BODY)),
        ),
        (
            "/visits/{visitor_id}/files",
            Unit,
            post(visits::upload_all).layer(DefaultBodyLimit::max(FILES_BODY)),
        ),
        (
            "/visits/{visitor_id}/upload/{kind}",
            Unit,
            post(visits::upload).layer(DefaultBodyLimit::max(UPLOAD_BODY)),
        ),
        ("/visits/{visitor_id}/submit", Unit, post(visits::submit)),
        (
            "/visits/{visitor_id}/files/{file_id}",
            Signed,
            get(visits::file),
        ),
        ("/review/visits", Staff, get(visits::queue)),
        (
            "/review/visits/{visitor_id}",
            Oversight,
            get(visits::detail),
        ),
        (
            "/review/visit-records/{id}",
            Oversight,
            get(visits::record_link),
        ),
        (
            "/review/visits/{visitor_id}/approve",
            Staff,
            post(visits::approve),
        ),
        (
            "/review/visits/{visitor_id}/return",
            Staff,
            post(visits::return_visit),
        ),
        ("/messages", Unit, get(messages::list)),
        ("/messages/popup", Public, get(messages::popup)),
        ("/messages/{id}", Unit, get(messages::detail)),
        ("/messages/{id}/read", Unit, post(messages::read)),
        ("/messages/{id}/delete", Unit, post(messages::delete)),
        ("/review", Staff, get(review::queue)),
        ("/review/units/{id}", Oversight, get(review::unit_detail)),
        (
            "/review/units/{id}/approve",
            Staff,
            post(review::unit_approve),
        ),
        (
            "/review/units/{id}/return",
            Staff,
            post(review::unit_return),
        ),
        ("/review/units/{id}/message", Staff, post(notices::to_unit)),
        (
            "/review/changes/{id}",
            Oversight,
            get(review::change_detail),
        ),
        (
            "/review/changes/{id}/approve",
            Staff,
            post(review::change_approve),
        ),
        (
            "/review/changes/{id}/return",
            Staff,
            post(review::change_return),
        ),
        ("/review/groups", Staff, get(group_review::queue)),
        ("/review/groups/{id}", Oversight, get(group_review::detail)),
        (
            "/review/groups/{id}/print",
            Staff,
            post(group_review::print),
        ),
        (
            "/review/groups/{id}/approve",
            Staff,
            post(group_review::approve),
        ),
        (
            "/review/groups/{id}/return",
            Staff,
            post(group_review::return_group),
        ),
        (
            "/review/groups/{id}/accept",
            City,
            post(group_review::accept),
        ),
        (
            "/review/groups/{id}/report",
            City,
            post(group_review::report),
        ),
        (
            "/review/groups/{id}/ministry_refuse",
            City,
            post(group_paths::ministry_refuse),
        ),
        (
            "/review/groups/{id}/cancel",
            City,
            post(group_paths::city_cancel),
        ),
        (
            "/review/groups/{id}/dispatch",
            City,
            post(group_review::dispatch).layer(DefaultBodyLimit::max(UPLOAD_BODY)),
        ),
        ("/search", Oversight, get(search::search)),
        ("/stats", Oversight, get(stats::page)),
        ("/stats/satisfaction", Oversight, get(ratings::stats)),
        ("/review/followups", City, get(ratings::followups)),
        (
            "/review/followups/{id}",
            City,
            get(ratings::followup).post(ratings::reply),
        ),
        ("/notices/new", City, get(notices::new_page)),
        ("/notices", City, post(notices::broadcast)),
        ("/admin", Admin, get(review::admin_home)),
        ("/admin/staff", Admin, get(admin::list).post(admin::create)),
        (
            "/admin/staff/{id}",
            Admin,
            get(admin::edit_form).post(admin::edit),
        ),
        ("/admin/staff/{id}/reset", Admin, post(admin::reset)),
        ("/admin/staff/{id}/reset-2fa", Admin, post(admin::reset_2fa)),
        ("/admin/units", Admin, get(admin_units::search)),
        ("/admin/units/{id}", Admin, get(admin_units::unit)),
        (
            "/admin/units/{id}/blacklist",
            Admin,
            post(admin_units::blacklist),
        ),
        (
            "/admin/units/{id}/unblacklist",
            Admin,
            post(admin_units::unblacklist),
        ),
        ("/admin/units/{id}/mobile", Admin, post(admin_units::rebind)),
        ("/admin/units/{id}/reset", Admin, post(admin_units::reset)),
        (
            "/admin/settings",
            Admin,
            get(admin_settings::settings_page).post(admin_settings::save_settings),
        ),
        (
            "/admin/content/{key}",
            Admin,
            get(admin_settings::content_page).post(admin_settings::save_content),
        ),
        ("/admin/audit", Admin, get(admin_settings::audit_log)),
        ("/admin/access", Admin, get(admin_access::page)),
        ("/admin/sms", Admin, get(admin_sms::page)),
        ("/admin/sms/{id}/resend", Admin, post(admin_sms::resend)),
        ("/admin/refdata", Admin, get(admin_refdata::overview)),
        (
            "/admin/refdata/{list}",
            Admin,
            get(admin_refdata::list).post(admin_refdata::add),
        ),
        (
            "/admin/refdata/{list}/{item}",
            Admin,
            get(admin_refdata::item).post(admin_refdata::save),
        ),
        (
            "/admin/refdata/{list}/{item}/retire",
            Admin,
            post(admin_refdata::retire),
        ),
        (
            "/admin/refdata/{list}/{item}/restore",
            Admin,
            post(admin_refdata::restore),
        ),
        ("/admin/templates", Admin, get(help::admin_list)),
        (
            "/admin/templates/{type_id}",
            Admin,
            post(help::admin_replace).layer(DefaultBodyLimit::max(UPLOAD_BODY)),
        ),
    ]
}

pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new();
    for (path, access, handler) in routes() {
        // Irreversible actions ask first (the confirmation runs after the access check).
        let handler = match super::confirm::of(path) {
            Some(what) => handler.layer(from_fn_with_state(
                (state.clone(), what),
                super::confirm::gate,
            )),
            None => handler,
        };
        r = r.route(path, handler.layer(from_fn_with_state(access, guard)));
    }
    let site = r
        .route("/static/{file}", get(super::page::static_file))
        .route("/favicon.ico", get(super::page::favicon))
        .fallback(|| async { super::error::AppError::NotFound })
        .layer(DefaultBodyLimit::max(FORM_BODY))
        .layer(from_fn_with_state(state.clone(), super::ctx::context))
        .layer(from_fn_with_state(state.clone(), super::edge::edge))
        .layer(from_fn_with_state(state.clone(), super::ops::track));
    // The operator's endpoints stand outside the site's layers: no session, CSRF, audit,
    // rate limit or sign-in redirect, and no database for /healthz.
    // The API answers in JSON behind its own token check (no session, cookie or CSRF token),
    // counted in the metrics like the site.
    let api = super::api::router(state.clone())
        .layer(from_fn_with_state(state.clone(), super::ops::track));
    Router::new()
        .route("/healthz", get(super::ops::healthz))
        .route("/readyz", get(super::ops::readyz))
        .route("/metrics", get(super::ops::metrics))
        .merge(api)
        .merge(site)
        .with_state(state)
}
