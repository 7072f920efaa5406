//! Every request has an ID: the one the reverse proxy sent in `X-Request-Id` (trusted only with
//! `--trust-proxy`, and only when it is a short token of letters, digits, `-`, `_` and `.`), or a
//! new one. It is the field `request_id` of the `request` span around the request's handling,
//! so every log line written for the request carries it; it is returned as `X-Request-Id`, and
//! the error page shows it (read from a task-local, [`current`]).

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";
/// The longest ID taken from the proxy.
const MAX_LEN: usize = 64;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The ID of the request being handled (None outside a request).
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// The proxy's ID, if it may be used as it is.
fn sanitised(value: &HeaderValue) -> Option<String> {
    let v = value.to_str().ok()?.trim();
    let fine = !v.is_empty()
        && v.len() <= MAX_LEN
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    fine.then(|| v.to_string())
}

fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The middleware, outside every other (`app::Application::run`); its state says whether the
/// proxy is trusted.
pub async fn request_id(State(trust_proxy): State<bool>, req: Request, next: Next) -> Response {
    let id = trust_proxy
        .then(|| req.headers().get(HEADER).and_then(sanitised))
        .flatten()
        .unwrap_or_else(new_id);
    let span = tracing::info_span!("request", request_id = %id);
    let mut resp = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span)
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken() {
        let ok =
            |s: &str| sanitised(&HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("")));
        assert_eq!(ok("abc-123_x.y").as_deref(), Some("abc-123_x.y"));
        assert_eq!(ok(""), None);
        assert_eq!(ok("a b"), None);
        assert_eq!(ok("<script>"), None);
        assert_eq!(ok("x\"y"), None);
        assert_eq!(ok(&"a".repeat(65)), None);
        assert_eq!(ok(&"a".repeat(64)).map(|s| s.len()), Some(64));
    }
}
