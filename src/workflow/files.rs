//! Uploaded files: one way to check an upload's content, write it to the file store and record
//! its row, and one way to read a stored file back. Every upload of the system (unit
//! attachments, group files, scans, letters, templates) is checked by [`check`] before any
//! transaction and stored by [`store`] inside the transaction that links it to its record,
//! after that transaction's conditional write has claimed the record: an upload refused because
//! the record moved on meanwhile leaves no file behind.

use super::error::{Error, Outcome};
use crate::files::{check_pdf, check_scan, check_template, Kind};
use crate::state::AppState;
use crate::store::reference::{self, FileMeta};
use crate::store::Conn;

/// A file as the browser sent it.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The name on the user's computer.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What content an upload may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// A PDF (unit attachments, the stamped form, proofs, the letter).
    Pdf,
    /// A PDF, JPEG or PNG scan (passports, visas, entry and exit stamps).
    Scan,
    /// A template for download (PDF, Word, Excel).
    Template,
}

/// An upload whose content was checked, not yet written anywhere.
#[derive(Clone, Copy, Debug)]
pub struct Checked<'a> {
    upload: &'a Upload,
    kind: Kind,
}

/// Checks the upload's content (not its name). A refusal names `field`, the form field the
/// message is shown beside. Nothing is written.
pub fn check<'a>(upload: &'a Upload, accept: Accept, field: &str) -> Outcome<Checked<'a>> {
    let checked = match accept {
        Accept::Pdf => check_pdf(&upload.bytes),
        Accept::Scan => check_scan(&upload.bytes),
        Accept::Template => check_template(&upload.bytes),
    };
    let kind = checked.map_err(|e| Error::invalid(field, e.to_string()))?;
    Ok(Checked { upload, kind })
}

/// Writes a checked upload to the file store and records its row in the caller's transaction;
/// returns its id. Callers call it after the conditional write that made sure the record the
/// file belongs to may still take it (and holds that record's row until the commit).
pub async fn store(
    state: &AppState,
    conn: &mut Conn,
    file: Checked<'_>,
    by: Option<i64>,
    now: i64,
) -> Outcome<i64> {
    let sha256 = state.files.put(&file.upload.bytes).await?;
    let size = i64::try_from(file.upload.bytes.len()).unwrap_or(i64::MAX);
    Ok(reference::insert_file(
        conn,
        &sha256,
        size,
        file.kind.mime(),
        &file.upload.name,
        by,
        now,
    )
    .await?)
}

/// A stored file's description and content. Callers have checked that the principal may see
/// the record the file belongs to.
pub async fn read(state: &AppState, file_id: i64) -> Outcome<(FileMeta, Vec<u8>)> {
    let meta = reference::file(state.pool(), file_id)
        .await?
        .ok_or(Error::NotFound)?;
    let bytes = state.files.get(&meta.sha256).await?;
    Ok((meta, bytes))
}

/// The template of an attachment type: its name, MIME type and content (public: templates are
/// blank forms).
pub async fn template(state: &AppState, type_id: i64) -> Outcome<(String, String, Vec<u8>)> {
    let (name, sha, mime) = reference::template_file(state.pool(), type_id)
        .await?
        .ok_or(Error::NotFound)?;
    let bytes = state.files.get(&sha).await?;
    Ok((name, mime, bytes))
}
