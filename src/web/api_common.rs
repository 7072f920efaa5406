//! What the API's handlers share (issue 19): the problem answers (RFC 9457), the clerk a
//! token acts as, reading a JSON body and an uploaded file.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::principal::Principal;
use crate::workflow::error::Error;
use crate::workflow::files::Upload;

// ---- problems (RFC 9457) ----

/// An error answer.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: String,
    /// The status's meaning, in Chinese.
    title: String,
    status: u16,
    /// What went wrong, in the pages' words.
    detail: String,
    /// For 422: the message of each wrong field (`v0_passport_no`: visitor 1's passport number).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    errors: BTreeMap<String, String>,
}

pub(super) fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    problem_with(status, detail.into(), BTreeMap::new())
}

pub(super) fn problem_with(
    status: StatusCode,
    detail: String,
    errors: BTreeMap<String, String>,
) -> Response {
    let title = match status {
        StatusCode::BAD_REQUEST => "请求有误",
        StatusCode::UNAUTHORIZED => "未认证",
        StatusCode::FORBIDDEN => "无权操作",
        StatusCode::NOT_FOUND => "不存在或无权查看",
        StatusCode::CONFLICT => "状态不允许此操作",
        StatusCode::PAYLOAD_TOO_LARGE => "内容过大",
        StatusCode::UNPROCESSABLE_ENTITY => "输入有误",
        StatusCode::TOO_MANY_REQUESTS => "请求过于频繁",
        _ => "服务器内部错误",
    };
    let body = Problem {
        kind: "about:blank".into(),
        title: title.into(),
        status: status.as_u16(),
        detail,
        errors,
    };
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// A workflow refusal as a problem.
pub struct ApiError(pub(super) Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            Error::NotFound => problem(StatusCode::NOT_FOUND, Error::NotFound.to_string()),
            Error::Forbidden => problem(StatusCode::FORBIDDEN, Error::Forbidden.to_string()),
            Error::Stale(m) => problem(StatusCode::CONFLICT, m),
            Error::Invalid(e) => {
                let errors: BTreeMap<String, String> =
                    e.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                let detail = e.first().unwrap_or("输入有误").to_string();
                problem_with(StatusCode::UNPROCESSABLE_ENTITY, detail, errors)
            }
            Error::Fault(e) => {
                tracing::error!("api: {e:#}");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "服务器内部错误，请稍后重试；如持续出现请联系市外办",
                )
            }
        }
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

/// A JSON body, or a 400 problem saying why it is not one.
pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(problem(
            StatusCode::BAD_REQUEST,
            format!("请求内容不是有效的JSON（Content-Type: application/json）：{e}"),
        ))
    })
}

// ---- the token ----

/// The clerk a request's token acts as.
#[derive(Clone)]
pub struct ApiUser {
    pub(super) principal: Principal,
}

#[derive(Deserialize)]
pub struct FileQuery {
    #[serde(default)]
    name: String,
}

impl FileQuery {
    /// The uploaded body under the name the query gives (`default` without one).
    pub(super) fn upload(&self, default: String, body: &Bytes) -> Upload {
        let name = if self.name.trim().is_empty() {
            default
        } else {
            self.name
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect()
        };
        Upload {
            name,
            bytes: body.to_vec(),
        }
    }
}
