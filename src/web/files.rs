//! Uploads and downloads. Downloads are authorised like the record they belong to.

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap};
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
            let name = clean_name(f.file_name().unwrap_or("upload"));
            let bytes = f.bytes().await.map_err(refused)?;
            return Ok(Upload {
                name,
                bytes: bytes.to_vec(),
            });
        }
    }
}

/// A file name as sent by the browser, without control characters and at most 200 characters.
fn clean_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The next chosen file of a form with several file inputs (one per slot): the input's name
/// and the upload. Fields that are not files, and file inputs left empty, are skipped; each
/// file is read whole before the next, so the caller stores one file at a time.
pub async fn next_file(multipart: &mut Multipart) -> AppResult<Option<(String, Upload)>> {
    loop {
        let Some(f) = multipart.next_field().await.map_err(refused)? else {
            return Ok(None);
        };
        let Some(field) = f.name().map(str::to_string) else {
            continue;
        };
        let Some(name) = f.file_name().map(clean_name) else {
            continue;
        };
        let bytes = f.bytes().await.map_err(refused)?;
        if name.is_empty() && bytes.is_empty() {
            continue;
        }
        return Ok(Some((
            field,
            Upload {
                name,
                bytes: bytes.to_vec(),
            },
        )));
    }
}

/// A multipart form of text fields and file inputs read whole: the text fields (each at most
/// 5,000 characters) and the chosen files (inputs left empty skipped), each by its name.
pub async fn read_form(
    mut multipart: Multipart,
) -> AppResult<(Vec<(String, String)>, Vec<(String, Upload)>)> {
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(f) = multipart.next_field().await.map_err(refused)? {
        let name = f.name().unwrap_or_default().to_string();
        match f.file_name().map(clean_name) {
            Some(file_name) => {
                let bytes = f.bytes().await.map_err(refused)?;
                if !(file_name.is_empty() && bytes.is_empty()) {
                    files.push((
                        name,
                        Upload {
                            name: file_name,
                            bytes: bytes.to_vec(),
                        },
                    ));
                }
            }
            None => {
                let text = f.text().await.map_err(refused)?;
                fields.push((name, text.chars().take(5000).collect()));
            }
        }
    }
    Ok((fields, files))
}

/// What a form with several file inputs did: the files stored and the files refused, each by
/// its slot (the input's name), in the order sent.
#[derive(Default, Debug)]
pub struct Stored {
    /// (slot, file name)
    pub stored: Vec<(String, String)>,
    /// (slot, message in Chinese)
    pub refused: Vec<(String, String)>,
}

/// The message of a form of several file inputs sent with none chosen (slot "").
pub const NONE_CHOSEN: &str = "未选择文件：请在要上传的材料旁选择文件后再点【上传所选文件】";

impl Stored {
    /// Records the outcome of storing `file` in `slot`: a refusal of its content is kept beside
    /// the slot; any other failure ends the request.
    pub fn record(
        &mut self,
        slot: String,
        file: &Upload,
        outcome: crate::workflow::error::Outcome<()>,
    ) -> AppResult<()> {
        match outcome {
            Ok(()) => self.stored.push((slot, file.name.clone())),
            Err(crate::workflow::error::Error::Invalid(errors)) => {
                let msg = errors
                    .first()
                    .unwrap_or("上传失败，请重新选择文件")
                    .to_string();
                self.refused.push((slot, msg));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
    /// Nothing was chosen: the form says so (slot "").
    pub fn none_chosen(&mut self) {
        if self.stored.is_empty() && self.refused.is_empty() {
            self.refused.push((String::new(), NONE_CHOSEN.into()));
        }
    }
    /// The refusal beside `slot`, if any.
    pub fn error(&self, slot: &str) -> Option<&str> {
        self.refused
            .iter()
            .find(|(s, _)| s == slot)
            .map(|(_, m)| m.as_str())
    }
}

/// Whether the upload script sent the request (it asks for JSON, not a page).
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with("application/json"))
}

/// The answer to the upload script: `{"stored":{slot:name},"refused":{slot:message}}`, or
/// `{"error":message,"status":code}` when the request failed as a whole. Always a 200: error
/// statuses are answered with the error page by the edge layer, and the script reads the JSON.
pub fn json_answer(result: AppResult<Stored>) -> Response {
    let map = |v: Vec<(String, String)>| -> serde_json::Map<String, serde_json::Value> {
        v.into_iter()
            .map(|(k, m)| (k, serde_json::Value::String(m)))
            .collect()
    };
    let body = match result {
        Ok(s) => serde_json::json!({ "stored": map(s.stored), "refused": map(s.refused) }),
        Err(e) => {
            let message = match &e {
                AppError::Internal(_) => "上传失败，请稍后重试".to_string(),
                other => other.to_string(),
            };
            // The page's status (a full disk is a 503 …); rendering it logs an internal cause.
            let status = e.into_response().status().as_u16();
            serde_json::json!({ "error": message, "status": status })
        }
    };
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
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
