//! The edge of the server, outside everything else: no request goes further with a path, a query
//! parameter or a form value longer than its bound, and every refusal the framework writes itself
//! (a query or form it cannot read, a body too large, a wrong method, an unsupported content
//! type) reaches the browser as the site's Chinese error page, never as the framework's English.
//!
//! Each form field has its own, smaller maximum in the domain or workflow (its message shown
//! beside the field); the bounds here are generous and only stop what no form sends.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::ctx::{with_headers, FORM_LIMIT};
use super::error::error_page;
use crate::state::AppState;

/// The longest path (bytes, as sent): the site's own paths are far shorter.
pub const MAX_PATH: usize = 1024;
/// The longest value (characters, decoded) of an ordinary query parameter or form field.
pub const MAX_VALUE: usize = 4000;
/// The longest value of a long text (a page's content, a message, the holiday list).
pub const MAX_LONG_VALUE: usize = 60_000;
/// The fields that hold a long text.
const LONG_FIELDS: &[&str] = &["body", "holidays"];

pub const MSG_LONG_URL: &str = "网址过长，请返回上一页重试。";
pub const MSG_LONG_FIELD: &str =
    "填写的内容过长（每项不能超过4000个字符），请返回上一页修改后重新提交。";

/// The bound of a field's value.
fn bound(name: &str) -> usize {
    if LONG_FIELDS.contains(&name) {
        MAX_LONG_VALUE
    } else {
        MAX_VALUE
    }
}

/// Whether some name or value of an urlencoded text (a query string or a form body) is longer
/// than its bound.
fn overlong(text: &[u8]) -> bool {
    let decode = |s: &[u8]| -> String {
        let plus: Vec<u8> = s
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8_lossy()
            .into_owned()
    };
    text.split(|b| *b == b'&').any(|pair| {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[..0]),
        };
        // Decoding cannot make a text longer: only long texts need counting.
        let name = decode(k);
        let max = bound(&name);
        name.chars().count() > MAX_VALUE || (v.len() > max && decode(v).chars().count() > max)
    })
}

/// A refusal of the edge, as the site's error page with the usual headers.
fn refuse(state: &AppState, status: StatusCode, message: &str) -> Response {
    with_headers(state, error_page(status, message), None, false)
}

/// The middleware: bounds, then the request, then its answer made presentable.
pub async fn edge(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path().len() > MAX_PATH {
        return refuse(&state, StatusCode::URI_TOO_LONG, MSG_LONG_URL);
    }
    if req.uri().query().is_some_and(|q| overlong(q.as_bytes())) {
        return refuse(&state, StatusCode::URI_TOO_LONG, MSG_LONG_URL);
    }
    let mut req = req;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if is_form && !matches!(*req.method(), Method::GET | Method::HEAD) {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return refuse(&state, StatusCode::PAYLOAD_TOO_LARGE, "提交的内容过大");
        };
        if overlong(&bytes) {
            return refuse(&state, StatusCode::BAD_REQUEST, MSG_LONG_FIELD);
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    presentable(next.run(req).await)
}

/// The message of an error status the framework answered by itself.
fn message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "页面不存在或您无权查看",
        StatusCode::METHOD_NOT_ALLOWED => "不支持该访问方式，请从页面上的链接或按钮进入。",
        StatusCode::PAYLOAD_TOO_LARGE => "提交的内容过大",
        StatusCode::URI_TOO_LONG => MSG_LONG_URL,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "提交的内容格式不正确，请从页面上的表单提交。",
        StatusCode::UNPROCESSABLE_ENTITY => "提交的表单内容有误，请返回上一页刷新后重试。",
        StatusCode::REQUEST_TIMEOUT => "请求超时，请重试。",
        s if s.is_server_error() => "系统繁忙，请稍后再试。如问题持续，请联系市外办。",
        _ => "请求的网址或参数有误，请返回上一页重试。",
    }
}

/// An error answer that is not one of the site's pages (the framework's plain-text refusal of
/// a query, form, path, method or content type) becomes the error page with the same status;
/// its other headers (cookies, security headers, `Allow`) stay.
fn presentable(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if is_page {
        return resp;
    }
    if status.is_server_error() {
        tracing::error!(%status, "the framework refused a request");
    }
    let (mut parts, _) = resp.into_parts();
    let (page, body) = error_page(status, message(status)).into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(t) = page.headers.get(header::CONTENT_TYPE) {
        parts.headers.insert(header::CONTENT_TYPE, t.clone());
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bounded_by_field() {
        let long = "a".repeat(MAX_VALUE + 1);
        assert!(!overlong(b"q=abc&page=2"));
        assert!(!overlong(format!("q={}", "a".repeat(MAX_VALUE)).as_bytes()));
        assert!(overlong(format!("q={long}").as_bytes()));
        assert!(overlong(format!("{long}=1").as_bytes()));
        assert!(!overlong(format!("body={long}").as_bytes()));
        assert!(overlong(
            format!("body={}", "a".repeat(MAX_LONG_VALUE + 1)).as_bytes()
        ));
        // Characters, not bytes: 4000 Chinese characters, percent-encoded, pass.
        let zh = super::super::ctx::urlencode(&"长".repeat(MAX_VALUE));
        assert!(!overlong(format!("reason={zh}").as_bytes()));
        let zh = super::super::ctx::urlencode(&"长".repeat(MAX_VALUE + 1));
        assert!(overlong(format!("reason={zh}").as_bytes()));
        // Encoded names count too.
        assert!(!overlong(b"a%20b=c+d&&=&x"));
    }
}
