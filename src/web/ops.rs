//! The operator's endpoints, outside the session, CSRF, audit and sign-in machinery (see
//! `router::router`): `/healthz` (the process answers), `/readyz` (the database and the file
//! store answer), `/metrics` (Prometheus text, to loopback clients or with the metrics token);
//! and the middleware that counts every other request for the metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
use crate::workflow::ops;

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The process answers (no database, no file store).
pub async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n".into())
}

/// 200 when the database and the file store answer within a short bound, else 503 naming the
/// checks that failed.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let checks = ops::readiness(&state).await;
    let failed: Vec<&_> = checks.iter().filter(|c| c.failure.is_some()).collect();
    if failed.is_empty() {
        return text(StatusCode::OK, "ready\n".into());
    }
    // The causes go to the log only: the answer may reach the outside.
    for c in &failed {
        tracing::warn!(
            check = c.name,
            "not ready: {}",
            c.failure.as_deref().unwrap_or("")
        );
    }
    let names: Vec<String> = failed
        .iter()
        .map(|c| format!("{}: failed", c.name))
        .collect();
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("not ready\n{}\n", names.join("\n")),
    )
}

/// Whether the client may read the metrics: from loopback (the forwarded client address when
/// the proxy is trusted), or with the configured bearer token from anywhere.
fn may_read_metrics(state: &AppState, req: &Request) -> bool {
    let token = &state.config.serve.metrics_token;
    if !token.is_empty() {
        let sent = bearer(req.headers());
        if sent.is_some_and(|t| crate::security::same(t, token)) {
            return true;
        }
    }
    super::ctx::client_ip(state, req)
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    if !may_read_metrics(&state, &req) {
        return text(
            StatusCode::FORBIDDEN,
            "metrics: loopback clients or the metrics token only\n".into(),
        );
    }
    let body = ops::scrape(&state).await;
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Counts a request and its latency by route pattern (never the path asked for), and the
/// forms printed.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = match req.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        _ => "other",
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let resp = next.run(req).await;
    let status = resp.status();
    state
        .metrics
        .request(method, &route, status.as_u16(), started.elapsed());
    if route.ends_with("/print") && status.is_success() {
        let pdf = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/pdf"));
        let format = if pdf { "pdf" } else { "html" };
        state.metrics.counter(
            "laihua_prints_total",
            &[("route", &route), ("format", format)],
            1,
        );
    }
    resp
}
