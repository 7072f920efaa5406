//! How long and how many: a deadline for receiving a request's body and a cap on uploads
//! received at once. The server (`app::serve`) limits the time a client takes to send the
//! headers; this middleware, around every route, limits the body and the uploads.
//!
//! - **Body deadline.** From the moment its headers arrived, a request has `body` to send its
//!   body. A body still coming after that is cut off: whatever reads it (the CSRF check, a form,
//!   an upload) gets an error, so nothing of the request is stored, and the client gets a 408
//!   page and the connection is closed. An upload held open to outlast a state check therefore
//!   ends after at most this time (and the write checks the state again anyway).
//! - **Upload cap.** At most `uploads` multipart requests are received at once; one more gets a
//!   503 page at once (its body is read and thrown away, within the deadline, so that the
//!   browser shows the page rather than a reset connection) instead of waiting in a queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as _, Frame, SizeHint};
use tokio::sync::Semaphore;

/// The page of a request whose body did not arrive in time.
pub const BODY_TIMEOUT: &str =
    "提交超时：内容未能在规定时间内传完，本次提交未保存。请检查网络（或压缩文件）后重新提交。";
/// The page of an upload refused because too many are being received.
pub const BUSY: &str = "当前同时上传文件的用户较多，本次上传未保存。请稍等一两分钟后重新上传。";

/// The most of a refused upload's body read and thrown away (the largest upload form).
const DRAIN_MAX: usize = 16 * 1024 * 1024;
/// How long a refused upload's body is read when no body deadline is set.
const DRAIN_TIME: Duration = Duration::from_secs(30);

/// The limits of one server, from its configuration.
#[derive(Clone, Debug)]
pub struct Limits {
    body: Option<Duration>,
    uploads: Option<Arc<Semaphore>>,
}

impl Limits {
    /// `body_secs`: the body deadline; `uploads`: uploads received at once (0: no limit).
    pub fn new(body_secs: u64, uploads: usize) -> Limits {
        Limits {
            body: (body_secs > 0).then(|| Duration::from_secs(body_secs)),
            uploads: (uploads > 0).then(|| Arc::new(Semaphore::new(uploads))),
        }
    }
}

/// An upload: a multipart form (every upload form of the site is one).
fn is_upload(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            })
}

/// The middleware: the upload cap, then the body deadline.
pub async fn limit(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let _permit = match (&limits.uploads, is_upload(&req)) {
        (Some(uploads), true) => match uploads.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                tracing::warn!(path = %req.uri().path(), "upload refused: too many at once");
                drain(req.into_body(), limits.body.unwrap_or(DRAIN_TIME)).await;
                let mut page = super::error::error_page(StatusCode::SERVICE_UNAVAILABLE, BUSY);
                let h = page.headers_mut();
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                // Refused before the request context: the page carries the same protections
                // as every other page (see `ctx::with_headers`).
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
                );
                h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                h.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return page;
            }
        },
        _ => None,
    };
    let Some(after) = limits
        .body
        .filter(|_| req.body().size_hint().exact() != Some(0))
    else {
        return next.run(req).await;
    };
    let expired = Arc::new(AtomicBool::new(false));
    let flag = expired.clone();
    let req = req.map(move |inner| {
        Body::new(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(after)),
            expired: flag,
        })
    });
    let response = next.run(req).await;
    if expired.load(Ordering::SeqCst) {
        tracing::warn!("request body not received within {}s", after.as_secs());
        // The refusal's page in place of whatever the handler answered to the broken body,
        // with the headers the request context set (protections, cookies).
        let (mut parts, _) = response.into_parts();
        let (page, body) =
            super::error::error_page(StatusCode::REQUEST_TIMEOUT, BODY_TIMEOUT).into_parts();
        parts.status = page.status;
        parts.headers.remove(header::LOCATION);
        parts.headers.remove(header::CONTENT_DISPOSITION);
        parts.headers.remove(header::CONTENT_LENGTH);
        if let Some(ct) = page.headers.get(header::CONTENT_TYPE) {
            parts.headers.insert(header::CONTENT_TYPE, ct.clone());
        }
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Response::from_parts(parts, body);
    }
    response
}

/// Reads a body and throws it away: at most [`DRAIN_MAX`] bytes, for at most `time`.
async fn drain(mut body: Body, time: Duration) {
    let read = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) =
            std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            seen += frame.data_ref().map_or(0, Bytes::len);
            if seen > DRAIN_MAX {
                break;
            }
        }
    };
    // Whatever is left when the time is up is not read: the connection is closed after the page.
    let _ = tokio::time::timeout(time, read).await;
}

/// A request body with a deadline: after it, the body ends in an error and `expired` is set.
struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::SeqCst);
            return Poll::Ready(Some(Err(axum::Error::new("request body timed out"))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
