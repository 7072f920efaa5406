//! The request context (client address, CSRF, session) built by one middleware for every
//! request, the access guard of each route, and cookies.

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::{self, AppError, AppResult};
use crate::domain::principal::{Actor, Principal, Role};
use crate::security::{hmac_hex, random_token, same};
use crate::state::AppState;
use crate::store::users::User;
use crate::workflow::accounts;

pub const SESSION_COOKIE: &str = "lh_session";
pub const CSRF_COOKIE: &str = "lh_csrf";
pub const FLOW_COOKIE: &str = "lh_flow";
/// The pending sign-in that waits for the second factor.
pub const SIGNIN_COOKIE: &str = "lh_signin";

/// What every handler knows about the request.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub ip: String,
    /// Token to embed in every form as `csrf`.
    pub csrf: String,
    pub user: Option<User>,
    /// Who acts, built once from the session's account (None when nobody is signed in).
    pub principal: Option<Principal>,
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
        match &self.principal {
            Some(p) => p.actor.clone(),
            None => Actor::anonymous(&self.ip),
        }
    }
    /// The signed-in principal (guards have already refused anonymous requests on protected
    /// routes).
    pub fn principal(&self) -> AppResult<&Principal> {
        self.principal.as_ref().ok_or(AppError::Forbidden)
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
            .get_or_try_init(|| crate::workflow::registration::own_unit(state, id))
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

/// `resp` with the cookie of the new session `sid`, and a fresh CSRF seed, so that no token
/// from before the sign-in stays valid.
pub fn with_session(state: &AppState, sid: &str, resp: Response) -> Response {
    (
        axum::response::AppendHeaders([
            (
                header::SET_COOKIE,
                cookie_header(state, SESSION_COOKIE, sid, None),
            ),
            (
                header::SET_COOKIE,
                cookie_header(state, CSRF_COOKIE, &random_token(), None),
            ),
        ]),
        resp,
    )
        .into_response()
}

pub(crate) fn client_ip(state: &AppState, req: &Request) -> String {
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

pub(super) fn url_decode_pairs(body: &[u8]) -> Vec<(String, String)> {
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
pub(super) const FORM_LIMIT: usize = 256 * 1024;

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

    let mut session_id = find(SESSION_COOKIE);
    let mut user = None;
    let mut clear_session = false;
    if let Some(sid) = &session_id {
        match accounts::resume_session(&state, sid).await {
            Ok(Some(u)) => user = Some(u),
            Ok(None) => clear_session = true,
            Err(e) => {
                tracing::error!("loading session: {e:#}");
                return with_headers(&state, AppError::from(e).into_response(), None, false);
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
    let principal = user.as_ref().map(|u| accounts::principal(u, &ip));
    req.extensions_mut().insert(Ctx {
        ip,
        csrf,
        principal,
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

/// Adds the cookies the context decided on and the security headers to a response (also to the
/// refusals of the edge guard, `web::edge`).
pub(super) fn with_headers(
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
    // A request with an unknown session cookie ends it, unless the response starts a new
    // session (a sign-in from a browser that kept an expired cookie).
    let sets_session = h.get_all(header::SET_COOKIE).iter().any(|v| {
        v.to_str()
            .is_ok_and(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
    });
    if clear_session && !sets_session {
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
    if state.config.serve.secure_cookies {
        // Served over HTTPS (the cookies say so): browsers are to use nothing else for a year.
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
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
