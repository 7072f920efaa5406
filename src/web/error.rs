//! One error type for handlers. 4xx render a friendly page; 500s log the cause and show nothing
//! internal; a full disk or an unreachable database is a 503 that says so (and that nothing
//! was saved), with `Retry-After`. The policy (what is a refusal, a stale state, a fault) is written once, at the top
//! of `workflow::error`.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::workflow::error::Unavailable;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("页面不存在或您无权查看")]
    NotFound,
    #[error("您无权进行此操作")]
    Forbidden,
    #[error("表单已失效，请返回上一页刷新后重试")]
    Csrf,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// A workflow refusal as a page (see the error policy in `workflow::error`). Handlers that have
/// a form catch `Invalid` first and show the form again with the messages beside the fields.
impl From<crate::workflow::error::Error> for AppError {
    fn from(e: crate::workflow::error::Error) -> Self {
        use crate::workflow::error::Error;
        match e {
            Error::NotFound => AppError::NotFound,
            Error::Forbidden => AppError::Forbidden,
            Error::Stale(m) => AppError::Conflict(m),
            Error::Invalid(ref fields) => {
                AppError::BadRequest(fields.first().unwrap_or("输入有误").to_string())
            }
            Error::Fault(e) => AppError::Internal(e),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(e.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
    request_id: String,
}

/// The page of a write refused because the disk is full.
pub const STORAGE_FULL: &str =
    "服务器暂时无法保存数据（存储空间已满），本次操作未保存。请稍后再试；如问题持续，请联系市外办。";
/// The page of a request the database did not answer in time.
pub const DATABASE_UNAVAILABLE: &str =
    "数据库暂时无法连接，本次操作未完成。请稍后刷新页面查看，再重试；如问题持续，请联系市外办。";
/// Seconds the 503 pages ask clients to wait before trying again.
const RETRY_AFTER_SECS: &str = "30";

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            if let Some(why) = crate::workflow::error::unavailable(e) {
                tracing::error!("{e:#}");
                let message = match why {
                    Unavailable::StorageFull => STORAGE_FULL,
                    Unavailable::Database => DATABASE_UNAVAILABLE,
                };
                let mut page = error_page(StatusCode::SERVICE_UNAVAILABLE, message);
                page.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static(RETRY_AFTER_SECS),
                );
                return page;
            }
        }
        let status = match &self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(e) => {
                tracing::error!("{e:#}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            AppError::Internal(_) => "系统繁忙，请稍后再试。如问题持续，请联系市外办。".to_string(),
            other => other.to_string(),
        };
        error_page(status, &message)
    }
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        message,
        request_id: super::request_id::current().unwrap_or_default(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("rendering the error page: {e}");
            (status, message.to_string()).into_response()
        }
    }
}
