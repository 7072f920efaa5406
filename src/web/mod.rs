//! The web application: request context (client address, CSRF, session), access guards, layout.

pub mod account;
pub mod admin;
pub mod admin_refdata;
pub mod admin_settings;
pub mod admin_units;
pub mod auth;
pub mod error;
pub mod export;
pub mod files;
pub mod group_review;
pub mod groups;
pub mod help;
pub mod messages;
pub mod notices;
pub mod registration;
pub mod review;
pub mod router;
pub mod search;
pub mod stats;
pub mod svg;
pub mod visits;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::security::{hmac_hex, random_token, same};
use crate::store::users::{Role, User};
use crate::store::{sessions, Actor};
pub use error::{AppError, AppResult};

pub const SESSION_COOKIE: &str = "lh_session";
pub const CSRF_COOKIE: &str = "lh_csrf";
pub const FLOW_COOKIE: &str = "lh_flow";

/// What every handler knows about the request.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub ip: String,
    /// Token to embed in every form as `csrf`.
    pub csrf: String,
    pub user: Option<User>,
    pub session_id: Option<String>,
    pub cookies: Vec<(String, String)>,
    /// Path and query of the request.
    pub path: String,
    /// The request came from the page's script (answer with data, not a page).
    pub fetch: bool,
    /// The signed-in unit, read at most once per request (see [`Ctx::unit`]).
    unit: std::sync::Arc<tokio::sync::OnceCell<Option<crate::store::units::Unit>>>,
}

