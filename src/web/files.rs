//! Uploads and downloads. Downloads are authorised like the record they belong to.

use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::ctx::Ctx;
use super::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::reference::FileMeta;
use crate::workflow::files::Upload;

/// Reads the file field `field` of a multipart form as an [`Upload`] for `workflow::files::check`.
/// An absent or empty file gives empty bytes (the content check names the problem).
pub async fn read_file(mut multipart: Multipart, field: &str) -> AppResult<Upload> {
    loop {
        let next = multipart.next_field().await.map_err(refused)?;
        let Some(f) = next else {
            return Ok(Upload {
                name: String::new(),
                bytes: Vec::new(),
            });
        };
        if f.name() == Some(field) {
            let name = f
                .file_name()
                .unwrap_or("upload")
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            let bytes = f.bytes().await.map_err(refused)?;
            return Ok(Upload {
                name,
                bytes: bytes.to_vec(),
            });
        }
    }
}

/// A multipart body that could not be read, in Chinese (the parser's own text stays in the log).
fn refused(e: axum::extract::multipart::MultipartError) -> AppError {
    tracing::info!("multipart body refused: {}", e.body_text());
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge("上传失败，文件过大（单个文件不超过10MB）".into())
    } else {
        AppError::BadRequest("上传失败，提交的文件不完整或格式不正确，请重新选择文件上传".into())
    }
}

/// RFC 6266 / 5987 Content-Disposition with a UTF-8 file name.
pub fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        super::ctx::urlencode(name)
    )
}

/// Sends a stored file inline (the browser's PDF viewer or image view). Callers have checked
/// that the viewer may see the record the file belongs to.
pub async fn serve_inline(state: &AppState, file_id: i64) -> AppResult<Response> {
    let (meta, bytes) = crate::workflow::files::read(state, file_id).await?;
    Ok(inline(meta, bytes))
}

/// A file's content as a response the browser shows inline.
fn inline(meta: FileMeta, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, meta.mime.clone()),
            (
                header::CONTENT_DISPOSITION,
                disposition("inline", &meta.original_name),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// An attachment of a unit, shown inline (PDF viewer) to whoever may see the unit.
pub async fn unit_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((unit_id, file_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let (meta, bytes) =
        crate::workflow::registration::unit_file(&state, ctx.principal()?, unit_id, file_id)
            .await?;
    Ok(inline(meta, bytes))
}

/// 【样式模板】: the template of an attachment type (public: templates are blank forms).
pub async fn template(
    State(state): State<AppState>,
    Path(type_id): Path<i64>,
) -> AppResult<Response> {
    let (name, mime, bytes) = crate::workflow::files::template(&state, type_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (
                header::CONTENT_DISPOSITION,
                disposition("attachment", &name),
            ),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        bytes,
    )
        .into_response())
}