impl Ctx {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn actor(&self) -> Actor {
        match &self.user {
            Some(u) => Actor {
                user_id: Some(u.id),
                label: format!("{}（{}）", u.display_name, u.login_id),
                ip: self.ip.clone(),
            },
            None => Actor::anonymous(&self.ip),
        }
    }
    /// The signed-in user (guards have already refused anonymous requests on protected routes).
    pub fn user(&self) -> AppResult<&User> {
        self.user.as_ref().ok_or(AppError::Forbidden)
    }
    /// The signed-in unit, read once per request: the handler and the page layout both need it.
    pub async fn unit(&self, state: &AppState) -> AppResult<Option<crate::store::units::Unit>> {
        let id = self.unit_id()?;
        let unit = self
            .unit
            .get_or_try_init(|| crate::store::units::get(state.pool(), id))
            .await?;
        Ok(unit.clone())
    }
    /// The signed-in unit's id.
    pub fn unit_id(&self) -> AppResult<i64> {
        match &self.user {
            Some(User {
                role: Role::Unit,
                unit_id: Some(id),
                ..
            }) => Ok(*id),
            _ => Err(AppError::Forbidden),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request context missing")))
    }
}

pub fn parse_cookies(header: Option<&HeaderValue>) -> Vec<(String, String)> {
    let Some(v) = header.and_then(|h| h.to_str().ok()) else {
        return Vec::new();
    };
    v.split(';')
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

pub fn cookie_header(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.config.serve.secure_cookies {
        c.push_str("; Secure");
    }
    c
}

fn client_ip(state: &AppState, req: &Request) -> String {
    if state.config.serve.trust_proxy {
        if let Some(ip) = req
            .headers()
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        {
            return ip.to_string();
        }
    }
    req.extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn csrf_token(state: &AppState, seed: &str) -> String {
    hmac_hex(&state.secret, &["csrf", seed])
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url_decode_pairs(body)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn url_decode_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .to_string()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// Largest urlencoded form body the CSRF check reads.
const FORM_LIMIT: usize = 256 * 1024;

/// Builds the request context, checks CSRF on every unsafe method, loads the session, and adds
/// the security headers to every response.
pub async fn context(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&state, &req);
    let cookies = parse_cookies(req.headers().get(header::COOKIE));
    let find = |n: &str| cookies.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let existing_seed = find(CSRF_COOKIE).filter(|s| s.len() >= 32 && s.len() <= 64);
    let seed = existing_seed.clone().unwrap_or_else(random_token);
    let csrf = csrf_token(&state, &seed);

    let mut req = req;
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // Upload forms carry the token in their action's query string (the body is a file);
        // every other form carries it in its body.
        let from_query = if content_type.starts_with("multipart/form-data") {
            req.uri()
                .query()
                .and_then(|q| form_field(q.as_bytes(), "csrf"))
        } else {
            None
        };
        let submitted = match from_query {
            Some(t) => Some(t),
            None => {
                let is_form = content_type.starts_with("application/x-www-form-urlencoded");
                if is_form {
                    let (parts, body) = req.into_parts();
                    let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
                        Ok(b) => b,
                        Err(_) => {
                            return with_headers(
                                &state,
                                error::error_page(StatusCode::PAYLOAD_TOO_LARGE, "提交的内容过大"),
                                None,
                                false,
                            )
                        }
                    };
                    let token = form_field(&bytes, "csrf");
                    req = Request::from_parts(parts, Body::from(bytes));
                    token
                } else {
                    None
                }
            }
        };
        let ok = existing_seed.is_some() && submitted.is_some_and(|t| same(&t, &csrf));
        if !ok {
            tracing::warn!(ip, path = %req.uri().path(), "CSRF check failed");
            return with_headers(&state, AppError::Csrf.into_response(), None, false);
        }
    }

    let now = state.now();
    let mut session_id = find(SESSION_COOKIE);
    let mut user = None;
    let mut clear_session = false;
    if let Some(sid) = &session_id {
        match sessions::load(state.pool(), sid).await {
            Ok(Some(s)) => {
                let idle = state.config.serve.session_idle_minutes * 60;
                let max = state.config.serve.session_max_hours * 3600;
                if now - s.last_seen_at > idle
                    || now - s.created_at > max
                    || s.user.disabled
                    || s.unit_blacklisted
                {
                    let _ = sessions::delete(state.pool(), sid).await;
                    clear_session = true;
                } else {
                    if now - s.last_seen_at >= 60 {
                        let _ = sessions::touch(state.pool(), sid, now).await;
                    }
                    user = Some(s.user);
                }
            }
            Ok(None) => clear_session = true,
            Err(e) => {
                tracing::error!("loading session: {e}");
                return with_headers(
                    &state,
                    AppError::Internal(e.into()).into_response(),
                    None,
                    false,
                );
            }
        }
    }
    if clear_session {
        session_id = None;
    }

    // An account whose password was set by someone else must change it before anything else.
    if let Some(u) = &user {
        let path = req.uri().path();
        if u.must_change_password
            && path != "/account/password"
            && path != "/logout"
            && !path.starts_with("/static/")
        {
            return with_headers(
                &state,
                Redirect::to("/account/password").into_response(),
                existing_seed.is_none().then_some(seed.as_str()),
                false,
            );
        }
    }

    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let fetch = req
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v == "fetch");
    req.extensions_mut().insert(Ctx {
        ip,
        csrf,
        user,
        session_id,
        cookies,
        path,
        fetch,
        unit: Default::default(),
    });
    let resp = next.run(req).await;
    with_headers(
        &state,
        resp,
        existing_seed.is_none().then_some(seed.as_str()),
        clear_session,
    )
}

fn with_headers(
    state: &AppState,
    mut resp: Response,
    new_csrf_seed: Option<&str>,
    clear_session: bool,
) -> Response {
    let h = resp.headers_mut();
    if let Some(seed) = new_csrf_seed {
        if let Ok(v) = HeaderValue::from_str(&cookie_header(state, CSRF_COOKIE, seed, None)) {
            h.append(header::SET_COOKIE, v);
        }
    }
    if clear_session {
        if let Ok(v) = HeaderValue::from_str(&cookie_header(state, SESSION_COOKIE, "", Some(0))) {
            h.append(header::SET_COOKIE, v);
        }
    }
    let is_file = h.get(header::CONTENT_DISPOSITION).is_some();
    let csp = if is_file {
        // Let the browser's own viewer show PDFs and images inline.
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'"
    } else {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(if is_file { "SAMEORIGIN" } else { "DENY" }),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Who may use a route; decided once per route in `router.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account.
    Signed,
    /// An inviting unit's account, whatever its registration state.
    Unit,
    /// County or city reviewers.
    Staff,
    /// City reviewers only.
    City,
    /// System administrators.
    Admin,
    /// Those who oversee the work: county and city reviewers and administrators (search,
    /// statistics, read-only detail pages). County staff see their own district only; the
    /// handlers narrow the data.
    Oversight,
}

pub async fn guard(State(access): State<Access>, req: Request, next: Next) -> Response {
    let user = req.extensions().get::<Ctx>().and_then(|c| c.user.clone());
    let allowed = match (access, &user) {
        (Access::Public, _) => true,
        (_, None) => {
            let target = if req.method() == Method::GET {
                format!("/login?next={}", urlencode(req.uri().path()))
            } else {
                "/login".into()
            };
            return Redirect::to(&target).into_response();
        }
        (Access::Signed, Some(_)) => true,
        (Access::Unit, Some(u)) => u.role == Role::Unit,
        (Access::Staff, Some(u)) => u.role.is_staff(),
        (Access::City, Some(u)) => u.role == Role::City,
        (Access::Admin, Some(u)) => u.role == Role::Admin,
        (Access::Oversight, Some(u)) => u.role.is_staff() || u.role == Role::Admin,
    };
    if allowed {
        next.run(req).await
    } else {
        AppError::Forbidden.into_response()
    }
}

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A local path to return to after signing in (never another site).
pub fn safe_next(next: &str) -> Option<String> {
    // Browsers drop tabs and newlines from URLs and read a backslash as a slash, so any of them
    // could turn "/…" into "//other.site": refuse them all.
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    ok.then(|| next.to_string())
}

/// Data of the shared page layout.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub system_name: String,
    pub office_name: String,
    pub signed_in: bool,
    pub user_label: String,
    pub role: String,
    pub unread: i64,
    pub queue: i64,
    pub approved: bool,
    pub flash: String,
    /// The unread message that pops up at the bottom right on this page, if one is due.
    pub popup: Option<crate::store::messages::Message>,
    /// Groups waiting for this reviewer.
    pub group_queue: i64,
    /// Post-visit registrations waiting for this reviewer.
    pub visit_queue: i64,
    /// The path of this page (where the pop-up's buttons come back to).
    pub path: String,
    pub city: bool,
}

impl Layout {
    pub fn is_unit(&self) -> bool {
        self.role == "unit"
    }
    pub fn is_staff(&self) -> bool {
        self.role == "county" || self.role == "city"
    }
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

pub async fn layout(state: &AppState, ctx: &Ctx, title: &str) -> AppResult<Layout> {
    use sqlx::Row;
    let site = state.site().await?;
    let mut l = Layout {
        title: title.to_string(),
        csrf: ctx.csrf.clone(),
        path: ctx.path.clone(),
        system_name: site.system_name,
        office_name: site.office_name,
        ..Layout::default()
    };
    if let Some(u) = &ctx.user {
        l.signed_in = true;
        l.role = u.role.as_str().to_string();
        l.user_label = u.display_name.clone();
        match u.role {
            Role::Unit => {
                if let Some(unit_id) = u.unit_id {
                    if let Some(unit) = ctx.unit(state).await? {
                        l.user_label = unit.data.name.clone();
                        l.approved = unit.state == crate::domain::registration::RegState::Approved;
                    }
                    (l.unread, l.popup) =
                        crate::store::messages::reminder(state.pool(), unit_id, state.now())
                            .await?;
                }
            }
            Role::County | Role::City => {
                l.user_label = format!("{}（{}）", u.display_name, u.role.label());
                l.city = u.role == Role::City;
                // The three queues of the navigation, counted in one statement.
                let units = match review::reviewer_of(u) {
                    Some(r) => crate::store::units::queue_count_sql(r),
                    None => "SELECT CAST(0 AS BIGINT)".into(),
                };
                let row = sqlx::query(&format!(
                    "SELECT ({units}) AS units, ({}) AS grps, ({}) AS visits",
                    group_review::queue_count_sql(u),
                    visits::queue_count_sql(u),
                ))
                .fetch_one(state.pool())
                .await?;
                l.queue = row.try_get("units")?;
                l.group_queue = row.try_get("grps")?;
                l.visit_queue = row.try_get("visits")?;
            }
            Role::Admin => {}
        }
    }
    Ok(l)
}

/// Which page of a long list is shown: `asked` (from the query string) kept within the pages
/// that `total` rows fill, `per` to a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pager {
    /// Every row of the list, not only those on this page.
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

impl Pager {
    pub fn new(total: i64, per: i64, asked: &str) -> Pager {
        let pages = ((total + per - 1) / per).max(1);
        let page = asked.trim().parse::<i64>().unwrap_or(1).clamp(1, pages);
        Pager { total, page, pages }
    }
    pub fn offset(&self, per: i64) -> i64 {
        (self.page - 1) * per
    }
}

/// The query of a work list made of sections paged on their own (团组待办, 销签待办):
/// `?section=<code>&page=<n>` shows a later page of one section, the others their first;
/// `?format=xlsx` exports every row; `?ok=` carries a confirmation.
#[derive(serde::Deserialize, Default)]
pub struct SectionQuery {
    #[serde(default)]
    pub ok: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub section: String,
    #[serde(default)]
    pub page: String,
}

impl SectionQuery {
    /// The page asked for the section `code` ("" when another section is paged).
    pub fn page_of(&self, code: &str) -> &str {
        if self.section == code {
            &self.page
        } else {
            ""
        }
    }
}

/// Short confirmations carried in `?ok=` after a redirect.
pub fn flash_text(code: &str) -> &'static str {
    match code {
        "submitted" => "提交成功，已通知属地县区外办进行初审。",
        "saved" => "已保存。",
        "uploaded" => "附件已上传。",
        "password" => "密码已修改。",
        "reset" => "密码已重置，请使用新密码登录。",
        "mobile" => "手机号码已绑定。",
        "approved" => "已审核通过。",
        "returned" => "已退回，并已通知申请单位。",
        "change_submitted" => "变更申请已提交，审核通过前原注册信息继续有效。",
        "deleted" => "已删除。",
        "sent" => "站内信已发送。",
        "group_submitted" => "团组已提交，已通知县区外办初审。提交后团组不能修改。",
        "accepted" => "已受理。",
        "reported" => "已上报外交部。",
        "dispatched" => "已发件，并已短信通知邀请单位。",
        "visit_submitted" => "销签登记已提交，等待县区外办审核。",
        _ => "",
    }
}

/// Hourly clean-up of expired sessions, flows and SMS codes.
pub fn spawn_housekeeping(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = state.now();
            let idle = state.config.serve.session_idle_minutes * 60;
            let max = state.config.serve.session_max_hours * 3600;
            if let Err(e) = sessions::purge(state.pool(), now - idle, now - max).await {
                tracing::warn!("purging sessions: {e}");
            }
            let _ = sqlx::query("DELETE FROM flows WHERE updated_at < $1")
                .bind(now - 86_400)
                .execute(state.pool())
                .await;
        }
    });
}

/// The CSS and the little JavaScript, embedded in the binary (no CDN, works offline).
pub async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, mime): (&'static str, &'static str) = match file.as_str() {
        "app.css" => (
            include_str!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return AppError::NotFound.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/review?x=1").as_deref(), Some("/review?x=1"));
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/\n/evil",
            "/ /evil",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
